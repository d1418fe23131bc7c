//! Multi-producer ingress: one [`spsc`] ring per producer, polled round-robin
//! by the single consumer (the engine).
//!
//! # Algorithm
//! Every producer (a broker gateway, the market-data feed) owns the producing end of its
//! own SPSC ring, so producers never contend with each other: no compare-and-swap, no
//! shared tail, and each producer's cache lines are touched only by it and the engine.
//! The engine owns all the consuming ends. A poll visits the rings once, starting at a
//! cursor that advances by one ring per poll, and takes at most `ceil(max / rings)` items
//! from each. So under saturation every ring receives the same share of every poll and the
//! first turn one poll in `rings`: no producer can starve another, and an item waits at
//! most for the batches of the other rings in a single pass once it is visible.
//!
//! There is no global order among producers in the rings themselves; the engine defines
//! one by stamping a global sequence number as it takes each item, and that sequence is
//! the journal order. Each producer's own order is preserved (its ring is FIFO).
//!
//! # Memory ordering
//! Exactly that of the SPSC ring, per ring: the engine's `Acquire` load of a ring's tail
//! pairs with that producer's `Release` store, and its `Release` store of the ring's head
//! pairs with that producer's `Acquire` reload. Rings share no state, so nothing else is
//! needed.

use super::spsc::{self, Consumer, Producer};

/// The consuming side of a multi-producer ingress.
pub struct MultiIngress<T> {
    rings: Box<[Consumer<T>]>,
    cursor: usize,
}

/// Creates `producers` rings of at least `capacity_each` slots and returns their producing
/// ends (index `i` is producer `i`) and the polling consumer. `producers == 0` is taken as 1.
pub fn channel<T: Copy + Send>(
    producers: usize,
    capacity_each: usize,
) -> (Vec<Producer<T>>, MultiIngress<T>) {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..producers.max(1))
        .map(|_| spsc::channel(capacity_each))
        .unzip();
    (
        txs,
        MultiIngress {
            rings: rxs.into_boxed_slice(),
            cursor: 0,
        },
    )
}

impl<T: Copy + Send> MultiIngress<T> {
    /// Number of producers (rings).
    pub fn producers(&self) -> usize {
        self.rings.len()
    }

    /// Takes up to `max` items, visiting each ring once in round-robin order, and hands each
    /// to `f` with the index of the producer that sent it. Returns how many were taken.
    #[inline]
    pub fn poll(&mut self, max: usize, mut f: impl FnMut(u32, T)) -> usize {
        let n = self.rings.len();
        let quota = max.div_ceil(n);
        let mut taken = 0;
        let mut r = self.cursor;
        for _ in 0..n {
            if taken >= max {
                break;
            }
            let want = quota.min(max - taken);
            taken += self.rings[r].pop_batch(want, |v| f(r as u32, v));
            r += 1;
            if r == n {
                r = 0;
            }
        }
        self.cursor += 1;
        if self.cursor == n {
            self.cursor = 0;
        }
        taken
    }

    /// True if every ring is empty right now.
    pub fn is_empty(&mut self) -> bool {
        self.rings.iter_mut().all(|r| r.is_empty())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn round_robin_shares_each_poll() {
        let (mut tx, mut rx) = channel::<u32>(3, 16);
        for (p, t) in tx.iter_mut().enumerate() {
            for i in 0..10 {
                t.try_push(p as u32 * 100 + i).unwrap();
            }
        }
        // max 6 over 3 rings: 2 from each, starting at the cursor.
        let mut got = Vec::new();
        assert_eq!(rx.poll(6, |p, v| got.push((p, v))), 6);
        assert_eq!(
            got,
            [(0, 0), (0, 1), (1, 100), (1, 101), (2, 200), (2, 201)]
        );
        got.clear();
        assert_eq!(rx.poll(3, |p, v| got.push((p, v))), 3);
        assert_eq!(got, [(1, 102), (2, 202), (0, 2)]);
        // Drain all; per-producer order is kept.
        let mut last = [2u32, 102, 202];
        while rx.poll(4, |p, v| {
            assert_eq!(v, last[p as usize] + 1);
            last[p as usize] = v;
        }) > 0
        {}
        assert_eq!(last, [9, 109, 209]);
        assert!(rx.is_empty());
    }

    #[test]
    fn zero_producers_is_one() {
        let (tx, rx) = channel::<u8>(0, 4);
        assert_eq!(tx.len(), 1);
        assert_eq!(rx.producers(), 1);
    }
}
