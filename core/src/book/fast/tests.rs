//! Tests of the fast book's own mechanics (lazy levels, the level cache, early-stopping
//! walks, `clear`), each against a hand-worked expectation or the reference book.

use super::FastBook;
use crate::book::reference::ReferenceBook;
use crate::book::{OrderBook, RestingOrder};
use crate::command::{Command, Event, NewOrder};
use crate::types::{BookConfig, MatchPolicy, Side, Stp, Tif};

/// Drives one book's `for_each_order_of` with a visitor (the tests compare two books).
type SideWalk<'a> = &'a dyn Fn(&mut dyn FnMut(&RestingOrder) -> bool);
/// Drives one book's `for_each_order` with a visitor.
type BookWalk<'a> = &'a dyn Fn(&mut dyn FnMut(&RestingOrder));

fn run(book: &mut FastBook, cmds: &[Command]) -> Vec<Event> {
    let mut ev = Vec::new();
    for c in cmds {
        book.apply(c, &mut ev);
    }
    ev
}

/// The worked example of issue 2, checked by hand.
#[test]
fn issue_example() {
    let mut b = FastBook::new(BookConfig::default());
    let ev = run(
        &mut b,
        &[
            Command::New(NewOrder::limit(1, 1, Side::Sell, 100, 5)),
            Command::New(NewOrder::limit(2, 1, Side::Sell, 101, 5)),
            Command::New(NewOrder::limit(3, 2, Side::Buy, 101, 8).with_tif(Tif::Ioc)),
        ],
    );
    assert_eq!(
        ev,
        vec![
            Event::Ack { id: 1 },
            Event::Ack { id: 2 },
            Event::Ack { id: 3 },
            Event::Trade {
                taker: 3,
                maker: 1,
                price: 100,
                qty: 5
            },
            Event::Trade {
                taker: 3,
                maker: 2,
                price: 101,
                qty: 3
            },
        ]
    );
    assert_eq!(
        b.snapshot(),
        vec![RestingOrder {
            side: Side::Sell,
            price: 101,
            id: 2,
            account: 1,
            open_qty: 2,
            tif: Tif::Gtc,
            stp: Stp::None,
        }]
    );
    assert_eq!(b.best_ask(), Some(101));
    assert_eq!(b.best_bid(), None);
}

/// Both books report a resting order's time in force and STP mode as entered, and keep
/// them when a replace re-queues the order (journal snapshots take them from here).
#[test]
fn resting_orders_report_their_time_in_force_and_stp_mode() {
    fn modes(b: &impl OrderBook) -> Vec<(u64, Tif, Stp)> {
        let mut v = Vec::new();
        b.for_each_order(&mut |o| v.push((o.id, o.tif, o.stp)));
        v
    }
    let mut o = NewOrder::limit(1, 7, Side::Buy, 100, 5);
    o.tif = Tif::Post;
    o.stp = Stp::CancelTaker;
    let mut p = NewOrder::limit(2, 8, Side::Sell, 105, 5);
    p.stp = Stp::DecrementCancel;
    let cmds = [
        Command::New(o),
        Command::New(p),
        Command::Replace {
            id: 1,
            price: 101,
            qty: 9,
        },
    ];
    let want = vec![
        (1, Tif::Post, Stp::CancelTaker),
        (2, Tif::Gtc, Stp::DecrementCancel),
    ];
    let mut fast = FastBook::new(BookConfig::default());
    let mut reference = ReferenceBook::new(BookConfig::default());
    let mut sink = Vec::new();
    for c in &cmds {
        fast.apply(c, &mut sink);
        reference.apply(c, &mut sink);
    }
    assert_eq!(modes(&fast), want);
    assert_eq!(modes(&reference), want);
    assert_eq!(
        fast.order(1).map(|r| (r.tif, r.stp)),
        Some((Tif::Post, Stp::CancelTaker))
    );
}

/// Lazily-emptied levels: cancelling a deep level leaves it in the ladder, a new order
/// at that price revives it, and a sweep of many emptied levels keeps the dump exact.
#[test]
fn lazy_levels_revive_and_sweep() {
    let mut b = FastBook::new(BookConfig::default());
    let mut ev = Vec::new();
    for i in 0..200u64 {
        b.apply(
            &Command::New(NewOrder::limit(i + 1, 1, Side::Buy, 1000 - i as i64, 10)),
            &mut ev,
        );
    }
    // Cancel every level except the best and the worst: all lazily emptied or swept.
    for i in 1..199u64 {
        b.apply(&Command::Cancel { id: i + 1 }, &mut ev);
    }
    assert_eq!(b.len(), 2);
    let mut levels = Vec::new();
    b.for_each_level(Side::Buy, &mut |l| levels.push(l.price));
    assert_eq!(levels, vec![1000, 801]);
    b.apply(
        &Command::New(NewOrder::limit(500, 2, Side::Buy, 900, 7)),
        &mut ev,
    );
    levels.clear();
    b.for_each_level(Side::Buy, &mut |l| levels.push(l.price));
    assert_eq!(levels, vec![1000, 900, 801]);
    // Cancel the best: the best must become 900, not a phantom emptied level.
    b.apply(&Command::Cancel { id: 1 }, &mut ev);
    assert_eq!(b.best_bid(), Some(900));
}

/// The early-stopping walk of one side against the trait's default (a filter over the
/// reference book's full dump), on random books with lazily emptied levels, stopping
/// after 0, 1, a few and all orders.
#[test]
fn walk_of_one_side_stops_where_asked() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut fast = FastBook::new(BookConfig::default());
    let mut reference = ReferenceBook::new(BookConfig::default());
    let mut sink = crate::command::CountingSink::default();
    for id in 1..=3_000u64 {
        let cmd = if id > 10 && rng.random_bool(0.4) {
            Command::Cancel {
                id: rng.random_range(1..id),
            }
        } else {
            let side = if rng.random_bool(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            let price = 1_000 + rng.random_range(-60..60i64);
            Command::New(NewOrder::limit(id, 1, side, price, rng.random_range(1..50)))
        };
        fast.apply(&cmd, &mut sink);
        reference.apply(&cmd, &mut sink);
        if id % 250 != 0 {
            continue;
        }
        for side in [Side::Buy, Side::Sell] {
            for stop_after in [0usize, 1, 7, usize::MAX] {
                // Returns the orders seen and how many calls came after `false`.
                let walk = |each: SideWalk| {
                    let (mut seen, mut stopped, mut after_stop) = (Vec::new(), false, 0);
                    each(&mut |o| {
                        if stopped {
                            after_stop += 1;
                            return false;
                        }
                        if seen.len() == stop_after {
                            stopped = true;
                            return false;
                        }
                        seen.push(*o);
                        true
                    });
                    (seen, after_stop)
                };
                let (f, fast_after_stop) = walk(&|g| fast.for_each_order_of(side, g));
                let (r, _) = walk(&|g| reference.for_each_order_of(side, g));
                assert_eq!(f, r, "side {side:?}, stop after {stop_after}, at {id}");
                assert_eq!(fast_after_stop, 0, "the fast walk went on after `false`");
                if stop_after == usize::MAX {
                    assert!(!f.is_empty());
                }
            }
        }
    }
}

/// The level cache must never hand back a level that was freed, recycled for another
/// price in the same cache entry (prices 256 apart, negative ones included), or that
/// belongs to the other side. Checked against the reference book's dump after every
/// command of a stream built to do exactly that.
#[test]
fn level_cache_never_returns_a_stale_level() {
    let mut fast = FastBook::new(BookConfig::default());
    let mut reference = ReferenceBook::new(BookConfig::default());
    let prices = [100i64, 356, -156, 612, 100 - 512, 0, 256, -256];
    let mut cmds = Vec::new();
    let mut id = 0u64;
    for round in 0..6 {
        for (k, &p) in prices.iter().enumerate() {
            id += 1;
            // Alternate sides so a price's cache entry is also seen by the other side.
            let side = if (k + round) % 2 == 0 {
                Side::Buy
            } else {
                Side::Sell
            };
            // Keep bids below asks: bids at p - 10_000, asks at p + 10_000.
            let px = if side == Side::Buy {
                p - 10_000
            } else {
                p + 10_000
            };
            cmds.push(Command::New(NewOrder::limit(id, 1, side, px, 5)));
            // Cancel every other order at once: its level empties and is freed or
            // left lazily empty, and the next price in the same entry may recycle it.
            if (id + round as u64).is_multiple_of(2) {
                cmds.push(Command::Cancel { id });
            }
        }
    }
    let dump = |b: BookWalk| {
        let mut v = Vec::new();
        b(&mut |o| v.push((o.side, o.price, o.id, o.open_qty)));
        v
    };
    for (i, c) in cmds.iter().enumerate() {
        let (mut ef, mut er) = (Vec::new(), Vec::new());
        fast.apply(c, &mut ef);
        reference.apply(c, &mut er);
        assert_eq!(ef, er, "events at command {i}");
        assert_eq!(
            dump(&|f| fast.for_each_order(f)),
            dump(&|f| reference.for_each_order(f)),
            "book after command {i}"
        );
    }
    assert!(fast.len() > 10);
}

/// `clear` leaves a book that behaves exactly like a new one: after filling a book with
/// resting orders, lazily emptied levels, a grown slab and an id index full of entries,
/// then clearing it, the same stream gives the same events and book as a fresh reference
/// book, and no order or level of before survives.
#[test]
fn clear_is_a_fresh_book() {
    use rand::{Rng, SeedableRng};
    for policy in [
        MatchPolicy::PriceTime,
        MatchPolicy::ProRata { top_order: false },
    ] {
        let cfg = BookConfig {
            capacity: 16, // small, so the first stream grows the slabs
            policy,
            ..BookConfig::default()
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut stream = |n: u64| -> Vec<Command> {
            (1..=n)
                .map(|id| {
                    if id > 5 && rng.random_bool(0.3) {
                        Command::Cancel {
                            id: rng.random_range(1..id),
                        }
                    } else {
                        let side = if rng.random_bool(0.5) {
                            Side::Buy
                        } else {
                            Side::Sell
                        };
                        let price = 1_000 + rng.random_range(-40..40i64);
                        Command::New(NewOrder::limit(id, 1, side, price, rng.random_range(1..9)))
                    }
                })
                .collect()
        };
        let (before, after) = (stream(400), stream(400));
        let mut fast = FastBook::new(cfg);
        run(&mut fast, &before);
        assert!(fast.len() > 16, "the first stream outgrew the capacity");
        fast.clear();
        assert_eq!((fast.len(), fast.is_empty()), (0, true));
        assert_eq!((fast.best_bid(), fast.best_ask()), (None, None));
        assert!(fast.snapshot().is_empty());
        for side in [Side::Buy, Side::Sell] {
            fast.for_each_level(side, &mut |l| panic!("level {} survived clear", l.price));
        }
        for id in 1..=400 {
            assert_eq!(fast.order(id), None, "order {id} survived clear");
        }
        let mut reference = ReferenceBook::new(cfg);
        for (i, c) in after.iter().enumerate() {
            let (mut ef, mut er) = (Vec::new(), Vec::new());
            fast.apply(c, &mut ef);
            reference.apply(c, &mut er);
            assert_eq!(ef, er, "{policy:?} command {i} after clear");
        }
        assert_eq!(fast.snapshot(), reference.snapshot());
        assert!(!fast.is_empty());
    }
}
