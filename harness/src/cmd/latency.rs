//! `flowmatch latency`: how long a command takes from the client to its first event, at
//! what throughput, measured open-loop from each command's intended send time.
//!
//! With no arguments it runs a closed-loop maximum-throughput run, then an open-loop sweep
//! over several offered rates that goes on past its plan until the saturation knee is
//! found, on the SPSC ingress with the engine and the client pinned to different cores,
//! replaying the mixed equity stream; each load also runs through the null pipeline, and
//! each open-loop rate gets a platform jitter probe (see [`crate::latency`]).
//!
//! This module only parses the options into [`Settings`] and prints what the session
//! ([`crate::latency::session`]) reports; the runs, the sweep and the files are decided
//! there.
//!
//! Exit status: 0 on success, 2 for bad arguments (nothing is run), 1 if a run failed or
//! the results could not be written.

use super::numeric::unsigned;
use crate::latency::probe;
use crate::latency::session::{self, Failure, Observer, ProbeJson, SideBySide};
use crate::latency::settings::{self, Settings, StreamKind};
use crate::latency::shards::{self as latency_shards, ShardRunResult};
use crate::latency::{Load, Percentiles, RunResult};
use crate::provenance;
use flowmatch_core::ingress::QueueKind;
use std::path::PathBuf;

/// Engine idle strategy (see `flowmatch_core::engine::Idle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum IdleArg {
    Pause,
    Spin,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Ingress queue: spsc, multi or arrayqueue.
    #[arg(long, default_value = "spsc", value_parser = parse_queue)]
    pub queue: QueueKind,
    /// Offered rate(s) in commands/s for the open-loop runs, each at least 1 and at most
    /// 1e9, e.g. `1M` or `250k,500k,1M` (k/M suffixes accepted). Default: a sweep
    /// 250k,500k,1M,1.5M,2M,3M that goes on (x1.5 per step, up to 1.5x the closed-loop
    /// rate) until the saturation knee is found; rates given here are run as given.
    #[arg(long, value_delimiter = ',', value_parser = parse_rate, allow_negative_numbers = true)]
    pub rate: Vec<f64>,
    /// Measured seconds per run (after the warm-up): more than 0, at most 3600, and at
    /// least one command's period at every rate.
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    pub duration: f64,
    /// Warm-up seconds per run (commands sent, not recorded): 0 to 3600.
    #[arg(long, default_value_t = 0.25, allow_negative_numbers = true)]
    pub warmup: f64,
    /// Most commands the engine takes per poll: 1 to 65536.
    #[arg(long, default_value_t = 64, allow_negative_numbers = true, value_parser = unsigned(1, settings::MAX_BATCH))]
    pub batch: usize,
    /// What the engine does when a poll finds nothing: `pause` (a spin-wait hint) or
    /// `spin` (poll again at once; worth comparing on virtual machines, where pause loops
    /// can be trapped by the hypervisor).
    #[arg(long, value_enum, default_value = "pause")]
    pub engine_idle: IdleArg,
    /// Do not pin the client and engine threads to cores.
    #[arg(long)]
    pub no_pin: bool,
    /// Number of producers, 1 to 64 (rings for `multi`; handles sharing one queue for
    /// `arrayqueue`). The client thread sends through them in turn.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = unsigned(1, settings::MAX_PRODUCERS))]
    pub producers: usize,
    /// Slots per ingress ring (total for arrayqueue): 1 to 1048576.
    #[arg(long, default_value_t = 1024, allow_negative_numbers = true, value_parser = unsigned(1, settings::MAX_CAPACITY))]
    pub capacity: usize,
    /// Command stream.
    #[arg(long, value_enum, default_value = "equity")]
    pub stream: StreamKind,
    /// Commands generated, 1 to 10000000 (the stream is replayed cyclically with fresh ids
    /// if a run needs more).
    #[arg(long, default_value_t = 1_000_000, allow_negative_numbers = true, value_parser = unsigned(1, settings::MAX_STREAM_LEN))]
    pub stream_len: usize,
    /// Seed of the command stream.
    #[arg(long, default_value_t = 42, allow_negative_numbers = true, value_parser = unsigned(0, u64::MAX))]
    pub seed: u64,
    /// Skip the closed-loop maximum-throughput run.
    #[arg(long)]
    pub no_closed: bool,
    /// Skip the null-pipeline baseline (same client, rings and engine thread, no book).
    #[arg(long)]
    pub no_null: bool,
    /// Seconds the platform jitter probe runs at each open-loop rate, between the book and
    /// the null run: 0 (no probe) to 600.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub probe: f64,
    /// Engine shards, 1 to 64, each a pinned engine thread owning the instruments
    /// `KeyHash` gives it (more than 1 needs `--instruments`). Shard i is pinned to the
    /// core after the client's (cycling), so more shards than cores share them.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = unsigned(1, latency_shards::MAX_SHARDS))]
    pub shards: usize,
    /// Replay the Zipf multi-instrument stream over this many instruments (1 to 1000000),
    /// each shard applying it with a `MultiBook<FastBook>`, instead of the single book's
    /// stream. A sharded run is the closed-loop run and the given (or default) rates, with
    /// no knee search, null pipeline or jitter probe; it writes `shards-summary.json`.
    #[arg(long, allow_negative_numbers = true, value_parser = unsigned(1, latency_shards::MAX_INSTRUMENTS))]
    pub instruments: Option<u32>,
    /// Output directory (by default `flowmatch-out/latency`, which git ignores; the
    /// committed results are made with `--out bench-results/latency`).
    #[arg(long, default_value = "flowmatch-out/latency")]
    pub out: PathBuf,
}

fn parse_queue(s: &str) -> Result<QueueKind, String> {
    s.parse()
}

/// Parses `1000000`, `1e6`, `250k`, `1.5M`; the rate must be at least 1 and at most 1e9
/// commands/s.
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
    settings::check_rate(r)?;
    Ok(r)
}

/// The settings `a` asks for.
pub fn settings(a: &Args) -> Settings {
    Settings {
        queue: a.queue,
        rates: a.rate.clone(),
        duration_s: a.duration,
        warmup_s: a.warmup,
        batch: a.batch,
        idle: match a.engine_idle {
            IdleArg::Pause => flowmatch_core::engine::Idle::Pause,
            IdleArg::Spin => flowmatch_core::engine::Idle::Spin,
        },
        pin: !a.no_pin,
        producers: a.producers,
        capacity: a.capacity,
        stream: a.stream,
        stream_len: a.stream_len,
        seed: a.seed,
        closed: !a.no_closed,
        null: !a.no_null,
        probe_s: a.probe,
        shards: a.shards,
        instruments: a.instruments,
    }
}

pub fn run(a: Args) -> u8 {
    let s = settings(&a);
    if let Err(e) = s.validate() {
        eprintln!("flowmatch latency: {e}");
        return 2;
    }
    if s.instruments.is_some() {
        return run_sharded(&s, &a.out);
    }
    eprintln!(
        "generating {} commands of the {} stream (seed {})...",
        s.stream_len,
        s.stream.name(),
        s.seed
    );
    match session::run(&s, &a.out, &mut Console) {
        Ok(outcome) => {
            if let Some(k) = &outcome.summary.knee {
                println!("{}", k.sentence());
            }
            print_side_by_side(&outcome.side_by_side);
            let load = provenance::load_average();
            println!(
                "load average {load} {}",
                session::load_remark(
                    provenance::load_average_1m(),
                    outcome.summary.provenance.logical_cores
                )
            );
            println!("wrote {}/summary.json and .hgrm files", a.out.display());
            0
        }
        Err(Failure::Invalid(e)) => {
            eprintln!("flowmatch latency: {e}");
            2
        }
        Err(Failure::Failed(e)) => {
            eprintln!("flowmatch latency: {e}");
            1
        }
    }
}

/// `--instruments M` (and `--shards N`): the sharded session, printed run by run.
fn run_sharded(s: &Settings, out: &std::path::Path) -> u8 {
    let m = s.instruments.unwrap_or(1);
    eprintln!(
        "generating {} commands of the zipf-instruments stream over {m} instruments (seed {})...",
        s.stream_len, s.seed
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "flowmatch latency: {} shard(s) over {m} instruments (MultiBook<FastBook> per shard, routed by KeyHash(instrument)), {} router(s), batch {}, {} s per run, pinned: {}",
        s.shards, s.producers, s.batch, s.duration_s, s.pin
    );
    if s.shards + 1 > cores {
        println!(
            "note: {} shard(s) + the client is more threads than this machine's {cores} cores{}: they share cores (engines yield when idle), so these figures are not N-core figures",
            s.shards,
            if s.shards > cores { ", and more shards than cores" } else { "" }
        );
    }
    let mut print = |label: &str, r: &ShardRunResult| print_shard_run(label, r);
    match latency_shards::session(s, out, &mut print) {
        Ok(summary) => {
            println!(
                "load average {} {}",
                summary.load_average_at_end,
                session::load_remark(provenance::load_average_1m(), summary.logical_cores)
            );
            println!(
                "wrote {}/shards-summary.json and .hgrm files",
                out.display()
            );
            0
        }
        Err(Failure::Invalid(e)) => {
            eprintln!("flowmatch latency: {e}");
            2
        }
        Err(Failure::Failed(e)) => {
            eprintln!("flowmatch latency: {e}");
            1
        }
    }
}

fn print_shard_run(label: &str, r: &ShardRunResult) {
    let offered = match r.load {
        Load::Open { rate } => format!("{rate:.0}/s"),
        Load::Closed => "max".into(),
    };
    let e2e = Percentiles::of(&r.e2e);
    println!(
        "{label}: offered {offered}, achieved {:.0}/s, sent {}, answered {}, e2e p50 {} p99 {} p99.9 {} max {}",
        r.achieved_rate,
        r.sent,
        r.completed,
        fmt_ns(e2e.p50),
        fmt_ns(e2e.p99),
        fmt_ns(e2e.p99_9),
        fmt_ns(e2e.max)
    );
    println!(
        "  router: {:.1} ns per message in send_slice (route + stage + commit, 2 clock reads per push included); routing function alone {:.1} ns",
        r.router_send_ns, r.route_ns
    );
    for sh in &r.per_shard {
        let p = Percentiles::of(&sh.hists.service);
        println!(
            "  shard {}: messages {}, achieved {:.0}/s, service p50 {} p99 {}{}",
            sh.shard,
            sh.messages,
            sh.achieved_rate,
            fmt_ns(p.p50),
            fmt_ns(p.p99),
            if sh.with_client {
                " (shares the client's core)"
            } else {
                ""
            }
        );
    }
    println!(
        "  placement: client {}",
        r.client_core
            .map_or("unpinned".to_string(), |c| format!("on core {c}"))
    );
    for line in r.placement.lines() {
        println!("  {line}");
    }
    if r.truncated {
        println!("  (fell behind: sending cut short, the shards could not keep up)");
    }
    if r.completed != r.sent {
        println!("  WARNING: {} sent but {} answered", r.sent, r.completed);
    }
}

/// Prints each run and probe as the session completes it.
struct Console;

impl Observer for Console {
    fn started(&mut self, s: &Settings, pinned: bool) {
        println!(
            "flowmatch latency: queue {}, {} producer(s), batch {}, {} s per run, pinned: {pinned}",
            s.queue.name(),
            s.producers,
            s.batch,
            s.duration_s,
        );
        println!(
            "{:<24} {:>11} {:>11} {:<8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
            "run", "offered/s", "achieved/s", "path", "p50", "p90", "p99", "p99.9", "p99.99", "max"
        );
    }

    fn run(&mut self, label: &str, r: &RunResult) {
        print_run(label, r);
    }

    fn probe(&mut self, p: &ProbeJson) {
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
            p.duration_s,
            cores_text.join("; "),
            fmt_ns(p.both_cores_lost_over_5us_ns)
        );
    }

    fn note(&mut self, text: &str) {
        eprintln!("flowmatch latency: {text}");
    }
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

/// The measured e2e next to the floor the gaps imply, per open-loop rate.
fn print_side_by_side(rows: &[SideBySide]) {
    if rows.is_empty() {
        return;
    }
    println!(
        "end to end, open loop: floor implied by the probe's gaps alone / null pipeline / book (>{}us: share of commands)",
        probe::BAR_NS / 1000
    );
    println!(
        "  {:>9} {:<6} {:>8} {:>9} {:>9} {:>9} {:>10}",
        "rate", "", ">5us", "p50", "p99", "p99.9", "max"
    );
    for row in rows {
        let mut lines: Vec<(&str, Percentiles, f64)> = Vec::new();
        if let Some(f) = row.floor {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

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
            shards: 1,
            instruments: None,
            out: out.to_path_buf(),
        }
    }

    #[test]
    fn writes_summary_and_hgrm_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        assert_eq!(run(args(out)), 0);
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
            "closed + two rates, each with its null baseline; rates given by hand are not extended"
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
        // The provenance block, with the harness's own commit reader.
        let prov = &json["provenance"];
        assert!(prov["tool"].as_str().unwrap().starts_with("flowmatch "));
        assert!(prov["timestamp_utc"].as_str().unwrap().ends_with('Z'));
        assert!(json.get("machine").is_none() && json.get("git_commit").is_none());
        assert!(json["knee"]["found"].is_string());
        for r in runs {
            assert_eq!(r["sent"], r["completed"]);
            for f in r["hgrm_files"].as_array().unwrap() {
                let text = std::fs::read_to_string(out.join(f.as_str().unwrap())).unwrap();
                assert!(text.contains("1/(1-Percentile)") && text.contains("#[Max"));
                assert!(text.starts_with("# tool: flowmatch "), "{f}");
            }
        }
    }

    #[test]
    fn bad_arguments_exit_2_without_running() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("never-written");
        let cases: [fn(&mut Args); 6] = [
            |a| a.queue = QueueKind::Spsc,
            |a| a.duration = f64::NAN,
            |a| a.duration = 0.0,
            |a| a.batch = 0,
            |a| a.probe = -1.0,
            |a| a.stream_len = usize::MAX,
        ];
        for set in cases {
            let mut a = args(&out);
            set(&mut a);
            assert_eq!(run(a), 2);
        }
        assert!(!out.exists());
    }

    #[test]
    fn rates_parse_with_suffixes_and_reject_nonsense() {
        assert_eq!(parse_rate("1M"), Ok(1e6));
        assert_eq!(parse_rate("250k"), Ok(250e3));
        assert_eq!(parse_rate("1.5M"), Ok(1.5e6));
        assert_eq!(parse_rate("1000000"), Ok(1e6));
        assert_eq!(parse_rate("1"), Ok(1.0));
        assert_eq!(parse_rate("1e9"), Ok(1e9));
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("-5k").is_err());
        assert!(parse_rate("NaN").is_err());
        assert!(parse_rate("inf").is_err());
        assert!(parse_rate("1.1e9").is_err());
        assert!(parse_rate("").is_err());
        assert!(parse_rate("0")
            .unwrap_err()
            .contains("at least 1 and at most 1e9"));
    }
}
