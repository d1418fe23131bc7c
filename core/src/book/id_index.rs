//! Order id -> slot index: an open-addressing hash table with linear probing and
//! backward-shift deletion, written for the book's access pattern.
//!
//! # Why not a general-purpose map
//! Client order ids are mostly sequential within a session (or within each broker's id
//! space), and the live orders are mostly the recent ones. The bucket of an id is its low
//! bits XOR a Fibonacci hash of its high bits: ids that differ only in their low bits land
//! in neighbouring buckets (so the live set occupies a compact, cache-resident window of the
//! table instead of being scattered over all of it), while ids that differ in their high
//! bits (other brokers, or a stride equal to the table size) are spread apart.
//! Backward-shift deletion leaves no tombstones, so the table never needs rehashing
//! while the number of live ids stays under half its buckets: no allocation in steady
//! state. The measured effect is in `bench-results/book/`.
//!
//! The table is written through once at construction, so its pages are faulted in before
//! the first order arrives rather than on the hot path.

const EMPTY: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u64,
    /// The slot index, or `EMPTY`.
    val: u32,
}

#[derive(Debug)]
pub(crate) struct IdIndex {
    entries: Vec<Entry>,
    mask: usize,
    bits: u32,
    len: usize,
}

impl IdIndex {
    /// A table that holds `capacity` ids without growing.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let buckets = (capacity.max(8) * 2).next_power_of_two();
        IdIndex {
            entries: vec![Entry { key: 0, val: EMPTY }; buckets],
            mask: buckets - 1,
            bits: buckets.trailing_zeros(),
            len: 0,
        }
    }

    /// The entry in bucket `i`.
    #[inline(always)]
    fn at(&self, i: usize) -> Entry {
        debug_assert!(i <= self.mask && self.mask + 1 == self.entries.len());
        // SAFETY: every bucket number is reduced with `& self.mask`, and `mask` is
        // `entries.len() - 1` for the life of the table (both set together in
        // `with_capacity`; `entries` is never resized in place), so `i < len`.
        unsafe { *self.entries.get_unchecked(i) }
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        let high = (key >> self.bits).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.bits);
        ((key ^ high) as usize) & self.mask
    }

    /// Bucket holding `key`, if present.
    #[inline]
    fn find(&self, key: u64) -> Option<usize> {
        let mut i = self.home(key);
        loop {
            let e = self.at(i);
            if e.val == EMPTY {
                return None;
            }
            if e.key == key {
                return Some(i);
            }
            i = (i + 1) & self.mask;
        }
    }

    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<u32> {
        self.find(key).map(|i| self.at(i).val)
    }

    #[inline]
    pub(crate) fn contains(&self, key: u64) -> bool {
        self.find(key).is_some()
    }

    /// Insert an id known to be absent.
    #[inline]
    pub(crate) fn insert(&mut self, key: u64, val: u32) {
        debug_assert!(val != EMPTY && !self.contains(key));
        if (self.len + 1) * 2 > self.entries.len() {
            self.grow();
        }
        let mut i = self.home(key);
        while self.at(i).val != EMPTY {
            i = (i + 1) & self.mask;
        }
        self.entries[i] = Entry { key, val };
        self.len += 1;
    }

    /// Remove an id; returns its slot if it was present.
    #[inline]
    pub(crate) fn remove(&mut self, key: u64) -> Option<u32> {
        let mut hole = self.find(key)?;
        let val = self.at(hole).val;
        self.len -= 1;
        // Backward shift: pull later members of the probe run into the hole when the hole
        // lies between their home and their current bucket (cyclically).
        let mut j = hole;
        loop {
            j = (j + 1) & self.mask;
            let e = self.at(j);
            if e.val == EMPTY {
                break;
            }
            let home = self.home(e.key);
            let dist_home = j.wrapping_sub(home) & self.mask;
            let dist_hole = j.wrapping_sub(hole) & self.mask;
            if dist_home >= dist_hole {
                self.entries[hole] = e;
                hole = j;
            }
        }
        self.entries[hole].val = EMPTY;
        Some(val)
    }

    /// Double the table (only when more ids are live than the configured capacity).
    #[cold]
    fn grow(&mut self) {
        let old = std::mem::take(&mut self.entries);
        *self = IdIndex::with_capacity(old.len());
        for e in old {
            if e.val != EMPTY {
                self.insert(e.key, e.val);
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

    /// Against std's HashMap on random operations over adversarial key sets: sequential,
    /// strided by the table size (all sharing low bits), and extremes.
    #[test]
    fn matches_a_hashmap() {
        for (seed, pattern) in (0..6u64).zip([0u8, 1, 2, 0, 1, 2]) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut t = IdIndex::with_capacity(8);
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
                        t.insert(k, step);
                        m.insert(k, step);
                    }
                    1 => assert_eq!(t.remove(k), m.remove(&k)),
                    _ => assert_eq!(t.get(k), m.get(&k).copied()),
                }
                assert_eq!(t.len, m.len());
            }
            for (k, v) in &m {
                assert_eq!(t.get(*k), Some(*v));
            }
        }
    }

    #[test]
    fn neighbouring_ids_share_cache_lines() {
        let t = IdIndex::with_capacity(1 << 16);
        let h: Vec<usize> = (1_000u64..1_004).map(|k| t.home(k)).collect();
        assert_eq!(h[1].abs_diff(h[0]), 1);
        assert_eq!(h[3].abs_diff(h[2]), 1);
    }
}
