//! Book micro-benchmarks (criterion): add, cancel, match-one, sweep and the mixed
//! `equity-mixed` stream, each for the fast book and the reference book in the same run
//! so their ratio is measured side by side on the same machine state; then the shapes a
//! user's flow can have and `equity-mixed` does not (group `workload`: every workload of
//! the registry, `harness/src/workload/`, with `deep-ladder` at 100k levels built away
//! from the touch), 200k commands each from an empty book; then (group `cme_mixed`) the
//! mixed stream under price-time and each CME allocation algorithm.
//!
//! Run: `cargo bench -p flowmatch-harness --bench book` (results: bench-results/book/).

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use flowmatch_core::*;
use flowmatch_harness::workload::equity::{generate, EquityConfig};
use flowmatch_harness::workload::{deep_ladder, Workload};
use std::hint::black_box;

const N: u64 = 10_000;

fn adds(n: u64) -> Vec<Command> {
    // Non-crossing: bids below 10_000, asks above, 100 price levels per side.
    (0..n)
        .map(|i| {
            let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
            let off = (i / 2 % 100) as i64;
            let price = if side == Side::Buy {
                9_999 - off
            } else {
                10_001 + off
            };
            Command::New(NewOrder::limit(i + 1, (i % 7) as u32, side, price, 100))
        })
        .collect()
}

fn filled<B: OrderBook>(mut b: B, cmds: &[Command]) -> B {
    let mut s = CountingSink::default();
    for c in cmds {
        b.apply(c, &mut s);
    }
    b
}

fn run<B: OrderBook>(b: &mut B, cmds: &[Command]) -> u64 {
    let mut s = CountingSink::default();
    for c in cmds {
        b.apply(c, &mut s);
    }
    s.events
}

fn bench_books(c: &mut Criterion) {
    let cfg = BookConfig {
        capacity: 1 << 17,
        ..Default::default()
    };
    let add = adds(N);
    // Cancel in a scattered order (a fixed stride through the ids).
    let cancels: Vec<Command> = (0..N)
        .map(|i| Command::Cancel {
            id: (i * 7919) % N + 1,
        })
        .collect();
    // Match-one: a maker then a taker that fills it exactly, repeated.
    let match_one: Vec<Command> = (0..N)
        .flat_map(|i| {
            [
                Command::New(NewOrder::limit(2 * i + 1, 1, Side::Sell, 10_000, 100)),
                Command::New(
                    NewOrder::limit(2 * i + 2, 2, Side::Buy, 10_000, 100).with_tif(Tif::Ioc),
                ),
            ]
        })
        .collect();
    // Sweep: 1,000 one-lot levels, then one market order takes them all.
    let sweep_book: Vec<Command> = (0..1_000u64)
        .map(|i| Command::New(NewOrder::limit(i + 1, 1, Side::Sell, 10_000 + i as i64, 1)))
        .collect();
    let sweep = [Command::New(NewOrder::market(
        1_000_001,
        2,
        Side::Buy,
        1_000,
    ))];
    let mixed = generate(&EquityConfig::default(), 1, 1_000_000);
    // Warm-up prefix so the measured stream starts from a populated book.
    let (mixed_warm, mixed_run) = mixed.split_at(200_000);

    macro_rules! both {
        ($group:expr, $name:expr, $setup:expr, $cmds:expr) => {{
            let mut g = c.benchmark_group($group);
            g.throughput(Throughput::Elements($cmds.len() as u64));
            g.bench_function(BenchmarkId::new($name, "fast"), |bch| {
                bch.iter_batched_ref(
                    || filled(FastBook::new(cfg), $setup),
                    |b| black_box(run(b, $cmds)),
                    BatchSize::LargeInput,
                )
            });
            g.bench_function(BenchmarkId::new($name, "reference"), |bch| {
                bch.iter_batched_ref(
                    || filled(ReferenceBook::new(cfg), $setup),
                    |b| black_box(run(b, $cmds)),
                    BatchSize::LargeInput,
                )
            });
            g.finish();
        }};
    }
    both!("add", "10k", &[], &add[..]);
    both!("cancel", "10k", &add[..], &cancels[..]);
    both!("match_one", "10k_pairs", &[], &match_one[..]);
    both!("sweep", "1000_levels", &sweep_book[..], &sweep[..]);
    both!("mixed", "equity_800k", mixed_warm, mixed_run);

    // Every registered workload, from an empty book (their own build-up is the workload),
    // the common case (`equity-mixed`) among them so each shape's cost per command is
    // read side by side with it; deep-ladder with 100k levels so a sample stays short.
    let shapes: Vec<(&str, Vec<Command>)> = Workload::ALL
        .into_iter()
        .map(|w| match w {
            Workload::DeepLadder => (
                "deep-ladder-100k",
                deep_ladder::generate_with(
                    &deep_ladder::DeepLadderConfig {
                        levels: 100_000,
                        ..Default::default()
                    },
                    0,
                    200_000,
                ),
            ),
            w => (w.name(), w.generate(1, 200_000)),
        })
        .collect();
    for (name, cmds) in &shapes {
        both!("workload", *name, &[], &cmds[..]);
    }

    // The CME allocation family on the mixed stream (same warm-up and measured part as
    // `mixed`), fast book, price-time first so every algorithm's time reads against it in
    // the same run; parameters as `flowmatch compare` runs them (`compare::cme`).
    let mut g = c.benchmark_group("cme_mixed");
    g.throughput(Throughput::Elements(mixed_run.len() as u64));
    for (name, policy) in flowmatch_harness::compare::cme::matchers() {
        let cfg = BookConfig { policy, ..cfg };
        g.bench_function(BenchmarkId::new("equity_800k", name), |bch| {
            bch.iter_batched_ref(
                || filled(FastBook::new(cfg), mixed_warm),
                |b| black_box(run(b, mixed_run)),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4)).warm_up_time(std::time::Duration::from_secs(1));
    targets = bench_books
}
criterion_main!(benches);
