//! One module per `flowmatch` subcommand. Each exposes `Args` (clap) and `run(args)`,
//! returning the process exit code.

pub mod compare;
pub mod latency;
pub mod replay;
pub mod run;

/// Re-exported for the subcommands that parse `--policy`; the type lives in
/// [`crate::policy`] because scenarios use it too.
pub use crate::policy::PolicyArg;
