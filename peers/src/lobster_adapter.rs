//! `lobster` 0.7 behind [`Matcher`].
//!
//! Translation:
//! - Ids: lobster takes the caller's id (`u128`); ours is used as is.
//! - Prices: `u64` only ("Lobster does not support negative prices"); our `i64` maps
//!   through the monotone bijection [`price_to_u64`], so the whole `i64` domain is
//!   representable and prints map back exactly.
//! - Time in force: lobster has GTC limits and IOC market orders only. An IOC *limit* is
//!   emulated as a limit followed, if a remainder rested, by a cancel of that remainder:
//!   the same fills, at the cost of one extra cancel (counted in its throughput). FOK and
//!   post-only orders are outside its subset.
//! - Replace: none in lobster. A replace that loses priority is cancel + new limit with the
//!   same id, side, new price and quantity (the adapter remembers each resting order's
//!   side); priority-keeping replaces are outside its subset.
//! - STP: none; streams carry STP `NONE` only.

use crate::{price_from_u64, price_to_u64, Capabilities, Fill, Matcher};
use flowmatch_core::{Command, OrdType, OrderId, Side, Tif};
use lobster as lb;
use rustc_hash::FxHashMap;

/// lobster's `OrderBook`, plus each resting order's side (needed to re-enter a replace).
pub struct LobsterAdapter {
    book: lb::OrderBook,
    sides: FxHashMap<OrderId, Side>,
}

impl Default for LobsterAdapter {
    fn default() -> Self {
        Self::new()
    }
}

impl LobsterAdapter {
    pub fn new() -> Self {
        LobsterAdapter {
            // Arena of 65,536 orders (like our books' default capacity), 16 per level queue.
            book: lb::OrderBook::new(1 << 16, 16, false),
            sides: FxHashMap::with_capacity_and_hasher(1 << 16, Default::default()),
        }
    }

    /// Submit a GTC limit; returns whether a remainder rests.
    fn limit(&mut self, id: OrderId, s: Side, price: i64, qty: u64, fills: &mut Vec<Fill>) -> bool {
        let ev = self.book.execute(lb::OrderType::Limit {
            id: id as u128,
            side: side(s),
            qty,
            price: price_to_u64(price),
        });
        match ev {
            lb::OrderEvent::Placed { .. } => true,
            lb::OrderEvent::PartiallyFilled { fills: f, .. } => {
                push(&f, fills);
                true
            }
            lb::OrderEvent::Filled { fills: f, .. } => {
                push(&f, fills);
                false
            }
            _ => false,
        }
    }
}

fn push(f: &[lb::FillMetadata], fills: &mut Vec<Fill>) {
    for m in f {
        fills.push(Fill {
            taker: m.order_1 as OrderId,
            maker: m.order_2 as OrderId,
            price: price_from_u64(m.price),
            qty: m.qty,
        });
    }
}

fn side(s: Side) -> lb::Side {
    match s {
        Side::Buy => lb::Side::Bid,
        Side::Sell => lb::Side::Ask,
    }
}

impl Matcher for LobsterAdapter {
    fn name(&self) -> &'static str {
        "lobster"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            stp: false,
            fok: false,
            post_only: false,
            keep_priority_replace: false,
            min_price: i64::MIN,
            max_price: i64::MAX,
        }
    }

    fn apply(&mut self, cmd: &Command, fills: &mut Vec<Fill>) {
        // lobster is given no stops to map ours to: a stop or stop-limit is skipped (no
        // fills, nothing rests), so a stream with stops compares only among our books.
        if matches!(cmd, Command::New(o) if o.ord_type.trigger().is_some()) {
            return;
        }
        match *cmd {
            Command::New(o) => match (o.ord_type, o.price) {
                (OrdType::Market, _) | (_, None) => {
                    let ev = self.book.execute(lb::OrderType::Market {
                        id: o.id as u128,
                        side: side(o.side),
                        qty: o.qty,
                    });
                    if let lb::OrderEvent::Filled { fills: f, .. }
                    | lb::OrderEvent::PartiallyFilled { fills: f, .. } = ev
                    {
                        push(&f, fills);
                    }
                }
                (_, Some(p)) => {
                    let rests = self.limit(o.id, o.side, p, o.qty, fills);
                    if rests {
                        if o.tif == Tif::Ioc || o.tif == Tif::Fok {
                            self.book
                                .execute(lb::OrderType::Cancel { id: o.id as u128 });
                        } else {
                            self.sides.insert(o.id, o.side);
                        }
                    }
                }
            },
            Command::Cancel { id } => {
                self.book.execute(lb::OrderType::Cancel { id: id as u128 });
                self.sides.remove(&id);
            }
            Command::Replace { id, price, qty } => {
                if let Some(s) = self.sides.remove(&id) {
                    self.book.execute(lb::OrderType::Cancel { id: id as u128 });
                    if self.limit(id, s, price, qty, fills) {
                        self.sides.insert(id, s);
                    }
                }
            }
        }
    }
}
