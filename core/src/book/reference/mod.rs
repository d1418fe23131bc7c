//! The reference book: a literal, deliberately plain transcription of `docs/SEMANTICS.md`.
//!
//! It exists only as a test oracle. The fast book is differentially tested against it, so
//! the one property that matters here is being *obviously* right when read next to the
//! spec: every rule lives in one place, in the order the spec states it, over the most
//! boring data structures available (an ordered map of price levels per side, each level a
//! FIFO queue, plus an id index). Speed is irrelevant; allocation is fine.
//!
//! Fill-or-kill is decided by a read-only walk ([`ReferenceBook::simulate_fill`]) that
//! states, per maker, what the IOC would do to the taker's quantity. The most obvious
//! alternative — running the real matching code on a clone of the book — is kept in the
//! tests as the oracle for that walk (cloning a large book per FOK made million-command
//! differential runs take tens of seconds).

use super::*;
use crate::command::{Event, NewOrder};
use std::collections::{BTreeMap, HashMap, VecDeque};

pub(crate) mod allocation;
mod cme;
mod iceberg;
mod matching;
mod peg;
mod stops;
mod trait_impl;

/// A resting order. Everything the spec needs to re-enter it on a replace is kept:
/// account, side, time in force (for the post-only check) and STP mode.
#[derive(Clone, Copy, Debug)]
struct Order {
    id: OrderId,
    account: Account,
    side: Side,
    price: Price,
    open: Qty,
    tif: Tif,
    stp: Stp,
    /// An iceberg's display size (`open` is its shown part); 0 for any other order.
    display: Qty,
    /// An iceberg's hidden reserve, not in `open`; 0 for any other order.
    reserve: Qty,
}

/// An order acting as taker: a new order after its `ACK`, or a replaced order re-entering.
#[derive(Clone, Copy, Debug)]
struct Taker {
    id: OrderId,
    account: Account,
    side: Side,
    /// `None` for a market order: every price is acceptable.
    limit: Option<Price>,
    remaining: Qty,
    stp: Stp,
}

/// How a taker's walk through the book ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WalkEnd {
    /// No more quantity or no more eligible liquidity; the remainder (maybe zero) is the
    /// caller's to handle (rest or IOC-cancel).
    Normal,
    /// Self-trade prevention (`CT` or `CB`) cancelled the remainder: the order is done and
    /// must not rest.
    StoppedBySTP,
}

/// The reference (oracle) order book. See the module docs.
#[derive(Clone, Debug)]
pub struct ReferenceBook {
    cfg: BookConfig,
    /// Bids by price; the best bid is the *last* key.
    bids: BTreeMap<Price, VecDeque<Order>>,
    /// Asks by price; the best ask is the *first* key.
    asks: BTreeMap<Price, VecDeque<Order>>,
    /// Live order id -> where it rests.
    index: HashMap<OrderId, (Side, Price)>,
    /// Account -> beneficial-owner group, for group self-trade prevention (empty: off).
    groups: BTreeMap<Account, super::groups::Group>,
    /// Per side (`Side as usize`), the CME TOP order ([`cme`]); kept under every policy.
    top: [Option<OrderId>; 2],
    /// Pending stops and stop-limits, in arrival order ([`stops`]).
    stops: Vec<stops::Pending>,
    /// Resting midpoint pegs of both sides, in arrival order ([`peg`]).
    pegs: Vec<peg::Peg>,
}

impl ReferenceBook {
    /// An empty book with the limits and policy of `cfg`.
    pub fn new(cfg: BookConfig) -> Self {
        ReferenceBook {
            cfg,
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            index: HashMap::new(),
            groups: BTreeMap::new(),
            top: [None; 2],
            stops: Vec::new(),
            pegs: Vec::new(),
        }
    }

    /// Let self-trade prevention act on beneficial-owner groups (`docs/SEMANTICS.md`,
    /// "Account groups"); an empty table switches it off.
    pub fn set_account_groups(&mut self, groups: &super::groups::AccountGroups) {
        self.groups = groups.pairs().iter().copied().collect();
    }

    /// The spec's "same owner": the same account, or two accounts the group table puts
    /// in one group (an account it does not list is in no group).
    fn same_owner(&self, a: Account, b: Account) -> bool {
        if a == b {
            return true;
        }
        match (self.groups.get(&a), self.groups.get(&b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
    }

    fn side_map(&self, side: Side) -> &BTreeMap<Price, VecDeque<Order>> {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn side_map_mut(&mut self, side: Side) -> &mut BTreeMap<Price, VecDeque<Order>> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// The best (first in priority) price of one side.
    fn best_of(&self, side: Side) -> Option<Price> {
        match side {
            Side::Buy => self.bids.keys().next_back().copied(),
            Side::Sell => self.asks.keys().next().copied(),
        }
    }

    /// Would a post-only order of `side` at `price` meet the opposite best?
    /// (buy: `price >= best ask`; sell: `price <= best bid`, whoever owns that order).
    fn would_cross(&self, side: Side, price: Price) -> bool {
        match self.best_of(side.opposite()) {
            None => false,
            Some(best) => side.accepts(price, best),
        }
    }

    /// Append an order at the back of its level (last in time priority).
    fn rest(&mut self, o: Order) {
        self.top_on_rest(&o);
        self.index.insert(o.id, (o.side, o.price));
        self.side_map_mut(o.side)
            .entry(o.price)
            .or_default()
            .push_back(o);
    }

    /// Take a live order out of the book, wherever it is in its level.
    fn remove(&mut self, id: OrderId) -> Option<Order> {
        let (side, price) = self.index.remove(&id)?;
        let map = self.side_map_mut(side);
        let level = map.get_mut(&price)?;
        let pos = level.iter().position(|o| o.id == id)?;
        let o = level.remove(pos);
        if level.is_empty() {
            map.remove(&price);
        }
        if let Some(o) = &o {
            self.top_on_remove(o);
        }
        o
    }

    /// Drop the level at `price` on `side` if it has become empty.
    fn drop_level_if_empty(&mut self, side: Side, price: Price) {
        let map = self.side_map_mut(side);
        if map.get(&price).is_some_and(|l| l.is_empty()) {
            map.remove(&price);
        }
    }

    // ----------------------------------------------------------------------------------
    // Commands
    // ----------------------------------------------------------------------------------

    /// The tick rule, transcribed on its own (the fast book's is `BookConfig::tick_ok`): a
    /// tick above 1 admits only its multiples, counting from 0 in both directions.
    fn on_tick(&self, price: Price) -> bool {
        self.cfg.tick <= 1 || price.rem_euclid(self.cfg.tick) == 0
    }

    /// The lot rule, on its own likewise: a lot above 1 admits only its multiples.
    fn on_lot(&self, qty: Qty) -> bool {
        self.cfg.lot <= 1 || qty.rem_euclid(self.cfg.lot) == 0
    }

    /// Validation of a new order, in the order the spec lists the checks.
    fn validate_new(&self, o: &NewOrder) -> Result<(), RejectReason> {
        // 1. quantity
        if !self.cfg.qty_ok(o.qty) {
            return Err(RejectReason::BadQty);
        }
        // 1b. lot
        if !self.on_lot(o.qty) {
            return Err(RejectReason::BadLot);
        }
        // 2. price presence and band (2 and 3 for stops, on their own)
        if let Some(trigger) = o.ord_type.trigger() {
            self.validate_stop(o, trigger)?;
        }
        // 2-3b. an iceberg's price, time in force, display and policy
        if let OrdType::Iceberg { display } = o.ord_type {
            self.validate_iceberg(o, display)?;
        }
        // 2-3c. a midpoint peg's cap, time in force and policy
        if o.ord_type == OrdType::MidPeg {
            self.validate_peg(o)?;
        }
        match (o.ord_type, o.price) {
            (OrdType::Limit, None) => return Err(RejectReason::BadPrice),
            (OrdType::Market, Some(_)) => return Err(RejectReason::BadPrice),
            (OrdType::Limit, Some(p)) if !self.cfg.price_ok(p) => {
                return Err(RejectReason::BadPrice)
            }
            // 2b. tick
            (OrdType::Limit, Some(p)) if !self.on_tick(p) => return Err(RejectReason::BadTick),
            _ => {}
        }
        // 3. time in force
        if o.ord_type == OrdType::Market && matches!(o.tif, Tif::Gtc | Tif::Post) {
            return Err(RejectReason::BadTif);
        }
        // 4. live id (a pending stop's or a resting peg's too)
        if self.index.contains_key(&o.id)
            || self.stops.iter().any(|s| s.order.id == o.id)
            || self.pegs.iter().any(|p| p.id == o.id)
        {
            return Err(RejectReason::DuplicateId);
        }
        // 5. post-only meeting the opposite best, or an opposite peg at the midpoint
        if o.tif == Tif::Post {
            if let Some(p) = o.price {
                if self.would_cross(o.side, p) || self.would_trade_peg(o.side, p) {
                    return Err(RejectReason::WouldCross);
                }
            }
        }
        Ok(())
    }

    /// A new order, then the cross of the resting pegs at the midpoint it leaves.
    fn new_order<S: EventSink>(&mut self, o: &NewOrder, sink: &mut S) {
        self.enter_new(o, sink);
        self.cross_pegs(sink);
    }

    fn enter_new<S: EventSink>(&mut self, o: &NewOrder, sink: &mut S) {
        if let Err(reason) = self.validate_new(o) {
            sink.event(Event::Reject { id: o.id, reason });
            return;
        }
        sink.event(Event::Ack { id: o.id });
        if o.ord_type.trigger().is_some() {
            self.stops.push(stops::Pending {
                order: *o,
                fired: false,
            });
            return;
        }

        let mut taker = Taker {
            id: o.id,
            account: o.account,
            side: o.side,
            limit: o.price,
            remaining: o.qty,
            stp: o.stp,
        };

        if o.ord_type == OrdType::MidPeg {
            return self.enter_peg(taker, o.tif, sink);
        }

        if o.tif == Tif::Fok {
            // Simulate as an IOC without touching the book (the pegs first, then the lit
            // levels with what they leave); only a complete fill proceeds.
            let (from_pegs, left) = self.simulate_pegs(&taker);
            let total = match left {
                Some(remaining) => from_pegs + self.simulate_fill(&Taker { remaining, ..taker }),
                None => from_pegs,
            };
            if total != o.qty as u128 {
                sink.event(Event::Cancel {
                    id: o.id,
                    qty: o.qty,
                    reason: CancelReason::Fok,
                    side: o.side,
                    price: o.price,
                });
                return;
            }
        }

        if self.walk_pegs(&mut taker, sink) == WalkEnd::StoppedBySTP {
            return;
        }
        let end = self.walk(&mut taker, sink);
        if end == WalkEnd::StoppedBySTP {
            return;
        }
        let display = o.ord_type.display().unwrap_or(0);
        self.finish_remainder(&taker, o.price, o.tif, display, sink);
    }

    /// After the walk: a GTC/POST remainder rests at its own price, an IOC/FOK/market
    /// remainder is cancelled. A zero remainder produces nothing.
    fn finish_remainder<S: EventSink>(
        &mut self,
        taker: &Taker,
        price: Option<Price>,
        tif: Tif,
        display: Qty,
        sink: &mut S,
    ) {
        if taker.remaining == 0 {
            return;
        }
        match (tif, price) {
            (Tif::Gtc | Tif::Post, Some(p)) => {
                let o = Order {
                    id: taker.id,
                    account: taker.account,
                    side: taker.side,
                    price: p,
                    open: 0,
                    tif,
                    stp: taker.stp,
                    display,
                    reserve: 0,
                };
                self.rest(Self::resting(o, taker.remaining))
            }
            _ => sink.event(Event::Cancel {
                id: taker.id,
                qty: taker.remaining,
                reason: CancelReason::Ioc,
                side: taker.side,
                price,
            }),
        }
    }

    /// A cancel, then the cross of the resting pegs (the touch may have moved).
    fn cancel<S: EventSink>(&mut self, id: OrderId, sink: &mut S) {
        self.cancel_inner(id, sink);
        self.cross_pegs(sink);
    }

    fn cancel_inner<S: EventSink>(&mut self, id: OrderId, sink: &mut S) {
        if let Some(p) = self.cancel_peg(id) {
            return sink.event(Event::Cancel {
                id,
                qty: p.open,
                reason: CancelReason::User,
                side: p.side,
                price: p.cap,
            });
        }
        match self.remove(id) {
            Some(o) => sink.event(Event::Cancel {
                id,
                // An iceberg's reserve leaves with it.
                qty: o.open + o.reserve,
                reason: CancelReason::User,
                side: o.side,
                price: Some(o.price),
            }),
            None => match self.cancel_stop(id) {
                Some(o) => sink.event(Event::Cancel {
                    id,
                    qty: o.qty,
                    reason: CancelReason::User,
                    side: o.side,
                    price: o.price,
                }),
                None => sink.event(Event::Reject {
                    id,
                    reason: RejectReason::UnknownId,
                }),
            },
        }
    }

    /// A replace, then the cross of the resting pegs (the touch may have moved).
    fn replace<S: EventSink>(&mut self, id: OrderId, price: Price, qty: Qty, sink: &mut S) {
        self.replace_inner(id, price, qty, sink);
        self.cross_pegs(sink);
    }

    fn replace_inner<S: EventSink>(&mut self, id: OrderId, price: Price, qty: Qty, sink: &mut S) {
        let reject = |sink: &mut S, reason| sink.event(Event::Reject { id, reason });
        // 1. live? (a resting order, or a resting peg)
        let peg = self.pegs.iter().position(|p| p.id == id);
        let current = self.order_internal(id);
        if current.is_none() && peg.is_none() {
            return reject(sink, RejectReason::UnknownId);
        }
        // 2. quantity
        if !self.cfg.qty_ok(qty) {
            return reject(sink, RejectReason::BadQty);
        }
        if !self.on_lot(qty) {
            return reject(sink, RejectReason::BadLot);
        }
        // 3. price band, then tick
        if !self.cfg.price_ok(price) {
            return reject(sink, RejectReason::BadPrice);
        }
        if !self.on_tick(price) {
            return reject(sink, RejectReason::BadTick);
        }
        let Some(current) = current else {
            let i = peg.expect("a peg when no order rests");
            return self.replace_peg(i, price, qty, sink);
        };
        // 4. post-only would cross at its new price
        if current.tif == Tif::Post
            && (self.would_cross(current.side, price) || self.would_trade_peg(current.side, price))
        {
            return reject(sink, RejectReason::WouldCross);
        }

        sink.event(Event::Replaced { id });

        // An iceberg always loses priority on a replace (its `qty` is the new total).
        let keeps_priority = match self.cfg.replace_priority {
            _ if current.display != 0 => false,
            ReplacePriority::KeepIfReduced => price == current.price && qty <= current.open,
            ReplacePriority::AlwaysRequeue => false,
        };
        if keeps_priority {
            // Reduce in place: keeps time priority.
            let level = self
                .side_map_mut(current.side)
                .get_mut(&price)
                .expect("indexed order has a level");
            let o = level
                .iter_mut()
                .find(|o| o.id == id)
                .expect("indexed order is in its level");
            o.open = qty;
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
            stp: current.stp,
        };
        if self.walk_pegs(&mut taker, sink) == WalkEnd::StoppedBySTP {
            return;
        }
        let end = self.walk(&mut taker, sink);
        if end == WalkEnd::StoppedBySTP {
            return;
        }
        // A resting order is GTC or POST, so any remainder rests.
        self.finish_remainder(&taker, Some(price), current.tif, current.display, sink);
    }

    fn order_internal(&self, id: OrderId) -> Option<Order> {
        let (side, price) = self.index.get(&id)?;
        self.side_map(*side)
            .get(price)?
            .iter()
            .find(|o| o.id == id)
            .copied()
    }
}

/// Self-consistency of the oracle on random streams dense in extremes. These checks do
/// not depend on what the right events are (the scenario suite and the differential tests
/// cover that); they catch a reference that panics, crosses, or loses quantity.
#[cfg(test)]
mod tests;
