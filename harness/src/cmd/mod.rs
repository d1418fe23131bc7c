//! One module per `flowmatch` subcommand. Each exposes `Args` (clap) and `run(args)`,
//! returning the process exit code.

pub mod bench;
pub mod cme_args;
pub mod compare;
pub mod journal;
pub use crate::journaled;
pub mod latency;
pub mod numeric;
pub mod recover;
pub mod replay;
pub use crate::instrument_replay as replay_instruments;
pub mod replay_journaled;
pub mod run;
pub mod run_xsection;
pub mod stress;
pub mod surveil;

/// Re-exported for the subcommands that parse `--policy`; the type lives in
/// [`crate::policy`] because scenarios use it too.
pub use crate::policy::PolicyArg;

#[cfg(test)]
mod tests {
    use clap::{Args, FromArgMatches};

    /// The options a command gets when none are given.
    fn defaults<A: Args + FromArgMatches>() -> A {
        let matches = A::augment_args(clap::Command::new("t"))
            .try_get_matches_from(["t"])
            .expect("every option has a default");
        A::from_arg_matches(&matches).expect("defaults parse")
    }

    /// No command writes into the repository's tracked results unless told to: the
    /// defaults land under `flowmatch-out/`, which `.gitignore` lists.
    #[test]
    fn no_command_writes_into_bench_results_by_default() {
        let latency: super::latency::Args = defaults();
        let compare: super::compare::Args = defaults();
        for out in [latency.out, compare.out] {
            assert!(out.starts_with("flowmatch-out"), "{}", out.display());
        }
        let ignore = include_str!("../../../.gitignore");
        assert!(ignore.lines().any(|l| l.trim() == "/flowmatch-out/"));
    }
}
