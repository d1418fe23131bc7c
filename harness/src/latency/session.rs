//! One `flowmatch latency` invocation: the closed-loop run, the open-loop sweep (extended
//! until its knee, [`super::sweep`]), the null-pipeline baseline after each book run, a
//! platform jitter probe per open-loop rate, and the result files (`summary.json` with the
//! provenance block, one `.hgrm` per run and path).
//!
//! The command line (`cmd/latency.rs`) only parses options into [`Settings`] and prints
//! what an [`Observer`] is told; the order of the runs, what is recorded and what is
//! written are decided here.

use super::hist::{self, Percentiles};
use super::probe::{self, CoreSummary, Floor};
use super::settings::{Settings, StreamKind};
use super::sweep::{self, Knee, Point};
use super::{Cycle, Load, Pipeline, RunResult, RunSpec};
use crate::clock::TscClock;
use crate::pipeline::Shape;
use crate::provenance::{self, Provenance};
use crate::workload::{adversarial, equity};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

/// One platform jitter probe, between the book and the null run at one open-loop rate.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeJson {
    /// The open-loop rate whose runs this probe sits between.
    pub rate: f64,
    pub duration_s: f64,
    /// Gaps longer than this (ns) are kept; the model uses them.
    pub record_ns: u64,
    /// Which probe core stands for the client and which for the engine in the model.
    pub client_core: Option<usize>,
    pub engine_core: Option<usize>,
    pub cores: Vec<CoreSummary>,
    /// Time both cores were in a gap over 5 µs at once (the host pausing the whole VM).
    pub both_cores_lost_over_5us_ns: u64,
    /// The floor the gaps imply at `rate` (see `probe_model`).
    pub floor: Floor,
}

/// How a probe's gaps become a latency floor.
pub const PROBE_MODEL: &str = "open-loop stream at the offered rate over the probe window; a command due at t inside a client-core gap is sent at the gap's end s, and if s is inside an engine-core gap it is taken at that gap's end e; delay = e - t; the pipeline itself costs nothing and catches up instantly";

/// One run in `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct RunJson {
    pub label: String,
    /// `book` (FastBook applies every command) or `null` (echo, the harness baseline).
    pub pipeline: Pipeline,
    pub load: Load,
    pub queue: &'static str,
    pub producers: usize,
    pub batch: usize,
    pub offered_rate: Option<f64>,
    /// Measured commands completed per second of the measured window (see
    /// [`crate::pipeline::Throughput`]).
    pub achieved_rate: f64,
    /// Length of the measured window, seconds.
    pub elapsed_s: f64,
    pub sent: u64,
    pub completed: u64,
    pub events: u64,
    pub recorded: u64,
    pub truncated: bool,
    pub engine_pinned: bool,
    pub client_pinned: bool,
    pub engine_batches: u64,
    pub engine_max_batch: u64,
    pub engine_output_full_waits: u64,
    /// Nanoseconds.
    pub queue_ns: Percentiles,
    pub service_ns: Percentiles,
    pub e2e_ns: Percentiles,
    /// Fraction of recorded commands with end-to-end latency over 5 µs.
    pub e2e_over_5us_fraction: f64,
    /// Minor page faults (whole process) during the run.
    pub minor_faults: Option<u64>,
    pub hgrm_files: Vec<String>,
}

/// `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Tool, commit, command, machine, load at the start, timestamp.
    pub provenance: Provenance,
    /// `/proc/loadavg` when the last run ended.
    pub load_average_at_end: String,
    pub tsc_ghz: f64,
    pub stream: &'static str,
    pub stream_len: usize,
    pub seed: u64,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub engine_idle: String,
    pub capacity: usize,
    pub hgrm_unit: &'static str,
    /// Where the saturation knee is (`null` without open-loop runs).
    pub knee: Option<Knee>,
    pub knee_rule: &'static str,
    /// Highest rate the sweep was allowed to extend to (`null` when the rates were given by
    /// hand and not extended).
    pub sweep_bound: Option<f64>,
    /// How a probe's gaps become a latency floor.
    pub probe_model: &'static str,
    /// One platform jitter probe per open-loop rate (none with `--probe 0`).
    pub probes: Vec<ProbeJson>,
    pub runs: Vec<RunJson>,
}

/// One open-loop rate: end-to-end percentiles and share over 5 µs, book and null.
#[derive(Clone, Copy, Debug)]
pub struct SideBySide {
    pub rate: f64,
    pub book: (Percentiles, f64),
    pub null: Option<(Percentiles, f64)>,
    pub floor: Option<Floor>,
}

/// What a session produced.
pub struct Outcome {
    pub summary: Summary,
    /// Per open-loop rate, in the order run.
    pub side_by_side: Vec<SideBySide>,
    /// Whether the client and the engine were pinned.
    pub pinned: bool,
}

/// Told about each step as it completes, so the console can show progress.
pub trait Observer {
    /// Before the first run.
    fn started(&mut self, _settings: &Settings, _pinned: bool) {}
    fn run(&mut self, label: &str, result: &RunResult);
    fn probe(&mut self, probe: &ProbeJson);
    /// Something the user should know that is not a result (e.g. running unpinned).
    fn note(&mut self, _text: &str) {}
}

/// Why a session stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// A setting is out of range (nothing was run or written).
    Invalid(String),
    /// A run or a file write failed.
    Failed(String),
}

/// Runs the whole invocation and writes its files under `out`. Validates `settings` first.
pub fn run(settings: &Settings, out: &Path, obs: &mut dyn Observer) -> Result<Outcome, Failure> {
    settings.validate().map_err(Failure::Invalid)?;
    let provenance = Provenance::capture();

    // Read the core list once, before anything pins itself.
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let pin = if !settings.pin {
        None
    } else if cores.len() >= 2 {
        Some((cores[0], cores[1]))
    } else {
        obs.note("fewer than 2 cores visible; running unpinned");
        None
    };
    let clock = TscClock::new();
    let cmds = match settings.stream {
        StreamKind::Equity => equity::generate(
            &equity::EquityConfig::default(),
            settings.seed,
            settings.stream_len,
        ),
        StreamKind::Adversarial => adversarial::generate(settings.seed, settings.stream_len),
    };
    let stream =
        Cycle::new(&cmds).ok_or_else(|| Failure::Failed("the command stream is empty".into()))?;
    std::fs::create_dir_all(out)
        .map_err(|e| Failure::Failed(format!("cannot create {}: {e}", out.display())))?;
    obs.started(settings, pin.is_some());

    let base = RunSpec {
        shape: Shape {
            queue: settings.queue,
            producers: settings.producers,
            batch: settings.batch,
            idle: settings.idle,
            capacity: settings.capacity,
            pin,
            ..Shape::default()
        },
        duration: Duration::from_secs_f64(settings.duration_s),
        warmup: Duration::from_secs_f64(settings.warmup_s),
        ..RunSpec::default()
    };
    let mut pending: VecDeque<Load> = VecDeque::new();
    if settings.closed {
        pending.push_back(Load::Closed);
    }
    pending.extend(
        settings
            .planned_rates()
            .into_iter()
            .map(|rate| Load::Open { rate }),
    );
    let pipelines: &[Pipeline] = if settings.null {
        &[Pipeline::Book, Pipeline::Null]
    } else {
        &[Pipeline::Book]
    };
    let probing = settings.probe_s > 0.0;
    let probe = |rate: f64| {
        run_probe(
            &cores,
            &clock,
            Duration::from_secs_f64(settings.probe_s),
            rate,
            pin.is_some(),
        )
    };

    let mut runs = Vec::new();
    let mut points: Vec<Point> = Vec::new();
    let mut side_by_side: Vec<SideBySide> = Vec::new();
    let mut probes: Vec<ProbeJson> = Vec::new();
    let mut closed_rate = None;
    let mut sweep_bound = None;
    loop {
        let Some(load) = pending.pop_front() else {
            // The plan is done: go on while the knee is not reached, within the bound.
            if !settings.extends_to_knee() {
                break;
            }
            let limit = sweep::bound(closed_rate);
            sweep_bound = Some(limit);
            match sweep::next_rate(&points, limit) {
                Some(rate) => {
                    pending.push_back(Load::Open { rate });
                    continue;
                }
                None => break,
            }
        };
        let mut row: Option<SideBySide> = None;
        for (k, &pipeline) in pipelines.iter().enumerate() {
            let spec = RunSpec {
                pipeline,
                load,
                ..base.clone()
            };
            let r = super::run(&spec, &stream, &clock).map_err(Failure::Failed)?;
            let label = label(settings.queue.name(), pipeline, load);
            obs.run(&label, &r);
            let mut files = Vec::new();
            for (path, h) in r.hists.paths() {
                let name = format!("{label}-{path}.hgrm");
                let text = provenance.comment_lines() + &hist::hgrm(h);
                write(&out.join(&name), &text)?;
                files.push(name);
            }
            let e2e = (Percentiles::of(&r.hists.e2e), over_bar(&r.hists.e2e));
            match (load, pipeline) {
                (Load::Closed, Pipeline::Book) => closed_rate = Some(r.achieved_rate),
                (Load::Open { rate }, Pipeline::Book) => {
                    points.push(Point {
                        offered: rate,
                        achieved: r.achieved_rate,
                        e2e_p50_ns: e2e.0.p50,
                        truncated: r.truncated,
                    });
                    row = Some(SideBySide {
                        rate,
                        book: e2e,
                        null: None,
                        floor: None,
                    });
                }
                (Load::Open { .. }, Pipeline::Null) => {
                    if let Some(row) = row.as_mut() {
                        row.null = Some(e2e);
                    }
                }
                (Load::Closed, Pipeline::Null) => {}
            }
            runs.push(to_json(label, &r, files));
            // The probe sits between the book and the null run (after the book run when
            // there is no null run).
            if let (Load::Open { rate }, true, 0) = (load, probing, k) {
                let p = probe(rate);
                obs.probe(&p);
                if let Some(row) = row.as_mut() {
                    row.floor = Some(p.floor);
                }
                probes.push(p);
            }
        }
        if let Some(row) = row {
            side_by_side.push(row);
        }
    }
    let summary = Summary {
        provenance,
        load_average_at_end: provenance::load_average(),
        tsc_ghz: clock.ticks_per_ns(),
        stream: settings.stream.name(),
        stream_len: settings.stream_len,
        seed: settings.seed,
        duration_s: settings.duration_s,
        warmup_s: settings.warmup_s,
        engine_idle: format!("{:?}", settings.idle).to_lowercase(),
        capacity: settings.capacity,
        hgrm_unit: "microseconds",
        knee: sweep::knee(&points),
        knee_rule: sweep::RULE,
        sweep_bound,
        probe_model: PROBE_MODEL,
        probes,
        runs,
    };
    let json = serde_json::to_string_pretty(&summary).expect("summary serialises");
    write(&out.join("summary.json"), &(json + "\n"))?;
    Ok(Outcome {
        summary,
        side_by_side,
        pinned: pin.is_some(),
    })
}

/// `<queue>[-null]-<closed|open-RATE>`.
pub fn label(queue: &str, pipeline: Pipeline, load: Load) -> String {
    let what = match pipeline {
        Pipeline::Book => queue.to_string(),
        Pipeline::Null => format!("{queue}-null"),
    };
    match load {
        Load::Closed => format!("{what}-closed"),
        Load::Open { rate } => format!("{what}-open-{}", rate.round() as u64),
    }
}

/// What the console says after the load average: whether the runs had the machine's cores
/// to themselves. `load_1m` is the 1-minute load average, `cores` the logical core count.
pub fn load_remark(load_1m: Option<f64>, cores: usize) -> String {
    match load_1m {
        Some(l) if cores > 0 && l > cores as f64 => {
            format!("(above the {cores} cores of this machine: the figures are contended)")
        }
        Some(_) if cores > 0 => format!("(at most the {cores} cores of this machine)"),
        _ => String::new(),
    }
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text)
        .map_err(|e| Failure::Failed(format!("cannot write {}: {e}", path.display())))
}

/// Fraction of the recorded values over [`probe::BAR_NS`] (to the histogram's precision).
pub fn over_bar(h: &Histogram<u64>) -> f64 {
    if h.is_empty() {
        return 0.0;
    }
    let over = h.count_between(probe::BAR_NS + 1, hist::HIGH_NS);
    over as f64 / h.len() as f64
}

/// Runs the jitter probe on every core (pinned if `pinned`) and returns its summary with
/// the floor at `rate`. The first core stands for the client and the second for the
/// engine (the runs pin them so).
fn run_probe(
    cores: &[core_affinity::CoreId],
    clock: &TscClock,
    length: Duration,
    rate: f64,
    pinned: bool,
) -> ProbeJson {
    let probe_cores: &[core_affinity::CoreId] = if pinned { cores } else { &[] };
    let traces = probe::run(probe_cores, pinned, length, clock);
    let empty = probe::CoreTrace::from_gaps(Vec::new(), 0);
    let client = traces.first().unwrap_or(&empty);
    let engine = traces.get(1).unwrap_or(client);
    ProbeJson {
        rate,
        duration_s: length.as_secs_f64(),
        record_ns: probe::RECORD_NS,
        client_core: if pinned { client.core } else { None },
        engine_core: if pinned { engine.core } else { None },
        cores: traces.iter().map(CoreSummary::from).collect(),
        both_cores_lost_over_5us_ns: probe::overlap_ns(&client.gaps, &engine.gaps, probe::BAR_NS),
        floor: probe::floor(client, engine, rate),
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
        elapsed_s: r.elapsed_s,
        sent: r.sent,
        completed: r.completed,
        events: r.events,
        recorded: r.recorded,
        truncated: r.truncated,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 9 defect 16: the line said "(above ~2 ... contended)" whatever the load.
    #[test]
    fn the_load_remark_says_contended_only_when_the_load_exceeds_the_cores() {
        assert_eq!(
            load_remark(Some(1.04), 2),
            "(at most the 2 cores of this machine)"
        );
        assert_eq!(
            load_remark(Some(2.0), 2),
            "(at most the 2 cores of this machine)"
        );
        assert_eq!(
            load_remark(Some(2.31), 2),
            "(above the 2 cores of this machine: the figures are contended)"
        );
        assert_eq!(
            load_remark(Some(5.0), 8),
            "(at most the 8 cores of this machine)"
        );
        assert_eq!(load_remark(None, 2), "");
        assert_eq!(load_remark(Some(3.0), 0), "");
    }

    #[test]
    fn labels_name_queue_pipeline_and_load() {
        assert_eq!(label("spsc", Pipeline::Book, Load::Closed), "spsc-closed");
        assert_eq!(
            label("multi", Pipeline::Null, Load::Open { rate: 1.5e6 }),
            "multi-null-open-1500000"
        );
    }

    struct Quiet(Vec<String>);
    impl Observer for Quiet {
        fn run(&mut self, label: &str, _: &RunResult) {
            self.0.push(label.to_string());
        }
        fn probe(&mut self, p: &ProbeJson) {
            self.0.push(format!("probe {}", p.rate));
        }
    }

    /// Bad settings fail before any work: nothing is run and no directory is made.
    #[test]
    fn invalid_settings_run_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("never");
        let mut obs = Quiet(Vec::new());
        let s = Settings {
            duration_s: 0.0,
            ..Settings::default()
        };
        match run(&s, &out, &mut obs) {
            Err(Failure::Invalid(e)) => assert!(e.contains("more than 0"), "{e}"),
            _ => panic!("accepted --duration 0"),
        }
        assert!(obs.0.is_empty());
        assert!(!out.exists());
    }
}
