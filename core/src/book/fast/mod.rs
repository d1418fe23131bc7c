//! The fast book: the product.
//!
//! # Layout, and why
//! - **Orders** live in one slab of [`Slot`](slots)s allocated up front and recycled
//!   through a free list, so a new order never allocates. A slot is 32 bytes aligned to 32
//!   (id, open quantity, the `prev`/`next` links of its level's FIFO, level, account), so
//!   no slot straddles two cache lines and unlinking any order is O(1).
//! - **Levels** live in a second slab, one 64-byte cache line each: the aggregate quantity
//!   in 128 bits (exact for every accepted quantity), price, FIFO head and tail, order
//!   count, side; also recycled.
//! - **Price ladders**, one per side: a sorted window of at most 1,024 keys at the touch
//!   with the best price at its end, over a far tier of the levels beyond it (a sorted
//!   deque, O(1) at both ends, with a map for keys inside it), so a level is inserted or
//!   removed in O(log levels) at any depth and the best is O(1); a
//!   direct-mapped **level cache** sits in front ([`ladder`]).
//! - **Id lookup** is the crate's `IdIndex`, an open-addressing table that starts with room
//!   for 4,096 ids and then follows the live orders, doubling incrementally, whose hash gives sequential
//!   ids even spacing and scatters the rest. A
//!   new order probes it once: the duplicate-id check remembers where the id would go and
//!   the insert starts there if nothing moved in between; a cancel likewise looks up and
//!   removes with one probe. A replace that loses priority keeps its slot and its entry.
//! - Slab indices are the pool's own types, minted only by the pool, which is what makes
//!   their unchecked access sound (`pool` module docs).
//!
//! Cancel and reduce are O(1) ([`links`]); a level that empties is left in its ladder
//! unless it is the best. Orders (and replaces) that meet nothing on the other side go
//! straight to resting or cancelling without entering the matching walk ([`commands`]).
//!
//! Why not a flat price-indexed array: the whole `i64` domain is legal, and even a windowed
//! array thrashes cache when prices spread; a short sorted window of 8-byte keys keeps the
//! top of book in one or two cache lines, and the level cache gives the O(1) price lookup a
//! window would, without its reach limit. Why not the sorted vector alone (as before):
//! a level inserted away from the touch moved everything behind it, quadratic on a deep
//! ladder built outward (`ladder` docs have the numbers). Each step above was kept only if callgrind and a
//! side-by-side wall-clock run agreed (the commits say by how much); the results are in
//! `bench-results/` (see the README).
//!
//! # Where each idea lives
//! [`slots`] what is stored per order and level; [`ladder`] levels by price and the level
//! cache; [`links`] the FIFOs; [`commands`] validation and the three commands; [`execute`]
//! the matching frame and the one fill step; [`fifo`], [`pro_rata`] and [`fok`] the
//! policies and the fill-or-kill pre-check; [`stp`] self-trade prevention; [`stops`]
//! pending stops and their cascade; [`iceberg`] icebergs' hidden reserves and refills;
//! [`peg`] midpoint pegs, apart from the lit book;
//! [`trait_impl`] the [`OrderBook`](crate::book::OrderBook) queries.

mod allocation;
mod commands;
mod execute;
mod far;
mod fifo;
mod fok;
mod footprint;
mod iceberg;
mod ladder;
mod links;
mod peg;
mod pro_rata;
mod slots;
mod stops;
mod stp;
mod trait_impl;

#[cfg(test)]
mod tests;

use self::ladder::{Ladder, LevelCache, LEVEL_CACHE};
use self::slots::{Level, Slot};
use super::groups::AccountGroups;
use super::id_index::IdIndex;

/// Live ids the id index has room for at construction (at most; `capacity` if smaller).
/// Past it the index grows incrementally (a few buckets moved per insert). Not sized to
/// `capacity`: a table for the default 65,536 orders is 2 MiB, and a hash that spreads ids
/// evenly over it costs a cache miss per lookup; measured side by side (criterion, quiet
/// machine, 0f76822), the capacity-sized table made `mixed/equity_800k` 90 ms against
/// 34 ms for a table that follows the live orders, and `match_one` slower than the
/// reference book. The price is one allocation per doubling past 4,096 live ids.
const INDEX_START_IDS: usize = 4_096;
use super::pool::{self, Ix, Link, Pool};
use crate::types::{BookConfig, MatchPolicy, Qty, Side};

/// The fast price-time (and pro-rata) book. See the module docs for the layout.
///
/// `FastBook::new` pre-allocates, and writes through once so that its pages are faulted in
/// before the first order: `cfg.capacity` order slots (at least 16), `min(capacity,
/// 65,536)` price levels per book, each side's ladder window (`min(capacity, 1,024)`
/// levels, at least 16), and an id table with room for `min(capacity, 4,096)` ids (see
/// `INDEX_START_IDS` for why not more). Past any of these, storage grows (an allocation on the command
/// that needs it, never a rejection): the id table makes one twice its size and moves the
/// ids over a few per insert (never all at once; see the `id_index` module), and a side
/// with more levels than its window keeps the rest in its far tier, whose deque grows (and
/// keeps its capacity) and whose map allocates for levels inserted inside the deque's
/// range.
pub struct FastBook {
    cfg: BookConfig,
    /// `validate::has_grid(&cfg)`, computed once (see there).
    grid: bool,
    /// `grid`, a CME policy, or stops pending: the one flag a new order tests before the
    /// plain path ([`stops`]; the plain path rests without the CME TOP hook).
    slow: bool,
    /// Pending stops and stop-limits in arrival order ([`stops`]).
    stops: Vec<stops::PendingStop>,
    slots: Pool<Slot>,
    levels: Pool<Level>,
    /// Bids and asks, indexed by `Side as usize` (an index, not a branch).
    ladders: [Ladder; 2],
    /// Per side, indexed by `Side as usize`.
    level_cache: [LevelCache; 2],
    index: IdIndex<Slot>,
    live: usize,
    /// Pro-rata scratch, in time order: (slot, allocation) per participant.
    /// Pre-sized; it only grows if a level ever holds more orders than it has seen before.
    scratch: Vec<(Ix<Slot>, Qty)>,
    /// Pro-rata leftover ranking: (remainder, time position) per participant, for levels
    /// whose total fits in 64 bits (so does every remainder, which is below it).
    ranking: Vec<(u64, u32)>,
    /// The same for levels whose total exceeds 64 bits. Pre-sized like `ranking`.
    wide_ranking: Vec<(u128, u32)>,
    /// Beneficial-owner groups for self-trade prevention; empty (the default) compares
    /// single accounts ([`stp`] module).
    groups: AccountGroups,
    /// CME allocation ([`allocation`]): per side (`Side as usize`), the TOP order's id.
    top: [Option<crate::types::OrderId>; 2],
    /// CME allocation scratch, in time order: the level's orders as the allocation sees
    /// them, their slots, and their fills. Empty unless the policy is CME.
    cme_orders: Vec<crate::allocation::LevelOrder>,
    cme_slots: Vec<Ix<Slot>>,
    cme_fills: Vec<Qty>,
    /// Iceberg reserves by slot ([`iceberg`]); empty unless icebergs rest.
    icebergs: iceberg::Icebergs,
    /// Resting midpoint pegs ([`peg`]); empty unless pegs rest.
    pegs: peg::Pegs,
    /// Set whenever icebergs or pegs rest (it may stay set a little after the last has
    /// gone): the one test that sends a cancel or replace off the plain path, for both
    /// kinds. Set where an iceberg or peg comes to rest, recomputed by
    /// [`FastBook::refresh_modes`] after every command that took the exotic path.
    exotic: bool,
}

impl FastBook {
    /// An empty book with the limits and policy of `cfg`, its storage pre-allocated (see
    /// the type's docs for how much).
    pub fn new(cfg: BookConfig) -> Self {
        let cap = cfg.capacity.max(16);
        let level_cap = cap.min(1 << 16);
        // CME scratch, like the pro-rata scratch, only for a CME book.
        let cme_cap = match cfg.policy {
            MatchPolicy::Cme(_) => cap.min(1024),
            _ => 0,
        };
        // Both pools are pre-filled free lists: every page is written now, not faulted in
        // on the hot path.
        let mut ladders = [Ladder::new(Side::Buy), Ladder::new(Side::Sell)];
        // A small book (one of many in a `MultiBook`) keeps a window of `capacity`
        // levels, not 1,024: 24 KiB per book otherwise.
        for ladder in &mut ladders {
            ladder.keys.shrink_to(level_cap);
            ladder.levels.shrink_to(level_cap);
        }
        FastBook {
            grid: crate::book::validate::has_grid(&cfg),
            slow: slow_config(&cfg),
            stops: Vec::with_capacity(cap.min(stops::STOPS_START)),
            cfg,
            slots: Pool::prefilled(cap, Slot::BLANK),
            levels: Pool::prefilled(level_cap, Level::BLANK),
            ladders,
            level_cache: [[Link::NIL; LEVEL_CACHE]; 2],
            index: IdIndex::with_capacity(cap.min(INDEX_START_IDS)),
            live: 0,
            // Pro-rata scratch for a level of up to `min(capacity, 1,024)` orders: a small
            // book (one of many in a `MultiBook`) does not carry 64 KiB of it.
            scratch: Vec::with_capacity(cap.min(1024)),
            ranking: Vec::with_capacity(cap.min(1024)),
            wide_ranking: Vec::with_capacity(cap.min(1024)),
            groups: AccountGroups::new(),
            top: [None; 2],
            cme_orders: Vec::with_capacity(cme_cap),
            cme_slots: Vec::with_capacity(cme_cap),
            cme_fills: Vec::with_capacity(cme_cap),
            icebergs: iceberg::Icebergs::default(),
            pegs: peg::Pegs::default(),
            exotic: false,
        }
    }

    /// Makes room for `orders` resting orders at once, for a caller that knows how many
    /// are coming (a snapshot's rebuild re-adds every order it holds): the order pool's
    /// storage, and, while the book is empty, an id index of that size (see the
    /// `id_index` module), so that they go in without the doublings, copies and
    /// incremental migrations growth makes on the way. No effect on the book's state or
    /// events. It allocates: not for the hot path.
    pub fn reserve(&mut self, orders: usize) {
        self.slots.reserve_total(orders);
        if self.live == 0 {
            self.index.reserve_while_empty(orders);
        }
    }

    /// A hint for a caller that knows the commands ahead (recovery replaying a journal,
    /// or rebuilding a snapshot): starts loading the id-index bucket a command on `id`
    /// will look up first, so that its cache miss overlaps the commands before it. No
    /// effect on the book's state or events.
    #[inline]
    pub fn prefetch_id(&self, id: crate::types::OrderId) {
        self.index.prefetch(id);
    }

    /// The next step after [`FastBook::prefetch_id`], closer to the command: if `id`
    /// rests (its bucket, prefetched earlier, now answers without a miss), starts loading
    /// its order slot, which a cancel or replace reads and unlinks. A hint like it.
    #[inline]
    pub fn prefetch_order(&self, id: crate::types::OrderId) {
        if let Some(slot) = self.index.get(id) {
            pool::prefetch(&self.slots[slot]);
        }
    }

    /// Let self-trade prevention act on beneficial-owner groups: an order with an STP
    /// mode then meets every resting order of its group as its own (`docs/SEMANTICS.md`,
    /// "Account groups"). An empty table switches it off. Set it before trading: orders
    /// already resting are judged by the table in force when they are met. Kept by
    /// [`FastBook::clear`].
    pub fn set_account_groups(&mut self, groups: AccountGroups) {
        self.groups = groups;
    }

    /// The account-group table in force (empty when group STP is off).
    pub fn account_groups(&self) -> &AccountGroups {
        &self.groups
    }

    /// Empty the book, as if just made with the same configuration, keeping all storage
    /// (including any grown past the configured capacity): no allocation, and none later
    /// until the book holds more than it ever has. O(storage).
    pub fn clear(&mut self) {
        self.slots.clear();
        self.levels.clear();
        for ladder in &mut self.ladders {
            ladder.clear();
        }
        self.level_cache = [[Link::NIL; LEVEL_CACHE]; 2];
        self.index.clear();
        self.live = 0;
        self.stops.clear();
        self.slow = slow_config(&self.cfg);
        self.scratch.clear();
        self.ranking.clear();
        self.wide_ranking.clear();
        self.top = [None; 2];
        self.cme_orders.clear();
        self.cme_slots.clear();
        self.cme_fills.clear();
        self.icebergs.clear();
        self.pegs.clear();
        self.exotic = false;
    }

    /// Recompute `slow` ("a grid, a CME policy, stops pending or pegs resting": new orders
    /// take `new_order`'s slow path) and `exotic` ("icebergs or pegs rest") after a command
    /// may have changed what rests or is pending.
    fn refresh_modes(&mut self) {
        self.slow = slow_config(&self.cfg) || !self.stops.is_empty() || self.pegs.any();
        self.exotic = self.icebergs.any() || self.pegs.any();
    }
}

/// What makes a book take `new_order`'s slow path whatever its stops: a price grid, or a
/// CME policy (whose TOP hook the plain path skips).
fn slow_config(cfg: &BookConfig) -> bool {
    crate::book::validate::has_grid(cfg) || matches!(cfg.policy, MatchPolicy::Cme(_))
}
