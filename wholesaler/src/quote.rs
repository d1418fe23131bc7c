//! Retail prices: the tick the wholesaler prices in, the national best bid and offer
//! (NBBO) it prices against, and the price improvement it gives on principal fills.
//!
//! Internal prices need sub-penny resolution (price improvement of a fraction of a cent),
//! while the NBBO moves in whole cents, so retail work uses **1 tick = $0.0001**: one cent
//! is [`TICKS_PER_CENT`] = 100 ticks. Nothing here converts a price to floating point.

use flowmatch_core::{Price, Qty, Side};

/// Ticks per US cent when flowmatch prices retail flow (1 tick = $0.0001).
pub const TICKS_PER_CENT: Price = 100;

/// The national best bid and offer with the displayed size at each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quote {
    /// Best bid price.
    pub bid: Price,
    /// Best offer (ask) price.
    pub ask: Price,
    /// Displayed size at the bid.
    pub bid_size: Qty,
    /// Displayed size at the offer.
    pub ask_size: Qty,
}

impl Quote {
    /// The NBBO price on `side` of the market (buy: bid, sell: ask).
    #[inline]
    pub fn price(&self, side: Side) -> Price {
        match side {
            Side::Buy => self.bid,
            Side::Sell => self.ask,
        }
    }

    /// The price a taker of `side` pays or receives at the NBBO (buy: ask, sell: bid).
    #[inline]
    pub fn far(&self, taker: Side) -> Price {
        self.price(taker.opposite())
    }

    /// Quoted spread in ticks (saturating: quotes near the `i64` limits cannot overflow).
    #[inline]
    pub fn spread(&self) -> Price {
        self.ask.saturating_sub(self.bid)
    }

    /// A two-sided, uncrossed, unlocked quote.
    #[inline]
    pub fn is_valid(&self) -> bool {
        self.bid < self.ask
    }
}

/// Price improvement in ticks for a quoted spread: `spread * permille / 1000`, rounded down
/// (never past the midpoint since `permille <= 500`). Computed in 128 bits.
#[inline]
pub fn improvement(spread: Price, permille: u32) -> Price {
    let v = (spread.max(0) as i128) * (permille.min(500) as i128) / 1000;
    v as Price
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn improvement_rounds_down_and_stops_at_mid() {
        assert_eq!(improvement(100, 300), 30);
        assert_eq!(improvement(101, 300), 30);
        assert_eq!(improvement(100, 500), 50);
        assert_eq!(improvement(-5, 300), 0);
        assert_eq!(improvement(Price::MAX, 500), Price::MAX / 2);
    }
}
