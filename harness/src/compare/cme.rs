//! The CME Globex allocation family in `flowmatch compare`: the eight algorithms (A C F K O
//! Q S T) with the parameters this module documents, and their throughput on every
//! workload's full stream beside our price-time fast book, interleaved in one run.
//!
//! Parameters (one set per algorithm, the published values where docs/ALLOCATION.md names
//! them; every step an algorithm runs has something to do):
//!
//! | algorithm | parameters |
//! |---|---|
//! | A | pro-rata minimum 2, no TOP limits (the published Eurodollar/SOFR setting) |
//! | C | pro-rata minimum 1 |
//! | F | none (FIFO) |
//! | K | LMMs, 40% FIFO split, leveling on, no TOP limits |
//! | O | TOP minimum 10, TOP maximum 100, pro-rata minimum 1 (the threshold example) |
//! | Q | TOP minimum 10, TOP maximum 100, LMMs, pro-rata minimum 1 |
//! | S | LMMs, no TOP limits |
//! | T | LMMs |
//!
//! LMMs: accounts 1 and 2 at 10% each. Every generated workload draws its accounts from a
//! small range starting at 1 (equity: 1..=64), so the LMM step fires on the levels where
//! those accounts rest.
//!
//! Instruction counts per algorithm are not measured here: this machine's virtual CPU
//! exposes no hardware counters (`perf stat -e instructions:u` says `<not supported>`).
//! They come from Callgrind (`cargo bench -p flowmatch-harness --bench instructions --
//! '*cme*'`, the `cme_*_mixed` and `cme_*_10_takers` cases).

use super::driver::{throughput_policy, Pass};
use super::Workload;
use flowmatch_core::allocation::{Algorithm, AllocationParams, CmePolicy, Lmm};
use flowmatch_core::{Command, MatchPolicy};
use serde::Serialize;
use std::fmt::Write as _;

/// The LMM accounts and percentages every LMM-running algorithm here uses.
pub const LMMS: [Lmm; 2] = [
    Lmm {
        account: 1,
        percent: 10,
    },
    Lmm {
        account: 2,
        percent: 10,
    },
];

/// The parameters `compare` runs `algorithm` with (see the module's table).
pub fn params(algorithm: Algorithm) -> AllocationParams {
    let mut p = AllocationParams::default();
    let lmms = |p: &mut AllocationParams| {
        for l in LMMS {
            p.push_lmm(l).expect("two LMMs fit");
        }
    };
    match algorithm {
        Algorithm::A => p.pro_rata_min = 2,
        Algorithm::K => {
            lmms(&mut p);
            p.split_fifo_percent = 40;
            p.leveling = true;
        }
        Algorithm::O => {
            p.top_min = 10;
            p.top_max = 100;
        }
        Algorithm::Q => {
            p.top_min = 10;
            p.top_max = 100;
            lmms(&mut p);
        }
        Algorithm::S | Algorithm::T => lmms(&mut p),
        _ => {}
    }
    p
}

/// The policy of `algorithm` with [`params`].
pub fn policy(algorithm: Algorithm) -> MatchPolicy {
    MatchPolicy::Cme(CmePolicy::new(algorithm, params(algorithm)).expect("parameters in range"))
}

/// `cme:A` … `cme:T`.
pub fn name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::A => "cme:A",
        Algorithm::C => "cme:C",
        Algorithm::F => "cme:F",
        Algorithm::K => "cme:K",
        Algorithm::O => "cme:O",
        Algorithm::Q => "cme:Q",
        Algorithm::S => "cme:S",
        _ => "cme:T",
    }
}

/// A one-line description of the parameters, for the report.
pub fn describe(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::A => "TOP, Pro Rata (min 2), FIFO",
        Algorithm::C => "Pro Rata (min 1), FIFO",
        Algorithm::F => "FIFO",
        Algorithm::K => {
            "TOP, LMM (acct 1, 2: 10% each), Split 40% FIFO / 60% Pro Rata, Leveling, FIFO"
        }
        Algorithm::O => "TOP (min 10, max 100), Pro Rata (min 1), FIFO",
        Algorithm::Q => "TOP (min 10, max 100), LMM (acct 1, 2: 10% each), Pro Rata (min 1), FIFO",
        Algorithm::S => "TOP, LMM (acct 1, 2: 10% each), FIFO",
        _ => "LMM (acct 1, 2: 10% each), FIFO",
    }
}

/// The matchers of the CME throughput table: our price-time fast book (the baseline of
/// every ratio), then the eight algorithms.
pub fn matchers() -> Vec<(&'static str, MatchPolicy)> {
    std::iter::once(("fast", MatchPolicy::PriceTime))
        .chain(Algorithm::ALL.into_iter().map(|a| (name(a), policy(a))))
        .collect()
}

/// One algorithm on one workload.
#[derive(Clone, Debug, Serialize)]
pub struct CmeCell {
    pub workload: &'static str,
    pub matcher: &'static str,
    /// Millions of commands per second: median, min, max over the repetitions.
    pub median_mcps: f64,
    pub min_mcps: f64,
    pub max_mcps: f64,
    /// Median / the price-time fast book's median on the same stream, same run.
    pub ratio_to_fast: f64,
    /// Nanoseconds per command at the median.
    pub median_ns_per_command: f64,
    pub runs_mcps: Vec<f64>,
    pub fills: u64,
}

/// The CME section of the report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CmeSection {
    /// `(algorithm, parameters)` in report order.
    pub algorithms: Vec<(&'static str, &'static str)>,
    pub cells: Vec<CmeCell>,
    pub notes: Vec<String>,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// Time every matcher of [`matchers`] on each stream, `reps` interleaved repetitions
/// (rep 1: fast, cme:A, …, cme:T; rep 2: …).
pub fn run(streams: &[(Workload, &[Command])], reps: usize) -> CmeSection {
    let ms = matchers();
    let mut cells = Vec::new();
    for &(w, cmds) in streams {
        let mut runs = vec![Vec::new(); ms.len()];
        let mut fills = vec![0u64; ms.len()];
        for _ in 0..reps.max(1) {
            for (k, &(_, p)) in ms.iter().enumerate() {
                let pass: Pass = throughput_policy(p, cmds);
                runs[k].push(pass.commands_per_sec() / 1e6);
                fills[k] = pass.fills;
            }
        }
        let base = median(&runs[0]);
        for (k, &(m, _)) in ms.iter().enumerate() {
            let med = median(&runs[k]);
            cells.push(CmeCell {
                workload: w.name(),
                matcher: m,
                median_mcps: med,
                min_mcps: runs[k].iter().copied().fold(f64::INFINITY, f64::min),
                max_mcps: runs[k].iter().copied().fold(0.0, f64::max),
                ratio_to_fast: med / base.max(1e-12),
                median_ns_per_command: 1e3 / med.max(1e-12),
                runs_mcps: runs[k].clone(),
                fills: fills[k],
            });
        }
    }
    CmeSection {
        algorithms: Algorithm::ALL
            .into_iter()
            .map(|a| (name(a), describe(a)))
            .collect(),
        cells,
        notes: vec![
            "CME family: our fast book under each CME algorithm on each workload's full stream (not restricted to the peers' common subset), repetitions interleaved with the price-time fast book, which is the baseline of the ratio.".into(),
            "Instructions per command per algorithm are not measured by compare (this VM exposes no hardware counters); they are Callgrind's: cargo bench -p flowmatch-harness --bench instructions -- '*cme*'.".into(),
        ],
    }
}

impl CmeSection {
    /// The markdown section.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        if self.cells.is_empty() {
            return s;
        }
        let _ = writeln!(s, "\n## CME Globex allocation family (fast book)\n");
        let _ = writeln!(s, "| algorithm | steps and parameters |\n|---|---|");
        for (a, d) in &self.algorithms {
            let _ = writeln!(s, "| {a} | {d} |");
        }
        let _ = writeln!(s, "\nThroughput, M commands/s, median [min–max], ratio to price-time `fast` in the same interleaved run; full streams.\n");
        let ms: Vec<&str> = {
            let mut v: Vec<&str> = Vec::new();
            for c in &self.cells {
                if !v.contains(&c.matcher) {
                    v.push(c.matcher);
                }
            }
            v
        };
        let _ = writeln!(s, "| workload | {} |", ms.join(" | "));
        let _ = writeln!(s, "|---|{}", "---|".repeat(ms.len()));
        let mut ws: Vec<&str> = Vec::new();
        for c in &self.cells {
            if !ws.contains(&c.workload) {
                ws.push(c.workload);
            }
        }
        for w in ws {
            let row: Vec<String> = ms
                .iter()
                .map(|m| {
                    self.cells
                        .iter()
                        .find(|c| c.workload == w && c.matcher == *m)
                        .map(|c| {
                            format!(
                                "{:.2} [{:.2}–{:.2}] {:.2}×",
                                c.median_mcps, c.min_mcps, c.max_mcps, c.ratio_to_fast
                            )
                        })
                        .unwrap_or_default()
                })
                .collect();
            let _ = writeln!(s, "| {w} | {} |", row.join(" | "));
        }
        for n in &self.notes {
            let _ = writeln!(s, "\n{n}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_has_valid_parameters_and_its_own_name() {
        let mut names = Vec::new();
        for a in Algorithm::ALL {
            params(a).validate().expect("in range");
            assert_eq!(name(a), format!("cme:{}", a.letter()));
            names.push(name(a));
        }
        names.dedup();
        assert_eq!(names.len(), 8);
        // The LMM-running algorithms list the two LMMs; the others none.
        for (a, lmms) in [
            (Algorithm::A, 0),
            (Algorithm::C, 0),
            (Algorithm::F, 0),
            (Algorithm::K, 2),
            (Algorithm::O, 0),
            (Algorithm::Q, 2),
            (Algorithm::S, 2),
            (Algorithm::T, 2),
        ] {
            assert_eq!(params(a).lmms().len(), lmms, "{a:?}");
        }
    }
}
