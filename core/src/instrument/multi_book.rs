//! The multi-book processor: one book per instrument, in one thread.
//!
//! # Storage that follows activity
//! - An instrument that never had an order costs its [`InstrumentSpec`] in the table
//!   (a flat vector), its symbol's entry in the table's map and one empty 8-byte slot
//!   here (`Option<Box<B>>`, a null pointer): about 150 bytes, whatever the book type.
//! - Its book is created by its first new order, sized for
//!   [`MultiBookConfig::book_capacity`] resting orders (16 by default, not the single
//!   book's 65,536), and grows as that book's own storage grows. A cancel or replace for an
//!   instrument with no book is answered `UnknownId` without creating one: such a book
//!   holds no orders.
//! - Each book keeps its own slabs (its orders, levels and id table contiguous, apart from
//!   every other book's), so a hot book's working set stays together in cache however many
//!   cold books there are. A book, once created, stays until [`MultiBook::clear`].
//!
//! # The memory bound
//! Two limits, checked before the book sees the command, each answered with
//! `Reject { id, reason: CapacityExceeded }` (never a panic or a drop):
//! - [`MultiBookConfig::max_books`]: a new order for an instrument without a book when
//!   that many books exist already;
//! - [`MultiBookConfig::max_live_orders`]: a new order that could rest (GTC or post-only)
//!   while that many orders rest in all books together. Orders that cannot rest (IOC, FOK,
//!   market), cancels and replaces pass, so the books can always drain.
//!
//! [`MultiBook::memory_bytes`] reports what it holds: the table, the slot vector and
//! every book's own allocations ([`BookStorage::memory_bytes`]).
//!
//! # Events
//! Every event names its instrument ([`InstrumentEvent`]). A command for an instrument
//! the table does not hold gets `Reject { id, reason: UnknownInstrument }`.

use super::spec::{InstrumentId, InstrumentSpec};
use super::table::{InstrumentTable, TableError};
use crate::book::{FastBook, OrderBook, ReferenceBook};
use crate::command::{Command, Event, Sink};
use crate::types::{BookConfig, OrdType, RejectReason, Tif};
use std::fmt;
use std::mem::size_of;

/// A command for one instrument's book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstrumentCommand {
    /// The instrument.
    pub instrument: InstrumentId,
    /// The command, as a single book takes it.
    pub cmd: Command,
}

/// An event of one instrument's book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstrumentEvent {
    /// The instrument whose command caused it.
    pub instrument: InstrumentId,
    /// The event, as a single book emits it.
    pub event: Event,
}

/// A book the multi-book can create and measure.
pub trait BookStorage: OrderBook + Sized {
    /// A new empty book with these limits and this capacity.
    fn with_config(cfg: BookConfig) -> Self;

    /// Bytes the book occupies (its struct and the capacity of its allocations).
    fn memory_bytes(&self) -> usize;
}

impl BookStorage for FastBook {
    fn with_config(cfg: BookConfig) -> Self {
        FastBook::new(cfg)
    }

    fn memory_bytes(&self) -> usize {
        FastBook::memory_bytes(self)
    }
}

/// Bytes the reference book's ordered maps hold per resting order, estimated: the order in
/// its level's queue, its id in the index and its share of a level node, each with B-tree
/// node overhead. The reference book is the test oracle, so an estimate is enough.
const REFERENCE_BYTES_PER_ORDER: usize = 192;

impl BookStorage for ReferenceBook {
    fn with_config(cfg: BookConfig) -> Self {
        ReferenceBook::new(cfg)
    }

    fn memory_bytes(&self) -> usize {
        size_of::<Self>() + self.len() * REFERENCE_BYTES_PER_ORDER
    }
}

/// How many books the multi-book may create and how they start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultiBookConfig {
    /// Resting orders a new book pre-allocates room for (`1..=1 << 24`; default 16).
    pub book_capacity: usize,
    /// Most books at once (`1..=u32::MAX`; default 1,000,000).
    pub max_books: usize,
    /// Most resting orders over all books (`1..=1 << 32`; default 16,777,216).
    pub max_live_orders: usize,
}

impl Default for MultiBookConfig {
    fn default() -> Self {
        MultiBookConfig {
            book_capacity: 16,
            max_books: 1_000_000,
            max_live_orders: 1 << 24,
        }
    }
}

/// A configuration field out of its range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiBookConfigError {
    /// The field.
    pub field: &'static str,
    /// Its range and the value given.
    pub message: String,
}

impl fmt::Display for MultiBookConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for MultiBookConfigError {}

impl MultiBookConfig {
    /// Checks every field against its range.
    pub fn validate(&self) -> Result<(), MultiBookConfigError> {
        let check = |field, v: usize, max: usize| {
            if (1..=max).contains(&v) {
                Ok(())
            } else {
                Err(MultiBookConfigError {
                    field,
                    message: format!("must be between 1 and {max}, got {v}"),
                })
            }
        };
        check("book_capacity", self.book_capacity, 1 << 24)?;
        check("max_books", self.max_books, u32::MAX as usize)?;
        check("max_live_orders", self.max_live_orders, 1 << 32)
    }
}

/// One book per instrument of a table, created on first order. See the module docs.
pub struct MultiBook<B> {
    table: InstrumentTable,
    books: Vec<Option<Box<B>>>,
    cfg: MultiBookConfig,
    open_books: usize,
    live_orders: usize,
}

/// Delivers a book's events as the instrument's events.
struct Tag<'a, S> {
    instrument: InstrumentId,
    sink: &'a mut S,
}

impl<S: Sink<InstrumentEvent>> Sink<Event> for Tag<'_, S> {
    #[inline]
    fn event(&mut self, event: Event) {
        self.sink.event(InstrumentEvent {
            instrument: self.instrument,
            event,
        });
    }
}

impl<B: BookStorage> MultiBook<B> {
    /// A multi-book over `table`, with no book yet.
    pub fn new(table: InstrumentTable, cfg: MultiBookConfig) -> Result<Self, MultiBookConfigError> {
        cfg.validate()?;
        let mut books = Vec::with_capacity(table.len());
        books.resize_with(table.len(), || None);
        Ok(MultiBook {
            table,
            books,
            cfg,
            open_books: 0,
            live_orders: 0,
        })
    }

    /// Adds an instrument to the table (off the hot path: the slot vector may grow).
    pub fn add_instrument(&mut self, spec: InstrumentSpec) -> Result<InstrumentId, TableError> {
        let id = self.table.push(spec)?;
        self.books.push(None);
        Ok(id)
    }

    /// Applies one command to its instrument's book, delivering the events, each tagged
    /// with the instrument, to `sink`.
    #[inline]
    pub fn apply<S: Sink<InstrumentEvent>>(&mut self, msg: &InstrumentCommand, sink: &mut S) {
        let instrument = msg.instrument;
        let mut tag = Tag { instrument, sink };
        let reject = |tag: &mut Tag<'_, S>, reason| {
            tag.event(Event::Reject {
                id: msg.cmd.id(),
                reason,
            })
        };
        let Some(slot) = self.books.get_mut(instrument.index()) else {
            return reject(&mut tag, RejectReason::UnknownInstrument);
        };
        if let Command::New(o) = &msg.cmd {
            let may_rest = o.ord_type == OrdType::Limit && matches!(o.tif, Tif::Gtc | Tif::Post);
            if may_rest && self.live_orders >= self.cfg.max_live_orders {
                return reject(&mut tag, RejectReason::CapacityExceeded);
            }
        }
        let book = match slot {
            Some(book) => book,
            None => {
                if !matches!(msg.cmd, Command::New(_)) {
                    // No book, so no resting order for this id.
                    return reject(&mut tag, RejectReason::UnknownId);
                }
                if self.open_books >= self.cfg.max_books {
                    return reject(&mut tag, RejectReason::CapacityExceeded);
                }
                let spec = self.table.specs()[instrument.index()];
                self.open_books += 1;
                slot.insert(Box::new(B::with_config(
                    spec.book_config(self.cfg.book_capacity),
                )))
            }
        };
        let before = book.len();
        book.apply(&msg.cmd, &mut tag);
        self.live_orders = self.live_orders + book.len() - before;
    }

    /// Forgets every book (their storage is freed; instruments stay in the table).
    pub fn clear(&mut self) {
        self.books.iter_mut().for_each(|b| *b = None);
        self.open_books = 0;
        self.live_orders = 0;
    }

    /// The table.
    pub fn table(&self) -> &InstrumentTable {
        &self.table
    }

    /// The limits.
    pub fn config(&self) -> &MultiBookConfig {
        &self.cfg
    }

    /// Instrument `id`'s book, if it has had an order.
    pub fn book(&self, id: InstrumentId) -> Option<&B> {
        self.books.get(id.index()).and_then(|b| b.as_deref())
    }

    /// Every book there is, by instrument id (a snapshot walks each in priority order with
    /// [`OrderBook::for_each_order`]).
    pub fn for_each_book(&self, f: &mut dyn FnMut(InstrumentId, &B)) {
        for (i, b) in self.books.iter().enumerate() {
            if let Some(b) = b {
                f(InstrumentId(i as u32), b);
            }
        }
    }

    /// Books created so far.
    pub fn open_books(&self) -> usize {
        self.open_books
    }

    /// Resting orders over all books.
    pub fn live_orders(&self) -> usize {
        self.live_orders
    }

    /// Bytes held: the table, the slot vector and every book's own storage.
    pub fn memory_bytes(&self) -> usize {
        let books: usize = self.books.iter().flatten().map(|b| b.memory_bytes()).sum();
        size_of::<Self>()
            + self.table.memory_bytes()
            + self.books.capacity() * size_of::<Option<Box<B>>>()
            + books
    }
}

#[cfg(feature = "engine")]
impl<B: BookStorage> crate::engine::Processor<InstrumentCommand> for MultiBook<B> {
    type Event = InstrumentEvent;

    #[inline]
    fn process<S: Sink<InstrumentEvent>>(&mut self, msg: &InstrumentCommand, sink: &mut S) {
        self.apply(msg, sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::NewOrder;
    use crate::instrument::Symbol;
    use crate::types::{CancelReason, ReplacePriority, Side};

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
    fn memory_bound_rejects_and_lets_books_drain() {
        let cfg = MultiBookConfig {
            max_books: 2,
            max_live_orders: 3,
            ..MultiBookConfig::default()
        };
        let mut m = MultiBook::<FastBook>::new(table(3), cfg).unwrap();
        let mut out = Vec::new();
        let new = |id, side, price| Command::New(NewOrder::limit(id, 1, side, price, 5));
        m.apply(&on(0, new(1, Side::Buy, 10)), &mut out);
        m.apply(&on(1, new(1, Side::Buy, 10)), &mut out);
        // A third book: refused.
        m.apply(&on(2, new(1, Side::Buy, 10)), &mut out);
        m.apply(&on(0, new(2, Side::Buy, 9)), &mut out);
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
        assert_eq!(
            rejects,
            vec![
                (2, 1, RejectReason::CapacityExceeded),
                (1, 3, RejectReason::CapacityExceeded)
            ]
        );
        assert_eq!(m.live_orders(), 3);
        assert!(m.book(InstrumentId(1)).unwrap().order(3).is_some());
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
    }

    /// Untouched instruments cost a few hundred bytes at most; a small book is far below
    /// the single book's default footprint.
    #[test]
    fn memory_scales_with_activity() {
        let n = 10_000;
        let mut m = MultiBook::<FastBook>::new(table(n), MultiBookConfig::default()).unwrap();
        let empty = m.memory_bytes();
        assert!(
            empty / n <= 300,
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
}
