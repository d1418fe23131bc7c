//! The fast book with midpoint pegs resting allocates nothing on the heap once warmed up:
//! the mixed equity stream with every fifth GTC limit turned into a peg capped at its
//! limit, run once to warm up, then (after `clear`, which keeps all storage) run again
//! and counted (the two runs must produce the same trades and cancels, and pegs must
//! rest: more than ten at once). Its own test binary because a global allocator is per
//! binary.

use flowmatch_core::{Command, FastBook, MatchPolicy, OrdType, OrderBook, Tif};
use flowmatch_harness::compare::driver::book_config;
use flowmatch_harness::workload::equity::{generate, EquityConfig};
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations_in, assert_counter_counts};
use flowmatch_core::{Event, Sink};

/// Counts trades and cancels without allocating.
#[derive(Default)]
struct Tally {
    trades: u64,
    cancels: u64,
}

impl Sink<Event> for Tally {
    fn event(&mut self, e: Event) {
        match e {
            Event::Trade { .. } => self.trades += 1,
            Event::Cancel { .. } => self.cancels += 1,
            _ => {}
        }
    }
}

#[test]
fn pegs_rest_cross_and_cancel_without_allocating() {
    let mut cmds = generate(&EquityConfig::default(), 2026, 100_000);
    let mut pegs = 0;
    for (k, c) in cmds.iter_mut().enumerate() {
        if let Command::New(o) = c {
            if o.ord_type == OrdType::Limit && o.tif == Tif::Gtc && k % 5 == 0 {
                o.ord_type = OrdType::MidPeg;
                pegs += 1;
            }
        }
    }
    assert!(pegs > 5_000, "{pegs} pegs");
    let mut b = FastBook::new(book_config(MatchPolicy::PriceTime));
    let run = |b: &mut FastBook| {
        let mut t = Tally::default();
        let mut most = 0;
        for c in &cmds {
            b.apply(c, &mut t);
            let mut n = 0;
            b.for_each_peg(&mut |_| n += 1);
            most = most.max(n);
        }
        (t, most)
    };
    let (warm, most) = run(&mut b);
    b.clear();
    let ((t, most_again), allocs) = allocations_in(|| run(&mut b));
    assert_counter_counts();
    assert_eq!(
        (t.trades, t.cancels, most_again),
        (warm.trades, warm.cancels, most)
    );
    assert!(most > 10, "at most {most} pegs resting at once");
    assert_eq!(allocs, 0, "{allocs} allocations in {} commands", cmds.len());
}
