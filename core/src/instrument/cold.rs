//! The cold tier: a book of at most [`COLD_ORDERS`] resting orders in one fixed-size record
//! of a shared slab, for the many instruments that hold only a handful of orders.
//!
//! Why: a fast book costs kilobytes before its first order (its pools, ladders and id
//! table), and a market-wide feed touches hundreds of thousands of instruments, most of
//! them with two or three orders resting. A [`ColdBook`] is 576 bytes (nine cache lines,
//! aligned), allocates nothing of its own and keeps up to 16 orders in one array in dump
//! order (bids best to worst, then asks best to worst, each price in time priority), so a
//! command reads a few adjacent cache lines of one record.
//!
//! Why 16, not 8 as before: a fast book spreads one instrument over a dozen allocations
//! (struct, order and level slabs, ladders, id table), so a command for it touches lines
//! scattered over ~6 KiB; with thousands of such books (3,710 at 10 K Zipf instruments
//! with 8-order cold books) they outgrow the caches and every command pays misses. At 16
//! the Zipf stream (at most 16 resting orders per instrument) never promotes, and its
//! throughput at 10 K instruments went from 15% to 45% of the single book's
//! (`bench-results/instruments/tiers.md`).
//!
//! What it does itself, exactly as `docs/SEMANTICS.md` says (price-time policy only; the
//! multi-book gives pro-rata instruments a fast book from their first order): every
//! validation and reject, cancels, new orders and replaces, matching included (fill or
//! kill too). A taker that would meet a maker of its own account with an STP mode set is
//! answered [`Cold::NeedsBook`] before any event is emitted, and the multi-book runs it on
//! a scratch book loaded with these orders ([`ColdBook::orders`], [`ColdBook::reload`]):
//! the STP rules have one home, the full book. A new order that could rest when the book is full never reaches
//! it: the multi-book promotes the instrument to a fast book first.

use crate::book::validate::{check_new, check_replace};
use crate::book::RestingOrder;
use crate::command::{Command, Event, NewOrder, Sink};
use crate::types::{
    Account, BookConfig, CancelReason, OrderId, Price, Qty, RejectReason, ReplacePriority, Side,
    Stp, Tif,
};

/// Most orders a cold book's record holds. A multi-book promotes a cold book to a fast
/// book at [`MultiBookConfig::cold_orders`](super::MultiBookConfig::cold_orders) orders,
/// at most this many.
pub const COLD_ORDERS: usize = 16;

/// One resting order, with what a fast book needs to hold it again (its time in force and
/// STP mode, which a replace that re-enters keeps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColdOrder {
    /// Client order id.
    pub id: OrderId,
    /// Limit price.
    pub price: Price,
    /// Open quantity.
    pub qty: Qty,
    /// Account.
    pub account: Account,
    /// Side.
    pub side: Side,
    /// `Gtc` or `Post`.
    pub tif: Tif,
    /// STP mode.
    pub stp: Stp,
}

impl ColdOrder {
    const BLANK: ColdOrder = ColdOrder {
        id: 0,
        price: 0,
        qty: 0,
        account: 0,
        side: Side::Buy,
        tif: Tif::Gtc,
        stp: Stp::None,
    };

    /// The order as a new limit order that rests where it rested (the book it enters is
    /// uncrossed, so it cannot trade).
    pub fn as_new(&self) -> Command {
        Command::New(
            NewOrder::limit(self.id, self.account, self.side, self.price, self.qty)
                .with_tif(self.tif)
                .with_stp(self.stp),
        )
    }

    /// The order as the book trait shows it.
    pub fn resting(&self) -> RestingOrder {
        RestingOrder {
            side: self.side,
            price: self.price,
            id: self.id,
            account: self.account,
            open_qty: self.qty,
            tif: self.tif,
            stp: self.stp,
        }
    }
}

/// A cold book's answer to a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cold {
    /// Done: its events are out.
    Done,
    /// It would trade: nothing was emitted and nothing changed; run it on a full book.
    NeedsBook,
}

/// Up to [`COLD_ORDERS`] resting orders in dump order. See the module docs.
///
/// Aligned to a cache line, the orders first: each 32-byte order sits in one line and a
/// record spans exactly its 9 lines (not 9 or 10 at any offset), which a prefetch of the
/// whole record asks for.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub struct ColdBook {
    orders: [ColdOrder; COLD_ORDERS],
    len: u8,
    bids: u8,
}

impl ColdBook {
    /// An empty cold book.
    pub const EMPTY: ColdBook = ColdBook {
        orders: [ColdOrder::BLANK; COLD_ORDERS],
        len: 0,
        bids: 0,
    };

    /// Resting orders.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// No resting order.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Full: its record holds [`COLD_ORDERS`] orders (the multi-book promotes it at
    /// its configured `cold_orders`, at most that).
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len() == COLD_ORDERS
    }

    /// The orders in dump order (bids best to worst, then asks, each price in time order).
    #[inline]
    pub fn orders(&self) -> &[ColdOrder] {
        &self.orders[..self.len()]
    }

    /// The live order with this id.
    pub fn order(&self, id: OrderId) -> Option<RestingOrder> {
        self.find(id).map(|i| self.orders[i].resting())
    }

    #[inline]
    fn find(&self, id: OrderId) -> Option<usize> {
        self.orders().iter().position(|o| o.id == id)
    }

    /// The best price of the side opposite `side`, if any.
    #[inline]
    fn opposite_best(&self, side: Side) -> Option<Price> {
        let (bids, len) = (self.bids as usize, self.len());
        match side {
            Side::Buy => (bids < len).then(|| self.orders[bids].price),
            Side::Sell => (bids > 0).then(|| self.orders[0].price),
        }
    }

    /// An order on `side` at `price` (`None`: market) meets the opposite best.
    #[inline]
    fn crosses(&self, side: Side, price: Option<Price>) -> bool {
        match (self.opposite_best(side), price) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(best), Some(p)) => match side {
                Side::Buy => p >= best,
                Side::Sell => p <= best,
            },
        }
    }

    /// Rests `o` last in time priority at its price. The caller checked there is room.
    fn insert(&mut self, o: ColdOrder) {
        let (bids, len) = (self.bids as usize, self.len());
        let at = match o.side {
            Side::Buy => self.orders[..bids]
                .iter()
                .position(|r| r.price < o.price)
                .unwrap_or(bids),
            Side::Sell => {
                bids + self.orders[bids..len]
                    .iter()
                    .position(|r| r.price > o.price)
                    .unwrap_or(len - bids)
            }
        };
        self.orders.copy_within(at..len, at + 1);
        self.orders[at] = o;
        self.len += 1;
        self.bids += u8::from(o.side == Side::Buy);
    }

    fn remove(&mut self, at: usize) -> ColdOrder {
        let o = self.orders[at];
        let len = self.len();
        self.orders.copy_within(at + 1..len, at);
        self.len -= 1;
        self.bids -= u8::from(o.side == Side::Buy);
        o
    }

    /// Applies `cmd` under `cfg` (a price-time book's limits) if it cannot trade.
    pub fn apply<S: Sink<Event>>(&mut self, cfg: &BookConfig, cmd: &Command, sink: &mut S) -> Cold {
        match *cmd {
            Command::New(o) => self.new_order(cfg, &o, sink),
            Command::Cancel { id } => {
                match self.find(id) {
                    Some(at) => {
                        let o = self.remove(at);
                        sink.event(Event::Cancel {
                            id,
                            qty: o.qty,
                            reason: CancelReason::User,
                            side: o.side,
                            price: Some(o.price),
                        });
                    }
                    None => sink.event(Event::Reject {
                        id,
                        reason: RejectReason::UnknownId,
                    }),
                }
                Cold::Done
            }
            Command::Replace { id, price, qty } => self.replace(cfg, id, price, qty, sink),
        }
    }

    fn new_order<S: Sink<Event>>(&mut self, cfg: &BookConfig, o: &NewOrder, sink: &mut S) -> Cold {
        let reject = |sink: &mut S, reason| {
            sink.event(Event::Reject { id: o.id, reason });
            Cold::Done
        };
        if let Err(reason) = check_new(cfg, o) {
            return reject(sink, reason);
        }
        if self.find(o.id).is_some() {
            return reject(sink, RejectReason::DuplicateId);
        }
        let crosses = self.crosses(o.side, o.price);
        if o.tif == Tif::Post && crosses {
            return reject(sink, RejectReason::WouldCross);
        }
        let blocked = crosses && self.stp_meets(o.side, o.price, o.account, o.stp, o.qty);
        if blocked {
            return Cold::NeedsBook;
        }
        sink.event(Event::Ack { id: o.id });
        let fok_kills = o.tif == Tif::Fok && self.fillable(o.side, o.price, o.qty) < o.qty;
        let left = if crosses && !fok_kills {
            self.take(o.id, o.side, o.price, o.qty, sink)
        } else {
            o.qty
        };
        if left == 0 {
            return Cold::Done;
        }
        match o.tif {
            Tif::Gtc | Tif::Post => {
                debug_assert!(!self.is_full(), "the multi-book promotes a full cold book");
                self.insert(ColdOrder {
                    id: o.id,
                    // A market order is never GTC or post-only (checked above).
                    price: o.price.unwrap_or_default(),
                    qty: left,
                    account: o.account,
                    side: o.side,
                    tif: o.tif,
                    stp: o.stp,
                });
            }
            Tif::Ioc | Tif::Fok => sink.event(Event::Cancel {
                id: o.id,
                qty: left,
                reason: if o.tif == Tif::Ioc {
                    CancelReason::Ioc
                } else {
                    CancelReason::Fok
                },
                side: o.side,
                price: o.price,
            }),
        }
        Cold::Done
    }

    /// The range of `orders` a taker on `side` walks (the opposite side, best first).
    #[inline]
    fn opposite(&self, side: Side) -> std::ops::Range<usize> {
        match side {
            Side::Buy => self.bids as usize..self.len(),
            Side::Sell => 0..self.bids as usize,
        }
    }

    /// A maker at `price` is acceptable to a taker on `side` with `limit`.
    #[inline]
    fn acceptable(side: Side, limit: Option<Price>, price: Price) -> bool {
        match (side, limit) {
            (_, None) => true,
            (Side::Buy, Some(p)) => price <= p,
            (Side::Sell, Some(p)) => price >= p,
        }
    }

    /// Whether a taker of `qty` with STP mode `stp` would meet a maker of its own account
    /// before it is filled (the case the scratch book handles).
    fn stp_meets(
        &self,
        side: Side,
        limit: Option<Price>,
        account: Account,
        stp: Stp,
        qty: Qty,
    ) -> bool {
        if stp == Stp::None {
            return false;
        }
        let mut left = qty;
        for m in &self.orders[self.opposite(side)] {
            if left == 0 || !Self::acceptable(side, limit, m.price) {
                break;
            }
            if m.account == account {
                return true;
            }
            left = left.saturating_sub(m.qty);
        }
        false
    }

    /// Quantity a taker could fill, at most `qty` (no STP in the way).
    fn fillable(&self, side: Side, limit: Option<Price>, qty: Qty) -> Qty {
        let mut got: Qty = 0;
        for m in &self.orders[self.opposite(side)] {
            if got >= qty || !Self::acceptable(side, limit, m.price) {
                break;
            }
            got = got.saturating_add(m.qty);
        }
        got.min(qty)
    }

    /// Price-time matching of a taker with no STP in its way: trades in priority order,
    /// filled makers leave. Returns what is left of `qty`.
    fn take<S: Sink<Event>>(
        &mut self,
        taker: OrderId,
        side: Side,
        limit: Option<Price>,
        qty: Qty,
        sink: &mut S,
    ) -> Qty {
        let range = self.opposite(side);
        let (start, end) = (range.start, range.end);
        let mut left = qty;
        let mut filled = start;
        while left > 0 && filled < end {
            let m = &mut self.orders[filled];
            if !Self::acceptable(side, limit, m.price) {
                break;
            }
            let q = left.min(m.qty);
            sink.event(Event::Trade {
                taker,
                maker: m.id,
                price: m.price,
                qty: q,
            });
            left -= q;
            m.qty -= q;
            if m.qty > 0 {
                break;
            }
            filled += 1;
        }
        // The filled makers are the front of the opposite side.
        let gone = filled - start;
        let len = self.len();
        self.orders.copy_within(filled..len, start);
        self.len -= gone as u8;
        if side == Side::Sell {
            self.bids -= gone as u8;
        }
        left
    }

    fn replace<S: Sink<Event>>(
        &mut self,
        cfg: &BookConfig,
        id: OrderId,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) -> Cold {
        let reject = |sink: &mut S, reason| {
            sink.event(Event::Reject { id, reason });
            Cold::Done
        };
        let Some(at) = self.find(id) else {
            return reject(sink, RejectReason::UnknownId);
        };
        if let Err(reason) = check_replace(cfg, price, qty) {
            return reject(sink, reason);
        }
        let old = self.orders[at];
        let crosses = self.crosses(old.side, Some(price));
        if old.tif == Tif::Post && crosses {
            return reject(sink, RejectReason::WouldCross);
        }
        let keeps = cfg.replace_priority == ReplacePriority::KeepIfReduced
            && price == old.price
            && qty <= old.qty;
        if keeps {
            sink.event(Event::Replaced { id });
            self.orders[at].qty = qty;
            return Cold::Done;
        }
        if crosses && self.stp_meets(old.side, Some(price), old.account, old.stp, qty) {
            return Cold::NeedsBook;
        }
        sink.event(Event::Replaced { id });
        self.remove(at);
        // Re-entering as a new arrival: it trades as a taker if it crosses.
        let left = if crosses {
            self.take(id, old.side, Some(price), qty, sink)
        } else {
            qty
        };
        if left > 0 {
            self.insert(ColdOrder {
                price,
                qty: left,
                ..old
            });
        }
        Cold::Done
    }

    /// Refills this book from `book`'s resting orders (dump order, as
    /// [`crate::book::OrderBook::for_each_order`] gives them, each with its time in force
    /// and STP mode). Returns `false`, leaving this book empty, if `book` holds more than
    /// [`COLD_ORDERS`].
    pub fn reload(&mut self, for_each: impl FnOnce(&mut dyn FnMut(&RestingOrder))) -> bool {
        *self = ColdBook::EMPTY;
        let mut fits = true;
        for_each(&mut |r| {
            if self.is_full() {
                fits = false;
                return;
            }
            let (tif, stp) = (r.tif, r.stp);
            let at = self.len();
            self.orders[at] = ColdOrder {
                id: r.id,
                price: r.price,
                qty: r.open_qty,
                account: r.account,
                side: r.side,
                tif,
                stp,
            };
            self.len += 1;
            self.bids += u8::from(r.side == Side::Buy);
        });
        if !fits {
            *self = ColdBook::EMPTY;
        }
        fits
    }
}
