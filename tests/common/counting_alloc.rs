//! A counting global allocator for the zero-allocation tests. It counts the allocations
//! made by the *current thread* inside [`allocations_in`], forwarding every call to the
//! system allocator unchanged. Included with `#[path]` by each test binary that needs it
//! (a global allocator is per binary).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    // Per thread, like the flag: with one global count, two tests of one binary measuring
    // at once (the test harness runs them on parallel threads) saw each other's
    // allocations (cme_book_alloc failed now and then with "2 allocations").
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the thread-locals may be gone while a thread is being torn down.
    if COUNTING.try_with(|c| c.get()).unwrap_or(false) {
        let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
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

/// Run `f` and return its result with the number of heap allocations this thread made
/// while it ran.
pub fn allocations_in<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = ALLOCS.with(|n| n.get());
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (r, ALLOCS.with(|n| n.get()) - before)
}

/// The counter really counts: an allocation inside [`allocations_in`] is seen.
pub fn assert_counter_counts() {
    let (v, n) = allocations_in(|| std::hint::black_box(vec![1u8; 16]));
    drop(v);
    assert!(n >= 1, "the counting allocator counts");
}
