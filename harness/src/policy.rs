//! The matching policy as the command line and scenario files name it (`price-time`,
//! `pro-rata`, `pro-rata-top`): `--policy` of `replay` and `run`, and
//! `wholesaler.matching` in scenario files; and the replace priority mode
//! (`keep-if-reduced`, `always-requeue`) of `replay --replace-priority`.
//!
//! It lives below `cmd/` because scenarios (`retail::scenario`) need it too, and nothing
//! outside `cmd/` may depend on a subcommand module.

/// How quantity is shared within a price level.
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
    /// The core's matching policy.
    pub fn policy(self) -> flowmatch_core::MatchPolicy {
        use flowmatch_core::MatchPolicy;
        match self {
            PolicyArg::PriceTime => MatchPolicy::PriceTime,
            PolicyArg::ProRata => MatchPolicy::ProRata { top_order: false },
            PolicyArg::ProRataTop => MatchPolicy::ProRata { top_order: true },
        }
    }

    /// The name as written on the command line and in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            PolicyArg::PriceTime => "price-time",
            PolicyArg::ProRata => "pro-rata",
            PolicyArg::ProRataTop => "pro-rata-top",
        }
    }
}

/// What a replace does to time priority, as `--replace-priority` of `replay` names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ReplacePriorityArg {
    /// Same price and no more quantity keeps time priority; anything else loses it.
    #[default]
    KeepIfReduced,
    /// Every accepted replace loses time priority.
    AlwaysRequeue,
}

impl ReplacePriorityArg {
    /// The core's replace priority mode.
    pub fn mode(self) -> flowmatch_core::ReplacePriority {
        use flowmatch_core::ReplacePriority;
        match self {
            ReplacePriorityArg::KeepIfReduced => ReplacePriority::KeepIfReduced,
            ReplacePriorityArg::AlwaysRequeue => ReplacePriority::AlwaysRequeue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serde_and_clap_spellings() {
        use clap::ValueEnum;
        for p in PolicyArg::value_variants() {
            let clap_name = p.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(p.name(), clap_name);
            assert_eq!(
                serde_json::to_string(p).unwrap(),
                format!("\"{}\"", p.name())
            );
        }
    }
}
