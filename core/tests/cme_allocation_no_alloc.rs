//! The CME allocation allocates nothing on the heap: a counting global allocator sees no
//! allocation across thousands of calls over every algorithm, once the caller's buffers
//! exist. (The allocations' values are checked in the crate's unit tests, against the
//! published examples and the reference.)

use flowmatch_core::allocation::{allocate, Algorithm, AllocationParams, LevelOrder, Lmm};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn allocate_does_not_touch_the_heap() {
    let orders: Vec<LevelOrder> = (0..64u64)
        .map(|i| LevelOrder {
            id: i,
            open: 1 + (i * 37) % 90,
            account: (i % 5) as u32,
            top: i == 0,
        })
        .collect();
    let level: u64 = orders.iter().map(|o| o.open).sum();
    let mut params = AllocationParams {
        top_max: 20,
        pro_rata_min: 2,
        split_fifo_percent: 40,
        leveling: true,
        ..AllocationParams::default()
    };
    params
        .push_lmm(Lmm {
            account: 3,
            percent: 20,
        })
        .unwrap();
    params
        .push_lmm(Lmm {
            account: 4,
            percent: 10,
        })
        .unwrap();
    let mut fills = vec![0u64; orders.len()];
    let mut checksum = 0u64;

    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for incoming in 1..=level + 5 {
        for algorithm in Algorithm::ALL {
            checksum += allocate(&orders, incoming, algorithm, &params, &mut fills).unwrap();
        }
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);

    assert_eq!(after - before, 0, "allocate allocated on the heap");
    // Every call filled min(incoming, level): the loop did real work.
    let expected: u64 = (1..=level + 5).map(|q| q.min(level) * 8).sum();
    assert_eq!(checksum, expected);
}
