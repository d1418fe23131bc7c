//! The engine's hot path — pop from the ingress, match in the fast book, publish into the
//! output ring — performs no heap allocation once warmed up.
//!
//! A counting global allocator counts allocations made by *this* thread while a flag is
//! set. The engine is driven step by step on this thread (same code as its own thread runs,
//! minus the spin loop), so every allocation on the path would be seen. This is its own
//! test binary because a global allocator is per binary.

use flowmatch_core::engine::{Engine, EngineConfig, Output, Stamped};
use flowmatch_core::ingress::{ingress, spsc, QueueKind};
use flowmatch_core::{BookConfig, Command, Event, FastBook};
use flowmatch_harness::workload::equity::{generate, EquityConfig};
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations_in, assert_counter_counts};
use std::sync::atomic::{AtomicU64, Ordering};

/// Feeds `cmds` through the engine in chunks, stepping it and draining its output.
/// Returns the number of events received.
fn feed(
    cmds: &[Command],
    tx: &mut flowmatch_core::ingress::Sender<Stamped<Command>>,
    eng: &mut Engine<Command, FastBook, fn() -> u64>,
    out: &mut spsc::Consumer<Output<Event>>,
) -> u64 {
    let mut events = 0u64;
    let mut chunk = [Stamped::bare(Command::Cancel { id: 0 }); 16];
    let mut i = 0;
    while i < cmds.len() {
        let k = (cmds.len() - i).min(chunk.len());
        for (slot, c) in chunk[..k].iter_mut().zip(&cmds[i..i + k]) {
            *slot = Stamped::bare(*c);
        }
        i += tx.push_slice(&chunk[..k]);
        eng.step();
        events += out.pop_batch(usize::MAX, |o| {
            std::hint::black_box(o);
        }) as u64;
    }
    while eng.step() > 0 {}
    events
        + out.pop_batch(usize::MAX, |o| {
            std::hint::black_box(o);
        }) as u64
}

fn fake_clock() -> u64 {
    static T: AtomicU64 = AtomicU64::new(0);
    T.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn pop_match_publish_allocates_nothing_after_warmup() {
    const WARM: usize = 200_000;
    const MEASURED: usize = 300_000;
    let cmds = generate(&EquityConfig::default(), 2024, WARM + MEASURED);
    let (mut txs, rx) = ingress::<Stamped<Command>>(QueueKind::Spsc, 1, 1024).unwrap();
    let (out_tx, mut out_rx) = spsc::channel::<Output<Event>>(1 << 16);
    let book = FastBook::new(BookConfig::default());
    let mut eng: Engine<Command, FastBook, fn() -> u64> = Engine::new(
        rx,
        out_tx,
        book,
        fake_clock as fn() -> u64,
        EngineConfig::default(),
    );

    let warm_events = feed(&cmds[..WARM], &mut txs[0], &mut eng, &mut out_rx);
    assert!(warm_events >= WARM as u64);

    let (events, allocs) =
        allocations_in(|| feed(&cmds[WARM..], &mut txs[0], &mut eng, &mut out_rx));

    // The window really exercised the path (and the counter really counts).
    assert!(events >= MEASURED as u64, "{events}");
    assert_eq!(eng.stats().messages, (WARM + MEASURED) as u64);
    assert_counter_counts();

    assert_eq!(
        allocs, 0,
        "{allocs} heap allocations in {MEASURED} commands ({events} events) after warm-up"
    );
}
