//! Midpoint pegs in the fast book (`docs/SEMANTICS.md`, "Midpoint peg orders"): orders that
//! rest undisplayed at the midpoint of the book's own best bid and offer and trade only
//! there.
//!
//! # Why apart from the lit book, and what the plain path pays
//! A peg has no price of its own, so it lives in no level: the pegs rest in one FIFO per
//! side ([`Pegs`]), and "re-pricing as the touch moves" costs nothing, since the midpoint
//! is computed when it is needed. The plain paths pay no test of their own for pegs:
//! - a new peg fails the plain checks and is entered from the error path, as stops and
//!   icebergs are;
//! - while pegs rest, `slow` is set, so every new order takes `new_order`'s slow path (one
//!   branch the plain path already had), which sends it here;
//! - cancels and replaces are sent here by the dispatcher's `exotic` test, the one test
//!   that also serves icebergs.
//!
//! Here a command runs whole ([`FastBook::apply_with_pegs`]): the incoming order meets the
//! opposite pegs at the midpoint before the lit book, then the resting pegs of both sides
//! cross at whatever midpoint the command left ([`FastBook::peg_cross`]), and only then,
//! while stops are pending, the cascade its prints (the pegs' among them) set off, whose
//! orders are entered here again while pegs rest.
//!
//! # The store ([`Pegs`])
//! Per side, a queue of pegs in arrival order (each side's arrival numbers ascend) and one
//! map from id to side and arrival number for both: a duplicate check is one map lookup,
//! and a cancel or replace finds its peg by that lookup and a binary search of its side's
//! queue by arrival number, O(log pegs). A peg that leaves from the front is popped; one
//! that leaves from the middle (a cancel, a replace, a peg skipped for its cap and filled
//! later) is a tombstone (quantity 0) that the walks skip, popped once it reaches an end,
//! and swept out in one pass when tombstones outnumber live pegs (amortized O(1), as in
//! the far tier). Measured (gungraun `book_ops`, 1,000 pegs resting, instructions per
//! operation), the linear scans of each side's queue this replaced → this: `peg_add`
//! 3,376 → 511, `peg_cancel` 4,035 → 434, `peg_match_one` 3,480 → 528 (the duplicate
//! check scanned every peg), and `mixed_one_peg` (the mixed stream with one peg resting
//! throughout) 434 → 396 per command, against `mixed`'s 190 with none.
//!
//! # The plain lane while pegs rest
//! A new lit order that no peg concerns on entry ([`FastBook::untouched_by_pegs`]) and
//! any cancel take the plain code and then the pegs' cross, instead of the whole-command
//! path: `mixed_one_peg` 396 → 314 per command, `peg_cancel` 437 → 431; the check costs
//! the orders that do reach the pegs (`peg_match_one` 528 → 602, `peg_add` 511 → 536).
//!
//! The queues and the map grow on first use and keep their capacity (as the far tier
//! does), so after warm-up no command allocates. The map is std's `HashMap` hashing ids
//! with the id index's hash ([`IdHasher`]).

use super::execute::{remainder, Taker};
use super::FastBook;
use crate::book::id_index::{fold_hash, Vacancy};
use crate::book::validate;
use crate::book::RestingPeg;
use crate::command::{Command, Event, EventSink, NewOrder};
use crate::types::{
    Account, CancelReason, OrdType, OrderId, Price, Qty, RejectReason, ReplacePriority, Side, Stp,
    Tif,
};
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// One resting peg.
#[derive(Clone, Copy, Debug)]
pub(super) struct Peg {
    id: OrderId,
    account: Account,
    qty: Qty,
    /// Buy: trades at no midpoint above it; sell: none below. `None`: no cap.
    cap: Option<Price>,
    stp: Stp,
    /// Arrival order across both sides: in a cross of two resting pegs the later one is
    /// the taker.
    seq: u64,
}

/// The resting pegs of both sides, each in time priority. See the module docs.
#[derive(Debug, Default)]
pub(super) struct Pegs {
    /// Indexed by `Side as usize`; ascending `seq`; a peg of quantity 0 is a tombstone.
    /// The front and back of each queue are live.
    q: [VecDeque<Peg>; 2],
    /// Tombstones per side.
    dead: [usize; 2],
    /// Every live peg: its side and arrival number.
    ids: HashMap<OrderId, (Side, u64), BuildHasherDefault<IdHasher>>,
    next_seq: u64,
}

/// The peg map's hasher: the id index's folded Fibonacci hash of the id (a few
/// instructions; std's SipHash cost every new order 40 more while a peg rests, gungraun
/// `mixed_one_peg`), with the id index's exposure to chosen ids and no more.
#[derive(Default)]
pub(super) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write_u64(&mut self, id: u64) {
        self.0 = fold_hash(id);
    }
    /// Only `u64` ids are hashed; any other input is folded in eight bytes at a time.
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = fold_hash(self.0 ^ u64::from_le_bytes(b));
        }
    }
}

/// Tombstones tolerated before a sweep is considered, so a short queue is not rebuilt on
/// every other removal.
const SWEEP_SLACK: usize = 32;

impl Pegs {
    /// Does any peg rest?
    #[inline]
    pub(super) fn any(&self) -> bool {
        !self.ids.is_empty()
    }

    /// Number of resting pegs.
    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Does a peg rest on `side`?
    fn side_any(&self, side: Side) -> bool {
        self.q[side as usize].len() > self.dead[side as usize]
    }

    /// Forget every peg, keeping the storage.
    pub(super) fn clear(&mut self) {
        self.q[0].clear();
        self.q[1].clear();
        self.dead = [0; 2];
        self.ids.clear();
        self.next_seq = 0;
    }

    /// Heap bytes held (the map's by its capacity, entries only: a lower bound).
    pub(super) fn heap_bytes(&self) -> usize {
        (self.q[0].capacity() + self.q[1].capacity()) * std::mem::size_of::<Peg>()
            + self.ids.capacity() * std::mem::size_of::<(OrderId, (Side, u64))>()
    }

    /// Side and queue position of live peg `id`: one map lookup, one binary search.
    fn find(&self, id: OrderId) -> Option<(Side, usize)> {
        let &(side, seq) = self.ids.get(&id)?;
        let i = self.q[side as usize]
            .binary_search_by_key(&seq, |p| p.seq)
            .expect("a mapped peg is in its queue");
        debug_assert!(self.q[side as usize][i].qty > 0 && self.q[side as usize][i].id == id);
        Some((side, i))
    }

    /// Is `id` a resting peg?
    pub(super) fn contains(&self, id: OrderId) -> bool {
        self.ids.contains_key(&id)
    }

    /// The peg at position `i` of `side`'s queue (a tombstone has quantity 0).
    fn at(&self, side: Side, i: usize) -> Peg {
        self.q[side as usize][i]
    }

    /// Positions in `side`'s queue, tombstones included: walks go up to this, skipping them.
    fn positions(&self, side: Side) -> usize {
        self.q[side as usize].len()
    }

    /// Live pegs of `side`, in time priority.
    fn live(&self, side: Side) -> impl Iterator<Item = &Peg> {
        self.q[side as usize].iter().filter(|p| p.qty > 0)
    }

    /// A new peg joins the back of its side's queue. Tombstones are swept here, never in
    /// `leave`: a walk holds positions in a queue while pegs leave it, and a sweep would
    /// move them (a pop at the front only happens when the walk's own peg at position 0
    /// leaves, and the walk reads position 0 again).
    fn push(&mut self, t: &Taker, qty: Qty) {
        debug_assert!(qty > 0);
        let s = t.side as usize;
        if self.dead[s] > SWEEP_SLACK && self.dead[s] > self.q[s].len() - self.dead[s] {
            self.q[s].retain(|p| p.qty > 0);
            self.dead[s] = 0;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.ids.insert(t.id, (t.side, seq));
        self.q[t.side as usize].push_back(Peg {
            id: t.id,
            account: t.account,
            qty,
            cap: t.limit,
            stp: t.stp,
            seq,
        });
    }

    /// Take `q` off the live peg at `i` of `side`'s queue; it leaves at zero.
    fn take(&mut self, side: Side, i: usize, q: Qty) {
        let p = &mut self.q[side as usize][i];
        debug_assert!(p.qty >= q && q > 0);
        p.qty -= q;
        if p.qty == 0 {
            self.leave(side, i);
        }
    }

    /// The live peg at `i` of `side`'s queue leaves; returns it as it was.
    fn remove(&mut self, side: Side, i: usize) -> Peg {
        let p = self.q[side as usize][i];
        debug_assert!(p.qty > 0);
        self.q[side as usize][i].qty = 0;
        self.leave(side, i);
        p
    }

    /// The peg at `i` of `side`'s queue has just reached quantity 0: out of the map, and
    /// out of the queue if at an end (with the tombstones behind it), else a tombstone.
    fn leave(&mut self, side: Side, i: usize) {
        let s = side as usize;
        let q = &mut self.q[s];
        self.ids.remove(&q[i].id);
        self.dead[s] += 1;
        while q.front().is_some_and(|p| p.qty == 0) {
            q.pop_front();
            self.dead[s] -= 1;
        }
        while q.back().is_some_and(|p| p.qty == 0) {
            q.pop_back();
            self.dead[s] -= 1;
        }
        debug_assert!(q.front().is_none_or(|p| p.qty > 0) && q.back().is_none_or(|p| p.qty > 0));
    }

    /// Every peg in arrival order: the two queues (each in arrival order already) merged
    /// by `seq`, without allocating.
    pub(super) fn for_each(&self, f: &mut dyn FnMut(&RestingPeg)) {
        let (mut buys, mut sells) = (
            self.live(Side::Buy).peekable(),
            self.live(Side::Sell).peekable(),
        );
        loop {
            let next = match (buys.peek(), sells.peek()) {
                (Some(b), Some(s)) if b.seq > s.seq => (Side::Sell, sells.next()),
                (Some(_), _) => (Side::Buy, buys.next()),
                (None, _) => (Side::Sell, sells.next()),
            };
            let (side, Some(p)) = next else { return };
            f(&RestingPeg {
                side,
                id: p.id,
                account: p.account,
                open_qty: p.qty,
                cap: p.cap,
                stp: p.stp,
            });
        }
    }
}

/// May an order of `side` with this limit or cap (`None`: any price) trade at `mid`?
#[inline]
fn cap_ok(side: Side, cap: Option<Price>, mid: Price) -> bool {
    cap.is_none_or(|c| side.accepts(c, mid))
}

/// The midpoint of `bid` and `ask` in whole price units, if there is one (`bid + ask`
/// even); computed in 128 bits, so no price overflows.
#[inline]
fn midpoint(bid: Price, ask: Price) -> Option<Price> {
    let sum = bid as i128 + ask as i128;
    (sum % 2 == 0).then_some((sum / 2) as Price)
}

impl FastBook {
    /// Any command while pegs rest, and a new peg while none do: the command, then the
    /// resting pegs' cross, then (while stops are pending) the cascade of every print.
    #[cold]
    #[inline(never)]
    pub(super) fn apply_with_pegs<S: EventSink>(&mut self, cmd: &Command, sink: &mut S) {
        if self.stops.is_empty() {
            self.peg_command(cmd, sink);
        } else {
            self.then_cascade(sink, |book, p| book.peg_command(cmd, p));
        }
        self.refresh_modes();
    }

    /// Can a new order take the plain path while pegs rest, its events and state exactly
    /// those of [`Self::apply_with_pegs`]? When no stop is pending (no cascade to run),
    /// it is a plain limit or market order (no peg, stop or iceberg of its own), neither
    /// fill-or-kill nor post-only (whose checks count the pegs), its id is no resting
    /// peg's (the plain duplicate check sees lit ids only), and it cannot reach the
    /// midpoint with an opposite peg resting, so it meets no peg on entry. Measured: the
    /// whole-command path cost every command of the mixed stream 206 instructions more
    /// while one peg rested (gungraun `mixed_one_peg`; the README has the figures).
    pub(super) fn untouched_by_pegs(&self, o: &NewOrder) -> bool {
        self.stops.is_empty()
            && matches!(o.ord_type, OrdType::Limit | OrdType::Market)
            && !matches!(o.tif, Tif::Fok | Tif::Post)
            && self.crossing_mid(o.side, o.price).is_none()
            && !self.pegs.contains(o.id)
    }

    /// After a lit command that took the plain path while pegs rest (no stop pending):
    /// the resting pegs' cross at whatever midpoint it left, then the modes, as
    /// [`Self::apply_with_pegs`] ends.
    pub(super) fn after_plain_with_pegs<S: EventSink>(&mut self, sink: &mut S) {
        debug_assert!(self.stops.is_empty());
        self.peg_cross(sink);
        self.refresh_modes();
    }

    /// One command and the cross after it, without the cascade.
    pub(super) fn peg_command<S: EventSink>(&mut self, cmd: &Command, sink: &mut S) {
        match *cmd {
            Command::New(ref o) => self.new_with_pegs(o, sink),
            Command::Cancel { id } => self.cancel_with_pegs(id, sink),
            Command::Replace { id, price, qty } => self.replace_with_pegs(id, price, qty, sink),
        }
        self.peg_cross(sink);
    }

    /// The midpoint of the lit book's best bid and offer, if both exist and it is whole.
    fn mid(&self) -> Option<Price> {
        let bid = self.levels[self.best_level(Side::Buy)?].price;
        let ask = self.levels[self.best_level(Side::Sell)?].price;
        midpoint(bid, ask)
    }

    /// The midpoint, if opposite pegs rest and a taker of `side` with this limit reaches it.
    fn crossing_mid(&self, side: Side, limit: Option<Price>) -> Option<Price> {
        if !self.pegs.side_any(side.opposite()) {
            return None;
        }
        let mid = self.mid()?;
        cap_ok(side, limit, mid).then_some(mid)
    }

    /// Would a post-only order of `side` at `price` trade with a peg on entry? (Any
    /// opposite peg whose cap admits the midpoint, whoever owns it, as for the lit check.)
    fn peg_would_trade(&self, side: Side, price: Price) -> bool {
        let opp = side.opposite();
        self.crossing_mid(side, Some(price))
            .is_some_and(|mid| self.pegs.live(opp).any(|p| cap_ok(opp, p.cap, mid)))
    }

    /// An incoming order (lit or peg) against the opposite pegs at the midpoint, FIFO among
    /// those whose caps admit it, its STP mode applying. Returns what is left of it and
    /// whether STP stopped it (its remainder then already cancelled).
    fn take_pegs<S: EventSink>(&mut self, t: &Taker, sink: &mut S) -> (Qty, bool) {
        let Some(mid) = self.crossing_mid(t.side, t.limit) else {
            return (t.qty, false);
        };
        let opp = t.side.opposite();
        let owner = self.taker_owner(t.account, t.stp);
        let mut rem = t.qty;
        let mut i = 0;
        let cancel_taker = |sink: &mut S, qty| {
            sink.event(Event::Cancel {
                id: t.id,
                qty,
                reason: CancelReason::Stp,
                side: t.side,
                price: t.limit,
            })
        };
        while rem > 0 && i < self.pegs.positions(opp) {
            let m = self.pegs.at(opp, i);
            if m.qty == 0 || !cap_ok(opp, m.cap, mid) {
                i += 1;
                continue;
            }
            if t.stp != Stp::None && self.same_owner(m.account, t.account, owner) {
                let cancel_maker = |sink: &mut S, qty| {
                    sink.event(Event::Cancel {
                        id: m.id,
                        qty,
                        reason: CancelReason::Stp,
                        side: opp,
                        price: m.cap,
                    })
                };
                match t.stp {
                    Stp::None => unreachable!("STP none is an ordinary trade"),
                    Stp::CancelTaker => {
                        cancel_taker(sink, rem);
                        return (0, true);
                    }
                    Stp::CancelMaker => {
                        cancel_maker(sink, m.qty);
                        self.pegs.remove(opp, i);
                    }
                    Stp::CancelBoth => {
                        cancel_maker(sink, m.qty);
                        self.pegs.remove(opp, i);
                        cancel_taker(sink, rem);
                        return (0, true);
                    }
                    Stp::DecrementCancel => {
                        let d = rem.min(m.qty);
                        cancel_maker(sink, d);
                        cancel_taker(sink, d);
                        self.pegs.take(opp, i, d);
                        rem -= d;
                        if rem == 0 {
                            return (0, true);
                        }
                    }
                }
                continue;
            }
            let q = rem.min(m.qty);
            sink.event(Event::Trade {
                taker: t.id,
                maker: m.id,
                price: mid,
                qty: q,
            });
            self.pegs.take(opp, i, q);
            rem -= q;
        }
        (rem, false)
    }

    /// Resting pegs of both sides whose caps admit the current midpoint cross there, the
    /// first such buy against the first such sell, the later arrival as taker (its STP
    /// mode applies), until one side has none left.
    fn peg_cross<S: EventSink>(&mut self, sink: &mut S) {
        loop {
            if !self.pegs.side_any(Side::Buy) || !self.pegs.side_any(Side::Sell) {
                return;
            }
            let Some(mid) = self.mid() else { return };
            let first = |side: Side| {
                (0..self.pegs.positions(side)).find(|&i| {
                    let p = self.pegs.at(side, i);
                    p.qty > 0 && cap_ok(side, p.cap, mid)
                })
            };
            let (Some(b), Some(s)) = (first(Side::Buy), first(Side::Sell)) else {
                return;
            };
            let (ts, ti, ms, mi) =
                if self.pegs.at(Side::Buy, b).seq > self.pegs.at(Side::Sell, s).seq {
                    (Side::Buy, b, Side::Sell, s)
                } else {
                    (Side::Sell, s, Side::Buy, b)
                };
            let t = self.pegs.at(ts, ti);
            let m = self.pegs.at(ms, mi);
            let stp_cancel = |sink: &mut S, p: &Peg, side, qty| {
                sink.event(Event::Cancel {
                    id: p.id,
                    qty,
                    reason: CancelReason::Stp,
                    side,
                    price: p.cap,
                })
            };
            // The two pegs are on different queues, so neither removal moves the other.
            if t.stp != Stp::None
                && self.same_owner(m.account, t.account, self.taker_owner(t.account, t.stp))
            {
                match t.stp {
                    Stp::None => unreachable!("STP none is an ordinary trade"),
                    Stp::CancelTaker => {
                        stp_cancel(sink, &t, ts, t.qty);
                        self.pegs.take(ts, ti, t.qty);
                    }
                    Stp::CancelMaker => {
                        stp_cancel(sink, &m, ms, m.qty);
                        self.pegs.take(ms, mi, m.qty);
                    }
                    Stp::CancelBoth => {
                        stp_cancel(sink, &m, ms, m.qty);
                        stp_cancel(sink, &t, ts, t.qty);
                        self.pegs.take(ms, mi, m.qty);
                        self.pegs.take(ts, ti, t.qty);
                    }
                    Stp::DecrementCancel => {
                        let d = t.qty.min(m.qty);
                        stp_cancel(sink, &m, ms, d);
                        stp_cancel(sink, &t, ts, d);
                        self.pegs.take(ms, mi, d);
                        self.pegs.take(ts, ti, d);
                    }
                }
                continue;
            }
            let q = t.qty.min(m.qty);
            sink.event(Event::Trade {
                taker: t.id,
                maker: m.id,
                price: mid,
                qty: q,
            });
            self.pegs.take(ms, mi, q);
            self.pegs.take(ts, ti, q);
        }
    }

    /// A new order of any type while pegs rest (or a new peg): validation with the pegs in
    /// view, `ACK`, then by type: a stop is held, a peg meets the opposite pegs, and a
    /// limit, market or iceberg order meets the opposite pegs and then the lit book.
    fn new_with_pegs<S: EventSink>(&mut self, o: &NewOrder, sink: &mut S) {
        let vacancy = match self.validate_with_pegs(o) {
            Ok(v) => v,
            Err(reason) => return sink.event(Event::Reject { id: o.id, reason }),
        };
        sink.event(Event::Ack { id: o.id });
        if let Some(trigger) = o.ord_type.trigger() {
            return self.pend_stop(o, trigger);
        }
        let t = Taker::of_new(o);
        if o.ord_type == OrdType::MidPeg {
            return self.peg_arrival(&t, sink);
        }
        if o.tif == Tif::Fok && !self.fok_with_pegs(&t) {
            return sink.event(Event::Cancel {
                id: o.id,
                qty: o.qty,
                reason: CancelReason::Fok,
                side: o.side,
                price: o.price,
            });
        }
        let (qty, stopped) = self.take_pegs(&t, sink);
        if stopped || qty == 0 {
            return;
        }
        // What the pegs left meets the lit book as the order would have; peg trades touch
        // no id, so the duplicate check's place still holds.
        let o = &NewOrder { qty, ..*o };
        if o.ord_type.display().is_some() {
            return self.enter_iceberg(o, vacancy, sink);
        }
        if self.eligible_level(o.side, o.price).is_none() {
            if let Some((price, qty)) = remainder(o.id, o.side, o.tif, o.price, qty, sink) {
                self.rest(o, price, qty, Some(vacancy), true);
            }
            return;
        }
        self.match_new(o, sink);
    }

    /// All the checks of a new order with the pegs in view: the stateless ones, a live
    /// duplicate id (a pending stop's or a resting peg's too), and a post-only order that
    /// would cross the lit book or trade with a peg.
    fn validate_with_pegs(&self, o: &NewOrder) -> Result<Vacancy, RejectReason> {
        let vacancy = self.validate_turned_away(o)?;
        if self.pegs.contains(o.id) {
            return Err(RejectReason::DuplicateId);
        }
        if let (Tif::Post, Some(p)) = (o.tif, o.price) {
            if self.would_cross(o.side, p) || self.peg_would_trade(o.side, p) {
                return Err(RejectReason::WouldCross);
            }
        }
        Ok(vacancy)
    }

    /// An accepted peg (or a replaced one re-entering): it meets the opposite pegs at the
    /// midpoint, then a GTC remainder joins the back of its side's queue and an IOC
    /// remainder is cancelled.
    fn peg_arrival<S: EventSink>(&mut self, t: &Taker, sink: &mut S) {
        let (rem, stopped) = self.take_pegs(t, sink);
        if stopped || rem == 0 {
            return;
        }
        if t.tif == Tif::Gtc {
            self.pegs.push(t, rem);
            self.exotic = true;
        } else {
            sink.event(Event::Cancel {
                id: t.id,
                qty: rem,
                reason: CancelReason::Ioc,
                side: t.side,
                price: t.limit,
            });
        }
    }

    /// Would `t` fill completely, first from the opposite pegs (as [`Self::take_pegs`]
    /// would meet them: a same-owner peg is skipped under cancel-maker and cuts the taker
    /// short under any other mode), then from the lit book?
    fn fok_with_pegs(&self, t: &Taker) -> bool {
        let mut need = t.qty;
        if let Some(mid) = self.crossing_mid(t.side, t.limit) {
            let opp = t.side.opposite();
            let owner = self.taker_owner(t.account, t.stp);
            for p in self.pegs.live(opp) {
                if !cap_ok(opp, p.cap, mid) {
                    continue;
                }
                if t.stp != Stp::None && self.same_owner(p.account, t.account, owner) {
                    if t.stp == Stp::CancelMaker {
                        continue;
                    }
                    return false;
                }
                if p.qty >= need {
                    return true;
                }
                need -= p.qty;
            }
        }
        self.fok_fills(t.side, t.account, t.limit, need, t.stp)
    }

    /// A cancel while pegs rest: a peg leaves (`CXL` with its cap as price), anything else
    /// is cancelled as while icebergs rest.
    pub(super) fn cancel_with_pegs<S: EventSink>(&mut self, id: OrderId, sink: &mut S) {
        let Some((side, i)) = self.pegs.find(id) else {
            return self.cancel_with_icebergs(id, sink);
        };
        let p = self.pegs.remove(side, i);
        sink.event(Event::Cancel {
            id,
            qty: p.qty,
            reason: CancelReason::User,
            side,
            price: p.cap,
        });
    }

    /// A replace while pegs rest. A peg's: its new terms checked as a replace's, `RPL`,
    /// and it re-enters as a new GTC peg with `price` as its cap. A lit order's: the plain
    /// replace's checks with a post-only order also refused if it would trade with a peg;
    /// an order that loses priority meets the opposite pegs before the lit book.
    fn replace_with_pegs<S: EventSink>(
        &mut self,
        id: OrderId,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) {
        let si = self.index.get(id);
        let peg = if si.is_none() {
            self.pegs.find(id)
        } else {
            None
        };
        let reject = |sink: &mut S, reason| sink.event(Event::Reject { id, reason });
        if si.is_none() && peg.is_none() {
            return reject(sink, RejectReason::UnknownId);
        }
        if let Err(reason) = validate::check_replace_on(&self.cfg, self.grid, price, qty) {
            return reject(sink, reason);
        }
        let Some(si) = si else {
            let (side, i) = peg.expect("a peg when no order rests");
            let p = self.pegs.remove(side, i);
            sink.event(Event::Replaced { id });
            let t = Taker {
                id,
                account: p.account,
                side,
                limit: Some(price),
                qty,
                tif: Tif::Gtc,
                stp: p.stp,
            };
            return self.peg_arrival(&t, sink);
        };
        let s = self.slots[si];
        let li = s.level();
        let side = self.levels[li].side;
        if s.tif() == Tif::Post
            && (self.would_cross(side, price) || self.peg_would_trade(side, price))
        {
            return reject(sink, RejectReason::WouldCross);
        }
        sink.event(Event::Replaced { id });
        let iceberg = self.icebergs.any().then(|| self.icebergs.get(si)).flatten();
        if iceberg.is_none()
            && self.cfg.replace_priority == ReplacePriority::KeepIfReduced
            && price == self.levels[li].price
            && qty <= s.qty
        {
            // The touch's price is unchanged: nothing for the pegs.
            return self.reduce_in_place(si, qty);
        }
        self.unlink(si);
        let t = Taker::requeued(&s, id, side, price, qty);
        let (qty, stopped) = self.take_pegs(&t, sink);
        let t = Taker { qty, ..t };
        match iceberg {
            _ if stopped || qty == 0 => {
                self.icebergs.forget(si);
                self.settle(si, id, side, None);
            }
            Some(st) => self.requeue_unlinked_iceberg(si, &t, st.display, sink),
            None => {
                let left = if self.eligible_level(side, Some(price)).is_none() {
                    Some((price, qty))
                } else {
                    self.execute(&t, sink)
                };
                self.settle(si, id, side, left);
            }
        }
    }
}
