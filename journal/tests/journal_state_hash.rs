//! The state hash against independent oracles: digests of hand-built books computed
//! outside Rust (the canonical bytes written by a short Python `struct.pack` script and
//! hashed with coreutils `sha256sum`, see each constant); equality between the fast book
//! and the reference book (independent implementations) after the same seeded streams;
//! and a different digest after any one-field change.

use flowmatch_core::{
    BookConfig, Command, FastBook, MatchPolicy, NewOrder, OrdType, OrderBook, ReferenceBook, Side,
    Stp, Tif,
};
use flowmatch_journal::{state_hash, StateHasher};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `python3 -c "import sys; sys.stdout.buffer.write(b'FMSTATE1'+bytes(12))" | sha256sum`
const EMPTY: &str = "081360a3f1080bfe2dd7de487c38a46ff79d023219464b0d27433bc53d73ddf7";
/// The canonical stream of [`small_book`], packed with `struct.pack('<IQ', 0, 4)` and per
/// order `struct.pack('<BqQIQ', side, price, id, account, qty)` for (0,100,1,7,5),
/// (0,100,2,8,3), (0,99,3,7,1), (1,101,4,9,2), piped to `sha256sum`.
const SMALL: &str = "63fb9a7e71a3cf39de5d2df41de44796a05844afddd13ca347a34a406c6eff58";

fn limit(id: u64, account: u32, side: Side, price: i64, qty: u64) -> Command {
    Command::New(NewOrder::limit(id, account, side, price, qty))
}

fn apply_all(book: &mut impl OrderBook, cmds: &[Command]) {
    let mut sink = Vec::new();
    for c in cmds {
        book.apply(c, &mut sink);
    }
}

/// Bids 100 (id 1 then id 2, same level), 99; ask 101.
fn small_book() -> Vec<Command> {
    vec![
        limit(1, 7, Side::Buy, 100, 5),
        limit(3, 7, Side::Buy, 99, 1),
        limit(4, 9, Side::Sell, 101, 2),
        limit(2, 8, Side::Buy, 100, 3),
    ]
}

#[test]
fn digests_match_ones_computed_outside_rust() {
    let fast = FastBook::new(BookConfig::default());
    assert_eq!(state_hash(&fast).to_string(), EMPTY);
    let mut fast = FastBook::new(BookConfig::default());
    let mut reference = ReferenceBook::new(BookConfig::default());
    apply_all(&mut fast, &small_book());
    apply_all(&mut reference, &small_book());
    assert_eq!(state_hash(&fast).to_string(), SMALL);
    assert_eq!(state_hash(&reference).to_string(), SMALL);
    // Reached another way (an order that traded down to its open quantity, one cancelled):
    // the same resting orders, the same hash.
    let mut other = FastBook::new(BookConfig::default());
    apply_all(
        &mut other,
        &[
            limit(1, 7, Side::Buy, 100, 6),
            limit(3, 7, Side::Buy, 99, 1),
            limit(50, 1, Side::Sell, 100, 1),
            limit(4, 9, Side::Sell, 101, 2),
            limit(60, 1, Side::Buy, 98, 1),
            Command::Cancel { id: 60 },
            limit(2, 8, Side::Buy, 100, 3),
        ],
    );
    assert_eq!(state_hash(&other).to_string(), SMALL);
}

/// [`small_book`] with two midpoint pegs resting (its touch 100/101 has an odd sum, so no
/// midpoint: they rest untouched), packed as [`SMALL`] but with the order count `4 | 1 <<
/// 61` (pegs follow), then `struct.pack('<Q', 2)` and per peg, in arrival order, its
/// tag-1 journal payload `struct.pack('<BQIBBBBBqQ', 1, id, account, side, 6, 0, stp,
/// price_present, price, qty)`: (1,20,5,1,6,0,3,1,102,3) then (1,21,6,0,6,0,0,0,0,2),
/// piped to `sha256sum`.
const SMALL_WITH_PEGS: &str = "ed87a53afab53596bb3a80085a226f68d6a10cf3727827bc0a6e38a82acbd118";

fn peg(id: u64, account: u32, side: Side, cap: Option<i64>, qty: u64, stp: Stp) -> Command {
    Command::New(NewOrder {
        ord_type: OrdType::MidPeg,
        price: cap,
        stp,
        ..NewOrder::limit(id, account, side, 0, qty)
    })
}

/// A sell peg (cap 102, STP cancel-both) and then a buy peg (no cap): the sell arrived
/// first, which decides the taker when they cross, so the order is across both sides.
fn two_pegs() -> Vec<Command> {
    vec![
        peg(20, 5, Side::Sell, Some(102), 3, Stp::CancelBoth),
        peg(21, 6, Side::Buy, None, 2, Stp::None),
    ]
}

/// Resting pegs are part of the state, in every form of section: the single book's hash
/// matches the one computed outside Rust in both books; the arrival order across the sides,
/// a peg's quantity or cap, or the peg itself changes it; a section given as lists
/// (`add_section`, as the instrument journal and the cluster hash) gives the same digest,
/// and with its pegs left out another; and cancelling them gives the peg-free digest back.
#[test]
fn resting_pegs_are_hashed_in_arrival_order_in_every_section() {
    fn hash_both(cmds: &[Command]) -> String {
        let mut f = FastBook::new(BookConfig::default());
        let mut r = ReferenceBook::new(BookConfig::default());
        apply_all(&mut f, cmds);
        apply_all(&mut r, cmds);
        assert_eq!((f.len(), f.pegs()), (4, r.pegs()));
        assert_eq!(state_hash(&f), state_hash(&r));
        state_hash(&f).to_string()
    }
    let cmds = [small_book(), two_pegs()].concat();
    assert_eq!(hash_both(&cmds), SMALL_WITH_PEGS);
    let with = |i: usize, c: Command| {
        let mut v = cmds.clone();
        v[i] = c;
        v
    };
    let mut swapped = cmds.clone();
    swapped.swap(4, 5);
    let variants = [
        ("arrival order across sides", swapped),
        (
            "quantity",
            with(5, peg(21, 6, Side::Buy, None, 1, Stp::None)),
        ),
        (
            "cap",
            with(4, peg(20, 5, Side::Sell, Some(103), 3, Stp::CancelBoth)),
        ),
        (
            "cap present",
            with(5, peg(21, 6, Side::Buy, Some(100), 2, Stp::None)),
        ),
        (
            "STP mode",
            with(4, peg(20, 5, Side::Sell, Some(102), 3, Stp::None)),
        ),
        ("one peg fewer", cmds[..5].to_vec()),
    ];
    let mut all = std::collections::HashSet::from([SMALL_WITH_PEGS.to_string(), SMALL.into()]);
    for (what, v) in &variants {
        assert!(all.insert(hash_both(v)), "{what} changes nothing");
    }
    let mut gone = cmds.clone();
    gone.extend([Command::Cancel { id: 20 }, Command::Cancel { id: 21 }]);
    assert_eq!(hash_both(&gone), SMALL);

    // The same book as lists, as a multi-book's section is hashed.
    let mut b = FastBook::new(BookConfig::default());
    apply_all(&mut b, &cmds);
    let orders = b.snapshot();
    let pegs = flowmatch_journal::state_hash::pegs_of(&b);
    let section = |pegs: &[flowmatch_core::RestingPeg]| {
        let mut h = StateHasher::new();
        h.add_section(
            0,
            orders.len(),
            |f| orders.iter().for_each(f),
            0,
            |_| {},
            flowmatch_journal::state_hash::Hidden {
                icebergs: &[],
                pegs,
            },
        );
        h.finish().to_string()
    };
    assert_eq!(section(&pegs), SMALL_WITH_PEGS);
    assert_eq!(section(&[]), SMALL);
    assert_ne!(section(&pegs[..1]), section(&pegs));
}

/// [`small_book`] with two stops pending, packed as [`SMALL`] but with the order count
/// `4 | 1 << 63` (stops follow), then `struct.pack('<Q', 2)` and per stop its journal
/// payload `struct.pack('<BQIBBBBBqQq', 4, id, account, side, type, tif, stp,
/// price_present, price, qty, trigger)`: (4,10,2,0,3,1,0,0,0,5,102) then
/// (4,11,3,1,4,0,3,1,97,4,98), piped to `sha256sum`.
const SMALL_WITH_STOPS: &str = "3cb49a741dcce43116ceb6b31f529a9ce50bd7eb7d6ccd4ee2f192cf6500420e";

/// A buy stop (trigger 102, IOC, market 5) and a sell stop-limit (trigger 98, limit 97,
/// GTC, STP cancel-both), in that arrival order.
fn two_stops() -> Vec<Command> {
    vec![
        Command::New(NewOrder {
            ord_type: OrdType::Stop { trigger: 102 },
            price: None,
            tif: Tif::Ioc,
            ..NewOrder::limit(10, 2, Side::Buy, 0, 5)
        }),
        Command::New(NewOrder {
            ord_type: OrdType::StopLimit { trigger: 98 },
            stp: Stp::CancelBoth,
            ..NewOrder::limit(11, 3, Side::Sell, 97, 4)
        }),
    ]
}

/// Pending stops are part of the state: the hash of a book holding them matches the one
/// computed outside Rust in both books, differs from the same resting orders without
/// them, and leaving again (a cancel) gives the stop-free digest back exactly.
#[test]
fn pending_stops_are_hashed_after_the_orders_and_absent_ones_change_nothing() {
    for with_fast in [true, false] {
        let cmds = [small_book(), two_stops()].concat();
        let hash = |cmds: &[Command]| {
            if with_fast {
                let mut b = FastBook::new(BookConfig::default());
                apply_all(&mut b, cmds);
                assert_eq!(b.len(), 4);
                state_hash(&b).to_string()
            } else {
                let mut b = ReferenceBook::new(BookConfig::default());
                apply_all(&mut b, cmds);
                assert_eq!(b.len(), 4);
                state_hash(&b).to_string()
            }
        };
        assert_eq!(hash(&cmds), SMALL_WITH_STOPS, "fast: {with_fast}");
        let mut swapped = [small_book(), two_stops()].concat();
        swapped.swap(4, 5);
        assert_ne!(hash(&swapped), SMALL_WITH_STOPS, "arrival order is state");
        let mut gone = cmds.clone();
        gone.extend([Command::Cancel { id: 10 }, Command::Cancel { id: 11 }]);
        assert_eq!(hash(&gone), SMALL, "fast: {with_fast}");
    }
}

fn stream(seed: u64, n: usize) -> Vec<Command> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut next_id = 1u64;
    (0..n)
        .map(|_| {
            let live = next_id.saturating_sub(1).max(1);
            match rng.random_range(0..20) {
                0..=14 => {
                    let id = next_id;
                    next_id += 1;
                    let side = if rng.random_bool(0.5) {
                        Side::Buy
                    } else {
                        Side::Sell
                    };
                    let o = NewOrder::limit(
                        id,
                        rng.random_range(1..4),
                        side,
                        // Bids mostly below asks: some crossing, and a book that grows.
                        match side {
                            Side::Buy => rng.random_range(90..102),
                            Side::Sell => rng.random_range(99..111),
                        },
                        rng.random_range(1..20),
                    );
                    let tif =
                        [Tif::Gtc, Tif::Gtc, Tif::Ioc, Tif::Fok, Tif::Post][rng.random_range(0..5)];
                    let stp = [
                        Stp::None,
                        Stp::CancelTaker,
                        Stp::CancelMaker,
                        Stp::CancelBoth,
                        Stp::DecrementCancel,
                    ][rng.random_range(0..5)];
                    Command::New(o.with_tif(tif).with_stp(stp))
                }
                15 => {
                    let id = next_id;
                    next_id += 1;
                    let side = if rng.random_bool(0.5) {
                        Side::Buy
                    } else {
                        Side::Sell
                    };
                    Command::New(NewOrder::market(
                        id,
                        rng.random_range(1..4),
                        side,
                        rng.random_range(1..30),
                    ))
                }
                16 | 17 => Command::Cancel {
                    id: rng.random_range(1..=live),
                },
                _ => Command::Replace {
                    id: rng.random_range(1..=live),
                    price: rng.random_range(95..106),
                    qty: rng.random_range(1..20),
                },
            }
        })
        .collect()
}

#[test]
fn the_fast_and_the_reference_book_hash_alike_after_the_same_stream() {
    for (seed, policy) in [
        (1, MatchPolicy::PriceTime),
        (2, MatchPolicy::PriceTime),
        (3, MatchPolicy::ProRata { top_order: false }),
        (4, MatchPolicy::ProRata { top_order: true }),
    ] {
        let cfg = BookConfig {
            policy,
            ..BookConfig::default()
        };
        let mut fast = FastBook::new(cfg);
        let mut reference = ReferenceBook::new(cfg);
        let mut seen = std::collections::HashSet::new();
        let (mut ev_fast, mut ev_ref) = (Vec::new(), Vec::new());
        for (i, c) in stream(seed, 5000).iter().enumerate() {
            fast.apply(c, &mut ev_fast);
            reference.apply(c, &mut ev_ref);
            if i % 50 == 0 {
                assert_eq!(
                    fast.snapshot(),
                    reference.snapshot(),
                    "the books agree (seed {seed}, command {i})"
                );
                let h = state_hash(&fast);
                assert_eq!(h, state_hash(&reference), "seed {seed}, command {i}");
                seen.insert(h);
            }
        }
        assert!(fast.len() > 10, "the stream leaves a book");
        assert!(
            seen.len() > 50,
            "the hash follows the state: {} distinct",
            seen.len()
        );
    }
}

#[test]
fn any_one_field_changed_changes_the_hash() {
    let base = small_book();
    let h = |cmds: &[Command]| {
        let mut b = FastBook::new(BookConfig::default());
        apply_all(&mut b, cmds);
        state_hash(&b)
    };
    let base_hash = h(&base);
    let mut variants: Vec<(&str, Vec<Command>)> = Vec::new();
    let with = |i: usize, c: Command| {
        let mut v = base.clone();
        v[i] = c;
        v
    };
    variants.push(("price", with(1, limit(3, 7, Side::Buy, 98, 1))));
    variants.push(("open qty", with(1, limit(3, 7, Side::Buy, 99, 2))));
    variants.push(("id", with(1, limit(5, 7, Side::Buy, 99, 1))));
    variants.push(("account", with(1, limit(3, 6, Side::Buy, 99, 1))));
    variants.push(("side", with(2, limit(4, 9, Side::Buy, 101, 2))));
    variants.push(("time priority", {
        let mut v = base.clone();
        v.swap(0, 3);
        v
    }));
    variants.push(("one order fewer", base[..3].to_vec()));
    variants.push((
        "price extreme",
        with(2, limit(4, 9, Side::Sell, i64::MAX, 2)),
    ));
    variants.push(("qty extreme", {
        let mut v = base.clone();
        v[2] = limit(4, 9, Side::Sell, 101, u64::MAX);
        v
    }));
    let mut all = std::collections::HashSet::new();
    all.insert(base_hash);
    for (what, v) in &variants {
        let vh = h(v);
        assert_ne!(vh, base_hash, "{what}");
        assert!(all.insert(vh), "{what} collides with another variant");
    }
    // A side change alone, with nothing on the other side to trade: bid 100 against ask 100.
    assert_ne!(
        h(&[limit(1, 1, Side::Buy, 100, 1)]),
        h(&[limit(1, 1, Side::Sell, 100, 1)])
    );

    // Sections: the key, and which book holds an order, both count.
    let mut a = FastBook::new(BookConfig::default());
    apply_all(&mut a, &base);
    let empty = FastBook::new(BookConfig::default());
    let two = |k1: u32, b1: &FastBook, k2: u32, b2: &FastBook| {
        let mut s = StateHasher::new();
        s.add_book(k1, b1).add_book(k2, b2);
        s.finish()
    };
    assert_ne!(two(0, &a, 1, &empty), two(0, &empty, 1, &a));
    assert_ne!(two(0, &a, 1, &empty), two(0, &a, 2, &empty));
    let mut one = StateHasher::new();
    one.add_book(0, &a);
    assert_eq!(one.finish(), base_hash);
}
