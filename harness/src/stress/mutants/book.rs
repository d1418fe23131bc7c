//! The mutant book: a copy of the core's reference book (`core/src/book/reference/`) with
//! switches that break one rule each, so `flowmatch stress --mutant NAME` can show that the
//! gate catches real bugs. The core's books are never touched; with no switch set this
//! book behaves exactly like the reference (the tests hold it to that).
//!
//! Unlike the reference it keeps a running aggregate of open quantity per level (as the
//! fast book does), reports it through `for_each_level` and uses it in the fill-or-kill
//! simulation, so a stale aggregate is a bug with consequences, as it would be in a real
//! book.

use super::BookMutant;
use flowmatch_core::{
    Account, BookConfig, CancelReason, Event, EventSink, NewOrder, OrdType, OrderId, Price, Qty,
    RejectReason, Side, Stp, Tif,
};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// A cancel event (one place builds them, so a change of the event's shape is one edit).
/// `price` is the order's limit (`None` for a market order), as the contract says.
pub(super) fn cancel_event(
    id: OrderId,
    qty: Qty,
    reason: CancelReason,
    side: Side,
    price: Option<Price>,
) -> Event {
    Event::Cancel {
        id,
        qty,
        reason,
        side,
        price,
    }
}
/// A resting order. Everything the spec needs to re-enter it on a replace is kept:
/// account, side, time in force (for the post-only check) and STP mode.
#[derive(Clone, Copy, Debug)]
pub(super) struct Order {
    pub(super) id: OrderId,
    pub(super) account: Account,
    pub(super) side: Side,
    pub(super) price: Price,
    pub(super) open: Qty,
    pub(super) tif: Tif,
    pub(super) stp: Stp,
}

/// An order acting as taker: a new order after its `ACK`, or a replaced order re-entering.
#[derive(Clone, Copy, Debug)]
pub(super) struct Taker {
    pub(super) id: OrderId,
    pub(super) account: Account,
    pub(super) side: Side,
    /// `None` for a market order: every price is acceptable.
    pub(super) limit: Option<Price>,
    pub(super) remaining: Qty,
    pub(super) stp: Stp,
}

/// How a taker's walk through the book ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum WalkEnd {
    /// No more quantity or no more eligible liquidity; the remainder (maybe zero) is the
    /// caller's to handle (rest or IOC-cancel).
    Normal,
    /// Self-trade prevention (`CT` or `CB`) cancelled the remainder: the order is done and
    /// must not rest.
    StoppedBySTP,
}

/// The mutant book. See the module docs.
#[derive(Clone, Debug)]
pub struct MutantBook {
    pub(super) cfg: BookConfig,
    /// The rule this copy breaks (`None`: none).
    pub(super) mutant: Option<BookMutant>,
    /// Running open quantity per level, kept like the fast book's level aggregate.
    pub(super) totals: HashMap<(Side, Price), u128>,
    /// Bids by price; the best bid is the *last* key.
    pub(super) bids: BTreeMap<Price, VecDeque<Order>>,
    /// Asks by price; the best ask is the *first* key.
    pub(super) asks: BTreeMap<Price, VecDeque<Order>>,
    /// Live order id -> where it rests.
    pub(super) index: HashMap<OrderId, (Side, Price)>,
}

impl MutantBook {
    /// An empty book with the limits and policy of `cfg`, breaking `mutant`'s rule.
    pub fn new(cfg: BookConfig, mutant: Option<BookMutant>) -> Self {
        MutantBook {
            cfg,
            mutant,
            totals: HashMap::new(),
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            index: HashMap::new(),
        }
    }

    pub(super) fn side_map(&self, side: Side) -> &BTreeMap<Price, VecDeque<Order>> {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    pub(super) fn side_map_mut(&mut self, side: Side) -> &mut BTreeMap<Price, VecDeque<Order>> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// The best (first in priority) price of one side.
    pub(super) fn best_of(&self, side: Side) -> Option<Price> {
        match side {
            Side::Buy => self.bids.keys().next_back().copied(),
            Side::Sell => self.asks.keys().next().copied(),
        }
    }

    /// Would a post-only order of `side` at `price` meet the opposite best?
    /// (buy: `price >= best ask`; sell: `price <= best bid`, whoever owns that order).
    pub(super) fn would_cross(&self, side: Side, price: Price) -> bool {
        match self.best_of(side.opposite()) {
            None => false,
            Some(best) => side.accepts(price, best),
        }
    }

    /// Append an order at the back of its level (last in time priority).
    pub(super) fn rest(&mut self, o: Order) {
        self.index.insert(o.id, (o.side, o.price));
        *self.totals.entry((o.side, o.price)).or_default() += o.open as u128;
        self.side_map_mut(o.side)
            .entry(o.price)
            .or_default()
            .push_back(o);
    }

    /// Take a live order out of the book, wherever it is in its level.
    pub(super) fn remove(&mut self, id: OrderId) -> Option<Order> {
        let (side, price) = self.index.remove(&id)?;
        let map = self.side_map_mut(side);
        let level = map.get_mut(&price)?;
        let pos = level.iter().position(|o| o.id == id)?;
        let o = level.remove(pos);
        let emptied = level.is_empty();
        if emptied {
            map.remove(&price);
        }
        self.untotal(side, price, o.map_or(0, |o| o.open), emptied);
        o
    }

    /// Takes `by` off the aggregate of a level; forgets the level once it is empty.
    pub(super) fn untotal(&mut self, side: Side, price: Price, by: Qty, emptied: bool) {
        if emptied {
            self.totals.remove(&(side, price));
        } else if let Some(t) = self.totals.get_mut(&(side, price)) {
            *t = t.saturating_sub(by as u128);
        }
    }

    /// The STP mode a taker acts on: its own, except the one mode the STP mutant ignores.
    fn taker_stp(&self, stp: Stp) -> Stp {
        if stp == Stp::CancelMaker && self.mutant == Some(BookMutant::StpCancelMakerIgnored) {
            Stp::None
        } else {
            stp
        }
    }

    /// The running aggregate of a level.
    pub(super) fn total(&self, side: Side, price: Price) -> u128 {
        self.totals.get(&(side, price)).copied().unwrap_or(0)
    }

    /// Drop the level at `price` on `side` if it has become empty.
    pub(super) fn drop_level_if_empty(&mut self, side: Side, price: Price) {
        let map = self.side_map_mut(side);
        if map.get(&price).is_some_and(|l| l.is_empty()) {
            map.remove(&price);
            self.totals.remove(&(side, price));
        }
    }

    // ----------------------------------------------------------------------------------
    // Commands
    // ----------------------------------------------------------------------------------

    /// Validation of a new order, in the order the spec lists the checks.
    pub(super) fn validate_new(&self, o: &NewOrder) -> Result<(), RejectReason> {
        // 1. quantity
        if !self.cfg.qty_ok(o.qty) {
            return Err(RejectReason::BadQty);
        }
        // 2. price presence and band
        match (o.ord_type, o.price) {
            (OrdType::Limit, None) => return Err(RejectReason::BadPrice),
            (OrdType::Market, Some(_)) => return Err(RejectReason::BadPrice),
            (OrdType::Limit, Some(p)) if !self.cfg.price_ok(p) => {
                return Err(RejectReason::BadPrice)
            }
            _ => {}
        }
        // 3. time in force
        if o.ord_type == OrdType::Market && matches!(o.tif, Tif::Gtc | Tif::Post) {
            return Err(RejectReason::BadTif);
        }
        // 4. live id
        if self.index.contains_key(&o.id) {
            return Err(RejectReason::DuplicateId);
        }
        // 5. post-only meeting the opposite best
        if o.tif == Tif::Post && self.mutant != Some(BookMutant::PostOnlyRestsCrossed) {
            if let Some(p) = o.price {
                if self.would_cross(o.side, p) {
                    return Err(RejectReason::WouldCross);
                }
            }
        }
        Ok(())
    }

    pub(super) fn new_order<S: EventSink>(&mut self, o: &NewOrder, sink: &mut S) {
        if let Err(reason) = self.validate_new(o) {
            sink.event(Event::Reject { id: o.id, reason });
            return;
        }
        sink.event(Event::Ack { id: o.id });

        let taker = Taker {
            id: o.id,
            account: o.account,
            side: o.side,
            limit: o.price,
            remaining: o.qty,
            stp: self.taker_stp(o.stp),
        };

        if o.tif == Tif::Fok && self.mutant != Some(BookMutant::FokPartialFill) {
            // Simulate as an IOC without touching the book; only a complete fill proceeds.
            if self.simulate_fill(&taker) != o.qty as u128 {
                sink.event(cancel_event(
                    o.id,
                    o.qty,
                    CancelReason::Fok,
                    o.side,
                    o.price,
                ));
                return;
            }
        }

        let mut taker = taker;
        if o.tif == Tif::Post && self.mutant == Some(BookMutant::PostOnlyRestsCrossed) {
            // The mutant: a post-only order rests at its price without looking at the book.
            self.finish_remainder(&taker, o.price, o.tif, sink);
            return;
        }
        let end = self.walk(&mut taker, sink);
        if end == WalkEnd::StoppedBySTP {
            return;
        }
        self.finish_remainder(&taker, o.price, o.tif, sink);
    }

    /// After the walk: a GTC/POST remainder rests at its own price, an IOC/FOK/market
    /// remainder is cancelled. A zero remainder produces nothing.
    pub(super) fn finish_remainder<S: EventSink>(
        &mut self,
        taker: &Taker,
        price: Option<Price>,
        tif: Tif,
        sink: &mut S,
    ) {
        if taker.remaining == 0 {
            return;
        }
        match (tif, price) {
            (Tif::Gtc | Tif::Post, Some(p)) => self.rest(Order {
                id: taker.id,
                account: taker.account,
                side: taker.side,
                price: p,
                open: taker.remaining,
                tif,
                stp: taker.stp,
            }),
            _ => sink.event(cancel_event(
                taker.id,
                taker.remaining,
                CancelReason::Ioc,
                taker.side,
                taker.limit,
            )),
        }
    }

    pub(super) fn cancel<S: EventSink>(&mut self, id: OrderId, sink: &mut S) {
        match self.remove(id) {
            Some(o) => {
                // The mutant reports one unit less than it removed.
                let qty = if self.mutant == Some(BookMutant::CancelUnderReported) {
                    o.open - 1
                } else {
                    o.open
                };
                sink.event(cancel_event(
                    id,
                    qty,
                    CancelReason::User,
                    o.side,
                    Some(o.price),
                ))
            }
            None => sink.event(Event::Reject {
                id,
                reason: RejectReason::UnknownId,
            }),
        }
    }

    pub(super) fn replace<S: EventSink>(
        &mut self,
        id: OrderId,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) {
        let reject = |sink: &mut S, reason| sink.event(Event::Reject { id, reason });
        // 1. live?
        let Some(current) = self.order_internal(id) else {
            return reject(sink, RejectReason::UnknownId);
        };
        // 2. quantity
        if !self.cfg.qty_ok(qty) {
            return reject(sink, RejectReason::BadQty);
        }
        // 3. price band
        if !self.cfg.price_ok(price) {
            return reject(sink, RejectReason::BadPrice);
        }
        // 4. post-only would cross at its new price
        if current.tif == Tif::Post && self.would_cross(current.side, price) {
            return reject(sink, RejectReason::WouldCross);
        }

        sink.event(Event::Replaced { id });

        // The configured replace priority mode decides, as in the reference; the mutant
        // keeps the place whatever the mode and the quantity.
        let reduced = qty <= current.open
            && self.cfg.replace_priority == flowmatch_core::ReplacePriority::KeepIfReduced;
        let keeps_place = reduced || self.mutant == Some(BookMutant::ReplaceKeepsPriority);
        if price == current.price && keeps_place {
            // Reduce in place: keeps time priority.
            let level = self
                .side_map_mut(current.side)
                .get_mut(&price)
                .expect("indexed order has a level");
            let o = level
                .iter_mut()
                .find(|o| o.id == id)
                .expect("indexed order is in its level");
            let old = o.open;
            o.open = qty;
            let t = self.totals.entry((current.side, price)).or_default();
            *t = (*t + qty as u128).saturating_sub(old as u128);
            return;
        }

        // Lose priority: out of the book, back in as a new arrival.
        self.remove(id);
        let mut taker = Taker {
            id,
            account: current.account,
            side: current.side,
            limit: Some(price),
            remaining: qty,
            stp: self.taker_stp(current.stp),
        };
        let end = self.walk(&mut taker, sink);
        if end == WalkEnd::StoppedBySTP {
            return;
        }
        // A resting order is GTC or POST, so any remainder rests.
        self.finish_remainder(&taker, Some(price), current.tif, sink);
    }

    pub(super) fn order_internal(&self, id: OrderId) -> Option<Order> {
        let (side, price) = self.index.get(&id)?;
        self.side_map(*side)
            .get(price)?
            .iter()
            .find(|o| o.id == id)
            .copied()
    }
}

/// So `flowmatch replay --mutant` runs through the same replay session as every book. A
/// book made for a prefixed instrument is an unmutated copy: the mutant is the default
/// instrument's (the one a stress reproducer uses).
impl flowmatch_core::instrument::BookStorage for MutantBook {
    fn with_config(cfg: BookConfig) -> Self {
        MutantBook::new(cfg, None)
    }

    fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
    }
}
