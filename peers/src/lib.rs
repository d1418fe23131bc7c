//! # flowmatch-peers
//!
//! Adapters that drive matching engines published on crates.io with flowmatch command
//! streams, so that `flowmatch compare` can put them side by side with our own books on
//! the *same* commands in the *same* process.
//!
//! This crate is never a dependency of `flowmatch-core`: the core must not pull in other
//! engines, and the peers must not be able to reach into the core's internals. Everything
//! goes through [`Matcher`], whose one job is "apply this command, tell me the fills".
//!
//! Every peer speaks a different dialect (engine-assigned order ids, unsigned prices, no
//! replace that keeps priority, no self-trade prevention, ...). Each adapter translates
//! honestly and declares what it cannot express in its [`Capabilities`]; [`restrict`]
//! then removes exactly those commands from a stream (and nothing else), so that a peer
//! is only ever judged on commands it can represent. `peers/README.md` lists every
//! difference.

mod lobster_adapter;
mod matchcore_adapter;
mod nanobook_adapter;

pub use lobster_adapter::LobsterAdapter;
pub use matchcore_adapter::MatchcoreAdapter;
pub use nanobook_adapter::NanobookAdapter;

use flowmatch_core::{
    BookConfig, Command, Event, OrderBook, OrderId, Price, Qty, ReferenceBook, Sink, Stp, Tif,
};

/// One fill as every matcher reports it, in flowmatch's own id space: the taker's id, the
/// maker's id, the print price (the maker's price) and the quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    pub taker: OrderId,
    pub maker: OrderId,
    pub price: Price,
    pub qty: Qty,
}

/// What a matcher can express. [`restrict`] turns a full flowmatch stream into the largest
/// sub-stream within these limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Per-order self-trade prevention modes (`CT`/`CM`/`CB`/`DC`). Without it, orders keep
    /// their accounts but their STP mode is set to `NONE` (they simply trade).
    pub stp: bool,
    /// Fill-or-kill orders. Without it, FOK orders are left out.
    pub fok: bool,
    /// Post-only orders. Without it, post-only orders are left out.
    pub post_only: bool,
    /// A replace to the same price and a quantity not above the open quantity keeps time
    /// priority. Without it, such replaces are left out (other replaces lose priority in
    /// every engine, so they are kept and translated to cancel + new where needed).
    pub keep_priority_replace: bool,
    /// Lowest limit price the matcher can represent (inclusive).
    pub min_price: Price,
    /// Highest limit price the matcher can represent (inclusive).
    pub max_price: Price,
}

impl Capabilities {
    /// Everything flowmatch can express.
    pub const FULL: Capabilities = Capabilities {
        stp: true,
        fok: true,
        post_only: true,
        keep_priority_replace: true,
        min_price: Price::MIN,
        max_price: Price::MAX,
    };

    /// The capabilities every one of `caps` has: the common subset.
    pub fn intersect(caps: &[Capabilities]) -> Capabilities {
        caps.iter().fold(Capabilities::FULL, |a, b| Capabilities {
            stp: a.stp && b.stp,
            fok: a.fok && b.fok,
            post_only: a.post_only && b.post_only,
            keep_priority_replace: a.keep_priority_replace && b.keep_priority_replace,
            min_price: a.min_price.max(b.min_price),
            max_price: a.max_price.min(b.max_price),
        })
    }
}

/// A matching engine driven command by command. Implemented by [`Ours`] (our books) and by
/// one adapter per crates.io peer.
pub trait Matcher {
    /// Short stable name for reports.
    fn name(&self) -> &'static str;
    /// What this matcher can express (see [`restrict`]).
    fn capabilities(&self) -> Capabilities;
    /// Apply one command and append its fills, in match order, to `fills`. The caller
    /// clears `fills`; the adapter only pushes, so a pre-sized vector never reallocates.
    /// Commands outside [`Matcher::capabilities`] are translated as well as possible and
    /// never panic, but only restricted streams are compared.
    fn apply(&mut self, cmd: &Command, fills: &mut Vec<Fill>);
}

/// Our own books ([`OrderBook`]) behind [`Matcher`].
pub struct Ours<B: OrderBook> {
    pub book: B,
    name: &'static str,
}

impl<B: OrderBook> Ours<B> {
    /// Wrap a book under a report name (e.g. `"fast"`, `"pro-rata"`).
    pub fn new(book: B, name: &'static str) -> Self {
        Ours { book, name }
    }
}

/// Forwards only trades, in our id space already.
struct FillSink<'a>(&'a mut Vec<Fill>);

impl Sink<Event> for FillSink<'_> {
    #[inline]
    fn event(&mut self, e: Event) {
        if let Event::Trade {
            taker,
            maker,
            price,
            qty,
        } = e
        {
            self.0.push(Fill {
                taker,
                maker,
                price,
                qty,
            });
        }
    }
}

impl<B: OrderBook> Matcher for Ours<B> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::FULL
    }
    #[inline]
    fn apply(&mut self, cmd: &Command, fills: &mut Vec<Fill>) {
        self.book.apply(cmd, &mut FillSink(fills));
    }
}

/// Why [`restrict`] left a command out, counted for the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Dropped {
    /// Commands our own book rejects (a rejected command changes nothing in our
    /// semantics, while peers differ on what a reject does, e.g. a duplicate id).
    pub rejected: u64,
    pub fok: u64,
    pub post_only: u64,
    /// Iceberg orders: no peer adapter expresses them (each would translate one as a plain
    /// limit of its whole quantity), so they are always left out. Not serialized while 0,
    /// so reports of streams without icebergs are as they were.
    #[serde(skip_serializing_if = "is_zero")]
    pub iceberg: u64,
    /// Midpoint pegs: no peer adapter expresses them (each would translate a capless one
    /// as a market order), so they are always left out; not serialized while 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub mid_peg: u64,
    pub keep_priority_replace: u64,
    pub price_range: u64,
    /// Orders whose STP mode was set to `NONE` (kept, not dropped).
    pub stp_cleared: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The largest sub-stream of `cmds` that a matcher with `caps` can express, and what was
/// left out.
///
/// The stream is walked through our [`ReferenceBook`] (the oracle), so that decisions that
/// depend on book state (is this replace priority-keeping? would our book reject this?)
/// are exact. Left out: iceberg orders and midpoint pegs (no peer has them); commands the oracle rejects; FOK / post-only orders if unsupported;
/// priority-keeping replaces if unsupported; orders and replaces with prices outside
/// `[min_price, max_price]`. STP modes are cleared (set to `NONE`) if unsupported. Nothing
/// else is changed, so every remaining command means the same thing to every matcher.
pub fn restrict(cmds: &[Command], caps: &Capabilities) -> (Vec<Command>, Dropped) {
    let mut oracle = ReferenceBook::new(BookConfig::default());
    let mut out = Vec::with_capacity(cmds.len());
    let mut dropped = Dropped::default();
    let mut events: Vec<Event> = Vec::with_capacity(64);
    for cmd in cmds {
        let mut cmd = *cmd;
        match &mut cmd {
            Command::New(o) => {
                if matches!(o.ord_type, flowmatch_core::OrdType::Iceberg { .. }) {
                    dropped.iceberg += 1;
                    continue;
                }
                if o.ord_type == flowmatch_core::OrdType::MidPeg {
                    dropped.mid_peg += 1;
                    continue;
                }
                if o.tif == Tif::Fok && !caps.fok {
                    dropped.fok += 1;
                    continue;
                }
                if o.tif == Tif::Post && !caps.post_only {
                    dropped.post_only += 1;
                    continue;
                }
                if let Some(p) = o.price {
                    if p < caps.min_price || p > caps.max_price {
                        dropped.price_range += 1;
                        continue;
                    }
                }
                if o.stp != Stp::None && !caps.stp {
                    o.stp = Stp::None;
                    dropped.stp_cleared += 1;
                }
            }
            Command::Replace { id, price, qty } => {
                if *price < caps.min_price || *price > caps.max_price {
                    dropped.price_range += 1;
                    continue;
                }
                if let Some(live) = oracle.order(*id) {
                    if !caps.keep_priority_replace && live.price == *price && *qty <= live.open_qty
                    {
                        dropped.keep_priority_replace += 1;
                        continue;
                    }
                }
            }
            Command::Cancel { .. } => {}
        }
        events.clear();
        oracle.apply(&cmd, &mut events);
        if matches!(events.first(), Some(Event::Reject { .. })) {
            dropped.rejected += 1;
            continue;
        }
        out.push(cmd);
    }
    (out, dropped)
}

/// Order-preserving bijection from `i64` onto `u64` (flip the sign bit): `i64::MIN -> 0`,
/// `-1 -> 2^63 - 1`, `0 -> 2^63`, `i64::MAX -> u64::MAX`. Used for peers with unsigned
/// prices; because it is monotone, price priority is unchanged, and because it is a
/// bijection every print maps back exactly.
#[inline]
pub fn price_to_u64(p: Price) -> u64 {
    (p as u64) ^ (1u64 << 63)
}

/// Inverse of [`price_to_u64`].
#[inline]
pub fn price_from_u64(p: u64) -> Price {
    (p ^ (1u64 << 63)) as Price
}

/// The adapters for every crates.io peer this crate knows, freshly constructed, with their
/// names. Used by reports to list peers even when a stream excludes one.
pub fn peer_names() -> [&'static str; 3] {
    ["matchcore", "nanobook", "lobster"]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_bijection_is_monotone_and_exact() {
        let ps = [
            Price::MIN,
            Price::MIN + 1,
            -5,
            -1,
            0,
            1,
            7,
            Price::MAX - 1,
            Price::MAX,
        ];
        for w in ps.windows(2) {
            assert!(price_to_u64(w[0]) < price_to_u64(w[1]));
        }
        for p in ps {
            assert_eq!(price_from_u64(price_to_u64(p)), p);
        }
        assert_eq!(price_to_u64(Price::MIN), 0);
        assert_eq!(price_to_u64(Price::MAX), u64::MAX);
    }

    #[test]
    fn intersect_takes_the_narrowest() {
        let a = Capabilities {
            fok: false,
            min_price: -10,
            ..Capabilities::FULL
        };
        let b = Capabilities {
            post_only: false,
            max_price: 10,
            ..Capabilities::FULL
        };
        let c = Capabilities::intersect(&[a, b]);
        assert!(!c.fok && !c.post_only && c.stp);
        assert_eq!((c.min_price, c.max_price), (-10, 10));
    }
}
