use clap::{Parser, Subcommand};
use flowmatch_harness::cmd;
use std::process::ExitCode;

/// flowmatch: a low-latency matching core and the lab that measures it.
#[derive(Parser)]
#[command(name = "flowmatch", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay a command file through a book and print the events (and optionally the book).
    Replay(cmd::replay::Args),
    /// Simulate a day of retail flow through the wholesaler and report execution quality.
    Run(cmd::run::Args),
    /// Our books and crates.io peers side by side: throughput, latency, fills cross-check.
    Compare(cmd::compare::Args),
    /// Measure ingress hop, service and end-to-end latency percentiles and throughput.
    Latency(cmd::latency::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Replay(a) => cmd::replay::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Compare(a) => cmd::compare::run(a),
        Command::Latency(a) => cmd::latency::run(a),
    };
    ExitCode::from(code)
}
