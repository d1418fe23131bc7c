//! The fast book: the product.
//!
//! # Layout, and why
//! - **Orders** live in one slab (`Vec<Slot>`) allocated up front and recycled through a
//!   free list, so a new order never allocates. A slot is 32 bytes aligned to 32 (id, open
//!   quantity, the `prev`/`next` indices of its level's FIFO, level, account), so no slot
//!   straddles two cache lines and unlinking any order is O(1). Time in force and STP mode,
//!   read only by a replace, ride in the four bits above the level index.
//! - **Levels** live in a second slab (`Vec<Level>`, one 64-byte cache line each: the
//!   aggregate quantity in 128 bits, price, FIFO head and tail, order count, side), also
//!   recycled.
//! - **Price ladders**, one per side, are sorted vectors of *keys* with the best price at
//!   the end: the key of a bid is its price, the key of an ask is `!price` (bitwise not,
//!   which reverses the order of `i64` without overflow), so one ascending search serves
//!   both sides and the whole `i64` domain is legal. The best level is `last()`: O(1).
//!   A search scans the top eight keys before falling back to binary search, and inserts
//!   near the top move few bytes.
//! - **A level cache** per side, direct-mapped on `price mod 256`, answers "which level
//!   holds this price" for most new orders and replaces without the ladder search (prices
//!   near the touch are contiguous ticks, so they do not collide); it is exact because a
//!   hit is checked against the level's own price and whether it is still in its ladder.
//! - **Id lookup** is [`IdIndex`](super::id_index), an open-addressing table pre-sized
//!   to twice the configured capacity whose hash keeps neighbouring ids in neighbouring
//!   buckets (see its docs for why). A new order probes it once: the duplicate-id check
//!   remembers where the id would go and the insert starts there if nothing moved in
//!   between; a cancel likewise looks up and removes with one probe. A replace that loses
//!   priority keeps its slot and its index entry.
//!
//! Cancel and reduce are O(1): unlinking is O(1) and a level that becomes empty is left
//! in its ladder (*lazily* removed) unless it is the best level, which is popped at once so
//! the best price stays O(1). Empty levels are reused when an order arrives at their price
//! and swept out in one pass when they outnumber the live ones (amortized O(1)).
//!
//! Orders (and replaces) that meet nothing on the other side go straight to resting or
//! cancelling without entering the matching walk.
//!
//! Why not a flat price-indexed array: the issue requires the whole `i64` domain, and even
//! a windowed array thrashes cache when prices spread; a short sorted vector of 8-byte keys
//! keeps the top of book in one or two cache lines, and the level cache gives the O(1)
//! price lookup a window would, without its reach limit. Each step above was kept only if
//! callgrind and a side-by-side wall-clock run agreed (the commits say by how much); the
//! results are in `bench-results/book/` (see the README).

use super::id_index::{IdIndex, Vacancy};
use super::pool::{FreeLink, Pool, NIL};
use super::*;
use crate::command::{Command, Event, EventSink, NewOrder};

/// A resting order, 32 bytes aligned to 32 so that no slot straddles two cache lines (at
/// 40 bytes, half of them did).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(32))]
struct Slot {
    id: OrderId,
    qty: Qty,
    /// Next order in the level's FIFO, or the next free slot when on the free list.
    next: u32,
    prev: u32,
    /// The level's index in its low [`LEVEL_BITS`] bits; above them the time in force and
    /// the STP mode, which only a replace reads. Packing them here instead of in an array
    /// of their own saves a cache line per new order and per replace (criterion, mixed
    /// stream: about 4%).
    level_flags: u32,
    /// Read on every fill when the taker has a self-trade-prevention mode.
    account: Account,
}

/// Bits of [`Slot::level_flags`] that hold the level index: at most 2^28 price levels
/// exist at once (8 GiB of levels; `alloc_level` refuses more).
const LEVEL_BITS: u32 = 28;
const LEVEL_MASK: u32 = (1 << LEVEL_BITS) - 1;

impl Slot {
    /// `level_flags` for a resting order. Only GTC and post-only orders rest.
    #[inline]
    fn pack(level: u32, tif: Tif, stp: Stp) -> u32 {
        debug_assert!(level <= LEVEL_MASK && matches!(tif, Tif::Gtc | Tif::Post));
        let tif_bit = (tif == Tif::Post) as u32;
        let stp_code = match stp {
            Stp::None => 0,
            Stp::CancelTaker => 1,
            Stp::CancelMaker => 2,
            Stp::CancelBoth => 3,
            Stp::DecrementCancel => 4,
        };
        level | tif_bit << LEVEL_BITS | stp_code << (LEVEL_BITS + 1)
    }

    #[inline]
    fn level(&self) -> u32 {
        self.level_flags & LEVEL_MASK
    }

    #[inline]
    fn set_level(&mut self, level: u32) {
        self.level_flags = (self.level_flags & !LEVEL_MASK) | level;
    }

    fn tif(&self) -> Tif {
        if self.level_flags >> LEVEL_BITS & 1 == 1 {
            Tif::Post
        } else {
            Tif::Gtc
        }
    }

    fn stp(&self) -> Stp {
        match self.level_flags >> (LEVEL_BITS + 1) {
            0 => Stp::None,
            1 => Stp::CancelTaker,
            2 => Stp::CancelMaker,
            3 => Stp::CancelBoth,
            _ => Stp::DecrementCancel,
        }
    }
}

/// One price level: a FIFO of slots, and the side it belongs to (so an order's side
/// need not be stored per order). 64 bytes aligned to 64: one cache line.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct Level {
    /// Open quantity of the level's orders. In 128 bits: a level holds up to 2^32 orders
    /// of up to `u64::MAX` each, so the sum is exact for every quantity a book accepts
    /// (two orders of 2^63 already overflow 64 bits).
    total: u128,
    price: Price,
    head: u32,
    tail: u32,
    count: u32,
    side: Side,
    /// In its side's ladder (live or lazily empty); false once freed. Lets the
    /// [`LevelCache`] tell a current entry from a recycled level.
    in_ladder: bool,
}

/// Slots in each side's [`LevelCache`].
const LEVEL_CACHE: usize = 256;

/// A direct-mapped cache from price to level in front of each ladder's search: entry
/// `price mod 256` remembers the last level found or made for a price there. Prices near
/// the touch are contiguous ticks, so the levels that see most new orders map to distinct
/// entries and a hit replaces the ladder search (about 60 instructions, a mispredicted
/// branch now and then) with one load and three compares. A miss, or an entry whose level
/// has since been freed or recycled for another price, falls back to the search.
type LevelCache = [u32; LEVEL_CACHE];

/// A free slot lends its `next` link to the pool's free list.
impl FreeLink for Slot {
    #[inline]
    fn free_link(&self) -> u32 {
        self.next
    }
    #[inline]
    fn set_free_link(&mut self, next: u32) {
        self.next = next;
    }
}

/// A free level lends its `head` link to the pool's free list (its `count` stays 0, so no
/// walk follows it).
impl FreeLink for Level {
    #[inline]
    fn free_link(&self) -> u32 {
        self.head
    }
    #[inline]
    fn set_free_link(&mut self, next: u32) {
        self.head = next;
    }
}

/// The sorted price levels of one side, best at the end.
#[derive(Debug)]
struct Ladder {
    side: Side,
    /// Ascending keys; `keys[i]` belongs to `levels[i]`.
    keys: Vec<i64>,
    levels: Vec<u32>,
    /// Number of entries whose level is empty (lazily removed).
    empties: usize,
}

impl Ladder {
    fn new(side: Side, cap: usize) -> Self {
        Ladder {
            side,
            keys: Vec::with_capacity(cap),
            levels: Vec::with_capacity(cap),
            empties: 0,
        }
    }

    /// The ordering key: larger is better for both sides.
    #[inline]
    fn key(&self, price: Price) -> i64 {
        match self.side {
            Side::Buy => price,
            Side::Sell => !price,
        }
    }

    /// Index of `key` if present, else where it would be inserted.
    #[inline]
    fn search(&self, key: i64) -> Result<usize, usize> {
        let keys = &self.keys[..];
        let n = keys.len();
        // Most prices are near the touch, i.e. among the last few keys. Counting how many
        // of the last eight keys are greater than `key` is branch-free (it vectorizes), so
        // finding the spot costs no mispredicted branch per key scanned (cachegrind on
        // 1M equity-mixed commands: 4.09M -> 3.75M mispredicts against a scan loop).
        const TOP: usize = 8;
        let greater = if n >= TOP {
            // A fixed-length window compiles to straight-line vector compares; a
            // variable-length `iter().filter().count()` compiled to a loop with a branch
            // per key (callgrind: 78 -> 31 instructions per rest for the search).
            let top: &[i64; TOP] = keys[n - TOP..].try_into().expect("TOP keys");
            let g = top.iter().map(|&k| (k > key) as usize).sum::<usize>();
            if g == TOP {
                return keys[..n - TOP].binary_search(&key);
            }
            g
        } else {
            keys.iter().filter(|&&k| k > key).count()
        };
        let pos = n - greater; // keys[..pos] <= key < keys[pos..]
        if pos > 0 && keys[pos - 1] == key {
            Ok(pos - 1)
        } else {
            Err(pos)
        }
    }
}

/// The fast price-time (and pro-rata) book. See the module docs for the layout.
pub struct FastBook {
    cfg: BookConfig,
    slots: Pool<Slot>,
    levels: Pool<Level>,
    /// Bids and asks, indexed by `Side as usize` (an index, not a branch).
    ladders: [Ladder; 2],
    /// Per side, indexed by `Side as usize`.
    level_cache: [LevelCache; 2],
    index: IdIndex,
    live: usize,
    /// Pro-rata scratch, in time order: (slot, allocation) per participant.
    /// Pre-sized; it only grows if a level ever holds more orders than it has seen before.
    scratch: Vec<(u32, Qty)>,
    /// Pro-rata leftover ranking: (remainder, time position) per participant. A remainder
    /// is below the level's total, so it is as wide as [`Level::total`].
    ranking: Vec<(u128, u32)>,
}

/// An order entering the matching walk: a new order, or a resting one re-entering after
/// a replace that lost its priority.
#[derive(Clone, Copy, Debug)]
struct Taker {
    id: OrderId,
    account: Account,
    side: Side,
    /// `None` for market orders.
    limit: Option<Price>,
    qty: Qty,
    tif: Tif,
    stp: Stp,
}

/// What the matching walk left of the taker.
struct Outcome {
    remaining: Qty,
    /// Self-trade prevention stopped the taker (its remainder was already cancelled).
    stopped: bool,
}

impl FastBook {
    pub fn new(cfg: BookConfig) -> Self {
        let cap = cfg.capacity.max(16);
        let level_cap = cap.min(1 << 16);
        // Both pools are pre-filled free lists: every page is written now, not faulted in
        // on the hot path.
        let slots = Pool::prefilled(
            cap,
            Slot {
                id: 0,
                qty: 0,
                next: NIL,
                prev: NIL,
                level_flags: LEVEL_MASK,
                account: 0,
            },
        );
        let levels = Pool::prefilled(
            level_cap,
            Level {
                price: 0,
                total: 0,
                head: NIL,
                tail: NIL,
                count: 0,
                side: Side::Buy,
                in_ladder: false,
            },
        );
        FastBook {
            cfg,
            slots,
            levels,
            ladders: [
                Ladder::new(Side::Buy, level_cap),
                Ladder::new(Side::Sell, level_cap),
            ],
            level_cache: [[NIL; LEVEL_CACHE]; 2],
            index: IdIndex::with_capacity(cap),
            live: 0,
            scratch: Vec::with_capacity(1024),
            ranking: Vec::with_capacity(1024),
        }
    }

    #[inline]
    fn ladder(&self, side: Side) -> &Ladder {
        &self.ladders[side as usize]
    }

    #[inline]
    fn ladder_mut(&mut self, side: Side) -> &mut Ladder {
        &mut self.ladders[side as usize]
    }

    #[inline]
    fn best_level(&self, side: Side) -> Option<u32> {
        self.ladder(side).levels.last().copied()
    }

    // ---- slab management -------------------------------------------------------------

    #[inline]
    fn alloc_level(&mut self, side: Side, price: Price) -> u32 {
        let li = self.levels.alloc(Level {
            price,
            total: 0,
            head: NIL,
            tail: NIL,
            count: 0,
            side,
            in_ladder: true,
        });
        // Slots keep a level index in `LEVEL_BITS` bits.
        assert!(li <= LEVEL_MASK, "more than 2^28 price levels at once");
        li
    }

    /// Return a level to the pool. A freed level keeps `count == 0`, so a walk that
    /// checks the count before reading `head` never follows the free-list link.
    #[inline]
    fn free_level(&mut self, i: u32) {
        debug_assert_eq!(self.levels[i].count, 0);
        self.levels[i].tail = NIL;
        self.levels[i].in_ladder = false;
        self.levels.release(i);
    }

    // ---- ladder maintenance ----------------------------------------------------------

    /// The level for `price` on `side`, created (or revived from a lazily-emptied one) if
    /// needed.
    #[inline]
    fn level_for(&mut self, side: Side, price: Price) -> u32 {
        let entry = (price as usize) % LEVEL_CACHE;
        let cached = self.level_cache[side as usize][entry];
        if cached != NIL {
            let l = &self.levels[cached];
            // `in_ladder` and `price` are what make a hit exact (tests mutate each away).
            // A level of the other side at this price cannot be in its ladder while an
            // order rests here (the book is never crossed); the side compare only guards
            // that invariant.
            if l.in_ladder && l.price == price && l.side == side {
                if l.count == 0 {
                    self.ladder_mut(side).empties -= 1;
                }
                return cached;
            }
        }
        let li = self.search_level(side, price);
        self.level_cache[side as usize][entry] = li;
        li
    }

    /// `level_for` through the ladder's search.
    fn search_level(&mut self, side: Side, price: Price) -> u32 {
        let key = self.ladder(side).key(price);
        match self.ladder(side).search(key) {
            Ok(pos) => {
                let li = self.ladder(side).levels[pos];
                if self.levels[li].count == 0 {
                    self.ladder_mut(side).empties -= 1;
                }
                li
            }
            Err(pos) => {
                let li = self.alloc_level(side, price);
                let ladder = self.ladder_mut(side);
                ladder.keys.insert(pos, key);
                ladder.levels.insert(pos, li);
                li
            }
        }
    }

    /// Pop empty levels off the top of a ladder so that `last()` is always live.
    #[inline]
    fn pop_empty_top(&mut self, side: Side) {
        loop {
            let Some(&li) = self.ladder(side).levels.last() else {
                return;
            };
            if self.levels[li].count != 0 {
                return;
            }
            let ladder = self.ladder_mut(side);
            ladder.keys.pop();
            ladder.levels.pop();
            ladder.empties -= 1;
            self.free_level(li);
        }
    }

    /// A level just became empty: pop it if it is the best, otherwise leave it for later.
    #[inline]
    fn level_emptied(&mut self, side: Side) {
        self.ladder_mut(side).empties += 1;
        self.pop_empty_top(side);
        let ladder = self.ladder(side);
        if ladder.empties > 64 && ladder.empties * 2 > ladder.levels.len() {
            self.sweep_empties(side);
        }
    }

    /// Remove every empty level from a ladder in one pass (amortized over the cancels
    /// that emptied them).
    fn sweep_empties(&mut self, side: Side) {
        let mut ladder = std::mem::replace(self.ladder_mut(side), Ladder::new(side, 0));
        let mut w = 0;
        for r in 0..ladder.levels.len() {
            let li = ladder.levels[r];
            if self.levels[li].count == 0 {
                self.free_level(li);
            } else {
                ladder.keys[w] = ladder.keys[r];
                ladder.levels[w] = li;
                w += 1;
            }
        }
        ladder.keys.truncate(w);
        ladder.levels.truncate(w);
        ladder.empties = 0;
        *self.ladder_mut(side) = ladder;
    }

    // ---- order linking ---------------------------------------------------------------

    /// A new resting order: a fresh slot at the tail of its level, and its id indexed
    /// (from where the duplicate-id check stopped, if nothing has changed since).
    #[inline(always)]
    fn rest(&mut self, o: &NewOrder, price: Price, qty: Qty, at: Vacancy) {
        let NewOrder {
            id,
            account,
            side,
            tif,
            stp,
            ..
        } = *o;
        let li = self.level_for(side, price);
        let tail = self.levels[li].tail;
        // The slot is written once, already linked after the level's tail.
        let si = self.slots.alloc(Slot {
            id,
            qty,
            next: NIL,
            prev: tail,
            level_flags: Slot::pack(li, tif, stp),
            account,
        });
        self.append(li, si, tail, qty);
        self.index.insert_at(id, si, at);
        self.live += 1;
    }

    /// Make slot `si`, whose `prev` is already `tail`, the new tail of level `li`.
    #[inline(always)]
    fn append(&mut self, li: u32, si: u32, tail: u32, qty: Qty) {
        if tail == NIL {
            self.levels[li].head = si;
        } else {
            self.slots[tail].next = si;
        }
        let lvl = &mut self.levels[li];
        lvl.tail = si;
        lvl.count += 1;
        lvl.total += qty as u128;
    }

    /// Put slot `si` (not linked anywhere) at the tail of the `side` level at `price`,
    /// with `qty` open.
    #[inline]
    fn link_tail(&mut self, si: u32, side: Side, price: Price, qty: Qty) {
        let li = self.level_for(side, price);
        let tail = self.levels[li].tail;
        let s = &mut self.slots[si];
        s.qty = qty;
        s.set_level(li);
        s.prev = tail;
        s.next = NIL;
        self.append(li, si, tail, qty);
    }

    /// Take a resting order out of the book: unindex, unlink and free it (the caller
    /// emits any event).
    fn remove(&mut self, si: u32) {
        self.index.remove(self.slots[si].id);
        self.unlink(si);
        self.free_slot(si);
    }

    /// Return an unlinked, unindexed slot to the pool.
    #[inline]
    fn free_slot(&mut self, si: u32) {
        self.slots.release(si);
        self.live -= 1;
    }

    /// Unlink slot `si` from its level's FIFO (the slot and its id stay as they are).
    #[inline(always)]
    fn unlink(&mut self, si: u32) {
        let s = self.slots[si];
        let li = s.level();
        if s.prev != NIL {
            self.slots[s.prev].next = s.next;
        } else {
            self.levels[li].head = s.next;
        }
        if s.next != NIL {
            self.slots[s.next].prev = s.prev;
        } else {
            self.levels[li].tail = s.prev;
        }
        let lvl = &mut self.levels[li];
        lvl.count -= 1;
        lvl.total -= s.qty as u128;
        if self.levels[li].count == 0 {
            self.level_emptied(self.levels[li].side);
        }
    }

    /// Take `q` off a resting order (a fill or a decrement); removes it at zero.
    /// Returns true if the order left the book.
    #[inline]
    fn take(&mut self, si: u32, q: Qty) -> bool {
        let s = &mut self.slots[si];
        s.qty -= q;
        let li = s.level();
        if s.qty == 0 {
            // `remove` subtracts the (now zero) open quantity; subtract the taken part here.
            self.levels[li].total -= q as u128;
            self.remove(si);
            true
        } else {
            self.levels[li].total -= q as u128;
            false
        }
    }

    // ---- commands --------------------------------------------------------------------

    #[inline(never)]
    fn new_order<S: EventSink>(&mut self, o: &NewOrder, sink: &mut S) {
        let vacancy = match self.validate_new(o) {
            Ok(v) => v,
            Err(reason) => {
                sink.event(Event::Reject { id: o.id, reason });
                return;
            }
        };
        sink.event(Event::Ack { id: o.id });
        // Most orders meet nothing: rest or cancel them without entering the matching
        // walk (no taker to build, no outcome to unpack).
        if self.eligible_level(o.side, o.price).is_none() {
            if let Some((price, qty)) = remainder(o.id, o.tif, o.price, o.qty, sink) {
                self.rest(o, price, qty, vacancy);
            }
            return;
        }
        if o.tif == Tif::Fok && !self.fok_fills(o.side, o.account, o.price, o.qty, o.stp) {
            sink.event(Event::Cancel {
                id: o.id,
                qty: o.qty,
                reason: CancelReason::Fok,
            });
            return;
        }
        let t = Taker {
            id: o.id,
            account: o.account,
            side: o.side,
            limit: o.price,
            qty: o.qty,
            tif: o.tif,
            stp: o.stp,
        };
        if let Some((price, qty)) = self.execute(&t, sink) {
            self.rest(o, price, qty, vacancy);
        }
    }

    /// The checks of `docs/SEMANTICS.md`, in order. An accepted order gets back where
    /// its id would be indexed.
    fn validate_new(&self, o: &NewOrder) -> Result<Vacancy, RejectReason> {
        super::validate::check_new(&self.cfg, o)?;
        let vacancy = match self.index.lookup_for_insert(o.id) {
            Ok(_) => return Err(RejectReason::DuplicateId),
            Err(v) => v,
        };
        if o.tif == Tif::Post {
            if let Some(p) = o.price {
                if self.would_cross(o.side, p) {
                    return Err(RejectReason::WouldCross);
                }
            }
        }
        Ok(vacancy)
    }

    /// Would a `side` order at `price` meet the opposite best?
    #[inline]
    fn would_cross(&self, side: Side, price: Price) -> bool {
        match self.best_level(side.opposite()) {
            Some(li) => side.accepts(price, self.levels[li].price),
            None => false,
        }
    }

    /// Match an accepted order and cancel an IOC remainder. Returns the price and
    /// quantity that should rest, if any (the caller rests it: a new slot for a new
    /// order, the same slot for a replace).
    #[inline(always)]
    fn execute<S: EventSink>(&mut self, t: &Taker, sink: &mut S) -> Option<(Price, Qty)> {
        let out = match self.cfg.policy {
            MatchPolicy::PriceTime => self.match_fifo(t, sink),
            MatchPolicy::ProRata { top_order } => self.match_pro_rata(t, top_order, sink),
        };
        if out.remaining == 0 || out.stopped {
            return None;
        }
        remainder(t.id, t.tif, t.limit, out.remaining, sink)
    }

    /// Apply the taker's STP mode to a same-account maker `si`. Returns the taker's new
    /// remaining quantity and whether the taker stopped.
    #[inline]
    fn self_trade<S: EventSink>(
        &mut self,
        taker: OrderId,
        mut rem: Qty,
        stp: Stp,
        si: u32,
        sink: &mut S,
    ) -> (Qty, bool) {
        let m = self.slots[si];
        match stp {
            Stp::None => unreachable!("STP none is an ordinary trade"),
            Stp::CancelTaker => {
                sink.event(Event::Cancel {
                    id: taker,
                    qty: rem,
                    reason: CancelReason::Stp,
                });
                (0, true)
            }
            Stp::CancelMaker => {
                sink.event(Event::Cancel {
                    id: m.id,
                    qty: m.qty,
                    reason: CancelReason::Stp,
                });
                self.remove(si);
                (rem, false)
            }
            Stp::CancelBoth => {
                sink.event(Event::Cancel {
                    id: m.id,
                    qty: m.qty,
                    reason: CancelReason::Stp,
                });
                self.remove(si);
                sink.event(Event::Cancel {
                    id: taker,
                    qty: rem,
                    reason: CancelReason::Stp,
                });
                (0, true)
            }
            Stp::DecrementCancel => {
                let d = rem.min(m.qty);
                sink.event(Event::Cancel {
                    id: m.id,
                    qty: d,
                    reason: CancelReason::Stp,
                });
                sink.event(Event::Cancel {
                    id: taker,
                    qty: d,
                    reason: CancelReason::Stp,
                });
                self.take(si, d);
                rem -= d;
                // A taker decremented to zero is done: nothing more to report.
                (rem, rem == 0)
            }
        }
    }

    /// The opposite side's best level, if a taker of `side` with this limit may trade
    /// there (market orders accept any price).
    #[inline]
    fn eligible_level(&self, side: Side, limit: Option<Price>) -> Option<(u32, Price)> {
        let li = self.best_level(side.opposite())?;
        let price = self.levels[li].price;
        match limit {
            Some(l) if !side.accepts(l, price) => None,
            _ => Some((li, price)),
        }
    }

    /// Price-time matching: walk the opposite ladder from the best level, each level's
    /// FIFO from the head. Every maker before the current one has left the book, so the
    /// current maker is always its level's head.
    fn match_fifo<S: EventSink>(&mut self, t: &Taker, sink: &mut S) -> Outcome {
        let Taker {
            id,
            account,
            side,
            limit,
            qty,
            stp,
            ..
        } = *t;
        let mut rem = qty;
        while rem > 0 {
            let Some((li, price)) = self.eligible_level(side, limit) else {
                break;
            };
            // Consume this level from its head. When it empties, `remove` pops it and the
            // loop moves on to the next best level.
            while rem > 0 && self.levels[li].count > 0 {
                let si = self.levels[li].head;
                let m = &self.slots[si];
                if stp != Stp::None && m.account == account {
                    let (r, stopped) = self.self_trade(id, rem, stp, si, sink);
                    rem = r;
                    if stopped {
                        return Outcome {
                            remaining: rem,
                            stopped: true,
                        };
                    }
                    continue;
                }
                let q = rem.min(m.qty);
                sink.event(Event::Trade {
                    taker: id,
                    maker: m.id,
                    price,
                    qty: q,
                });
                rem -= q;
                self.take(si, q);
            }
        }
        Outcome {
            remaining: rem,
            stopped: false,
        }
    }

    /// Pro-rata matching, per `docs/SEMANTICS.md`: per level, STP first (time order), then
    /// the optional top order FIFO, then proportional allocation with largest-remainder
    /// rounding (ties to the earlier arrival); fills printed in time order.
    fn match_pro_rata<S: EventSink>(
        &mut self,
        t: &Taker,
        top_order: bool,
        sink: &mut S,
    ) -> Outcome {
        let Taker {
            id,
            account,
            side,
            limit,
            qty,
            stp,
            ..
        } = *t;
        let opp = side.opposite();
        let mut rem = qty;
        while rem > 0 {
            let Some((li, price)) = self.eligible_level(side, limit) else {
                break;
            };
            // 1. Self-trade prevention, in time order.
            if stp != Stp::None {
                let mut si = self.levels[li].head;
                while si != NIL {
                    let next = self.slots[si].next;
                    if self.slots[si].account == account {
                        let (r, stopped) = self.self_trade(id, rem, stp, si, sink);
                        rem = r;
                        if stopped {
                            return Outcome {
                                remaining: rem,
                                stopped: true,
                            };
                        }
                    }
                    si = next;
                }
                // The level may have emptied (and been popped): start over at the best.
                if self.levels[li].count == 0 || self.best_level(opp) != Some(li) {
                    continue;
                }
            }
            // 2. Top order, FIFO.
            if top_order {
                let si = self.levels[li].head;
                let m = &self.slots[si];
                let q = rem.min(m.qty);
                sink.event(Event::Trade {
                    taker: id,
                    maker: m.id,
                    price,
                    qty: q,
                });
                rem -= q;
                self.take(si, q);
                if self.levels[li].count == 0 {
                    continue; // the level emptied and was popped
                }
                if rem == 0 {
                    break;
                }
            }
            // 3. Allocation.
            let total = self.levels[li].total;
            if rem as u128 >= total {
                // Everyone fills completely, in time order; the level empties and is popped.
                for _ in 0..self.levels[li].count {
                    let si = self.levels[li].head;
                    let m = &self.slots[si];
                    let q = m.qty;
                    sink.event(Event::Trade {
                        taker: id,
                        maker: m.id,
                        price,
                        qty: q,
                    });
                    rem -= q;
                    self.take(si, q);
                }
                continue;
            }
            self.scratch.clear();
            self.ranking.clear();
            let (q_all, t_all) = (rem as u128, total);
            let mut allocated: Qty = 0;
            let mut si = self.levels[li].head;
            let mut pos = 0u32;
            while si != NIL {
                let s = &self.slots[si];
                let share = q_all * s.qty as u128;
                let a = (share / t_all) as Qty;
                allocated += a;
                self.scratch.push((si, a));
                // The remainder is below `total`, which may exceed a `Qty`.
                self.ranking.push((share % t_all, pos));
                pos += 1;
                si = s.next;
            }
            // The `left` units go one each to the largest remainders, ties to the earlier
            // arrival. Keys are unique (the position breaks ties), so a selection (O(n),
            // no allocation) picks exactly the same participants a full sort would.
            let left = (rem - allocated) as usize;
            if left > 0 {
                let key = |e: &(u128, u32)| (std::cmp::Reverse(e.0), e.1);
                if left < self.ranking.len() {
                    self.ranking.select_nth_unstable_by_key(left - 1, key);
                }
                for &(_, p) in &self.ranking[..left] {
                    self.scratch[p as usize].1 += 1;
                }
            }
            // 4. Print fills in time order.
            for k in 0..self.scratch.len() {
                let (si, a) = self.scratch[k];
                if a == 0 {
                    continue;
                }
                let mid = self.slots[si].id;
                sink.event(Event::Trade {
                    taker: id,
                    maker: mid,
                    price,
                    qty: a,
                });
                rem -= a;
                self.take(si, a);
            }
            debug_assert_eq!(rem, 0);
        }
        Outcome {
            remaining: rem,
            stopped: false,
        }
    }

    /// Would an IOC with this limit and STP mode fill `qty` completely? A read-only walk.
    fn fok_fills(
        &self,
        side: Side,
        account: Account,
        limit: Option<Price>,
        qty: Qty,
        stp: Stp,
    ) -> bool {
        let ladder = self.ladder(side.opposite());
        let pro_rata = matches!(self.cfg.policy, MatchPolicy::ProRata { .. });
        // Sums of open quantity exceed 64 bits (two makers of 2^63), so count in 128.
        let mut need = qty as u128;
        for &li in ladder.levels.iter().rev() {
            let lvl = &self.levels[li];
            if lvl.count == 0 {
                continue;
            }
            if let Some(l) = limit {
                if !side.accepts(l, lvl.price) {
                    return false;
                }
            }
            let mut si = lvl.head;
            let mut level_qty: u128 = 0;
            while si != NIL {
                let m = &self.slots[si];
                if stp != Stp::None && m.account == account {
                    match stp {
                        // CM only removes the maker; the others cut the taker short.
                        Stp::CancelMaker => {}
                        _ => return false,
                    }
                } else {
                    level_qty += m.qty as u128;
                    // Under price-time the walk ends as soon as the taker is filled; under
                    // pro-rata the whole level's STP pass happens before any fill.
                    if !pro_rata && level_qty >= need {
                        return true;
                    }
                }
                si = m.next;
            }
            if level_qty >= need {
                return true;
            }
            need -= level_qty;
        }
        false
    }

    #[inline(never)]
    fn cancel<S: EventSink>(&mut self, id: OrderId, sink: &mut S) {
        match self.index.lookup_for_remove(id) {
            Some((bucket, si)) => {
                let qty = self.slots[si].qty;
                sink.event(Event::Cancel {
                    id,
                    qty,
                    reason: CancelReason::User,
                });
                // One probe serves the lookup and the removal.
                self.index.remove_at(id, bucket);
                self.unlink(si);
                self.free_slot(si);
            }
            None => sink.event(Event::Reject {
                id,
                reason: RejectReason::UnknownId,
            }),
        }
    }

    #[inline(never)]
    fn replace<S: EventSink>(&mut self, id: OrderId, price: Price, qty: Qty, sink: &mut S) {
        let Some(si) = self.index.get(id) else {
            sink.event(Event::Reject {
                id,
                reason: RejectReason::UnknownId,
            });
            return;
        };
        if let Err(reason) = super::validate::check_replace(&self.cfg, price, qty) {
            sink.event(Event::Reject { id, reason });
            return;
        }
        let s = self.slots[si];
        let (tif, stp, li) = (s.tif(), s.stp(), s.level());
        let side = self.levels[li].side;
        if tif == Tif::Post && self.would_cross(side, price) {
            sink.event(Event::Reject {
                id,
                reason: RejectReason::WouldCross,
            });
            return;
        }
        sink.event(Event::Replaced { id });
        let cur_price = self.levels[li].price;
        if price == cur_price && qty <= s.qty {
            self.slots[si].qty = qty;
            self.levels[li].total -= (s.qty - qty) as u128;
            return;
        }
        // Lose priority: leave the level, re-enter as a taker, and rest again in the same
        // slot under the same index entry (neither is touched unless the order ends).
        self.unlink(si);
        // Resting orders are GTC or post-only, so one that meets nothing simply rests.
        if self.eligible_level(side, Some(price)).is_none() {
            self.link_tail(si, side, price, qty);
            return;
        }
        let t = Taker {
            id,
            account: s.account,
            side,
            limit: Some(price),
            qty,
            tif,
            stp,
        };
        match self.execute(&t, sink) {
            Some((price, qty)) => self.link_tail(si, side, price, qty),
            None => {
                self.index.remove(id);
                self.free_slot(si);
            }
        }
    }
}

/// What becomes of `qty` an order did not fill: a GTC or post-only limit rests it (the
/// caller does, given the price and quantity returned); anything else cancels it — FOK as a
/// whole (only reached when nothing could trade), IOC and market remainders as `Ioc`.
#[inline(always)]
fn remainder<S: EventSink>(
    id: OrderId,
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
            sink.event(Event::Cancel { id, qty, reason });
            None
        }
    }
}

impl OrderBook for FastBook {
    fn name(&self) -> &'static str {
        "fast"
    }

    fn config(&self) -> &BookConfig {
        &self.cfg
    }

    #[inline]
    fn apply<S: EventSink>(&mut self, cmd: &Command, sink: &mut S) {
        match cmd {
            Command::New(o) => self.new_order(o, sink),
            Command::Cancel { id } => self.cancel(*id, sink),
            Command::Replace { id, price, qty } => self.replace(*id, *price, *qty, sink),
        }
    }

    fn best_bid(&self) -> Option<Price> {
        self.best_level(Side::Buy).map(|li| self.levels[li].price)
    }

    fn best_ask(&self) -> Option<Price> {
        self.best_level(Side::Sell).map(|li| self.levels[li].price)
    }

    fn order(&self, id: OrderId) -> Option<RestingOrder> {
        let si = self.index.get(id)?;
        let s = &self.slots[si];
        let lvl = &self.levels[s.level()];
        Some(RestingOrder {
            side: lvl.side,
            price: lvl.price,
            id: s.id,
            account: s.account,
            open_qty: s.qty,
        })
    }

    fn len(&self) -> usize {
        self.live
    }

    fn for_each_order(&self, f: &mut dyn FnMut(&RestingOrder)) {
        for side in [Side::Buy, Side::Sell] {
            self.for_each_order_of(side, &mut |o| {
                f(o);
                true
            });
        }
    }

    fn for_each_order_of(&self, side: Side, f: &mut dyn FnMut(&RestingOrder) -> bool) {
        for &li in self.ladder(side).levels.iter().rev() {
            let lvl = &self.levels[li];
            // A lazily emptied level has no head; freed levels are not in the ladder.
            let mut si = lvl.head;
            while si != NIL {
                let s = &self.slots[si];
                let going = f(&RestingOrder {
                    side,
                    price: lvl.price,
                    id: s.id,
                    account: s.account,
                    open_qty: s.qty,
                });
                if !going {
                    return;
                }
                si = s.next;
            }
        }
    }

    fn for_each_level(&self, side: Side, f: &mut dyn FnMut(&LevelView)) {
        for &li in self.ladder(side).levels.iter().rev() {
            let lvl = &self.levels[li];
            if lvl.count > 0 {
                f(&LevelView {
                    price: lvl.price,
                    total_qty: lvl.total,
                    orders: lvl.count as usize,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives one book's `for_each_order_of` with a visitor (the tests compare two books).
    type SideWalk<'a> = &'a dyn Fn(&mut dyn FnMut(&RestingOrder) -> bool);
    /// Drives one book's `for_each_order` with a visitor.
    type BookWalk<'a> = &'a dyn Fn(&mut dyn FnMut(&RestingOrder));

    fn run(book: &mut FastBook, cmds: &[Command]) -> Vec<Event> {
        let mut ev = Vec::new();
        for c in cmds {
            book.apply(c, &mut ev);
        }
        ev
    }

    /// The ladder's top-eight fast path against a plain binary search over every key, for
    /// ladders of every size around the fast path's edge, keys present and absent.
    #[test]
    fn ladder_search_matches_binary_search() {
        for n in 0..24i64 {
            let mut l = Ladder::new(Side::Buy, 0);
            l.keys = (0..n).map(|k| k * 2).collect();
            for key in -2..(2 * n + 2) {
                assert_eq!(l.search(key), l.keys.binary_search(&key), "n {n} key {key}");
            }
        }
    }

    /// The layout the module docs promise: no slot or level straddles a cache line.
    #[test]
    fn slots_and_levels_are_half_a_cache_line() {
        assert_eq!(std::mem::size_of::<Slot>(), 32);
        assert_eq!(std::mem::align_of::<Slot>(), 32);
        assert_eq!(std::mem::size_of::<Level>(), 64);
        assert_eq!(std::mem::align_of::<Level>(), 64);
    }

    /// What a replace reads back of a resting order's time in force, STP mode and level is
    /// what was packed, for every combination that can rest and levels at both ends.
    #[test]
    fn packed_flags_round_trip() {
        let stps = [
            Stp::None,
            Stp::CancelTaker,
            Stp::CancelMaker,
            Stp::CancelBoth,
            Stp::DecrementCancel,
        ];
        for level in [0, 1, 12_345, LEVEL_MASK] {
            for tif in [Tif::Gtc, Tif::Post] {
                for stp in stps {
                    let mut s = Slot {
                        id: 1,
                        qty: 1,
                        next: NIL,
                        prev: NIL,
                        level_flags: Slot::pack(level, tif, stp),
                        account: 0,
                    };
                    assert_eq!((s.level(), s.tif(), s.stp()), (level, tif, stp));
                    s.set_level(7);
                    assert_eq!((s.level(), s.tif(), s.stp()), (7, tif, stp));
                }
            }
        }
    }

    /// The worked example of issue 2, checked by hand.
    #[test]
    fn issue_example() {
        let mut b = FastBook::new(BookConfig::default());
        let ev = run(
            &mut b,
            &[
                Command::New(NewOrder::limit(1, 1, Side::Sell, 100, 5)),
                Command::New(NewOrder::limit(2, 1, Side::Sell, 101, 5)),
                Command::New(NewOrder::limit(3, 2, Side::Buy, 101, 8).with_tif(Tif::Ioc)),
            ],
        );
        assert_eq!(
            ev,
            vec![
                Event::Ack { id: 1 },
                Event::Ack { id: 2 },
                Event::Ack { id: 3 },
                Event::Trade {
                    taker: 3,
                    maker: 1,
                    price: 100,
                    qty: 5
                },
                Event::Trade {
                    taker: 3,
                    maker: 2,
                    price: 101,
                    qty: 3
                },
            ]
        );
        assert_eq!(
            b.snapshot(),
            vec![RestingOrder {
                side: Side::Sell,
                price: 101,
                id: 2,
                account: 1,
                open_qty: 2
            }]
        );
        assert_eq!(b.best_ask(), Some(101));
        assert_eq!(b.best_bid(), None);
    }

    /// Lazily-emptied levels: cancelling a deep level leaves it in the ladder, a new order
    /// at that price revives it, and a sweep of many emptied levels keeps the dump exact.
    #[test]
    fn lazy_levels_revive_and_sweep() {
        let mut b = FastBook::new(BookConfig::default());
        let mut ev = Vec::new();
        for i in 0..200u64 {
            b.apply(
                &Command::New(NewOrder::limit(i + 1, 1, Side::Buy, 1000 - i as i64, 10)),
                &mut ev,
            );
        }
        // Cancel every level except the best and the worst: all lazily emptied or swept.
        for i in 1..199u64 {
            b.apply(&Command::Cancel { id: i + 1 }, &mut ev);
        }
        assert_eq!(b.len(), 2);
        let mut levels = Vec::new();
        b.for_each_level(Side::Buy, &mut |l| levels.push(l.price));
        assert_eq!(levels, vec![1000, 801]);
        b.apply(
            &Command::New(NewOrder::limit(500, 2, Side::Buy, 900, 7)),
            &mut ev,
        );
        levels.clear();
        b.for_each_level(Side::Buy, &mut |l| levels.push(l.price));
        assert_eq!(levels, vec![1000, 900, 801]);
        // Cancel the best: the best must become 900, not a phantom emptied level.
        b.apply(&Command::Cancel { id: 1 }, &mut ev);
        assert_eq!(b.best_bid(), Some(900));
    }

    /// The early-stopping walk of one side against the trait's default (a filter over the
    /// reference book's full dump), on random books with lazily emptied levels, stopping
    /// after 0, 1, a few and all orders.
    #[test]
    fn walk_of_one_side_stops_where_asked() {
        use crate::book::reference::ReferenceBook;
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut fast = FastBook::new(BookConfig::default());
        let mut reference = ReferenceBook::new(BookConfig::default());
        let mut sink = crate::command::CountingSink::default();
        for id in 1..=3_000u64 {
            let cmd = if id > 10 && rng.random_bool(0.4) {
                Command::Cancel {
                    id: rng.random_range(1..id),
                }
            } else {
                let side = if rng.random_bool(0.5) {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let price = 1_000 + rng.random_range(-60..60i64);
                Command::New(NewOrder::limit(id, 1, side, price, rng.random_range(1..50)))
            };
            fast.apply(&cmd, &mut sink);
            reference.apply(&cmd, &mut sink);
            if id % 250 != 0 {
                continue;
            }
            for side in [Side::Buy, Side::Sell] {
                for stop_after in [0usize, 1, 7, usize::MAX] {
                    // Returns the orders seen and how many calls came after `false`.
                    let walk = |each: SideWalk| {
                        let (mut seen, mut stopped, mut after_stop) = (Vec::new(), false, 0);
                        each(&mut |o| {
                            if stopped {
                                after_stop += 1;
                                return false;
                            }
                            if seen.len() == stop_after {
                                stopped = true;
                                return false;
                            }
                            seen.push(*o);
                            true
                        });
                        (seen, after_stop)
                    };
                    let (f, fast_after_stop) = walk(&|g| fast.for_each_order_of(side, g));
                    let (r, _) = walk(&|g| reference.for_each_order_of(side, g));
                    assert_eq!(f, r, "side {side:?}, stop after {stop_after}, at {id}");
                    assert_eq!(fast_after_stop, 0, "the fast walk went on after `false`");
                    if stop_after == usize::MAX {
                        assert!(!f.is_empty());
                    }
                }
            }
        }
    }

    /// The level cache must never hand back a level that was freed, recycled for another
    /// price in the same cache entry (prices 256 apart, negative ones included), or that
    /// belongs to the other side. Checked against the reference book's dump after every
    /// command of a stream built to do exactly that.
    #[test]
    fn level_cache_never_returns_a_stale_level() {
        use crate::book::reference::ReferenceBook;
        let mut fast = FastBook::new(BookConfig::default());
        let mut reference = ReferenceBook::new(BookConfig::default());
        let prices = [100i64, 356, -156, 612, 100 - 512, 0, 256, -256];
        let mut cmds = Vec::new();
        let mut id = 0u64;
        for round in 0..6 {
            for (k, &p) in prices.iter().enumerate() {
                id += 1;
                // Alternate sides so a price's cache entry is also seen by the other side.
                let side = if (k + round) % 2 == 0 {
                    Side::Buy
                } else {
                    Side::Sell
                };
                // Keep bids below asks: bids at p - 10_000, asks at p + 10_000.
                let px = if side == Side::Buy {
                    p - 10_000
                } else {
                    p + 10_000
                };
                cmds.push(Command::New(NewOrder::limit(id, 1, side, px, 5)));
                // Cancel every other order at once: its level empties and is freed or
                // left lazily empty, and the next price in the same entry may recycle it.
                if (id + round as u64).is_multiple_of(2) {
                    cmds.push(Command::Cancel { id });
                }
            }
        }
        let dump = |b: BookWalk| {
            let mut v = Vec::new();
            b(&mut |o| v.push((o.side, o.price, o.id, o.open_qty)));
            v
        };
        for (i, c) in cmds.iter().enumerate() {
            let (mut ef, mut er) = (Vec::new(), Vec::new());
            fast.apply(c, &mut ef);
            reference.apply(c, &mut er);
            assert_eq!(ef, er, "events at command {i}");
            assert_eq!(
                dump(&|f| fast.for_each_order(f)),
                dump(&|f| reference.for_each_order(f)),
                "book after command {i}"
            );
        }
        assert!(fast.len() > 10);
    }
}
