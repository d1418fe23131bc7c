//! Order id -> slot index: an open-addressing hash table with Robin Hood linear probing
//! and backward-shift deletion, written for the book's access pattern.
//!
//! # Why not a general-purpose map
//! Client order ids are mostly sequential within a session (or within each broker's id
//! space), and the live orders are mostly the recent ones. The bucket of an id is its low
//! bits XOR a Fibonacci hash of its high bits: ids that differ only in their low bits land
//! in neighbouring buckets (so the live set occupies a compact, cache-resident window of the
//! table instead of being scattered over all of it), while ids that differ in their high
//! bits (other brokers, or a stride equal to the table size) are spread apart.
//!
//! # Why Robin Hood
//! Sequential live ids fill runs of consecutive buckets. Under plain linear probing a
//! delete must scan to the end of its run (it cannot know no later entry wants the hole)
//! and so must a lookup of an absent id whose home is inside a run: O(run) — a deep FIFO of
//! 10,000 sequential ids made each fill cost ~13,000 instructions. Robin Hood insertion
//! keeps every run ordered by home bucket, which gives two early exits: a lookup stops at
//! the first entry closer to its home than the probe is to the key's home, and a
//! backward-shift delete stops at the first entry that sits in its own home bucket. Ids
//! sitting at home (the sequential case) therefore cost O(1) for every operation.
//! Each entry stores its probe distance in what would otherwise be padding.
//!
//! Backward-shift deletion leaves no tombstones, so the table never needs rehashing
//! while the number of live ids stays under half its buckets: no allocation in steady
//! state. The table is written through once at construction, so its pages are faulted in
//! before the first order arrives rather than on the hot path.
//!
//! The values are pool indices ([`Ix<T>`]), stored as [`Link<T>`] so that an empty bucket
//! is [`Link::NIL`] and the probe's emptiness test is also the conversion back to an index.

use super::pool::{Ix, Link};

#[derive(Debug)]
struct Entry<T> {
    key: u64,
    /// The element, or `NIL` for an empty bucket.
    val: Link<T>,
    /// Distance from the key's home bucket (Robin Hood bookkeeping).
    dist: u32,
}

impl<T> Clone for Entry<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Entry<T> {}

impl<T> Entry<T> {
    const VACANT: Entry<T> = Entry {
        key: 0,
        val: Link::NIL,
        dist: 0,
    };
}

/// Where an absent id would be inserted, as of one version of the table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Vacancy {
    bucket: usize,
    dist: u32,
    version: u64,
}

/// Where a present id sits, as of one version of the table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bucket {
    index: usize,
    version: u64,
}

/// Order id -> element of a `Pool<T>`. See the module docs.
#[derive(Debug)]
pub(crate) struct IdIndex<T> {
    entries: Vec<Entry<T>>,
    mask: usize,
    bits: u32,
    len: usize,
    /// Bumped by every insert and remove, so a [`Vacancy`] can tell it is still exact.
    version: u64,
    /// Buckets examined, for the tests' bound on probe lengths.
    #[cfg(test)]
    probes: std::cell::Cell<u64>,
}

impl<T> IdIndex<T> {
    /// A table that holds `capacity` ids without growing.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let buckets = (capacity.max(8) * 2).next_power_of_two();
        IdIndex {
            entries: vec![Entry::VACANT; buckets],
            mask: buckets - 1,
            bits: buckets.trailing_zeros(),
            len: 0,
            version: 0,
            #[cfg(test)]
            probes: std::cell::Cell::new(0),
        }
    }

    /// No ids; the table keeps its size. Every remembered place goes stale.
    pub(crate) fn clear(&mut self) {
        self.entries.fill(Entry::VACANT);
        self.len = 0;
        self.version = self.version.wrapping_add(1);
    }

    /// The entry in bucket `i`.
    #[inline(always)]
    fn at(&self, i: usize) -> Entry<T> {
        debug_assert!(i <= self.mask && self.mask + 1 == self.entries.len());
        #[cfg(test)]
        self.probes.set(self.probes.get() + 1);
        // SAFETY: every bucket number is reduced with `& self.mask`, and `mask` is
        // `entries.len() - 1` for the life of the table (both set together in
        // `with_capacity`; `entries` is never resized in place), so `i < len`.
        unsafe { *self.entries.get_unchecked(i) }
    }

    #[inline(always)]
    fn put(&mut self, i: usize, e: Entry<T>) {
        debug_assert!(i <= self.mask);
        // SAFETY: as in `at`: `i` is masked by `mask == entries.len() - 1`.
        unsafe { *self.entries.get_unchecked_mut(i) = e }
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        let high = (key >> self.bits).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.bits);
        ((key ^ high) as usize) & self.mask
    }

    /// Bucket holding `key`, if present; otherwise where the probe stopped, which is
    /// exactly where a Robin Hood insert of `key` would place it.
    #[inline]
    fn probe(&self, key: u64) -> Result<usize, Vacancy> {
        let mut i = self.home(key);
        let mut d = 0u32;
        loop {
            let e = self.at(i);
            let vacancy = Vacancy {
                bucket: i,
                dist: d,
                version: self.version,
            };
            // An empty bucket, or an entry nearer its home than we are to ours, ends the
            // run of entries that could be `key` (runs are ordered by home bucket).
            if e.val.is_nil() || e.dist < d {
                return Err(vacancy);
            }
            if e.key == key {
                return Ok(i);
            }
            i = (i + 1) & self.mask;
            d += 1;
        }
    }

    /// Bucket holding `key` and its value, if present. (The probe saw the bucket
    /// occupied, so the value is never `NIL`; reading it again costs nothing once inlined.)
    #[inline]
    fn find(&self, key: u64) -> Option<(usize, Ix<T>)> {
        let i = self.probe(key).ok()?;
        Some((i, self.at(i).val.get()?))
    }

    /// Look `key` up for an insert that may follow: `Ok` if it is present, else `Err`
    /// with where it would go, so the insert need not probe again if nothing changed in
    /// between.
    #[inline]
    pub(crate) fn lookup_for_insert(&self, key: u64) -> Result<(), Vacancy> {
        self.probe(key).map(|_| ())
    }

    /// Look `key` up for a removal that may follow: the bucket and the value.
    #[inline]
    pub(crate) fn lookup_for_remove(&self, key: u64) -> Option<(Bucket, Ix<T>)> {
        let (i, val) = self.find(key)?;
        Some((
            Bucket {
                index: i,
                version: self.version,
            },
            val,
        ))
    }

    /// The value of `key`, if present.
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<Ix<T>> {
        self.find(key).map(|(_, val)| val)
    }

    #[inline]
    pub(crate) fn contains(&self, key: u64) -> bool {
        self.find(key).is_some()
    }

    /// Insert an id known to be absent.
    #[inline]
    pub(crate) fn insert(&mut self, key: u64, val: Ix<T>) {
        let at = Vacancy {
            bucket: self.home(key),
            dist: 0,
            version: self.version,
        };
        self.insert_at(key, val, at);
    }

    /// Insert an id known to be absent, starting from where `lookup_for_insert` stopped
    /// if the table has not changed since (else from its home bucket).
    #[inline]
    pub(crate) fn insert_at(&mut self, key: u64, val: Ix<T>, at: Vacancy) {
        debug_assert!(!self.contains(key));
        if (self.len + 1) * 2 > self.entries.len() {
            self.grow();
            return self.insert(key, val);
        }
        // Every bucket between the home and `at.bucket` holds an entry that stays ahead
        // of `key` (the probe passed it), so starting there is the same insert.
        let (mut i, dist) = if at.version == self.version {
            (at.bucket, at.dist)
        } else {
            (self.home(key), 0)
        };
        self.version = self.version.wrapping_add(1);
        let mut e = Entry {
            key,
            val: val.into(),
            dist,
        };
        loop {
            let cur = self.at(i);
            if cur.val.is_nil() {
                self.put(i, e);
                break;
            }
            // Robin Hood: the entry farther from home keeps the bucket.
            if cur.dist < e.dist {
                self.put(i, e);
                e = cur;
            }
            i = (i + 1) & self.mask;
            e.dist += 1;
        }
        self.len += 1;
    }

    /// Remove an id; returns its slot if it was present.
    #[inline]
    pub(crate) fn remove(&mut self, key: u64) -> Option<Ix<T>> {
        let (hole, val) = self.find(key)?;
        self.remove_bucket(hole);
        Some(val)
    }

    /// Remove the entry `lookup_for_remove` found, without probing again if the table
    /// has not changed since.
    #[inline]
    pub(crate) fn remove_at(&mut self, key: u64, at: Bucket) -> Option<Ix<T>> {
        if at.version == self.version {
            debug_assert_eq!(self.at(at.index).key, key);
            let val = self.at(at.index).val.get();
            self.remove_bucket(at.index);
            val
        } else {
            self.remove(key)
        }
    }

    #[inline]
    fn remove_bucket(&mut self, mut hole: usize) {
        self.len -= 1;
        self.version = self.version.wrapping_add(1);
        // Backward shift: move each following entry one bucket back until an empty bucket
        // or an entry already at its home (it, and everything after it, cannot move).
        loop {
            let j = (hole + 1) & self.mask;
            let mut e = self.at(j);
            if e.val.is_nil() || e.dist == 0 {
                break;
            }
            e.dist -= 1;
            self.put(hole, e);
            hole = j;
        }
        self.put(hole, Entry::VACANT);
    }

    /// Double the table (only when more ids are live than the configured capacity).
    #[cold]
    fn grow(&mut self) {
        let old = std::mem::take(&mut self.entries);
        let version = self.version;
        *self = IdIndex::with_capacity(old.len());
        // Continue the version sequence past every insert below, so that no position
        // taken before the move can pass for current.
        self.version = version;
        for e in old {
            if let Some(val) = e.val.get() {
                self.insert(e.key, val);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::HashMap;

    /// What the tests' tables index (they never index a pool: values are just stored).
    #[derive(Debug)]
    struct Thing;
    type Table = IdIndex<Thing>;

    fn ix(raw: u32) -> Ix<Thing> {
        Ix::for_test(raw)
    }

    /// Against std's HashMap on random operations over adversarial key sets: sequential,
    /// strided by the table size (all sharing low bits), and extremes.
    #[test]
    fn matches_a_hashmap() {
        for (seed, pattern) in (0..6u64).zip([0u8, 1, 2, 0, 1, 2]) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut t = Table::with_capacity(8);
            let mut m: HashMap<u64, u32> = HashMap::new();
            let key = |rng: &mut ChaCha8Rng| -> u64 {
                let k = rng.random_range(0..300u64);
                match pattern {
                    0 => k,
                    1 => k << 20,
                    _ => u64::MAX - k,
                }
            };
            for step in 0..20_000u32 {
                let k = key(&mut rng);
                match rng.random_range(0..3) {
                    0 if !m.contains_key(&k) => {
                        t.insert(k, ix(step));
                        m.insert(k, step);
                    }
                    1 => assert_eq!(t.remove(k).map(Ix::raw), m.remove(&k)),
                    _ => assert_eq!(t.get(k).map(Ix::raw), m.get(&k).copied()),
                }
                assert_eq!(t.len, m.len());
            }
            for (k, v) in &m {
                assert_eq!(t.get(*k).map(Ix::raw), Some(*v));
            }
        }
    }

    /// The two-step forms (look up, maybe change the table, then insert or remove at the
    /// remembered place) against std's HashMap: a remembered place must be used only if
    /// nothing moved since, so other inserts and removes are interleaved at random.
    #[test]
    fn remembered_places_match_a_hashmap() {
        for seed in 0..4u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(100 + seed);
            let mut t = Table::with_capacity(8); // small: the table grows mid-run
            let mut m: HashMap<u64, u32> = HashMap::new();
            for step in 0..20_000u32 {
                let k = rng.random_range(0..200u64) << (seed * 7);
                let other = rng.random_range(0..200u64) << (seed * 7);
                let meddle = rng.random_bool(0.5);
                let meddle_with = |t: &mut Table, m: &mut HashMap<u64, u32>| {
                    if other == k {
                        return;
                    }
                    if m.remove(&other).is_some() {
                        t.remove(other);
                    } else {
                        m.insert(other, step);
                        t.insert(other, ix(step));
                    }
                };
                if rng.random_bool(0.5) {
                    match t.lookup_for_insert(k) {
                        Ok(()) => assert!(m.contains_key(&k)),
                        Err(at) => {
                            assert!(!m.contains_key(&k));
                            if meddle {
                                meddle_with(&mut t, &mut m);
                            }
                            t.insert_at(k, ix(step), at);
                            m.insert(k, step);
                        }
                    }
                } else {
                    match t.lookup_for_remove(k) {
                        None => assert!(!m.contains_key(&k)),
                        Some((at, v)) => {
                            assert_eq!(Some(&v.raw()), m.get(&k));
                            if meddle {
                                meddle_with(&mut t, &mut m);
                            }
                            assert_eq!(t.remove_at(k, at).map(Ix::raw), m.remove(&k));
                        }
                    }
                }
                assert_eq!(t.len, m.len());
            }
            for (k, v) in &m {
                assert_eq!(t.get(*k).map(Ix::raw), Some(*v), "seed {seed} key {k}");
            }
        }
    }

    /// A deep run of sequential ids (a 10,000-order FIFO) removed oldest first, and stale
    /// lookups inside the run: every operation examines a bounded number of buckets.
    #[test]
    fn sequential_runs_cost_constant_probes() {
        let n = 10_000u64;
        let mut t = Table::with_capacity(1 << 16);
        for k in 0..n {
            t.insert(1_000 + k, ix(k as u32));
        }
        let worst = |t: &Table, before: u64| t.probes.get() - before;
        for k in 0..n {
            let before = t.probes.get();
            assert_eq!(t.remove(1_000 + k), Some(ix(k as u32)));
            assert!(
                worst(&t, before) <= 4,
                "remove of id {k} probed {}",
                worst(&t, before)
            );
            // A stale id just removed, inside what is left of the run.
            let before = t.probes.get();
            assert_eq!(t.get(1_000 + k), None);
            assert!(
                worst(&t, before) <= 3,
                "stale lookup probed {}",
                worst(&t, before)
            );
        }
        assert_eq!(t.len, 0);
    }

    #[test]
    fn neighbouring_ids_share_cache_lines() {
        let t = Table::with_capacity(1 << 16);
        let h: Vec<usize> = (1_000u64..1_004).map(|k| t.home(k)).collect();
        assert_eq!(h[1].abs_diff(h[0]), 1);
        assert_eq!(h[3].abs_diff(h[2]), 1);
    }

    /// `clear` empties the table, keeps its size, and makes every remembered place stale
    /// (an insert at a place taken before the clear must not land there blindly).
    #[test]
    fn clear_forgets_ids_and_places() {
        let mut t = Table::with_capacity(8);
        let buckets = t.entries.len();
        for k in 0..8u64 {
            t.insert(k, ix(k as u32));
        }
        let Err(place) = t.lookup_for_insert(100) else {
            panic!("100 is absent")
        };
        t.clear();
        assert_eq!((t.len, t.entries.len()), (0, buckets));
        for k in 0..8u64 {
            assert_eq!(t.get(k), None);
        }
        t.insert(3, ix(30));
        t.insert_at(100, ix(1), place);
        assert_eq!(t.get(100), Some(ix(1)));
        assert_eq!(t.get(3), Some(ix(30)));
        assert_eq!(t.len, 2);
    }
}
