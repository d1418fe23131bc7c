//! # flowmatch-wholesaler
//!
//! A US-equity wholesaler's order handling (the internalizer), sitting on the engine thread
//! in front of a flowmatch [`OrderBook`](flowmatch_core::OrderBook) that holds its customers' resting retail limit
//! orders. It lives beside `flowmatch-core` rather than in it: NBBO pricing, broker id
//! spaces, the collar and hedging are one business's rules, not matching.
//!
//! # Prices
//! Retail work prices in **1 tick = $0.0001** ([`TICKS_PER_CENT`] = 100), against the
//! national best bid and offer ([`Quote`]); nothing converts a price to floating point.
//!
//! # What happens to a retail order
//! A *marketable* order (a market order, or a limit at or through the NBBO on the other
//! side) goes through, in this order:
//! 1. **Agency cross** against resting retail orders at least as good for it as the price
//!    it would otherwise get, at the resting order's price: the order is sent to the
//!    internal book as an IOC with self-trade prevention `CancelMaker` (a customer never
//!    trades with itself), limited at the wholesaler's improved principal price when the
//!    wholesaler can fill it (step 2), else at the NBBO (buy: the offer; sell: the bid).
//!    Best execution: a resting order *at* the NBBO is worse for the incoming order than
//!    the improved principal price, so it is not crossed while principal is available.
//!    Customer priority still holds: the cross runs before any principal fill, so the
//!    wholesaler never trades for itself at a price a resting customer order would accept.
//! 2. **Principal fill** from the wholesaler at the NBBO improved by
//!    `spread * improvement_permille / 1000` ticks, within the risk limits (auto-execution
//!    size, the wide-quote rule, inventory). What principal leaves (inventory full) is
//!    crossed against resting orders at the NBBO, and whatever is still left is
//! 3. **routed** to the exchange ([`Venue`]) as an IOC limited at the tighter of the
//!    customer's limit and the **price collar** (buy: offer + collar; sell: bid − collar).
//!    What the displayed depth within that limit cannot fill is cancelled: `Collar` when
//!    displayed depth beyond the collar (within the customer's limit) was left untaken,
//!    `NoLiquidity` otherwise.
//!
//! A *non-marketable* limit rests in the internal book (it may first cross resting retail
//! orders priced inside the NBBO). When a quote update makes resting orders marketable,
//! each is filled (time priority within the best level first) before anything else: by the
//! wholesaler at the new NBBO if the inventory limit allows, otherwise routed.
//!
//! The wholesaler's inventory is netted across all fills; when it exceeds the hedge
//! threshold the excess over the hedge target is sold or bought on the exchange.
//!
//! Time in force: market and IOC remainders are cancelled, GTC and post-only limits rest
//! (a marketable post-only is rejected `WouldCross`), fill-or-kill is rejected `BadTif`
//! (it cannot be honoured across internal and exchange liquidity without a dry run of the
//! exchange).
//!
//! Finding the orders a quote makes marketable walks that side of the internal book from
//! its best price through [`OrderBook::for_each_order_of`](flowmatch_core::OrderBook::for_each_order_of) and stops at the first order
//! the quote does not reach, so it costs what it fills plus one.
//!
//! # Guarantees (each checked by tests in `tests/retail_*.rs`)
//! - No internal fill (agency or principal) is at a price worse than the NBBO at the
//!   moment the order is handled, and no fill at all is past the customer's limit.
//! - Every share of every accepted order ends filled, cancelled or open in the book.
//! - `|inventory| <= max_inventory` after every principal fill (hedges only reduce it).
//!
//! # Modules
//! - [`quote`]: the tick, the NBBO and price improvement;
//! - [`ids`]: broker id spaces;
//! - [`message`]: what goes in ([`Msg`]) and what comes out ([`Event`]);
//! - [`config`]: policy and risk limits ([`Config`]) and counters ([`Stats`]);
//! - [`desk`]: the netting desk of `flowmatch run --scenario crude-2020` (client
//!   positions, margin, the net hedged on a futures book; `docs/DESK.md`);
//! - [`symbol_desk`]: the per-symbol desk of a cross-section (quoting, PFOF, routing, the
//!   Regulation NMS regime);
//! - [`venue`]: the exchange it routes to ([`Venue`]);
//! - [`internalizer`]: the state machine ([`Internalizer`]); with the default `engine`
//!   feature it is also an engine [`Processor`](flowmatch_core::engine::Processor) that
//!   publishes its [`Event`]s as they are.
//!
//! # Allocation
//! The only buffers are two scratch vectors sized at construction; per message nothing
//! is allocated unless a single message produces more book events or sweeps more resting
//! orders than that capacity (then the vector grows once).

#![deny(missing_docs)]

pub mod config;
pub mod desk;
#[cfg(feature = "engine")]
mod engine;
pub mod ids;
pub mod internalizer;
pub mod message;
pub mod quote;
pub mod symbol_desk;
pub mod venue;

pub use config::{Config, Stats};
pub use ids::{broker_of, retail_id, BROKER_SHIFT};
pub use internalizer::Internalizer;
pub use message::{CancelReason, Event, FillKind, Msg, RejectReason, RouteReason};
pub use quote::{improvement, Quote, TICKS_PER_CENT};
pub use venue::Venue;
