//! The wholesaler's policy and risk limits ([`Config`], checked field by field before a
//! run) and the running totals it keeps about itself ([`Stats`]).

use crate::quote::TICKS_PER_CENT;
use flowmatch_core::{Account, Price, Qty};

/// The wholesaler's policy and risk limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The wholesaler's own account (never a customer's).
    pub account: Account,
    /// Price improvement on principal fills, in thousandths of the quoted spread
    /// (0..=500: at most to the midpoint).
    pub improvement_permille: u32,
    /// Largest order (total quantity) the wholesaler will fill as principal.
    pub max_autoex_qty: Qty,
    /// Price collar (ticks): no customer fill, internal or routed, more than this beyond
    /// the NBBO in force when the order is handled (buy: above offer + collar; sell: below
    /// bid − collar). Internal fills are at the NBBO or better anyway; the collar limits
    /// routed orders walking the exchange's displayed depth.
    pub collar_ticks: Price,
    /// Widest quoted spread (ticks) at which the wholesaler still fills as principal
    /// (the wide-quote rule); orders arriving on a wider quote are routed (`WideQuote`).
    pub max_autoex_spread_ticks: Price,
    /// Largest absolute inventory (shares) after any principal fill.
    pub max_inventory: Qty,
    /// Absolute inventory above which the excess is hedged on the exchange.
    pub hedge_threshold: Qty,
    /// Absolute inventory a hedge brings the position back to.
    pub hedge_target: Qty,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            account: u32::MAX,
            improvement_permille: 300,
            max_autoex_qty: 500,
            collar_ticks: 5 * TICKS_PER_CENT,
            max_autoex_spread_ticks: 10 * TICKS_PER_CENT,
            max_inventory: 5_000,
            hedge_threshold: 3_000,
            hedge_target: 1_000,
        }
    }
}

impl Config {
    /// Checks the relations between the fields. Returns the offending field's name and why.
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if self.improvement_permille > 500 {
            return Err((
                "improvement_permille",
                "must be at most 500 (improvement beyond the midpoint)",
            ));
        }
        if self.collar_ticks < 0 {
            return Err(("collar_ticks", "must not be negative"));
        }
        if self.max_autoex_spread_ticks <= 0 {
            return Err(("max_autoex_spread_ticks", "must be positive"));
        }
        if self.hedge_target > self.hedge_threshold {
            return Err(("hedge_target", "must not exceed hedge_threshold"));
        }
        if self.hedge_threshold > self.max_inventory {
            return Err(("hedge_threshold", "must not exceed max_inventory"));
        }
        Ok(())
    }
}

/// Running totals the internalizer keeps for itself (cheap counters, no allocation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages handled (orders, cancels, replaces and quotes).
    pub messages: u64,
    /// Shares the wholesaler filled as principal.
    pub principal_shares: u64,
    /// Shares crossed between customers (counted once per cross).
    pub agency_shares: u64,
    /// Shares routed to the exchange.
    pub routed_shares: u64,
    /// Shares the wholesaler traded on the exchange to hedge.
    pub hedged_shares: u64,
    /// Resting orders removed by self-trade prevention.
    pub stp_cancels: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_validation_names_fields() {
        let mut c = Config::default();
        assert!(c.validate().is_ok());
        c.improvement_permille = 501;
        assert_eq!(c.validate().unwrap_err().0, "improvement_permille");
        let mut c = Config::default();
        c.hedge_target = c.hedge_threshold + 1;
        assert_eq!(c.validate().unwrap_err().0, "hedge_target");
        let c = Config {
            max_autoex_spread_ticks: 0,
            ..Config::default()
        };
        assert_eq!(c.validate().unwrap_err().0, "max_autoex_spread_ticks");
        let c = Config {
            collar_ticks: -1,
            ..Config::default()
        };
        assert_eq!(c.validate().unwrap_err().0, "collar_ticks");
    }
}
