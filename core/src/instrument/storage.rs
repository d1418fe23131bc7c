//! What the multi-book needs of a book type ([`BookStorage`]) and how it shows one
//! instrument's book whatever tier holds it ([`BookView`]).

use super::cold::ColdBook;
use crate::book::{FastBook, OrderBook, ReferenceBook, RestingOrder};
use crate::command::NewOrder;
use crate::types::{BookConfig, OrderId};
use std::mem::size_of;

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

/// One instrument's resting orders, in whichever tier holds them.
#[derive(Clone, Copy)]
pub enum BookView<'a, B> {
    /// A full book (a hot instrument, or any pro-rata one).
    Full(&'a B),
    /// A cold book of a few orders.
    Cold(&'a ColdBook),
}

impl<B: OrderBook> BookView<'_, B> {
    /// Every resting order in dump order (as [`OrderBook::for_each_order`]).
    pub fn for_each_order(&self, f: &mut dyn FnMut(&RestingOrder)) {
        match self {
            BookView::Full(b) => b.for_each_order(f),
            BookView::Cold(c) => c.orders().iter().for_each(|o| f(&o.resting())),
        }
    }

    /// All resting orders in dump order, collected (tests and tools; allocates).
    pub fn snapshot(&self) -> Vec<RestingOrder> {
        let mut v = Vec::with_capacity(self.len());
        self.for_each_order(&mut |o| v.push(*o));
        v
    }

    /// The live order with this id.
    pub fn order(&self, id: OrderId) -> Option<RestingOrder> {
        match self {
            BookView::Full(b) => b.order(id),
            BookView::Cold(c) => c.order(id),
        }
    }

    /// Resting orders.
    pub fn len(&self) -> usize {
        match self {
            BookView::Full(b) => b.len(),
            BookView::Cold(c) => c.len(),
        }
    }

    /// Pending stops and stop-limits ([`OrderBook::pending_stops`]); a cold book keeps
    /// none (a stop promotes its instrument to a full book).
    pub fn pending_stops(&self) -> usize {
        match self {
            BookView::Full(b) => b.pending_stops(),
            BookView::Cold(_) => 0,
        }
    }

    /// Resting midpoint pegs ([`OrderBook::pegs`]); a cold book keeps none (a peg promotes
    /// its instrument to a full book).
    pub fn pegs(&self) -> usize {
        match self {
            BookView::Full(b) => b.pegs(),
            BookView::Cold(_) => 0,
        }
    }

    /// Every resting midpoint peg in arrival order ([`OrderBook::for_each_peg`]).
    pub fn for_each_peg(&self, f: &mut dyn FnMut(&crate::RestingPeg)) {
        if let BookView::Full(b) = self {
            b.for_each_peg(f);
        }
    }

    /// Every pending stop in arrival order ([`OrderBook::for_each_pending_stop`]).
    pub fn for_each_pending_stop(&self, f: &mut dyn FnMut(&NewOrder)) {
        if let BookView::Full(b) = self {
            b.for_each_pending_stop(f);
        }
    }

    /// Resting icebergs ([`OrderBook::icebergs`]); a cold book keeps none (an iceberg
    /// promotes its instrument to a full book).
    pub fn icebergs(&self) -> usize {
        match self {
            BookView::Full(b) => b.icebergs(),
            BookView::Cold(_) => 0,
        }
    }

    /// Every resting iceberg's hidden part in dump order ([`OrderBook::for_each_iceberg`]).
    pub fn for_each_iceberg(&self, f: &mut dyn FnMut(crate::OrderId, crate::Qty, crate::Qty)) {
        if let BookView::Full(b) = self {
            b.for_each_iceberg(f);
        }
    }

    /// No resting order.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Held by a full book.
    pub fn is_full_book(&self) -> bool {
        matches!(self, BookView::Full(_))
    }
}
