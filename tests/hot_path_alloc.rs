//! The engine's hot path — pop from the ingress, match in the fast book, publish into the
//! output ring — performs no heap allocation once warmed up.
//!
//! A counting global allocator counts allocations made by *this* thread while a flag is
//! set. The engine is driven step by step on this thread (same code as its own thread runs,
//! minus the spin loop), so every allocation on the path would be seen. This is its own
//! test binary because a global allocator is per binary.

use flowmatch_core::engine::{Engine, EngineConfig, Output, Stamped};
use flowmatch_core::ingress::{ingress, spsc, QueueKind};
use flowmatch_core::{BookConfig, Command, FastBook};
use flowmatch_harness::workload::equity::{generate, EquityConfig};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    // `try_with`: the thread-local may be gone while a thread is being torn down.
    if COUNTING.try_with(|c| c.get()).unwrap_or(false) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards every call unchanged to the system allocator; counting has no effect on
// the memory returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Feeds `cmds` through the engine in chunks, stepping it and draining its output.
/// Returns the number of events received.
fn feed(
    cmds: &[Command],
    tx: &mut flowmatch_core::ingress::Sender<Stamped<Command>>,
    eng: &mut Engine<Command, FastBook, fn() -> u64>,
    out: &mut spsc::Consumer<Output>,
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
    let (out_tx, mut out_rx) = spsc::channel::<Output>(1 << 16);
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

    ALLOCS.store(0, Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    let events = feed(&cmds[WARM..], &mut txs[0], &mut eng, &mut out_rx);
    COUNTING.with(|c| c.set(false));
    let allocs = ALLOCS.load(Ordering::Relaxed);

    // The window really exercised the path (and the counter really counts).
    assert!(events >= MEASURED as u64, "{events}");
    assert_eq!(eng.stats().messages, (WARM + MEASURED) as u64);
    COUNTING.with(|c| c.set(true));
    let probe = std::hint::black_box(vec![1u8; 16]);
    COUNTING.with(|c| c.set(false));
    drop(probe);
    assert!(
        ALLOCS.load(Ordering::Relaxed) > allocs,
        "the counting allocator counts"
    );

    assert_eq!(
        allocs, 0,
        "{allocs} heap allocations in {MEASURED} commands ({events} events) after warm-up"
    );
}
