//! The fast book under every CME allocation algorithm allocates nothing on the heap once
//! warmed up: the mixed equity stream (LMM accounts resting among the others, so LMM steps
//! fire), and pro-rata rounds of IOC takers into one deep level (every step walks the whole
//! level), with the parameters `flowmatch compare` runs (`compare::cme::params`).
//! (core/tests/cme_allocation_no_alloc.rs covers the allocation function alone; this is
//! the book around it.) Its own test binary because a global allocator is per binary.

use flowmatch_core::allocation::Algorithm;
use flowmatch_core::{Command, CountingSink, FastBook, NewOrder, OrderBook, Side, Tif};
use flowmatch_harness::compare::cme;
use flowmatch_harness::compare::driver::book_config;
use flowmatch_harness::workload::equity::{generate, EquityConfig};
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations_in, assert_counter_counts};

fn apply_all(b: &mut FastBook, cmds: &[Command]) -> CountingSink {
    let mut s = CountingSink::default();
    for c in cmds {
        b.apply(c, &mut s);
    }
    s
}

#[test]
fn every_cme_algorithm_matches_the_mixed_stream_without_allocating() {
    const WARM: usize = 50_000;
    const MEASURED: usize = 50_000;
    let cmds = generate(&EquityConfig::default(), 2024, WARM + MEASURED);
    for a in Algorithm::ALL {
        let mut b = FastBook::new(book_config(cme::policy(a)));
        apply_all(&mut b, &cmds[..WARM]);
        let (sink, allocs) = allocations_in(|| apply_all(&mut b, &cmds[WARM..]));
        assert!(sink.trades > 1_000, "{a:?}: {} trades", sink.trades);
        assert_counter_counts();
        assert_eq!(
            allocs, 0,
            "{a:?}: {allocs} allocations in {MEASURED} commands"
        );
    }
}

#[test]
fn every_cme_algorithm_shares_a_deep_level_without_allocating() {
    for a in Algorithm::ALL {
        let mut b = FastBook::new(book_config(cme::policy(a)));
        // 1,000 asks of 10 at one price; every third from an LMM account (1 or 2).
        let level: Vec<Command> = (1..=1_000u64)
            .map(|id| {
                let account = match id % 3 {
                    0 => 1,
                    1 => 2,
                    _ => 3 + (id % 50) as u32,
                };
                Command::New(NewOrder::limit(id, account, Side::Sell, 10_000, 10))
            })
            .collect();
        apply_all(&mut b, &level);
        // One warm-up round, then ten measured takers of 500 (none takes the whole level).
        let taker =
            |id| Command::New(NewOrder::limit(id, 99, Side::Buy, 10_000, 500).with_tif(Tif::Ioc));
        apply_all(&mut b, &[taker(5_000)]);
        let takers: Vec<Command> = (0..10).map(|k| taker(5_001 + k)).collect();
        let (sink, allocs) = allocations_in(|| apply_all(&mut b, &takers));
        assert!(sink.trades >= 10, "{a:?}: {} trades", sink.trades);
        assert_counter_counts();
        assert_eq!(
            allocs, 0,
            "{a:?}: {allocs} allocations in 10 pro-rata rounds"
        );
    }
}
