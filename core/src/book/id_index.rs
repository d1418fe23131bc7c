//! Order id -> slot index: an open-addressing hash table with Robin Hood linear probing
//! and backward-shift deletion, written for the book's access pattern.
//!
//! # What it must be good at, and the choice
//! Gateways spell client order ids their own way: sequential per session, random over
//! `u64`, a per-gateway prefix in the high bits over a counter, sparse ranges, and ids
//! reused as soon as the order they named is gone. The index must cost about one cache
//! line per lookup for all of them, never stall the latency tail when it grows, and
//! allocate nothing on the hot path while the book holds no more orders than its
//! configured capacity. Three decisions do that:
//!
//! - **Sized for the capacity, then for the live ids.** (The fast book asks for at most
//!   4,096 ids, whatever its capacity: a 2 MiB table measured slower in wall-clock time,
//!   see `fast::INDEX_START_IDS`.) [`IdIndex::with_capacity`] makes
//!   `2 × capacity` buckets (a power of two, at least 16) and writes every page then, as
//!   the book's pools do: up to `capacity` live ids (in fact up to half the buckets) it
//!   never grows, allocates or faults a page. Past that it doubles whenever more than half
//!   its buckets would be full, so it then holds between 2 and 4 buckets per live id
//!   (plus the old table while one migrates, below). It never shrinks (a book that once
//!   held a million orders keeps that table; `clear` keeps it too). Memory below the
//!   capacity is `32 × capacity` bytes (rounded up to a power of two), about what the
//!   order pool itself reserves.
//! - **Incremental growth.** A doubling never rehashes in one go: see "Growth".
//! - **A hash that mixes every bit.** The bucket is the top bits of the 64-bit fold
//!   (high half XOR low half) of the 128-bit product `key × ⌊2^64/φ⌋`. For ids below
//!   ~2^40 the high half only touches low bits, so sequential ids get Fibonacci hashing's
//!   even spacing (consecutive ids about 0.618 of the table apart: few collisions, fewer
//!   than random); for ids that differ in their high bits the fold makes the hash
//!   non-linear, so eight gateways' counters are not eight translated copies of one
//!   point set (which under plain Fibonacci hashing collide systematically).
//!
//! # Measured
//! 1 M commands of each workload through the fast book, callgrind
//! `--toggle-collect='*drive*' --cache-sim=yes --LL=1048576,16,64`; per cell: instructions,
//! D1 read misses, last-level (1 MiB) read misses.
//!
//! | design | equity-mixed | random-ids | gateway-ids | sparse-ids |
//! |---|---|---|---|---|
//! | before: 2 × capacity buckets (131,072), low bits XOR hash of high bits | 165.8 M, 2.03 M, 816 k | 165.8 M, 2.49 M, 1,259 k | – | – |
//! | same hash, table sized to live ids (start 512) | 236.6 M, 2.13 M, 692 k | 172.0 M, 2.54 M, 656 k | – | – |
//! | Fibonacci hash (top bits of `key × ⌊2^64/φ⌋`), sized to live | 166.3 M, 2.49 M, 635 k | 170.9 M, 2.54 M, 656 k | 186.1 M, 2.80 M, 677 k | 166.5 M, 2.50 M, 635 k |
//! | folded Fibonacci, sized to live, start 512 | 168.7 M, 2.49 M, 635 k | 173.3 M, 2.54 M, 656 k | 171.8 M, 2.53 M, 648 k | 168.9 M, 2.50 M, 635 k |
//! | folded Fibonacci, sized to live, start 4,096 (171cb09) | 168.5 M, 2.49 M, 635 k | 173.1 M, 2.54 M, 656 k | 171.6 M, 2.52 M, 650 k | 168.7 M, 2.49 M, 635 k |
//!
//! So random ids cost 1.027× sequential ones in instructions and 1.02× in D1 misses (was
//! 1.00× and 1.22×, with 1.54× the last-level misses). Wall clock, 9 alternating runs on
//! the loaded 2-core machine, medians in ms per 1 M commands: before, equity-mixed 50.5
//! and random-ids 57.3 (1.13×; in an earlier, more loaded set 79.9 and 116.3, 1.46×);
//! this design, equity-mixed 48.5, random-ids 52.6 (1.08×), gateway-ids 54.2, sparse-ids
//! 52.4. Instruction benchmarks (gungraun, `cargo bench -p flowmatch-harness --bench
//! instructions`, 1,000 operations each, before → this): `mixed` 194,795 → 195,658
//! (+0.4%), `add` 228,207 → 234,675 (+2.8%: the hash's multiply on every insert), `cancel`
//! −2.0%, `match_one` −2.2%, `sweep` −2.7%, `pro_rata_10_takers` +0.0%. With a start
//! size of 512 ids, `add` (a fresh book reaching 2,000 orders) paid two doublings inside
//! the measurement: +24.8%.
//!
//! Why the first two rows lose: the old hash kept neighbouring ids in neighbouring buckets,
//! which needs the whole window of live ids (oldest resting to newest) to fit in the table
//! without wrapping — true at 2 × capacity, false once the table is sized to the live
//! count, where wrapped blocks of sequential ids XOR-land on each other's dense runs and
//! Robin Hood runs grow long (+43% instructions). Random ids scattered over 2 MiB of
//! table missed the last level on nearly every new order. Plain Fibonacci hashing is
//! linear in the key, so ids that differ by a fixed high prefix land at a fixed offset from
//! each other and collide in step (gateway-ids +12%). The fold costs ~2 instructions per
//! hash (+1.8% on the mixed stream, against the old design) and removes that.
//!
//! (Those rows are the previous sessions' measurements; "Growth" has this one's.)
//!
//! Not tried (yet): SIMD-probed groups of tags (SwissTable style) — at load ≤ 1/2 with a
//! mixing hash, Robin Hood already examines 1.1–2.3 buckets per lookup of a live id in the
//! unit tests' book-shaped load (`every_spread_costs_about_one_line`), about one 64-byte
//! line of four 16-byte buckets; a run-time direct map for dense id ranges; handles
//! returned to the caller (an API change for every embedder); a table reserved for the
//! capacity but used as a live-sized prefix (memory and cache footprint both following
//! the live ids below the capacity, at the price of migrations below it too).
//!
//! # A big book: the miss per lookup (session 12, measured, not kept)
//! On a book of 100,000 resting orders the table is 4 MiB, past this machine's 2 MiB L2,
//! and every lookup of a scattered id is a miss. `perf record -e cpu-clock` over
//! `profile_mixed fast 200000 deep-ladder-100k 40` (the criterion ladder, 40 runs in one
//! process): about 22% of the time on the first load of `lookup_for_insert` (each new
//! order) and 20% on the first load of `remove` (each maker a sweep fills). Three ways
//! round it, each measured as medians of 30 runs, three alternating sets, against this
//! design in the same session (deep-ladder-100k / equity-mixed, ms per 200k commands):
//!
//! - Blocks of four consecutive ids share a cache line (`home(key & !3) ^ (key & 3)`):
//!   deep-ladder 10.8 → 10.4, equity-mixed 4.2 → 5.2. Dropped.
//! - A filled maker's removal queued (16 deep, its bucket prefetched when queued) and done
//!   when the walk ends, the last fill of a walk removing at once: deep-ladder 11.5 →
//!   10.4 (the stall moves to the next level's line), equity-mixed unchanged in wall
//!   clock, but gungraun `book_ops` `sweep` +15.8%, `mixed` +3.3%, `match_one` +2.1%
//!   instructions (the queue, a second hash, and register pressure from two removal
//!   paths in `take_head`): outside issue 16's ±2% for FIFO. Dropped.
//! - Prefetching the bucket of `id + 1` on each new order (sequential gateways):
//!   deep-ladder −5% more, equity-mixed and random-ids +5–8% (noisy). Dropped.
//!
//! # Growth
//! Incremental, a few buckets per insert, never a rehash inside one command: see the
//! `growth` module.
//!
//! # Why Robin Hood
//! Clusters of live ids fill runs of consecutive buckets (under the old, locality-keeping
//! hash, sequential ids did so by design). Under plain linear probing a
//! delete must scan to the end of its run (it cannot know no later entry wants the hole)
//! and so must a lookup of an absent id whose home is inside a run: O(run) — a deep FIFO of
//! 10,000 sequential ids made each fill cost ~13,000 instructions. Robin Hood insertion
//! keeps every run ordered by home bucket, which gives two early exits: a lookup stops at
//! the first entry closer to its home than the probe is to the key's home, and a
//! backward-shift delete stops at the first entry that sits in its own home bucket. Ids
//! sitting at home (the sequential case) therefore cost O(1) for every operation.
//! Each entry stores its reach (probe distance + 1) in what would otherwise be padding.
//!
//! Backward-shift deletion leaves no tombstones, so the table never needs rehashing
//! while the number of live ids stays under half its buckets: no allocation in steady
//! state.
//!
//! A vacant bucket has reach 0 and every occupied one at least 1, so the probe's "vacant
//! or nearer its home than we are" is one compare, and a vacant bucket is all zero bits.
//! The values are pool indices ([`Ix<T>`]) stored as such (a vacant bucket holds
//! [`Ix::FIRST`], never read), so a hit needs no test for "nothing".

mod growth;
mod table;

pub(crate) use self::table::fold_hash;

use self::growth::Draining;
#[cfg(test)]
use self::growth::MOVE_PER_INSERT;
#[cfg(test)]
use self::table::PROBES;
use self::table::{Entry, Table, DEAD, MIN_BUCKETS};
use super::pool::Ix;

/// Where an absent id would be inserted. Exact only until the index next changes: the
/// caller uses it at once ([`IdIndex::insert_unchanged`]), and debug builds check that.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Vacancy {
    bucket: usize,
    reach: u32,
    #[cfg(debug_assertions)]
    version: u64,
}

/// Where a present id sits, under the same rule as [`Vacancy`]
/// ([`IdIndex::remove_unchanged`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bucket {
    /// [`Bucket::DRAINING`] for an id that still lives in the draining table.
    index: usize,
    #[cfg(debug_assertions)]
    version: u64,
}

impl Bucket {
    /// Not a bucket of the current table: the id is found again in the draining table
    /// (rare: only during a migration).
    const DRAINING: usize = usize::MAX;
}

/// Order id -> element of a `Pool<T>`. See the module docs.
#[derive(Debug)]
pub(crate) struct IdIndex<T> {
    /// The table every insert goes to.
    table: Table<T>,
    /// While a growth migrates: the table before it.
    draining: Option<Draining<T>>,
    /// Live ids, in both tables.
    len: usize,
    /// Live ids the current table takes before the next insert must make room: half its
    /// buckets, or 0 while a migration is under way (every insert then moves some
    /// buckets first). One compare per insert decides both.
    room: usize,
    /// Debug builds: bumped by every change, so that a [`Vacancy`] or [`Bucket`] used
    /// after a change is caught. Release builds keep no counter: the two callers use a
    /// place at once, and the bump was three instructions on every insert and remove
    /// (callgrind, `book_ops` add and cancel; see the commit).
    #[cfg(debug_assertions)]
    version: u64,
    /// Tests' view of the work: tables made after construction, and the most buckets
    /// of a draining table that one insert moved.
    #[cfg(test)]
    growths: u32,
    #[cfg(test)]
    most_moved_per_insert: usize,
}

impl<T> IdIndex<T> {
    /// An empty index with room for `capacity` ids before its first growth: `2 ×
    /// capacity` buckets (at least 16) rounded up to a power of two, every page written
    /// now (see the module docs for why, with measurements).
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let buckets = capacity
            .max(MIN_BUCKETS / 2)
            .checked_mul(2)
            .and_then(usize::checked_next_power_of_two)
            .expect("id table size overflows");
        IdIndex {
            table: Table::prefaulted(buckets),
            draining: None,
            len: 0,
            room: buckets / 2,
            #[cfg(debug_assertions)]
            version: 0,
            #[cfg(test)]
            growths: 0,
            #[cfg(test)]
            most_moved_per_insert: 0,
        }
    }

    /// Room for `ids` live ids before the next growth, made now while the index is
    /// empty (a table of `2 × ids` buckets, every page written, as [`IdIndex::with_capacity`]
    /// makes): for a caller that knows how many ids are coming (a snapshot's rebuild),
    /// so they go in without the doublings and migrations on the way. Does nothing if
    /// the index holds an id or already has the room.
    pub(crate) fn reserve_while_empty(&mut self, ids: usize) {
        if self.len > 0 || self.draining.is_some() || ids <= self.table.buckets() / 2 {
            return;
        }
        #[cfg(debug_assertions)]
        let version = self.version.wrapping_add(1);
        *self = IdIndex::with_capacity(ids);
        // Every place handed out before is stale: the table is another one.
        #[cfg(debug_assertions)]
        {
            self.version = version;
        }
    }

    /// Bytes of storage allocated (buckets × bucket size, both tables while a migration
    /// is under way), for memory reports.
    pub(crate) fn heap_bytes(&self) -> usize {
        let bytes = |t: &Table<T>| t.entries.capacity() * std::mem::size_of::<Entry<T>>();
        bytes(&self.table) + self.draining.as_ref().map_or(0, |d| bytes(&d.table))
    }

    /// No ids; the table keeps its size (a migration in progress is dropped with the
    /// ids). Every remembered place goes stale.
    pub(crate) fn clear(&mut self) {
        self.table.entries.fill(Entry::VACANT);
        self.draining = None;
        self.room = self.table.buckets() / 2;
        self.len = 0;
        self.changed();
    }

    /// Count a change (debug builds; see `version`).
    #[inline(always)]
    fn changed(&mut self) {
        #[cfg(debug_assertions)]
        {
            self.version = self.version.wrapping_add(1);
        }
    }

    /// A migration is under way (there is a draining table): read from `room`, which is 0
    /// exactly then, because the compare is one instruction cheaper than the `Option`'s
    /// niche test on every lookup of an absent id (callgrind, `book_ops` add).
    #[inline(always)]
    fn migrating(&self) -> bool {
        debug_assert_eq!(self.room == 0, self.draining.is_some());
        self.room == 0
    }

    /// Bucket holding `key` and its value, in the current table, if there.
    #[inline(always)]
    fn find_current(&self, key: u64) -> Option<(usize, Ix<T>)> {
        let (i, e) = self.table.probe(key).ok()?;
        Some((i, e.val))
    }

    /// The value of `key` from the draining table, if it still lives there. Inlined, not
    /// called: a call in `cancel` made it save six registers on every cancel (+21
    /// instructions per cancel on equity-mixed, callgrind).
    #[inline(always)]
    fn find_draining(&self, key: u64) -> Option<Ix<T>> {
        let (_, val) = self.draining.as_ref()?.find(key)?;
        Some(val)
    }

    /// Starts loading the bucket(s) a lookup of `key` reads first: its home in the
    /// current table, and in the draining one while a migration is under way (a hint).
    #[inline]
    pub(crate) fn prefetch(&self, key: u64) {
        self.table.prefetch_home(key);
        if let Some(d) = &self.draining {
            d.table.prefetch_home(key);
        }
    }

    /// Look `key` up for an insert that may follow at once: `Ok` if it is present, else
    /// `Err` with where it would go, so [`IdIndex::insert_unchanged`] need not probe again.
    #[inline]
    pub(crate) fn lookup_for_insert(&self, key: u64) -> Result<(), Vacancy> {
        match self.table.probe(key) {
            Ok(_) => Ok(()),
            Err(_) if self.migrating() && self.find_draining(key).is_some() => Ok(()),
            Err((bucket, reach)) => Err(Vacancy {
                bucket,
                reach,
                #[cfg(debug_assertions)]
                version: self.version,
            }),
        }
    }

    /// Look `key` up for a removal that may follow at once
    /// ([`IdIndex::remove_unchanged`]): the bucket and the value.
    #[inline]
    pub(crate) fn lookup_for_remove(&self, key: u64) -> Option<(Bucket, Ix<T>)> {
        let (index, val) = match self.find_current(key) {
            Some(found) => found,
            None if !self.migrating() => return None,
            None => (Bucket::DRAINING, self.find_draining(key)?),
        };
        let at = Bucket {
            index,
            #[cfg(debug_assertions)]
            version: self.version,
        };
        Some((at, val))
    }

    /// The value of `key`, if present.
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<Ix<T>> {
        match self.find_current(key) {
            Some((_, val)) => Some(val),
            None if self.migrating() => self.find_draining(key),
            None => None,
        }
    }

    #[inline]
    pub(crate) fn contains(&self, key: u64) -> bool {
        self.get(key).is_some()
    }

    /// Insert an id known to be absent, probing from its home bucket (the book's rest
    /// after a match, whose fills may have removed makers' ids since the duplicate
    /// check). Past the table's half, a new table twice the size is made and the ids move
    /// to it a few buckets per insert (this one included): never more than
    /// [`MOVE_PER_INSERT`](growth::MOVE_PER_INSERT) per insert.
    #[inline]
    pub(crate) fn insert(&mut self, key: u64, val: Ix<T>) {
        debug_assert!(!self.contains(key));
        if self.len >= self.room {
            self.make_room();
        }
        self.place(self.table.home(key), 1, key, val);
    }

    /// [`IdIndex::insert`] from where `lookup_for_insert` stopped, for a caller that has
    /// not changed the index since it made `at` (debug builds check it): the book's rest
    /// of an order that met nothing, its commonest insert. Every bucket between the home
    /// and `at.bucket` holds an entry that stays ahead of `key` (the probe passed it), so
    /// starting there is the same insert.
    #[inline]
    pub(crate) fn insert_unchanged(&mut self, key: u64, val: Ix<T>, at: Vacancy) {
        debug_assert!(!self.contains(key));
        #[cfg(debug_assertions)]
        assert_eq!(
            at.version, self.version,
            "the index changed since the lookup"
        );
        let (i, reach) = if self.len >= self.room {
            // Moves or replaces buckets: probe again from the home, as `insert` does.
            self.make_room();
            (self.table.home(key), 1)
        } else {
            (at.bucket, at.reach)
        };
        self.place(i, reach, key, val);
    }

    /// The end of every insert: `key` goes in from bucket `i` (probe distance `reach`),
    /// and the index counts one change and one more id.
    #[inline(always)]
    fn place(&mut self, i: usize, reach: u32, key: u64, val: Ix<T>) {
        self.changed();
        self.table.insert_from(i, Entry { key, val, reach });
        self.len += 1;
    }

    /// Remove an id; returns its slot if it was present.
    #[inline]
    pub(crate) fn remove(&mut self, key: u64) -> Option<Ix<T>> {
        match self.find_current(key) {
            Some((hole, val)) => {
                self.remove_current(hole);
                Some(val)
            }
            None if !self.migrating() => None,
            None => self.remove_draining(key),
        }
    }

    /// Remove the id `lookup_for_remove` found at `at`, without probing again, for a
    /// caller that has not changed the index since (debug builds check it).
    #[inline]
    pub(crate) fn remove_unchanged(&mut self, key: u64, at: Bucket) {
        #[cfg(debug_assertions)]
        assert_eq!(
            at.version, self.version,
            "the index changed since the lookup"
        );
        if at.index == Bucket::DRAINING {
            self.remove_draining_cold(key);
        } else {
            debug_assert_eq!(self.table.at(at.index).key, key);
            self.remove_current(at.index);
        }
    }

    #[inline]
    fn remove_current(&mut self, hole: usize) {
        self.len -= 1;
        self.changed();
        self.table.remove_bucket(hole);
    }

    /// [`IdIndex::remove_draining`] out of line, for `remove_unchanged`: inlined there,
    /// the rare branch made every cancel save two more registers (callgrind, `book_ops`
    /// cancel).
    #[cold]
    #[inline(never)]
    fn remove_draining_cold(&mut self, key: u64) {
        self.remove_draining(key);
    }

    /// Remove `key` from the draining table if it still lives there: its entry is marked
    /// [`DEAD`] (it stays, see [`Draining`]). Inlined for the reason `find_draining` is.
    #[inline(always)]
    fn remove_draining(&mut self, key: u64) -> Option<Ix<T>> {
        let d = self.draining.as_mut()?;
        let (i, val) = d.find(key)?;
        let mut e = d.table.at(i);
        e.reach |= DEAD;
        d.table.put(i, e);
        self.len -= 1;
        self.changed();
        Some(val)
    }
}

#[cfg(test)]
mod tests;
