//! One open-addressing table of the id index: a power-of-two array of buckets with Robin
//! Hood linear probing and backward-shift deletion, and the folded Fibonacci hash that
//! picks a key's home bucket. It knows nothing of growth: the migrating index (the parent
//! module, whose docs give the design and its measurements) owns one or two of these and
//! moves ids between them.

use crate::book::pool::Ix;
use std::alloc::{alloc_zeroed, handle_alloc_error, Layout};

/// Smallest table, in buckets (room for 8 ids).
pub(super) const MIN_BUCKETS: usize = 16;

#[derive(Debug)]
pub(super) struct Entry<T> {
    pub(super) key: u64,
    /// The element ([`Ix::FIRST`], meaning nothing, in a vacant bucket). Stored as an
    /// index, not a `Link`, so a hit needs no second test for "nothing".
    pub(super) val: Ix<T>,
    /// Buckets from the key's home to this one, counting both (1 = at home), or 0 for a
    /// vacant bucket: Robin Hood bookkeeping, and the emptiness test in the same compare.
    /// In the table being drained, [`DEAD`] is added to an id removed before it moved (the
    /// entry stays, so that the frozen table's probe sequences stay intact; a probe treats
    /// it as an entry far from home and goes on past it).
    pub(super) reach: u32,
}

/// See [`Entry::reach`]; probe lengths are tiny, so this bit is never a real reach.
pub(super) const DEAD: u32 = 1 << 31;

impl<T> Clone for Entry<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Entry<T> {}

impl<T> Entry<T> {
    pub(super) const VACANT: Entry<T> = Entry {
        key: 0,
        val: Ix::FIRST,
        reach: 0,
    };
}

/// The folded Fibonacci hash of `key`: the high half XOR the low half of the 128-bit
/// product `key × ⌊2^64/φ⌋` (the parent module's docs say why the fold). Its top bits are
/// a table's bucket; the fast book's peg map hashes ids with it too.
#[inline(always)]
pub(crate) fn fold_hash(key: u64) -> u64 {
    let p = u128::from(key) * 0x9E37_79B9_7F4A_7C15;
    ((p >> 64) as u64) ^ (p as u64)
}

/// One open-addressing table: a power-of-two number of buckets.
#[derive(Debug)]
pub(super) struct Table<T> {
    pub(super) entries: Vec<Entry<T>>,
    /// Always `entries.len() - 1` (set with `entries`, which is never resized).
    pub(super) mask: usize,
    /// `64 - log2(entries.len())`: the hash's top bits are the bucket.
    pub(super) shift: u32,
}

#[cfg(test)]
thread_local! {
    /// Buckets examined by this thread, for the tests' bounds on probe lengths and on
    /// the work per insert.
    pub(super) static PROBES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl<T> Table<T> {
    /// A table over `entries` (a power-of-two number of vacant buckets).
    pub(super) fn over(entries: Vec<Entry<T>>) -> Self {
        assert!(entries.len().is_power_of_two() && entries.len() >= MIN_BUCKETS);
        Table {
            mask: entries.len() - 1,
            shift: 64 - entries.len().trailing_zeros(),
            entries,
        }
    }

    /// `buckets` vacant buckets, every page written now (for construction: nothing
    /// faults in later).
    pub(super) fn prefaulted(buckets: usize) -> Self {
        Table::over(vec![Entry::VACANT; buckets])
    }

    /// `buckets` vacant buckets in zeroed memory from the allocator, O(1) at the call: a
    /// table this large comes straight from the kernel as zero pages, faulted in one at a
    /// time as inserts first touch them (a few per insert) rather than all at once.
    pub(super) fn lazily_zeroed(buckets: usize) -> Self {
        let layout = Layout::array::<Entry<T>>(buckets).expect("id table size overflows");
        assert!(layout.size() > 0);
        // SAFETY: the layout has a non-zero size (checked). All-zero bytes are a valid
        // `Entry<T>` (a `u64`, an `Ix<T>` which is a `u32` and a marker, a `u32`) and a
        // vacant one (`reach == 0`), equal to `Entry::VACANT`: its `val`, raw 0, is
        // `Ix::FIRST`, the element every pool holds, so even this index is in bounds. The pointer comes from the global
        // allocator with `Layout::array::<Entry<T>>(buckets)`, exactly the layout a
        // `Vec<Entry<T>>` of capacity `buckets` frees with; all `buckets` are initialised.
        let entries = unsafe {
            let p = alloc_zeroed(layout).cast::<Entry<T>>();
            if p.is_null() {
                handle_alloc_error(layout);
            }
            Vec::from_raw_parts(p, buckets, buckets)
        };
        Table::over(entries)
    }

    pub(super) fn buckets(&self) -> usize {
        self.entries.len()
    }

    /// The entry in bucket `i`.
    #[inline(always)]
    pub(super) fn at(&self, i: usize) -> Entry<T> {
        debug_assert!(i <= self.mask && self.mask + 1 == self.entries.len());
        #[cfg(test)]
        PROBES.with(|p| p.set(p.get() + 1));
        // SAFETY: every bucket number is below `entries.len()`: it is reduced with
        // `& self.mask`, or is the drain cursor, which stops at `entries.len()`; `mask` is
        // `entries.len() - 1` for the life of the table (both set together in `over`;
        // `entries` is never resized).
        unsafe { *self.entries.get_unchecked(i) }
    }

    #[inline(always)]
    pub(super) fn put(&mut self, i: usize, e: Entry<T>) {
        debug_assert!(i <= self.mask);
        // SAFETY: as in `at`: `i < entries.len()`.
        unsafe { *self.entries.get_unchecked_mut(i) = e }
    }

    /// Folded Fibonacci hashing: the top `64 - shift` bits of the high half XOR the low half of
    /// `key × ⌊2^64/φ⌋` (see the module docs for why the fold).
    #[inline(always)]
    pub(super) fn home(&self, key: u64) -> usize {
        (fold_hash(key) >> self.shift) as usize
    }

    /// Starts loading `key`'s home bucket (a hint, see [`crate::book::pool::prefetch`]).
    #[inline(always)]
    pub(super) fn prefetch_home(&self, key: u64) {
        // `home` is below `entries.len()` (its top bits of a 64-bit value).
        crate::book::pool::prefetch(&self.entries[self.home(key)]);
    }

    /// Bucket holding `key` and its value, if present; otherwise the bucket and reach at
    /// which the probe stopped, which is exactly where a Robin Hood insert of `key` would
    /// place it.
    #[inline(always)]
    pub(super) fn probe(&self, key: u64) -> Result<(usize, Entry<T>), (usize, u32)> {
        let mut i = self.home(key);
        let mut reach = 1u32;
        loop {
            let e = self.at(i);
            // A vacant bucket (reach 0), or an entry nearer its home than we are to ours,
            // ends the run of entries that could be `key` (runs are ordered by home).
            if e.reach < reach {
                return Err((i, reach));
            }
            if e.key == key {
                return Ok((i, e));
            }
            i = (i + 1) & self.mask;
            reach += 1;
        }
    }

    /// Robin Hood insert of `e` (absent), starting at bucket `i` where `e.reach` is its
    /// reach: every bucket before `i` on its way holds an entry that stays ahead of it.
    #[inline(always)]
    pub(super) fn insert_from(&mut self, mut i: usize, mut e: Entry<T>) {
        loop {
            let cur = self.at(i);
            if cur.reach == 0 {
                self.put(i, e);
                return;
            }
            // Robin Hood: the entry farther from home keeps the bucket.
            if cur.reach < e.reach {
                self.put(i, e);
                e = cur;
            }
            i = (i + 1) & self.mask;
            e.reach += 1;
        }
    }

    /// Empty bucket `hole` by backward shift: move each following entry one bucket back
    /// until a vacant bucket or an entry already at its home (it, and everything after
    /// it, cannot move). No tombstones.
    #[inline(always)]
    pub(super) fn remove_bucket(&mut self, mut hole: usize) {
        loop {
            let j = (hole + 1) & self.mask;
            let reach = self.at(j).reach;
            if reach <= 1 {
                break;
            }
            let e = self.at(j);
            self.put(
                hole,
                Entry {
                    reach: reach - 1,
                    ..e
                },
            );
            hole = j;
        }
        self.put(hole, Entry::VACANT);
    }
}
