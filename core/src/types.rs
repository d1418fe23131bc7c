//! The vocabulary every other module speaks: integer prices, quantities, ids and the
//! small enums that describe an order.
//!
//! Prices are signed integer ticks over the whole `i64` domain (negative prices are
//! legal: WTI settled at -$37.63 on 2020-04-20). Nothing in the core ever converts a
//! price to floating point, so there is no rounding anywhere on the matching path.
//!
//! These enums, like [`Command`](crate::Command) and [`Event`](crate::Event), are the
//! contract's vocabulary (`docs/SEMANTICS.md`) and are deliberately *not*
//! `#[non_exhaustive]`: every consumer (the text format, the peers' adapters, a journal)
//! must map every variant, and a new one should be a compile error there, not a silent
//! wildcard arm. The ingress and engine enums of tuning and errors are non-exhaustive.

/// A price in integer ticks. The whole `i64` domain is legal.
pub type Price = i64;
/// A quantity in units (shares, contracts). Orders carry at most [`BookConfig::max_order_qty`]
/// units, up to `u64::MAX`; sums of quantities (level aggregates, FOK and pro-rata
/// arithmetic) are kept in `u128`, so every accepted quantity is exact.
pub type Qty = u64;
/// A client order id. Unique among *live* (resting) orders only: ids of finished orders
/// may be reused at once.
pub type OrderId = u64;
/// The account (beneficial owner) an order belongs to; self-trade prevention compares these.
pub type Account = u32;

/// Buy or sell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// Bids: pays at most its limit.
    Buy,
    /// Asks: receives at least its limit.
    Sell,
}

impl Side {
    /// The side an order of this side trades against.
    #[inline]
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// True when a resting price `maker` is acceptable to a taker of this side whose
    /// limit is `limit`: a buyer pays at most its limit, a seller receives at least it.
    #[inline]
    pub fn accepts(self, limit: Price, maker: Price) -> bool {
        match self {
            Side::Buy => maker <= limit,
            Side::Sell => maker >= limit,
        }
    }

    /// True when price `a` is strictly better than `b` for a resting order of this side
    /// (higher for bids, lower for asks).
    #[inline]
    pub fn better(self, a: Price, b: Price) -> bool {
        match self {
            Side::Buy => a > b,
            Side::Sell => a < b,
        }
    }
}

/// Limit (needs a price), market (has none), stop and stop-limit (held until a trade
/// triggers them), iceberg (a limit showing part of itself) or midpoint peg (undisplayed,
/// trading only at the midpoint of the best bid and offer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrdType {
    /// Trades at its limit price or better.
    Limit,
    /// Trades at any price; never rests.
    Market,
    /// A stop: held out of the book until a trade prints at or through `trigger` (at or
    /// above it for a buy, at or below for a sell), then entered as a market order
    /// (`price` is `None`). `docs/SEMANTICS.md`, "Stop orders".
    Stop {
        /// The trade price that sets it off.
        trigger: Price,
    },
    /// A stop-limit: held like [`OrdType::Stop`], then entered as a limit order at the
    /// order's `price`.
    StopLimit {
        /// The trade price that sets it off.
        trigger: Price,
    },
    /// An iceberg (reserve) order: a GTC limit order that, resting, shows at most
    /// `display` units; when the shown part is filled it is refilled from the hidden
    /// reserve and joins the back of its level's queue (`docs/SEMANTICS.md`, "Iceberg
    /// orders"). Every policy takes it; under pro-rata and CME only the shown part is
    /// allocated, and a refill waits for the level's next round.
    Iceberg {
        /// Most units shown at once, `1..=qty`, a multiple of the lot.
        display: Qty,
    },
    /// A midpoint peg (`docs/SEMANTICS.md`, "Midpoint peg orders"): rests undisplayed at
    /// the midpoint of the book's own best bid and offer, follows it as the touch moves,
    /// and trades only there. `price` is an optional cap (`None`: none): a buy peg trades
    /// at no midpoint above it, a sell peg at none below. GTC or IOC; pegs trade in time
    /// priority at the midpoint under every policy (the policy shares lit levels).
    MidPeg,
}

impl OrdType {
    /// The trigger of a stop or stop-limit, `None` for every other type.
    #[inline]
    pub fn trigger(self) -> Option<Price> {
        match self {
            OrdType::Stop { trigger } | OrdType::StopLimit { trigger } => Some(trigger),
            _ => None,
        }
    }

    /// The display size of an iceberg, `None` for every other type.
    #[inline]
    pub fn display(self) -> Option<Qty> {
        match self {
            OrdType::Iceberg { display } => Some(display),
            _ => None,
        }
    }
}

/// Time in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tif {
    /// Good till cancelled: the remainder rests. Default for limit orders.
    Gtc,
    /// Immediate or cancel: the remainder is cancelled. Default for market orders.
    Ioc,
    /// Fill or kill: fills completely at once or not at all.
    Fok,
    /// Post-only: rejected if it would trade on entry; otherwise rests like GTC.
    Post,
}

/// Self-trade prevention mode, taken from the *incoming* order when it meets a resting
/// order of the same account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Stp {
    /// No prevention: the two orders trade.
    #[default]
    None,
    /// Cancel the taker's remainder and stop.
    CancelTaker,
    /// Cancel the maker entirely and keep matching.
    CancelMaker,
    /// Cancel the maker, then the taker's remainder, and stop.
    CancelBoth,
    /// Decrement both by the smaller open quantity (maker first) and keep matching.
    DecrementCancel,
}

/// Why a command was rejected. A rejected command changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// Quantity outside `1..=max_order_qty`.
    BadQty,
    /// A limit without a price or outside the price band, or a market order with one.
    BadPrice,
    /// A time in force the order type cannot take (a market order GTC or post-only).
    BadTif,
    /// The id names a live order.
    DuplicateId,
    /// A post-only order that would trade on entry.
    WouldCross,
    /// A cancel or replace of an order that is not resting.
    UnknownId,
    /// A limit price that is not a multiple of [`BookConfig::tick`].
    BadTick,
    /// A quantity that is not a multiple of [`BookConfig::lot`].
    BadLot,
    /// A command for an instrument the [`MultiBook`](crate::instrument::MultiBook)'s table
    /// does not hold.
    UnknownInstrument,
    /// A new order the [`MultiBook`](crate::instrument::MultiBook) cannot hold within its
    /// configured memory bound (most books or most resting orders); nothing is dropped.
    CapacityExceeded,
    /// An order type the consumer does not support (a peer adapter, say, or an embedder's
    /// own book). Both flowmatch books take every order type under every policy; the
    /// reason stays in the codec and the text format so that a journal or event file that
    /// carries it still reads.
    Unsupported,
}

/// Why (part of) an order left the book without trading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CancelReason {
    /// Cancelled by its owner.
    User,
    /// Remainder of an IOC or market order.
    Ioc,
    /// A fill-or-kill that could not fill completely.
    Fok,
    /// Removed by self-trade prevention.
    Stp,
}

/// How an incoming order's quantity is shared among the resting orders of one price level.
/// Price priority between levels is the same under every policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum MatchPolicy {
    /// Price-time (FIFO): earlier arrival at a level fills first.
    #[default]
    PriceTime,
    /// Pro-rata, as many futures exchanges use; the allocation and rounding rule is
    /// documented in `docs/SEMANTICS.md`. With `top_order`, the order at the head of
    /// the level is first filled FIFO before the rest is allocated pro-rata.
    ProRata {
        /// Fill the order at the head of the level FIFO first.
        top_order: bool,
    },
    /// A CME Globex allocation algorithm (`cme:A` … `cme:T`) with its parameters, as
    /// `docs/ALLOCATION.md` describes: self-trade prevention first over the level (as under
    /// `ProRata`), then [`allocate`](crate::allocation::allocate) with the side's TOP
    /// order, fills printed in time order.
    Cme(crate::allocation::CmePolicy),
}

/// Limits a book enforces at validation. The defaults accept everything the types can
/// express except a zero quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookConfig {
    /// Largest quantity of a single order (inclusive).
    pub max_order_qty: Qty,
    /// Lowest acceptable limit price (inclusive).
    pub min_price: Price,
    /// Highest acceptable limit price (inclusive).
    pub max_price: Price,
    /// Resting orders the book pre-allocates storage for; a sizing hint, never a limit.
    ///
    /// What the fast book allocates up front, and writes through once so the pages are
    /// faulted in before the first order (`FastBook::new`):
    /// - `max(capacity, 16)` order slots (32 bytes each);
    /// - `min(max(capacity, 16), 65,536)` price levels for the two sides together (64 bytes
    ///   each; an emptied level is recycled);
    /// - per side, the near ladder window of `min(max(capacity, 16), 1,024)` levels;
    /// - the id index: room for `min(capacity, 4,096)` ids (`2 ×` that in 16-byte buckets,
    ///   at most 128 KiB, so it stays cache-resident); past it, it doubles incrementally (a
    ///   few buckets moved per insert, one allocation per doubling), even below `capacity`.
    ///
    /// Beyond any of these, storage grows: an allocation on the command that needs it,
    /// never a rejection, a drop or a changed event. Slot and level pools and the id index
    /// never shrink (nor does `clear`), so each grows at most once per size the book has
    /// reached; the id index grows incrementally (a few buckets moved per insert, never a
    /// whole rehash on one command). Hence the hot path's zero-allocation guarantee: once
    /// the book has held as many live orders as it will (warm-up), a book within
    /// `capacity` orders, 65,536 levels and 1,024 levels per side never allocates. Two
    /// exceptions allocate on demand even below `capacity`: the id index's doublings past
    /// 4,096 live ids, and a side with more than 1,024 levels, which keeps the rest in its
    /// far tier, a deque that grows (and keeps its capacity) and a map that allocates for
    /// levels inserted inside the deque's range.
    /// The reference book pre-allocates nothing and ignores this field.
    pub capacity: usize,
    /// How quantity is shared within a price level.
    pub policy: MatchPolicy,
    /// Whether a replace that only reduces quantity keeps its time priority.
    pub replace_priority: ReplacePriority,
    /// Price increment: a limit price (new or replace) must be a multiple of it
    /// ([`RejectReason::BadTick`]). 1 (the default) or less accepts every price.
    pub tick: Price,
    /// Quantity increment: an order's quantity (new or replace) must be a multiple of it
    /// ([`RejectReason::BadLot`]). 1 (the default) or 0 accepts every quantity.
    pub lot: Qty,
}

/// What an accepted replace does to the order's time priority (`docs/SEMANTICS.md`,
/// "Replace"). Either way the order keeps its id, account, side, time in force and STP
/// mode, and a replace that loses priority re-enters as a new arrival (and may trade).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ReplacePriority {
    /// Same price and a quantity no larger than the open quantity: reduced in place, time
    /// priority kept. Any other replace (a new price, or more quantity) loses it.
    #[default]
    KeepIfReduced,
    /// Every accepted replace loses time priority, even one that changes nothing, as on
    /// venues (and in benchmarks) that requeue every modified order.
    AlwaysRequeue,
}

impl Default for BookConfig {
    fn default() -> Self {
        BookConfig {
            max_order_qty: u32::MAX as Qty,
            min_price: Price::MIN,
            max_price: Price::MAX,
            capacity: 1 << 16,
            policy: MatchPolicy::PriceTime,
            replace_priority: ReplacePriority::KeepIfReduced,
            tick: 1,
            lot: 1,
        }
    }
}

impl BookConfig {
    /// True when `qty` is in `1..=max_order_qty`.
    #[inline]
    pub fn qty_ok(&self, qty: Qty) -> bool {
        qty >= 1 && qty <= self.max_order_qty
    }

    /// True when `price` is inside `min_price..=max_price`.
    #[inline]
    pub fn price_ok(&self, price: Price) -> bool {
        price >= self.min_price && price <= self.max_price
    }

    /// True when `price` is a multiple of `tick` (always, for a tick of 1 or less; a
    /// multiple of a tick of at least 2 is well defined for negative prices too).
    #[inline]
    pub fn tick_ok(&self, price: Price) -> bool {
        self.tick <= 1 || price % self.tick == 0
    }

    /// True when `qty` is a multiple of `lot` (always, for a lot of 1 or 0).
    #[inline]
    pub fn lot_ok(&self, qty: Qty) -> bool {
        self.lot <= 1 || qty.is_multiple_of(self.lot)
    }
}
