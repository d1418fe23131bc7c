//! Price levels by price: per side, a short sorted *near* window at the touch over the
//! *far* tier of the levels beyond it, a direct-mapped level cache in front of both, and
//! the upkeep that keeps the best level at the window's end.
//!
//! # Keys
//! The key of a bid is its price, the key of an ask is `!price` (bitwise not, which
//! reverses the order of `i64` without overflow), so one ascending order serves both sides
//! and the whole `i64` domain is legal. Larger keys are better.
//!
//! # Two tiers, and the invariant between them
//! - **Near**: a sorted vector of at most [`NEAR_MAX`] keys (and their levels) with the
//!   best at the end. The best level is `last()`: O(1). A search scans the top eight keys
//!   before falling back to binary search, and an insert near the top moves few bytes;
//!   any insert moves at most `NEAR_MAX` entries (a bounded, cache-resident cost).
//! - **Far**: a [`FarTier`] (the `far` module) for everything worse than the window: a
//!   sorted deque of levels that takes a key below all of it or above all of it in O(1)
//!   and gives up its best keys in O(1) each, removals from its middle tombstoned and
//!   compacted, and a `BTreeMap` for the keys that arrive inside its range. Insert, find
//!   and remove are O(log levels) at any distance from the touch (removal amortized).
//! - Every far key is below every near key, and the far tier is empty whenever the window
//!   is: so the window's last entry is the side's best, and a key below the window's first
//!   key is looked up in the far tier only.
//! - A new level that belongs below a window of at least [`SPILL`] levels, or below a
//!   window with a non-empty far tier, goes straight to the far tier (a ladder built away from the touch: a push at
//!   the far tier's worst end, O(1)). A full window that must take a level inside it first
//!   *spills* its worse half ([`SPILL`] entries) into the far tier: they are above every
//!   far key, so each is a push at its best end, O(1). A window emptied by matching
//!   *refills* with up to [`SPILL`] of the best far levels: one copy of the deque's tail,
//!   O(`SPILL`), or (when map keys sit among the best) `SPILL` pops, O(`SPILL` · log
//!   levels). Each spill or refill is paid for by the `SPILL` window inserts or pops
//!   before it, so both are amortized O(1) to O(log levels) per level; no single command
//!   pays more than one spill, or one refill per level it empties.
//!
//! # Empty levels
//! A near level that empties is left in the window (*lazily* removed) unless it is the
//! best, which is popped at once so the best price stays O(1); empty levels are reused when
//! an order arrives at their price, dropped when they are spilled, and swept out of the
//! window in one pass when they outnumber the live ones (at most `NEAR_MAX` entries, so
//! bounded). A far level that empties leaves the far tier at once (O(log levels)), so the
//! far tier holds live levels only and a refill never brings back an empty one.
//!
//! # The level cache
//! Per side, direct-mapped on `price mod 256`, it answers "which level holds this price"
//! for most new orders and replaces without a search, near or far (prices near the touch
//! are contiguous ticks, so they do not collide); it is exact because a hit is checked
//! against the level's own price and whether it is still in its ladder. On deep-ladder
//! every price is new, so it always misses there (about 20 instructions a command); it is
//! kept for the common case, where it replaces a search on most new orders.
//!
//! # Alternatives measured
//! Instructions per command inside `drive`, `valgrind --tool=callgrind
//! --toggle-collect='*drive*' target/release/examples/profile_mixed BOOK 1000000 WORKLOAD`
//! (the reference book: 1,025 on equity-mixed, 3,871 on deep-ladder, 1,025 on wide-band):
//!
//! | ladder | equity-mixed | deep-ladder | wide-band |
//! | --- | --- | --- | --- |
//! | one sorted vector per side (before) | 166.3 | quadratic: 200k commands took 13.5 s against the reference's 0.57 s | |
//! | window 1,024 over `BTreeMap`, refill by 256 `pop_last`, far insert by `get` + `insert` | 167.3 | 1,177 | |
//! | the same, refill by one `split_off`, far insert by `entry` | 167.3 | 938 | |
//! | the same, and a level emptied at the touch skips the far check | 167.3 | 928.5 | |
//! | window 256, spill 64 | 167.3 | 954.9 | |
//! | window 4,096, spill 1,024 | 167.3 | 945.4 | |
//! | the last `BTreeMap` one, remeasured at this commit's parent | 171.7 | 929.5 | 172.0 |
//! | far tier = sorted `VecDeque` run (pushes at both ends) + tombstones + `BTreeMap` for interior keys; refill by 256 `pop_best` | 171.7 (unchanged) | 625.2 | |
//! | the same, refill by copying the run's tail; the push below the run inline in `search_level` | 172.3 | 537.2 | |
//! | the same, the copy by exact-size `extend`s when the tail has no tombstone | 172.3 | 525.9 | 172.7 |
//! | the same, and a level below a window of 256+ starts the far tier (this; gungraun 20,200-command workloads, with the id index's 16-bucket moves: deep-ladder 604.9 → 564.0, equity-mixed 190.6 unchanged) | – | – | – |
//! | the same, and the best level that empties is popped at once, without the empties count's round trip or the sweep check (gungraun, `bench-results/instructions/ladder-fff983d.txt`: deep-ladder 556.3 → 536.5, book_ops `sweep` 205,167 → 185,173, equity-mixed 188.3 unchanged) | – | – | – |
//!
//! The equity-mixed stream never fills even a 256-level window, so its cost does not
//! depend on the far tier; 1,024 / 256 was the cheapest window on deep-ladder, and bounds
//! a window insert to moving 12 KiB. What deep-ladder still pays in the ladder, per
//! command (callgrind, line level): the level cache miss and `search_level` about 35, the
//! deque push about 22 (plus its growth to 400,000 entries, about 14, once per book), the
//! level's pool slot about 25 (the level pool grows past its pre-filled 65,536 on the
//! first cycle), the pop at the touch about 20, the refill about 16 per level.
//! The rest of its cost is outside the ladder: the id index (about 110 a command, a
//! quarter of it its doublings to 400,000 live ids) and the fills of the hundred-level
//! sweeps (every command both rests and, later, is filled, with two events). Not tried
//! for lack of time: a pooled, hand-written B-tree for the interior keys (the only far
//! allocation left), a hierarchical bitmap over a moving window.
//!
//! The far tier allocates only when it grows (its deque, which keeps its capacity, so
//! none once warm) and for keys that arrive inside its range (`BTreeMap` nodes); a book
//! within `NEAR_MAX` levels per side never touches it.

use super::far::FarTier;
use super::slots::Level;
use super::FastBook;
use crate::book::pool::{Ix, Link, Pool, Tagged};
use crate::types::{Price, Side};

/// Most levels the near window holds.
pub(super) const NEAR_MAX: usize = 1024;

/// Levels moved by one spill (window to far tier) or one refill (far tier to window).
pub(super) const SPILL: usize = 256;

/// The price levels of one side: the near window (best at the end) over the far tier.
#[derive(Debug)]
pub(super) struct Ladder {
    side: Side,
    /// Ascending keys of the near window; `keys[i]` belongs to `levels[i]`.
    pub(super) keys: Vec<i64>,
    pub(super) levels: Vec<Ix<Level>>,
    /// Number of near entries whose level is empty (lazily removed).
    pub(super) empties: usize,
    /// Live levels worse than every near key, by key.
    pub(super) far: FarTier<Ix<Level>>,
}

impl Ladder {
    pub(super) fn new(side: Side) -> Self {
        Ladder {
            side,
            keys: Vec::with_capacity(NEAR_MAX),
            levels: Vec::with_capacity(NEAR_MAX),
            empties: 0,
            far: FarTier::new(),
        }
    }

    /// No levels; the window's storage is kept (the far tier's nodes are freed).
    pub(super) fn clear(&mut self) {
        self.keys.clear();
        self.levels.clear();
        self.empties = 0;
        self.far.clear();
    }

    /// The ordering key: larger is better for both sides.
    #[inline]
    pub(super) fn key(&self, price: Price) -> i64 {
        match self.side {
            Side::Buy => price,
            Side::Sell => !price,
        }
    }

    /// Whether `key` belongs to the far tier: below the window while the far tier is in
    /// use (the far tier is never in use with an empty window).
    #[inline]
    fn is_far(&self, key: i64) -> bool {
        !self.far.is_empty() && key < self.keys[0]
    }

    /// Every level of the side, best first (lazily emptied near levels included).
    pub(super) fn best_first(&self) -> impl Iterator<Item = Ix<Level>> + '_ {
        self.levels
            .iter()
            .rev()
            .copied()
            .chain(self.far.best_first().map(|(_, li)| li))
    }

    /// The level at `key` (see [`Ladder::key`]), near or far, if the ladder holds one; it
    /// may be a lazily emptied near level (`count == 0`). O(log levels), read-only. For the
    /// book's `depth_at` query.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) fn find(&self, key: i64) -> Option<Ix<Level>> {
        if self.is_far(key) {
            return self.far.get(key);
        }
        self.search(key).ok().map(|pos| self.levels[pos])
    }

    /// Index of `key` in the near window if present, else where it would be inserted.
    #[inline]
    pub(super) fn search(&self, key: i64) -> Result<usize, usize> {
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

/// Entries in each side's [`LevelCache`].
pub(super) const LEVEL_CACHE: usize = 256;

/// A direct-mapped cache from price to level in front of each ladder's search: entry
/// `price mod 256` remembers the last level found or made for a price there. A hit
/// replaces the ladder search (about 60 instructions, a mispredicted branch now and then)
/// with one load and three compares. A miss, or an entry whose level has since been freed
/// or recycled for another price, falls back to the search.
pub(super) type LevelCache = [Link<Level>; LEVEL_CACHE];

/// A new, empty level from the pool.
#[inline]
fn alloc_level(levels: &mut Pool<Level>, side: Side, price: Price) -> Ix<Level> {
    let li = levels.alloc(Level::new(side, price));
    // Slots keep a level index in `Tagged::INDEX_BITS` bits.
    assert!(
        li.raw() <= Tagged::<Level>::MAX_INDEX,
        "more than 2^28 price levels at once"
    );
    li
}

/// Return a level to the pool. A freed level keeps `count == 0`, so a walk that checks the
/// count before reading `head` never follows a stale link.
#[inline]
fn release_level(levels: &mut Pool<Level>, i: Ix<Level>) {
    debug_assert_eq!(levels[i].count, 0);
    levels[i].tail = Link::NIL;
    levels[i].in_ladder = false;
    levels.release(i);
}

impl FastBook {
    #[inline]
    pub(super) fn ladder(&self, side: Side) -> &Ladder {
        &self.ladders[side as usize]
    }

    #[inline]
    pub(super) fn ladder_mut(&mut self, side: Side) -> &mut Ladder {
        &mut self.ladders[side as usize]
    }

    /// The best level of a side (never a lazily emptied one).
    #[inline]
    pub(super) fn best_level(&self, side: Side) -> Option<Ix<Level>> {
        self.ladder(side).levels.last().copied()
    }

    #[inline]
    fn free_level(&mut self, i: Ix<Level>) {
        release_level(&mut self.levels, i);
    }

    /// The level for `price` on `side`, created (or revived from a lazily-emptied one) if
    /// needed.
    #[inline]
    pub(super) fn level_for(&mut self, side: Side, price: Price) -> Ix<Level> {
        let entry = (price as usize) % LEVEL_CACHE;
        if let Some(cached) = self.level_cache[side as usize][entry].get() {
            let l = &self.levels[cached];
            // `in_ladder` and `price` are what make a hit exact (tests mutate each away).
            // A level of the other side at this price cannot be in its ladder while an
            // order rests here (the book is never crossed); the side compare only guards
            // that invariant.
            if l.in_ladder && l.price == price && l.side == side {
                if l.count == 0 {
                    // Only near levels are ever empty in a ladder.
                    self.ladder_mut(side).empties -= 1;
                }
                return cached;
            }
        }
        let li = self.search_level(side, price);
        self.level_cache[side as usize][entry] = li.into();
        li
    }

    /// `level_for` through the ladder's tiers.
    fn search_level(&mut self, side: Side, price: Price) -> Ix<Level> {
        let key = self.ladder(side).key(price);
        if self.ladder(side).is_far(key) {
            if self.ladder(side).far.is_below_run(key) {
                // The common far insert (a ladder built away from the touch): O(1).
                let li = alloc_level(&mut self.levels, side, price);
                self.ladder_mut(side).far.push_worst(key, li);
                return li;
            }
            return self.far_level(side, key, price);
        }
        match self.ladder(side).search(key) {
            Ok(pos) => {
                let li = self.ladder(side).levels[pos];
                if self.levels[li].count == 0 {
                    self.ladder_mut(side).empties -= 1;
                }
                li
            }
            Err(0) if self.ladder(side).keys.len() >= SPILL => {
                // Below a window of `SPILL` levels or more (and so the far tier is empty):
                // start the far tier rather than shift the whole window up by one. A
                // ladder built outward thus moves at most `SPILL` window entries per
                // insert, not up to `NEAR_MAX` (callgrind, deep-ladder's 20,000 levels:
                // 31 instructions a command were `memmove`s of these shifts).
                self.far_level(side, key, price)
            }
            Err(mut pos) => {
                if self.ladder(side).keys.len() >= NEAR_MAX {
                    self.spill(side);
                    if pos < SPILL {
                        // Its neighbours below went to the far tier; so does it.
                        return self.far_level(side, key, price);
                    }
                    pos -= SPILL;
                }
                let li = alloc_level(&mut self.levels, side, price);
                let ladder = self.ladder_mut(side);
                ladder.keys.insert(pos, key);
                ladder.levels.insert(pos, li);
                li
            }
        }
    }

    /// The far level at `key`, created if absent. O(log levels). Out of line, so that the
    /// common far insert in `search_level` stays small.
    #[inline(never)]
    fn far_level(&mut self, side: Side, key: i64, price: Price) -> Ix<Level> {
        let levels = &mut self.levels;
        self.ladders[side as usize]
            .far
            .get_or_insert_with(key, || alloc_level(levels, side, price))
    }

    /// Move the window's worst `SPILL` entries to the far tier, dropping empty ones.
    #[cold]
    fn spill(&mut self, side: Side) {
        let sides = &mut self.ladders[side as usize];
        for i in 0..SPILL {
            let (key, li) = (sides.keys[i], sides.levels[i]);
            if self.levels[li].count == 0 {
                sides.empties -= 1;
                release_level(&mut self.levels, li);
            } else {
                // Above every far key: an O(1) push at the far tier's best end.
                sides.far.get_or_insert_with(key, || li);
            }
        }
        sides.keys.drain(..SPILL);
        sides.levels.drain(..SPILL);
    }

    /// Refill an empty window with up to `SPILL` of the best far levels (all live; at least
    /// one): for a ladder swept from its best end, one copy of the far run's tail.
    #[cold]
    fn refill(&mut self, side: Side) {
        let ladder = self.ladder_mut(side);
        debug_assert!(ladder.keys.is_empty());
        ladder
            .far
            .take_best(SPILL, &mut ladder.keys, &mut ladder.levels);
        debug_assert!(!ladder.keys.is_empty() && ladder.keys.is_sorted());
    }

    /// Pop empty levels off the top of a ladder so that `last()` is always live,
    /// refilling the window from the far tier when it runs dry (a refill brings only
    /// live levels). The window's empties count covers the levels it pops.
    #[inline]
    fn pop_empty_top(&mut self, side: Side) {
        loop {
            let Some(&li) = self.ladder(side).levels.last() else {
                if self.ladder(side).far.is_empty() {
                    return;
                }
                self.refill(side);
                continue;
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

    /// Level `li` just became empty: a far level leaves the far tier now; a near one is
    /// popped if it is the best, otherwise left for later.
    #[inline]
    pub(super) fn level_emptied(&mut self, li: Ix<Level>) {
        let side = self.levels[li].side;
        if self.best_level(side) == Some(li) {
            // The common case (a fill or cancel at the touch): the best is always near.
            // Popped here, never counted as empty; the levels below it that were left
            // empty earlier go in `pop_empty_top`. The empties count only falls, so the
            // sweep check is left to the next level emptied below the top (callgrind,
            // `sweep`: the count's round trip and the check cost a few instructions a
            // level).
            let ladder = self.ladder_mut(side);
            ladder.keys.pop();
            ladder.levels.pop();
            self.free_level(li);
            self.pop_empty_top(side);
            return;
        }
        let key = self.ladder(side).key(self.levels[li].price);
        if self.ladder(side).is_far(key) {
            self.ladder_mut(side).far.remove(key);
            self.free_level(li);
            return;
        }
        self.ladder_mut(side).empties += 1;
        let ladder = self.ladder(side);
        if ladder.empties > 64 && ladder.empties * 2 > ladder.levels.len() {
            self.sweep_empties(side);
        }
    }

    /// Remove every empty level from the window in one pass (amortized over the cancels
    /// that emptied them; at most `NEAR_MAX` entries).
    fn sweep_empties(&mut self, side: Side) {
        let ladder = self.ladder_mut(side);
        let mut keys = std::mem::take(&mut ladder.keys);
        let mut levels = std::mem::take(&mut ladder.levels);
        let mut w = 0;
        for r in 0..levels.len() {
            let li = levels[r];
            if self.levels[li].count == 0 {
                self.free_level(li);
            } else {
                keys[w] = keys[r];
                levels[w] = li;
                w += 1;
            }
        }
        keys.truncate(w);
        levels.truncate(w);
        let ladder = self.ladder_mut(side);
        ladder.keys = keys;
        ladder.levels = levels;
        ladder.empties = 0;
    }
}

#[cfg(test)]
#[path = "ladder_tests.rs"]
mod tests;
