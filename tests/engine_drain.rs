//! The engine thread, end to end: commands from several producers through the ingress,
//! matched by the fast book on the engine thread, events back through the output ring.
//!
//! The oracle is independent: the engine's global sequence numbers and each output's
//! producer index tell us the order in which the engine applied the commands (each
//! producer's commands are applied in the order it sent them); replaying that order
//! through `ReferenceBook` on this thread must give exactly the same events, command by
//! command. And after `stop`, every command pushed must have come back: a clean shutdown
//! drains everything in flight.

use flowmatch_core::engine::{self, Engine, EngineConfig, Output, Stamped};
use flowmatch_core::ingress::{ingress, spsc, Full, QueueKind};
use flowmatch_core::{BookConfig, Command, Event, FastBook, OrderBook, ReferenceBook};
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
    let (out_tx, mut out_rx) = spsc::channel::<Output>(out_capacity);
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
    let h = engine::spawn(eng, None);

    let mut outputs: Vec<Output> = Vec::with_capacity(cmds.len() * 3);
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
