//! Commands into a book and events out of it.
//!
//! Both are small `Copy` values: commands travel through the lock-free ingress rings by
//! value, and events are handed one at a time to a caller-supplied [`EventSink`], so
//! nothing on the matching path allocates per command or per event.

use crate::types::*;

/// A new order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrder {
    /// Client order id; must not name a live order.
    pub id: OrderId,
    /// Beneficial owner (self-trade prevention compares these).
    pub account: Account,
    /// Buy or sell.
    pub side: Side,
    /// Limit or market.
    pub ord_type: OrdType,
    /// `Some` for limit orders, `None` for market orders (validation rejects the other
    /// combinations with `BadPrice`).
    pub price: Option<Price>,
    /// Quantity, `1..=BookConfig::max_order_qty`.
    pub qty: Qty,
    /// Time in force.
    pub tif: Tif,
    /// Self-trade prevention mode, applied when this order meets its own account.
    pub stp: Stp,
}

impl NewOrder {
    /// A GTC limit order with no self-trade prevention.
    pub fn limit(id: OrderId, account: Account, side: Side, price: Price, qty: Qty) -> Self {
        NewOrder {
            id,
            account,
            side,
            ord_type: OrdType::Limit,
            price: Some(price),
            qty,
            tif: Tif::Gtc,
            stp: Stp::None,
        }
    }

    /// A market order (IOC) with no self-trade prevention.
    pub fn market(id: OrderId, account: Account, side: Side, qty: Qty) -> Self {
        NewOrder {
            id,
            account,
            side,
            ord_type: OrdType::Market,
            price: None,
            qty,
            tif: Tif::Ioc,
            stp: Stp::None,
        }
    }

    /// The same order with time in force `tif`.
    pub fn with_tif(mut self, tif: Tif) -> Self {
        self.tif = tif;
        self
    }

    /// The same order with self-trade prevention mode `stp`.
    pub fn with_stp(mut self, stp: Stp) -> Self {
        self.stp = stp;
        self
    }
}

/// One instruction to a book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Enter a new order.
    New(NewOrder),
    /// Remove a resting order.
    Cancel {
        /// The resting order.
        id: OrderId,
    },
    /// Change a resting order's price and open quantity.
    Replace {
        /// The resting order.
        id: OrderId,
        /// Its new limit price.
        price: Price,
        /// Its new open quantity.
        qty: Qty,
    },
}

impl Command {
    /// The order id the command names.
    pub fn id(&self) -> OrderId {
        match self {
            Command::New(o) => o.id,
            Command::Cancel { id } | Command::Replace { id, .. } => *id,
        }
    }
}

/// One outcome of a command. A command produces one or more events, in a fixed order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A new order was accepted.
    Ack {
        /// The order.
        id: OrderId,
    },
    /// A replace was accepted.
    Replaced {
        /// The order.
        id: OrderId,
    },
    /// A fill, printed at the maker's price.
    Trade {
        /// The incoming order.
        taker: OrderId,
        /// The resting order.
        maker: OrderId,
        /// The maker's price.
        price: Price,
        /// Quantity traded.
        qty: Qty,
    },
    /// `qty` units of order `id` left the book without trading.
    ///
    /// It names the order's side and price too, so that an embedder that reports a cancel
    /// (as an execution report does) need not look the order up before cancelling it.
    Cancel {
        /// The order.
        id: OrderId,
        /// Quantity removed.
        qty: Qty,
        /// Why.
        reason: CancelReason,
        /// The order's side.
        side: Side,
        /// The order's limit price: where a resting order rests, or the limit of an
        /// incoming (or re-entering, replaced) order. `None` for a market order, which has
        /// no limit (as FIX leaves `Price` out of a market order's execution report); the
        /// text format prints it as an empty field.
        price: Option<Price>,
    },
    /// The command was rejected and changed nothing.
    Reject {
        /// The order id the command named.
        id: OrderId,
        /// Why.
        reason: RejectReason,
    },
}

// An event stays five words (40 bytes): the engine's output ring and every sink copy it by
// value. The side and price of a cancel fit in what a trade already needed.
const _: () = assert!(std::mem::size_of::<Event>() == 40);

/// Where events go: whatever the caller needs (a vector in tests, a counter in
/// benchmarks, the engine's output ring). Generic over the event type, so one trait
/// serves the books (which deliver [`Event`]s) and any processor with events of its own
/// (the wholesaler's, or an embedder's `#[repr(C)]` record).
pub trait Sink<E> {
    /// Delivers one event. Events of one command arrive in the order they happened.
    fn event(&mut self, e: E);
}

impl<E> Sink<E> for Vec<E> {
    #[inline]
    fn event(&mut self, e: E) {
        self.push(e);
    }
}

impl<E, S: Sink<E> + ?Sized> Sink<E> for &mut S {
    #[inline]
    fn event(&mut self, e: E) {
        (**self).event(e)
    }
}

/// Where a book delivers events: shorthand for [`Sink<Event>`], implemented by every such
/// sink (implement [`Sink<Event>`], never this).
pub trait EventSink: Sink<Event> {}

impl<S: Sink<Event> + ?Sized> EventSink for S {}

/// A sink that only counts, for benchmarks: it keeps the compiler from discarding the
/// work and costs one add per event.
#[derive(Default, Debug, Clone, Copy)]
pub struct CountingSink {
    /// Events seen.
    pub events: u64,
    /// Of which trades.
    pub trades: u64,
    /// Quantity traded over those trades.
    pub traded_qty: u64,
}

impl Sink<Event> for CountingSink {
    #[inline]
    fn event(&mut self, e: Event) {
        self.events += 1;
        if let Event::Trade { qty, .. } = e {
            self.trades += 1;
            self.traded_qty += qty;
        }
    }
}
