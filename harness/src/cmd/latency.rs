//! `flowmatch latency`: how long a command takes from the client to its first event, at
//! what throughput, measured open-loop from each command's intended send time.
//!
//! With no arguments it runs, in well under a minute: a closed-loop maximum-throughput
//! run, then an open-loop sweep over several offered rates, on the SPSC ingress with the
//! engine and the client pinned to different cores, replaying the mixed equity stream. It
//! prints throughput and p50 / p90 / p99 / p99.9 / p99.99 / max for the queue hop, the
//! service time and end to end, names the saturation knee, and writes
//! `summary.json` plus one `.hgrm` percentile file per run and path under `--out`.
//!
//! Two baselines run in the same invocation, so the tail can be attributed:
//! - a **null pipeline** after each real run at the same load: same client, rings and
//!   engine thread, but the engine applies nothing and echoes one event per command. If
//!   its tail matches the book's, the book is not the tail;
//! - a **platform jitter probe** between the two (both cores, pinned, 1 s; the host's
//!   behaviour drifts over seconds, so each open-loop rate gets its own): how often and how
//!   long each core is taken away from us, and the end-to-end latency curve those gaps
//!   alone imply at that rate ([`latency::probe`]): a floor no software can beat.
//!
//! Exit status: 0 on success, 2 for bad arguments, 1 if the results could not be written.

use crate::clock::TscClock;
use crate::latency::probe::{self, CoreSummary, Floor};
use crate::latency::{self, hist, Cycle, Load, Percentiles, Pipeline, RunResult, RunSpec};
use crate::workload::{adversarial, equity};
use flowmatch_core::ingress::QueueKind;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Engine idle strategy (see `flowmatch_core::engine::Idle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum IdleArg {
    Pause,
    Spin,
}

/// Which command stream to replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StreamKind {
    /// The mixed realistic equity stream (default).
    Equity,
    /// The adversarial stream (deep sweeps, edge cases).
    Adversarial,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Ingress queue: spsc, multi or arrayqueue.
    #[arg(long, default_value = "spsc", value_parser = parse_queue)]
    pub queue: QueueKind,
    /// Offered rate(s) in commands/s for the open-loop runs, e.g. `1M` or `250k,500k,1M`
    /// (k/M suffixes accepted). Default: a sweep 250k,500k,1M,1.5M,2M,3M.
    #[arg(long, value_delimiter = ',', value_parser = parse_rate)]
    pub rate: Vec<f64>,
    /// Measured seconds per run (after the warm-up).
    #[arg(long, default_value_t = 2.0)]
    pub duration: f64,
    /// Warm-up seconds per run (commands sent, not recorded).
    #[arg(long, default_value_t = 0.25)]
    pub warmup: f64,
    /// Most commands the engine takes per poll.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// What the engine does when a poll finds nothing: `pause` (a spin-wait hint) or
    /// `spin` (poll again at once; worth comparing on virtual machines, where pause loops
    /// can be trapped by the hypervisor).
    #[arg(long, value_enum, default_value = "pause")]
    pub engine_idle: IdleArg,
    /// Do not pin the client and engine threads to cores.
    #[arg(long)]
    pub no_pin: bool,
    /// Number of producers (rings for `multi`; handles sharing one queue for `arrayqueue`).
    /// The client thread sends through them in turn.
    #[arg(long, default_value_t = 1)]
    pub producers: usize,
    /// Slots per ingress ring (total for arrayqueue).
    #[arg(long, default_value_t = 1024)]
    pub capacity: usize,
    /// Command stream.
    #[arg(long, value_enum, default_value = "equity")]
    pub stream: StreamKind,
    /// Commands generated (the stream is replayed cyclically with fresh ids if a run needs
    /// more).
    #[arg(long, default_value_t = 1_000_000)]
    pub stream_len: usize,
    /// Seed of the command stream.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Skip the closed-loop maximum-throughput run.
    #[arg(long)]
    pub no_closed: bool,
    /// Skip the null-pipeline baseline (same client, rings and engine thread, no book).
    #[arg(long)]
    pub no_null: bool,
    /// Seconds the platform jitter probe runs at each open-loop rate, between the book and
    /// the null run (0 skips it).
    #[arg(long, default_value_t = 1.0)]
    pub probe: f64,
    /// Output directory.
    #[arg(long, default_value = "bench-results/latency")]
    pub out: PathBuf,
}

fn parse_queue(s: &str) -> Result<QueueKind, String> {
    s.parse()
}

/// Parses `1000000`, `1e6`, `250k`, `1.5M`.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, mul) = match t.chars().last() {
        Some('k') | Some('K') => (&t[..t.len() - 1], 1e3),
        Some('m') | Some('M') => (&t[..t.len() - 1], 1e6),
        _ => (t, 1.0),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("rate {s:?} is not a number (examples: 500000, 500k, 1.5M)"))?;
    let r = v * mul;
    if !(r.is_finite() && (1.0..=1e9).contains(&r)) {
        return Err(format!("rate {s:?} must be between 1 and 1e9 commands/s"));
    }
    Ok(r)
}

const DEFAULT_RATES: [f64; 6] = [250e3, 500e3, 1e6, 1.5e6, 2e6, 3e6];

#[derive(Serialize)]
struct RunJson {
    label: String,
    /// `book` (FastBook applies every command) or `null` (echo, the harness baseline).
    pipeline: Pipeline,
    load: Load,
    queue: &'static str,
    producers: usize,
    batch: usize,
    offered_rate: Option<f64>,
    achieved_rate: f64,
    sent: u64,
    completed: u64,
    events: u64,
    recorded: u64,
    truncated: bool,
    elapsed_s: f64,
    engine_pinned: bool,
    client_pinned: bool,
    engine_batches: u64,
    engine_max_batch: u64,
    engine_output_full_waits: u64,
    /// Nanoseconds.
    queue_ns: Percentiles,
    service_ns: Percentiles,
    e2e_ns: Percentiles,
    /// Fraction of recorded commands with end-to-end latency over 5 µs.
    e2e_over_5us_fraction: f64,
    /// Minor page faults (whole process) during the run.
    minor_faults: Option<u64>,
    hgrm_files: Vec<String>,
}

#[derive(Serialize)]
struct ProbeJson {
    /// The open-loop rate whose runs this probe sits between.
    rate: f64,
    duration_s: f64,
    /// Gaps longer than this (ns) are kept; the model uses them.
    record_ns: u64,
    /// Which probe core stands for the client and which for the engine in the model.
    client_core: Option<usize>,
    engine_core: Option<usize>,
    cores: Vec<CoreSummary>,
    /// Time both cores were in a gap over 5 µs at once (the host pausing the whole VM).
    both_cores_lost_over_5us_ns: u64,
    /// The floor the gaps imply at `rate` (see `probe_model`).
    floor: Floor,
}

const MODEL: &str = "open-loop stream at the offered rate over the probe window; a command due at t inside a client-core gap is sent at the gap's end s, and if s is inside an engine-core gap it is taken at that gap's end e; delay = e - t; the pipeline itself costs nothing and catches up instantly";

#[derive(Serialize)]
struct Summary {
    machine: String,
    /// `/proc/loadavg` when the run ended: on a shared 2-core machine anything above ~2
    /// means the engine or the client did not have a core to itself.
    load_average: String,
    git_commit: String,
    command: String,
    tsc_ghz: f64,
    stream: String,
    stream_len: usize,
    seed: u64,
    duration_s: f64,
    warmup_s: f64,
    engine_idle: String,
    capacity: usize,
    hgrm_unit: &'static str,
    /// Highest offered rate sustained (>= 97% achieved) with median e2e under 20 us.
    knee_rate: Option<f64>,
    knee_rule: &'static str,
    /// How a probe's gaps become a latency floor.
    probe_model: &'static str,
    /// One platform jitter probe per open-loop rate (none with `--probe 0`).
    probes: Vec<ProbeJson>,
    runs: Vec<RunJson>,
}

pub fn run(a: Args) -> u8 {
    match run_inner(&a) {
        Ok(()) => 0,
        Err((code, msg)) => {
            eprintln!("flowmatch latency: {msg}");
            code
        }
    }
}

fn bad(msg: impl Into<String>) -> (u8, String) {
    (2, msg.into())
}

fn run_inner(a: &Args) -> Result<(), (u8, String)> {
    if !(a.duration.is_finite() && a.duration > 0.0 && a.duration <= 3600.0) {
        return Err(bad("--duration must be between 0 and 3600 seconds"));
    }
    if !(a.warmup.is_finite() && a.warmup >= 0.0 && a.warmup <= 3600.0) {
        return Err(bad("--warmup must be between 0 and 3600 seconds"));
    }
    if a.batch == 0 || a.capacity == 0 || a.stream_len == 0 {
        return Err(bad(
            "--batch, --capacity and --stream-len must be at least 1",
        ));
    }
    if !(a.probe.is_finite() && (0.0..=600.0).contains(&a.probe)) {
        return Err(bad("--probe must be between 0 and 600 seconds"));
    }
    if a.producers == 0 || a.producers > 1024 {
        return Err(bad("--producers must be between 1 and 1024"));
    }
    if a.queue == QueueKind::Spsc && a.producers != 1 {
        return Err(bad(
            "--queue spsc takes exactly one producer; use --queue multi for several",
        ));
    }
    let rates: Vec<f64> = if a.rate.is_empty() {
        DEFAULT_RATES.to_vec()
    } else {
        a.rate.clone()
    };

    // Read the core list once, before anything pins itself.
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let pin = if a.no_pin {
        None
    } else if cores.len() >= 2 {
        Some((cores[0], cores[1]))
    } else {
        eprintln!("flowmatch latency: fewer than 2 cores visible; running unpinned");
        None
    };

    let clock = TscClock::new();
    eprintln!(
        "generating {} commands of the {:?} stream (seed {})...",
        a.stream_len, a.stream, a.seed
    );
    let cmds = match a.stream {
        StreamKind::Equity => {
            equity::generate(&equity::EquityConfig::default(), a.seed, a.stream_len)
        }
        StreamKind::Adversarial => adversarial::generate(a.seed, a.stream_len),
    };
    let stream = Cycle::new(&cmds).ok_or_else(|| bad("the command stream is empty"))?;

    let base = RunSpec {
        queue: a.queue,
        producers: a.producers,
        batch: a.batch,
        idle: match a.engine_idle {
            IdleArg::Pause => flowmatch_core::engine::Idle::Pause,
            IdleArg::Spin => flowmatch_core::engine::Idle::Spin,
        },
        capacity: a.capacity,
        duration: Duration::from_secs_f64(a.duration),
        warmup: Duration::from_secs_f64(a.warmup),
        pin,
        ..RunSpec::default()
    };
    let mut loads: Vec<Load> = Vec::new();
    if !a.no_closed {
        loads.push(Load::Closed);
    }
    loads.extend(rates.iter().map(|&rate| Load::Open { rate }));

    std::fs::create_dir_all(&a.out)
        .map_err(|e| (1, format!("cannot create {}: {e}", a.out.display())))?;
    println!(
        "flowmatch latency: queue {}, {} producer(s), batch {}, {} s per run, pinned: {}",
        a.queue.name(),
        a.producers,
        a.batch,
        a.duration,
        pin.is_some()
    );
    println!(
        "{:<24} {:>11} {:>11} {:<8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "run", "offered/s", "achieved/s", "path", "p50", "p90", "p99", "p99.9", "p99.99", "max"
    );
    let mut runs = Vec::new();
    let mut sweep = Vec::new();
    // (rate, book, null) end-to-end summaries of the open-loop runs, for the comparison.
    let mut side_by_side: Vec<SideBySide> = Vec::new();
    let pipelines: &[Pipeline] = if a.no_null {
        &[Pipeline::Book]
    } else {
        &[Pipeline::Book, Pipeline::Null]
    };
    let mut probes = Vec::new();
    for load in loads {
        for (k, &pipeline) in pipelines.iter().enumerate() {
            if let (Load::Open { rate }, true, 1) = (load, a.probe > 0.0, k) {
                probes.push(run_probe(a, &cores, &clock, rate, pin.is_some()));
            }
            let spec = RunSpec {
                pipeline,
                load,
                ..base.clone()
            };
            let r = latency::run(&spec, &stream, &clock).map_err(|e| (1, e))?;
            let what = match pipeline {
                Pipeline::Book => a.queue.name().to_string(),
                Pipeline::Null => format!("{}-null", a.queue.name()),
            };
            let label = match load {
                Load::Closed => format!("{what}-closed"),
                Load::Open { rate } => format!("{what}-open-{}", rate.round() as u64),
            };
            print_run(&label, &r);
            let mut files = Vec::new();
            for (path, h) in r.hists.paths() {
                let name = format!("{label}-{path}.hgrm");
                write(&a.out.join(&name), &hist::hgrm(h))?;
                files.push(name);
            }
            if let Load::Open { rate } = load {
                let e2e = (Percentiles::of(&r.hists.e2e), over_bar(&r.hists.e2e));
                match pipeline {
                    Pipeline::Book => {
                        sweep.push((rate, r.achieved_rate, e2e.0.p50, r.truncated));
                        side_by_side.push(SideBySide {
                            rate,
                            book: e2e,
                            null: None,
                        });
                    }
                    Pipeline::Null => {
                        if let Some(row) = side_by_side.last_mut() {
                            row.null = Some(e2e);
                        }
                    }
                }
            }
            runs.push(to_json(label, &r, files));
        }
        if let (Load::Open { rate }, true, true) = (load, a.probe > 0.0, a.no_null) {
            probes.push(run_probe(a, &cores, &clock, rate, pin.is_some()));
        }
    }
    let knee = latency::find_knee(&sweep);
    match knee {
        Some(k) if sweep.len() > 1 => println!("saturation knee: about {:.0} commands/s", k),
        Some(_) => {}
        None if !sweep.is_empty() => {
            println!("saturation knee: no rate tried was sustained with a median e2e under 20 us")
        }
        None => {}
    }
    print_side_by_side(&side_by_side, &probes);
    let summary = Summary {
        machine: machine(),
        load_average: load_average(),
        git_commit: git_commit(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        tsc_ghz: clock.ticks_per_ns(),
        stream: format!("{:?}", a.stream).to_lowercase(),
        stream_len: a.stream_len,
        seed: a.seed,
        duration_s: a.duration,
        warmup_s: a.warmup,
        engine_idle: format!("{:?}", a.engine_idle).to_lowercase(),
        capacity: a.capacity,
        hgrm_unit: "microseconds",
        knee_rate: if sweep.len() > 1 { knee } else { None },
        knee_rule: "highest offered rate with achieved >= 97% of offered and e2e p50 <= 20 us",
        probe_model: MODEL,
        probes,
        runs,
    };
    let json = serde_json::to_string_pretty(&summary).expect("summary serialises");
    write(&a.out.join("summary.json"), &(json + "\n"))?;
    let load = load_average();
    println!("load average {load} (above ~2 on this 2-core machine, the figures are contended)");
    println!("wrote {}/summary.json and .hgrm files", a.out.display());
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), (u8, String)> {
    std::fs::write(path, text).map_err(|e| (1, format!("cannot write {}: {e}", path.display())))
}

fn fmt_ns(ns: u64) -> String {
    if ns < 10_000 {
        format!("{ns}ns")
    } else if ns < 10_000_000 {
        format!("{:.1}us", ns as f64 / 1e3)
    } else {
        format!("{:.1}ms", ns as f64 / 1e6)
    }
}

fn print_run(label: &str, r: &RunResult) {
    let offered = match r.load {
        Load::Open { rate } => format!("{rate:.0}"),
        Load::Closed => "max".into(),
    };
    for (i, (path, h)) in r.hists.paths().iter().enumerate() {
        let p = Percentiles::of(h);
        let (l, o, ach) = if i == 0 {
            (label, offered.as_str(), format!("{:.0}", r.achieved_rate))
        } else {
            ("", "", String::new())
        };
        println!(
            "{:<24} {:>11} {:>11} {:<8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
            l,
            o,
            ach,
            path,
            fmt_ns(p.p50),
            fmt_ns(p.p90),
            fmt_ns(p.p99),
            fmt_ns(p.p99_9),
            fmt_ns(p.p99_99),
            fmt_ns(p.max)
        );
    }
    if r.truncated {
        println!(
            "{:<24} (fell behind: sending cut short, the engine could not keep up)",
            ""
        );
    }
    if r.completed != r.sent {
        println!(
            "{:<24} WARNING: {} sent but {} completed",
            "", r.sent, r.completed
        );
    }
}

/// One open-loop rate: end-to-end percentiles and share over 5 µs, book and null.
struct SideBySide {
    rate: f64,
    book: (Percentiles, f64),
    null: Option<(Percentiles, f64)>,
}

/// Fraction of the recorded values over [`probe::BAR_NS`] (to the histogram's precision).
fn over_bar(h: &hdrhistogram::Histogram<u64>) -> f64 {
    if h.is_empty() {
        return 0.0;
    }
    let over = h.count_between(probe::BAR_NS + 1, hist::HIGH_NS);
    over as f64 / h.len() as f64
}

/// Runs the jitter probe on every core (pinned unless `--no-pin`), prints one compact line
/// and returns its summary with the floor at `rate`. The first core stands for the client
/// and the second for the engine (the runs pin them so).
fn run_probe(
    a: &Args,
    cores: &[core_affinity::CoreId],
    clock: &TscClock,
    rate: f64,
    pinned: bool,
) -> ProbeJson {
    let probe_cores: &[core_affinity::CoreId] = if pinned { cores } else { &[] };
    let traces = probe::run(probe_cores, pinned, Duration::from_secs_f64(a.probe), clock);
    let empty = probe::CoreTrace::from_gaps(Vec::new(), 0);
    let client = traces.first().unwrap_or(&empty);
    let engine = traces.get(1).unwrap_or(client);
    let p = ProbeJson {
        rate,
        duration_s: a.probe,
        record_ns: probe::RECORD_NS,
        client_core: if pinned { client.core } else { None },
        engine_core: if pinned { engine.core } else { None },
        cores: traces.iter().map(CoreSummary::from).collect(),
        both_cores_lost_over_5us_ns: probe::overlap_ns(&client.gaps, &engine.gaps, probe::BAR_NS),
        floor: probe::floor(client, engine, rate),
    };
    let cores_text: Vec<String> = p
        .cores
        .iter()
        .map(|c| {
            format!(
                "core {}: gaps >1us {} >5us {} >10us {} >100us {} >1ms {}, lost {:.2}%, max {}",
                c.core.map_or("-".to_string(), |i| i.to_string()),
                c.gaps_over_1us,
                c.gaps_over_5us,
                c.gaps_over_10us,
                c.gaps_over_100us,
                c.gaps_over_1ms,
                c.lost_over_5us_pct,
                fmt_ns(c.max_gap_ns)
            )
        })
        .collect();
    println!(
        "{:<24} jitter probe {} s: {}; both at once {}",
        "",
        a.probe,
        cores_text.join("; "),
        fmt_ns(p.both_cores_lost_over_5us_ns)
    );
    p
}

/// The measured e2e next to the floor the gaps imply, per open-loop rate.
fn print_side_by_side(rows: &[SideBySide], probes: &[ProbeJson]) {
    if rows.is_empty() {
        return;
    }
    println!(
        "end to end, open loop: floor implied by the probe's gaps alone / null pipeline / book (>5us: share of commands)"
    );
    println!(
        "  {:>9} {:<6} {:>8} {:>9} {:>9} {:>9} {:>10}",
        "rate", "", ">5us", "p50", "p99", "p99.9", "max"
    );
    for row in rows {
        let floor = probes.iter().find(|p| p.rate == row.rate).map(|p| p.floor);
        let mut lines: Vec<(&str, Percentiles, f64)> = Vec::new();
        if let Some(f) = floor {
            lines.push(("floor", f.delay_ns, f.over_bar_fraction));
        }
        if let Some((n, no)) = row.null {
            lines.push(("null", n, no));
        }
        lines.push(("book", row.book.0, row.book.1));
        for (i, (what, p, over)) in lines.iter().enumerate() {
            // The model records "no delay" as 1 ns (the histogram's lowest value).
            let f = |ns: u64| {
                if *what == "floor" && ns <= 1 {
                    "0".to_string()
                } else {
                    fmt_ns(ns)
                }
            };
            println!(
                "  {:>9} {:<6} {:>7.3}% {:>9} {:>9} {:>9} {:>10}",
                if i == 0 {
                    format!("{:.0}", row.rate)
                } else {
                    String::new()
                },
                what,
                100.0 * over,
                f(p.p50),
                f(p.p99),
                f(p.p99_9),
                f(p.max)
            );
        }
    }
}

fn to_json(label: String, r: &RunResult, files: Vec<String>) -> RunJson {
    RunJson {
        label,
        pipeline: r.pipeline,
        load: r.load,
        queue: r.queue.name(),
        producers: r.producers,
        batch: r.batch,
        offered_rate: match r.load {
            Load::Open { rate } => Some(rate),
            Load::Closed => None,
        },
        achieved_rate: r.achieved_rate,
        sent: r.sent,
        completed: r.completed,
        events: r.events,
        recorded: r.recorded,
        truncated: r.truncated,
        elapsed_s: r.elapsed_s,
        engine_pinned: r.engine.pinned,
        client_pinned: r.client_pinned,
        engine_batches: r.engine.batches,
        engine_max_batch: r.engine.max_batch,
        engine_output_full_waits: r.engine.output_full_waits,
        queue_ns: Percentiles::of(&r.hists.queue),
        service_ns: Percentiles::of(&r.hists.service),
        e2e_ns: Percentiles::of(&r.hists.e2e),
        e2e_over_5us_fraction: over_bar(&r.hists.e2e),
        minor_faults: r.minor_faults,
        hgrm_files: files,
    }
}

/// The CPU model and count, for the record (`lscpu`'s "Model name" and "CPU(s)", read from
/// /proc/cpuinfo: unlike `available_parallelism` it does not shrink once this thread is
/// pinned).
pub fn machine() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|m| m.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let cpus = info.lines().filter(|l| l.starts_with("processor")).count();
    format!("{model}, {cpus} CPUs")
}

/// The first three fields of `/proc/loadavg` (empty if unreadable).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The commit the binary was run from (empty if git is unavailable).
pub fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(out: &Path) -> Args {
        Args {
            queue: QueueKind::Multi,
            rate: vec![100_000.0, 200_000.0],
            duration: 0.05,
            warmup: 0.01,
            batch: 16,
            engine_idle: IdleArg::Spin,
            no_pin: true,
            producers: 2,
            capacity: 64,
            stream: StreamKind::Equity,
            stream_len: 5_000,
            seed: 1,
            no_closed: false,
            no_null: false,
            probe: 0.02,
            out: out.to_path_buf(),
        }
    }

    #[test]
    fn writes_summary_and_hgrm_files() {
        let out =
            std::env::temp_dir().join(format!("flowmatch-latency-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        assert_eq!(run(args(&out)), 0);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        let runs = json["runs"].as_array().unwrap();
        let labels: Vec<&str> = runs.iter().map(|r| r["label"].as_str().unwrap()).collect();
        assert_eq!(
            labels,
            [
                "multi-closed",
                "multi-null-closed",
                "multi-open-100000",
                "multi-null-open-100000",
                "multi-open-200000",
                "multi-null-open-200000"
            ],
            "closed + two rates, each with its null baseline"
        );
        assert_eq!(runs[1]["pipeline"], "null");
        assert_eq!(runs[2]["pipeline"], "book");
        // The null pipeline echoes exactly one event per command.
        for r in runs.iter().filter(|r| r["pipeline"] == "null") {
            assert_eq!(r["events"], r["sent"]);
        }
        let probes = json["probes"].as_array().unwrap();
        assert_eq!(probes.len(), 2, "one probe per open-loop rate");
        let probe = &probes[1];
        assert_eq!(probe["rate"], 200_000.0);
        assert_eq!(
            probe["cores"].as_array().unwrap().len(),
            2,
            "two unpinned threads"
        );
        assert_eq!(probe["floor"]["rate"], 200_000.0);
        // 20 ms of probe at 200k/s models 4,000 commands.
        assert_eq!(probe["floor"]["commands"], 4_000);
        for r in runs {
            assert_eq!(r["sent"], r["completed"]);
            for f in r["hgrm_files"].as_array().unwrap() {
                let text = std::fs::read_to_string(out.join(f.as_str().unwrap())).unwrap();
                assert!(text.contains("1/(1-Percentile)") && text.contains("#[Max"));
            }
        }
        let _ = std::fs::remove_dir_all(&out);
    }

    #[test]
    fn bad_arguments_exit_2_without_running() {
        let out = std::env::temp_dir().join("flowmatch-latency-never-written");
        let mut a = args(&out);
        a.queue = QueueKind::Spsc;
        assert_eq!(run(a), 2);
        let mut a = args(&out);
        a.duration = f64::NAN;
        assert_eq!(run(a), 2);
        let mut a = args(&out);
        a.batch = 0;
        assert_eq!(run(a), 2);
        let mut a = args(&out);
        a.probe = -1.0;
        assert_eq!(run(a), 2);
        assert!(!out.exists());
    }

    #[test]
    fn rates_parse_with_suffixes_and_reject_nonsense() {
        assert_eq!(parse_rate("1M"), Ok(1e6));
        assert_eq!(parse_rate("250k"), Ok(250e3));
        assert_eq!(parse_rate("1.5M"), Ok(1.5e6));
        assert_eq!(parse_rate("1000000"), Ok(1e6));
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("-5k").is_err());
        assert!(parse_rate("NaN").is_err());
        assert!(parse_rate("").is_err());
    }
}
