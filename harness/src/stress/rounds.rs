//! What each round of `flowmatch stress` runs under: the matching policy (price-time,
//! pro-rata, pro-rata with top order, and the CME allocation family), the replace priority
//! mode, and whether self-trade prevention compares beneficial owners (account groups) or
//! single accounts. The axes are cycled with coprime periods (7 policies, 2 replace modes,
//! groups every third round), so 42 consecutive rounds run every combination once.
//!
//! A round's [`RoundSetup`] also knows the `flowmatch replay` flags that rebuild its book
//! configuration, so a reproducer replays under exactly the rules that failed.
//!
//! Under a book mutant the CME policies and the account groups are left out: the mutant
//! book (a copy of the reference with switches, `stress::mutants`) shares a CME level as
//! plain pro-rata and compares single accounts for STP, so such a round would "catch"
//! every mutant for a reason no switch is responsible for. The replace modes are kept
//! (the mutant book follows the configured mode).

use flowmatch_core::allocation::{Algorithm, AllocationParams, CmePolicy, Lmm};
use flowmatch_core::book::AccountGroups;
use flowmatch_core::{BookConfig, MatchPolicy, ReplacePriority};
use std::fmt::Write as _;
use std::path::Path;

/// The policies the single-engine rounds cycle through, by their `--policy` names.
pub const POLICY_NAMES: [&str; 7] = [
    "price-time",
    "pro-rata",
    "pro-rata-top",
    "cme:A",
    "cme:K",
    "cme:Q",
    "cme:S",
];

/// Policies a book mutant's rounds cycle through (the ones the mutant copy implements).
const MUTANT_POLICIES: usize = 3;

/// The replace priority modes, by their `--replace-priority` names.
pub const REPLACE_MODES: [(&str, ReplacePriority); 2] = [
    ("keep-if-reduced", ReplacePriority::KeepIfReduced),
    ("always-requeue", ReplacePriority::AlwaysRequeue),
];

/// The account groups of a group round: accounts 1 and 2 (of the streams' 1..=4) are one
/// owner, so STP fires between them only under groups; 3 and 4 stay their own owners.
pub const GROUPS: [(u32, u32); 2] = [(1, 7), (2, 7)];

/// The LMM accounts of the CME rounds and their percentages.
pub const LMMS: [(u32, u8); 2] = [(3, 20), (1, 10)];
/// CME TOP minimum of the CME rounds (most stream orders are 1..=20).
pub const TOP_MIN: u64 = 5;
/// CME TOP maximum.
pub const TOP_MAX: u64 = 12;
/// CME pro-rata minimum: shares below it fall to the FIFO step.
pub const PRO_RATA_MIN: u64 = 3;
/// cme:K's FIFO percentage of the split (leveling is on too).
pub const SPLIT_FIFO_PERCENT: u8 = 40;

/// The CME parameters of the CME rounds: TOP with a minimum and a maximum, two LMMs, a
/// pro-rata minimum, and (used by K) a split with leveling, so every step of A, K, Q and
/// S has something to do on the streams' sizes.
pub fn cme_params() -> AllocationParams {
    let mut p = AllocationParams {
        top_min: TOP_MIN,
        top_max: TOP_MAX,
        pro_rata_min: PRO_RATA_MIN,
        split_fifo_percent: SPLIT_FIFO_PERCENT,
        leveling: true,
        ..AllocationParams::default()
    };
    for (account, percent) in LMMS {
        p.push_lmm(Lmm { account, percent })
            .expect("two LMMs fit in eight");
    }
    p
}

fn policy(name: &str) -> MatchPolicy {
    let cme = |a| MatchPolicy::Cme(CmePolicy::new(a, cme_params()).expect("params in range"));
    match name {
        "pro-rata" => MatchPolicy::ProRata { top_order: false },
        "pro-rata-top" => MatchPolicy::ProRata { top_order: true },
        "cme:A" => cme(Algorithm::A),
        "cme:K" => cme(Algorithm::K),
        "cme:Q" => cme(Algorithm::Q),
        "cme:S" => cme(Algorithm::S),
        _ => MatchPolicy::PriceTime,
    }
}

/// One round's rules.
#[derive(Clone, Debug)]
pub struct RoundSetup {
    /// The book configuration (policy and replace priority mode included).
    pub book: BookConfig,
    /// The policy's `--policy` name.
    pub policy: &'static str,
    /// The replace mode's `--replace-priority` name.
    pub replace: &'static str,
    /// The account groups (empty: STP compares accounts).
    pub groups: AccountGroups,
}

impl RoundSetup {
    /// `on` when the round's books judge STP by account groups, else `off`.
    pub fn groups_label(&self) -> &'static str {
        if self.groups.is_empty() {
            "off"
        } else {
            "on"
        }
    }

    /// The setup of single-engine round `round`; `book_mutant` restricts the policies to
    /// the ones the mutant book implements (see the module docs).
    pub fn of(round: usize, book_mutant: bool) -> Self {
        let n = if book_mutant {
            MUTANT_POLICIES
        } else {
            POLICY_NAMES.len()
        };
        let name = POLICY_NAMES[round % n];
        let (replace, mode) = REPLACE_MODES[round % REPLACE_MODES.len()];
        let groups = match round % 3 == 2 && !book_mutant {
            true => AccountGroups::from_pairs(GROUPS).expect("each account once"),
            false => AccountGroups::new(),
        };
        RoundSetup {
            book: BookConfig {
                policy: policy(name),
                replace_priority: mode,
                capacity: 1 << 12,
                ..BookConfig::default()
            },
            policy: name,
            replace,
            groups,
        }
    }

    /// True when the journal's settings file can state these rules, so the recovery
    /// check can run: not a CME policy (the file names it without its parameters) nor
    /// account groups (it has no account table).
    pub fn journal_can_state(&self) -> bool {
        !matches!(self.book.policy, MatchPolicy::Cme(_)) && self.groups.is_empty()
    }

    /// The STP axis's coverage name: `stp-groups/on` or `stp-groups/off`.
    pub fn groups_rule(&self) -> &'static str {
        match self.groups.is_empty() {
            true => "stp-groups/off",
            false => "stp-groups/on",
        }
    }

    /// The `flowmatch replay` flags that rebuild this configuration; `accounts` is where
    /// [`RoundSetup::accounts_csv`] is written when the round has groups.
    pub fn replay_flags(&self, accounts: &Path) -> String {
        let mut s = format!(
            "--policy {} --replace-priority {}",
            self.policy, self.replace
        );
        if let MatchPolicy::Cme(_) = self.book.policy {
            let _ = write!(
                s,
                " --top-min {TOP_MIN} --top-max {TOP_MAX} --pro-rata-min {PRO_RATA_MIN}"
            );
            for (a, p) in LMMS {
                let _ = write!(s, " --lmm {a}:{p}");
            }
            let _ = write!(s, " --split-fifo-percent {SPLIT_FIFO_PERCENT} --leveling");
        }
        if !self.groups.is_empty() {
            let _ = write!(s, " --accounts {}", accounts.display());
        }
        s
    }

    /// The account table in `flowmatch replay --accounts` format, if the round has groups.
    pub fn accounts_csv(&self) -> Option<String> {
        if self.groups.is_empty() {
            return None;
        }
        let mut s = String::from("account,group\n");
        for (a, g) in self.groups.pairs() {
            let _ = writeln!(s, "{a},{g}");
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// 42 rounds run every (policy, replace mode, groups) combination once; a mutant's 6
    /// rounds every (non-CME policy, replace mode) pair, none of them CME or grouped.
    #[test]
    fn the_axes_cover_every_combination() {
        let combos: BTreeSet<_> = (0..42)
            .map(|r| {
                let s = RoundSetup::of(r, false);
                (s.policy, s.replace, s.groups.is_empty())
            })
            .collect();
        assert_eq!(combos.len(), 7 * 2 * 2);
        let mutant: BTreeSet<_> = (0..6)
            .map(|r| {
                let s = RoundSetup::of(r, true);
                assert!(!matches!(s.book.policy, MatchPolicy::Cme(_)));
                assert!(s.groups.is_empty());
                (s.policy, s.replace)
            })
            .collect();
        assert_eq!(mutant.len(), 3 * 2);
    }
}
