//! The far tier of a ladder: an ordered map from key to level for every level worse than
//! the near window, shaped for how deep ladders actually change.
//!
//! # The shapes it is built for
//! Levels reach the far tier in three ways: a ladder built *away* from the touch adds each
//! new level below every far key (its worst end); the window *spills* its worse half,
//! which lands above every far key (its best end); and the odd order rests somewhere in
//! between. Levels leave it at its best end (the window *refills* after a sweep) or
//! anywhere (a cancel, or a fill of a far level). A `BTreeMap` pays a descent and often a
//! node allocation for every one of these (about 450 instructions per insert measured on
//! `deep-ladder`); the two end shapes need neither.
//!
//! # Algorithm
//! - **Run**: a sorted `VecDeque` of `(key, level)` entries. A key below its front is
//!   pushed at the front, a key above its back at the back: O(1), no search, and no
//!   allocation once the deque has grown to the tier's working size (it keeps its
//!   capacity). The best end pops from the back in O(1).
//! - **Tombstones**: removing an entry from the middle of the run does not move the
//!   others; its level is set to `None` (found by binary search, O(log n)) and counted in
//!   `dead`. A tombstone whose key comes back is revived in place. When tombstones
//!   outnumber the live entries, one pass drops them all (O(run), paid for by the
//!   `run / 2` removals since the last pass: O(1) amortized per removal).
//! - **Interior**: a key strictly inside the run's range that has no tombstone to revive
//!   goes to a `BTreeMap`: O(log n) (and an allocation now and then, the only one left).
//!
//! # Invariants (`debug_assert!`ed by [`FarTier::check`] in tests and after each change
//! in debug builds)
//! - The run's keys are strictly ascending; its front and back entries are live (so a
//!   non-empty run has a live best and a live worst, and `is_empty` is two loads).
//! - `dead` is the number of tombstones in the run, and `dead <= live + COMPACT_SLACK`
//!   after every change (so the run is at most about twice its live entries plus 32).
//! - No key is both live in the run and in the interior map, and no interior key equals a
//!   tombstone's key (a tombstone is only ever made from a live run key, and a key that
//!   meets its tombstone revives it rather than entering the map). The tier's contents are
//!   the run's live entries together with the interior map.
//!
//! # Bounds
//! Every operation is O(log n) in the tier's size, most amortized O(1): find is one binary
//! search of the run and one map lookup; insert at either end O(1), inside O(log n);
//! remove O(log n) (amortized, for the compaction it may trigger); pop-best O(1) from the
//! run or O(log n) from the map. Nothing an adversary sends makes one step worse than
//! O(log n) amortized: keys inside the range cost a `BTreeMap` insert, removals inside it
//! cost a binary search and, every `live` removals, one linear pass.

use std::collections::btree_map;
use std::collections::{BTreeMap, VecDeque};

/// Tombstones tolerated before a compaction is considered at all, so that a small run
/// is not rebuilt on every other removal.
const COMPACT_SLACK: usize = 32;

/// An ordered map from `i64` keys to copyable values (the ladder stores level indices),
/// fast at both ends. See the module docs.
#[derive(Debug)]
pub(super) struct FarTier<V> {
    /// Ascending keys; `None` is a tombstone. Front and back are always live.
    run: VecDeque<(i64, Option<V>)>,
    /// Tombstones in `run`.
    dead: usize,
    /// Keys that arrived inside the run's range (and met no tombstone of their own).
    interior: BTreeMap<i64, V>,
}

impl<V: Copy> FarTier<V> {
    pub(super) fn new() -> Self {
        FarTier {
            run: VecDeque::new(),
            dead: 0,
            interior: BTreeMap::new(),
        }
    }

    /// Empty the tier, keeping the run's storage (the map's nodes are freed).
    pub(super) fn clear(&mut self) {
        self.run.clear();
        self.dead = 0;
        self.interior.clear();
    }

    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.run.is_empty() && self.interior.is_empty()
    }

    /// Live entries. O(1). (Tests compare it; the ladder has no use for it.)
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) fn len(&self) -> usize {
        self.run.len() - self.dead + self.interior.len()
    }

    /// Where `key` sits in the run (`Ok` even for a tombstone), by binary search.
    #[inline]
    fn run_search(&self, key: i64) -> Result<usize, usize> {
        self.run.binary_search_by(|&(k, _)| k.cmp(&key))
    }

    /// The value at `key`, if live. O(log n); read-only.
    pub(super) fn get(&self, key: i64) -> Option<V> {
        if let (Some(&(lo, _)), Some(&(hi, _))) = (self.run.front(), self.run.back()) {
            if (lo..=hi).contains(&key) {
                if let Ok(i) = self.run_search(key) {
                    if let Some(v) = self.run[i].1 {
                        return Some(v);
                    }
                }
            }
        }
        if self.interior.is_empty() {
            return None;
        }
        self.interior.get(&key).copied()
    }

    /// The value at `key`, inserting `make()` there first if it is absent. O(1) at either
    /// end of the run, O(log n) inside it.
    #[inline]
    pub(super) fn get_or_insert_with(&mut self, key: i64, make: impl FnOnce() -> V) -> V {
        let v = match (self.run.front(), self.run.back()) {
            (Some(&(lo, _)), _) if key < lo && !self.interior.contains_key(&key) => {
                let v = make();
                self.run.push_front((key, Some(v)));
                v
            }
            (_, Some(&(hi, _))) if key > hi && !self.interior.contains_key(&key) => {
                let v = make();
                self.run.push_back((key, Some(v)));
                v
            }
            (None, _) if !self.interior.contains_key(&key) => {
                let v = make();
                self.run.push_back((key, Some(v)));
                v
            }
            _ => self.get_or_insert_inside(key, make),
        };
        self.debug_check();
        v
    }

    /// `get_or_insert_with` for a key in the run's range or in the interior map.
    #[cold]
    fn get_or_insert_inside(&mut self, key: i64, make: impl FnOnce() -> V) -> V {
        let in_range = match (self.run.front(), self.run.back()) {
            (Some(&(lo, _)), Some(&(hi, _))) => (lo..=hi).contains(&key),
            _ => false,
        };
        if in_range {
            if let Ok(i) = self.run_search(key) {
                match self.run[i].1 {
                    Some(v) => return v,
                    None => {
                        // Its own tombstone: revive it in place (the map cannot hold it).
                        let v = make();
                        self.run[i].1 = Some(v);
                        self.dead -= 1;
                        return v;
                    }
                }
            }
        }
        *self.interior.entry(key).or_insert_with(make)
    }

    /// Remove `key`, returning its value if it was live. O(log n) amortized.
    pub(super) fn remove(&mut self, key: i64) -> Option<V> {
        let removed = self.remove_inner(key);
        self.debug_check();
        removed
    }

    fn remove_inner(&mut self, key: i64) -> Option<V> {
        if let Ok(i) = self.run_search(key) {
            if let Some(v) = self.run[i].1 {
                if i + 1 == self.run.len() {
                    self.run.pop_back();
                    self.trim_back();
                } else if i == 0 {
                    self.run.pop_front();
                    self.trim_front();
                } else {
                    self.run[i].1 = None;
                    self.dead += 1;
                }
                self.maybe_compact();
                return Some(v);
            }
        }
        if self.interior.is_empty() {
            return None;
        }
        self.interior.remove(&key)
    }

    /// Remove and return the entry with the largest key. O(1) from the run (amortized
    /// over the tombstones it skips), O(log n) from the map.
    #[inline]
    pub(super) fn pop_best(&mut self) -> Option<(i64, V)> {
        let run_best = self.run.back().map(|&(k, _)| k);
        let map_best = if self.interior.is_empty() {
            None
        } else {
            self.interior.last_key_value().map(|(&k, _)| k)
        };
        let from_run = match (run_best, map_best) {
            (None, None) => return None,
            (Some(r), Some(m)) => r > m,
            (run, _) => run.is_some(),
        };
        let popped = if from_run {
            let (k, v) = self.run.pop_back().expect("run is not empty");
            self.trim_back();
            self.maybe_compact();
            Some((k, v.expect("the run's back is live")))
        } else {
            self.interior.pop_last()
        };
        self.debug_check();
        popped
    }

    /// Whether `key` is below every key of a tier whose keys are all in the run, so that
    /// [`FarTier::push_worst`] may take it (the common far insert of a ladder built away
    /// from the touch). O(1).
    #[inline]
    pub(super) fn is_below_run(&self, key: i64) -> bool {
        self.interior.is_empty() && self.run.front().is_some_and(|&(lo, _)| key < lo)
    }

    /// Insert `key` below every key; only after [`FarTier::is_below_run`] said yes. O(1)
    /// (amortized over the deque's growth; no allocation once it has grown).
    #[inline]
    pub(super) fn push_worst(&mut self, key: i64, v: V) {
        debug_assert!(self.is_below_run(key));
        self.run.push_front((key, Some(v)));
    }

    /// Append up to `n` of the best entries to `keys` and `values` in ascending order
    /// (fewer if the tier holds fewer, or if tombstones sit among the run's last `n`) and
    /// remove them from the tier; at least one if the tier is not empty. When the map
    /// holds nothing above the run's last `n` keys (always, for a ladder swept from its
    /// best end) this is one copy of the run's tail, O(n); otherwise `n` pops of the best,
    /// O(n log n).
    pub(super) fn take_best(&mut self, n: usize, keys: &mut Vec<i64>, values: &mut Vec<V>) {
        let start = self.run.len().saturating_sub(n);
        let map_below_tail = match (self.interior.last_key_value(), self.run.get(start)) {
            (None, _) => true,
            (Some((&m, _)), Some(&(k, _))) => m < k,
            (Some(_), None) => false,
        };
        if map_below_tail {
            let (a, b) = match self.run.as_slices() {
                (a, b) if start < a.len() => (&a[start..], b),
                (a, b) => (&[][..], &b[start - a.len()..]),
            };
            let dead = a.iter().chain(b).filter(|e| e.1.is_none()).count();
            if dead == 0 {
                // The usual tail: exact-size copies, no per-entry capacity check (callgrind,
                // deep-ladder: 27 -> 16 instructions per level refilled).
                for part in [a, b] {
                    keys.extend(part.iter().map(|e| e.0));
                    values.extend(part.iter().map(|e| e.1.expect("no tombstone here")));
                }
            } else {
                for &(k, v) in a.iter().chain(b) {
                    if let Some(v) = v {
                        keys.push(k);
                        values.push(v);
                    }
                }
            }
            self.run.truncate(start);
            self.dead -= dead;
            self.trim_back();
            self.maybe_compact();
        } else {
            let base = keys.len();
            for _ in 0..n {
                let Some((k, v)) = self.pop_best() else { break };
                keys.push(k);
                values.push(v);
            }
            keys[base..].reverse();
            values[base..].reverse();
        }
        self.debug_check();
    }

    /// Every live entry, largest key first. O(1) per entry (amortized over tombstones).
    pub(super) fn best_first(&self) -> BestFirst<'_, V> {
        BestFirst {
            run: self.run.iter().rev(),
            run_next: None,
            map: self.interior.iter().rev(),
            map_next: None,
        }
    }

    /// Drop tombstones from the run's front, so that it starts live.
    #[inline]
    fn trim_front(&mut self) {
        while let Some(&(_, None)) = self.run.front() {
            self.run.pop_front();
            self.dead -= 1;
        }
    }

    /// Drop tombstones from the run's back, so that it ends live.
    #[inline]
    fn trim_back(&mut self) {
        while let Some(&(_, None)) = self.run.back() {
            self.run.pop_back();
            self.dead -= 1;
        }
    }

    /// Drop every tombstone once they outnumber the live run entries (and the slack). Called
    /// after every step that makes a tombstone or shrinks the live run; a pass costs
    /// O(live + dead) < O(2 · dead), paid for by the removals that made those tombstones.
    #[inline]
    fn maybe_compact(&mut self) {
        let live = self.run.len() - self.dead;
        if self.dead > live + COMPACT_SLACK {
            self.run.retain(|&(_, v)| v.is_some());
            self.dead = 0;
        }
    }

    #[inline]
    fn debug_check(&self) {
        #[cfg(debug_assertions)]
        if self.run.len() + self.interior.len() <= 4096 {
            // Full checks are O(n); past a few thousand entries only the O(1) ones run.
            self.check();
        } else {
            debug_assert!(self.run.front().is_none_or(|e| e.1.is_some()));
            debug_assert!(self.run.back().is_none_or(|e| e.1.is_some()));
        }
    }

    /// Assert every invariant of the module docs. O(n).
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    pub(super) fn check(&self) {
        assert!(
            self.run.front().is_none_or(|e| e.1.is_some()),
            "run front dead"
        );
        assert!(
            self.run.back().is_none_or(|e| e.1.is_some()),
            "run back dead"
        );
        let mut dead = 0;
        for (i, &(k, v)) in self.run.iter().enumerate() {
            if i > 0 {
                assert!(self.run[i - 1].0 < k, "run not strictly ascending");
            }
            dead += v.is_none() as usize;
            assert!(!self.interior.contains_key(&k), "key {k} in run and map");
        }
        assert_eq!(dead, self.dead, "tombstone count");
        assert!(
            self.dead <= self.run.len() - self.dead + COMPACT_SLACK,
            "too many tombstones"
        );
    }
}

/// [`FarTier::best_first`]: the run (backwards, tombstones skipped) merged with the map.
pub(super) struct BestFirst<'a, V> {
    run: std::iter::Rev<std::collections::vec_deque::Iter<'a, (i64, Option<V>)>>,
    run_next: Option<(i64, V)>,
    map: std::iter::Rev<btree_map::Iter<'a, i64, V>>,
    map_next: Option<(i64, V)>,
}

impl<V: Copy> Iterator for BestFirst<'_, V> {
    type Item = (i64, V);

    fn next(&mut self) -> Option<(i64, V)> {
        if self.run_next.is_none() {
            self.run_next = self.run.find_map(|&(k, v)| v.map(|v| (k, v)));
        }
        if self.map_next.is_none() {
            self.map_next = self.map.next().map(|(&k, &v)| (k, v));
        }
        match (self.run_next, self.map_next) {
            (Some(r), Some(m)) if m.0 > r.0 => self.map_next.take(),
            (Some(_), _) => self.run_next.take(),
            (None, _) => self.map_next.take(),
        }
    }
}

#[cfg(test)]
#[path = "far_tests.rs"]
mod tests;
