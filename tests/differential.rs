//! Differential tests: seeded random command streams, dense in edge cases, through the
//! fast book and the reference book side by side. After every command the two must have
//! produced identical events and hold identical books, and the book must satisfy the
//! invariants below, checked by an accountant that derives them from the commands and
//! events alone (independently of either book):
//! - the book is never crossed;
//! - for every order, filled + cancelled + open = its quantity (a replace restates the
//!   quantity: the new open quantity plus what had already been filled or cancelled);
//! - each level's aggregate quantity and order count equal the sum over its orders, and
//!   `depth_at` at its price equals that sum;
//! - a cancel names the order's side and its current limit (its `N` price, moved by each
//!   accepted replace; none for a market order).
//!
//! Half the streams (odd seeds keep, even seeds requeue) run each replace priority mode,
//! `keep-if-reduced` and `always-requeue`; so do the deep-ladder streams and the variants
//! of the mixed stream.
//!
//! Edge cases the generator leans on: few accounts (self-trade prevention fires often),
//! a handful of prices (deep FIFOs, frequent crosses), a small id pool (constant reuse,
//! stale cancels and replaces, duplicate ids), every time in force and STP mode, bad
//! quantities and prices, and price bases at `i64::MIN`, `i64::MAX`, below zero. A quarter
//! of the streams space their prices 256 ticks apart, so that every price falls in the
//! same entry of the fast book's price->level cache and levels are recycled across it.
//!
//! The quantity domain is tested whole: the `*_past_u64` tests accept every quantity up to
//! `u64::MAX` and draw many near it (2^63, 2^62 and up, `u64::MAX`), so level aggregates,
//! pro-rata totals and remainders and fill-or-kill sums run past 64 bits all the time.

use flowmatch::core::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[path = "common/cme_params.rs"]
mod cme_params;
use cme_params::cme_params;
use std::collections::HashMap;

/// Which quantities a stream draws, and up to what its books accept.
#[derive(Clone, Copy, PartialEq)]
enum Quantities {
    /// Mostly small, now and then zero or `u64::MAX`; the book's maximum is the default
    /// (`u32::MAX`) or a small band, so `u64::MAX` is a `BAD_QTY`.
    Small,
    /// The whole domain: the book accepts up to `u64::MAX`, and a third of the orders are
    /// large enough that two of them at one level sum past 64 bits.
    Full,
}

/// Edge-dense stream parameters for one seed.
struct Shape {
    quantities: Quantities,
    base: Price,
    prices: i64,
    /// Ticks between neighbouring prices: 1, or 256 (one level-cache entry for all).
    stride: i64,
    ids: u64,
    accounts: u32,
}

fn shape(rng: &mut ChaCha8Rng, quantities: Quantities) -> Shape {
    let stride = if rng.random_bool(0.25) { 256 } else { 1 };
    let base = match rng.random_range(0..5) {
        0 => i64::MIN,
        1 => i64::MAX - 8 * stride,
        2 => -5,
        3 => 0,
        _ => 1_000_000,
    };
    Shape {
        quantities,
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
    match sh.quantities {
        Quantities::Small if rng.random_bool(0.3) => cfg.max_order_qty = rng.random_range(5..=40),
        Quantities::Small => {}
        Quantities::Full => cfg.max_order_qty = Qty::MAX,
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
    let qty: Qty = match (sh.quantities, rng.random_range(0..20)) {
        (_, 0) => 0,
        (_, 1) => u64::MAX,
        (_, 2) => rng.random_range(30..=60),
        (Quantities::Full, 3..=4) => 1 << 63,
        (Quantities::Full, 5) => u64::MAX - rng.random_range(0..=12),
        (Quantities::Full, 6..=8) => rng.random_range(1 << 62..=u64::MAX),
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
    /// id -> (quantity, filled, cancelled) for orders whose life is in progress; in 128
    /// bits so that a book that over-fills is reported, not an overflow in the accountant.
    orders: HashMap<OrderId, (u128, u128, u128)>,
    /// id -> (side, current limit) of the same orders, for the cancels' side and price.
    limits: HashMap<OrderId, (Side, Option<Price>)>,
}

/// The replace priority mode a stream with this seed runs under: both, alternately.
fn replace_priority(seed: u64) -> ReplacePriority {
    if seed.is_multiple_of(2) {
        ReplacePriority::AlwaysRequeue
    } else {
        ReplacePriority::KeepIfReduced
    }
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
                    self.orders.insert(id, (o.qty as u128, 0, 0));
                    self.limits.insert(id, (o.side, o.price));
                }
                Event::Replaced { id } => {
                    let Command::Replace { qty, price, .. } = cmd else {
                        panic!("RPL for a non-replace")
                    };
                    let e = self
                        .orders
                        .get_mut(&id)
                        .expect("RPL of an order never acknowledged");
                    // Restate: what is done stays done, the open part becomes `qty`.
                    e.0 = e.1 + e.2 + *qty as u128;
                    self.limits.get_mut(&id).expect("acknowledged").1 = Some(*price);
                }
                Event::Trade {
                    taker, maker, qty, ..
                } => {
                    assert!(qty > 0, "zero-quantity trade");
                    for id in [taker, maker] {
                        self.orders
                            .get_mut(&id)
                            .expect("trade of an unknown order")
                            .1 += qty as u128;
                    }
                }
                Event::Cancel {
                    id,
                    qty,
                    side,
                    price,
                    ..
                } => {
                    assert!(qty > 0, "zero-quantity cancel");
                    assert_eq!(
                        self.limits.get(&id),
                        Some(&(side, price)),
                        "cancel of order {id} names its side and limit"
                    );
                    self.orders
                        .get_mut(&id)
                        .expect("cancel of an unknown order")
                        .2 += qty as u128;
                }
                Event::Reject { .. } => {}
            }
        }
    }

    /// Check every order in progress against the book; forget the finished ones.
    fn check<B: OrderBook>(&mut self, book: &B, at: usize) {
        self.orders.retain(|id, &mut (q, filled, cancelled)| {
            let open = book.order(*id).map_or(0, |o| o.open_qty as u128);
            assert_eq!(
                filled + cancelled + open,
                q,
                "conservation of order {id} after command {at}"
            );
            open > 0
        });
        let orders = &self.orders;
        self.limits.retain(|id, _| orders.contains_key(id));
        assert_eq!(
            self.orders.len(),
            book.len(),
            "live orders after command {at}"
        );
    }
}

/// Checks the book's structure; returns the largest level aggregate seen.
fn check_book<B: OrderBook>(book: &B, at: usize) -> u128 {
    let mut largest = 0;
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
            largest = largest.max(l.total_qty);
            let (n, sum) = orders
                .iter()
                .filter(|o| o.side == side && o.price == l.price)
                .fold((0usize, 0u128), |(n, s), o| (n + 1, s + o.open_qty as u128));
            assert_eq!(
                (l.orders, l.total_qty),
                (n, sum),
                "level {} aggregate after command {at}",
                l.price
            );
            assert_eq!(
                book.depth_at(side, l.price),
                sum,
                "depth at {side:?} {} after command {at}",
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
    largest
}

/// What a run of streams checked.
struct Checked {
    commands: usize,
    /// The largest level aggregate any book held.
    largest_level: u128,
}

/// How a stream's ids are spelled: the generator draws small ids (1, 2, …, `Shape::ids`),
/// and each is renamed by an injective map, so the stream's structure (reuse, stale and
/// duplicate ids) is unchanged while the fast book's id index sees other numbers.
#[derive(Clone, Copy)]
enum Ids {
    /// As drawn: small and dense.
    Dense,
    /// Scattered over `u64` by a bijection (splitmix64's finaliser), reaching both ends.
    Scattered,
    /// Counting down from `u64::MAX`.
    NearMax,
    /// A per-gateway prefix in the top byte (one of five) over a per-gateway counter.
    Prefixed,
    /// The generator's pool widened to `0` .. this many ids (so the fast book's id table
    /// grows from its start size mid-stream), and scattered as `Scattered`.
    ScatteredWide(u64),
}

impl Ids {
    fn spell(self, id: OrderId) -> OrderId {
        let mix = |mut z: u64| {
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        match self {
            Ids::Dense => id,
            Ids::Scattered | Ids::ScatteredWide(_) => mix(id),
            Ids::NearMax => u64::MAX - id,
            Ids::Prefixed => ((id % 5) << 56) | (id / 5),
        }
    }

    fn rename(self, cmd: Command) -> Command {
        match cmd {
            Command::New(mut o) => {
                o.id = self.spell(o.id);
                Command::New(o)
            }
            Command::Cancel { id } => Command::Cancel { id: self.spell(id) },
            Command::Replace { id, price, qty } => Command::Replace {
                id: self.spell(id),
                price,
                qty,
            },
        }
    }
}

/// Run `streams` seeded streams of `len` commands each under `policy`, ids as drawn.
fn differential(
    policy: MatchPolicy,
    quantities: Quantities,
    first_seed: u64,
    streams: u64,
    len: usize,
) -> Checked {
    differential_with_ids(policy, quantities, Ids::Dense, first_seed, streams, len)
}

/// Run `streams` seeded streams of `len` commands each under `policy`, ids spelled `ids`.
fn differential_with_ids(
    policy: MatchPolicy,
    quantities: Quantities,
    ids: Ids,
    first_seed: u64,
    streams: u64,
    len: usize,
) -> Checked {
    let mut checked = Checked {
        commands: 0,
        largest_level: 0,
    };
    let (mut ev_fast, mut ev_ref) = (Vec::with_capacity(64), Vec::with_capacity(64));
    for seed in first_seed..first_seed + streams {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut sh = shape(&mut rng, quantities);
        let mut cfg = config(&mut rng, &sh, policy);
        cfg.replace_priority = replace_priority(seed);
        if let Ids::ScatteredWide(pool) = ids {
            sh.ids = pool;
        }
        let mut fast = FastBook::new(cfg);
        let mut reference = ReferenceBook::new(cfg);
        let mut acct = Accountant::default();
        for i in 0..len {
            let cmd = ids.rename(command(&mut rng, &sh));
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
            let largest = check_book(&fast, i);
            checked.largest_level = checked.largest_level.max(largest);
            checked.commands += 1;
        }
    }
    checked
}

#[test]
fn price_time_matches_reference_on_a_million_commands() {
    let n = differential(MatchPolicy::PriceTime, Quantities::Small, 1, 500, 2_000);
    assert_eq!(n.commands, 1_000_000);
}

/// Ids scattered over `u64`, next to `u64::MAX`, and gateway-prefixed, with the small id
/// pools' constant reuse (an id cancelled or filled is often sent again at once).
#[test]
fn price_time_matches_reference_over_spread_ids() {
    for (k, ids) in [Ids::Scattered, Ids::NearMax, Ids::Prefixed]
        .into_iter()
        .enumerate()
    {
        let first = 60_001 + 1_000 * k as u64;
        let n = differential_with_ids(
            MatchPolicy::PriceTime,
            Quantities::Small,
            ids,
            first,
            100,
            2_000,
        );
        assert_eq!(n.commands, 200_000);
    }
    let n = differential_with_ids(
        MatchPolicy::ProRata { top_order: true },
        Quantities::Small,
        Ids::Scattered,
        64_001,
        50,
        2_000,
    );
    assert_eq!(n.commands, 100_000);
}

/// Scattered ids from a pool of 6,000, so hundreds to thousands of orders rest at once and
/// the fast book's id table (sized to live ids) grows from its start size mid-stream.
#[test]
fn price_time_matches_reference_while_the_id_table_grows() {
    let n = differential_with_ids(
        MatchPolicy::PriceTime,
        Quantities::Small,
        Ids::ScatteredWide(6_000),
        70_001,
        10,
        20_000,
    );
    assert_eq!(n.commands, 200_000);
}

/// The full quantity domain under `policy`: the books must agree, and some level's sum must
/// really pass 64 bits, or the run proved nothing about wide aggregates.
fn matches_reference_with_quantities_past_u64(policy: MatchPolicy, seed: u64) {
    let n = differential(policy, Quantities::Full, seed, 100, 2_000);
    assert_eq!(n.commands, 200_000);
    assert!(
        n.largest_level > u64::MAX as u128,
        "some level summed past 64 bits (largest {})",
        n.largest_level
    );
}

#[test]
fn price_time_matches_reference_with_quantities_past_u64() {
    matches_reference_with_quantities_past_u64(MatchPolicy::PriceTime, 30_001);
}

#[test]
fn pro_rata_matches_reference_with_quantities_past_u64() {
    matches_reference_with_quantities_past_u64(MatchPolicy::ProRata { top_order: false }, 40_001);
}

#[test]
fn pro_rata_with_top_order_matches_reference_with_quantities_past_u64() {
    matches_reference_with_quantities_past_u64(MatchPolicy::ProRata { top_order: true }, 50_001);
}

#[test]
fn pro_rata_matches_reference() {
    let n = differential(
        MatchPolicy::ProRata { top_order: false },
        Quantities::Small,
        10_001,
        100,
        2_000,
    );
    assert_eq!(n.commands, 200_000);
}

#[test]
fn pro_rata_with_top_order_matches_reference() {
    let n = differential(
        MatchPolicy::ProRata { top_order: true },
        Quantities::Small,
        20_001,
        100,
        2_000,
    );
    assert_eq!(n.commands, 200_000);
}

/// The realistic benchmark stream, too: deeper books and real replace/cancel races.
#[test]
fn equity_mixed_stream_matches_reference() {
    use flowmatch::harness::workload::equity::{generate, EquityConfig, EquityVariant};
    for (k, v) in EquityVariant::ALL.into_iter().enumerate() {
        let cmds = generate(&EquityConfig::variant(v), 42 + k as u64, 100_000);
        let cfg = BookConfig {
            replace_priority: replace_priority(k as u64),
            ..Default::default()
        };
        let mut fast = FastBook::new(cfg);
        let mut reference = ReferenceBook::new(cfg);
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

/// Where a deep-ladder stream puts its levels: the best bid and ask (depth 0) and the
/// ticks between depths.
struct Ladders {
    bid0: Price,
    ask0: Price,
    stride: i64,
    /// Depths per side the stream may use (`depth_max * stride` stays inside `i64`).
    depth_max: i64,
}

impl Ladders {
    fn price(&self, side: Side, depth: i64) -> Price {
        match side {
            Side::Buy => self.bid0 - depth * self.stride,
            Side::Sell => self.ask0 + depth * self.stride,
        }
    }
}

fn ladders(rng: &mut ChaCha8Rng) -> Ladders {
    let depth_max = 6_000;
    let stride = [1, 3, 256][rng.random_range(0..3)];
    match rng.random_range(0..5) {
        // An ordinary price level.
        0 => Ladders {
            bid0: 999_999_999,
            ask0: 1_000_000_001,
            stride,
            depth_max,
        },
        // Bids down to `i64::MIN`.
        1 => {
            let bid0 = i64::MIN + depth_max * stride;
            Ladders {
                bid0,
                ask0: bid0 + 1,
                stride,
                depth_max,
            }
        }
        // Asks up to `i64::MAX`.
        2 => {
            let ask0 = i64::MAX - depth_max * stride;
            Ladders {
                bid0: ask0 - 1,
                ask0,
                stride,
                depth_max,
            }
        }
        // The whole `i64` range, negative bids and positive asks.
        3 => Ladders {
            bid0: -1,
            ask0: 1,
            stride: i64::MAX / (depth_max + 1),
            depth_max,
        },
        // Every price in one level-cache entry, around zero.
        _ => Ladders {
            bid0: -256,
            ask0: 0,
            stride: 256,
            depth_max,
        },
    }
}

/// One command of a deep-ladder stream: mostly resting orders one or two ticks worse than
/// everything on their side (thousands of levels built away from the touch), others inside
/// the ladder, cancels and replaces at any depth, and IOC, fill-or-kill and whole-side
/// sweeps across hundreds of levels.
struct DeepStream {
    ladders: Ladders,
    /// Deepest depth used so far, per side (`Side as usize`).
    deepest: [i64; 2],
    /// Side of each id issued (index = id).
    sides: Vec<Side>,
}

impl DeepStream {
    fn command(&mut self, rng: &mut ChaCha8Rng) -> Command {
        let side = if rng.random_bool(0.5) {
            Side::Buy
        } else {
            Side::Sell
        };
        let s = side as usize;
        let any_depth = |rng: &mut ChaCha8Rng, deepest: i64| rng.random_range(0..=deepest);
        let account = rng.random_range(1..=3);
        match rng.random_range(0..1000) {
            0..=719 => {
                let depth = if rng.random_bool(0.8) {
                    self.deepest[s] =
                        (self.deepest[s] + rng.random_range(1..=3)).min(self.ladders.depth_max);
                    self.deepest[s]
                } else {
                    any_depth(rng, self.deepest[s])
                };
                let id = self.sides.len() as OrderId;
                self.sides.push(side);
                let price = self.ladders.price(side, depth);
                Command::New(NewOrder::limit(
                    id,
                    account,
                    side,
                    price,
                    rng.random_range(1..=5),
                ))
            }
            // Ids up to one never issued (a stale cancel or replace).
            720..=839 => Command::Cancel {
                id: rng.random_range(1..=self.sides.len() as OrderId),
            },
            840..=939 => {
                let id = rng.random_range(1..=self.sides.len() as OrderId);
                let side = self.sides.get(id as usize).copied().unwrap_or(side);
                let depth = any_depth(rng, self.deepest[side as usize]);
                Command::Replace {
                    id,
                    price: self.ladders.price(side, depth),
                    qty: rng.random_range(1..=5),
                }
            }
            _ => {
                // A taker against `side`: a few levels (IOC or fill-or-kill), now and then
                // hundreds, rarely the whole side (which is then rebuilt from the touch).
                let id = self.sides.len() as OrderId;
                self.sides.push(side.opposite());
                let (depth, qty, tif) = match rng.random_range(0..400) {
                    0 => {
                        self.deepest[s] = 0;
                        (self.ladders.depth_max, 1 << 40, Tif::Ioc)
                    }
                    1..=8 => (self.deepest[s], rng.random_range(300..=1_500), Tif::Ioc),
                    9..=100 => (
                        any_depth(rng, self.deepest[s]),
                        rng.random_range(1..=100),
                        Tif::Fok,
                    ),
                    _ => (
                        any_depth(rng, self.deepest[s]),
                        rng.random_range(1..=30),
                        Tif::Ioc,
                    ),
                };
                let limit = self.ladders.price(side, depth);
                Command::New(
                    NewOrder::limit(id, account, side.opposite(), limit, qty).with_tif(tif),
                )
            }
        }
    }
}

/// Run `streams` deep-ladder streams of `len` commands under `policy`, fast against
/// reference after every command (events, books, accountant; the structural check every
/// 256 commands, as it is quadratic in the book). Returns the most levels one side held.
fn deep_differential(policy: MatchPolicy, first_seed: u64, streams: u64, len: usize) -> usize {
    let mut most_levels = 0;
    let (mut ev_fast, mut ev_ref) = (Vec::with_capacity(64), Vec::with_capacity(64));
    for seed in first_seed..first_seed + streams {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut stream = DeepStream {
            ladders: ladders(&mut rng),
            deepest: [0, 0],
            // Id 0 is never issued; ids start at 1.
            sides: vec![Side::Buy],
        };
        let cfg = BookConfig {
            policy,
            capacity: 64,
            max_order_qty: 1 << 40,
            replace_priority: replace_priority(seed),
            ..Default::default()
        };
        let mut fast = FastBook::new(cfg);
        let mut reference = ReferenceBook::new(cfg);
        let mut acct = Accountant::default();
        let mut i = 0;
        while i < len {
            let cmd = stream.command(&mut rng);
            ev_fast.clear();
            ev_ref.clear();
            fast.apply(&cmd, &mut ev_fast);
            reference.apply(&cmd, &mut ev_ref);
            assert_eq!(
                ev_fast, ev_ref,
                "deep seed {seed} command {i} {cmd:?}: events differ"
            );
            assert_eq!(
                (fast.best_bid(), fast.best_ask()),
                (reference.best_bid(), reference.best_ask()),
                "deep seed {seed} command {i}: best prices differ"
            );
            assert_eq!(
                fast.snapshot(),
                reference.snapshot(),
                "deep seed {seed} command {i} {cmd:?}: books differ"
            );
            acct.observe(&cmd, &ev_fast);
            acct.check(&fast, i);
            if i % 256 == 0 || i + 1 == len {
                check_book(&fast, i);
                for side in [Side::Buy, Side::Sell] {
                    let (mut f, mut r) = (Vec::new(), Vec::new());
                    fast.for_each_level(side, &mut |l| f.push(*l));
                    reference.for_each_level(side, &mut |l| r.push(*l));
                    assert_eq!(f, r, "deep seed {seed} command {i}: {side:?} levels differ");
                    most_levels = most_levels.max(f.len());
                    // Depth at every depth the stream has used (near, far, emptied, never
                    // used), and a level walk cut short at a random level.
                    for d in 0..=stream.deepest[side as usize] {
                        let p = stream.ladders.price(side, d);
                        assert_eq!(
                            fast.depth_at(side, p),
                            reference.depth_at(side, p),
                            "deep seed {seed} command {i}: depth at {side:?} {p}"
                        );
                    }
                    let stop = walk_stop(i, f.len());
                    let mut cut = Vec::new();
                    fast.for_each_level_while(side, &mut |l| {
                        cut.push(*l);
                        cut.len() < stop
                    });
                    assert_eq!(cut, r[..stop.min(r.len())], "deep seed {seed}: cut walk");
                }
            }
            i += 1;
        }
    }
    most_levels
}

/// Where a level walk checked at command `i` stops: after 1 .. `levels` + 1 levels,
/// varying with `i` (not drawn from the stream's generator, which would change the stream).
fn walk_stop(i: usize, levels: usize) -> usize {
    1 + (i.wrapping_mul(2_654_435_761) >> 7) % (levels + 1)
}

/// Thousands of levels per side, built away from the touch, at ordinary, extreme and
/// whole-`i64` prices, cancelled and replaced at any depth and swept: more levels than
/// the fast book's near window holds (1,024), so its far tier, spills and refills all run.
#[test]
fn deep_ladders_match_reference() {
    let most = deep_differential(MatchPolicy::PriceTime, 70_001, 10, 12_000);
    assert!(most > 1_500, "a side held {most} levels");
}

#[test]
fn deep_ladders_match_reference_under_pro_rata() {
    let most = deep_differential(MatchPolicy::ProRata { top_order: true }, 80_001, 5, 12_000);
    assert!(most > 1_500, "a side held {most} levels");
}

/// The `random-ids` workload (the mixed stream with ids scattered over `u64`) and the
/// book sized far past its live orders, so the id table starts small and grows.
#[test]
fn random_ids_stream_matches_reference() {
    use flowmatch::harness::workload::random_ids;
    for (seed, capacity) in [(7u64, BookConfig::default().capacity), (8, 16)] {
        let cfg = BookConfig {
            capacity,
            ..Default::default()
        };
        let cmds = random_ids::generate(seed, 200_000);
        let mut fast = FastBook::new(cfg);
        let mut reference = ReferenceBook::new(cfg);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for (i, c) in cmds.iter().enumerate() {
            a.clear();
            b.clear();
            fast.apply(c, &mut a);
            reference.apply(c, &mut b);
            assert_eq!(a, b, "seed {seed} command {i}");
        }
        assert_eq!(fast.snapshot(), reference.snapshot(), "seed {seed}");
    }
}

/// Every CME algorithm, fast against reference over the differential streams (small and
/// full quantities), parameters drawn per stream. The TOP order is each book's own
/// bookkeeping, so a disagreement on which order is TOP shows as different fills.
#[test]
fn cme_algorithms_match_reference() {
    use flowmatch::core::allocation::{Algorithm, CmePolicy};
    for (k, algorithm) in Algorithm::ALL.into_iter().enumerate() {
        // Commands whose events differ from a price-time book's: the streams must reach
        // what makes the algorithm an algorithm, or agreeing proved little.
        let mut differ = 0;
        for (quantities, streams) in [(Quantities::Small, 30), (Quantities::Full, 8)] {
            let first = 90_001 + 1_000 * k as u64 + if streams == 8 { 500 } else { 0 };
            let mut commands = 0;
            for seed in first..first + streams {
                let policy = MatchPolicy::Cme(
                    CmePolicy::new(algorithm, cme_params(seed)).expect("parameters in range"),
                );
                commands += differential(policy, quantities, seed, 1, 2_000).commands;
                differ += differs_from_price_time(policy, quantities, seed, 2_000);
            }
            assert_eq!(commands, streams as usize * 2_000, "{algorithm}");
        }
        assert!(
            differ > 100,
            "{algorithm}: {differ} commands differ from price-time"
        );
    }
}

/// How many commands of the stream `differential` runs for `seed` give other events under
/// `policy` than under price-time (both fast books).
fn differs_from_price_time(
    policy: MatchPolicy,
    quantities: Quantities,
    seed: u64,
    len: usize,
) -> usize {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sh = shape(&mut rng, quantities);
    let mut cfg = config(&mut rng, &sh, policy);
    cfg.replace_priority = replace_priority(seed);
    let mut a = FastBook::new(cfg);
    let mut b = FastBook::new(BookConfig {
        policy: MatchPolicy::PriceTime,
        ..cfg
    });
    let mut n = 0;
    for _ in 0..len {
        let cmd = command(&mut rng, &sh);
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        a.apply(&cmd, &mut ea);
        b.apply(&cmd, &mut eb);
        n += usize::from(ea != eb);
    }
    n
}
