//! Order books behind one trait, so that implementations and matching policies can be
//! swapped, differentially tested and benchmarked side by side.
//!
//! - [`FastBook`]: the product. Orders in a pre-allocated slab linked into per-level FIFOs,
//!   price levels in a sorted vector per side, id lookup in a pre-sized hash table.
//! - [`ReferenceBook`]: a literal transcription of the rules over ordered maps, kept only
//!   as a test oracle. It is written for obviousness, not speed.
//! - [`validate`]: the stateless checks of a command, shared by the fast book and anyone
//!   who must screen orders the way it does (the reference book keeps its own copy).

mod fast;
pub mod groups;
mod id_index;
mod pool;
mod reference;
pub mod validate;

pub use fast::FastBook;
pub use groups::{AccountGroups, Group, GroupConflict};
pub use reference::ReferenceBook;

use crate::command::{Command, EventSink, NewOrder};
use crate::types::*;

/// One resting order as seen from outside the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestingOrder {
    /// The side it rests on.
    pub side: Side,
    /// Its limit price (the level it rests at).
    pub price: Price,
    /// Its client order id.
    pub id: OrderId,
    /// The account it belongs to.
    pub account: Account,
    /// What is left of it: its quantity less what has traded or been decremented.
    pub open_qty: Qty,
    /// Its time in force as entered (`Gtc` or `Post`: nothing else rests). State, not
    /// decoration: a replace that loses priority re-enters the order with it.
    pub tif: Tif,
    /// Its self-trade prevention mode as entered, for the same reason.
    pub stp: Stp,
}

/// One resting midpoint peg as seen from outside the book (`docs/SEMANTICS.md`, "Midpoint
/// peg orders"): it has no price of its own (it trades at the midpoint), only an optional
/// cap, and it is in no level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestingPeg {
    /// The side it rests on.
    pub side: Side,
    /// Its client order id.
    pub id: OrderId,
    /// The account it belongs to.
    pub account: Account,
    /// What is left of it.
    pub open_qty: Qty,
    /// A buy peg trades at no midpoint above it, a sell peg at none below; `None`: no cap.
    pub cap: Option<Price>,
    /// Its self-trade prevention mode as entered (it applies when the peg is the taker of
    /// a cross between resting pegs).
    pub stp: Stp,
}

/// One price level as seen from outside the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelView {
    /// The level's price.
    pub price: Price,
    /// The book's own running aggregate of open quantity at this level. In 128 bits:
    /// orders of up to `u64::MAX` each sum past 64 bits (two of 2^63 already do).
    pub total_qty: u128,
    /// Number of resting orders at this level.
    pub orders: usize,
}

/// A limit order book applying the matching rules documented in the README.
pub trait OrderBook {
    /// A short stable name, used in reports.
    fn name(&self) -> &'static str;

    /// The limits this book validates against.
    fn config(&self) -> &BookConfig;

    /// Apply one command, delivering its events to `sink` in order.
    fn apply<S: EventSink>(&mut self, cmd: &Command, sink: &mut S);

    /// Empty the book, as if new with the same configuration, keeping its storage (a book
    /// reused for the next session or test case need not allocate again). Emits nothing:
    /// the orders are forgotten, not cancelled.
    fn clear(&mut self);

    /// Highest resting bid, if any.
    fn best_bid(&self) -> Option<Price>;

    /// Lowest resting ask, if any.
    fn best_ask(&self) -> Option<Price>;

    /// Best price of a side.
    fn best(&self, side: Side) -> Option<Price> {
        match side {
            Side::Buy => self.best_bid(),
            Side::Sell => self.best_ask(),
        }
    }

    /// The resting order with this id, if it is live.
    fn order(&self, id: OrderId) -> Option<RestingOrder>;

    /// Number of resting orders.
    fn len(&self) -> usize;

    /// Number of stops and stop-limits waiting for their trigger (`docs/SEMANTICS.md`,
    /// "Stop orders"): live orders that are not resting, so not in [`Self::len`],
    /// [`Self::order`] or any walk. A book that takes no stops has none.
    fn pending_stops(&self) -> usize {
        0
    }

    /// Every pending stop and stop-limit, in arrival order (the order in which they
    /// trigger when one trade reaches several), each as the order it arrived as: what a
    /// snapshot records and the state hash covers (`journal/src/state_hash.rs`).
    fn for_each_pending_stop(&self, f: &mut dyn FnMut(&NewOrder)) {
        let _ = f;
    }

    /// Number of resting icebergs (`docs/SEMANTICS.md`, "Iceberg orders"), which are in
    /// [`Self::len`] like any resting order. A book that takes no icebergs has none.
    fn icebergs(&self) -> usize {
        0
    }

    /// Every resting iceberg as `(id, display, reserve)`, in dump order: the hidden part
    /// of the book, which no query shows, and which a snapshot records and the state hash
    /// covers (`journal/src/state_hash.rs`).
    fn for_each_iceberg(&self, f: &mut dyn FnMut(OrderId, Qty, Qty)) {
        let _ = f;
    }

    /// For a snapshot's rebuild only: make the resting order `id`, re-added with its shown
    /// quantity, an iceberg of `display` with `reserve` hidden, keeping its place. Returns
    /// false (and changes nothing) when `id` does not rest, `display` is 0 or the book
    /// takes no icebergs. Emits nothing.
    fn restore_iceberg(&mut self, id: OrderId, display: Qty, reserve: Qty) -> bool {
        let _ = (id, display, reserve);
        false
    }

    /// Number of resting midpoint pegs (`docs/SEMANTICS.md`, "Midpoint peg orders"). They
    /// are never displayed, so they are not in [`Self::len`] nor in any level, walk or
    /// query but [`Self::for_each_peg`]. A book that takes no pegs has none.
    fn pegs(&self) -> usize {
        0
    }

    /// Every resting midpoint peg in arrival order, both sides together (so each side's in
    /// its time priority). Which of two crossing pegs arrived later decides the taker, so
    /// a snapshot records and the state hash covers this order, not just each side's
    /// (`journal/src/state_hash.rs`); the dump groups them by side.
    fn for_each_peg(&self, f: &mut dyn FnMut(&RestingPeg)) {
        let _ = f;
    }

    /// No resting orders.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every resting order in dump order: bids from best to worst price, each level in
    /// time priority, then asks likewise.
    fn for_each_order(&self, f: &mut dyn FnMut(&RestingOrder));

    /// The resting orders of one side, from the best price to the worst and in time
    /// priority within a price, for as long as `f` returns `true`. Lets a caller that
    /// wants only the top of a side (the orders a quote makes marketable, say) stop there
    /// instead of visiting the whole book. The default walks [`Self::for_each_order`] and
    /// filters; books override it with a walk that really stops.
    fn for_each_order_of(&self, side: Side, f: &mut dyn FnMut(&RestingOrder) -> bool) {
        let mut going = true;
        self.for_each_order(&mut |o| {
            if going && o.side == side {
                going = f(o);
            }
        });
    }

    /// Every non-empty level of one side, from best to worst.
    fn for_each_level(&self, side: Side, f: &mut dyn FnMut(&LevelView)) {
        self.for_each_level_while(side, &mut |l| {
            f(l);
            true
        });
    }

    /// The non-empty levels of one side, from best to worst, for as long as `f` returns
    /// `true`: the walk stops at the first `false` (the top five levels of a depth feed
    /// cost five levels, not the whole side).
    fn for_each_level_while(&self, side: Side, f: &mut dyn FnMut(&LevelView) -> bool);

    /// Total open quantity resting at exactly `price` on `side`; 0 when nothing rests
    /// there. The book's own level aggregate (the [`LevelView::total_qty`] of that level),
    /// in 128 bits because a level's orders can sum past `u64`. The fast book answers from
    /// its ladder in O(log levels) without walking the level's orders.
    fn depth_at(&self, side: Side, price: Price) -> u128;

    /// All resting orders in dump order, collected (tests and tools; allocates).
    fn snapshot(&self) -> Vec<RestingOrder> {
        let mut v = Vec::with_capacity(self.len());
        self.for_each_order(&mut |o| v.push(*o));
        v
    }
}
