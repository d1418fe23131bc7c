//! `flowmatch compare`: our books and crates.io peers side by side (see
//! [`crate::compare`]). With no arguments it runs the default comparison (a few minutes on
//! 2 cores) and writes `flowmatch-out/compare/` (or `--out DIR`).
//!
//! Every option is checked against its accepted range, and the output directory against
//! [`crate::output`], before any work ([`Args::config`]): a mistake costs an error naming
//! the option and its range (exit 2), never minutes of work.

use super::numeric::unsigned;
use crate::compare::instruments::InstrumentWorkload;
use crate::compare::{self, Config, Workload, WorkloadName};
use crate::output;
use crate::provenance::Provenance;
use std::path::{Path, PathBuf};

/// Largest `--commands`, `--cross-commands` and `--latency-commands`: every workload's
/// stream is held in memory twice (full and common subset), about 1 GiB at this size.
pub const MAX_COMMANDS: usize = 2_000_000;
/// Largest `--reps`.
pub const MAX_REPS: usize = 100;
/// Accepted `--stall-ms`: below 100 ms the 50 ms polling of the screening child cannot
/// tell a slow command from a hung one; above 10 minutes a hung peer stops the run.
pub const STALL_MS: std::ops::RangeInclusive<u64> = 100..=600_000;
/// Accepted `--budget-ms`: at least one polling period more than the shortest stall, at
/// most an hour per stream.
pub const BUDGET_MS: std::ops::RangeInclusive<u64> = 100..=3_600_000;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Seed of every generated stream.
    #[arg(long, default_value_t = 42, allow_negative_numbers = true, value_parser = unsigned(0, u64::MAX))]
    pub seed: u64,
    /// Commands per workload stream, 1 to 2000000.
    #[arg(long, default_value_t = 200_000, allow_negative_numbers = true, value_parser = unsigned(1, MAX_COMMANDS))]
    pub commands: usize,
    /// Interleaved repetitions of every (workload, matcher) pass, 1 to 100.
    #[arg(long, default_value_t = 5, allow_negative_numbers = true, value_parser = unsigned(1, MAX_REPS))]
    pub reps: usize,
    /// Commands per workload in the fill cross-check, 1 to 2000000 (at most the stream).
    #[arg(long, default_value_t = 50_000, allow_negative_numbers = true, value_parser = unsigned(1, MAX_COMMANDS))]
    pub cross_commands: usize,
    /// Commands per workload in the per-command latency pass, 1 to 2000000 (at most the
    /// stream).
    #[arg(long, default_value_t = 100_000, allow_negative_numbers = true, value_parser = unsigned(1, MAX_COMMANDS))]
    pub latency_commands: usize,
    /// Milliseconds a peer may spend on one command before it is declared hung, 100 to
    /// 600000.
    #[arg(long, default_value_t = 2_000, allow_negative_numbers = true, value_parser = unsigned(*STALL_MS.start(), *STALL_MS.end()))]
    pub stall_ms: u64,
    /// Milliseconds a peer may spend on one whole stream when it is screened, 100 to
    /// 3600000: a peer still working after that is reported too slow (where it had got to,
    /// and its rate) and not timed further on that stream.
    #[arg(long, default_value_t = 3_000, allow_negative_numbers = true, value_parser = unsigned(*BUDGET_MS.start(), *BUDGET_MS.end()))]
    pub budget_ms: u64,
    /// Workloads to run, comma-separated (default: all of them, in the order listed).
    #[arg(long, value_delimiter = ',', value_parser = workload_parser())]
    pub workloads: Vec<WorkloadName>,
    /// Output directory (by default `flowmatch-out/compare`, which git ignores; the
    /// committed results are made with `--out bench-results/compare`).
    #[arg(long, default_value = "flowmatch-out/compare")]
    pub out: PathBuf,
    /// Internal: run one peer on one stream, printing progress (used by the parent to
    /// detect a peer that never returns).
    #[arg(long, hide = true)]
    pub screen: Option<String>,
}

/// The files `compare` writes into `--out`.
pub const OUTPUT_FILES: [&str; 5] = [
    "report.json",
    "report.md",
    "throughput.svg",
    "latency.svg",
    "fill-distribution.svg",
];

/// Accepts exactly the names of [`WorkloadName::all`] (so `--help` and the error for an
/// unknown name list them all).
fn workload_parser() -> impl clap::builder::TypedValueParser<Value = WorkloadName> {
    use clap::builder::TypedValueParser;
    let names: Vec<&'static str> = WorkloadName::all()
        .into_iter()
        .map(WorkloadName::name)
        .collect();
    clap::builder::PossibleValuesParser::new(names).try_map(|name| {
        WorkloadName::from_name(&name).ok_or_else(|| format!("unknown workload `{name}`"))
    })
}

impl Args {
    /// The run's configuration, or a usage error naming the option and its accepted range.
    /// Checks the output directory too, so nothing runs for minutes and then fails to write.
    pub fn config(&self) -> Result<Config, String> {
        let count = |name: &str, v: usize, max: usize| {
            if (1..=max).contains(&v) {
                Ok(v)
            } else {
                Err(format!("{name} must be between 1 and {max}, got {v}"))
            }
        };
        let commands = count("--commands", self.commands, MAX_COMMANDS)?;
        let reps = count("--reps", self.reps, MAX_REPS)?;
        let cross_commands = count("--cross-commands", self.cross_commands, MAX_COMMANDS)?;
        let latency_commands = count("--latency-commands", self.latency_commands, MAX_COMMANDS)?;
        if !STALL_MS.contains(&self.stall_ms) {
            return Err(format!(
                "--stall-ms must be between {} and {}, got {}",
                STALL_MS.start(),
                STALL_MS.end(),
                self.stall_ms
            ));
        }
        if !BUDGET_MS.contains(&self.budget_ms) {
            return Err(format!(
                "--budget-ms must be between {} and {}, got {}",
                BUDGET_MS.start(),
                BUDGET_MS.end(),
                self.budget_ms
            ));
        }
        output::check_output_dir("--out", &self.out)?;
        let files: Vec<PathBuf> = OUTPUT_FILES.iter().map(|f| self.out.join(f)).collect();
        let outputs: Vec<(&str, &Path)> = files.iter().map(|p| ("--out", p.as_path())).collect();
        output::refuse_overwriting_inputs(&outputs, &[])?;
        Ok(Config {
            seed: self.seed,
            commands,
            reps,
            cross_commands,
            latency_commands,
            stall: std::time::Duration::from_millis(self.stall_ms),
            budget: std::time::Duration::from_millis(self.budget_ms),
            workloads: if self.workloads.is_empty() {
                Workload::all()
            } else {
                self.workloads
                    .iter()
                    .filter_map(|w| match w {
                        WorkloadName::Book(b) => Some(*b),
                        WorkloadName::Instruments(_) => None,
                    })
                    .collect()
            },
            instrument_workloads: if self.workloads.is_empty() {
                InstrumentWorkload::ALL.to_vec()
            } else {
                self.workloads
                    .iter()
                    .filter_map(|w| match w {
                        WorkloadName::Instruments(i) => Some(*i),
                        WorkloadName::Book(_) => None,
                    })
                    .collect()
            },
            ..Config::default()
        })
    }
}

pub fn run(a: Args) -> u8 {
    if let Some(spec) = &a.screen {
        return match compare::screen_child(spec) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("flowmatch compare --screen: {e}");
                2
            }
        };
    }
    let cfg = match a.config() {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("flowmatch compare: {msg}");
            return 2;
        }
    };
    let provenance = Provenance::capture();
    let report = compare::run(&cfg, provenance, &mut |s| eprintln!("[compare] {s}"));
    print!("{}", report.console());
    match report.write(&a.out) {
        Ok(()) => {
            println!("wrote {}/{}", a.out.display(), OUTPUT_FILES.join(", "));
            0
        }
        Err(e) => {
            eprintln!("flowmatch compare: cannot write {}: {e}", a.out.display());
            1
        }
    }
}
