//! The `flowmatch` binary: parses the command line and hands each subcommand to
//! [`flowmatch_harness::cmd`], which owns the work; this file only maps the outcome to an
//! exit status.

use clap::{Parser, Subcommand};
use flowmatch_harness::cmd;
use std::process::ExitCode;

/// What `flowmatch --help` says first (not the crate description, which is for cargo).
const ABOUT: &str = "flowmatch: a low-latency order-matching core (price-time and pro-rata books, \
self-trade prevention, a lock-free ingress and a pinned engine thread) and the lab that \
measures it.";

const LONG_ABOUT: &str = "flowmatch: a low-latency order-matching core (price-time and \
pro-rata books, self-trade prevention, a lock-free ingress and a pinned engine thread) and the \
lab that measures it: replay command files through a book, simulate a day of retail flow \
through a wholesaler, measure latency through the engine thread, and compare the books with \
crates.io matching engines.

`flowmatch <COMMAND> --help` lists each command's options; the README gives the file formats \
and docs/SEMANTICS.md the matching rules.";

#[derive(Parser)]
#[command(name = "flowmatch", version, about = ABOUT, long_about = LONG_ABOUT)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay a command file (or standard input) through a book; print the events and optionally the final book.
    Replay(cmd::replay::Args),
    /// Simulate a day of retail flow through the wholesaler and report execution quality.
    Run(cmd::run::Args),
    /// Our books and crates.io peers side by side: throughput, latency, fills cross-check.
    Compare(cmd::compare::Args),
    /// Measure ingress hop, service and end-to-end latency percentiles and throughput.
    Latency(cmd::latency::Args),
    /// Stress gate for CI: threaded engine, several producers, tiny queues, invariants checked per command; shrunk reproducer on failure.
    Stress(cmd::stress::Args),
    /// Regression gate: per-workload instructions per command (callgrind) or throughput ratio vs a baseline.
    Bench(cmd::bench::Args),
    /// Rebuild the state a journal directory holds (latest snapshot + journal tail); print its state hash.
    Recover(cmd::recover::Args),
    /// Check a journal (`verify`) or print it as replay commands (`dump`).
    Journal(cmd::journal::Args),
    /// Surveillance: flag wash trades, marking the close and layering over a journal or an event file, with an account table.
    Surveil(cmd::surveil::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Replay(a) => cmd::replay::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Compare(a) => cmd::compare::run(a),
        Command::Latency(a) => cmd::latency::run(a),
        Command::Stress(a) => cmd::stress::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Recover(a) => cmd::recover::run(a),
        Command::Journal(a) => cmd::journal::run(a),
        Command::Surveil(a) => cmd::surveil::run(a),
    };
    ExitCode::from(code)
}
