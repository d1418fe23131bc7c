//! The fast book allocates nothing on the heap once warmed up while icebergs rest, refill,
//! are replaced and cancelled (`docs/SEMANTICS.md`, "Iceberg orders"): rounds that rest
//! three icebergs and a plain order at one price, sweep them with takers that fill several
//! shown parts each (so every iceberg refills at the back of the level, and alone in place),
//! replace one, and cancel what is left. The reserve table grows to the highest slot an
//! iceberg has used and keeps its storage (`core/src/book/fast/iceberg.rs`); slots are
//! recycled, so after the warm-up rounds nothing grows. Its own test binary because a
//! global allocator is per binary.

use flowmatch_core::{
    BookConfig, Command, Event, EventSink, FastBook, NewOrder, OrdType, OrderBook, Side, Sink, Tif,
};
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations_in, assert_counter_counts};

/// Counts trades and cancelled quantity without allocating.
#[derive(Default)]
struct Count {
    trades: u64,
    cancelled: u64,
}

impl Sink<Event> for Count {
    fn event(&mut self, e: Event) {
        match e {
            Event::Trade { .. } => self.trades += 1,
            Event::Cancel { qty, .. } => self.cancelled += qty,
            _ => {}
        }
    }
}

fn iceberg(id: u64, display: u64, qty: u64) -> Command {
    Command::New(NewOrder {
        ord_type: OrdType::Iceberg { display },
        ..NewOrder::limit(id, 1, Side::Sell, 100, qty)
    })
}

/// Round `r`'s commands (ids `r * 100 + …`): after them the book is empty again.
fn round(r: u64) -> Vec<Command> {
    let b = r * 100;
    let taker =
        |id, qty| Command::New(NewOrder::limit(b + id, 2, Side::Buy, 100, qty).with_tif(Tif::Ioc));
    vec![
        iceberg(b + 1, 2, 10),
        iceberg(b + 2, 3, 9),
        Command::New(NewOrder::limit(b + 3, 1, Side::Sell, 100, 4)),
        iceberg(b + 4, 1, 6),
        // 2 + 3 + 4 + 1, then 1's refill 2 and 2's refill 3: fifteen units, six trades.
        taker(10, 15),
        // Iceberg 4 re-enters for 5 at the back: it always loses priority. The taker after
        // it ends iceberg 2 and leaves 1 and 4 with reserves, which the cancels take.
        Command::Replace {
            id: b + 4,
            price: 100,
            qty: 5,
        },
        taker(11, 7),
        Command::Cancel { id: b + 1 },
        Command::Cancel { id: b + 2 },
        Command::Cancel { id: b + 4 },
    ]
}

fn apply_all<S: EventSink>(book: &mut FastBook, cmds: &[Command], sink: &mut S) {
    for c in cmds {
        book.apply(c, sink);
    }
}

#[test]
fn resting_refilling_and_cancelled_icebergs_allocate_nothing_after_warm_up() {
    const WARM: u64 = 50;
    const MEASURED: u64 = 500;
    let mut book = FastBook::new(BookConfig::default());
    let warm: Vec<Command> = (0..WARM).flat_map(round).collect();
    let measured: Vec<Command> = (WARM..WARM + MEASURED).flat_map(round).collect();
    apply_all(&mut book, &warm, &mut Count::default());
    assert_eq!(
        (book.len(), book.icebergs()),
        (0, 0),
        "each round ends empty"
    );
    // One round, looked at closely: after the first sweep three icebergs still rest,
    // shown and in reserve as the round's comment says.
    let probe = round(WARM + MEASURED);
    let mut count = Count::default();
    apply_all(&mut book, &probe[..5], &mut count);
    assert_eq!(count.trades, 6);
    assert_eq!(book.icebergs(), 3);
    let mut hidden = Vec::new();
    book.for_each_iceberg(&mut |id, display, reserve| hidden.push((id % 100, display, reserve)));
    // Worked by hand: 1 shows 2 (refill, reserve 6), 2 shows 3 (reserve 3), 3 leaves, 4
    // shows 1 (reserve 4), then 1's second 2 (reserve 4) and 2's last 3 (reserve 0).
    hidden.sort_unstable();
    assert_eq!(hidden, [(1, 2, 4), (2, 3, 0), (4, 1, 4)]);
    apply_all(&mut book, &probe[5..], &mut Count::default());
    assert_eq!((book.len(), book.icebergs()), (0, 0));
    let mut count = Count::default();
    let ((), allocs) = allocations_in(|| apply_all(&mut book, &measured, &mut count));
    assert_counter_counts();
    assert!(count.trades >= MEASURED * 8, "{} trades", count.trades);
    assert!(count.cancelled > 0, "the cancels took reserves");
    assert_eq!(allocs, 0, "{allocs} allocations in {MEASURED} rounds");
}
