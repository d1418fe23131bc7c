//! `flowmatch bench`: parses the options, runs [`crate::benchgate`], prints the table and
//! writes or checks the baseline. All the measuring lives in `crate::benchgate`.
//!
//! Exit status: 0 when no workload is worse than the baseline beyond the tolerance (or no
//! baseline was given); 1 when one is (the table is printed either way) or the baseline
//! could not be written; 2 for a usage problem (an option out of range, an unreadable or
//! malformed baseline, a baseline of another metric, of another `--commands` or written
//! by another build: dev against release).

use super::numeric::unsigned;
use crate::benchgate::{self, Metric};
use crate::output;
use crate::workload::Workload;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Commands per workload accepted.
pub const COMMANDS: std::ops::RangeInclusive<usize> = 1_000..=1_000_000;

/// Which counter to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MetricArg {
    /// Callgrind instructions where valgrind runs, else the throughput ratio.
    Auto,
    /// Callgrind instructions per command (needs valgrind).
    Instructions,
    /// Same-run throughput ratio of the fast book to the reference book.
    Throughput,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Compare with this baseline; exit 1 when a workload is worse beyond --tolerance.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the measurements as a baseline to this file.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Percent worse than the baseline that still passes, 0 to 100 (instructions are
    /// deterministic: 2 is plenty; the throughput ratio wants 25 or more).
    #[arg(
        long,
        value_name = "PCT",
        default_value_t = 2.0,
        allow_negative_numbers = true
    )]
    pub tolerance: f64,
    /// Commands per workload (1000 to 1000000).
    #[arg(long, value_name = "N", default_value_t = 20_000, allow_negative_numbers = true,
          value_parser = unsigned(*COMMANDS.start(), *COMMANDS.end()))]
    pub commands: usize,
    /// What to count.
    #[arg(long, value_enum, default_value_t = MetricArg::Auto)]
    pub metric: MetricArg,
    /// Internal: drive one workload (the process Callgrind counts).
    #[arg(long, value_name = "WORKLOAD", hide = true)]
    pub drive: Option<String>,
    /// Internal: with --drive, only generate the stream.
    #[arg(long, hide = true)]
    pub generate_only: bool,
}

/// Entry point: returns the process exit code.
pub fn run(a: Args) -> u8 {
    match run_inner(&a) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("flowmatch bench: {msg}");
            2
        }
    }
}

fn run_inner(a: &Args) -> Result<u8, String> {
    if !COMMANDS.contains(&a.commands) {
        return Err(format!(
            "--commands {} is out of range: it must be between {} and {}",
            a.commands,
            COMMANDS.start(),
            COMMANDS.end()
        ));
    }
    if !(a.tolerance.is_finite() && (0.0..=100.0).contains(&a.tolerance)) {
        return Err(format!(
            "--tolerance {} is out of range: it must be between 0 and 100 (percent)",
            a.tolerance
        ));
    }
    if let Some(name) = &a.drive {
        let w = Workload::from_name(name)
            .ok_or_else(|| format!("--drive: unknown workload {name:?}"))?;
        benchgate::drive(w, a.commands, a.generate_only);
        return Ok(0);
    }
    let mut outputs: Vec<(&str, &Path)> = Vec::new();
    if let Some(p) = &a.write_baseline {
        outputs.push(("--write-baseline", p));
    }
    let inputs: Vec<(&str, &Path)> = a
        .baseline
        .iter()
        .map(|p| ("--baseline", p.as_path()))
        .collect();
    output::refuse_overwriting_inputs(&outputs, &inputs)?;
    let baseline = match &a.baseline {
        None => None,
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read --baseline {}: {e}", p.display()))?;
            let (commands, _) = benchgate::baseline_setup(&text);
            if let Some(n) = commands.filter(|&n| n != a.commands) {
                return Err(format!(
                    "--baseline {} was measured with --commands {n}; this run has --commands {} (per-command counts depend on the stream's length: give --commands {n})",
                    p.display(),
                    a.commands
                ));
            }
            // A baseline without a build line predates it: a dev build's (the CI's).
            let build = benchgate::baseline_build(&text);
            if let Some(why) = benchgate::build_mismatch(&build, benchgate::build_kind()) {
                return Err(format!("--baseline {} {why}", p.display()));
            }
            Some(
                benchgate::parse_baseline(&text)
                    .map_err(|e| format!("--baseline {}: {e}", p.display()))?,
            )
        }
    };
    let metric = match a.metric {
        MetricArg::Instructions => Metric::InstructionsPerCommand,
        MetricArg::Throughput => Metric::ThroughputRatio,
        MetricArg::Auto if benchgate::callgrind_available() => Metric::InstructionsPerCommand,
        MetricArg::Auto => Metric::ThroughputRatio,
    };
    if metric == Metric::InstructionsPerCommand && !benchgate::callgrind_available() {
        return Err(
            "--metric instructions needs valgrind (callgrind), which is not on PATH".into(),
        );
    }
    if let Some(b) = &baseline {
        if !b.iter().any(|m| m.metric == metric) {
            return Err(format!(
                "--baseline has no {} rows (this run measures that); write a baseline with this machine's metric",
                metric.name()
            ));
        }
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let ms = benchgate::measure(&exe, metric, a.commands).map_err(|e| e.to_string())?;
    let mut code = 0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "flowmatch bench: {} per workload, {} commands each, tolerance {}%, measured build: {} ({})",
        metric.name(),
        a.commands,
        a.tolerance,
        benchgate::build_kind(),
        if cfg!(debug_assertions) {
            "debug assertions on"
        } else {
            "optimized, no debug assertions"
        }
    );
    let _ = writeln!(
        s,
        "{:<20} {:>14} {:>14} {:>9}  verdict",
        "workload", "now", "baseline", "worse %"
    );
    let rows = benchgate::compare(&ms, baseline.as_deref().unwrap_or(&[]), a.tolerance);
    for r in &rows {
        let verdict = match (baseline.is_some(), r.baseline, r.regressed) {
            (false, _, _) => "measured",
            (true, None, _) => "no baseline",
            (true, Some(_), true) => "REGRESSED",
            (true, Some(_), false) => "ok",
        };
        let _ = writeln!(
            s,
            "{:<20} {:>14.3} {:>14} {:>9}  {verdict}",
            r.current.workload,
            r.current.value,
            r.baseline.map_or("-".into(), |b| format!("{b:.3}")),
            r.worse_pct.map_or("-".into(), |w| format!("{w:+.2}")),
        );
        if r.regressed {
            code = 1;
        }
    }
    let _ = std::io::stdout().lock().write_all(s.as_bytes());
    if let Some(p) = &a.write_baseline {
        if let Err(e) = std::fs::write(p, benchgate::baseline_text(&ms, a.commands)) {
            eprintln!(
                "flowmatch bench: cannot write --write-baseline {}: {e}",
                p.display()
            );
            code = 1;
        }
    }
    Ok(code)
}
