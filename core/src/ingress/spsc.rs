//! A bounded single-producer/single-consumer ring, written for the engine's ingress and
//! its output stream.
//!
//! # Algorithm
//! The ring holds `cap` slots, `cap` a power of two. Two monotonically increasing counters
//! (wrapping `usize`) describe it: `tail`, the number of items ever written, owned and
//! stored only by the producer; `head`, the number of items ever read, owned and stored
//! only by the consumer. Item `i` lives in slot `i & (cap - 1)`. The ring holds
//! `tail - head` items, always between 0 and `cap`.
//!
//! Each side keeps a private copy of its own counter (it is the only writer, so it never
//! needs to load it) and a *cached* copy of the other side's counter. The producer only
//! reloads `head` when its cached value says the ring is full; the consumer only reloads
//! `tail` when its cached value cannot satisfy the batch it asked for. In the steady state
//! neither side touches the other's cache line except when it must, which is what makes a
//! ring like this cheaper than a general queue: one cache-line transfer per *batch*
//! instead of several per item.
//!
//! `head` and `tail` sit on separate 128-byte-aligned blocks ([`CachePadded`]) so that the
//! producer's stores never invalidate the line the consumer polls and vice versa, also
//! under adjacent-line prefetching.
//!
//! # Memory ordering
//! - *Publication.* The producer writes the slots of a batch with plain stores, then stores
//!   the new `tail` with `Release`. The consumer loads `tail` with `Acquire`; every slot
//!   below the loaded value was written before that release, so its plain reads of those
//!   slots happen-after the writes (no torn or stale item).
//! - *Reuse.* The consumer reads the slots of a batch, then stores the new `head` with
//!   `Release`. The producer loads `head` with `Acquire` before writing into any slot that
//!   the consumer may have been reading, so the consumer's reads happen-before the
//!   producer's overwrite (no read of a half-overwritten item).
//! - *Stale caches are safe.* A cached `head` is never ahead of the real one, so the
//!   producer can only under-estimate free space; a cached `tail` is never ahead of the
//!   real one, so the consumer can only under-estimate available items. Either way the
//!   worst case is a spurious "full"/"empty" answer, which the next call corrects.
//! - One `Acquire` load (only when the cache is exhausted) and one `Release` store per
//!   batch on each side; on x86 both are plain `mov`s, so the cost is the cache-line
//!   transfer alone.
//!
//! Items are `Copy`, so the ring never runs destructors and a slot may be overwritten
//! without reading it first.
//!
//! A full ring is back-pressure: [`Producer::try_push`] hands the item back in
//! [`Full`] and nothing is ever dropped.

use super::sync::{Arc, AtomicUsize, Ordering, UnsafeCell};
use super::CachePadded;
use super::Full;
use std::mem::MaybeUninit;

struct Shared<T> {
    /// Items ever read. Stored only by the consumer.
    head: CachePadded<AtomicUsize>,
    /// Items ever written. Stored only by the producer.
    tail: CachePadded<AtomicUsize>,
    buf: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: the ring moves `T` values between exactly two threads; `T: Send` makes that
// legal. Slot access is made exclusive by the head/tail protocol described in the module
// docs (a slot is written only by the producer while it is outside `head..tail`, and read
// only by the consumer while it is inside), so sharing `&Shared` is sound.
unsafe impl<T: Send> Sync for Shared<T> {}
// SAFETY: as above; the shared state owns only `Copy` items and atomics.
unsafe impl<T: Send> Send for Shared<T> {}

/// The writing end of a ring. Not `Clone`: there is exactly one producer.
///
/// Aligned to 128 bytes: its fields are written on every push, so it must not share a
/// cache line with anything the other thread writes (a `Vec` of handles allocated next to
/// the consumer's would otherwise false-share).
#[repr(align(128))]
pub struct Producer<T> {
    shared: Arc<Shared<T>>,
    /// Private copy of `tail` (this side is its only writer).
    tail: usize,
    /// Items written by `stage` but not yet made visible by `commit`.
    staged: usize,
    /// Last value of `head` seen; never ahead of the real one.
    head_cache: usize,
    mask: usize,
}

/// The reading end of a ring. Not `Clone`: there is exactly one consumer. Aligned to 128
/// bytes for the same reason as [`Producer`].
#[repr(align(128))]
pub struct Consumer<T> {
    shared: Arc<Shared<T>>,
    /// Private copy of `head` (this side is its only writer).
    head: usize,
    /// Last value of `tail` seen; never ahead of the real one.
    tail_cache: usize,
    mask: usize,
}

/// Creates a ring holding at least `capacity` items (rounded up to a power of two; a
/// capacity of 0 is taken as 1). All memory is allocated here, never afterwards.
pub fn channel<T: Copy + Send>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    channel_from(capacity, 0)
}

/// A ring whose counters start at `start` instead of 0 (tests use it to cross the `usize`
/// wrap-around of the counters).
fn channel_from<T: Copy + Send>(capacity: usize, start: usize) -> (Producer<T>, Consumer<T>) {
    let cap = capacity.max(1).next_power_of_two();
    let buf: Box<[UnsafeCell<MaybeUninit<T>>]> = (0..cap)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let shared = Arc::new(Shared {
        head: CachePadded::new(AtomicUsize::new(start)),
        tail: CachePadded::new(AtomicUsize::new(start)),
        buf,
    });
    (
        Producer {
            shared: shared.clone(),
            tail: start,
            staged: 0,
            head_cache: start,
            mask: cap - 1,
        },
        Consumer {
            shared,
            head: start,
            tail_cache: start,
            mask: cap - 1,
        },
    )
}

impl<T: Copy + Send> Producer<T> {
    /// Number of slots.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// Free slots, reloading the consumer's position if the cache shows fewer than `want`.
    #[inline]
    fn free(&mut self, want: usize) -> usize {
        let used = (self.tail.wrapping_add(self.staged)).wrapping_sub(self.head_cache);
        let free = self.capacity() - used;
        if free >= want {
            return free;
        }
        self.head_cache = self.shared.head.load(Ordering::Acquire);
        self.capacity() - (self.tail.wrapping_add(self.staged)).wrapping_sub(self.head_cache)
    }

    /// Writes `v` into the slot at position `pos`.
    #[inline(always)]
    fn write(&self, pos: usize, v: T) {
        self.shared.buf[pos & self.mask].with_mut(|p| {
            // SAFETY: `pos` is in `tail..head_cache + cap`, i.e. outside the consumer's
            // readable window `head..tail`: the `Acquire` load of `head` that produced
            // `head_cache` ordered the consumer's last read of this slot before this write,
            // and the consumer cannot read it again until a later `Release` of `tail`
            // covers it. So this thread has exclusive access to the slot.
            unsafe { p.write(MaybeUninit::new(v)) }
        })
    }

    /// Pushes one item and publishes it, or hands it back if the ring is full.
    #[inline]
    pub fn try_push(&mut self, v: T) -> Result<(), Full<T>> {
        if self.free(1) == 0 {
            return Err(Full(v));
        }
        self.write(self.tail.wrapping_add(self.staged), v);
        self.staged += 1;
        self.commit();
        Ok(())
    }

    /// Pushes as many items from the front of `items` as fit and publishes them with a
    /// single release store. Returns how many were pushed (0 if the ring is full).
    #[inline]
    pub fn push_slice(&mut self, items: &[T]) -> usize {
        let n = self.free(items.len()).min(items.len());
        let base = self.tail.wrapping_add(self.staged);
        for (i, v) in items[..n].iter().enumerate() {
            self.write(base.wrapping_add(i), *v);
        }
        self.staged += n;
        self.commit();
        n
    }

    /// Writes an item without making it visible to the consumer yet; [`commit`] publishes
    /// everything staged with one release store. Used by the engine to publish all the
    /// events of a command at once.
    ///
    /// [`commit`]: Producer::commit
    #[inline]
    pub fn stage(&mut self, v: T) -> Result<(), Full<T>> {
        if self.free(1) == 0 {
            return Err(Full(v));
        }
        self.write(self.tail.wrapping_add(self.staged), v);
        self.staged += 1;
        Ok(())
    }

    /// Publishes every staged item (one release store; nothing if none is staged).
    #[inline]
    pub fn commit(&mut self) {
        if self.staged != 0 {
            self.tail = self.tail.wrapping_add(self.staged);
            self.staged = 0;
            self.shared.tail.store(self.tail, Ordering::Release);
        }
    }

    /// Items staged but not yet committed.
    #[inline]
    pub fn staged(&self) -> usize {
        self.staged
    }
}

impl<T: Copy + Send> Consumer<T> {
    /// Number of slots.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// Items available, reloading the producer's position if the cache shows fewer than
    /// `want`.
    #[inline]
    fn available(&mut self, want: usize) -> usize {
        let avail = self.tail_cache.wrapping_sub(self.head);
        if avail >= want {
            return avail;
        }
        self.tail_cache = self.shared.tail.load(Ordering::Acquire);
        self.tail_cache.wrapping_sub(self.head)
    }

    #[inline(always)]
    fn read(&self, pos: usize) -> T {
        self.shared.buf[pos & self.mask].with(|p| {
            // SAFETY: `pos` is in `head..tail_cache`; the `Acquire` load that produced
            // `tail_cache` synchronised with the producer's `Release` store of a tail
            // covering `pos`, so the slot was fully written (initialised) before this read,
            // and the producer will not overwrite it until this side releases a `head`
            // past `pos`.
            unsafe { (*p).assume_init() }
        })
    }

    /// Pops one item, or `None` if the ring is empty.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        if self.available(1) == 0 {
            return None;
        }
        let v = self.read(self.head);
        self.head = self.head.wrapping_add(1);
        self.shared.head.store(self.head, Ordering::Release);
        Some(v)
    }

    /// Pops up to `max` items, handing each to `f` in order, and releases their slots with
    /// one store. Returns how many were popped.
    #[inline]
    pub fn pop_batch(&mut self, max: usize, mut f: impl FnMut(T)) -> usize {
        let n = self.available(max).min(max);
        if n == 0 {
            return 0;
        }
        for i in 0..n {
            f(self.read(self.head.wrapping_add(i)));
        }
        self.head = self.head.wrapping_add(n);
        self.shared.head.store(self.head, Ordering::Release);
        n
    }

    /// True if no item is visible right now (reloads the producer's position).
    #[inline]
    pub fn is_empty(&mut self) -> bool {
        self.available(1) == 0
    }

    /// Items visible right now (reloads the producer's position).
    #[inline]
    pub fn len(&mut self) -> usize {
        self.available(usize::MAX)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn capacity_rounds_up_and_zero_is_one() {
        assert_eq!(channel::<u8>(0).0.capacity(), 1);
        assert_eq!(channel::<u8>(3).0.capacity(), 4);
        assert_eq!(channel::<u8>(64).1.capacity(), 64);
    }

    #[test]
    fn fifo_full_and_wraparound() {
        let (mut p, mut c) = channel::<u32>(4);
        let mut next_in = 0u32;
        let mut next_out = 0u32;
        for round in 0..100 {
            // Fill until full: exactly 4 fit whatever the offset of the counters.
            let mut pushed = 0;
            while p.try_push(next_in).is_ok() {
                next_in += 1;
                pushed += 1;
            }
            assert_eq!(pushed, 4, "round {round}");
            assert_eq!(p.try_push(999), Err(Full(999)));
            // Drain a varying amount so the counters wrap at every offset.
            let take = 1 + round % 4;
            for _ in 0..take {
                assert_eq!(c.pop(), Some(next_out));
                next_out += 1;
            }
            while let Some(v) = c.pop() {
                assert_eq!(v, next_out);
                next_out += 1;
            }
        }
        assert_eq!(next_in, next_out);
    }

    #[test]
    fn counters_wrap_around_usize() {
        // Start 5 short of the wrap: 40 rounds of 3 items cross it mid-batch.
        let (mut p, mut c) = channel_from::<u32>(4, usize::MAX - 5);
        for i in 0..40u32 {
            p.try_push(i).unwrap();
            assert_eq!(p.push_slice(&[i + 1000, i + 2000]), 2);
            assert_eq!(p.push_slice(&[7, 7]), 1, "only one slot left");
            assert_eq!(c.len(), 4);
            assert_eq!(c.pop(), Some(i));
            let mut got = Vec::new();
            assert_eq!(c.pop_batch(3, |v| got.push(v)), 3);
            assert_eq!(got, [i + 1000, i + 2000, 7]);
            assert!(c.is_empty());
        }
    }

    #[test]
    fn batch_ops_and_staging() {
        let (mut p, mut c) = channel::<u64>(8);
        assert_eq!(p.push_slice(&[1, 2, 3, 4, 5, 6]), 6);
        assert_eq!(p.push_slice(&[7, 8, 9, 10]), 2);
        let mut got = Vec::new();
        assert_eq!(c.pop_batch(3, |v| got.push(v)), 3);
        assert_eq!(got, [1, 2, 3]);
        p.stage(9).unwrap();
        p.stage(10).unwrap();
        assert_eq!(p.staged(), 2);
        // Staged items are invisible until committed.
        assert_eq!(c.pop_batch(100, |v| got.push(v)), 5);
        assert_eq!(got, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(c.is_empty());
        p.commit();
        assert_eq!(c.len(), 2);
        assert_eq!(c.pop_batch(100, |v| got.push(v)), 2);
        assert_eq!(got, (1..=10).collect::<Vec<_>>());
        // Staging respects capacity too.
        for i in 0..8 {
            p.stage(i).unwrap();
        }
        assert_eq!(p.stage(8), Err(Full(8)));
        p.commit();
        assert_eq!(c.len(), 8);
    }

    #[test]
    fn two_threads_deliver_everything_in_order() {
        let (mut p, mut c) = channel::<u64>(16);
        const N: u64 = 200_000;
        let t = std::thread::spawn(move || {
            let mut i = 0;
            let mut buf = [0u64; 7];
            while i < N {
                // Alternate single and batched pushes.
                if i % 2 == 0 {
                    if p.try_push(i).is_ok() {
                        i += 1;
                    }
                } else {
                    let k = (N - i).min(7) as usize;
                    for (j, b) in buf[..k].iter_mut().enumerate() {
                        *b = i + j as u64;
                    }
                    i += p.push_slice(&buf[..k]) as u64;
                }
                std::hint::spin_loop();
            }
        });
        let mut expect = 0;
        while expect < N {
            c.pop_batch(5, |v| {
                assert_eq!(v, expect);
                expect += 1;
            });
        }
        t.join().unwrap();
        assert!(c.is_empty());
    }
}
