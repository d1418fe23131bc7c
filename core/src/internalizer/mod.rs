//! The internalizer: a wholesaler's order handling, sitting on the engine thread in front of
//! an [`OrderBook`] that holds its customers' resting retail limit orders.
//!
//! # Prices
//! Internal prices need sub-penny resolution (price improvement of a fraction of a cent),
//! while the national best bid and offer (NBBO) moves in whole cents. flowmatch therefore
//! uses **1 tick = $0.0001** for retail work: one cent is [`TICKS_PER_CENT`] = 100 ticks.
//! Nothing here converts a price to floating point.
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
//! its best price through [`OrderBook::for_each_order_of`] and stops at the first order
//! the quote does not reach, so it costs what it fills plus one.
//!
//! # Guarantees (each checked by tests in `tests/retail_*.rs`)
//! - No internal fill (agency or principal) is at a price worse than the NBBO at the
//!   moment the order is handled, and no fill at all is past the customer's limit.
//! - Every share of every accepted order ends filled, cancelled or open in the book.
//! - `|inventory| <= max_inventory` after every principal fill (hedges only reduce it).
//!
//! # Allocation
//! The only buffers are two scratch vectors sized at construction; per message nothing
//! is allocated unless a single message produces more book events or sweeps more resting
//! orders than that capacity (then the vector grows once).

use crate::book::OrderBook;
use crate::command::{Command, Event, NewOrder, Sink};
use crate::engine::Processor;
use crate::types::*;

/// Ticks per US cent when flowmatch prices retail flow (1 tick = $0.0001).
pub const TICKS_PER_CENT: Price = 100;

/// Customer order ids carry their broker in the top 16 bits, so each broker has its own
/// id space (`(broker << BROKER_SHIFT) | sequence`).
pub const BROKER_SHIFT: u32 = 40;

/// The broker an order id belongs to.
#[inline]
pub fn broker_of(id: OrderId) -> u16 {
    (id >> BROKER_SHIFT) as u16
}

/// A customer order id in broker `broker`'s id space.
#[inline]
pub fn retail_id(broker: u16, seq: u64) -> OrderId {
    ((broker as u64) << BROKER_SHIFT) | (seq & ((1u64 << BROKER_SHIFT) - 1))
}

/// The national best bid and offer with the displayed size at each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quote {
    pub bid: Price,
    pub ask: Price,
    pub bid_size: Qty,
    pub ask_size: Qty,
}

impl Quote {
    /// The NBBO price on `side` of the market (buy: bid, sell: ask).
    #[inline]
    pub fn price(&self, side: Side) -> Price {
        match side {
            Side::Buy => self.bid,
            Side::Sell => self.ask,
        }
    }

    /// The price a taker of `side` pays or receives at the NBBO (buy: ask, sell: bid).
    #[inline]
    pub fn far(&self, taker: Side) -> Price {
        self.price(taker.opposite())
    }

    /// Quoted spread in ticks (saturating: quotes near the `i64` limits cannot overflow).
    #[inline]
    pub fn spread(&self) -> Price {
        self.ask.saturating_sub(self.bid)
    }

    /// A two-sided, uncrossed, unlocked quote.
    #[inline]
    pub fn is_valid(&self) -> bool {
        self.bid < self.ask
    }
}

/// One message into the internalizer. Everything that changes its state arrives this way,
/// in one sequence, so that a replay of the same sequence gives the same events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    /// A new retail order (its id says which broker sent it, see [`broker_of`]).
    Order(NewOrder),
    /// Cancel a resting retail order.
    Cancel { id: OrderId },
    /// Cancel-replace: cancel `id` and enter `new_id` with the same account, side and time
    /// in force at a new price and quantity. The new order is handled like any new order.
    Replace {
        id: OrderId,
        new_id: OrderId,
        price: Price,
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
    /// The NBBO is locked or crossed.
    BadQuote,
}

/// Why a customer order (or part of it) was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IxCancel {
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
pub enum IxReject {
    /// Reject from the internal book's validation (quantity, price, tif, duplicate id).
    Book(RejectReason),
    /// No valid NBBO has been received yet: a retail order cannot be priced.
    NoQuote,
    /// Cancel or replace of an order that is not resting (filled, cancelled or unknown).
    UnknownId,
    /// A quote update with `bid >= ask` (ignored; the previous quote stays in force).
    CrossedQuote,
}

/// One outcome, delivered to a [`Sink<IxEvent>`]. Small and `Copy`: the engine publishes
/// these as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IxEvent {
    /// A retail order was accepted; `marketable` says which path it takes.
    Accepted { id: OrderId, marketable: bool },
    /// A message was rejected (for a quote, `id` is 0).
    Rejected { id: OrderId, reason: IxReject },
    /// `qty` of customer order `id` was filled at `price`. `contra` is the other customer
    /// order for agency crosses, 0 otherwise.
    Fill {
        id: OrderId,
        kind: FillKind,
        price: Price,
        qty: Qty,
        contra: OrderId,
    },
    /// `qty` of order `id` was sent to the exchange.
    Routed {
        id: OrderId,
        qty: Qty,
        reason: RouteReason,
    },
    /// `qty` of order `id` now rests in the internal book.
    Rested { id: OrderId, qty: Qty },
    /// `qty` of order `id` left without trading.
    Cancelled {
        id: OrderId,
        qty: Qty,
        reason: IxCancel,
    },
    /// The wholesaler traded `qty` on the exchange at `price` to hedge its inventory.
    Hedge { side: Side, price: Price, qty: Qty },
}

/// The exchange the internalizer routes to and hedges on. It is told every quote, and
/// executes immediate-or-cancel orders against its displayed liquidity, reporting each
/// fill through `fill(price, qty)`. Implementations must be deterministic functions of the
/// quotes and orders they have been given.
pub trait Venue {
    fn on_quote(&mut self, q: &Quote);
    /// Execute up to `qty` on `side` no worse than `limit` (`None`: any displayed price).
    /// Returns the quantity filled.
    fn execute<F: FnMut(Price, Qty)>(
        &mut self,
        side: Side,
        qty: Qty,
        limit: Option<Price>,
        fill: F,
    ) -> Qty;
    /// Displayed quantity a taker of `side` could still take no worse than `limit`
    /// (`None`: any displayed price), without taking it.
    fn displayed(&self, side: Side, limit: Option<Price>) -> Qty;
}

/// The wholesaler's policy and risk limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IxConfig {
    /// The wholesaler's own account (never a customer's).
    pub account: Account,
    /// Price improvement on principal fills, in thousandths of the quoted spread
    /// (0..=500: at most to the midpoint).
    pub improvement_permille: u32,
    /// Largest order (total quantity) the wholesaler will fill as principal.
    pub max_autoex_qty: Qty,
    /// Price collar (ticks): no customer fill, internal or routed, more than this beyond
    /// the NBBO in force when the order is handled (buy: above offer + collar; sell: below
    /// bid − collar). Internal fills are at the NBBO or better anyway; the collar limits
    /// routed orders walking the exchange's displayed depth.
    pub collar_ticks: Price,
    /// Widest quoted spread (ticks) at which the wholesaler still fills as principal
    /// (the wide-quote rule); orders arriving on a wider quote are routed (`WideQuote`).
    pub max_autoex_spread_ticks: Price,
    /// Largest absolute inventory (shares) after any principal fill.
    pub max_inventory: Qty,
    /// Absolute inventory above which the excess is hedged on the exchange.
    pub hedge_threshold: Qty,
    /// Absolute inventory a hedge brings the position back to.
    pub hedge_target: Qty,
}

impl Default for IxConfig {
    fn default() -> Self {
        IxConfig {
            account: u32::MAX,
            improvement_permille: 300,
            max_autoex_qty: 500,
            collar_ticks: 5 * TICKS_PER_CENT,
            max_autoex_spread_ticks: 10 * TICKS_PER_CENT,
            max_inventory: 5_000,
            hedge_threshold: 3_000,
            hedge_target: 1_000,
        }
    }
}

impl IxConfig {
    /// Checks the relations between the fields. Returns the offending field's name and why.
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if self.improvement_permille > 500 {
            return Err((
                "improvement_permille",
                "must be at most 500 (improvement beyond the midpoint)",
            ));
        }
        if self.collar_ticks < 0 {
            return Err(("collar_ticks", "must not be negative"));
        }
        if self.max_autoex_spread_ticks <= 0 {
            return Err(("max_autoex_spread_ticks", "must be positive"));
        }
        if self.hedge_target > self.hedge_threshold {
            return Err(("hedge_target", "must not exceed hedge_threshold"));
        }
        if self.hedge_threshold > self.max_inventory {
            return Err(("hedge_threshold", "must not exceed max_inventory"));
        }
        Ok(())
    }
}

/// Running totals the internalizer keeps for itself (cheap counters, no allocation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IxStats {
    pub messages: u64,
    pub principal_shares: u64,
    pub agency_shares: u64,
    pub routed_shares: u64,
    pub hedged_shares: u64,
    pub stp_cancels: u64,
}

/// The wholesaler: internal book `B` for resting retail orders, exchange `V`.
pub struct Internalizer<B: OrderBook, V: Venue> {
    cfg: IxConfig,
    book: B,
    venue: V,
    quote: Option<Quote>,
    /// Net position in shares (positive: long).
    inventory: i64,
    /// Cash in ticks x shares (i128: a day of flow at extreme prices cannot overflow).
    cash: i128,
    stats: IxStats,
    scratch: Vec<Event>,
    sweep: Vec<(OrderId, Price, Qty)>,
}

impl<B: OrderBook, V: Venue> Internalizer<B, V> {
    /// `cfg` must pass [`IxConfig::validate`] (the harness validates scenario files first);
    /// an invalid one is clamped here rather than trusted.
    pub fn new(mut cfg: IxConfig, book: B, venue: V) -> Self {
        cfg.improvement_permille = cfg.improvement_permille.min(500);
        cfg.hedge_threshold = cfg.hedge_threshold.min(cfg.max_inventory);
        cfg.hedge_target = cfg.hedge_target.min(cfg.hedge_threshold);
        cfg.collar_ticks = cfg.collar_ticks.max(0);
        Internalizer {
            cfg,
            book,
            venue,
            quote: None,
            inventory: 0,
            cash: 0,
            stats: IxStats::default(),
            scratch: Vec::with_capacity(1024),
            sweep: Vec::with_capacity(1024),
        }
    }

    pub fn config(&self) -> &IxConfig {
        &self.cfg
    }
    pub fn book(&self) -> &B {
        &self.book
    }
    pub fn venue(&self) -> &V {
        &self.venue
    }
    pub fn quote(&self) -> Option<Quote> {
        self.quote
    }
    /// Net position in shares.
    pub fn inventory(&self) -> i64 {
        self.inventory
    }
    /// Cash from principal fills and hedges, in ticks x shares (fees and payments excluded).
    pub fn cash(&self) -> i128 {
        self.cash
    }
    pub fn stats(&self) -> &IxStats {
        &self.stats
    }

    /// Handle one message, delivering its events to `sink` in order.
    pub fn on_message<S: Sink<IxEvent>>(&mut self, msg: &Msg, sink: &mut S) {
        self.stats.messages += 1;
        match *msg {
            Msg::Quote(q) => self.on_quote(q, sink),
            Msg::Order(o) => self.on_order(o, sink),
            Msg::Cancel { id } => {
                if self.book.order(id).is_none() {
                    sink.event(IxEvent::Rejected {
                        id,
                        reason: IxReject::UnknownId,
                    });
                    return;
                }
                self.cancel_resting(id, IxCancel::User, sink);
            }
            Msg::Replace {
                id,
                new_id,
                price,
                qty,
            } => {
                let Some(old) = self.book.order(id) else {
                    sink.event(IxEvent::Rejected {
                        id,
                        reason: IxReject::UnknownId,
                    });
                    return;
                };
                // Validate the new order before touching the old one, so that a rejected
                // replace changes nothing.
                let cfg = self.book.config();
                let reason = if !cfg.qty_ok(qty) {
                    Some(IxReject::Book(RejectReason::BadQty))
                } else if !cfg.price_ok(price) {
                    Some(IxReject::Book(RejectReason::BadPrice))
                } else if new_id != id && self.book.order(new_id).is_some() {
                    Some(IxReject::Book(RejectReason::DuplicateId))
                } else if self.quote.is_none() {
                    Some(IxReject::NoQuote)
                } else {
                    None
                };
                if let Some(reason) = reason {
                    sink.event(IxEvent::Rejected { id: new_id, reason });
                    return;
                }
                self.cancel_resting(id, IxCancel::Replaced, sink);
                // Only GTC orders rest, so the replacement is GTC too.
                let o = NewOrder::limit(new_id, old.account, old.side, price, qty);
                self.on_order(o, sink);
            }
        }
    }

    /// Take a resting customer order out of the internal book, reporting the quantity
    /// removed with `reason` (a user cancel, or the old half of a replace).
    fn cancel_resting<S: Sink<IxEvent>>(&mut self, id: OrderId, reason: IxCancel, sink: &mut S) {
        self.scratch.clear();
        self.book.apply(&Command::Cancel { id }, &mut self.scratch);
        for e in &self.scratch {
            if let Event::Cancel { id, qty, .. } = *e {
                sink.event(IxEvent::Cancelled { id, qty, reason });
            }
        }
    }

    fn on_quote<S: Sink<IxEvent>>(&mut self, q: Quote, sink: &mut S) {
        if !q.is_valid() {
            sink.event(IxEvent::Rejected {
                id: 0,
                reason: IxReject::CrossedQuote,
            });
            return;
        }
        self.quote = Some(q);
        self.venue.on_quote(&q);
        // Customer priority: resting orders the new quote makes marketable are filled
        // before the wholesaler does anything else at these prices.
        self.sweep_side(Side::Buy, q, sink);
        self.sweep_side(Side::Sell, q, sink);
    }

    /// Fill every resting order of `side` that the quote `q` makes marketable, best price
    /// first and in time priority within a price.
    fn sweep_side<S: Sink<IxEvent>>(&mut self, side: Side, q: Quote, sink: &mut S) {
        let far = q.far(side);
        match self.book.best(side) {
            Some(best) if side.accepts(best, far) => {}
            _ => return,
        }
        self.sweep.clear();
        let sweep = &mut self.sweep;
        self.book.for_each_order_of(side, &mut |o| {
            let reached = side.accepts(o.price, far);
            if reached {
                sweep.push((o.id, o.price, o.open_qty));
            }
            reached
        });
        for i in 0..self.sweep.len() {
            let (id, limit, qty) = self.sweep[i];
            self.scratch.clear();
            self.book.apply(&Command::Cancel { id }, &mut self.scratch);
            // The customer gets the NBBO (at or better than its limit, since it is
            // marketable): filled by the wholesaler if the inventory allows, else routed.
            let room = self.room(side.opposite());
            let principal = qty.min(room);
            if principal > 0 {
                self.principal_fill(id, side, far, principal, sink);
            }
            let rest = qty - principal;
            if rest > 0 {
                self.route(id, side, rest, Some(limit), RouteReason::Inventory, sink);
            }
            self.hedge_if_needed(sink);
        }
    }

    fn on_order<S: Sink<IxEvent>>(&mut self, o: NewOrder, sink: &mut S) {
        // Validation mirrors the book's (so the reason is the book's), plus the quote.
        let cfg = self.book.config();
        let reason = if !cfg.qty_ok(o.qty) {
            Some(IxReject::Book(RejectReason::BadQty))
        } else if match o.ord_type {
            OrdType::Limit => !o.price.is_some_and(|p| cfg.price_ok(p)),
            OrdType::Market => o.price.is_some(),
        } {
            Some(IxReject::Book(RejectReason::BadPrice))
        } else if o.ord_type == OrdType::Market && matches!(o.tif, Tif::Gtc | Tif::Post) {
            Some(IxReject::Book(RejectReason::BadTif))
        } else if self.book.order(o.id).is_some() {
            Some(IxReject::Book(RejectReason::DuplicateId))
        } else if self.quote.is_none() {
            Some(IxReject::NoQuote)
        } else {
            None
        };
        if let Some(reason) = reason {
            sink.event(IxEvent::Rejected { id: o.id, reason });
            return;
        }
        let q = match self.quote {
            Some(q) => q,
            None => return,
        };
        let far = q.far(o.side);
        let marketable = match o.price {
            None => true,
            Some(p) => o.side.accepts(p, far),
        };
        // Fill-or-kill cannot be honoured across internal and exchange liquidity without a
        // dry run of the exchange; a marketable post-only order would take liquidity.
        // Both are refused rather than executed against their instructions.
        if o.tif == Tif::Fok {
            sink.event(IxEvent::Rejected {
                id: o.id,
                reason: IxReject::Book(RejectReason::BadTif),
            });
            return;
        }
        if o.tif == Tif::Post && marketable {
            sink.event(IxEvent::Rejected {
                id: o.id,
                reason: IxReject::Book(RejectReason::WouldCross),
            });
            return;
        }
        sink.event(IxEvent::Accepted {
            id: o.id,
            marketable,
        });
        if !marketable {
            self.rest(o, sink);
            return;
        }
        // The risk limits decide whether the wholesaler fills as principal at all.
        let no_principal = if o.qty > self.cfg.max_autoex_qty {
            Some(RouteReason::Size)
        } else if q.spread() > self.cfg.max_autoex_spread_ticks {
            Some(RouteReason::WideQuote)
        } else {
            None
        };
        let principal_price = match no_principal {
            None => {
                let imp = improvement(q.spread(), self.cfg.improvement_permille);
                Some(match o.side {
                    Side::Buy => far - imp,
                    Side::Sell => far + imp,
                })
            }
            Some(_) => None,
        };
        // 1. Agency cross, limited at the best price the order would otherwise get.
        let cross_limit = match principal_price {
            Some(p) if self.room(o.side.opposite()) > 0 => p,
            _ => far,
        };
        let mut left = self.cross(o, o.qty, cross_limit, sink);
        if left == 0 {
            return;
        }
        // 2. Principal, within the inventory limit.
        if let Some(price) = principal_price {
            let n = left.min(self.room(o.side.opposite()));
            if n > 0 {
                self.principal_fill(o.id, o.side, price, n, sink);
                left -= n;
                self.hedge_if_needed(sink);
            }
            // What the inventory limit left may still meet resting orders at the NBBO.
            if left > 0 && cross_limit != far {
                left = self.cross(o, left, far, sink);
            }
        }
        if left == 0 {
            return;
        }
        // 3. Route the rest to the exchange, within the customer's limit and the collar.
        let reason = no_principal.unwrap_or(RouteReason::Inventory);
        self.route(o.id, o.side, left, o.price, reason, sink);
    }

    /// A non-marketable limit: cross resting retail orders priced inside the NBBO if it
    /// meets any, then rest.
    fn rest<S: Sink<IxEvent>>(&mut self, o: NewOrder, sink: &mut S) {
        let ord = NewOrder {
            stp: Stp::CancelMaker,
            tif: Tif::Gtc,
            ..o
        };
        let ioc = o.tif == Tif::Ioc;
        let ord = if ioc { ord.with_tif(Tif::Ioc) } else { ord };
        let left = self.apply_to_book(ord, sink);
        if left > 0 {
            if ioc {
                sink.event(IxEvent::Cancelled {
                    id: o.id,
                    qty: left,
                    reason: IxCancel::Ioc,
                });
            } else {
                sink.event(IxEvent::Rested {
                    id: o.id,
                    qty: left,
                });
            }
        }
    }

    /// Agency cross of `qty` of marketable order `o`, as an IOC limited at `limit` (at or
    /// better than the NBBO it would take). Returns the quantity left.
    fn cross<S: Sink<IxEvent>>(
        &mut self,
        o: NewOrder,
        qty: Qty,
        limit: Price,
        sink: &mut S,
    ) -> Qty {
        match self.book.best(o.side.opposite()) {
            Some(best) if o.side.accepts(limit, best) => {}
            _ => return qty,
        }
        let ord = NewOrder {
            ord_type: OrdType::Limit,
            price: Some(limit),
            tif: Tif::Ioc,
            stp: Stp::CancelMaker,
            qty,
            ..o
        };
        self.apply_to_book(ord, sink)
    }

    /// Send `ord` to the internal book and translate its events. Returns what the book
    /// did not fill: the IOC remainder, or the quantity left resting.
    fn apply_to_book<S: Sink<IxEvent>>(&mut self, ord: NewOrder, sink: &mut S) -> Qty {
        self.scratch.clear();
        self.book.apply(&Command::New(ord), &mut self.scratch);
        let mut filled = 0;
        let mut ioc_left = None;
        for e in &self.scratch {
            match *e {
                Event::Trade {
                    taker,
                    maker,
                    price,
                    qty,
                } => {
                    filled += qty;
                    self.stats.agency_shares += qty;
                    sink.event(IxEvent::Fill {
                        id: taker,
                        kind: FillKind::AgencyTaker,
                        price,
                        qty,
                        contra: maker,
                    });
                    sink.event(IxEvent::Fill {
                        id: maker,
                        kind: FillKind::AgencyMaker,
                        price,
                        qty,
                        contra: taker,
                    });
                }
                Event::Cancel {
                    id,
                    qty,
                    reason: CancelReason::Stp,
                } if id != ord.id => {
                    self.stats.stp_cancels += 1;
                    sink.event(IxEvent::Cancelled {
                        id,
                        qty,
                        reason: IxCancel::Stp,
                    });
                }
                Event::Cancel { id, qty, .. } if id == ord.id => ioc_left = Some(qty),
                _ => {}
            }
        }
        match ioc_left {
            Some(q) => q,
            None => ord.qty - filled.min(ord.qty),
        }
    }

    /// Shares the wholesaler may still take on the `wholesaler_side` without passing
    /// `max_inventory`.
    #[inline]
    fn room(&self, wholesaler_side: Side) -> Qty {
        let max = self.cfg.max_inventory as i128;
        let inv = self.inventory as i128;
        let r = match wholesaler_side {
            Side::Buy => max - inv,
            Side::Sell => max + inv,
        };
        r.max(0) as Qty
    }

    /// The wholesaler takes the other side of `qty` of customer order `id` at `price`.
    fn principal_fill<S: Sink<IxEvent>>(
        &mut self,
        id: OrderId,
        customer_side: Side,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) {
        let signed = match customer_side {
            Side::Buy => -(qty as i64),
            Side::Sell => qty as i64,
        };
        self.inventory += signed;
        self.cash -= signed as i128 * price as i128;
        self.stats.principal_shares += qty;
        sink.event(IxEvent::Fill {
            id,
            kind: FillKind::Principal,
            price,
            qty,
            contra: 0,
        });
    }

    /// Route `qty` of customer order `id` to the exchange, no worse than the customer's
    /// `limit` nor than the price collar around the NBBO in force. Reports fills and
    /// cancels the unfilled rest (`Collar` if the collar stopped it short of displayed
    /// depth the customer's limit would have taken, else `NoLiquidity`). Returns the
    /// quantity filled.
    fn route<S: Sink<IxEvent>>(
        &mut self,
        id: OrderId,
        side: Side,
        qty: Qty,
        limit: Option<Price>,
        reason: RouteReason,
        sink: &mut S,
    ) -> Qty {
        sink.event(IxEvent::Routed { id, qty, reason });
        self.stats.routed_shares += qty;
        // The collar price: `collar_ticks` beyond the far side of the NBBO (saturating:
        // quotes near the i64 limits cannot overflow). Orders are only handled with a
        // valid quote, so the `None` arm is defensive.
        let collar = self.quote.map(|q| match side {
            Side::Buy => q.ask.saturating_add(self.cfg.collar_ticks),
            Side::Sell => q.bid.saturating_sub(self.cfg.collar_ticks),
        });
        let (eff, collar_binds) = match (limit, collar) {
            (Some(l), Some(c)) if side.accepts(l, c) && l != c => (Some(c), true),
            (None, Some(c)) => (Some(c), true),
            (l, _) => (l, false),
        };
        let filled = self.venue.execute(side, qty, eff, |price, q| {
            sink.event(IxEvent::Fill {
                id,
                kind: FillKind::Exchange,
                price,
                qty: q,
                contra: 0,
            })
        });
        let filled = filled.min(qty);
        if filled < qty {
            let reason = if collar_binds && self.venue.displayed(side, limit) > 0 {
                IxCancel::Collar
            } else {
                IxCancel::NoLiquidity
            };
            sink.event(IxEvent::Cancelled {
                id,
                qty: qty - filled,
                reason,
            });
        }
        filled
    }

    /// Past the hedge threshold, trade the excess over the target on the exchange.
    fn hedge_if_needed<S: Sink<IxEvent>>(&mut self, sink: &mut S) {
        let abs = self.inventory.unsigned_abs();
        if abs <= self.cfg.hedge_threshold {
            return;
        }
        let qty = abs - self.cfg.hedge_target;
        let side = if self.inventory > 0 {
            Side::Sell
        } else {
            Side::Buy
        };
        let mut inv = self.inventory;
        let mut cash = self.cash;
        let filled = self.venue.execute(side, qty, None, |price, q| {
            let signed = match side {
                Side::Buy => q as i64,
                Side::Sell => -(q as i64),
            };
            inv += signed;
            cash -= signed as i128 * price as i128;
            sink.event(IxEvent::Hedge {
                side,
                price,
                qty: q,
            });
        });
        self.inventory = inv;
        self.cash = cash;
        self.stats.hedged_shares += filled;
    }
}

/// The engine thread runs the internalizer on [`Msg`]s and publishes its [`IxEvent`]s as
/// they are.
impl<B: OrderBook, V: Venue> Processor<Msg> for Internalizer<B, V> {
    type Event = IxEvent;

    #[inline]
    fn process<S: Sink<IxEvent>>(&mut self, msg: &Msg, sink: &mut S) {
        self.on_message(msg, sink);
    }
}

/// Price improvement in ticks for a quoted spread: `spread * permille / 1000`, rounded down
/// (never past the midpoint since `permille <= 500`). Computed in 128 bits.
#[inline]
pub fn improvement(spread: Price, permille: u32) -> Price {
    let v = (spread.max(0) as i128) * (permille.min(500) as i128) / 1000;
    v as Price
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn improvement_rounds_down_and_stops_at_mid() {
        assert_eq!(improvement(100, 300), 30);
        assert_eq!(improvement(101, 300), 30);
        assert_eq!(improvement(100, 500), 50);
        assert_eq!(improvement(-5, 300), 0);
        assert_eq!(improvement(Price::MAX, 500), Price::MAX / 2);
    }

    #[test]
    fn broker_ids_round_trip() {
        let id = retail_id(7, 123_456);
        assert_eq!(broker_of(id), 7);
        assert_eq!(id & ((1 << BROKER_SHIFT) - 1), 123_456);
    }

    #[test]
    fn config_validation_names_fields() {
        let mut c = IxConfig::default();
        assert!(c.validate().is_ok());
        c.improvement_permille = 501;
        assert_eq!(c.validate().unwrap_err().0, "improvement_permille");
        let mut c = IxConfig::default();
        c.hedge_target = c.hedge_threshold + 1;
        assert_eq!(c.validate().unwrap_err().0, "hedge_target");
        let c = IxConfig {
            max_autoex_spread_ticks: 0,
            ..IxConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().0, "max_autoex_spread_ticks");
        let c = IxConfig {
            collar_ticks: -1,
            ..IxConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().0, "collar_ticks");
    }
}
