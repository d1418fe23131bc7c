//! Multi-producer stress: several producer threads each push a numbered stream through a
//! tiny ingress that is full nearly all the time; the consumer must receive every message
//! exactly once and each producer's messages in the order they were sent. Run for every
//! queue kind (the single-producer ring with one producer).

use flowmatch_core::ingress::{ingress, Full, QueueKind};
use std::thread;

/// A message: who sent it and its number in that producer's stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Msg {
    producer: u32,
    n: u64,
}

fn stress(kind: QueueKind, producers: usize, capacity: usize, per_producer: u64) {
    let (txs, mut rx) = ingress::<Msg>(kind, producers, capacity).unwrap();
    let handles: Vec<_> = txs
        .into_iter()
        .enumerate()
        .map(|(p, mut tx)| {
            thread::spawn(move || {
                let mut n = 0u64;
                let mut full = 0u64;
                let mut chunk = [Msg { producer: 0, n: 0 }; 3];
                while n < per_producer {
                    // Alternate single pushes and batch pushes.
                    if n.is_multiple_of(2) {
                        match tx.try_push(Msg {
                            producer: p as u32,
                            n,
                        }) {
                            Ok(()) => n += 1,
                            Err(Full(back)) => {
                                assert_eq!(
                                    back,
                                    Msg {
                                        producer: p as u32,
                                        n
                                    }
                                );
                                full += 1;
                                thread::yield_now();
                            }
                        }
                    } else {
                        let k = (per_producer - n).min(3) as usize;
                        for (j, m) in chunk[..k].iter_mut().enumerate() {
                            *m = Msg {
                                producer: p as u32,
                                n: n + j as u64,
                            };
                        }
                        let pushed = tx.push_slice(&chunk[..k]) as u64;
                        if pushed == 0 {
                            full += 1;
                            thread::yield_now();
                        }
                        n += pushed;
                    }
                }
                full
            })
        })
        .collect();

    let mut next = vec![0u64; producers];
    let mut received = 0u64;
    let total = producers as u64 * per_producer;
    while received < total {
        let got = rx.poll(4, |source, m| {
            let p = m.producer as usize;
            assert!(p < producers, "{kind:?}: unknown producer {p}");
            if kind != QueueKind::ArrayQueue {
                assert_eq!(source, m.producer, "{kind:?}: ring index != sender");
            }
            assert_eq!(
                m.n, next[p],
                "{kind:?}: producer {p} out of order or duplicated/lost"
            );
            next[p] += 1;
        });
        received += got as u64;
        if got == 0 {
            thread::yield_now();
        }
    }
    let fulls: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(rx.is_empty(), "{kind:?}: extra messages");
    assert!(next.iter().all(|&n| n == per_producer));
    // The point of the tiny queue: producers really did meet back-pressure.
    assert!(fulls > 0, "{kind:?}: the queue was never full");
}

#[test]
fn multi_ring_four_producers_tiny_rings() {
    stress(QueueKind::Multi, 4, 2, 100_000);
}

#[test]
fn multi_ring_single_slot_rings() {
    stress(QueueKind::Multi, 3, 1, 50_000);
}

#[test]
fn array_queue_four_producers_tiny_queue() {
    stress(QueueKind::ArrayQueue, 4, 2, 100_000);
}

#[test]
fn spsc_one_producer_tiny_ring() {
    stress(QueueKind::Spsc, 1, 2, 300_000);
}
