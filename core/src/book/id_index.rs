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
//! # Growth
//! Only past the capacity, and only when the book holds more orders than it ever has (a
//! new high-water mark, as for the order pool). The insert that finds the table half full
//! makes a table of twice the buckets and keeps the old one as the *draining* table; from
//! then on every insert first moves the next [`MOVE_PER_INSERT`] (16) buckets of the old
//! table into the new one (a cursor over bucket numbers), then inserts into the new table.
//! Lookups and removes try the new table, then the old one: an id found there below the
//! cursor has moved (the new table's answer stands), and an id removed before it moved is
//! marked [`DEAD`] in place, so the old table is frozen and its probe sequences stay
//! valid without any backward shift. When the cursor reaches the end the old table is
//! freed.
//!
//! The bound, per insert: at most 16 old buckets read (four cache lines, in order) and 16
//! entries re-inserted (each a Robin Hood insert into a table at most half full: a few
//! buckets), plus the insert's own probe; the unit test `growth_work_per_insert_is_bounded`
//! checks at most 16 buckets moved
//! and at most 100 buckets examined by any of 600,000 inserts through 15 growths (the last
//! one a 524,288-bucket table). The new table comes from the allocator zeroed, which an
//! all-zero vacant bucket makes a valid empty table: for a large table the kernel hands
//! out zero pages, so making it is O(1) and its pages fault in as inserts first touch
//! them (at most a few per insert; with transparent huge pages, 2 MiB at a time), not
//! 16 bytes × buckets written inside one command. A migration started at `S/2` live ids in
//! `S` buckets ends after `S/16` inserts, before the new table (`2S` buckets) can be half
//! full (`S/2` more inserts at least), so migrations never overlap and the table inserts
//! go to stays at most half full. While one runs, memory is the old table plus the new
//! (at most 6 buckets per live id) and the old table's pages are the ones the lookups of
//! unmoved ids touch. Previously (start at 4,096 ids, rehash all at once) a doubling at 1 M
//! live ids re-inserted every id inside one command and wrote a new 32 MiB table.
//!
//! Measured this session (callgrind, instructions, 1 M commands, `--toggle-collect='*drive*'`;
//! `add` = the `add/10k` criterion benchmark's 10,000 limits into a fresh default book,
//! `harness/examples/profile_add.rs`):
//!
//! | design | equity-mixed | random-ids | gateway-ids | sparse-ids | add (per order) |
//! |---|---|---|---|---|---|
//! | before (171cb09): start at 4,096 ids, rehash all at once | 171.71 M | 176.31 M | 174.79 M | 171.90 M | – (2 doublings inside the 10,000) |
//! | sized for the capacity, incremental growth, first cut | 181.25 M | 181.71 M | 181.62 M | 181.25 M | 215.3 |
//! | + one compare for room, shift stored | 178.11 M | 178.57 M | 178.47 M | 178.11 M | 209.3 |
//! | + draining lookups inlined (no call in `cancel`) | 174.83 M | 175.30 M | – | – | 207.4 |
//! | **+ values stored as `Ix`, `DEAD` bit (this)** | 174.77 M | 175.23 M | 175.14 M | 174.77 M | 219.3 |
//!
//! Random ids now cost 1.003× sequential ones (was 1.027×). The mixed stream costs 1.8%
//! more instructions than before, none of it in the id index's own lines (which fell by
//! 3.6 M on `new_order`): code around it inlines differently (`link_tail` stopped being
//! inlined into `new_order`; `cancel` +6 instructions per cancel from register
//! allocation). The `add` column moves by ±12 instructions per order between builds for
//! the same reason. The price of sizing for the capacity is cache footprint: the default
//! book (capacity 65,536) has a 2 MiB table, and with `--cache-sim=yes
//! --LL=1048576,16,64` equity-mixed misses the simulated 1 MiB last level 1,435 k times
//! (was 635 k; D1 read misses unchanged, 2.48 M against 2.49 M), random-ids 1,259 k (was
//! 656 k). A real EPYC's L3 holds the 2 MiB table; a live-sized prefix of a table
//! reserved for the capacity (not tried, above) would remove this at the price of
//! migrations below the capacity.
//!
//! Session 5, gungraun `workloads` group (20,200 commands from an empty book, capacity
//! 131,072, so the index grows 4,096 → 32,768 ids inside `deep-ladder`'s 20,000 levels),
//! instructions per command, `MOVE_PER_INSERT` 4 → 16 together with the ladder's
//! far-tier start at 256 levels (`fast::ladder`): deep-ladder 604.9 → 564.0 (the moving
//! work itself, `make_room`, unchanged at ~54 a command; the rest of the gain beyond the
//! ladder's 29 is the second-table probes no longer paid), equity-mixed 190.6 → 190.6,
//! random-ids 198.1 → 198.1, adversarial 224.5 → 203.8. Not tried: a growth factor of 4
//! (fewer ids moved in all, 8 buckets per id after a growth).
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

mod table;

#[cfg(test)]
use self::table::PROBES;
use self::table::{Entry, Table, DEAD, MIN_BUCKETS};
use super::pool::Ix;

/// Buckets of the table being drained that each insert moves into the new one. Migration
/// starts when the new table is made (the old one half full, `S/2` live ids in `S`
/// buckets) and must end before the new table (`2S` buckets) is half full, which takes at
/// least `S/2` more inserts; 16 buckets per insert end it after `S/16`, so two migrations
/// never overlap (`make_room` checks) and at most 16 entries move per insert.
///
/// Why 16, not 4 (as before): while a migration runs, every lookup of an absent id (each
/// new order's duplicate check) probes both tables, every insert calls out of line to move
/// buckets, and the insert cannot start from where its lookup stopped (the move changed
/// the table). The work of moving is the same whatever the step; a shorter migration only
/// means fewer commands pay those extras. With 4, three quarters of the inserts between
/// 4,096 and 32,768 live ids ran during a migration (`deep-ladder`'s 20,000 levels in the
/// instruction benchmark); with 16, under a fifth. See the module docs for the numbers.
const MOVE_PER_INSERT: usize = 16;

/// Where an absent id would be inserted, as of one version of the index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Vacancy {
    bucket: usize,
    reach: u32,
    version: u64,
}

/// Where a present id sits, as of one version of the index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bucket {
    index: usize,
    version: u64,
}

/// The previous table while its ids move to the new one, a few buckets per insert.
/// Frozen but for one write: an id removed before it moved keeps its entry, marked
/// [`DEAD`], so every probe sequence through the table stays what it was.
#[derive(Debug)]
struct Draining<T> {
    table: Table<T>,
    /// Buckets `0..moved` have moved (their ids live, or were since removed, in the new
    /// table); an id found below the cursor is not here any more.
    moved: usize,
}

impl<T> Draining<T> {
    /// Bucket and value of `key` if it is live here and has not moved yet.
    #[inline(always)]
    fn find(&self, key: u64) -> Option<(usize, Ix<T>)> {
        let (i, e) = self.table.probe(key).ok()?;
        if i < self.moved || e.reach & DEAD != 0 {
            return None;
        }
        Some((i, e.val))
    }
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
    /// Bumped by every insert and remove, so a [`Vacancy`] can tell it is still exact.
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
        let version = self.version.wrapping_add(1);
        *self = IdIndex::with_capacity(ids);
        // Every place handed out before is stale: the table is another one.
        self.version = version;
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
        self.version = self.version.wrapping_add(1);
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

    /// Look `key` up for an insert that may follow: `Ok` if it is present, else `Err`
    /// with where it would go, so the insert need not probe again if nothing changed in
    /// between.
    #[inline]
    pub(crate) fn lookup_for_insert(&self, key: u64) -> Result<(), Vacancy> {
        match self.table.probe(key) {
            Ok(_) => Ok(()),
            Err(_) if self.draining.is_some() && self.find_draining(key).is_some() => Ok(()),
            Err((bucket, reach)) => Err(Vacancy {
                bucket,
                reach,
                version: self.version,
            }),
        }
    }

    /// Look `key` up for a removal that may follow: the bucket and the value.
    #[inline]
    pub(crate) fn lookup_for_remove(&self, key: u64) -> Option<(Bucket, Ix<T>)> {
        match self.find_current(key) {
            Some((index, val)) => Some((
                Bucket {
                    index,
                    version: self.version,
                },
                val,
            )),
            None if self.draining.is_none() => None,
            // An id still in the draining table: a place that is never current, so
            // `remove_at` looks it up again (rare: only during a migration).
            None => self.find_draining(key).map(|val| {
                (
                    Bucket {
                        index: 0,
                        version: self.version.wrapping_sub(1),
                    },
                    val,
                )
            }),
        }
    }

    /// The value of `key`, if present.
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<Ix<T>> {
        match self.find_current(key) {
            Some((_, val)) => Some(val),
            None if self.draining.is_some() => self.find_draining(key),
            None => None,
        }
    }

    #[inline]
    pub(crate) fn contains(&self, key: u64) -> bool {
        self.get(key).is_some()
    }

    /// Insert an id known to be absent, probing from its home bucket: for an insert whose
    /// [`Vacancy`] may be stale (the book's rest after a match, which may have removed
    /// makers' ids). Same result as [`IdIndex::insert_at`] with a stale place.
    #[inline]
    pub(crate) fn insert(&mut self, key: u64, val: Ix<T>) {
        let at = Vacancy {
            bucket: 0,
            reach: 0,
            version: self.version.wrapping_sub(1),
        };
        self.insert_at(key, val, at);
    }

    /// [`IdIndex::insert_at`] for a caller that knows the index has not changed since
    /// `lookup_for_insert` made `at` (debug builds check it): no version compare, so the
    /// version need not be carried from the lookup to here. The book's rest of an order
    /// that met nothing, its commonest insert (callgrind, `book_ops` add: see the commit).
    #[inline]
    pub(crate) fn insert_unchanged(&mut self, key: u64, val: Ix<T>, at: Vacancy) {
        debug_assert!(!self.contains(key));
        debug_assert_eq!(
            at.version, self.version,
            "the index changed since the lookup"
        );
        let (i, reach) = if self.len >= self.room {
            // Moves or replaces buckets: probe again from the home, as `insert_at` does.
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
        self.version = self.version.wrapping_add(1);
        self.table.insert_from(i, Entry { key, val, reach });
        self.len += 1;
    }

    /// Insert an id known to be absent, starting from where `lookup_for_insert` stopped
    /// if the index has not changed since (else from its home bucket). Past the table's
    /// half, a new table twice the size is made and the ids move to it a few buckets per
    /// insert (this one included): never more than [`MOVE_PER_INSERT`] per insert.
    #[inline]
    pub(crate) fn insert_at(&mut self, key: u64, val: Ix<T>, at: Vacancy) {
        debug_assert!(!self.contains(key));
        if self.len >= self.room {
            self.make_room();
        }
        // Every bucket between the home and `at.bucket` holds an entry that stays ahead
        // of `key` (the probe passed it), so starting there is the same insert.
        let (i, reach) = if at.version == self.version {
            (at.bucket, at.reach)
        } else {
            (self.table.home(key), 1)
        };
        self.place(i, reach, key, val);
    }

    /// Remove an id; returns its slot if it was present.
    #[inline]
    pub(crate) fn remove(&mut self, key: u64) -> Option<Ix<T>> {
        match self.find_current(key) {
            Some((hole, val)) => {
                self.remove_current(hole);
                Some(val)
            }
            None if self.draining.is_none() => None,
            None => self.remove_draining(key),
        }
    }

    /// Remove the entry `lookup_for_remove` found, without probing again if the index
    /// has not changed since.
    #[inline]
    pub(crate) fn remove_at(&mut self, key: u64, at: Bucket) -> Option<Ix<T>> {
        if at.version == self.version {
            debug_assert_eq!(self.table.at(at.index).key, key);
            let val = self.table.at(at.index).val;
            self.remove_current(at.index);
            Some(val)
        } else {
            self.remove(key)
        }
    }

    #[inline]
    fn remove_current(&mut self, hole: usize) {
        self.len -= 1;
        self.version = self.version.wrapping_add(1);
        self.table.remove_bucket(hole);
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
        self.version = self.version.wrapping_add(1);
        Some(val)
    }

    /// Before an insert that the current table has no room for, or during a migration:
    /// start a growth if the table is half full, then move the next buckets of the
    /// draining table. Changes the version (the insert probes again from the home).
    #[cold]
    #[inline(never)]
    fn make_room(&mut self) {
        if self.draining.is_none() {
            self.grow();
        }
        self.move_some();
        self.room = match self.draining {
            Some(_) => 0,
            None => self.table.buckets() / 2,
        };
        // A migration ends after at most a quarter of the inserts that would fill its
        // new table to half (`MOVE_PER_INSERT`), so the table stays at most half full.
        debug_assert!(self.len < self.table.buckets() / 2, "migration overran");
    }

    /// Start a growth: the current table becomes the draining one and a new table of
    /// twice its buckets takes the inserts. O(1) here; the ids move in `move_some`.
    fn grow(&mut self) {
        let bigger = Table::lazily_zeroed(self.table.buckets() * 2);
        let old = std::mem::replace(&mut self.table, bigger);
        self.draining = Some(Draining {
            table: old,
            moved: 0,
        });
        // No place taken before now is a place in the new table.
        self.version = self.version.wrapping_add(1);
        #[cfg(test)]
        {
            self.growths += 1;
        }
    }

    /// Move the next [`MOVE_PER_INSERT`] buckets of the draining table into the current
    /// one; drop the draining table once all have moved.
    fn move_some(&mut self) {
        let Some(d) = self.draining.as_mut() else {
            return;
        };
        let end = (d.moved + MOVE_PER_INSERT).min(d.table.buckets());
        for i in d.moved..end {
            let e = d.table.at(i);
            if e.reach != 0 && e.reach & DEAD == 0 {
                let home = self.table.home(e.key);
                self.table.insert_from(home, Entry { reach: 1, ..e });
            }
        }
        #[cfg(test)]
        {
            self.most_moved_per_insert = self.most_moved_per_insert.max(end - d.moved);
        }
        d.moved = end;
        if end == d.table.buckets() {
            self.draining = None;
        }
        self.version = self.version.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests;
