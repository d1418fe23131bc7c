//! Instruction-count benchmarks of the fast book (gungraun: Valgrind's Callgrind).
//!
//! Wall-clock times on a shared 2-core virtual machine swing by tens of percent from run
//! to run; the number of instructions executed does not. These figures are what a CI job
//! can compare between commits (a change of a few percent is real). Each benchmark's setup
//! (building the book and the command list) runs outside the measurement; only the loop of
//! `apply` calls is counted. Every `book_ops` benchmark performs `N` operations, so
//! instructions per operation = total / `N`.
//!
//! The `workloads` group runs every registered workload ([`Workload::ALL`]) from an empty
//! book through the fast book and through the reference book. Each bench names its
//! stream's length as the first argument of its setup (`fast_setup(20_200,
//! Workload::RandomIds)` in the output; first, because gungraun shortens long names), so
//! instructions per command = total / that count;
//! `scripts/bench-instructions.sh` appends that table. 20,200 commands is deep-ladder's
//! 20,000 levels (far past the near window of 1,024 levels) and their 200 sweeps of 100.
//!
//! Run (needs valgrind and the runner binary of the same version as the library):
//!
//! ```text
//! cargo install gungraun-runner --version 0.20.0 --locked
//! cargo bench -p flowmatch-harness --bench instructions
//! ```

use flowmatch_core::allocation::{Algorithm, AllocationParams, CmePolicy, Lmm};
use flowmatch_core::{
    BookConfig, Command, CountingSink, FastBook, MatchPolicy, NewOrder, OrdType, OrderBook,
    ReferenceBook, Side, Tif,
};
use flowmatch_harness::compare::cme;
use flowmatch_harness::compare::driver::book_config;
use flowmatch_harness::workload::equity::{self, EquityConfig};
use flowmatch_harness::workload::Workload;
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

fn apply_all<B: OrderBook>(b: &mut B, cmds: &[Command]) -> CountingSink {
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

/// CME `algorithm`: the pro-rata stream (10 takers of 500 into a 1,000-order level whose
/// first order is TOP), with parameters every step reads: TOP capped at 5, pro-rata minimum
/// 2, the level's account as a 20% LMM, a 40% FIFO split and leveling.
fn setup_cme(algorithm: Algorithm) -> (FastBook, Vec<Command>) {
    let mut p = AllocationParams {
        top_max: 5,
        pro_rata_min: 2,
        split_fifo_percent: 40,
        leveling: true,
        ..AllocationParams::default()
    };
    p.push_lmm(Lmm {
        account: 1,
        percent: 20,
    })
    .expect("one LMM");
    let policy = MatchPolicy::Cme(CmePolicy::new(algorithm, p).expect("parameters in range"));
    let b = deep_level(policy);
    let cmds = (0..10)
        .map(|k| {
            Command::New(NewOrder::limit(20_000 + k, 4, Side::Buy, 10_000, 500).with_tif(Tif::Ioc))
        })
        .collect();
    (b, cmds)
}

/// A level of `N` icebergs at 10,000, each of 30 showing 10 (20 in reserve).
fn iceberg_level() -> FastBook {
    let mut b = book(MatchPolicy::PriceTime);
    let mut s = CountingSink::default();
    for id in 1..=N {
        b.apply(
            &Command::New(NewOrder {
                ord_type: OrdType::Iceberg { display: 10 },
                ..NewOrder::limit(id, 1, Side::Sell, 10_000, 30)
            }),
            &mut s,
        );
    }
    b
}

/// Iceberg match one: `N` IOC takers of 10 into the iceberg level, each filling one shown
/// part, which refills at the back of the level (the cost of a refill against
/// `match_one`'s plain fill).
fn setup_iceberg_match() -> (FastBook, Vec<Command>) {
    let cmds = (0..N)
        .map(|k| {
            Command::New(NewOrder::limit(20_000 + k, 4, Side::Buy, 10_000, 10).with_tif(Tif::Ioc))
        })
        .collect();
    (iceberg_level(), cmds)
}

/// Iceberg cancel: all `N` icebergs of the level, in `cancel`'s scattered order (each
/// `CXL` carries the reserve).
fn setup_iceberg_cancel() -> (FastBook, Vec<Command>) {
    let cmds = (0..N)
        .map(|k| Command::Cancel {
            id: (k * 7919) % N + 1,
        })
        .collect();
    (iceberg_level(), cmds)
}

/// Iceberg add: `N` icebergs spread over 100 price levels, into the plain deep level's book
/// (`add`'s stream with each order an iceberg showing 10 of its 100).
fn setup_iceberg_add() -> (FastBook, Vec<Command>) {
    let (b, cmds) = setup_add();
    let cmds = cmds
        .into_iter()
        .map(|c| match c {
            Command::New(o) => Command::New(NewOrder {
                ord_type: OrdType::Iceberg { display: 10 },
                ..o
            }),
            other => other,
        })
        .collect();
    (b, cmds)
}

/// A midpoint peg of `qty` (no cap).
fn peg(id: u64, side: Side, qty: u64) -> Command {
    Command::New(NewOrder {
        ord_type: OrdType::MidPeg,
        price: None,
        ..NewOrder::limit(id, 1, side, 0, qty)
    })
}

/// A quote of one lit order a side, bid 9,999 and ask 10,001 (midpoint 10,000), far from
/// the pegs' ids.
fn quoted_book() -> FastBook {
    let mut b = book(MatchPolicy::PriceTime);
    apply_all(
        &mut b,
        &[
            Command::New(NewOrder::limit(1_000_001, 9, Side::Buy, 9_999, 1_000_000)),
            Command::New(NewOrder::limit(1_000_002, 9, Side::Sell, 10_001, 1_000_000)),
        ],
    );
    b
}

/// Peg add: `N` sell pegs of 10 into the quoted book (none can cross: no buy peg rests).
fn setup_peg_add() -> (FastBook, Vec<Command>) {
    let cmds = (1..=N).map(|id| peg(id, Side::Sell, 10)).collect();
    (quoted_book(), cmds)
}

/// The quoted book with `N` resting sell pegs of 10.
fn pegged_book() -> FastBook {
    let (mut b, cmds) = setup_peg_add();
    apply_all(&mut b, &cmds);
    b
}

/// Peg cancel: every resting peg, in `cancel`'s scattered order.
fn setup_peg_cancel() -> (FastBook, Vec<Command>) {
    let cmds = (0..N)
        .map(|k| Command::Cancel {
            id: (k * 7919) % N + 1,
        })
        .collect();
    (pegged_book(), cmds)
}

/// Peg match one: `N` lit IOC buys of 10 at the midpoint, each filling one resting peg
/// there (`match_one`'s stream against pegs).
fn setup_peg_match() -> (FastBook, Vec<Command>) {
    let cmds = (0..N)
        .map(|k| {
            Command::New(NewOrder::limit(20_000 + k, 4, Side::Buy, 10_000, 10).with_tif(Tif::Ioc))
        })
        .collect();
    (pegged_book(), cmds)
}

/// Mixed with one peg resting the whole time (a buy capped at 1, which never reaches a
/// midpoint): what a resting peg costs every other command (the slow path, the pegs'
/// cross check at each command's end).
fn setup_mixed_one_peg() -> (FastBook, Vec<Command>) {
    let (mut b, cmds) = setup_mixed();
    let capped = Command::New(NewOrder {
        ord_type: OrdType::MidPeg,
        price: Some(1),
        ..NewOrder::limit(u64::MAX, 9, Side::Buy, 1, 10)
    });
    apply_all(&mut b, &[capped]);
    assert_eq!(b.pegs(), 1, "the capped peg rests");
    (b, cmds)
}

/// Mixed: the equity-mixed (calm) stream, 5,000 commands of warm-up then `N` measured.
fn setup_mixed() -> (FastBook, Vec<Command>) {
    setup_mixed_under(MatchPolicy::PriceTime)
}

fn setup_mixed_under(policy: MatchPolicy) -> (FastBook, Vec<Command>) {
    let all = equity::generate(&EquityConfig::default(), 7, 5_000 + N as usize);
    let mut b = book(policy);
    apply_all(&mut b, &all[..5_000]);
    (b, all[5_000..].to_vec())
}

/// CME `algorithm` on the mixed stream (same stream and warm-up as `mixed`), with the
/// parameters `flowmatch compare` runs it with (`compare::cme::params`: LMM accounts 1
/// and 2 at 10% each where the algorithm has an LMM step, so it fires).
fn setup_cme_mixed(algorithm: Algorithm) -> (FastBook, Vec<Command>) {
    setup_mixed_under(cme::policy(algorithm))
}

#[library_benchmark]
#[bench::add(setup = setup_add)]
#[bench::cancel(setup = setup_cancel)]
#[bench::match_one(setup = setup_match_price_time)]
#[bench::sweep(setup = setup_sweep)]
#[bench::pro_rata_10_takers(setup = setup_pro_rata)]
#[bench::mixed(setup = setup_mixed)]
#[bench::iceberg_add(setup = setup_iceberg_add)]
#[bench::iceberg_cancel(setup = setup_iceberg_cancel)]
#[bench::iceberg_match_one(setup = setup_iceberg_match)]
#[bench::peg_add(setup = setup_peg_add)]
#[bench::peg_cancel(setup = setup_peg_cancel)]
#[bench::peg_match_one(setup = setup_peg_match)]
#[bench::mixed_one_peg(setup = setup_mixed_one_peg)]
#[bench::cme_a_10_takers(args = (Algorithm::A), setup = setup_cme)]
#[bench::cme_c_10_takers(args = (Algorithm::C), setup = setup_cme)]
#[bench::cme_f_10_takers(args = (Algorithm::F), setup = setup_cme)]
#[bench::cme_k_10_takers(args = (Algorithm::K), setup = setup_cme)]
#[bench::cme_o_10_takers(args = (Algorithm::O), setup = setup_cme)]
#[bench::cme_q_10_takers(args = (Algorithm::Q), setup = setup_cme)]
#[bench::cme_s_10_takers(args = (Algorithm::S), setup = setup_cme)]
#[bench::cme_t_10_takers(args = (Algorithm::T), setup = setup_cme)]
#[bench::cme_a_mixed(args = (Algorithm::A), setup = setup_cme_mixed)]
#[bench::cme_c_mixed(args = (Algorithm::C), setup = setup_cme_mixed)]
#[bench::cme_f_mixed(args = (Algorithm::F), setup = setup_cme_mixed)]
#[bench::cme_k_mixed(args = (Algorithm::K), setup = setup_cme_mixed)]
#[bench::cme_o_mixed(args = (Algorithm::O), setup = setup_cme_mixed)]
#[bench::cme_q_mixed(args = (Algorithm::Q), setup = setup_cme_mixed)]
#[bench::cme_s_mixed(args = (Algorithm::S), setup = setup_cme_mixed)]
#[bench::cme_t_mixed(args = (Algorithm::T), setup = setup_cme_mixed)]
fn fast_book((mut b, cmds): (FastBook, Vec<Command>)) -> CountingSink {
    black_box(apply_all(&mut b, &cmds))
}

library_benchmark_group!(name = book_ops, benchmarks = [fast_book]);

/// `commands` commands of `w` (seed 7), checked to be exactly that many: the count the
/// per-command table divides by is the one in the bench's arguments.
fn workload_stream(commands: usize, w: Workload) -> Vec<Command> {
    let cmds = w.generate(7, commands);
    assert_eq!(cmds.len(), commands, "{}", w.name());
    cmds
}

/// An empty fast book sized as in `flowmatch compare` (no storage growth measured).
fn fast_setup(commands: usize, w: Workload) -> (FastBook, Vec<Command>) {
    (
        FastBook::new(book_config(MatchPolicy::PriceTime)),
        workload_stream(commands, w),
    )
}

/// An empty reference book, same configuration.
fn reference_setup(commands: usize, w: Workload) -> (ReferenceBook, Vec<Command>) {
    (
        ReferenceBook::new(book_config(MatchPolicy::PriceTime)),
        workload_stream(commands, w),
    )
}

// One bench per registered workload, in `Workload::ALL` order, for each book; the bench id
// is the workload's name with `_` for `-` (tests/compare_workloads.rs checks that every
// registered workload has its two benches).
#[library_benchmark]
#[bench::equity_mixed(args = (20_200, Workload::EquityCalm), setup = fast_setup)]
#[bench::equity_trending(args = (20_200, Workload::EquityTrending), setup = fast_setup)]
#[bench::equity_flash_crash(args = (20_200, Workload::EquityFlashCrash), setup = fast_setup)]
#[bench::adversarial(args = (20_200, Workload::Adversarial), setup = fast_setup)]
#[bench::random_ids(args = (20_200, Workload::RandomIds), setup = fast_setup)]
#[bench::gateway_ids(args = (20_200, Workload::GatewayIds), setup = fast_setup)]
#[bench::sparse_ids(args = (20_200, Workload::SparseIds), setup = fast_setup)]
#[bench::wide_band(args = (20_200, Workload::WideBand), setup = fast_setup)]
#[bench::deep_ladder(args = (20_200, Workload::DeepLadder), setup = fast_setup)]
#[bench::deep_sweep(args = (20_200, Workload::DeepSweep), setup = fast_setup)]
#[bench::cancel_storm(args = (20_200, Workload::CancelStorm), setup = fast_setup)]
fn fast((mut b, cmds): (FastBook, Vec<Command>)) -> CountingSink {
    black_box(apply_all(&mut b, &cmds))
}

#[library_benchmark]
#[bench::equity_mixed(args = (20_200, Workload::EquityCalm), setup = reference_setup)]
#[bench::equity_trending(args = (20_200, Workload::EquityTrending), setup = reference_setup)]
#[bench::equity_flash_crash(args = (20_200, Workload::EquityFlashCrash), setup = reference_setup)]
#[bench::adversarial(args = (20_200, Workload::Adversarial), setup = reference_setup)]
#[bench::random_ids(args = (20_200, Workload::RandomIds), setup = reference_setup)]
#[bench::gateway_ids(args = (20_200, Workload::GatewayIds), setup = reference_setup)]
#[bench::sparse_ids(args = (20_200, Workload::SparseIds), setup = reference_setup)]
#[bench::wide_band(args = (20_200, Workload::WideBand), setup = reference_setup)]
#[bench::deep_ladder(args = (20_200, Workload::DeepLadder), setup = reference_setup)]
#[bench::deep_sweep(args = (20_200, Workload::DeepSweep), setup = reference_setup)]
#[bench::cancel_storm(args = (20_200, Workload::CancelStorm), setup = reference_setup)]
fn reference((mut b, cmds): (ReferenceBook, Vec<Command>)) -> CountingSink {
    black_box(apply_all(&mut b, &cmds))
}

library_benchmark_group!(name = workloads, benchmarks = [fast, reference]);

main!(library_benchmark_groups = book_ops, workloads);
