//! The fast book's id index, seen from outside: a book built with capacity N indexes N
//! live orders without a single heap allocation, whatever the ids (the index is sized for
//! its capacity up front, so it never grows below it); past its capacity it keeps
//! working through the index's incremental growth, event for event the same as the
//! reference book. Its own test binary because a global allocator is per binary.

use flowmatch_core::{
    BookConfig, Command, Event, FastBook, NewOrder, OrderBook, ReferenceBook, Side,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations_in, assert_counter_counts};

/// `n` resting buy orders with distinct ids spelled by `ids` (all at 20 prices below
/// any sell, so nothing trades and every order stays live).
fn resting_buys(n: usize, ids: impl Fn(u64) -> u64) -> Vec<Command> {
    (0..n as u64)
        .map(|k| {
            Command::New(NewOrder::limit(
                ids(k),
                (k % 5) as u32,
                Side::Buy,
                9_000 + (k % 20) as i64,
                100,
            ))
        })
        .collect()
}

/// Ids random over `u64` (distinct by construction: a seeded generator's draws with
/// repeats skipped).
fn random_ids(n: usize, seed: u64) -> Vec<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut seen = std::collections::HashSet::new();
    let mut ids = Vec::with_capacity(n);
    while ids.len() < n {
        let id: u64 = rng.random();
        if id != 0 && seen.insert(id) {
            ids.push(id);
        }
    }
    ids
}

/// How a gateway spells the id of its `k`-th order.
type IdSpelling = Box<dyn Fn(u64) -> u64>;

/// Capacity N, then N live orders: no allocation at all up to 4,096 live ids (the room the
/// index starts with), and past it one allocation per doubling of the index (incremental:
/// no command rehashes it all), nothing else: for 100,000 orders, 4,096 → 131,072 ids is
/// five doublings.
#[test]
fn capacity_orders_index_without_allocating() {
    assert_counter_counts();
    for (n, most) in [(4_096, 0), (100_000, 5)] {
        capacity_orders_allocate_at_most(n, most);
    }
}

fn capacity_orders_allocate_at_most(n: usize, most: u64) {
    #[allow(non_snake_case)]
    let N = n;
    let random = random_ids(N, 3);
    let spreads: [(&str, IdSpelling); 3] = [
        ("sequential", Box::new(|k| k + 1)),
        ("random over u64", Box::new(move |k| random[k as usize])),
        (
            "gateway prefix in the top byte",
            Box::new(|k| ((k % 8) << 56) | (k / 8 + 1)),
        ),
    ];
    for (name, ids) in spreads {
        let cmds = resting_buys(N, ids);
        let cfg = BookConfig {
            capacity: N,
            ..BookConfig::default()
        };
        let mut book = FastBook::new(cfg);
        let mut sink = flowmatch_core::CountingSink::default();
        let ((), allocs) = allocations_in(|| {
            for c in &cmds {
                book.apply(c, &mut sink);
            }
        });
        assert_eq!(book.len(), N, "{name}: every order rests");
        assert!(
            allocs <= most,
            "{name}: {allocs} allocations adding {N} orders (at most {most})"
        );
    }
}

/// Past its capacity (1,000 orders, then 60,000 live: the index grows six times and
/// migrates while orders arrive, rest, trade and are cancelled), the fast book's events
/// are the reference book's, command for command.
#[test]
fn past_capacity_growth_matches_the_reference_book() {
    let cfg = BookConfig {
        capacity: 1_000,
        ..BookConfig::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let ids = random_ids(60_000, 9);
    let mut cmds = Vec::new();
    for (k, id) in ids.iter().enumerate() {
        let side = if rng.random_bool(0.5) {
            Side::Buy
        } else {
            Side::Sell
        };
        // Mostly resting, now and then crossing by one tick.
        let price = match side {
            Side::Buy => 9_990 + rng.random_range(0..11),
            Side::Sell => 10_000 + rng.random_range(0..11),
        };
        cmds.push(Command::New(NewOrder::limit(
            *id,
            (k % 9) as u32,
            side,
            price,
            rng.random_range(1..300),
        )));
        if k > 10 && rng.random_bool(0.2) {
            // Cancel an earlier id (live, filled, or cancelled already), or re-use one.
            let old = ids[rng.random_range(0..k)];
            cmds.push(Command::Cancel { id: old });
            if rng.random_bool(0.3) {
                cmds.push(Command::New(NewOrder::limit(old, 1, Side::Buy, 9_000, 10)));
            }
        }
    }
    let (mut fast, mut reference) = (FastBook::new(cfg), ReferenceBook::new(cfg));
    let (mut fast_events, mut reference_events): (Vec<Event>, Vec<Event>) =
        (Vec::new(), Vec::new());
    for (n, c) in cmds.iter().enumerate() {
        fast_events.clear();
        reference_events.clear();
        fast.apply(c, &mut fast_events);
        reference.apply(c, &mut reference_events);
        assert_eq!(fast_events, reference_events, "command {n}: {c:?}");
    }
    assert!(
        fast.len() > 20_000,
        "{} live: the index grew well past capacity",
        fast.len()
    );
    assert_eq!(fast.len(), reference.len());
}
