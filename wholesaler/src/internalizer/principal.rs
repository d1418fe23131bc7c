//! The wholesaler's own side of a retail order: the room its inventory limit leaves,
//! principal fills, routing to the exchange under the price collar, and hedging there.

use super::Internalizer;
use crate::message::{CancelReason, Event, FillKind, RouteReason};
use crate::venue::Venue;
use flowmatch_core::{OrderBook, OrderId, Price, Qty, Side, Sink};

impl<B: OrderBook, V: Venue> Internalizer<B, V> {
    /// Shares the wholesaler may still take on the `wholesaler_side` without passing
    /// `max_inventory`.
    #[inline]
    pub(super) fn room(&self, wholesaler_side: Side) -> Qty {
        let max = self.cfg.max_inventory as i128;
        let inv = self.inventory as i128;
        let r = match wholesaler_side {
            Side::Buy => max - inv,
            Side::Sell => max + inv,
        };
        r.max(0) as Qty
    }

    /// The wholesaler takes the other side of `qty` of customer order `id` at `price`.
    pub(super) fn principal_fill<S: Sink<Event>>(
        &mut self,
        id: OrderId,
        customer_side: Side,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) {
        let signed = match customer_side {
            Side::Buy => -(qty as i64),
            Side::Sell => qty as i64,
        };
        self.inventory += signed;
        self.cash -= signed as i128 * price as i128;
        self.stats.principal_shares += qty;
        sink.event(Event::Fill {
            id,
            kind: FillKind::Principal,
            price,
            qty,
            contra: 0,
        });
    }

    /// Route `qty` of customer order `id` to the exchange, no worse than the customer's
    /// `limit` nor than the price collar around the NBBO in force. Reports fills and
    /// cancels the unfilled rest (`Collar` if the collar stopped it short of displayed
    /// depth the customer's limit would have taken, else `NoLiquidity`). Returns the
    /// quantity filled.
    pub(super) fn route<S: Sink<Event>>(
        &mut self,
        id: OrderId,
        side: Side,
        qty: Qty,
        limit: Option<Price>,
        reason: RouteReason,
        sink: &mut S,
    ) -> Qty {
        sink.event(Event::Routed { id, qty, reason });
        self.stats.routed_shares += qty;
        // The collar price: `collar_ticks` beyond the far side of the NBBO (saturating:
        // quotes near the i64 limits cannot overflow). Orders are only handled with a
        // valid quote, so the `None` arm is defensive.
        let collar = self.quote.map(|q| match side {
            Side::Buy => q.ask.saturating_add(self.cfg.collar_ticks),
            Side::Sell => q.bid.saturating_sub(self.cfg.collar_ticks),
        });
        let (eff, collar_binds) = match (limit, collar) {
            (Some(l), Some(c)) if side.accepts(l, c) && l != c => (Some(c), true),
            (None, Some(c)) => (Some(c), true),
            (l, _) => (l, false),
        };
        let filled = self.venue.execute(side, qty, eff, |price, q| {
            sink.event(Event::Fill {
                id,
                kind: FillKind::Exchange,
                price,
                qty: q,
                contra: 0,
            })
        });
        let filled = filled.min(qty);
        if filled < qty {
            let reason = if collar_binds && self.venue.displayed(side, limit) > 0 {
                CancelReason::Collar
            } else {
                CancelReason::NoLiquidity
            };
            sink.event(Event::Cancelled {
                id,
                qty: qty - filled,
                reason,
            });
        }
        filled
    }

    /// Past the hedge threshold, trade the excess over the target on the exchange.
    pub(super) fn hedge_if_needed<S: Sink<Event>>(&mut self, sink: &mut S) {
        let abs = self.inventory.unsigned_abs();
        if abs <= self.cfg.hedge_threshold {
            return;
        }
        let qty = abs - self.cfg.hedge_target;
        let side = if self.inventory > 0 {
            Side::Sell
        } else {
            Side::Buy
        };
        let mut inv = self.inventory;
        let mut cash = self.cash;
        let filled = self.venue.execute(side, qty, None, |price, q| {
            let signed = match side {
                Side::Buy => q as i64,
                Side::Sell => -(q as i64),
            };
            inv += signed;
            cash -= signed as i128 * price as i128;
            sink.event(Event::Hedge {
                side,
                price,
                qty: q,
            });
        });
        self.inventory = inv;
        self.cash = cash;
        self.stats.hedged_shares += filled;
    }
}
