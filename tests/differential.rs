//! Differential tests: seeded random command streams, dense in edge cases, through the
//! fast book and the reference book side by side. After every command the two must have
//! produced identical events and hold identical books, and the book must satisfy the
//! invariants below, checked by an accountant that derives them from the commands and
//! events alone (independently of either book):
//! - the book is never crossed;
//! - for every order, filled + cancelled + open = its quantity (a replace restates the
//!   quantity: the new open quantity plus what had already been filled or cancelled);
//! - each level's aggregate quantity and order count equal the sum over its orders.
//!
//! Edge cases the generator leans on: few accounts (self-trade prevention fires often),
//! a handful of prices (deep FIFOs, frequent crosses), a small id pool (constant reuse,
//! stale cancels and replaces, duplicate ids), every time in force and STP mode, bad
//! quantities and prices, and price bases at `i64::MIN`, `i64::MAX`, below zero. A quarter
//! of the streams space their prices 256 ticks apart, so that every price falls in the
//! same entry of the fast book's price->level cache and levels are recycled across it.

use flowmatch::core::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// Edge-dense stream parameters for one seed.
struct Shape {
    base: Price,
    prices: i64,
    /// Ticks between neighbouring prices: 1, or 256 (one level-cache entry for all).
    stride: i64,
    ids: u64,
    accounts: u32,
}

fn shape(rng: &mut ChaCha8Rng) -> Shape {
    let stride = if rng.random_bool(0.25) { 256 } else { 1 };
    let base = match rng.random_range(0..5) {
        0 => i64::MIN,
        1 => i64::MAX - 8 * stride,
        2 => -5,
        3 => 0,
        _ => 1_000_000,
    };
    Shape {
        base,
        prices: rng.random_range(2..=9),
        stride,
        ids: rng.random_range(4..=60),
        accounts: rng.random_range(1..=4),
    }
}

fn config(rng: &mut ChaCha8Rng, sh: &Shape, policy: MatchPolicy) -> BookConfig {
    let mut cfg = BookConfig {
        policy,
        capacity: 64,
        ..Default::default()
    };
    if rng.random_bool(0.3) {
        cfg.max_order_qty = rng.random_range(5..=40);
    }
    if rng.random_bool(0.3) {
        // A band strictly inside the generated prices, so BAD_PRICE fires.
        cfg.min_price = sh.base + 1;
        cfg.max_price = sh.base + (sh.prices - 2).max(1) * sh.stride;
    }
    cfg
}

fn command(rng: &mut ChaCha8Rng, sh: &Shape) -> Command {
    let id = rng.random_range(1..=sh.ids);
    let price = sh.base + rng.random_range(0..sh.prices) * sh.stride;
    let qty: Qty = match rng.random_range(0..20) {
        0 => 0,
        1 => u64::MAX,
        2 => rng.random_range(30..=60),
        _ => rng.random_range(1..=12),
    };
    match rng.random_range(0..10) {
        0..=5 => {
            let side = if rng.random_bool(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            let market = rng.random_bool(0.15);
            let mut o = if market {
                NewOrder::market(id, rng.random_range(1..=sh.accounts), side, qty)
            } else {
                NewOrder::limit(id, rng.random_range(1..=sh.accounts), side, price, qty)
            };
            // Occasionally the wrong price presence, to exercise BAD_PRICE.
            if rng.random_bool(0.03) {
                o.price = if market { Some(price) } else { None };
            }
            o.tif = match rng.random_range(0..10) {
                0..=4 => o.tif,
                5 => Tif::Gtc,
                6 => Tif::Ioc,
                7 => Tif::Fok,
                _ => Tif::Post,
            };
            o.stp = match rng.random_range(0..8) {
                0 => Stp::CancelTaker,
                1 => Stp::CancelMaker,
                2 => Stp::CancelBoth,
                3 => Stp::DecrementCancel,
                _ => Stp::None,
            };
            Command::New(o)
        }
        6 | 7 => Command::Cancel { id },
        _ => Command::Replace { id, price, qty },
    }
}

/// Per-order conservation, derived from commands and events only.
#[derive(Default)]
struct Accountant {
    /// id -> (quantity, filled, cancelled) for orders whose life is in progress.
    orders: HashMap<OrderId, (Qty, Qty, Qty)>,
}

impl Accountant {
    fn observe(&mut self, cmd: &Command, events: &[Event]) {
        for e in events {
            match *e {
                Event::Ack { id } => {
                    let Command::New(o) = cmd else {
                        panic!("ACK for a non-new command")
                    };
                    assert_eq!(id, o.id);
                    self.orders.insert(id, (o.qty, 0, 0));
                }
                Event::Replaced { id } => {
                    let Command::Replace { qty, .. } = cmd else {
                        panic!("RPL for a non-replace")
                    };
                    let e = self
                        .orders
                        .get_mut(&id)
                        .expect("RPL of an order never acknowledged");
                    // Restate: what is done stays done, the open part becomes `qty`.
                    e.0 = e.1 + e.2 + qty;
                }
                Event::Trade {
                    taker, maker, qty, ..
                } => {
                    assert!(qty > 0, "zero-quantity trade");
                    for id in [taker, maker] {
                        self.orders
                            .get_mut(&id)
                            .expect("trade of an unknown order")
                            .1 += qty;
                    }
                }
                Event::Cancel { id, qty, .. } => {
                    assert!(qty > 0, "zero-quantity cancel");
                    self.orders
                        .get_mut(&id)
                        .expect("cancel of an unknown order")
                        .2 += qty;
                }
                Event::Reject { .. } => {}
            }
        }
    }

    /// Check every order in progress against the book; forget the finished ones.
    fn check<B: OrderBook>(&mut self, book: &B, at: usize) {
        self.orders.retain(|id, &mut (q, filled, cancelled)| {
            let open = book.order(*id).map_or(0, |o| o.open_qty);
            assert_eq!(
                filled + cancelled + open,
                q,
                "conservation of order {id} after command {at}"
            );
            open > 0
        });
        assert_eq!(
            self.orders.len(),
            book.len(),
            "live orders after command {at}"
        );
    }
}

fn check_book<B: OrderBook>(book: &B, at: usize) {
    if let (Some(b), Some(a)) = (book.best_bid(), book.best_ask()) {
        assert!(b < a, "crossed book after command {at}: bid {b} ask {a}");
    }
    let orders = book.snapshot();
    for side in [Side::Buy, Side::Sell] {
        let mut levels = Vec::new();
        book.for_each_level(side, &mut |l| levels.push(*l));
        for w in levels.windows(2) {
            assert!(
                side.better(w[0].price, w[1].price),
                "levels out of order after command {at}"
            );
        }
        for l in &levels {
            let (n, sum) = orders
                .iter()
                .filter(|o| o.side == side && o.price == l.price)
                .fold((0usize, 0u64), |(n, s), o| (n + 1, s + o.open_qty));
            assert_eq!(
                (l.orders, l.total_qty),
                (n, sum),
                "level {} aggregate after command {at}",
                l.price
            );
        }
        let in_levels: usize = levels.iter().map(|l| l.orders).sum();
        assert_eq!(
            in_levels,
            orders.iter().filter(|o| o.side == side).count(),
            "orders outside levels"
        );
    }
}

/// Run `streams` seeded streams of `len` commands each under `policy`; returns the number
/// of commands checked.
fn differential(policy: MatchPolicy, first_seed: u64, streams: u64, len: usize) -> usize {
    let mut checked = 0;
    let (mut ev_fast, mut ev_ref) = (Vec::with_capacity(64), Vec::with_capacity(64));
    for seed in first_seed..first_seed + streams {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let sh = shape(&mut rng);
        let cfg = config(&mut rng, &sh, policy);
        let mut fast = FastBook::new(cfg);
        let mut reference = ReferenceBook::new(cfg);
        let mut acct = Accountant::default();
        for i in 0..len {
            let cmd = command(&mut rng, &sh);
            ev_fast.clear();
            ev_ref.clear();
            fast.apply(&cmd, &mut ev_fast);
            reference.apply(&cmd, &mut ev_ref);
            assert_eq!(
                ev_fast, ev_ref,
                "seed {seed} command {i} {cmd:?}: events differ"
            );
            assert_eq!(
                fast.snapshot(),
                reference.snapshot(),
                "seed {seed} command {i} {cmd:?}: books differ"
            );
            assert!(!ev_fast.is_empty(), "every command gets an answer");
            acct.observe(&cmd, &ev_fast);
            acct.check(&fast, i);
            check_book(&fast, i);
            checked += 1;
        }
    }
    checked
}

#[test]
fn price_time_matches_reference_on_a_million_commands() {
    let n = differential(MatchPolicy::PriceTime, 1, 500, 2_000);
    assert_eq!(n, 1_000_000);
}

#[test]
fn pro_rata_matches_reference() {
    let n = differential(
        MatchPolicy::ProRata { top_order: false },
        10_001,
        100,
        2_000,
    );
    assert_eq!(n, 200_000);
}

#[test]
fn pro_rata_with_top_order_matches_reference() {
    let n = differential(MatchPolicy::ProRata { top_order: true }, 20_001, 100, 2_000);
    assert_eq!(n, 200_000);
}

/// The realistic benchmark stream, too: deeper books and real replace/cancel races.
#[test]
fn equity_mixed_stream_matches_reference() {
    use flowmatch::harness::workload::equity::{generate, EquityConfig, EquityVariant};
    for (k, v) in EquityVariant::ALL.into_iter().enumerate() {
        let cmds = generate(&EquityConfig::variant(v), 42 + k as u64, 100_000);
        let mut fast = FastBook::new(BookConfig::default());
        let mut reference = ReferenceBook::new(BookConfig::default());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut trades = 0;
        for (i, c) in cmds.iter().enumerate() {
            a.clear();
            b.clear();
            fast.apply(c, &mut a);
            reference.apply(c, &mut b);
            assert_eq!(a, b, "{} command {i}", v.name());
            trades += a
                .iter()
                .filter(|e| matches!(e, Event::Trade { .. }))
                .count();
        }
        assert_eq!(fast.snapshot(), reference.snapshot(), "{}", v.name());
        assert!(trades > 1_000, "the stream trades ({trades})");
    }
}
