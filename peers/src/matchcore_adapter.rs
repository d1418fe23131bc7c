//! `matchcore` 0.4 behind [`Matcher`].
//!
//! Translation:
//! - Ids: matchcore assigns its own `OrderId` (the sequence number of the submit command).
//!   The adapter keeps `ours -> theirs` in a hash map and `theirs -> ours` in a vector
//!   indexed by sequence number (their ids are dense), so every fill is reported in our
//!   id space.
//! - Commands carry a `CommandMeta` whose sequence number must be exactly the previous
//!   one plus one and whose timestamp must not go backwards: the adapter numbers every
//!   command it sends (timestamp = sequence number).
//! - Prices: `Price(u64)`, zero rejected. Our `i64` price maps through the monotone
//!   bijection [`price_to_u64`]; `i64::MIN` maps to 0, which matchcore rejects, so the
//!   adapter's price range starts at `i64::MIN + 1`.
//! - Replace: an amend patch with the new price and quantity. matchcore keeps priority on
//!   a same-price reduction and loses it on a price change or an increase, like us.
//! - STP: none in matchcore; streams carry STP `NONE` only.

use crate::{price_from_u64, price_to_u64, Capabilities, Fill, Matcher};
use flowmatch_core::{Command, OrdType, OrderId, Side, Tif};
use matchcore as mc;
use rustc_hash::FxHashMap;

/// matchcore's `OrderBook` with id translation.
pub struct MatchcoreAdapter {
    book: mc::OrderBook,
    seq: u64,
    ours_to_theirs: FxHashMap<OrderId, u64>,
    /// Indexed by matchcore id (= sequence number of the submit): our id.
    theirs_to_ours: Vec<OrderId>,
}

impl Default for MatchcoreAdapter {
    fn default() -> Self {
        Self::new()
    }
}

impl MatchcoreAdapter {
    pub fn new() -> Self {
        MatchcoreAdapter {
            book: mc::OrderBook::new("flowmatch"),
            seq: 0,
            ours_to_theirs: FxHashMap::with_capacity_and_hasher(1 << 16, Default::default()),
            theirs_to_ours: Vec::with_capacity(1 << 20),
        }
    }

    fn meta(&mut self) -> mc::CommandMeta {
        let s = self.seq;
        self.seq += 1;
        mc::CommandMeta {
            sequence_number: mc::SequenceNumber(s),
            timestamp: mc::Timestamp(s),
        }
    }

    fn collect(&self, taker: OrderId, effects: &mc::CommandEffects, fills: &mut Vec<Fill>) {
        if let Some(m) = effects.target_order().match_result() {
            for t in m.trades() {
                let maker = self
                    .theirs_to_ours
                    .get(t.maker_order_id().0 as usize)
                    .copied()
                    .unwrap_or(u64::MAX);
                fills.push(Fill {
                    taker,
                    maker,
                    price: price_from_u64(t.price().0),
                    qty: t.quantity().0,
                });
            }
        }
    }
}

fn side(s: Side) -> mc::Side {
    match s {
        Side::Buy => mc::Side::Buy,
        Side::Sell => mc::Side::Sell,
    }
}

impl Matcher for MatchcoreAdapter {
    fn name(&self) -> &'static str {
        "matchcore"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            stp: false,
            fok: true,
            post_only: true,
            keep_priority_replace: true,
            min_price: i64::MIN + 1,
            max_price: i64::MAX,
        }
    }

    fn apply(&mut self, cmd: &Command, fills: &mut Vec<Fill>) {
        // matchcore is given no stops to map ours to: a stop or stop-limit is skipped (no
        // fills, nothing rests), so a stream with stops compares only among our books.
        if matches!(cmd, Command::New(o) if o.ord_type.trigger().is_some()) {
            return;
        }
        let meta = self.meta();
        // The submit's sequence number becomes the new order's matchcore id.
        let theirs = meta.sequence_number.0;
        self.theirs_to_ours.push(cmd.id());
        let kind = match *cmd {
            Command::New(o) => {
                let order =
                    match (o.ord_type, o.price) {
                        (OrdType::Market, _) | (_, None) => mc::NewOrder::Market(
                            mc::MarketOrder::new(mc::Quantity(o.qty), side(o.side), false),
                        ),
                        (_, Some(p)) => {
                            let tif = match o.tif {
                                Tif::Gtc | Tif::Post => mc::TimeInForce::Gtc,
                                Tif::Ioc => mc::TimeInForce::Ioc,
                                Tif::Fok => mc::TimeInForce::Fok,
                            };
                            mc::NewOrder::Limit(mc::LimitOrder::new(
                                mc::Price(price_to_u64(p)),
                                mc::QuantityPolicy::Standard {
                                    quantity: mc::Quantity(o.qty),
                                },
                                mc::OrderFlags::new(side(o.side), o.tif == Tif::Post, tif),
                            ))
                        }
                    };
                self.ours_to_theirs.insert(o.id, theirs);
                mc::CommandKind::Submit(mc::SubmitCmd { order })
            }
            Command::Cancel { id } => mc::CommandKind::Cancel(mc::CancelCmd {
                order_id: mc::OrderId(self.ours_to_theirs.get(&id).copied().unwrap_or(u64::MAX)),
                order_kind: mc::OrderKind::Limit,
            }),
            Command::Replace { id, price, qty } => mc::CommandKind::Amend(mc::AmendCmd {
                order_id: mc::OrderId(self.ours_to_theirs.get(&id).copied().unwrap_or(u64::MAX)),
                patch: mc::AmendPatch::Limit(
                    mc::LimitOrderPatch::new()
                        .with_price(mc::Price(price_to_u64(price)))
                        .with_quantity_policy(mc::QuantityPolicy::Standard {
                            quantity: mc::Quantity(qty),
                        }),
                ),
            }),
        };
        let out = self.book.execute(&mc::Command { meta, kind });
        if let mc::CommandOutcome::Applied(
            mc::CommandReport::Submit(effects) | mc::CommandReport::Amend(effects),
        ) = &out
        {
            self.collect(cmd.id(), effects, fills);
        }
    }
}
