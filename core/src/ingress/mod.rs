//! Lock-free ingress: how commands (and, later, market-data updates) reach the engine
//! thread, and how its events come back.
//!
//! - [`spsc`]: the bounded single-producer/single-consumer ring written for this engine
//!   (cached indices, batch push/pop, one acquire/release pair per batch).
//! - [`multi`]: one SPSC ring per producer, polled round-robin by the engine.
//! - `crossbeam::queue::ArrayQueue`, a general bounded MPMC queue, as the simple
//!   alternative and the baseline the rings are measured against.
//!
//! [`ingress`] builds any of the three behind one [`Sender`]/[`Receiver`] pair so that the
//! engine and the latency runner can pick the kind at run time. Every queue is bounded and
//! a full queue is back-pressure: the push hands the item back in [`Full`] and nothing is
//! ever dropped.

pub mod multi;
pub mod spsc;
mod sync;

/// Pads and aligns a value to a cache-line pair (128 bytes on x86-64, whose L2 prefetcher
/// fetches lines in pairs) so two of them never interfere. crossbeam's, re-exported: a
/// plain wrapper, so loom's atomics sit in it as well as std's.
pub use crossbeam::utils::CachePadded;
pub use sync::spin_hint;

use crossbeam::queue::ArrayQueue;
use std::fmt;
use std::sync::Arc as StdArc;

/// A push into a full queue: the item comes back to the caller, who may retry.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Full<T>(pub T);

impl<T> fmt::Debug for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Full(..)")
    }
}

/// Which queue carries the ingress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueueKind {
    /// One [`spsc`] ring; exactly one producer.
    Spsc,
    /// One [`spsc`] ring per producer, polled round-robin ([`multi`]).
    Multi,
    /// One shared `crossbeam::queue::ArrayQueue` (lock-free MPMC, CAS per operation).
    ArrayQueue,
}

impl QueueKind {
    /// The name the command line and the reports use (`spsc`, `multi`, `arrayqueue`).
    pub fn name(self) -> &'static str {
        match self {
            QueueKind::Spsc => "spsc",
            QueueKind::Multi => "multi",
            QueueKind::ArrayQueue => "arrayqueue",
        }
    }
}

impl std::str::FromStr for QueueKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "spsc" => Ok(QueueKind::Spsc),
            "multi" => Ok(QueueKind::Multi),
            "arrayqueue" | "array" => Ok(QueueKind::ArrayQueue),
            _ => Err(format!(
                "unknown queue kind {s:?} (expected spsc, multi or arrayqueue)"
            )),
        }
    }
}

/// Why an ingress could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IngressError {
    /// `Spsc` was asked for with a producer count other than 1.
    SpscNeedsOneProducer(usize),
    /// Zero producers.
    NoProducers,
}

impl fmt::Display for IngressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IngressError::SpscNeedsOneProducer(n) => write!(
                f,
                "queue kind spsc takes exactly one producer, not {n} (use multi)"
            ),
            IngressError::NoProducers => f.write_str("at least one producer is needed"),
        }
    }
}

impl std::error::Error for IngressError {}

/// The producing end of an ingress, whatever its kind. One per producer thread.
#[non_exhaustive]
pub enum Sender<T> {
    /// The producing end of an SPSC ring (the `spsc` kind, or one ring of `multi`).
    Ring(spsc::Producer<T>),
    /// A handle on the shared `ArrayQueue`.
    Array(StdArc<ArrayQueue<T>>),
}

/// The consuming end of an ingress (the engine's side).
#[non_exhaustive]
pub enum Receiver<T> {
    /// The consuming end of one SPSC ring.
    Ring(spsc::Consumer<T>),
    /// The rings of every producer, polled round-robin.
    Multi(multi::MultiIngress<T>),
    /// A handle on the shared `ArrayQueue`.
    Array(StdArc<ArrayQueue<T>>),
}

/// Builds an ingress of `kind` for `producers` producers. `capacity` is per ring for the
/// ring kinds and total for `ArrayQueue` (rounded up to a power of two for the rings).
pub fn ingress<T: Copy + Send>(
    kind: QueueKind,
    producers: usize,
    capacity: usize,
) -> Result<(Vec<Sender<T>>, Receiver<T>), IngressError> {
    if producers == 0 {
        return Err(IngressError::NoProducers);
    }
    Ok(match kind {
        QueueKind::Spsc => {
            if producers != 1 {
                return Err(IngressError::SpscNeedsOneProducer(producers));
            }
            let (tx, rx) = spsc::channel(capacity);
            (vec![Sender::Ring(tx)], Receiver::Ring(rx))
        }
        QueueKind::Multi => {
            let (txs, rx) = multi::channel(producers, capacity);
            (
                txs.into_iter().map(Sender::Ring).collect(),
                Receiver::Multi(rx),
            )
        }
        QueueKind::ArrayQueue => {
            let q = StdArc::new(ArrayQueue::new(capacity.max(1)));
            (
                (0..producers).map(|_| Sender::Array(q.clone())).collect(),
                Receiver::Array(q),
            )
        }
    })
}

impl<T: Copy + Send> Sender<T> {
    /// Pushes one item, or hands it back if the queue is full.
    #[inline]
    pub fn try_push(&mut self, v: T) -> Result<(), Full<T>> {
        match self {
            Sender::Ring(p) => p.try_push(v),
            Sender::Array(q) => q.push(v).map_err(Full),
        }
    }

    /// Pushes as many items from the front of `items` as fit; returns how many. The ring
    /// publishes them with one release store; `ArrayQueue` pushes them one by one.
    #[inline]
    pub fn push_slice(&mut self, items: &[T]) -> usize {
        match self {
            Sender::Ring(p) => p.push_slice(items),
            Sender::Array(q) => {
                let mut n = 0;
                for v in items {
                    if q.push(*v).is_err() {
                        break;
                    }
                    n += 1;
                }
                n
            }
        }
    }

    /// Pushes `v`, spinning while the queue is full (back-pressure by waiting).
    #[inline]
    pub fn push_blocking(&mut self, mut v: T) {
        loop {
            match self.try_push(v) {
                Ok(()) => return,
                Err(Full(back)) => {
                    v = back;
                    spin_hint();
                }
            }
        }
    }
}

impl<T: Copy + Send> Receiver<T> {
    /// Takes up to `max` items, handing each to `f` with the index of its producer (always
    /// 0 for `ArrayQueue`, which does not know who pushed: carry it in the item if needed).
    /// Returns how many were taken.
    #[inline]
    pub fn poll(&mut self, max: usize, mut f: impl FnMut(u32, T)) -> usize {
        match self {
            Receiver::Ring(c) => c.pop_batch(max, |v| f(0, v)),
            Receiver::Multi(m) => m.poll(max, f),
            Receiver::Array(q) => {
                let mut n = 0;
                while n < max {
                    match q.pop() {
                        Some(v) => {
                            f(0, v);
                            n += 1;
                        }
                        None => break,
                    }
                }
                n
            }
        }
    }

    /// True if nothing is waiting right now.
    pub fn is_empty(&mut self) -> bool {
        match self {
            Receiver::Ring(c) => c.is_empty(),
            Receiver::Multi(m) => m.is_empty(),
            Receiver::Array(q) => q.is_empty(),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn every_kind_moves_items_and_reports_full() {
        for kind in [QueueKind::Spsc, QueueKind::Multi, QueueKind::ArrayQueue] {
            let (mut tx, mut rx) = ingress::<u32>(kind, 1, 4).unwrap();
            assert_eq!(tx[0].push_slice(&[1, 2, 3]), 3, "{kind:?}");
            tx[0].try_push(4).unwrap();
            assert_eq!(tx[0].try_push(5), Err(Full(5)), "{kind:?}");
            let mut got = Vec::new();
            assert_eq!(rx.poll(10, |_, v| got.push(v)), 4);
            assert_eq!(got, [1, 2, 3, 4], "{kind:?}");
            assert!(rx.is_empty());
        }
    }

    #[test]
    fn bad_shapes_are_errors_not_panics() {
        assert_eq!(
            ingress::<u8>(QueueKind::Spsc, 2, 4).err(),
            Some(IngressError::SpscNeedsOneProducer(2))
        );
        for kind in [QueueKind::Spsc, QueueKind::Multi, QueueKind::ArrayQueue] {
            assert_eq!(
                ingress::<u8>(kind, 0, 4).err(),
                Some(IngressError::NoProducers)
            );
        }
        assert!("bogus".parse::<QueueKind>().is_err());
        assert_eq!("ArrayQueue".parse::<QueueKind>(), Ok(QueueKind::ArrayQueue));
    }
}
