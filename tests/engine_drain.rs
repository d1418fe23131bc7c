//! The engine thread, end to end: commands from several producers through the ingress,
//! matched by the fast book on the engine thread, events back through the output ring.
//!
//! The oracle is independent: the engine's global sequence numbers and each output's
//! producer index tell us the order in which the engine applied the commands (each
//! producer's commands are applied in the order it sent them); replaying that order
//! through `ReferenceBook` on this thread must give exactly the same events, command by
//! command. And after `stop`, every command pushed must have come back: a clean shutdown
//! drains everything in flight.
//!
//! The engine is generic over what it publishes: the last test runs an embedder's own
//! processor with a `#[repr(C)]` event type through it, from several producer threads.

use flowmatch_core::engine::{self, Engine, EngineConfig, Output, Processor, Stamped};
use flowmatch_core::ingress::{ingress, spsc, Full, QueueKind};
use flowmatch_core::{BookConfig, Command, Event, FastBook, OrderBook, ReferenceBook, Sink};
use flowmatch_harness::workload::equity::{generate, EquityConfig};
use std::collections::VecDeque;

struct Outcome {
    /// Events grouped by command, in the engine's order: (producer, events).
    per_command: Vec<(u32, Vec<Event>)>,
    messages: u64,
    events: u64,
}

/// Sends `cmds` round-robin over `producers` producers (one chunk each in turn) and collects
/// every output. `stop_early` raises the stop flag right after the last push, while the
/// ingress may still be full.
fn run_engine(
    cmds: &[Command],
    kind: QueueKind,
    producers: usize,
    capacity: usize,
    out_capacity: usize,
    batch: usize,
) -> (Outcome, Vec<VecDeque<Command>>) {
    let (mut txs, rx) = ingress::<Stamped<Command>>(kind, producers, capacity).unwrap();
    let (out_tx, mut out_rx) = spsc::channel::<Output<Event>>(out_capacity);
    let book = FastBook::new(BookConfig::default());
    let eng = Engine::new(
        rx,
        out_tx,
        book,
        || 0u64,
        EngineConfig {
            batch,
            ..EngineConfig::default()
        },
    );
    let h = engine::spawn(eng, None).unwrap();

    let mut outputs: Vec<Output<Event>> = Vec::with_capacity(cmds.len() * 3);
    let mut sent_by: Vec<VecDeque<Command>> = vec![VecDeque::new(); producers];
    let mut p = 0;
    for (i, c) in cmds.iter().enumerate() {
        // ArrayQueue does not report the sender, so a single producer is used with it.
        let mut m = Stamped::bare(*c);
        m.t_intended = i as u64;
        loop {
            match txs[p].try_push(m) {
                Ok(()) => break,
                Err(Full(back)) => {
                    m = back;
                    while let Some(o) = out_rx.pop() {
                        outputs.push(o);
                    }
                }
            }
        }
        sent_by[p].push_back(*c);
        if i % 7 == 6 {
            p = (p + 1) % producers;
        }
    }
    h.stop();
    while !h.is_finished() {
        while let Some(o) = out_rx.pop() {
            outputs.push(o);
        }
    }
    let (_, stats) = h.join().unwrap();
    while let Some(o) = out_rx.pop() {
        outputs.push(o);
    }

    // Outputs arrive in engine order already; check that, then group by command.
    let mut per_command: Vec<(u32, Vec<Event>)> = Vec::new();
    for o in &outputs {
        if o.index == 0 {
            assert_eq!(
                o.seq,
                per_command.len() as u64 + 1,
                "sequence numbers must be dense"
            );
            per_command.push((o.source, vec![o.event]));
        } else {
            assert_eq!(o.seq, per_command.len() as u64);
            let last = per_command.last_mut().expect("first event comes first");
            assert_eq!(o.index as usize, last.1.len());
            last.1.push(o.event);
        }
    }
    (
        Outcome {
            per_command,
            messages: stats.messages,
            events: stats.events,
        },
        sent_by,
    )
}

fn check_against_reference(
    cmds: &[Command],
    kind: QueueKind,
    producers: usize,
    capacity: usize,
    out_capacity: usize,
    batch: usize,
) {
    let (out, mut sent_by) = run_engine(cmds, kind, producers, capacity, out_capacity, batch);
    assert_eq!(
        out.messages,
        cmds.len() as u64,
        "every command pushed was applied"
    );
    assert_eq!(
        out.per_command.len(),
        cmds.len(),
        "every command produced its events"
    );

    let mut reference = ReferenceBook::new(BookConfig::default());
    let mut expected_events = 0u64;
    let mut buf = Vec::new();
    for (i, (source, events)) in out.per_command.iter().enumerate() {
        let cmd = sent_by[*source as usize]
            .pop_front()
            .expect("no more commands from that producer than it sent");
        buf.clear();
        reference.apply(&cmd, &mut buf);
        expected_events += buf.len() as u64;
        assert_eq!(
            events,
            &buf,
            "command {} ({cmd:?}) from producer {source}",
            i + 1
        );
    }
    assert!(sent_by.iter().all(|q| q.is_empty()));
    assert_eq!(out.events, expected_events);
    // Sanity: the stream really trades, so the comparison is not vacuous.
    assert!(expected_events > cmds.len() as u64);
}

#[test]
fn spsc_engine_matches_reference_with_backpressure_both_ways() {
    let cmds = generate(&EquityConfig::default(), 7, 60_000);
    check_against_reference(&cmds, QueueKind::Spsc, 1, 8, 16, 4);
}

#[test]
fn multi_producer_engine_matches_reference_in_sequence_order() {
    let cmds = generate(&EquityConfig::default(), 11, 60_000);
    check_against_reference(&cmds, QueueKind::Multi, 3, 4, 64, 8);
}

#[test]
fn array_queue_engine_matches_reference() {
    let cmds = generate(&EquityConfig::default(), 13, 30_000);
    check_against_reference(&cmds, QueueKind::ArrayQueue, 1, 16, 1024, 64);
}

#[test]
fn stop_right_after_a_burst_drains_everything_in_flight() {
    // A large ingress so that at `stop` most of the burst is still queued.
    let cmds = generate(&EquityConfig::default(), 3, 20_000);
    check_against_reference(&cmds, QueueKind::Multi, 2, 16_384, 1 << 16, 64);
}

/// An embedder's message: producer `producer`'s `n`-th message, asking for `parts` replies.
#[derive(Clone, Copy, Debug)]
struct Ask {
    producer: u32,
    n: u32,
    parts: u32,
}

/// An embedder's event, laid out as C would (so a C reader of the output ring could take
/// it as it is): which message it answers, which part of the answer it is, and how many
/// messages the processor had applied before this one.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reply {
    producer: u32,
    n: u32,
    part: u32,
    parts: u32,
    applied_before: u64,
}

/// Answers each `Ask` with `parts` replies and counts what it applied.
struct Answerer {
    applied: u64,
}

impl Processor<Ask> for Answerer {
    type Event = Reply;
    fn process<S: Sink<Reply>>(&mut self, m: &Ask, sink: &mut S) {
        for part in 0..m.parts {
            sink.event(Reply {
                producer: m.producer,
                n: m.n,
                part,
                parts: m.parts,
                applied_before: self.applied,
            });
        }
        self.applied += 1;
    }
}

/// How many replies producer `p`'s `n`-th message asks for: 1 to 40, so some messages
/// overflow the engine's 32-event chunk.
fn parts_of(p: u32, n: u32) -> u32 {
    1 + (n.wrapping_mul(2_654_435_761) ^ p.wrapping_mul(40_503)) % 40
}

#[test]
fn user_defined_repr_c_event_from_several_producers_is_answered_once_in_order() {
    const PRODUCERS: usize = 3;
    const PER_PRODUCER: u32 = 4_000;
    assert_eq!(std::mem::size_of::<Reply>(), 24, "C layout: 4 x u32 + u64");
    let (txs, rx) = ingress::<Stamped<Ask>>(QueueKind::Multi, PRODUCERS, 64).unwrap();
    let (out_tx, mut out_rx) = spsc::channel::<Output<Reply>>(256);
    let eng = Engine::new(
        rx,
        out_tx,
        Answerer { applied: 0 },
        || 0u64,
        EngineConfig::default(),
    );
    let h = engine::spawn(eng, None).unwrap();
    let mut outputs: Vec<Output<Reply>> = Vec::new();
    std::thread::scope(|scope| {
        let producers: Vec<_> = txs
            .into_iter()
            .enumerate()
            .map(|(p, mut tx)| {
                scope.spawn(move || {
                    for n in 0..PER_PRODUCER {
                        let p = p as u32;
                        let mut m = Stamped::bare(Ask {
                            producer: p,
                            n,
                            parts: parts_of(p, n),
                        });
                        while let Err(Full(back)) = tx.try_push(m) {
                            m = back;
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        while !producers.iter().all(|t| t.is_finished()) {
            while let Some(o) = out_rx.pop() {
                outputs.push(o);
            }
            std::thread::yield_now();
        }
    });
    // Every producer has pushed its last message: now the stop flag may go up.
    h.stop();
    while !h.is_finished() {
        while let Some(o) = out_rx.pop() {
            outputs.push(o);
        }
    }
    let (answerer, stats) = h.join().unwrap();
    while let Some(o) = out_rx.pop() {
        outputs.push(o);
    }

    // The expectation, from the message definitions alone: each producer's messages in
    // the order it sent them, each answered by exactly `parts_of` replies, numbered; the
    // engine's sequence dense; the processor saw the messages in sequence order.
    let total = PRODUCERS as u64 * PER_PRODUCER as u64;
    let mut next_n = [0u32; PRODUCERS];
    let mut expected_events = 0u64;
    let mut i = 0;
    let mut seq = 0u64;
    while i < outputs.len() {
        let head = outputs[i];
        seq += 1;
        assert_eq!(
            (head.seq, head.index),
            (seq, 0),
            "message {seq} starts here"
        );
        let p = head.source as usize;
        let n = next_n[p];
        next_n[p] += 1;
        let parts = parts_of(p as u32, n);
        for part in 0..parts {
            let o = outputs
                .get(i + part as usize)
                .unwrap_or_else(|| panic!("message {seq} lost its reply {part}"));
            assert_eq!((o.seq, o.index, o.source), (seq, part, p as u32));
            assert_eq!(
                o.event,
                Reply {
                    producer: p as u32,
                    n,
                    part,
                    parts,
                    applied_before: seq - 1,
                }
            );
        }
        expected_events += parts as u64;
        i += parts as usize;
    }
    assert_eq!(seq, total, "every message answered");
    assert_eq!(
        next_n, [PER_PRODUCER; PRODUCERS],
        "each producer's every message"
    );
    assert_eq!(outputs.len() as u64, expected_events);
    assert_eq!((stats.messages, stats.events), (total, expected_events));
    assert_eq!(answerer.applied, total);
}
