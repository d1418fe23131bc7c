//! One module per `flowmatch` subcommand. Each exposes `Args` (clap) and `run(args)`,
//! returning the process exit code.

pub mod compare;
pub mod latency;
pub mod replay;
pub mod run;

/// How quantity is shared within a price level: `--policy` of `replay` and `run`, and
/// `wholesaler.matching` in scenario files.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyArg {
    /// Price-time (FIFO).
    #[default]
    PriceTime,
    /// Pro-rata by resting size, largest-remainder rounding.
    ProRata,
    /// Pro-rata after a FIFO allocation to the order at the head of the level.
    ProRataTop,
}

impl PolicyArg {
    pub fn policy(self) -> flowmatch_core::MatchPolicy {
        use flowmatch_core::MatchPolicy;
        match self {
            PolicyArg::PriceTime => MatchPolicy::PriceTime,
            PolicyArg::ProRata => MatchPolicy::ProRata { top_order: false },
            PolicyArg::ProRataTop => MatchPolicy::ProRata { top_order: true },
        }
    }
}
