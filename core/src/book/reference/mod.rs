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
use crate::command::{Command, Event, NewOrder};
use std::collections::{BTreeMap, HashMap, VecDeque};

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
}

impl ReferenceBook {
    /// An empty book with the limits and policy of `cfg`.
    pub fn new(cfg: BookConfig) -> Self {
        ReferenceBook {
            cfg,
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            index: HashMap::new(),
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

    /// Validation of a new order, in the order the spec lists the checks.
    fn validate_new(&self, o: &NewOrder) -> Result<(), RejectReason> {
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
        if o.tif == Tif::Post {
            if let Some(p) = o.price {
                if self.would_cross(o.side, p) {
                    return Err(RejectReason::WouldCross);
                }
            }
        }
        Ok(())
    }

    fn new_order<S: EventSink>(&mut self, o: &NewOrder, sink: &mut S) {
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
            stp: o.stp,
        };

        if o.tif == Tif::Fok {
            // Simulate as an IOC without touching the book; only a complete fill proceeds.
            if self.simulate_fill(&taker) != o.qty as u128 {
                sink.event(Event::Cancel {
                    id: o.id,
                    qty: o.qty,
                    reason: CancelReason::Fok,
                });
                return;
            }
        }

        let mut taker = taker;
        let end = self.walk(&mut taker, sink);
        if end == WalkEnd::StoppedBySTP {
            return;
        }
        self.finish_remainder(&taker, o.price, o.tif, sink);
    }

    /// After the walk: a GTC/POST remainder rests at its own price, an IOC/FOK/market
    /// remainder is cancelled. A zero remainder produces nothing.
    fn finish_remainder<S: EventSink>(
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
            _ => sink.event(Event::Cancel {
                id: taker.id,
                qty: taker.remaining,
                reason: CancelReason::Ioc,
            }),
        }
    }

    fn cancel<S: EventSink>(&mut self, id: OrderId, sink: &mut S) {
        match self.remove(id) {
            Some(o) => sink.event(Event::Cancel {
                id,
                qty: o.open,
                reason: CancelReason::User,
            }),
            None => sink.event(Event::Reject {
                id,
                reason: RejectReason::UnknownId,
            }),
        }
    }

    fn replace<S: EventSink>(&mut self, id: OrderId, price: Price, qty: Qty, sink: &mut S) {
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

        if price == current.price && qty <= current.open {
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
        let end = self.walk(&mut taker, sink);
        if end == WalkEnd::StoppedBySTP {
            return;
        }
        // A resting order is GTC or POST, so any remainder rests.
        self.finish_remainder(&taker, Some(price), current.tif, sink);
    }

    fn order_internal(&self, id: OrderId) -> Option<Order> {
        let (side, price) = self.index.get(&id)?;
        self.side_map(*side)
            .get(price)?
            .iter()
            .find(|o| o.id == id)
            .copied()
    }

    // ----------------------------------------------------------------------------------
    // Matching
    // ----------------------------------------------------------------------------------

    /// How much an IOC with this taker's limit, quantity and STP mode would trade now,
    /// without changing anything: the fill-or-kill test. It follows the same steps as
    /// [`Self::walk`], tracking only the taker's remaining quantity:
    /// - price-time: per maker in priority order, `CT`/`CB` stop, `CM` skips the maker,
    ///   `DC` removes `min(open, remaining)` from the taker without filling, otherwise
    ///   `min(open, remaining)` fills;
    /// - pro-rata: STP over the level's same-account orders as above, then the level
    ///   fills `min(remaining, T)` where `T` is the open quantity of the other orders —
    ///   the allocation (with or without a top order) always hands out exactly that much.
    fn simulate_fill(&self, taker: &Taker) -> u128 {
        let maker_side = taker.side.opposite();
        let levels: Box<dyn Iterator<Item = (&Price, &VecDeque<Order>)>> = match maker_side {
            Side::Buy => Box::new(self.bids.iter().rev()),
            Side::Sell => Box::new(self.asks.iter()),
        };
        let stp_applies = |o: &Order| o.account == taker.account && taker.stp != Stp::None;
        let mut remaining = taker.remaining;
        let mut filled: u128 = 0;
        for (&price, level) in levels {
            if remaining == 0 {
                break;
            }
            if let Some(limit) = taker.limit {
                if !taker.side.accepts(limit, price) {
                    break;
                }
            }
            match self.cfg.policy {
                MatchPolicy::PriceTime => {
                    for o in level {
                        if remaining == 0 {
                            break;
                        }
                        if stp_applies(o) {
                            match taker.stp {
                                Stp::CancelTaker | Stp::CancelBoth => return filled,
                                Stp::DecrementCancel => remaining -= o.open.min(remaining),
                                Stp::CancelMaker | Stp::None => {}
                            }
                            continue;
                        }
                        let q = o.open.min(remaining);
                        filled += q as u128;
                        remaining -= q;
                    }
                }
                MatchPolicy::ProRata { .. } => {
                    let mut others: u128 = 0;
                    for o in level {
                        if stp_applies(o) {
                            match taker.stp {
                                Stp::CancelTaker | Stp::CancelBoth => return filled,
                                Stp::DecrementCancel => {
                                    remaining -= o.open.min(remaining);
                                    if remaining == 0 {
                                        return filled;
                                    }
                                }
                                Stp::CancelMaker | Stp::None => {}
                            }
                        } else {
                            others += o.open as u128;
                        }
                    }
                    let q = others.min(remaining as u128);
                    filled += q;
                    remaining -= q as Qty;
                }
            }
        }
        filled
    }

    /// Walk the opposite side from its best level while the taker has quantity and the
    /// level price is acceptable, sharing each level by the configured policy.
    fn walk<S: EventSink>(&mut self, taker: &mut Taker, sink: &mut S) -> WalkEnd {
        let maker_side = taker.side.opposite();
        while taker.remaining > 0 {
            let Some(level_price) = self.best_of(maker_side) else {
                return WalkEnd::Normal;
            };
            if let Some(limit) = taker.limit {
                if !taker.side.accepts(limit, level_price) {
                    return WalkEnd::Normal;
                }
            }
            let end = match self.cfg.policy {
                MatchPolicy::PriceTime => self.level_price_time(taker, level_price, sink),
                MatchPolicy::ProRata { top_order } => {
                    self.level_pro_rata(taker, level_price, top_order, sink)
                }
            };
            self.drop_level_if_empty(maker_side, level_price);
            if end == WalkEnd::StoppedBySTP {
                return end;
            }
        }
        WalkEnd::Normal
    }

    /// Price-time at one level: makers in arrival order, STP decided per maker.
    fn level_price_time<S: EventSink>(
        &mut self,
        taker: &mut Taker,
        price: Price,
        sink: &mut S,
    ) -> WalkEnd {
        let maker_side = taker.side.opposite();
        while taker.remaining > 0 {
            let Some(maker) = self
                .side_map(maker_side)
                .get(&price)
                .and_then(|l| l.front())
                .copied()
            else {
                return WalkEnd::Normal;
            };
            if maker.account == taker.account && taker.stp != Stp::None {
                if self.self_trade(taker, &maker, sink) == WalkEnd::StoppedBySTP {
                    return WalkEnd::StoppedBySTP;
                }
                continue;
            }
            let qty = taker.remaining.min(maker.open);
            self.fill(taker, maker.id, maker_side, price, qty, sink);
        }
        WalkEnd::Normal
    }

    /// Apply the taker's STP mode against one same-account maker. Returns `StoppedBySTP`
    /// for `CT`/`CB`, which end the taker (its remainder cancelled).
    fn self_trade<S: EventSink>(
        &mut self,
        taker: &mut Taker,
        maker: &Order,
        sink: &mut S,
    ) -> WalkEnd {
        let stp_cancel = |sink: &mut S, id, qty| {
            sink.event(Event::Cancel {
                id,
                qty,
                reason: CancelReason::Stp,
            })
        };
        match taker.stp {
            Stp::None => WalkEnd::Normal,
            Stp::CancelTaker => {
                stp_cancel(sink, taker.id, taker.remaining);
                taker.remaining = 0;
                WalkEnd::StoppedBySTP
            }
            Stp::CancelMaker => {
                stp_cancel(sink, maker.id, maker.open);
                self.remove(maker.id);
                WalkEnd::Normal
            }
            Stp::CancelBoth => {
                stp_cancel(sink, maker.id, maker.open);
                self.remove(maker.id);
                stp_cancel(sink, taker.id, taker.remaining);
                taker.remaining = 0;
                WalkEnd::StoppedBySTP
            }
            Stp::DecrementCancel => {
                let d = maker.open.min(taker.remaining);
                stp_cancel(sink, maker.id, d);
                stp_cancel(sink, taker.id, d);
                self.reduce_maker(maker.id, maker.side, maker.price, d);
                taker.remaining -= d;
                // A taker at zero simply ends (the caller's loop sees remaining == 0).
                WalkEnd::Normal
            }
        }
    }

    /// Reduce a maker's open quantity by `by`; at zero it leaves the book.
    fn reduce_maker(&mut self, id: OrderId, side: Side, price: Price, by: Qty) {
        let level = self
            .side_map_mut(side)
            .get_mut(&price)
            .expect("maker's level exists");
        let o = level
            .iter_mut()
            .find(|o| o.id == id)
            .expect("maker is in its level");
        o.open -= by;
        if o.open == 0 {
            self.remove(id);
        }
    }

    /// One fill at the maker's price.
    fn fill<S: EventSink>(
        &mut self,
        taker: &mut Taker,
        maker: OrderId,
        maker_side: Side,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) {
        sink.event(Event::Trade {
            taker: taker.id,
            maker,
            price,
            qty,
        });
        taker.remaining -= qty;
        self.reduce_maker(maker, maker_side, price, qty);
    }

    /// Pro-rata at one level, steps 1-4 of the spec.
    fn level_pro_rata<S: EventSink>(
        &mut self,
        taker: &mut Taker,
        price: Price,
        top_order: bool,
        sink: &mut S,
    ) -> WalkEnd {
        let maker_side = taker.side.opposite();

        // 1. Self-trade prevention first, over the level's same-account orders in time order.
        if taker.stp != Stp::None {
            let same_account: Vec<Order> = self
                .side_map(maker_side)
                .get(&price)
                .map(|l| {
                    l.iter()
                        .filter(|o| o.account == taker.account)
                        .copied()
                        .collect()
                })
                .unwrap_or_default();
            for maker in same_account {
                if taker.remaining == 0 {
                    return WalkEnd::Normal;
                }
                if self.self_trade(taker, &maker, sink) == WalkEnd::StoppedBySTP {
                    return WalkEnd::StoppedBySTP;
                }
            }
        }

        // The participants, in time order, after STP.
        let participants: Vec<Order> = self
            .side_map(maker_side)
            .get(&price)
            .map(|l| l.iter().copied().collect())
            .unwrap_or_default();
        if taker.remaining == 0 || participants.is_empty() {
            return WalkEnd::Normal;
        }
        let mut alloc: Vec<Qty> = vec![0; participants.len()];
        let mut q = taker.remaining;

        // 2. Top order, FIFO.
        let first = if top_order {
            alloc[0] = q.min(participants[0].open);
            q -= alloc[0];
            1
        } else {
            0
        };

        // 3. Allocation among the rest.
        let rest = &participants[first..];
        let total: u128 = rest.iter().map(|o| o.open as u128).sum();
        if !rest.is_empty() && q > 0 {
            let qq = q as u128;
            if qq >= total {
                for (i, o) in rest.iter().enumerate() {
                    alloc[first + i] = o.open;
                }
            } else {
                let mut given: u128 = 0;
                let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(rest.len());
                for (i, o) in rest.iter().enumerate() {
                    let exact = qq * o.open as u128;
                    let share = exact / total; // < o.open because qq < total
                    alloc[first + i] = share as Qty;
                    given += share;
                    remainders.push((exact % total, i));
                }
                // Largest remainder first; ties to the earlier arrival (smaller index).
                remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                let leftover = (qq - given) as usize; // < rest.len()
                for &(_, i) in remainders.iter().take(leftover) {
                    alloc[first + i] += 1;
                }
            }
        }

        // 4. Fills in time order of the makers, one per non-zero allocation.
        for (o, &a) in participants.iter().zip(alloc.iter()) {
            if a > 0 {
                self.fill(taker, o.id, maker_side, price, a, sink);
            }
        }
        WalkEnd::Normal
    }
}

impl OrderBook for ReferenceBook {
    fn name(&self) -> &'static str {
        "reference"
    }

    fn config(&self) -> &BookConfig {
        &self.cfg
    }

    fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.index.clear();
    }

    fn apply<S: EventSink>(&mut self, cmd: &Command, sink: &mut S) {
        match *cmd {
            Command::New(ref o) => self.new_order(o, sink),
            Command::Cancel { id } => self.cancel(id, sink),
            Command::Replace { id, price, qty } => self.replace(id, price, qty, sink),
        }
    }

    fn best_bid(&self) -> Option<Price> {
        self.best_of(Side::Buy)
    }

    fn best_ask(&self) -> Option<Price> {
        self.best_of(Side::Sell)
    }

    fn order(&self, id: OrderId) -> Option<RestingOrder> {
        self.order_internal(id).map(|o| RestingOrder {
            side: o.side,
            price: o.price,
            id: o.id,
            account: o.account,
            open_qty: o.open,
        })
    }

    fn len(&self) -> usize {
        self.index.len()
    }

    fn for_each_order(&self, f: &mut dyn FnMut(&RestingOrder)) {
        let emit = |f: &mut dyn FnMut(&RestingOrder), level: &VecDeque<Order>| {
            for o in level {
                f(&RestingOrder {
                    side: o.side,
                    price: o.price,
                    id: o.id,
                    account: o.account,
                    open_qty: o.open,
                });
            }
        };
        for level in self.bids.values().rev() {
            emit(f, level);
        }
        for level in self.asks.values() {
            emit(f, level);
        }
    }

    fn for_each_level(&self, side: Side, f: &mut dyn FnMut(&LevelView)) {
        let view = |price: Price, level: &VecDeque<Order>| LevelView {
            price,
            // Saturates only if max_order_qty is configured absurdly high.
            total_qty: level.iter().map(|o| o.open as u128).sum(),
            orders: level.len(),
        };
        match side {
            Side::Buy => {
                for (&p, l) in self.bids.iter().rev() {
                    f(&view(p, l));
                }
            }
            Side::Sell => {
                for (&p, l) in self.asks.iter() {
                    f(&view(p, l));
                }
            }
        }
    }
}

/// Self-consistency of the oracle on random streams dense in extremes. These checks do
/// not depend on what the right events are (the scenario suite and the differential tests
/// cover that); they catch a reference that panics, crosses, or loses quantity.
#[cfg(test)]
mod tests;
