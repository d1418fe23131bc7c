//! Loom model of the multi-producer ingress: two producers, two messages each, one
//! consumer polling round-robin. Every message must arrive exactly once and each
//! producer's messages in order. The rings hold 2, so producers never spin (with three
//! spinning threads loom's path explodes); the full-ring paths of the same code are
//! modelled in `loom_spsc.rs` and stressed in `tests/ingress_stress.rs`.
//!
//! Run with (see also `.ci/loom.sh`):
//! `RUSTFLAGS="--cfg loom" cargo test -p flowmatch-core --test loom_multi --release`
#![cfg(loom)]

use flowmatch_core::ingress::multi;
use loom::thread;

#[test]
fn two_producers_two_messages_each() {
    loom::model(|| {
        let (txs, mut rx) = multi::channel::<u32>(2, 2);
        let handles: Vec<_> = txs
            .into_iter()
            .enumerate()
            .map(|(i, mut p)| {
                thread::spawn(move || {
                    for k in 0..2u32 {
                        let v = i as u32 * 10 + k;
                        while p.try_push(v).is_err() {
                            thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let mut got: Vec<(u32, u32)> = Vec::new();
        while got.len() < 4 {
            if rx.poll(2, |src, v| got.push((src, v))) == 0 {
                thread::yield_now();
            }
        }
        for h in handles {
            h.join().unwrap();
        }
        // Exactly once, attributed to the right producer, in each producer's order.
        for src in 0..2u32 {
            let mine: Vec<u32> = got.iter().filter(|g| g.0 == src).map(|g| g.1).collect();
            assert_eq!(mine, [src * 10, src * 10 + 1]);
        }
        assert!(rx.is_empty());
    });
}
