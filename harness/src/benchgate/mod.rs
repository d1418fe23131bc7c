//! The regression gate behind `flowmatch bench`: per workload, what one command costs the
//! fast book, compared with a committed baseline.
//!
//! Wall-clock numbers drift ±30% on shared CI runners, so the primary metric is the
//! number of instructions per command, counted by Callgrind: the gate runs its own binary
//! under `valgrind --tool=callgrind` on a hidden driver (`flowmatch bench --drive W`)
//! twice per workload — once generating the stream and applying it to the fast book, once
//! only generating it — and takes the difference over the command count, so process
//! start-up and stream generation cancel out. Callgrind's count is deterministic for a
//! given binary, so the tolerance can be tight.
//!
//! Where valgrind is missing the metric is the same-run throughput ratio of the fast book
//! to the reference book on the same stream (best of three timings each): both books
//! suffer the same machine noise, so the ratio drifts far less than either time, but a
//! wider tolerance is needed.
//!
//! A baseline is a text file of `workload,metric,value` lines (`#` lines are provenance).
//! It is only comparable with the same metric from the same build (profile and
//! compiler): a baseline is written by `--write-baseline` with the binary that will check
//! against it.

use crate::provenance::Provenance;
use crate::workload::Workload;
use flowmatch_core::{BookConfig, Command, CountingSink, FastBook, OrderBook, ReferenceBook};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command as Process;
use std::time::Instant;

/// The workloads the gate measures (the deep ladder's 400k levels would dominate the run).
pub const WORKLOADS: [Workload; 7] = [
    Workload::EquityCalm,
    Workload::EquityFlashCrash,
    Workload::Adversarial,
    Workload::RandomIds,
    Workload::WideBand,
    Workload::DeepSweep,
    Workload::CancelStorm,
];

/// Seed of every measured stream.
pub const SEED: u64 = 42;

/// What is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Callgrind instructions per command (lower is better).
    InstructionsPerCommand,
    /// Fast-book throughput over the reference book's, same run (higher is better).
    ThroughputRatio,
}

impl Metric {
    /// The name in baseline files.
    pub fn name(self) -> &'static str {
        match self {
            Metric::InstructionsPerCommand => "instructions_per_command",
            Metric::ThroughputRatio => "throughput_ratio_vs_reference",
        }
    }

    fn from_name(s: &str) -> Option<Metric> {
        [Metric::InstructionsPerCommand, Metric::ThroughputRatio]
            .into_iter()
            .find(|m| m.name() == s)
    }

    /// How much worse `current` is than `baseline`, in percent (negative: better).
    pub fn worse_by_pct(self, baseline: f64, current: f64) -> f64 {
        match self {
            Metric::InstructionsPerCommand => (current / baseline - 1.0) * 100.0,
            Metric::ThroughputRatio => (1.0 - current / baseline) * 100.0,
        }
    }
}

/// One measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// The workload's name.
    pub workload: String,
    /// The metric.
    pub metric: Metric,
    /// Its value.
    pub value: f64,
}

/// The hidden driver: generate `n` commands of `w` and, unless `generate_only`, apply them
/// to a fast book. Returns the events (so nothing is optimized away).
pub fn drive(w: Workload, n: usize, generate_only: bool) -> u64 {
    let cmds = w.generate(SEED, n);
    // Built in both runs, so its pre-allocation cancels out of the difference.
    let mut book = std::hint::black_box(FastBook::new(BookConfig::default()));
    if generate_only {
        return std::hint::black_box(cmds.len() as u64 + book.len() as u64);
    }
    let mut sink = CountingSink::default();
    apply_all(&mut book, &cmds, &mut sink);
    std::hint::black_box(sink.events)
}

#[inline(never)]
fn apply_all<B: OrderBook>(book: &mut B, cmds: &[Command], sink: &mut CountingSink) {
    for c in cmds {
        book.apply(c, sink);
    }
}

/// True when `valgrind --tool=callgrind` can run here.
pub fn callgrind_available() -> bool {
    Process::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Instructions Callgrind counts for one run of the driver.
fn callgrind_total(exe: &Path, w: Workload, n: usize, generate_only: bool) -> Result<u64, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let out = dir.path().join("callgrind.out");
    let mut p = Process::new("valgrind");
    p.arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(exe)
        .args(["bench", "--drive", w.name(), "--commands", &n.to_string()]);
    if generate_only {
        p.arg("--generate-only");
    }
    let o = p
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "valgrind failed on {}: {}",
            w.name(),
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    let text = std::fs::read_to_string(&out).map_err(|e| format!("no callgrind output: {e}"))?;
    parse_callgrind_total(&text).ok_or_else(|| "callgrind output has no totals line".into())
}

/// The `totals:` (or `summary:`) count of a Callgrind output file: its first event, `Ir`.
pub fn parse_callgrind_total(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Instructions per command of the fast book on `w`, by Callgrind.
pub fn instructions_per_command(exe: &Path, w: Workload, n: usize) -> Result<f64, String> {
    let with = callgrind_total(exe, w, n, false)?;
    let without = callgrind_total(exe, w, n, true)?;
    Ok(with.saturating_sub(without) as f64 / n as f64)
}

/// The fast book's throughput over the reference book's on `w`, best of three each.
pub fn throughput_ratio(w: Workload, n: usize) -> f64 {
    let cmds = w.generate(SEED, n);
    let best = |mk: &dyn Fn() -> f64| (0..3).map(|_| mk()).fold(f64::INFINITY, f64::min);
    let fast = best(&|| {
        let mut b = FastBook::new(BookConfig::default());
        let t = Instant::now();
        apply_all(&mut b, &cmds, &mut CountingSink::default());
        t.elapsed().as_secs_f64()
    });
    let reference = best(&|| {
        let mut b = ReferenceBook::new(BookConfig::default());
        let t = Instant::now();
        apply_all(&mut b, &cmds, &mut CountingSink::default());
        t.elapsed().as_secs_f64()
    });
    reference / fast.max(1e-12)
}

/// Measures every workload with `metric`.
pub fn measure(exe: &Path, metric: Metric, n: usize) -> Result<Vec<Measurement>, String> {
    WORKLOADS
        .iter()
        .map(|&w| {
            let value = match metric {
                Metric::InstructionsPerCommand => instructions_per_command(exe, w, n)?,
                Metric::ThroughputRatio => throughput_ratio(w, n),
            };
            Ok(Measurement {
                workload: w.name().to_string(),
                metric,
                value,
            })
        })
        .collect()
}

/// The build of this binary as a baseline records it: counts of a `dev` build (no
/// optimization, debug assertions on) and of a `release` build are not comparable.
pub fn build_kind() -> &'static str {
    build_of(cfg!(debug_assertions))
}

/// The build name of a binary with (`dev`) or without (`release`) debug assertions.
pub fn build_of(debug_assertions: bool) -> &'static str {
    match debug_assertions {
        true => "dev",
        false => "release",
    }
}

/// The build a baseline file was written by: its `# build:` line, or `dev` for a file
/// older than that line (every such baseline was written by the project's CI, a dev
/// build).
pub fn baseline_build(text: &str) -> String {
    baseline_setup(text)
        .1
        .unwrap_or_else(|| build_of(true).into())
}

/// Why a baseline written by the `baseline` build cannot be compared with counts of the
/// `current` build, if it cannot: a different build counts different instructions.
pub fn build_mismatch(baseline: &str, current: &str) -> Option<String> {
    (baseline != current).then(|| {
        format!(
            "was written by a {baseline} build; this binary is a {current} build, whose counts differ (regenerate it with scripts/bench-baseline.sh, or run the binary it was written with)"
        )
    })
}

const COMMANDS_LINE: &str = "# flowmatch bench baseline: ";
const BUILD_LINE: &str = "# build: ";

/// A baseline file's text.
pub fn baseline_text(ms: &[Measurement], n: usize) -> String {
    let mut s = Provenance::capture().comment_lines();
    let _ = writeln!(s, "{COMMANDS_LINE}{n} commands per workload, seed {SEED}");
    let _ = writeln!(
        s,
        "{BUILD_LINE}{} (instruction counts compare only with the same build of the same compiler)",
        build_kind()
    );
    for m in ms {
        let _ = writeln!(s, "{},{},{:.3}", m.workload, m.metric.name(), m.value);
    }
    s
}

/// What a baseline says it was measured with: commands per workload and the build, where
/// its comment lines say.
pub fn baseline_setup(text: &str) -> (Option<usize>, Option<String>) {
    let commands = text.lines().find_map(|l| {
        l.strip_prefix(COMMANDS_LINE)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    });
    let build = text.lines().find_map(|l| {
        Some(
            l.strip_prefix(BUILD_LINE)?
                .split_whitespace()
                .next()?
                .to_string(),
        )
    });
    (commands, build)
}

/// Parses a baseline file.
pub fn parse_baseline(text: &str) -> Result<Vec<Measurement>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        let bad = || {
            format!(
                "line {}: expected workload,metric,value, got {line:?}",
                i + 1
            )
        };
        if f.len() != 3 {
            return Err(bad());
        }
        let metric = Metric::from_name(f[1]).ok_or_else(bad)?;
        let value: f64 = f[2].parse().map_err(|_| bad())?;
        if !(value.is_finite() && value > 0.0) {
            return Err(bad());
        }
        out.push(Measurement {
            workload: f[0].to_string(),
            metric,
            value,
        });
    }
    Ok(out)
}

/// One row of the comparison table.
#[derive(Clone, Debug)]
pub struct Row {
    /// The measurement now.
    pub current: Measurement,
    /// The baseline's, if it has this workload and metric.
    pub baseline: Option<f64>,
    /// Percent worse than the baseline (negative: better).
    pub worse_pct: Option<f64>,
    /// Worse beyond the tolerance.
    pub regressed: bool,
}

/// Compares measurements with a baseline at `tolerance_pct`.
pub fn compare(current: &[Measurement], baseline: &[Measurement], tolerance_pct: f64) -> Vec<Row> {
    current
        .iter()
        .map(|m| {
            let b = baseline
                .iter()
                .find(|b| b.workload == m.workload && b.metric == m.metric)
                .map(|b| b.value);
            let worse = b.map(|b| m.metric.worse_by_pct(b, m.value));
            Row {
                current: m.clone(),
                baseline: b,
                worse_pct: worse,
                regressed: worse.is_some_and(|w| w > tolerance_pct),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-checked: a dev baseline is refused by a release binary and the other way
    /// round, naming both builds; the same build compares.
    #[test]
    fn a_baseline_of_the_other_build_is_refused() {
        assert_eq!(build_mismatch("dev", "dev"), None);
        assert_eq!(build_mismatch("release", "release"), None);
        let m = build_mismatch("dev", "release").expect("refused");
        assert!(
            m.contains("written by a dev build; this binary is a release build"),
            "{m}"
        );
        let m = build_mismatch("release", "dev").expect("refused");
        assert!(
            m.contains("written by a release build; this binary is a dev build"),
            "{m}"
        );
        // An old baseline (no build line) against either build.
        assert_eq!(
            build_mismatch(&baseline_build("x,y,1\n"), build_of(true)),
            None
        );
        assert!(build_mismatch(&baseline_build("x,y,1\n"), build_of(false)).is_some());
        assert_eq!(build_kind(), build_of(cfg!(debug_assertions)));
    }

    #[test]
    fn callgrind_totals_are_read_from_either_line() {
        assert_eq!(
            parse_callgrind_total("events: Ir\nsummary: 12345\n"),
            Some(12345)
        );
        assert_eq!(parse_callgrind_total("totals: 77 1\n"), Some(77));
        assert_eq!(parse_callgrind_total("nothing"), None);
    }

    /// 10% more instructions than the baseline fails a 5% tolerance and passes 15%;
    /// a lower throughput ratio is worse, a higher one better.
    #[test]
    fn ten_percent_more_instructions_is_a_regression_beyond_five_percent() {
        let m = |v| Measurement {
            workload: "equity-mixed".into(),
            metric: Metric::InstructionsPerCommand,
            value: v,
        };
        let rows = compare(&[m(110.0)], &[m(100.0)], 5.0);
        assert!(rows[0].regressed);
        assert!((rows[0].worse_pct.unwrap() - 10.0).abs() < 1e-9);
        assert!(!compare(&[m(110.0)], &[m(100.0)], 15.0)[0].regressed);
        assert!(!compare(&[m(90.0)], &[m(100.0)], 5.0)[0].regressed);
        assert!(Metric::ThroughputRatio.worse_by_pct(10.0, 8.0) > 19.0);
        assert!(Metric::ThroughputRatio.worse_by_pct(10.0, 12.0) < 0.0);
    }

    #[test]
    fn baselines_round_trip_and_bad_lines_name_the_line() {
        let ms = vec![Measurement {
            workload: "adversarial".into(),
            metric: Metric::ThroughputRatio,
            value: 4.5,
        }];
        assert_eq!(parse_baseline(&baseline_text(&ms, 1000)).unwrap(), ms);
        assert_eq!(
            baseline_setup(&baseline_text(&ms, 1000)),
            (Some(1000), Some(build_kind().to_string()))
        );
        assert_eq!(baseline_setup("a,b,1\n"), (None, None));
        // A file without the build line is a dev build's.
        assert_eq!(baseline_build("a,b,1\n"), "dev");
        assert_eq!(baseline_build("# build: release (x)\na,b,1\n"), "release");
        assert!(parse_baseline("a,b\n").unwrap_err().contains("line 1"));
        assert!(parse_baseline("a,instructions_per_command,-1\n").is_err());
    }
}
