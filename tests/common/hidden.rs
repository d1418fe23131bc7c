//! The hidden state of a book's resting icebergs, for the differential tests (included
//! with `#[path]` by each test binary that compares it).

use flowmatch::core::{OrderBook, OrderId, Qty};

/// Every resting iceberg's hidden part, `(id, display, reserve)` in dump order; checks
/// the list against the book's own count.
pub fn hidden(book: &impl OrderBook) -> Vec<(OrderId, Qty, Qty)> {
    let mut v = Vec::new();
    book.for_each_iceberg(&mut |id, display, reserve| v.push((id, display, reserve)));
    assert_eq!(v.len(), book.icebergs());
    v
}
