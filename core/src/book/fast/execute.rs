//! The matching walk's frame: who the taker is, which level it may trade at, the one fill
//! step every policy uses, and what becomes of the quantity left over.
//!
//! The policies themselves are in [`super::fifo`], [`super::pro_rata`] and [`super::fok`]
//! (the fill-or-kill pre-check), self-trade prevention in [`super::stp`].

use super::slots::{Level, Slot};
use super::FastBook;
use crate::book::pool::Ix;
use crate::command::{Event, EventSink, NewOrder};
use crate::types::{Account, CancelReason, MatchPolicy, OrderId, Price, Qty, Side, Stp, Tif};

/// An order entering the matching walk: a new order, or a resting one re-entering after
/// a replace that lost its priority.
#[derive(Clone, Copy, Debug)]
pub(super) struct Taker {
    pub(super) id: OrderId,
    pub(super) account: Account,
    pub(super) side: Side,
    /// `None` for market orders.
    pub(super) limit: Option<Price>,
    pub(super) qty: Qty,
    pub(super) tif: Tif,
    pub(super) stp: Stp,
}

impl Taker {
    /// A new order entering the walk, with all its terms.
    #[inline(always)]
    pub(super) fn of_new(o: &NewOrder) -> Self {
        Taker {
            id: o.id,
            account: o.account,
            side: o.side,
            limit: o.price,
            qty: o.qty,
            tif: o.tif,
            stp: o.stp,
        }
    }

    /// Resting order `id` (in slot `s`, on `side`) re-entering the walk after a replace
    /// that lost its priority: its account, time in force and STP mode, with the
    /// replace's price and quantity.
    #[inline(always)]
    pub(super) fn requeued(s: &Slot, id: OrderId, side: Side, price: Price, qty: Qty) -> Self {
        Taker {
            id,
            account: s.account,
            side,
            limit: Some(price),
            qty,
            tif: s.tif(),
            stp: s.stp(),
        }
    }
}

/// What the matching walk left of the taker.
pub(super) struct Outcome {
    pub(super) remaining: Qty,
    /// Self-trade prevention stopped the taker (its remainder was already cancelled).
    pub(super) stopped: bool,
}

impl FastBook {
    /// Match an accepted order and cancel an IOC remainder. Returns the price and
    /// quantity that should rest, if any (the caller rests it: a new slot for a new
    /// order, the same slot for a replace).
    #[inline(always)]
    pub(super) fn execute<S: EventSink>(
        &mut self,
        t: &Taker,
        sink: &mut S,
    ) -> Option<(Price, Qty)> {
        let out = match self.cfg.policy {
            MatchPolicy::PriceTime => self.match_fifo(t, sink),
            MatchPolicy::ProRata { top_order } => self.match_pro_rata(t, top_order, sink),
            MatchPolicy::Cme(p) => self.match_cme(t, &p, sink),
        };
        if out.remaining == 0 || out.stopped {
            return None;
        }
        remainder(t.id, t.side, t.tif, t.limit, out.remaining, sink)
    }

    /// The one fill step of every policy: print the trade of `q` between `taker` and the
    /// resting order `si` at `price`, and take `q` off the maker (which leaves the book at
    /// zero). The caller takes `q` off the taker.
    #[inline(always)]
    pub(super) fn fill<S: EventSink>(
        &mut self,
        taker: OrderId,
        si: Ix<Slot>,
        price: Price,
        q: Qty,
        sink: &mut S,
    ) {
        sink.event(Event::Trade {
            taker,
            maker: self.slots[si].id,
            price,
            qty: q,
        });
        self.take(si, q);
    }

    /// The opposite side's best level, if a taker of `side` with this limit may trade
    /// there (market orders accept any price).
    #[inline(always)]
    pub(super) fn eligible_level(
        &self,
        side: Side,
        limit: Option<Price>,
    ) -> Option<(Ix<Level>, Price)> {
        let li = self.best_level(side.opposite())?;
        let price = self.levels[li].price;
        match limit {
            Some(l) if !side.accepts(l, price) => None,
            _ => Some((li, price)),
        }
    }

    /// Would a `side` order at `price` meet the opposite best?
    #[inline]
    pub(super) fn would_cross(&self, side: Side, price: Price) -> bool {
        match self.best_level(side.opposite()) {
            Some(li) => side.accepts(price, self.levels[li].price),
            None => false,
        }
    }
}

/// What becomes of `qty` an order did not fill: a GTC or post-only limit rests it (the
/// caller does, given the price and quantity returned); anything else cancels it — FOK as a
/// whole (only reached when nothing could trade), IOC and market remainders as `Ioc`.
#[inline(always)]
pub(super) fn remainder<S: EventSink>(
    id: OrderId,
    side: Side,
    tif: Tif,
    limit: Option<Price>,
    qty: Qty,
    sink: &mut S,
) -> Option<(Price, Qty)> {
    match (tif, limit) {
        (Tif::Gtc | Tif::Post, Some(price)) => Some((price, qty)),
        _ => {
            let reason = if tif == Tif::Fok {
                CancelReason::Fok
            } else {
                CancelReason::Ioc
            };
            sink.event(Event::Cancel {
                id,
                qty,
                reason,
                side,
                price: limit,
            });
            None
        }
    }
}
