//! The far tier against `BTreeMap` as the oracle: random operation sequences over keys
//! drawn in several shapes (a small range full of collisions, a ladder built away from
//! the touch, both ends at once, the whole `i64` range), and adversarial orders (holes
//! punched in the middle, revived, filled between, alternating ends), every invariant
//! checked after every step.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::FarTier;

/// The tier and its oracle, stepped together; every step compares results and then the
/// whole contents.
struct Pair {
    tier: FarTier<u32>,
    oracle: BTreeMap<i64, u32>,
    next_value: u32,
    steps: u64,
}

impl Pair {
    fn new() -> Self {
        Pair {
            tier: FarTier::new(),
            oracle: BTreeMap::new(),
            next_value: 0,
            steps: 0,
        }
    }

    fn insert(&mut self, key: i64) {
        self.next_value += 1;
        let fresh = self.next_value;
        let mut made = false;
        let got = self.tier.get_or_insert_with(key, || {
            made = true;
            fresh
        });
        let want = *self.oracle.entry(key).or_insert(fresh);
        assert_eq!(got, want, "get_or_insert_with({key})");
        assert_eq!(made, want == fresh, "make() called iff {key} was absent");
        self.after();
    }

    fn remove(&mut self, key: i64) {
        assert_eq!(
            self.tier.remove(key),
            self.oracle.remove(&key),
            "remove({key})"
        );
        self.after();
    }

    fn pop_best(&mut self) {
        assert_eq!(self.tier.pop_best(), self.oracle.pop_last(), "pop_best");
        self.after();
    }

    fn get(&self, key: i64) {
        assert_eq!(
            self.tier.get(key),
            self.oracle.get(&key).copied(),
            "get({key})"
        );
    }

    fn after(&mut self) {
        self.steps += 1;
        self.tier.check();
        assert_eq!(self.tier.len(), self.oracle.len());
        assert_eq!(self.tier.is_empty(), self.oracle.is_empty());
        // The full walk is O(n): every step while small, now and then when large.
        if self.oracle.len() < 64 || self.steps.is_multiple_of(97) {
            self.walk();
        }
    }

    fn walk(&self) {
        let got: Vec<(i64, u32)> = self.tier.best_first().collect();
        let want: Vec<(i64, u32)> = self.oracle.iter().rev().map(|(&k, &v)| (k, v)).collect();
        assert_eq!(got, want, "best_first");
    }

    /// A key the oracle holds, picked at random (or any key if it holds none).
    fn some_key(&self, rng: &mut ChaCha8Rng) -> Option<i64> {
        if self.oracle.is_empty() {
            return None;
        }
        let nth = rng.random_range(0..self.oracle.len());
        self.oracle.keys().nth(nth).copied()
    }

    /// `take_best(n)`, as a refill of the window does: what it appends must be the
    /// oracle's best entries in ascending order, at least one if any, at most `n`, and
    /// (appended after what the vectors already held) leave that prefix alone.
    fn refill(&mut self, n: usize) {
        let mut keys = vec![i64::MIN];
        let mut values = vec![u32::MAX];
        self.tier.take_best(n, &mut keys, &mut values);
        assert_eq!((keys[0], values[0]), (i64::MIN, u32::MAX), "prefix kept");
        let taken = keys.len() - 1;
        assert_eq!(taken, values.len() - 1);
        assert!(taken <= n, "took {taken} of at most {n}");
        assert!(
            taken > 0 || n == 0 || self.oracle.is_empty(),
            "took none of {} with n = {n}",
            self.oracle.len()
        );
        let mut want: Vec<(i64, u32)> = (0..taken)
            .map(|_| {
                self.oracle
                    .pop_last()
                    .expect("took more than the oracle holds")
            })
            .collect();
        want.reverse();
        let got: Vec<(i64, u32)> = keys[1..]
            .iter()
            .copied()
            .zip(values[1..].iter().copied())
            .collect();
        assert_eq!(got, want, "take_best({n})");
        self.after();
    }
}

/// One random sequence: inserts from `draw`, removals of present and absent keys
/// anywhere, pops of the best, lookups, and refills of a few dozen.
fn random_sequence(seed: u64, steps: usize, mut draw: impl FnMut(&mut ChaCha8Rng) -> i64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut p = Pair::new();
    for _ in 0..steps {
        match rng.random_range(0..100) {
            0..50 => {
                let k = draw(&mut rng);
                p.insert(k);
            }
            50..70 => {
                if let Some(k) = p.some_key(&mut rng) {
                    p.remove(k);
                }
            }
            70..78 => {
                let k = draw(&mut rng);
                p.remove(k);
            }
            78..88 => p.pop_best(),
            88..98 => {
                let k = draw(&mut rng);
                p.get(k);
                if let Some(k) = p.some_key(&mut rng) {
                    p.get(k);
                }
            }
            _ => {
                let n = rng.random_range(0..40);
                p.refill(n);
            }
        }
    }
    p.walk();
    while !p.oracle.is_empty() {
        p.pop_best();
    }
    p.pop_best();
}

#[test]
fn random_keys_in_a_small_range() {
    for seed in 0..8 {
        random_sequence(seed, 4_000, |rng| rng.random_range(-200..200));
    }
}

#[test]
fn random_keys_over_the_whole_i64_range() {
    for seed in 0..4 {
        random_sequence(seed, 4_000, |rng| match rng.random_range(0..10) {
            0 => i64::MIN,
            1 => i64::MAX,
            2 => i64::MIN + rng.random_range(0..4),
            3 => i64::MAX - rng.random_range(0..4),
            _ => rng.random(),
        });
    }
}

/// Keys that mostly walk away from a moving front (a deep ladder built outward), with
/// some at the back and some inside.
#[test]
fn ladder_built_outward_with_noise() {
    for seed in 0..4 {
        let mut front = 0i64;
        let mut back = 0i64;
        random_sequence(seed, 6_000, move |rng| match rng.random_range(0..10) {
            0..6 => {
                front -= rng.random_range(1..3);
                front
            }
            6..8 => {
                back += 1;
                back
            }
            _ => rng.random_range(front..=back),
        });
    }
}

/// Holes punched in the middle of a long run (tombstones, then a compaction), revived at
/// their own keys, filled between the run's keys (the interior map), then everything
/// popped from the best end through both.
#[test]
fn holes_revivals_and_interior_keys() {
    let mut p = Pair::new();
    for k in (0..2_000i64).rev() {
        p.insert(k * 4); // built outward: every insert is a push at the front
    }
    for k in (1..1_999i64).filter(|k| k % 3 != 0) {
        p.remove(k * 4); // two thirds of the middle: compacts at least once
    }
    for k in (1..1_999i64).step_by(5) {
        p.insert(k * 4); // revives a tombstone, or enters the map after a compaction
        p.insert(k * 4 + 1); // between run keys: the map
    }
    for k in (0..2_000i64).step_by(7) {
        p.get(k * 4);
        p.get(k * 4 + 1);
        p.get(k * 4 + 2);
    }
    p.walk();
    for k in (1..1_999i64).step_by(10) {
        p.remove(k * 4 + 1); // from the map
    }
    // Refills through map keys above the run's tail (the merging path), then the rest.
    while !p.oracle.is_empty() {
        p.refill(37);
    }
}

/// Refills of a run with tombstones in its tail and map keys below, inside and above the
/// tail: both paths of `take_best`, and the tombstones it drops.
#[test]
fn refills_through_tombstones_and_map_keys() {
    let mut p = Pair::new();
    for k in (0..600i64).rev() {
        p.insert(k * 10);
    }
    for k in (400..600i64).step_by(3) {
        p.remove(k * 10 + 10); // tombstones in the tail
    }
    p.insert(5_000 + 5); // map, below the tail
    p.refill(50); // copy path, through tombstones
    p.insert(3_000 + 5); // map, inside the next tail
    p.refill(100); // merging path
    p.refill(0);
    while !p.oracle.is_empty() {
        p.refill(64);
    }
    p.refill(10);
}

/// Removals just inside each end, then at the end itself: the tombstones behind an end
/// are trimmed so that both ends stay live.
#[test]
fn tombstones_next_to_the_ends_are_trimmed() {
    let mut p = Pair::new();
    for k in 0..100i64 {
        p.insert(k);
    }
    for k in [1, 2, 3, 98, 97, 96] {
        p.remove(k);
    }
    p.remove(0); // the front goes, and the tombstones 1..=3 behind it
    p.remove(99); // the back goes, and 96..=98
    p.get(4);
    p.get(95);
    p.insert(2); // below the new front: a push at the front
    p.insert(97); // above the new back: a push at the back
    p.walk();
    while !p.oracle.is_empty() {
        p.pop_best();
    }
}

/// Inserts alternating between the two ends, removals alternating between the ends and
/// the middle, and a key that left the run's range while in the map coming back.
#[test]
fn alternating_ends() {
    let mut p = Pair::new();
    for i in 0..3_000i64 {
        if i % 2 == 0 {
            p.insert(-i);
        } else {
            p.insert(i);
        }
    }
    p.insert(10); // in the map (inside the range, no tombstone)
    for i in 0..1_000i64 {
        match i % 3 {
            0 => p.pop_best(),
            1 => p.remove(-(2_998 - 2 * (i / 3) * 2)),
            _ => p.remove(i - 500),
        }
    }
    // The map's 10 may now be outside the run's range: inserting it again must find it.
    p.insert(10);
    p.insert(11);
    p.get(10);
    while !p.oracle.is_empty() {
        p.pop_best();
    }
}

/// A long sequence an adversary might send to make a step expensive: many middle
/// removals of a large run followed by refills, repeated. The tombstone bound (checked
/// after every step by `check`) keeps the run within twice its live entries.
#[test]
fn middle_cancels_then_refills_stay_bounded() {
    let mut p = Pair::new();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut low = 0i64;
    for _round in 0..6 {
        for _ in 0..1_500 {
            low -= 1;
            p.insert(low);
        }
        for _ in 0..900 {
            if let Some(k) = p.some_key(&mut rng) {
                p.remove(k);
            }
        }
        p.refill(256);
        let len = p.oracle.len();
        assert!(
            p.tier.run.len() <= 2 * len + 40,
            "run {} live {len}",
            p.tier.run.len()
        );
    }
    p.walk();
}

/// `clear` empties the tier and keeps working.
#[test]
fn clear_then_reuse() {
    let mut p = Pair::new();
    for k in [5, 1, 9, 3, 7] {
        p.insert(k);
    }
    p.tier.clear();
    p.oracle.clear();
    p.after();
    for k in [4, 2, 8] {
        p.insert(k);
    }
    p.walk();
}
