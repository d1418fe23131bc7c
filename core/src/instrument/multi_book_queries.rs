//! What a multi-book tells about itself, without changing anything: its table and
//! limits, each instrument's book, and the counts and memory a report prints.

use super::{BookStorage, BookView, ClassKey, Entry, FullMeta, MultiBook, Tier};
use super::{InstrumentId, InstrumentTable, MultiBookConfig, TierMoves};
use crate::types::BookConfig;

impl<B: BookStorage> MultiBook<B> {
    /// The table.
    pub fn table(&self) -> &InstrumentTable {
        &self.table
    }

    /// The limits.
    pub fn config(&self) -> &MultiBookConfig {
        &self.cfg
    }

    /// Instrument `id`'s book, if it holds orders (or is a full book).
    pub fn book(&self, id: InstrumentId) -> Option<BookView<'_, B>> {
        match self.entries.get(id.index())?.tier() {
            Tier::Empty => None,
            Tier::Cold(c) => Some(BookView::Cold(&self.cold[c])),
            Tier::Full(f) => self.full[f].as_deref().map(BookView::Full),
        }
    }

    /// For a snapshot's rebuild only: [`crate::OrderBook::restore_iceberg`] on instrument `id`'s
    /// book, which must be a full book (an iceberg re-added as one promotes it). False,
    /// changing nothing, when it is not.
    pub fn restore_iceberg(
        &mut self,
        id: InstrumentId,
        order: crate::OrderId,
        display: crate::Qty,
        reserve: crate::Qty,
    ) -> bool {
        match self.entries.get(id.index()).map(|e| e.tier()) {
            Some(Tier::Full(f)) => self.full[f]
                .as_deref_mut()
                .is_some_and(|b| b.restore_iceberg(order, display, reserve)),
            _ => false,
        }
    }

    /// Every book there is, by instrument id (a snapshot walks each in priority order with
    /// [`BookView::for_each_order`]).
    pub fn for_each_book(&self, f: &mut dyn FnMut(InstrumentId, BookView<'_, B>)) {
        for i in 0..self.entries.len() {
            let id = InstrumentId(i as u32);
            if let Some(b) = self.book(id) {
                f(id, b);
            }
        }
    }

    /// Instruments with a book now (cold or full).
    pub fn open_books(&self) -> usize {
        self.open_books
    }

    /// Full books in existence, in use or pooled.
    pub fn full_books(&self) -> usize {
        self.full_books
    }

    /// Tier changes so far.
    pub fn tier_moves(&self) -> TierMoves {
        self.moves
    }

    /// Resting orders over all books.
    pub fn live_orders(&self) -> usize {
        self.live_orders
    }

    /// Bytes held: the table, the entries, the cold slab, every full book (in use or
    /// pooled) and the scratch books.
    pub fn memory_bytes(&self) -> usize {
        let in_use: usize = self.full.iter().flatten().map(|b| b.memory_bytes()).sum();
        let pooled: usize = self.pools.iter().flatten().map(|b| b.memory_bytes()).sum();
        let scratch: usize = self.scratch.iter().map(|b| b.memory_bytes()).sum();
        size_of::<Self>()
            + self.table.memory_bytes()
            + self.entries.capacity() * size_of::<Entry>()
            + self.classes.capacity() * (size_of::<BookConfig>() + size_of::<Vec<Box<B>>>())
            + self.class_index.capacity() * (size_of::<ClassKey>() + size_of::<u32>())
            + self.cold.memory_bytes()
            + (self.free_cold.capacity() + self.free_full.capacity()) * size_of::<u32>()
            + self.full.capacity() * size_of::<Option<Box<B>>>()
            + self.full_meta.capacity() * size_of::<FullMeta>()
            + self
                .parked
                .iter()
                .map(|p| p.capacity() * size_of::<u32>())
                .sum::<usize>()
            + in_use
            + pooled
            + scratch
    }
}
