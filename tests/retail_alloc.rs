//! The internalizer performs no heap allocation per message once warmed up: a whole day of
//! retail flow (orders, cancels, replaces, quotes with sweeps, routing and hedging through
//! the simulated exchange) runs on the fast book with a counting global allocator watching.
//! Its own test binary because a global allocator is per binary.

use flowmatch_core::internalizer::{Internalizer, IxEvent, IxSink};
use flowmatch_core::{BookConfig, FastBook};
use flowmatch_harness::market::SimExchange;
use flowmatch_harness::retail::generate;
use flowmatch_harness::retail::scenario::Scenario;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count() {
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

/// Counts events without storing them.
#[derive(Default)]
struct Count(u64);
impl IxSink for Count {
    fn ix_event(&mut self, _e: IxEvent) {
        self.0 += 1;
    }
}

#[test]
fn internalizer_does_not_allocate_after_warm_up() {
    for preset in ["retail", "meme-squeeze", "wash"] {
        let mut s = Scenario::preset(preset).unwrap();
        s.retail.orders = 60_000;
        let flow = generate(&s.retail, &s.market, 4);
        let book = FastBook::new(BookConfig {
            capacity: 1 << 16,
            ..Default::default()
        });
        let mut ix = Internalizer::new(s.wholesaler.to_ix(), book, SimExchange::new(&s.market));
        let mut sink = Count::default();
        let warm = flow.stream.len() / 5;
        for m in &flow.stream[..warm] {
            ix.on_message(&m.msg, &mut sink);
        }
        ALLOCS.store(0, Ordering::Relaxed);
        COUNTING.with(|c| c.set(true));
        for m in &flow.stream[warm..] {
            ix.on_message(&m.msg, &mut sink);
        }
        COUNTING.with(|c| c.set(false));
        let n = ALLOCS.load(Ordering::Relaxed);
        assert!(sink.0 > 100_000, "{preset}: only {} events", sink.0);
        assert_eq!(n, 0, "{preset}: {n} allocations after warm-up");
    }
}
