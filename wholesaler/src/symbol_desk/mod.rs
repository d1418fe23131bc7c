//! The wholesaler's per-symbol desk for a cross-section of stocks: how it prices its own
//! executions ([`Quoting`]), what it pays brokers for their flow ([`Pfof`]), when it routes
//! an order out instead of filling it ([`Routing`]), and the state it keeps per symbol
//! ([`SymbolDesk`]: inventory against a limit, and a running order imbalance).
//!
//! It is separate from the [`Internalizer`](crate::Internalizer), which handles one
//! symbol's orders over a resting internal book (agency crosses, collar, hedging): a
//! cross-section of hundreds of symbols holds no resting customer orders at the
//! wholesaler (non-marketable limits go to the exchanges), so a book per symbol would be
//! hundreds of idle books; what the desk needs per symbol is two integers and a limit.
//!
//! Quantities are **micro-shares** ([`MICRO`] per share), so fractional-share orders are
//! exact; prices are ticks of $0.0001. A fractional part is always filled by the
//! wholesaler as principal: only whole shares are ever routed ([`Decision::routed`] is a
//! multiple of [`MICRO`]).

pub mod regime;

use crate::quote::improvement;
use flowmatch_core::{Price, Side};

pub use regime::{is_tick_constrained, Regime};

/// Micro-shares per share.
pub const MICRO: u64 = 1_000_000;

/// How the wholesaler prices its own (principal) executions: it improves on the NBBO by a
/// fraction of the quoted spread, at least a floor, never past the midpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quoting {
    /// Improvement as thousandths of the quoted spread (0..=500).
    pub fraction_permille: u32,
    /// Smallest improvement, ticks of $0.0001 (held below half the spread).
    pub floor_ticks: Price,
}

impl Quoting {
    /// Price improvement (ticks) on a quoted spread of `spread` ticks:
    /// `max(spread * fraction, floor)`, rounded down to a tick, at most half the spread.
    pub fn improvement(&self, spread: Price) -> Price {
        improvement(spread, self.fraction_permille)
            .max(self.floor_ticks)
            .min(spread.max(0) / 2)
    }
}

/// A broker's payment-for-order-flow rule (Rule 606 reports state one of the two forms).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pfof {
    /// A fixed amount per share, in ticks of $0.0001 per share (numerically cents per 100
    /// shares).
    PerShare(Price),
    /// A fixed fraction of the quoted spread, thousandths.
    SpreadFraction(u32),
}

impl Pfof {
    /// Payment (units of $0.0001 x micro-share) for `qty` micro-shares executed on a
    /// quoted spread of `spread` ticks.
    pub fn payment(&self, qty: u64, spread: Price) -> i128 {
        match *self {
            Pfof::PerShare(t) => t as i128 * qty as i128,
            Pfof::SpreadFraction(pm) => spread.max(0) as i128 * pm as i128 * qty as i128 / 1000,
        }
    }
}

/// When the wholesaler sends a marketable order's whole shares to an exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Routing {
    /// Route when the order's whole shares exceed this many thousandths of the displayed
    /// size at the far touch (a large order relative to depth).
    pub depth_permille: u64,
    /// Route when the running imbalance on the order's side exceeds this (thousandths,
    /// 0..=1000): the order joins a one-sided run.
    pub imbalance_permille: i64,
    /// Weight of each new order in the running imbalance, thousandths (1..=1000).
    pub imbalance_alpha_permille: i64,
}

/// Why whole shares were routed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteWhy {
    /// The order is large against the displayed depth.
    Size,
    /// The order is on the side of a one-sided run.
    Imbalance,
    /// Filling it would take the inventory past the symbol's limit.
    Inventory,
}

impl RouteWhy {
    /// Every reason, in report order.
    pub const ALL: [RouteWhy; 3] = [RouteWhy::Size, RouteWhy::Imbalance, RouteWhy::Inventory];
    /// Report name.
    pub fn name(self) -> &'static str {
        match self {
            RouteWhy::Size => "size_vs_depth",
            RouteWhy::Imbalance => "imbalance",
            RouteWhy::Inventory => "inventory_limit",
        }
    }
}

/// What the desk does with one marketable order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Micro-shares the wholesaler fills as principal (includes any fractional part).
    pub principal: u64,
    /// Price of the principal fill (ticks).
    pub price: Price,
    /// Micro-shares routed out: always whole shares.
    pub routed: u64,
    /// Why `routed` is non-zero.
    pub why: Option<RouteWhy>,
}

/// One symbol's desk state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SymbolDesk {
    /// Signed inventory, micro-shares (positive: long).
    pub inventory: i64,
    /// Running order imbalance, thousandths (+1000: all buys).
    pub imbalance: i64,
    /// Largest absolute inventory from whole-share fills, micro-shares (a multiple of
    /// [`MICRO`]); fractional parts may add less than one share.
    pub limit: u64,
}

impl SymbolDesk {
    /// A flat desk with an inventory limit of `limit_shares` whole shares.
    pub fn new(limit_shares: u64) -> SymbolDesk {
        SymbolDesk {
            inventory: 0,
            imbalance: 0,
            limit: limit_shares.saturating_mul(MICRO),
        }
    }

    /// Handles a marketable order for `qty` micro-shares on `side` (the customer's) at
    /// the NBBO `bid`/`ask`, with `far_depth` whole shares displayed at the far touch.
    #[allow(clippy::too_many_arguments)]
    pub fn handle(
        &mut self,
        q: &Quoting,
        r: &Routing,
        side: Side,
        qty: u64,
        bid: Price,
        ask: Price,
        far_depth: u64,
    ) -> Decision {
        let imp = q.improvement(ask - bid);
        let (price, sign) = match side {
            Side::Buy => (ask - imp, 1i64),
            Side::Sell => (bid + imp, -1i64),
        };
        let frac = qty % MICRO;
        let whole = qty - frac;
        let mut why = None;
        let mut take = whole;
        if whole / MICRO * 1000 > far_depth.saturating_mul(r.depth_permille) {
            why = Some(RouteWhy::Size);
            take = 0;
        } else if sign * self.imbalance > r.imbalance_permille {
            why = Some(RouteWhy::Imbalance);
            take = 0;
        } else {
            // The customer buys: the wholesaler sells, inventory falls.
            let after = self.inventory - sign * whole as i64;
            if after.unsigned_abs() > self.limit {
                // Room on this side, in whole shares.
                let room = (self.limit as i64 + sign * self.inventory).max(0) as u64;
                take = room.min(whole) / MICRO * MICRO;
                why = Some(RouteWhy::Inventory);
            }
        }
        let principal = take + frac;
        self.inventory -= sign * principal as i64;
        let a = r.imbalance_alpha_permille;
        self.imbalance += (sign * 1000 - self.imbalance) * a / 1000;
        Decision {
            principal,
            price,
            routed: whole - take,
            why,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: Quoting = Quoting {
        fraction_permille: 270,
        floor_ticks: 10,
    };
    const R: Routing = Routing {
        depth_permille: 500,
        imbalance_permille: 600,
        imbalance_alpha_permille: 100,
    };

    #[test]
    fn improvement_is_a_fraction_with_a_floor_below_the_mid() {
        assert_eq!(Q.improvement(100), 27); // 1 cent: 0.27 cents
        assert_eq!(Q.improvement(50), 13); // half a penny: 13.5 rounded down
        assert_eq!(Q.improvement(30), 10); // the floor
        assert_eq!(Q.improvement(12), 6); // never past the midpoint
        assert_eq!(Q.improvement(1000), 270);
    }

    #[test]
    fn pfof_rules() {
        assert_eq!(
            Pfof::PerShare(12).payment(100 * MICRO, 100),
            1200 * MICRO as i128
        );
        // 10% of a 2-cent spread on 100 shares: 20 ticks/share.
        assert_eq!(
            Pfof::SpreadFraction(100).payment(100 * MICRO, 200),
            2000 * MICRO as i128
        );
    }

    #[test]
    fn fractions_are_never_routed() {
        let mut d = SymbolDesk::new(1_000);
        // 2,000.5 shares against 1,000 displayed: the whole shares go out, the half stays.
        let x = d.handle(
            &Q,
            &R,
            Side::Buy,
            2_000 * MICRO + MICRO / 2,
            10_000,
            10_100,
            1_000,
        );
        assert_eq!(x.routed, 2_000 * MICRO);
        assert_eq!(x.principal, MICRO / 2);
        assert_eq!(x.why, Some(RouteWhy::Size));
        assert_eq!(x.price, 10_100 - 27);
        assert_eq!(d.inventory, -(MICRO as i64) / 2);
    }

    #[test]
    fn inventory_limit_fills_up_to_the_room_in_whole_shares() {
        let mut d = SymbolDesk::new(100);
        let x = d.handle(&Q, &R, Side::Sell, 80 * MICRO, 10_000, 10_100, 10_000);
        assert_eq!((x.principal, x.routed, x.why), (80 * MICRO, 0, None));
        assert_eq!(x.price, 10_027);
        let x = d.handle(&Q, &R, Side::Sell, 50 * MICRO + 3, 10_000, 10_100, 10_000);
        assert_eq!(x.principal, 20 * MICRO + 3);
        assert_eq!(x.routed, 30 * MICRO);
        assert_eq!(x.why, Some(RouteWhy::Inventory));
        assert_eq!(d.inventory, 100 * MICRO as i64 + 3);
    }

    #[test]
    fn a_one_sided_run_is_routed() {
        let mut d = SymbolDesk::new(1_000_000);
        let mut routed_at = None;
        for i in 0..20 {
            let x = d.handle(&Q, &R, Side::Buy, MICRO, 10_000, 10_100, 10_000);
            if x.why == Some(RouteWhy::Imbalance) {
                routed_at.get_or_insert(i);
            }
        }
        // 1000 * (1 - 0.9^n) > 600 first after n = 9 buys: the 10th is routed.
        assert_eq!(routed_at, Some(9));
    }
}
