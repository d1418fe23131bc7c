//! Loom model of the SPSC ring: every interleaving (up to loom's preemption bound) of a
//! producer and a consumer on a capacity-2 ring, with single and batch operations, staging,
//! and enough items that the counters wrap around the slots.
//!
//! Run with (see also `.ci/loom.sh`):
//! `RUSTFLAGS="--cfg loom" cargo test -p flowmatch-core --test loom_spsc --release`
#![cfg(loom)]

use flowmatch_core::ingress::spsc;
use loom::thread;

/// Pushes `items` in order using `try_push`, yielding while the ring is full.
fn push_all(p: &mut spsc::Producer<u32>, items: &[u32]) {
    for &v in items {
        while p.try_push(v).is_err() {
            thread::yield_now();
        }
    }
}

#[test]
fn single_ops_wrap_around_capacity_2() {
    loom::model(|| {
        let (mut p, mut c) = spsc::channel::<u32>(2);
        let t = thread::spawn(move || push_all(&mut p, &[1, 2, 3]));
        let mut got = Vec::new();
        while got.len() < 3 {
            match c.pop() {
                Some(v) => got.push(v),
                None => thread::yield_now(),
            }
        }
        t.join().unwrap();
        assert_eq!(got, [1, 2, 3]);
        assert!(c.pop().is_none());
    });
}

#[test]
fn batch_push_and_batch_pop() {
    loom::model(|| {
        let (mut p, mut c) = spsc::channel::<u32>(2);
        let t = thread::spawn(move || {
            let items = [1, 2, 3];
            let mut sent = 0;
            while sent < items.len() {
                let n = p.push_slice(&items[sent..]);
                if n == 0 {
                    thread::yield_now();
                }
                sent += n;
            }
        });
        let mut got = Vec::new();
        while got.len() < 3 {
            if c.pop_batch(2, |v| got.push(v)) == 0 {
                thread::yield_now();
            }
        }
        t.join().unwrap();
        assert_eq!(got, [1, 2, 3]);
    });
}

#[test]
fn staged_items_appear_only_on_commit() {
    loom::model(|| {
        let (mut p, mut c) = spsc::channel::<u32>(2);
        let t = thread::spawn(move || {
            p.stage(10).unwrap();
            p.stage(11).unwrap();
            p.commit();
            push_all(&mut p, &[12]);
        });
        let mut got = Vec::new();
        while got.len() < 3 {
            let before = got.len();
            if c.pop_batch(3, |v| got.push(v)) == 0 {
                thread::yield_now();
            }
            // The first two items are published with one store: never seen one alone.
            assert!(
                !(before == 0 && got.len() == 1),
                "saw half a committed chunk"
            );
        }
        t.join().unwrap();
        assert_eq!(got, [10, 11, 12]);
    });
}
