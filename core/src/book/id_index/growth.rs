//! Growth of the id index past its table's half: a table of twice the buckets, and the
//! old one drained into it a few buckets per insert.
//!
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

use super::table::{Entry, Table, DEAD};
use super::IdIndex;
use crate::book::pool::Ix;

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
pub(super) const MOVE_PER_INSERT: usize = 16;

/// The previous table while its ids move to the new one, a few buckets per insert.
/// Frozen but for one write: an id removed before it moved keeps its entry, marked
/// [`DEAD`], so every probe sequence through the table stays what it was.
#[derive(Debug)]
pub(super) struct Draining<T> {
    pub(super) table: Table<T>,
    /// Buckets `0..moved` have moved (their ids live, or were since removed, in the new
    /// table); an id found below the cursor is not here any more.
    pub(super) moved: usize,
}

impl<T> Draining<T> {
    /// Bucket and value of `key` if it is live here and has not moved yet.
    #[inline(always)]
    pub(super) fn find(&self, key: u64) -> Option<(usize, Ix<T>)> {
        let (i, e) = self.table.probe(key).ok()?;
        if i < self.moved || e.reach & DEAD != 0 {
            return None;
        }
        Some((i, e.val))
    }
}

impl<T> IdIndex<T> {
    /// Before an insert that the current table has no room for, or during a migration:
    /// start a growth if the table is half full, then move the next buckets of the
    /// draining table. Moves entries: a place found before it is no longer exact.
    #[cold]
    #[inline(never)]
    pub(super) fn make_room(&mut self) {
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
        self.changed();
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
        self.changed();
    }
}
