//! The multi-book processor: every instrument's book, in one thread, in two tiers.
//!
//! # Storage that follows activity
//! - An instrument that never had an order costs its [`InstrumentSpec`] in the table
//!   (a flat vector), its symbol's entry in the table's map and one 8-byte entry here (its
//!   tier slot and its configuration class): about 150 bytes, whatever the book type.
//! - **Cold tier.** A price-time instrument's first order gets it a [`ColdBook`]: a
//!   576-byte record (nine cache lines) in one shared slab holding up to
//!   [`MultiBookConfig::cold_orders`] resting orders (at most [`COLD_ORDERS`], 16, the
//!   default) in dump order (see [`super::cold`]). It answers cancels, rejects and commands that do
//!   not trade itself; a command that would trade runs on a scratch book (one per replace
//!   priority mode, reused, allocating nothing) loaded with the cold orders in priority
//!   order, and the cold book is reloaded from what rests afterwards. Its record returns
//!   to the slab's free list when the book empties.
//! - **Full tier.** A new order that could rest at a cold book holding `cold_orders`
//!   orders first *promotes* the
//!   instrument: a full book `B` (a pooled one of the same configuration if there is one,
//!   so nothing is allocated) receives the cold orders in priority order (the cold book
//!   was uncrossed, so they only rest; those events are discarded) and from then on takes
//!   the instrument's commands. A pro-rata instrument gets a full book from its first order
//!   (the cold tier is price-time only). A full book that empties soon after it was
//!   taken is *demoted*: cleared (keeping its storage) and pooled for the next instrument
//!   of its configuration. One that was busy ([`MultiBookConfig::keep_busy`] commands or
//!   more since it was taken or last emptied) stays with its instrument, empty, and is
//!   *parked* in its class's list: a busy book empties and refills all the time, and
//!   moving it to the cold tier and back each time cost more than the book itself (one
//!   instrument with the Zipf stream's flow: 27,564 promotions and as many demotions in
//!   10 M commands). A promotion that finds its class's pool empty at the `max_books`
//!   bound takes a parked book that is still empty (demoting its instrument then), so
//!   the bound refuses nothing it refused before.
//!
//! Both tiers keep the single book's semantics exactly: `tests/instruments.rs` holds a
//! multi-book whose instruments promote and demote to one reference book per instrument.
//!
//! # The memory bound
//! Two limits, checked before the book sees the command, each answered with
//! `Reject { id, reason: CapacityExceeded }` (never a panic or a drop):
//! - [`MultiBookConfig::max_books`]: full books, in use or pooled. A command that needs a
//!   new one (a promotion, or a pro-rata instrument's first order) when that many exist
//!   and none of its configuration is pooled is refused.
//! - [`MultiBookConfig::max_live_orders`]: a new order that could rest (GTC or post-only)
//!   while that many orders rest in all books together. Orders that cannot rest (IOC, FOK,
//!   market), cancels and replaces pass, so the books can always drain.
//!
//! Cold books number at most `min(instruments, max_live_orders)`. [`MultiBook::memory_bytes`]
//! reports everything held: table, entries, the cold slab, every full book in use or
//! pooled ([`BookStorage::memory_bytes`]) and the scratch books.
//!
//! # Events
//! Every event names its instrument ([`InstrumentEvent`]). A command for an instrument
//! the table does not hold gets `Reject { id, reason: UnknownInstrument }`.

use self::chunked::ChunkedSlab;
use super::cold::{Cold, ColdBook, COLD_ORDERS};
pub use super::config::{MultiBookConfig, MultiBookConfigError};
use super::entry::{class_key, ClassKey, Entry, Tier, FULL_TAG};
use super::message::{Discard, Tag};
pub use super::message::{InstrumentCommand, InstrumentEvent};
use super::spec::{InstrumentId, InstrumentSpec};
pub use super::storage::{BookStorage, BookView};
use super::table::{InstrumentTable, TableError};
use crate::command::{Command, Event, Sink};
use crate::types::{BookConfig, MatchPolicy, OrdType, RejectReason, ReplacePriority, Tif};
use std::collections::HashMap;

/// Every instrument's book, cold or full. See the module docs.
pub struct MultiBook<B> {
    table: InstrumentTable,
    cfg: MultiBookConfig,
    entries: Vec<Entry>,
    /// Distinct book configurations (capacity `cfg.book_capacity`), and their index.
    classes: Vec<BookConfig>,
    class_index: HashMap<ClassKey, u32>,
    cold: ChunkedSlab<ColdBook>,
    free_cold: Vec<u32>,
    full: Vec<Option<Box<B>>>,
    /// Beside each full book slot: its instrument and its commands since it was taken or
    /// last emptied (for the demotion hysteresis).
    full_meta: Vec<FullMeta>,
    free_full: Vec<u32>,
    /// Full book slots kept empty with their instrument, by class (some may have refilled
    /// since; `FullMeta::parked` keeps each listed once).
    parked: Vec<Vec<u32>>,
    /// Cleared full books by class, ready for a promotion.
    pools: Vec<Vec<Box<B>>>,
    /// Full books in existence (in use or pooled), in all and by class.
    full_books: usize,
    class_books: Vec<usize>,
    /// Price-time books without limits, one per replace priority mode (by
    /// `ReplacePriority as usize`), for the cold books' commands that trade.
    scratch: [B; 2],
    live_orders: usize,
    open_books: usize,
    moves: TierMoves,
}

/// What the multi-book knows of a full book slot besides the book.
#[derive(Clone, Copy, Debug, Default)]
struct FullMeta {
    instrument: u32,
    commands: u32,
    parked: bool,
}

/// How often instruments changed tier, counted for tests and reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TierMoves {
    /// Cold books moved into a full book.
    pub promotions: u64,
    /// Full books that emptied and went back to their pool (at once, or when a
    /// promotion reclaimed a parked one).
    pub demotions: u64,
    /// Cold books' commands run on a scratch book (they traded).
    pub scratch_runs: u64,
}

impl<B: BookStorage> MultiBook<B> {
    /// A multi-book over `table`, with no book yet.
    pub fn new(table: InstrumentTable, cfg: MultiBookConfig) -> Result<Self, MultiBookConfigError> {
        cfg.validate()?;
        let scratch = |replace_priority| {
            B::with_config(BookConfig {
                max_order_qty: u64::MAX,
                capacity: COLD_ORDERS + 1,
                replace_priority,
                ..BookConfig::default()
            })
        };
        let mut m = MultiBook {
            table: InstrumentTable::new(),
            cfg,
            entries: huge_pages::with_capacity(table.len()),
            classes: Vec::new(),
            class_index: HashMap::new(),
            cold: ChunkedSlab::new(),
            free_cold: Vec::new(),
            full: Vec::new(),
            full_meta: Vec::new(),
            free_full: Vec::new(),
            parked: Vec::new(),
            pools: Vec::new(),
            full_books: 0,
            class_books: Vec::new(),
            scratch: [
                scratch(ReplacePriority::KeepIfReduced),
                scratch(ReplacePriority::AlwaysRequeue),
            ],
            live_orders: 0,
            open_books: 0,
            moves: TierMoves::default(),
        };
        for spec in table.specs() {
            let class = m.class_of(spec);
            m.entries.push(Entry { slot: 0, class });
        }
        m.table = table;
        Ok(m)
    }

    fn class_of(&mut self, spec: &InstrumentSpec) -> u32 {
        let c = spec.book_config(self.cfg.book_capacity);
        let next = self.classes.len() as u32;
        let class = *self.class_index.entry(class_key(&c)).or_insert(next);
        if class == next {
            self.classes.push(c);
            self.pools.push(Vec::new());
            self.parked.push(Vec::new());
            self.class_books.push(0);
        }
        class
    }

    /// Adds an instrument to the table (off the hot path: vectors may grow).
    pub fn add_instrument(&mut self, spec: InstrumentSpec) -> Result<InstrumentId, TableError> {
        let id = self.table.push(spec)?;
        let class = self.class_of(&spec);
        self.entries.push(Entry { slot: 0, class });
        Ok(id)
    }

    /// Applies one command to its instrument's book, delivering the events, each tagged
    /// with the instrument, to `sink`.
    ///
    /// The common case, an instrument with a full book while the live-order bound is not
    /// reached, runs here with the full book's upkeep inlined; everything else (cold and
    /// empty instruments, unknown ones, the bound) goes to the out-of-line `apply_other`,
    /// so the hot path carries no register spills or checks of the rare cases: with one
    /// instrument this cut the multi-book's overhead over a single book on the same flow
    /// from 82 to 38 instructions a command (callgrind, `examples/instruments_profile.rs`).
    /// Always inlined: it is small now, and a call of its own cost 16 instructions a command
    /// in saving and restoring registers.
    #[inline(always)]
    pub fn apply<S: Sink<InstrumentEvent>>(&mut self, msg: &InstrumentCommand, sink: &mut S) {
        let index = msg.instrument.index();
        if let Some(&entry) = self.entries.get(index) {
            // Below the bound, no command is refused for it, so the tier alone decides.
            if entry.slot & FULL_TAG != 0 && self.live_orders < self.cfg.max_live_orders {
                let f = (entry.slot & !FULL_TAG) as usize;
                let mut tag = Tag {
                    instrument: msg.instrument,
                    sink,
                };
                return self.apply_full(index, f, &msg.cmd, &mut tag);
            }
        }
        self.apply_other(msg, sink)
    }

    /// [`Self::apply`] for every case but a full book below the live-order bound.
    #[inline(never)]
    fn apply_other<S: Sink<InstrumentEvent>>(&mut self, msg: &InstrumentCommand, sink: &mut S) {
        let index = msg.instrument.index();
        let mut tag = Tag {
            instrument: msg.instrument,
            sink,
        };
        let reject = |tag: &mut Tag<'_, S>, reason| {
            tag.event(Event::Reject {
                id: msg.cmd.id(),
                reason,
            })
        };
        let Some(&entry) = self.entries.get(index) else {
            return reject(&mut tag, RejectReason::UnknownInstrument);
        };
        // A stop stays live until it triggers, so it counts as an order that may rest;
        // and the cold tier keeps no stops, no icebergs (it has no reserve) and no
        // midpoint pegs: any of them promotes its instrument to a full book.
        let exotic = matches!(&msg.cmd, Command::New(o)
            if !matches!(o.ord_type, OrdType::Limit | OrdType::Market));
        let may_rest = exotic
            || matches!(&msg.cmd, Command::New(o)
            if o.ord_type == OrdType::Limit && matches!(o.tif, Tif::Gtc | Tif::Post));
        if may_rest && self.live_orders >= self.cfg.max_live_orders {
            return reject(&mut tag, RejectReason::CapacityExceeded);
        }
        let class = entry.class as usize;
        match entry.tier() {
            Tier::Full(f) => self.apply_full(index, f, &msg.cmd, &mut tag),
            Tier::Cold(c) if exotic || (may_rest && self.cold[c].len() >= self.cfg.cold_orders) => {
                match self.promote(index, c, class) {
                    Some(f) => self.apply_full(index, f, &msg.cmd, &mut tag),
                    None => reject(&mut tag, RejectReason::CapacityExceeded),
                }
            }
            Tier::Cold(c) => self.apply_cold(index, c, class, &msg.cmd, &mut tag),
            Tier::Empty if !matches!(msg.cmd, Command::New(_)) => {
                // No book, so no resting order for this id.
                reject(&mut tag, RejectReason::UnknownId)
            }
            Tier::Empty if exotic || self.classes[class].policy != MatchPolicy::PriceTime => {
                match self.take_full(class, index) {
                    Some(f) => {
                        self.entries[index].slot = FULL_TAG | f as u32;
                        self.open_books += 1;
                        self.apply_full(index, f, &msg.cmd, &mut tag)
                    }
                    None => reject(&mut tag, RejectReason::CapacityExceeded),
                }
            }
            Tier::Empty => {
                let c = match self.free_cold.pop() {
                    Some(c) => c as usize,
                    None => {
                        let c = self.cold.push(ColdBook::EMPTY);
                        // The free list can come to name every record: room for that now,
                        // so it never grows on its own.
                        reserve_to(&mut self.free_cold, self.cold.len());
                        c
                    }
                };
                self.entries[index].slot = 1 + c as u32;
                self.open_books += 1;
                self.apply_cold(index, c, class, &msg.cmd, &mut tag)
            }
        }
    }

    #[inline(always)]
    fn apply_full<S: Sink<Event>>(&mut self, index: usize, f: usize, cmd: &Command, sink: &mut S) {
        let Some(book) = self.full[f].as_deref_mut() else {
            unreachable!("an entry names only a full book in use");
        };
        // Pending stops and resting pegs are live orders too: they count against the
        // bound, and a book holding only them is not empty (it must not be demoted and
        // forget them).
        let live = |b: &B| b.len() + b.pending_stops() + b.pegs();
        let before = live(book);
        book.apply(cmd, sink);
        let after = live(book);
        self.live_orders = self.live_orders + after - before;
        let meta = &mut self.full_meta[f];
        meta.commands = meta.commands.saturating_add(1);
        if after == 0 {
            if meta.parked {
                // Already listed: it stays until a promotion needs it. (Busy books empty
                // often: a quarter of the commands with one instrument on the Zipf flow.)
                meta.commands = 0;
            } else {
                self.unparked_emptied(index, f);
            }
        }
    }

    /// Full book `f` of instrument `index`, not parked, has just emptied: park it if it was
    /// busy, demote it otherwise.
    #[inline(never)]
    fn unparked_emptied(&mut self, index: usize, f: usize) {
        let class = self.entries[index].class as usize;
        let meta = &mut self.full_meta[f];
        if meta.commands >= self.cfg.keep_busy {
            // Busy: keep it, empty, with its instrument, listed for reclaiming.
            meta.commands = 0;
            meta.parked = true;
            self.parked[class].push(f as u32);
        } else {
            self.demote(f, class);
        }
    }

    /// Full book `f` (empty, of `class`) goes back to its class's pool, cleared; its
    /// instrument has no book any more.
    fn demote(&mut self, f: usize, class: usize) {
        let Some(mut book) = self.full[f].take() else {
            unreachable!("only a full book in use is demoted")
        };
        book.clear();
        self.pools[class].push(book);
        self.free_full.push(f as u32);
        let index = self.full_meta[f].instrument as usize;
        self.entries[index].slot = 0;
        self.open_books -= 1;
        self.moves.demotions += 1;
    }

    /// Demotes a parked book of `class` that is still empty, if there is one, so its
    /// class's pool holds a book. Parked books that refilled leave the list.
    fn reclaim_parked(&mut self, class: usize) -> bool {
        while let Some(f) = self.parked[class].pop() {
            let f = f as usize;
            self.full_meta[f].parked = false;
            // Pending stops and pegs are live too: a book holding only them keeps them.
            let empty = |b: &B| b.len() == 0 && b.pending_stops() == 0 && b.pegs() == 0;
            if self.full[f].as_deref().is_some_and(empty) {
                self.demote(f, class);
                return true;
            }
        }
        false
    }

    #[inline]
    fn apply_cold<S: Sink<Event>>(
        &mut self,
        index: usize,
        c: usize,
        class: usize,
        cmd: &Command,
        sink: &mut S,
    ) {
        let cfg = &self.classes[class];
        let cold = &mut self.cold[c];
        let before = cold.len();
        if cold.apply(cfg, cmd, sink) == Cold::NeedsBook {
            self.moves.scratch_runs += 1;
            let scratch = &mut self.scratch[cfg.replace_priority as usize];
            scratch.clear();
            for o in cold.orders() {
                scratch.apply(&o.as_new(), &mut Discard);
            }
            scratch.apply(cmd, sink);
            let fits = cold.reload(|f| scratch.for_each_order(f));
            // A new order that could rest at a full cold book was promoted before.
            debug_assert!(fits, "a cold book's command left more than it holds");
        }
        let after = cold.len();
        self.live_orders = self.live_orders + after - before;
        if after == 0 {
            self.free_cold.push(c as u32);
            self.entries[index].slot = 0;
            self.open_books -= 1;
        }
    }

    /// A cleared full book of `class` in the full tier (pooled, or new within
    /// `max_books`), by index.
    fn take_full(&mut self, class: usize, index: usize) -> Option<usize> {
        if self.pools[class].is_empty()
            && self.full_books >= self.cfg.max_books
            && !self.reclaim_parked(class)
        {
            return None;
        }
        let book = match self.pools[class].pop() {
            Some(book) => book,
            None => {
                self.full_books += 1;
                self.class_books[class] += 1;
                // Room for every book of the class in its pool and its parked list and
                // every book in the free list and the slots, so none grows on its own later.
                reserve_to(&mut self.pools[class], self.class_books[class]);
                reserve_to(&mut self.parked[class], self.class_books[class]);
                reserve_to(&mut self.free_full, self.full_books);
                reserve_to(&mut self.full, self.full_books);
                reserve_to(&mut self.full_meta, self.full_books);
                Box::new(B::with_config(self.classes[class]))
            }
        };
        let meta = FullMeta {
            instrument: index as u32,
            commands: 0,
            parked: false,
        };
        Some(match self.free_full.pop() {
            Some(f) => {
                self.full[f as usize] = Some(book);
                self.full_meta[f as usize] = meta;
                f as usize
            }
            None => {
                self.full.push(Some(book));
                self.full_meta.push(meta);
                self.full.len() - 1
            }
        })
    }

    /// Moves cold book `c` of instrument `index` into a full book, its orders re-inserted
    /// in priority order; `None` (nothing changed) if no full book is to be had.
    fn promote(&mut self, index: usize, c: usize, class: usize) -> Option<usize> {
        let f = self.take_full(class, index)?;
        let Some(book) = self.full[f].as_deref_mut() else {
            unreachable!()
        };
        for o in self.cold[c].orders() {
            book.apply(&o.as_new(), &mut Discard);
        }
        debug_assert_eq!(book.len(), self.cold[c].len());
        self.cold[c] = ColdBook::EMPTY;
        self.free_cold.push(c as u32);
        self.entries[index].slot = FULL_TAG | f as u32;
        self.moves.promotions += 1;
        Some(f)
    }

    /// Forgets every order (no events): cold books are freed to the slab, full books
    /// cleared and pooled (their storage kept); instruments stay in the table.
    pub fn clear(&mut self) {
        for e in &mut self.entries {
            e.slot = 0;
        }
        self.cold.clear();
        self.free_cold.clear();
        for (f, book) in self.full.iter_mut().enumerate() {
            if let Some(mut book) = book.take() {
                book.clear();
                let class = self.class_index[&class_key(book.config())] as usize;
                self.pools[class].push(book);
                self.free_full.push(f as u32);
            }
        }
        for p in &mut self.parked {
            p.clear();
        }
        for m in &mut self.full_meta {
            *m = FullMeta::default();
        }
        self.open_books = 0;
        self.live_orders = 0;
    }
}

/// Grows `v`'s capacity to at least `n` (an allocation only when it grows).
fn reserve_to<T>(v: &mut Vec<T>, n: usize) {
    if v.capacity() < n {
        v.reserve(n - v.len());
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

#[path = "batch.rs"]
mod batch;
#[path = "chunked.rs"]
mod chunked;
#[path = "huge_pages.rs"]
mod huge_pages;
#[path = "multi_book_queries.rs"]
mod queries;

#[cfg(test)]
#[path = "multi_book_tests.rs"]
mod tests;
