//! The sharded hot path — route in the router, pop from a shard's ingress, match in that
//! shard's fast book, publish into its output ring, read through `ShardOutputs` —
//! performs no heap allocation once warmed up.
//!
//! The shards are driven step by step on this thread (the same code each shard thread
//! runs, minus its spin loop) so that the counting allocator, which counts this thread's
//! allocations, sees every allocation on the path. Its own test binary: a global
//! allocator is per binary.

use flowmatch_core::engine::shards::{self, Built};
use flowmatch_core::engine::{Engine, ShardOutputs, ShardsConfig, Stamped};
use flowmatch_core::{BookConfig, Command, Event, FastBook};
use flowmatch_harness::workload::equity::{generate, EquityConfig};
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations_in, assert_counter_counts};

type Route = fn(&Command) -> usize;
type ShardEngine = Engine<Command, FastBook, fn() -> u64>;

fn by_order_id(c: &Command) -> usize {
    c.id() as usize
}

/// Routes `cmds` in slices of 16 (the first of every 5 slices one by one), steps every
/// shard and drains the outputs. Returns the events received.
fn feed(
    cmds: &[Command],
    router: &mut shards::Router<Command, Route>,
    engines: &mut [ShardEngine],
    outputs: &mut ShardOutputs<Event>,
) -> u64 {
    let mut events = 0u64;
    let mut chunk = [Stamped::bare(Command::Cancel { id: 0 }); 16];
    let mut i = 0;
    let mut turn = 0u64;
    while i < cmds.len() {
        let k = (cmds.len() - i).min(chunk.len());
        for (slot, c) in chunk[..k].iter_mut().zip(&cmds[i..i + k]) {
            *slot = Stamped::bare(*c);
        }
        turn += 1;
        if turn.is_multiple_of(5) {
            for m in &chunk[..k] {
                while router.try_send(*m).is_err() {
                    for e in engines.iter_mut() {
                        e.step();
                    }
                }
                i += 1;
            }
        } else {
            i += router.send_slice(&chunk[..k]);
        }
        for e in engines.iter_mut() {
            e.step();
        }
        events += outputs.poll(usize::MAX, |o| {
            std::hint::black_box(o);
        }) as u64;
    }
    for e in engines.iter_mut() {
        while e.step() > 0 {}
    }
    events
        + outputs.poll(usize::MAX, |o| {
            std::hint::black_box(o);
        }) as u64
}

fn zero() -> u64 {
    0
}

#[test]
fn route_pop_match_publish_allocates_nothing_after_warmup() {
    const SHARDS: usize = 3;
    const WARM: usize = 150_000;
    const MEASURED: usize = 200_000;
    let cmds = generate(&EquityConfig::default(), 2025, WARM + MEASURED);
    let cfg = ShardsConfig {
        shards: SHARDS,
        producers: 1,
        capacity: 256,
        out_capacity: 1 << 14,
        ..ShardsConfig::default()
    };
    let books = (0..SHARDS)
        .map(|_| FastBook::new(BookConfig::default()))
        .collect();
    let Built {
        mut engines,
        mut routers,
        mut outputs,
    } = shards::build(&cfg, books, zero as fn() -> u64, by_order_id as Route).unwrap();
    let router = &mut routers[0];

    let warm_events = feed(&cmds[..WARM], router, &mut engines, &mut outputs);
    assert!(warm_events >= WARM as u64);

    let (events, allocs) =
        allocations_in(|| feed(&cmds[WARM..], router, &mut engines, &mut outputs));

    // The window really exercised every shard (and the counter really counts).
    assert!(events >= MEASURED as u64, "{events}");
    assert_eq!(
        engines.iter().map(|e| e.stats().messages).sum::<u64>(),
        (WARM + MEASURED) as u64
    );
    assert!(engines.iter().all(|e| e.stats().messages > WARM as u64 / 6));
    assert_counter_counts();
    assert_eq!(
        allocs, 0,
        "{allocs} heap allocations in {MEASURED} commands ({events} events) after warm-up"
    );
}
