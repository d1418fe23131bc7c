//! The internalizer's state machine: the internal book of resting retail orders, the
//! quote in force, the wholesaler's inventory and cash, and what each [`Msg`] does to them
//! (the order paths are described at the crate root). The wholesaler's own side of an
//! order (principal fills, routing, hedging) is in `principal.rs`.

use crate::config::{Config, Stats};
use crate::message::{CancelReason, Event, FillKind, Msg, RejectReason, RouteReason};
use crate::quote::{improvement, Quote};
use crate::venue::Venue;
use flowmatch_core::book::validate::{check_new, check_replace};
use flowmatch_core::{
    CancelReason as BookCancel, Command, Event as BookEvent, NewOrder, OrdType, OrderBook, OrderId,
    Price, Qty, RejectReason as BookReject, Side, Sink, Stp, Tif,
};

mod principal;

/// The wholesaler: internal book `B` for resting retail orders, exchange `V`.
pub struct Internalizer<B: OrderBook, V: Venue> {
    cfg: Config,
    book: B,
    venue: V,
    quote: Option<Quote>,
    /// Net position in shares (positive: long).
    inventory: i64,
    /// Cash in ticks x shares (i128: a day of flow at extreme prices cannot overflow).
    cash: i128,
    stats: Stats,
    scratch: Vec<BookEvent>,
    sweep: Vec<(OrderId, Price, Qty)>,
}

impl<B: OrderBook, V: Venue> Internalizer<B, V> {
    /// `cfg` must pass [`Config::validate`] (the harness validates scenario files first);
    /// an invalid one is clamped here rather than trusted.
    pub fn new(mut cfg: Config, book: B, venue: V) -> Self {
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
            stats: Stats::default(),
            scratch: Vec::with_capacity(1024),
            sweep: Vec::with_capacity(1024),
        }
    }

    /// The policy in force (after clamping).
    pub fn config(&self) -> &Config {
        &self.cfg
    }
    /// The internal book of resting retail orders.
    pub fn book(&self) -> &B {
        &self.book
    }
    /// The exchange.
    pub fn venue(&self) -> &V {
        &self.venue
    }
    /// The NBBO in force, once a valid one has arrived.
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
    /// Running totals.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Handle one message, delivering its events to `sink` in order.
    pub fn on_message<S: Sink<Event>>(&mut self, msg: &Msg, sink: &mut S) {
        self.stats.messages += 1;
        match *msg {
            Msg::Quote(q) => self.on_quote(q, sink),
            Msg::Order(o) => self.on_order(o, sink),
            Msg::Cancel { id } => {
                if self.book.order(id).is_none() {
                    sink.event(Event::Rejected {
                        id,
                        reason: RejectReason::UnknownId,
                    });
                    return;
                }
                self.cancel_resting(id, CancelReason::User, sink);
            }
            Msg::Replace {
                id,
                new_id,
                price,
                qty,
            } => {
                let Some(old) = self.book.order(id) else {
                    sink.event(Event::Rejected {
                        id,
                        reason: RejectReason::UnknownId,
                    });
                    return;
                };
                // Validate the new order before touching the old one, so that a rejected
                // replace changes nothing.
                let reason = if let Err(r) = check_replace(self.book.config(), price, qty) {
                    Some(RejectReason::Book(r))
                } else if new_id != id && self.book.order(new_id).is_some() {
                    Some(RejectReason::Book(BookReject::DuplicateId))
                } else if self.quote.is_none() {
                    Some(RejectReason::NoQuote)
                } else {
                    None
                };
                if let Some(reason) = reason {
                    sink.event(Event::Rejected { id: new_id, reason });
                    return;
                }
                self.cancel_resting(id, CancelReason::Replaced, sink);
                // Only GTC orders rest, so the replacement is GTC too.
                let o = NewOrder::limit(new_id, old.account, old.side, price, qty);
                self.on_order(o, sink);
            }
        }
    }

    /// Take a resting customer order out of the internal book, reporting the quantity
    /// removed with `reason` (a user cancel, or the old half of a replace).
    fn cancel_resting<S: Sink<Event>>(&mut self, id: OrderId, reason: CancelReason, sink: &mut S) {
        self.scratch.clear();
        self.book.apply(&Command::Cancel { id }, &mut self.scratch);
        for e in &self.scratch {
            if let BookEvent::Cancel { id, qty, .. } = *e {
                sink.event(Event::Cancelled { id, qty, reason });
            }
        }
    }

    fn on_quote<S: Sink<Event>>(&mut self, q: Quote, sink: &mut S) {
        if !q.is_valid() {
            sink.event(Event::Rejected {
                id: 0,
                reason: RejectReason::CrossedQuote,
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
    fn sweep_side<S: Sink<Event>>(&mut self, side: Side, q: Quote, sink: &mut S) {
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

    fn on_order<S: Sink<Event>>(&mut self, o: NewOrder, sink: &mut S) {
        // The fast book's own stateless checks (one function serves both, so the reason is
        // the book's), then the duplicate id and the quote.
        let reason = if let Err(r) = check_new(self.book.config(), &o) {
            Some(RejectReason::Book(r))
        } else if self.book.order(o.id).is_some() {
            Some(RejectReason::Book(BookReject::DuplicateId))
        } else if self.quote.is_none() {
            Some(RejectReason::NoQuote)
        } else {
            None
        };
        if let Some(reason) = reason {
            sink.event(Event::Rejected { id: o.id, reason });
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
            sink.event(Event::Rejected {
                id: o.id,
                reason: RejectReason::Book(BookReject::BadTif),
            });
            return;
        }
        if o.tif == Tif::Post && marketable {
            sink.event(Event::Rejected {
                id: o.id,
                reason: RejectReason::Book(BookReject::WouldCross),
            });
            return;
        }
        sink.event(Event::Accepted {
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
    fn rest<S: Sink<Event>>(&mut self, o: NewOrder, sink: &mut S) {
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
                sink.event(Event::Cancelled {
                    id: o.id,
                    qty: left,
                    reason: CancelReason::Ioc,
                });
            } else {
                sink.event(Event::Rested {
                    id: o.id,
                    qty: left,
                });
            }
        }
    }

    /// Agency cross of `qty` of marketable order `o`, as an IOC limited at `limit` (at or
    /// better than the NBBO it would take). Returns the quantity left.
    fn cross<S: Sink<Event>>(&mut self, o: NewOrder, qty: Qty, limit: Price, sink: &mut S) -> Qty {
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
    fn apply_to_book<S: Sink<Event>>(&mut self, ord: NewOrder, sink: &mut S) -> Qty {
        self.scratch.clear();
        self.book.apply(&Command::New(ord), &mut self.scratch);
        let mut filled = 0;
        let mut ioc_left = None;
        for e in &self.scratch {
            match *e {
                BookEvent::Trade {
                    taker,
                    maker,
                    price,
                    qty,
                } => {
                    filled += qty;
                    self.stats.agency_shares += qty;
                    sink.event(Event::Fill {
                        id: taker,
                        kind: FillKind::AgencyTaker,
                        price,
                        qty,
                        contra: maker,
                    });
                    sink.event(Event::Fill {
                        id: maker,
                        kind: FillKind::AgencyMaker,
                        price,
                        qty,
                        contra: taker,
                    });
                }
                BookEvent::Cancel {
                    id,
                    qty,
                    reason: BookCancel::Stp,
                    ..
                } if id != ord.id => {
                    self.stats.stp_cancels += 1;
                    sink.event(Event::Cancelled {
                        id,
                        qty,
                        reason: CancelReason::Stp,
                    });
                }
                BookEvent::Cancel { id, qty, .. } if id == ord.id => ioc_left = Some(qty),
                _ => {}
            }
        }
        match ioc_left {
            Some(q) => q,
            None => ord.qty - filled.min(ord.qty),
        }
    }
}
