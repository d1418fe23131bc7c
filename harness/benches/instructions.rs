//! Instruction-count benchmarks of the fast book (gungraun: Valgrind's Callgrind).
//!
//! Wall-clock times on a shared 2-core virtual machine swing by tens of percent from run
//! to run; the number of instructions executed does not. These figures are what a CI job
//! can compare between commits (a change of a few percent is real). Each benchmark's setup
//! (building the book and the command list) runs outside the measurement; only the loop of
//! `apply` calls is counted. Every benchmark performs `N` operations, so instructions per
//! operation = total / `N`.
//!
//! Run (needs valgrind and the runner binary of the same version as the library):
//!
//! ```text
//! cargo install gungraun-runner --version 0.20.0 --locked
//! cargo bench -p flowmatch-harness --bench instructions
//! ```

use flowmatch_core::{
    BookConfig, Command, CountingSink, FastBook, MatchPolicy, NewOrder, OrderBook, Side, Tif,
};
use flowmatch_harness::workload::equity::{self, EquityConfig};
use gungraun::prelude::*;
use std::hint::black_box;

/// Operations per benchmark.
const N: u64 = 1_000;

fn book(policy: MatchPolicy) -> FastBook {
    FastBook::new(BookConfig {
        policy,
        ..BookConfig::default()
    })
}

fn apply_all(b: &mut FastBook, cmds: &[Command]) -> CountingSink {
    let mut sink = CountingSink::default();
    for c in cmds {
        b.apply(black_box(c), &mut sink);
    }
    sink
}

/// A book holding `N` asks at one price (ids 1..=N) and a bid far below.
fn deep_level(policy: MatchPolicy) -> FastBook {
    let mut b = book(policy);
    let mut s = CountingSink::default();
    for id in 1..=N {
        b.apply(
            &Command::New(NewOrder::limit(id, 1, Side::Sell, 10_000, 10)),
            &mut s,
        );
    }
    b.apply(
        &Command::New(NewOrder::limit(N + 1, 2, Side::Buy, 9_000, 10)),
        &mut s,
    );
    b
}

/// Add: `N` non-crossing limits spread over 100 price levels, into a book with depth.
fn setup_add() -> (FastBook, Vec<Command>) {
    let b = deep_level(MatchPolicy::PriceTime);
    let cmds = (0..N)
        .map(|k| {
            Command::New(NewOrder::limit(
                10_000 + k,
                3,
                Side::Buy,
                9_900 - (k % 100) as i64,
                100,
            ))
        })
        .collect();
    (b, cmds)
}

/// Cancel: all `N` orders of the deep level, in a scattered order.
fn setup_cancel() -> (FastBook, Vec<Command>) {
    let b = deep_level(MatchPolicy::PriceTime);
    let cmds = (0..N)
        .map(|k| Command::Cancel {
            id: (k * 7919) % N + 1,
        })
        .collect();
    (b, cmds)
}

/// Match one: `N` IOC takers, each filling exactly one resting order.
fn setup_match(policy: MatchPolicy) -> (FastBook, Vec<Command>) {
    let b = deep_level(policy);
    let cmds = (0..N)
        .map(|k| {
            Command::New(NewOrder::limit(20_000 + k, 4, Side::Buy, 10_000, 10).with_tif(Tif::Ioc))
        })
        .collect();
    (b, cmds)
}

fn setup_match_price_time() -> (FastBook, Vec<Command>) {
    setup_match(MatchPolicy::PriceTime)
}

/// Sweep: one market order walking `N` levels of one order each.
fn setup_sweep() -> (FastBook, Vec<Command>) {
    let mut b = book(MatchPolicy::PriceTime);
    let mut s = CountingSink::default();
    for k in 0..N {
        b.apply(
            &Command::New(NewOrder::limit(k + 1, 1, Side::Sell, 10_000 + k as i64, 10)),
            &mut s,
        );
    }
    (
        b,
        vec![Command::New(NewOrder::market(N + 1, 2, Side::Buy, 10 * N))],
    )
}

/// Pro-rata: `N` takers each taking a slice of a 1,000-order level (allocation over all).
fn setup_pro_rata() -> (FastBook, Vec<Command>) {
    let b = deep_level(MatchPolicy::ProRata { top_order: false });
    let cmds = (0..10)
        .map(|k| {
            Command::New(NewOrder::limit(20_000 + k, 4, Side::Buy, 10_000, 500).with_tif(Tif::Ioc))
        })
        .collect();
    (b, cmds)
}

/// Mixed: the equity-mixed (calm) stream, 5,000 commands of warm-up then `N` measured.
fn setup_mixed() -> (FastBook, Vec<Command>) {
    let all = equity::generate(&EquityConfig::default(), 7, 5_000 + N as usize);
    let mut b = book(MatchPolicy::PriceTime);
    apply_all(&mut b, &all[..5_000]);
    (b, all[5_000..].to_vec())
}

#[library_benchmark]
#[bench::add(setup = setup_add)]
#[bench::cancel(setup = setup_cancel)]
#[bench::match_one(setup = setup_match_price_time)]
#[bench::sweep(setup = setup_sweep)]
#[bench::pro_rata_10_takers(setup = setup_pro_rata)]
#[bench::mixed(setup = setup_mixed)]
fn fast_book((mut b, cmds): (FastBook, Vec<Command>)) -> CountingSink {
    black_box(apply_all(&mut b, &cmds))
}

library_benchmark_group!(name = book_ops, benchmarks = [fast_book]);

main!(library_benchmark_groups = book_ops);
