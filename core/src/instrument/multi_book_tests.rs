//! The multi-book's hand-checked cases: instruments kept apart, per-instrument specs,
//! unknown instruments, the memory bound, memory per instrument and the tiers.
use super::*;
use crate::book::FastBook;
use crate::command::NewOrder;
use crate::instrument::Symbol;
use crate::types::{CancelReason, ReplacePriority, Side, Tif};

fn table(n: usize) -> InstrumentTable {
    let mut t = InstrumentTable::new();
    for i in 0..n {
        t.push(InstrumentSpec::new(Symbol::new(&format!("S{i}")).unwrap()))
            .unwrap();
    }
    t
}

fn on(i: u32, cmd: Command) -> InstrumentCommand {
    InstrumentCommand {
        instrument: InstrumentId(i),
        cmd,
    }
}

fn ev(i: u32, event: Event) -> InstrumentEvent {
    InstrumentEvent {
        instrument: InstrumentId(i),
        event,
    }
}

/// Hand-checked: the same id lives in two instruments; each trades only in its own.
#[test]
fn same_id_in_two_instruments_stays_apart() {
    let mut m = MultiBook::<FastBook>::new(table(2), MultiBookConfig::default()).unwrap();
    let mut out = Vec::new();
    m.apply(
        &on(0, Command::New(NewOrder::limit(1, 1, Side::Sell, 100, 10))),
        &mut out,
    );
    m.apply(
        &on(1, Command::New(NewOrder::limit(1, 2, Side::Sell, 200, 10))),
        &mut out,
    );
    m.apply(
        &on(1, Command::New(NewOrder::limit(2, 3, Side::Buy, 150, 4))),
        &mut out,
    );
    m.apply(
        &on(0, Command::New(NewOrder::limit(2, 3, Side::Buy, 150, 4))),
        &mut out,
    );
    m.apply(&on(1, Command::Cancel { id: 1 }), &mut out);
    assert_eq!(
        out,
        vec![
            ev(0, Event::Ack { id: 1 }),
            ev(1, Event::Ack { id: 1 }),
            ev(1, Event::Ack { id: 2 }),
            ev(0, Event::Ack { id: 2 }),
            ev(
                0,
                Event::Trade {
                    taker: 2,
                    maker: 1,
                    price: 100,
                    qty: 4
                }
            ),
            ev(
                1,
                Event::Cancel {
                    id: 1,
                    qty: 10,
                    reason: CancelReason::User,
                    side: Side::Sell,
                    price: Some(200),
                }
            ),
        ]
    );
    assert_eq!(
        m.book(InstrumentId(0)).unwrap().order(1).unwrap().open_qty,
        6
    );
    assert_eq!(
        m.book(InstrumentId(1)).unwrap().order(2).unwrap().open_qty,
        4
    );
    assert_eq!(m.live_orders(), 2);
    assert_eq!(m.open_books(), 2);
}

/// Each instrument's replace priority mode, from its spec: the same stream in two
/// instruments, one keeping priority on a same-price reduce and one requeueing it. Hand
/// checked: in S0 order 1 keeps its place ahead of 2, so the sell trades with 1; in S1
/// order 1 went behind 2, so the sell trades with 2.
#[test]
fn replace_priority_comes_from_each_instrument() {
    let mut t = InstrumentTable::new();
    t.push(InstrumentSpec::new(Symbol::new("S0").unwrap()))
        .unwrap();
    t.push(InstrumentSpec {
        replace: ReplacePriority::AlwaysRequeue,
        ..InstrumentSpec::new(Symbol::new("S1").unwrap())
    })
    .unwrap();
    let mut m = MultiBook::<FastBook>::new(t, MultiBookConfig::default()).unwrap();
    let mut out = Vec::new();
    for i in 0..2 {
        for cmd in [
            Command::New(NewOrder::limit(1, 1, Side::Buy, 100, 5)),
            Command::New(NewOrder::limit(2, 2, Side::Buy, 100, 5)),
            Command::Replace {
                id: 1,
                price: 100,
                qty: 4,
            },
            Command::New(NewOrder::limit(3, 3, Side::Sell, 100, 4)),
        ] {
            m.apply(&on(i, cmd), &mut out);
        }
    }
    let trades: Vec<_> = out
        .iter()
        .filter_map(|e| match e.event {
            Event::Trade { maker, qty, .. } => Some((e.instrument.0, maker, qty)),
            _ => None,
        })
        .collect();
    assert_eq!(trades, vec![(0, 1, 4), (1, 2, 4)]);
}

#[test]
fn unknown_instrument_and_bookless_cancel() {
    let mut m = MultiBook::<FastBook>::new(table(2), MultiBookConfig::default()).unwrap();
    let mut out = Vec::new();
    m.apply(
        &on(2, Command::New(NewOrder::limit(7, 1, Side::Buy, 1, 1))),
        &mut out,
    );
    m.apply(&on(1, Command::Cancel { id: 7 }), &mut out);
    m.apply(
        &on(
            1,
            Command::Replace {
                id: 7,
                price: 1,
                qty: 1,
            },
        ),
        &mut out,
    );
    assert_eq!(
        out,
        vec![
            ev(
                2,
                Event::Reject {
                    id: 7,
                    reason: RejectReason::UnknownInstrument
                }
            ),
            ev(
                1,
                Event::Reject {
                    id: 7,
                    reason: RejectReason::UnknownId
                }
            ),
            ev(
                1,
                Event::Reject {
                    id: 7,
                    reason: RejectReason::UnknownId
                }
            ),
        ]
    );
    assert_eq!(
        m.open_books(),
        0,
        "no book for commands that cannot rest anything"
    );
}

#[test]
fn live_order_bound_rejects_and_lets_books_drain() {
    let cfg = MultiBookConfig {
        max_live_orders: 3,
        ..MultiBookConfig::default()
    };
    let mut m = MultiBook::<FastBook>::new(table(3), cfg).unwrap();
    let mut out = Vec::new();
    let new = |id, side, price| Command::New(NewOrder::limit(id, 1, side, price, 5));
    m.apply(&on(0, new(1, Side::Buy, 10)), &mut out);
    m.apply(&on(1, new(1, Side::Buy, 10)), &mut out);
    m.apply(&on(2, new(1, Side::Buy, 10)), &mut out);
    // Three resting: a fourth that could rest is refused, an IOC that trades is not.
    m.apply(&on(1, new(3, Side::Buy, 8)), &mut out);
    let ioc = NewOrder::limit(4, 2, Side::Sell, 10, 5).with_tif(Tif::Ioc);
    m.apply(&on(0, Command::New(ioc)), &mut out);
    // Now two rest; room again.
    m.apply(&on(1, new(3, Side::Buy, 8)), &mut out);
    let rejects: Vec<_> = out
        .iter()
        .filter_map(|e| match e.event {
            Event::Reject { id, reason } => Some((e.instrument.0, id, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(rejects, vec![(1, 3, RejectReason::CapacityExceeded)]);
    assert_eq!(m.live_orders(), 3);
    assert!(m.book(InstrumentId(1)).unwrap().order(3).is_some());
    assert!(m.book(InstrumentId(0)).is_none(), "an emptied book is gone");
    let bad = MultiBookConfig {
        max_books: 0,
        ..MultiBookConfig::default()
    };
    assert_eq!(
        MultiBook::<FastBook>::new(table(1), bad)
            .err()
            .unwrap()
            .field,
        "max_books"
    );
    // A cold book's record holds 16 orders: a limit of 0 or 17 is refused.
    for cold_orders in [0, COLD_ORDERS + 1] {
        let bad = MultiBookConfig {
            cold_orders,
            ..MultiBookConfig::default()
        };
        let err = MultiBook::<FastBook>::new(table(1), bad).err().unwrap();
        assert_eq!(err.field, "cold_orders");
    }
}

/// Hand-checked tiers (`cold_orders: 8`): eight orders stay cold; a ninth promotes to a full book keeping
/// every order's priority; with `max_books: 1` a second instrument's ninth is refused
/// (its eight cold orders untouched) until the first drains, is demoted and its book
/// pooled, which the second then reuses.
#[test]
fn promotion_keeps_priority_and_full_books_are_bounded_and_pooled() {
    let cfg = MultiBookConfig {
        max_books: 1,
        cold_orders: 8,
        ..MultiBookConfig::default()
    };
    let mut m = MultiBook::<FastBook>::new(table(2), cfg).unwrap();
    let mut out = Vec::new();
    // Bids at 10 (ids 1..=4, in time order) and 9 (ids 5..=8).
    let bid = |id: u64| {
        Command::New(NewOrder::limit(
            id,
            1,
            Side::Buy,
            10 - (id as i64 - 1) / 4,
            5,
        ))
    };
    for i in 0..2 {
        for id in 1..=8 {
            m.apply(&on(i, bid(id)), &mut out);
        }
        assert!(!m.book(InstrumentId(i)).unwrap().is_full_book());
    }
    m.apply(&on(0, bid(9)), &mut out);
    assert!(m.book(InstrumentId(0)).unwrap().is_full_book());
    assert_eq!(m.tier_moves().promotions, 1);
    out.clear();
    m.apply(&on(1, bid(9)), &mut out);
    assert_eq!(
        out,
        vec![ev(
            1,
            Event::Reject {
                id: 9,
                reason: RejectReason::CapacityExceeded
            }
        )]
    );
    assert_eq!(m.book(InstrumentId(1)).unwrap().len(), 8);
    // A sell for 12 at 9 on instrument 0: time priority at 10 is 1, 2, 3 (2 of 5).
    out.clear();
    m.apply(
        &on(0, Command::New(NewOrder::limit(20, 2, Side::Sell, 9, 12))),
        &mut out,
    );
    let makers: Vec<_> = out
        .iter()
        .filter_map(|e| match e.event {
            Event::Trade { maker, qty, .. } => Some((maker, qty)),
            _ => None,
        })
        .collect();
    assert_eq!(makers, vec![(1, 5), (2, 5), (3, 2)]);
    for id in 3..=9 {
        m.apply(&on(0, Command::Cancel { id }), &mut out);
    }
    assert!(m.book(InstrumentId(0)).is_none());
    assert_eq!(m.tier_moves().demotions, 1);
    m.apply(&on(1, bid(9)), &mut out);
    assert!(m.book(InstrumentId(1)).unwrap().is_full_book());
    assert_eq!(m.full_books(), 1, "the pooled book was reused");
    assert_eq!(m.live_orders(), 9);
}

/// The default cold book holds `COLD_ORDERS` (16) orders: the sixteenth rests cold, the
/// seventeenth promotes, every order keeping its place (bids at 100 down to 84, one each).
#[test]
fn default_cold_book_holds_sixteen() {
    let mut m = MultiBook::<FastBook>::new(table(1), MultiBookConfig::default()).unwrap();
    let mut out = Vec::new();
    let bid = |id: u64| Command::New(NewOrder::limit(id, 1, Side::Buy, 101 - id as i64, 5));
    for id in 1..=16 {
        m.apply(&on(0, bid(id)), &mut out);
    }
    assert!(!m.book(InstrumentId(0)).unwrap().is_full_book());
    assert_eq!(m.tier_moves().promotions, 0);
    m.apply(&on(0, bid(17)), &mut out);
    let book = m.book(InstrumentId(0)).unwrap();
    assert!(book.is_full_book());
    assert_eq!(m.tier_moves().promotions, 1);
    let ids: Vec<_> = book.snapshot().iter().map(|o| o.id).collect();
    assert_eq!(ids, (1..=17).collect::<Vec<_>>());
    assert_eq!(out.len(), 17, "one ack each, nothing else");
}

/// Untouched instruments cost a few hundred bytes at most (334 at this writing: the spec
/// carries its `MatchPolicy` by value, 112 bytes since the CME family's parameters live in
/// it; interning the table's distinct policies would take most of that back); a small book
/// is far below the single book's default footprint.
#[test]
fn memory_scales_with_activity() {
    let n = 10_000;
    let mut m = MultiBook::<FastBook>::new(table(n), MultiBookConfig::default()).unwrap();
    let empty = m.memory_bytes();
    assert!(
        empty / n <= 400,
        "{} bytes per untouched instrument",
        empty / n
    );
    let mut out = Vec::new();
    m.apply(
        &on(5, Command::New(NewOrder::limit(1, 1, Side::Buy, 10, 5))),
        &mut out,
    );
    let one_book = m.memory_bytes() - empty;
    let default_book = FastBook::new(BookConfig::default()).memory_bytes();
    assert!(
        one_book > 0 && one_book * 20 < default_book,
        "{one_book} vs {default_book}"
    );
}

/// Hand-checked, in the cold tier: a replace that changes nothing keeps priority (the
/// first sell trades with 1, not 2); then 2 and 4 rest at 10, 4 grows to 6 (requeued,
/// still last), and two sells of 5 fill 2 and then 5 of 4's 6. The book stays cold.
#[test]
fn cold_replace_priority_by_hand() {
    let mut m = MultiBook::<FastBook>::new(table(1), MultiBookConfig::default()).unwrap();
    let mut out = Vec::new();
    let sell = |id| Command::New(NewOrder::limit(id, 2, Side::Sell, 10, 5));
    for cmd in [
        Command::New(NewOrder::limit(1, 1, Side::Buy, 10, 5)),
        Command::New(NewOrder::limit(2, 1, Side::Buy, 10, 5)),
        Command::Replace {
            id: 1,
            price: 10,
            qty: 5,
        },
        sell(3),
        Command::New(NewOrder::limit(4, 1, Side::Buy, 10, 5)),
        Command::Replace {
            id: 4,
            price: 10,
            qty: 6,
        },
        sell(5),
        sell(6),
    ] {
        m.apply(&on(0, cmd), &mut out);
    }
    let makers: Vec<_> = out
        .iter()
        .filter_map(|e| match e.event {
            Event::Trade { maker, .. } => Some(maker),
            _ => None,
        })
        .collect();
    assert_eq!(makers, vec![1, 2, 4]);
    assert!(!m.book(InstrumentId(0)).unwrap().is_full_book());
    assert_eq!(
        m.book(InstrumentId(0)).unwrap().order(4).unwrap().open_qty,
        1
    );
}

/// Hand-checked hysteresis, `keep_busy: 4`, `max_books: 1`, `cold_orders: 8`: instrument 0's full book
/// empties after eight commands, so it stays (empty, no demotion) and refills without a
/// promotion; it empties again, and instrument 1's promotion at the bound reclaims it
/// (one demotion), whereupon instrument 0 has no book. Whatever the tier, the events are
/// the single book's: the refill acks, the reclaiming promotion's order acks.
#[test]
fn busy_full_book_stays_until_a_promotion_needs_it() {
    let cfg = MultiBookConfig {
        max_books: 1,
        keep_busy: 4,
        cold_orders: 8,
        ..MultiBookConfig::default()
    };
    let mut m = MultiBook::<FastBook>::new(table(2), cfg).unwrap();
    let mut out = Vec::new();
    let bid = |id: u64| Command::New(NewOrder::limit(id, 1, Side::Buy, 10, 5));
    for id in 1..=9 {
        m.apply(&on(0, bid(id)), &mut out);
    }
    for id in 1..=8 {
        m.apply(&on(1, bid(id)), &mut out);
    }
    assert_eq!(m.tier_moves().promotions, 1);
    for id in 1..=9 {
        m.apply(&on(0, Command::Cancel { id }), &mut out);
    }
    let kept = m.book(InstrumentId(0)).expect("kept");
    assert!(kept.is_full_book() && kept.is_empty());
    assert_eq!(m.tier_moves().demotions, 0);
    assert_eq!((m.live_orders(), m.open_books()), (8, 2));
    // Refill: straight into the kept book.
    out.clear();
    m.apply(&on(0, bid(10)), &mut out);
    assert_eq!(out, vec![ev(0, Event::Ack { id: 10 })]);
    assert!(m.book(InstrumentId(0)).unwrap().is_full_book());
    assert_eq!(m.tier_moves().promotions, 1);
    m.apply(&on(0, Command::Cancel { id: 10 }), &mut out);
    // Instrument 1's ninth order needs the one book: it is reclaimed.
    out.clear();
    m.apply(&on(1, bid(9)), &mut out);
    assert_eq!(out, vec![ev(1, Event::Ack { id: 9 })]);
    assert!(m.book(InstrumentId(0)).is_none());
    assert!(m.book(InstrumentId(1)).unwrap().is_full_book());
    assert_eq!(m.book(InstrumentId(1)).unwrap().len(), 9);
    let moves = m.tier_moves();
    assert_eq!((moves.promotions, moves.demotions), (2, 1));
    assert_eq!((m.full_books(), m.open_books()), (1, 1));
    // A kept book that refilled cannot be reclaimed: instrument 0's next ninth is refused
    // while instrument 1's book holds orders.
    for id in 1..=8 {
        m.apply(&on(0, bid(id)), &mut out);
    }
    out.clear();
    m.apply(&on(0, bid(9)), &mut out);
    assert_eq!(
        out,
        vec![ev(
            0,
            Event::Reject {
                id: 9,
                reason: RejectReason::CapacityExceeded
            }
        )]
    );
}
