//! The fast book allocates nothing on the heap once warmed up while stops and stop-limits
//! are pending and triggering (`docs/SEMANTICS.md`, "Stop orders"): rounds that rest a
//! ladder, add four stops that trades will reach and one far stop that waits, trade
//! through both sides so that the stops fire in cascades, and cancel what is left (the far
//! stop by its id, the cancel-of-a-pending-stop path). The pending list is pre-sized
//! (`core/src/book/fast/stops.rs`), so after the warm-up rounds nothing grows. Its own
//! test binary because a global allocator is per binary.

use flowmatch_core::{
    BookConfig, Command, Event, EventSink, FastBook, NewOrder, OrdType, OrderBook, Side, Sink, Tif,
};
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations_in, assert_counter_counts};

/// Offsets of a round's stop ids from its base.
const STOP_IDS: std::ops::RangeInclusive<u64> = 201..=205;

/// Counts the `ACK`s of stop ids (each stop is acknowledged once on arrival and once more
/// when it triggers) and the trades, without allocating.
#[derive(Default)]
struct Count {
    stop_acks: u64,
    trades: u64,
}

impl Sink<Event> for Count {
    fn event(&mut self, e: Event) {
        match e {
            Event::Ack { id } if STOP_IDS.contains(&(id % 1000)) => self.stop_acks += 1,
            Event::Trade { .. } => self.trades += 1,
            _ => {}
        }
    }
}

fn stop(id: u64, side: Side, ord_type: OrdType, price: Option<i64>, tif: Tif) -> Command {
    Command::New(NewOrder {
        ord_type,
        price,
        tif,
        ..NewOrder::limit(id, 3, side, 0, 3)
    })
}

/// Round `r`'s commands (ids `r * 1000 + …`): after them the book is empty again.
fn round(r: u64) -> Vec<Command> {
    let b = r * 1000;
    let mut v = Vec::new();
    for p in 101..=105u64 {
        v.push(Command::New(NewOrder::limit(
            b + p,
            1,
            Side::Sell,
            p as i64,
            4,
        )));
    }
    for p in 95..=99u64 {
        v.push(Command::New(NewOrder::limit(
            b + p,
            2,
            Side::Buy,
            p as i64,
            4,
        )));
    }
    v.push(stop(
        b + 201,
        Side::Buy,
        OrdType::Stop { trigger: 101 },
        None,
        Tif::Ioc,
    ));
    v.push(stop(
        b + 202,
        Side::Buy,
        OrdType::StopLimit { trigger: 102 },
        Some(103),
        Tif::Gtc,
    ));
    v.push(stop(
        b + 203,
        Side::Sell,
        OrdType::Stop { trigger: 98 },
        None,
        Tif::Fok,
    ));
    v.push(stop(
        b + 204,
        Side::Sell,
        OrdType::StopLimit { trigger: 97 },
        Some(96),
        Tif::Ioc,
    ));
    v.push(stop(
        b + 205,
        Side::Buy,
        OrdType::Stop { trigger: 1_000 },
        None,
        Tif::Ioc,
    ));
    // Prints 101 and 102: fires 201 (which takes 3 at 102), then 202 (3 at 103).
    v.push(Command::New(NewOrder::market(b + 300, 4, Side::Buy, 5)));
    // Prints 99 and 98: fires 203 (2 at 98, 1 at 97), whose print at 97 fires 204.
    v.push(Command::New(NewOrder::market(b + 301, 5, Side::Sell, 6)));
    for id in (95..=105).chain(STOP_IDS) {
        v.push(Command::Cancel { id: b + id });
    }
    v
}

fn apply_all<S: EventSink>(book: &mut FastBook, cmds: &[Command], sink: &mut S) {
    for c in cmds {
        book.apply(c, sink);
    }
}

#[test]
fn pending_and_triggering_stops_allocate_nothing_after_warm_up() {
    const WARM: u64 = 50;
    const MEASURED: u64 = 500;
    let mut book = FastBook::new(BookConfig::default());
    let warm: Vec<Command> = (0..WARM).flat_map(round).collect();
    let measured: Vec<Command> = (WARM..WARM + MEASURED).flat_map(round).collect();
    let mut count = Count::default();
    apply_all(&mut book, &warm, &mut count);
    // The far stop is the one left pending at the end of a round's trades.
    let probe = round(WARM + MEASURED);
    apply_all(&mut book, &probe[..17], &mut Count::default());
    assert_eq!(book.pending_stops(), 1, "the far stop waits");
    apply_all(&mut book, &probe[17..], &mut Count::default());
    assert_eq!((book.len(), book.pending_stops()), (0, 0));
    let mut count = Count::default();
    let ((), allocs) = allocations_in(|| apply_all(&mut book, &measured, &mut count));
    assert_counter_counts();
    // Per round: five arrivals and four triggers.
    assert_eq!(count.stop_acks, MEASURED * 9, "triggers");
    assert!(count.trades >= MEASURED * 8, "{} trades", count.trades);
    assert_eq!(allocs, 0, "{allocs} allocations in {MEASURED} rounds");
}
