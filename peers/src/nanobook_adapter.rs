//! `nanobook` 0.19 (`Exchange`, default features off) behind [`Matcher`].
//!
//! Translation:
//! - Ids: nanobook assigns its own monotonically increasing `OrderId`; a modify cancels the
//!   order and submits a new one with a *new* id. The adapter keeps `ours -> theirs` in a
//!   hash map and `theirs -> ours` in a vector indexed by their id.
//! - Prices: `Price(i64)`, used as is. Market orders are nanobook's own `submit_market`
//!   (internally a limit at `i64::MAX` / `i64::MIN` with IOC).
//! - Replace: `modify` = cancel + new order, always losing time priority, so
//!   priority-keeping replaces are outside its subset.
//! - No post-only; STP is one policy for the whole exchange keyed on an owner tag, not a
//!   per-order mode, so streams carry STP `NONE` only.
//! - Housekeeping: the exchange keeps every trade and every finished order in history
//!   vectors/maps. The adapter calls nanobook's own `clear_trades` after each command
//!   (fills are taken from the per-command result) and `clear_order_history` every
//!   65,536 commands, so memory stays flat on long streams, as a user of the crate would.

use crate::{Capabilities, Fill, Matcher};
use flowmatch_core::{Command, OrdType, OrderId, Side, Tif};
use nanobook as nb;
use rustc_hash::FxHashMap;

/// A power of two (tested with a mask).
const HISTORY_EVERY: u64 = 1 << 16;

/// nanobook's `Exchange` with id translation.
pub struct NanobookAdapter {
    ex: nb::Exchange,
    ours_to_theirs: FxHashMap<OrderId, u64>,
    theirs_to_ours: Vec<OrderId>,
    commands: u64,
}

impl Default for NanobookAdapter {
    fn default() -> Self {
        Self::new()
    }
}

impl NanobookAdapter {
    pub fn new() -> Self {
        NanobookAdapter {
            ex: nb::Exchange::new(),
            ours_to_theirs: FxHashMap::with_capacity_and_hasher(1 << 16, Default::default()),
            theirs_to_ours: Vec::with_capacity(1 << 20),
            commands: 0,
        }
    }

    fn map_new(&mut self, ours: OrderId, theirs: nb::OrderId) {
        let t = theirs.0 as usize;
        if self.theirs_to_ours.len() <= t {
            self.theirs_to_ours.resize(t + 1, u64::MAX);
        }
        self.theirs_to_ours[t] = ours;
        self.ours_to_theirs.insert(ours, theirs.0);
    }

    fn push_trades(&self, trades: &[nb::Trade], fills: &mut Vec<Fill>) {
        for t in trades {
            let ours = |id: nb::OrderId| {
                self.theirs_to_ours
                    .get(id.0 as usize)
                    .copied()
                    .unwrap_or(u64::MAX)
            };
            fills.push(Fill {
                taker: ours(t.aggressor_order_id),
                maker: ours(t.passive_order_id),
                price: t.price.0,
                qty: t.quantity,
            });
        }
    }
}

fn side(s: Side) -> nb::Side {
    match s {
        Side::Buy => nb::Side::Buy,
        Side::Sell => nb::Side::Sell,
    }
}

impl Matcher for NanobookAdapter {
    fn name(&self) -> &'static str {
        "nanobook"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            stp: false,
            fok: true,
            post_only: false,
            keep_priority_replace: false,
            min_price: i64::MIN,
            max_price: i64::MAX,
        }
    }

    fn apply(&mut self, cmd: &Command, fills: &mut Vec<Fill>) {
        // nanobook is given no stops to map ours to: a stop or stop-limit is skipped (no
        // fills, nothing rests), so a stream with stops compares only among our books.
        if matches!(cmd, Command::New(o) if o.ord_type.trigger().is_some()) {
            return;
        }
        match *cmd {
            Command::New(o) => {
                // The taker's id must be known before its trades are translated; nanobook
                // returns it with the trades, so the mapping is made first from the result
                // and the trades (which name the taker) translated afterwards.
                let r = match (o.ord_type, o.price) {
                    (OrdType::Market, _) | (_, None) => self.ex.submit_market(side(o.side), o.qty),
                    (_, Some(p)) => {
                        let tif = match o.tif {
                            Tif::Gtc | Tif::Post => nb::TimeInForce::GTC,
                            Tif::Ioc => nb::TimeInForce::IOC,
                            Tif::Fok => nb::TimeInForce::FOK,
                        };
                        self.ex.submit_limit(side(o.side), nb::Price(p), o.qty, tif)
                    }
                };
                self.map_new(o.id, r.order_id);
                self.push_trades(&r.trades, fills);
            }
            Command::Cancel { id } => {
                if let Some(&t) = self.ours_to_theirs.get(&id) {
                    self.ex.cancel(nb::OrderId(t));
                }
            }
            Command::Replace { id, price, qty } => {
                if let Some(&t) = self.ours_to_theirs.get(&id) {
                    let r = self.ex.modify(nb::OrderId(t), nb::Price(price), qty);
                    if let Some(new_id) = r.new_order_id {
                        self.map_new(id, new_id);
                    }
                    self.push_trades(&r.trades, fills);
                }
            }
        }
        self.ex.clear_trades();
        self.commands += 1;
        if self.commands & (HISTORY_EVERY - 1) == 0 {
            self.ex.clear_order_history();
        }
    }
}
