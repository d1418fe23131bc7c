//! `flowmatch compare`: our books and crates.io peers side by side (see
//! [`crate::compare`]). With no arguments it runs the default comparison (a few minutes on
//! 2 cores) and writes `bench-results/compare/`.

use crate::compare::{self, Config};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Seed of every generated stream.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Commands per workload stream.
    #[arg(long, default_value_t = 200_000)]
    pub commands: usize,
    /// Interleaved repetitions of every (workload, matcher) pass.
    #[arg(long, default_value_t = 5)]
    pub reps: usize,
    /// Commands per workload in the fill cross-check.
    #[arg(long, default_value_t = 50_000)]
    pub cross_commands: usize,
    /// Commands per workload in the per-command latency pass.
    #[arg(long, default_value_t = 100_000)]
    pub latency_commands: usize,
    /// Milliseconds a peer may spend on one command before it is declared hung.
    #[arg(long, default_value_t = 5_000)]
    pub stall_ms: u64,
    /// Output directory.
    #[arg(long, default_value = "bench-results/compare")]
    pub out: PathBuf,
    /// Internal: run one peer on one stream, printing progress (used by the parent to
    /// detect a peer that never returns).
    #[arg(long, hide = true)]
    pub screen: Option<String>,
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
    if a.commands == 0 || a.reps == 0 {
        eprintln!("flowmatch compare: --commands and --reps must be at least 1");
        return 2;
    }
    let cfg = Config {
        seed: a.seed,
        commands: a.commands,
        reps: a.reps,
        cross_commands: a.cross_commands,
        latency_commands: a.latency_commands,
        stall: std::time::Duration::from_millis(a.stall_ms.max(1)),
        ..Config::default()
    };
    let command: Vec<String> = std::env::args().collect();
    let command = format!(
        "flowmatch {}",
        command
            .iter()
            .skip(1)
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")
    );
    let report = compare::run(&cfg, command.trim(), &mut |s| eprintln!("[compare] {s}"));
    print!("{}", report.console());
    match report.write(&a.out) {
        Ok(()) => {
            println!("wrote {}/report.json, report.md, throughput.svg, latency.svg, fill-distribution.svg", a.out.display());
            0
        }
        Err(e) => {
            eprintln!("flowmatch compare: cannot write {}: {e}", a.out.display());
            1
        }
    }
}
