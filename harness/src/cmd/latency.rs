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
//! Exit status: 0 on success, 2 for bad arguments, 1 if the results could not be written.

use crate::clock::TscClock;
use crate::latency::{self, hist, Cycle, Load, Percentiles, RunResult, RunSpec};
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
    hgrm_files: Vec<String>,
}

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
    for load in loads {
        let spec = RunSpec {
            load,
            ..base.clone()
        };
        let r = latency::run(&spec, &stream, &clock).map_err(|e| (1, e))?;
        let label = match load {
            Load::Closed => format!("{}-closed", a.queue.name()),
            Load::Open { rate } => format!("{}-open-{}", a.queue.name(), rate.round() as u64),
        };
        print_run(&label, &r);
        let mut files = Vec::new();
        for (path, h) in r.hists.paths() {
            let name = format!("{label}-{path}.hgrm");
            write(&a.out.join(&name), &hist::hgrm(h))?;
            files.push(name);
        }
        if let Load::Open { rate } = load {
            sweep.push((
                rate,
                r.achieved_rate,
                Percentiles::of(&r.hists.e2e).p50,
                r.truncated,
            ));
        }
        runs.push(to_json(label, &r, files));
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

fn to_json(label: String, r: &RunResult, files: Vec<String>) -> RunJson {
    RunJson {
        label,
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
        assert_eq!(runs.len(), 3, "closed + two rates");
        assert_eq!(runs[0]["label"], "multi-closed");
        assert_eq!(runs[2]["label"], "multi-open-200000");
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
