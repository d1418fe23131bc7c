//! One module per `flowmatch` subcommand. Each exposes `Args` (clap) and `run(args)`,
//! returning the process exit code.

pub mod compare;
pub mod latency;
pub mod replay;
pub mod run;
