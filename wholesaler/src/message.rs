//! The wholesaler's vocabulary: the messages it takes ([`Msg`]: retail orders, cancels,
//! replaces and quotes, in one sequence) and the events it gives back ([`Event`]), with
//! the small enums that say how a fill happened and why an order was routed, cancelled
//! or rejected. All small `Copy` values, so they travel through the engine's rings by
//! value.

use crate::quote::Quote;
use flowmatch_core::{NewOrder, OrderId, Price, Qty, RejectReason as BookReject, Side};

/// One message into the internalizer. Everything that changes its state arrives this way,
/// in one sequence, so that a replay of the same sequence gives the same events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    /// A new retail order (its id says which broker sent it, see [`broker_of`](crate::broker_of)).
    Order(NewOrder),
    /// Cancel a resting retail order.
    Cancel {
        /// The resting order.
        id: OrderId,
    },
    /// Cancel-replace: cancel `id` and enter `new_id` with the same account, side and time
    /// in force at a new price and quantity. The new order is handled like any new order.
    Replace {
        /// The resting order to cancel.
        id: OrderId,
        /// The id of the order that replaces it (may equal `id`).
        new_id: OrderId,
        /// The new limit price.
        price: Price,
        /// The new quantity.
        qty: Qty,
    },
    /// A new NBBO from the market-data feed.
    Quote(Quote),
}

/// How a customer fill happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FillKind {
    /// Incoming customer order crossed with a resting customer order (taker side).
    AgencyTaker,
    /// Resting customer order crossed by an incoming customer order (maker side).
    AgencyMaker,
    /// Filled by the wholesaler against its own inventory.
    Principal,
    /// Filled on the exchange after routing.
    Exchange,
}

/// Why (part of) an order was routed to the exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteReason {
    /// Larger than the maximum auto-execution size.
    Size,
    /// Quoted spread wider than `max_autoex_spread_ticks`: the wholesaler does not
    /// auto-execute against a quote that wide (an abnormal or stale market).
    WideQuote,
    /// A principal fill would have taken the inventory past its limit.
    Inventory,
}

/// Why a customer order (or part of it) was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CancelReason {
    /// Cancelled by the customer.
    User,
    /// Replaced by a new order (cancel-replace).
    Replaced,
    /// IOC or market remainder that nobody would fill.
    Ioc,
    /// Routed, but the displayed depth within its limit ran out.
    NoLiquidity,
    /// Routed, and the price collar stopped it: displayed depth was left beyond the collar
    /// (and within the customer's limit), but no customer fill may be more than the
    /// collar beyond the NBBO.
    Collar,
    /// Self-trade prevented: a resting order removed because its own account's incoming
    /// order would have traded with it.
    Stp,
}

/// Why a message was rejected. A rejected message changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// Reject from the internal book's validation (quantity, price, tif, duplicate id).
    Book(BookReject),
    /// No valid NBBO has been received yet: a retail order cannot be priced.
    NoQuote,
    /// Cancel or replace of an order that is not resting (filled, cancelled or unknown).
    UnknownId,
    /// A quote update with `bid >= ask` (ignored; the previous quote stays in force).
    CrossedQuote,
}

/// One outcome, delivered to a [`Sink<Event>`](flowmatch_core::Sink). Small and `Copy`: the
/// engine publishes these as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A retail order was accepted; `marketable` says which path it takes.
    Accepted {
        /// The order.
        id: OrderId,
        /// True: it is handled now (cross, principal, route); false: it rests.
        marketable: bool,
    },
    /// A message was rejected (for a quote, `id` is 0).
    Rejected {
        /// The order the message named (0 for a quote).
        id: OrderId,
        /// Why.
        reason: RejectReason,
    },
    /// `qty` of customer order `id` was filled at `price`. `contra` is the other customer
    /// order for agency crosses, 0 otherwise.
    Fill {
        /// The customer order filled.
        id: OrderId,
        /// Who took the other side.
        kind: FillKind,
        /// Execution price.
        price: Price,
        /// Quantity filled.
        qty: Qty,
        /// The other customer order of an agency cross; 0 otherwise.
        contra: OrderId,
    },
    /// `qty` of order `id` was sent to the exchange.
    Routed {
        /// The customer order.
        id: OrderId,
        /// Quantity sent.
        qty: Qty,
        /// Why it was not filled internally.
        reason: RouteReason,
    },
    /// `qty` of order `id` now rests in the internal book.
    Rested {
        /// The customer order.
        id: OrderId,
        /// Quantity resting.
        qty: Qty,
    },
    /// `qty` of order `id` left without trading.
    Cancelled {
        /// The customer order.
        id: OrderId,
        /// Quantity removed.
        qty: Qty,
        /// Why.
        reason: CancelReason,
    },
    /// The wholesaler traded `qty` on the exchange at `price` to hedge its inventory.
    Hedge {
        /// The wholesaler's side of the hedge (sell when long).
        side: Side,
        /// Execution price.
        price: Price,
        /// Quantity traded.
        qty: Qty,
    },
}
