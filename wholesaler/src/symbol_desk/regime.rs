//! The Regulation NMS regime a day runs under: the minimum quoting increment (Rule 612)
//! and the access-fee cap (Rule 610), before and after the SEC's September 2024
//! amendments (Release 34-101070; compliance date November 3, 2025).
//!
//! - `2023`: every stock priced at $1 or more quotes in whole cents; the access-fee cap is
//!   30 mils ($0.003) per share.
//! - `2025`: a *tick-constrained* stock (time-weighted average quoted spread at most
//!   $0.015 over the evaluation period) quotes in half-pennies, every other stock in whole
//!   cents; the access-fee cap is 10 mils ($0.001) per share for every stock at $1 or more.
//!
//! Prices are ticks of $0.0001 ([`TICKS_PER_CENT`] = 100), so a fee in mils per share is
//! the same number of ticks per share.

use crate::quote::TICKS_PER_CENT;
use flowmatch_core::Price;

/// A Regulation NMS regime.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Regime {
    /// Before the 2024 amendments: 1-cent tick, 30-mil access-fee cap.
    R2023,
    /// After them: half-penny tick for tick-constrained stocks, 10-mil access-fee cap.
    R2025,
}

/// Largest time-weighted average quoted spread (ticks of $0.0001) of a tick-constrained
/// stock: $0.015.
pub const TICK_CONSTRAINED_MAX_TWAQS: Price = 3 * TICKS_PER_CENT / 2;

impl Regime {
    /// Both regimes, oldest first.
    pub const ALL: [Regime; 2] = [Regime::R2023, Regime::R2025];

    /// Parses `2023` or `2025`.
    pub fn parse(s: &str) -> Option<Regime> {
        match s {
            "2023" => Some(Regime::R2023),
            "2025" => Some(Regime::R2025),
            _ => None,
        }
    }

    /// `"2023"` or `"2025"`.
    pub fn name(self) -> &'static str {
        match self {
            Regime::R2023 => "2023",
            Regime::R2025 => "2025",
        }
    }

    /// Minimum quoting increment (ticks of $0.0001) of a stock, given whether it is
    /// tick-constrained.
    pub fn tick(self, tick_constrained: bool) -> Price {
        match (self, tick_constrained) {
            (Regime::R2025, true) => TICKS_PER_CENT / 2,
            _ => TICKS_PER_CENT,
        }
    }

    /// Access-fee cap, mils ($0.0001) per share, which is also ticks per share.
    pub fn access_fee_mils(self) -> Price {
        match self {
            Regime::R2023 => 30,
            Regime::R2025 => 10,
        }
    }
}

/// Whether a time-weighted average quoted spread (ticks) makes a stock tick-constrained.
pub fn is_tick_constrained(twaqs_ticks: f64) -> bool {
    twaqs_ticks <= TICK_CONSTRAINED_MAX_TWAQS as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-checked against the rule text: 1 cent = 100 ticks, half a penny = 50 ticks,
    /// 30 mils = $0.003 = 30 ticks, 10 mils = $0.001 = 10 ticks; $0.015 = 150 ticks.
    #[test]
    fn regimes_as_the_rule_text_states_them() {
        assert_eq!(Regime::R2023.tick(true), 100);
        assert_eq!(Regime::R2023.tick(false), 100);
        assert_eq!(Regime::R2025.tick(true), 50);
        assert_eq!(Regime::R2025.tick(false), 100);
        assert_eq!(Regime::R2023.access_fee_mils(), 30);
        assert_eq!(Regime::R2025.access_fee_mils(), 10);
        assert!(is_tick_constrained(150.0));
        assert!(!is_tick_constrained(150.5));
        assert_eq!(Regime::parse("2025"), Some(Regime::R2025));
        assert_eq!(Regime::parse("2024"), None);
        for r in Regime::ALL {
            assert_eq!(Regime::parse(r.name()), Some(r));
        }
    }
}
