//! The matching policy as the command line and scenario files name it (`price-time`,
//! `pro-rata`, `pro-rata-top`, and the CME Globex algorithms `cme:A` … `cme:T`, whose
//! parameters come from [`PolicyArg::policy_with`]): `--policy` of `replay` and `run`, and
//! `wholesaler.matching` in scenario files; and the replace priority mode
//! (`keep-if-reduced`, `always-requeue`) of `replay --replace-priority`.
//!
//! It lives below `cmd/` because scenarios (`retail::scenario`) need it too, and nothing
//! outside `cmd/` may depend on a subcommand module.

use flowmatch_core::allocation::{Algorithm, AllocationParams, CmePolicy};

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
    /// CME Globex A: TOP, Pro Rata, FIFO (`docs/ALLOCATION.md`).
    #[value(name = "cme:A")]
    #[serde(rename = "cme:A")]
    CmeA,
    /// CME Globex C: Pro Rata, FIFO.
    #[value(name = "cme:C")]
    #[serde(rename = "cme:C")]
    CmeC,
    /// CME Globex F: FIFO.
    #[value(name = "cme:F")]
    #[serde(rename = "cme:F")]
    CmeF,
    /// CME Globex K: TOP, LMM, Split FIFO / Pro Rata, Leveling, FIFO.
    #[value(name = "cme:K")]
    #[serde(rename = "cme:K")]
    CmeK,
    /// CME Globex O: threshold pro rata (TOP with minimum / maximum), FIFO.
    #[value(name = "cme:O")]
    #[serde(rename = "cme:O")]
    CmeO,
    /// CME Globex Q: TOP, LMM, Pro Rata, FIFO.
    #[value(name = "cme:Q")]
    #[serde(rename = "cme:Q")]
    CmeQ,
    /// CME Globex S: TOP, LMM, FIFO.
    #[value(name = "cme:S")]
    #[serde(rename = "cme:S")]
    CmeS,
    /// CME Globex T: LMM, FIFO.
    #[value(name = "cme:T")]
    #[serde(rename = "cme:T")]
    CmeT,
}

impl PolicyArg {
    /// The core's matching policy.
    pub fn policy(self) -> flowmatch_core::MatchPolicy {
        use flowmatch_core::MatchPolicy;
        match self {
            PolicyArg::PriceTime => MatchPolicy::PriceTime,
            PolicyArg::ProRata => MatchPolicy::ProRata { top_order: false },
            PolicyArg::ProRataTop => MatchPolicy::ProRata { top_order: true },
            cme => MatchPolicy::Cme(CmePolicy::with_defaults(
                cme.algorithm()
                    .expect("every other name is a CME algorithm"),
            )),
        }
    }

    /// The core's matching policy with CME allocation parameters `params`; refused (naming
    /// the field) when a parameter is out of range or `params` is given to a policy that
    /// is not a CME algorithm.
    pub fn policy_with(
        self,
        params: Option<AllocationParams>,
    ) -> Result<flowmatch_core::MatchPolicy, String> {
        match (self.algorithm(), params) {
            (_, None) => Ok(self.policy()),
            (Some(a), Some(p)) => CmePolicy::new(a, p)
                .map(flowmatch_core::MatchPolicy::Cme)
                .map_err(|e| e.to_string()),
            (None, Some(_)) => Err(format!(
                "CME allocation parameters need a cme:* policy, not {}",
                self.name()
            )),
        }
    }

    /// The CME algorithm this name selects, if it is one.
    pub fn algorithm(self) -> Option<Algorithm> {
        Some(match self {
            PolicyArg::PriceTime | PolicyArg::ProRata | PolicyArg::ProRataTop => return None,
            PolicyArg::CmeA => Algorithm::A,
            PolicyArg::CmeC => Algorithm::C,
            PolicyArg::CmeF => Algorithm::F,
            PolicyArg::CmeK => Algorithm::K,
            PolicyArg::CmeO => Algorithm::O,
            PolicyArg::CmeQ => Algorithm::Q,
            PolicyArg::CmeS => Algorithm::S,
            PolicyArg::CmeT => Algorithm::T,
        })
    }

    /// The name of a CME algorithm.
    pub fn from_algorithm(a: Algorithm) -> Self {
        match a {
            Algorithm::A => PolicyArg::CmeA,
            Algorithm::C => PolicyArg::CmeC,
            Algorithm::F => PolicyArg::CmeF,
            Algorithm::K => PolicyArg::CmeK,
            Algorithm::O => PolicyArg::CmeO,
            Algorithm::Q => PolicyArg::CmeQ,
            Algorithm::S => PolicyArg::CmeS,
            Algorithm::T => PolicyArg::CmeT,
        }
    }

    /// The name as written on the command line and in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            PolicyArg::PriceTime => "price-time",
            PolicyArg::ProRata => "pro-rata",
            PolicyArg::ProRataTop => "pro-rata-top",
            PolicyArg::CmeA => "cme:A",
            PolicyArg::CmeC => "cme:C",
            PolicyArg::CmeF => "cme:F",
            PolicyArg::CmeK => "cme:K",
            PolicyArg::CmeO => "cme:O",
            PolicyArg::CmeQ => "cme:Q",
            PolicyArg::CmeS => "cme:S",
            PolicyArg::CmeT => "cme:T",
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
