//! Running the internalizer on the engine thread.
//!
//! The engine's output ring carries the book's [`Event`]s, so the internalizer's richer
//! [`IxEvent`]s travel encoded in them: [`encode`] maps each one to a single `Event` and
//! [`decode`] inverts it exactly (`decode(encode(e)) == Some(e)` for every event, checked
//! by the tests below). Anything that has no natural `Event` form rides in a `Trade` whose
//! `maker` is a reserved marker at the top of the `u64` range, above any id the brokers'
//! id spaces can produce (`broker << 40 | seq` with a 16-bit broker stays below 2^56).
//! Encoding is a few moves: no allocation on the engine thread.

use super::*;
use crate::command::EventSink;
use crate::engine::Processor;

const AGENCY_MAKER_BIT: u64 = 1 << 63;
const M_PRINCIPAL: u64 = u64::MAX;
const M_EXCHANGE: u64 = u64::MAX - 1;
const M_RESTED: u64 = u64::MAX - 2;
const M_CXL_REPLACED: u64 = u64::MAX - 3;
const M_CXL_NOLIQ: u64 = u64::MAX - 4;
const M_HEDGE_BUY: u64 = u64::MAX - 5;
const M_HEDGE_SELL: u64 = u64::MAX - 6;
const M_REJ_NOQUOTE: u64 = u64::MAX - 7;
const M_REJ_UNKNOWN: u64 = u64::MAX - 8;
const M_REJ_CROSSED: u64 = u64::MAX - 9;
const M_CXL_COLLAR: u64 = u64::MAX - 10;
const M_ROUTE: u64 = u64::MAX - 16; // - reason code (0..4)

fn route_code(r: RouteReason) -> u64 {
    match r {
        RouteReason::Size => 0,
        RouteReason::WideQuote => 1,
        RouteReason::Inventory => 2,
        RouteReason::BadQuote => 3,
    }
}

/// One internalizer event as one core event.
#[inline]
pub fn encode(e: IxEvent) -> Event {
    let marker = |id, m, price, qty| Event::Trade {
        taker: id,
        maker: m,
        price,
        qty,
    };
    match e {
        IxEvent::Accepted {
            id,
            marketable: true,
        } => Event::Ack { id },
        IxEvent::Accepted {
            id,
            marketable: false,
        } => Event::Replaced { id },
        IxEvent::Rejected { id, reason } => match reason {
            IxReject::Book(r) => Event::Reject { id, reason: r },
            IxReject::NoQuote => marker(id, M_REJ_NOQUOTE, 0, 0),
            IxReject::UnknownId => marker(id, M_REJ_UNKNOWN, 0, 0),
            IxReject::CrossedQuote => marker(id, M_REJ_CROSSED, 0, 0),
        },
        IxEvent::Fill {
            id,
            kind,
            price,
            qty,
            contra,
        } => match kind {
            FillKind::AgencyTaker => marker(id, contra, price, qty),
            FillKind::AgencyMaker => marker(id, contra | AGENCY_MAKER_BIT, price, qty),
            FillKind::Principal => marker(id, M_PRINCIPAL, price, qty),
            FillKind::Exchange => marker(id, M_EXCHANGE, price, qty),
        },
        IxEvent::Routed { id, qty, reason } => marker(id, M_ROUTE - route_code(reason), 0, qty),
        IxEvent::Rested { id, qty } => marker(id, M_RESTED, 0, qty),
        IxEvent::Cancelled { id, qty, reason } => match reason {
            IxCancel::User => Event::Cancel {
                id,
                qty,
                reason: CancelReason::User,
            },
            IxCancel::Ioc => Event::Cancel {
                id,
                qty,
                reason: CancelReason::Ioc,
            },
            IxCancel::Stp => Event::Cancel {
                id,
                qty,
                reason: CancelReason::Stp,
            },
            IxCancel::Replaced => marker(id, M_CXL_REPLACED, 0, qty),
            IxCancel::NoLiquidity => marker(id, M_CXL_NOLIQ, 0, qty),
            IxCancel::Collar => marker(id, M_CXL_COLLAR, 0, qty),
        },
        IxEvent::Hedge { side, price, qty } => marker(
            0,
            if side == Side::Buy {
                M_HEDGE_BUY
            } else {
                M_HEDGE_SELL
            },
            price,
            qty,
        ),
    }
}

/// The inverse of [`encode`]; `None` for an event `encode` never produces.
pub fn decode(e: Event) -> Option<IxEvent> {
    Some(match e {
        Event::Ack { id } => IxEvent::Accepted {
            id,
            marketable: true,
        },
        Event::Replaced { id } => IxEvent::Accepted {
            id,
            marketable: false,
        },
        Event::Reject { id, reason } => IxEvent::Rejected {
            id,
            reason: IxReject::Book(reason),
        },
        Event::Cancel { id, qty, reason } => IxEvent::Cancelled {
            id,
            qty,
            reason: match reason {
                CancelReason::User => IxCancel::User,
                CancelReason::Ioc => IxCancel::Ioc,
                CancelReason::Stp => IxCancel::Stp,
                CancelReason::Fok => return None,
            },
        },
        Event::Trade {
            taker: id,
            maker,
            price,
            qty,
        } => {
            let fill = |kind, contra| IxEvent::Fill {
                id,
                kind,
                price,
                qty,
                contra,
            };
            match maker {
                M_PRINCIPAL => fill(FillKind::Principal, 0),
                M_EXCHANGE => fill(FillKind::Exchange, 0),
                M_RESTED => IxEvent::Rested { id, qty },
                M_CXL_REPLACED => IxEvent::Cancelled {
                    id,
                    qty,
                    reason: IxCancel::Replaced,
                },
                M_CXL_NOLIQ => IxEvent::Cancelled {
                    id,
                    qty,
                    reason: IxCancel::NoLiquidity,
                },
                M_CXL_COLLAR => IxEvent::Cancelled {
                    id,
                    qty,
                    reason: IxCancel::Collar,
                },
                M_HEDGE_BUY | M_HEDGE_SELL => IxEvent::Hedge {
                    side: if maker == M_HEDGE_BUY {
                        Side::Buy
                    } else {
                        Side::Sell
                    },
                    price,
                    qty,
                },
                M_REJ_NOQUOTE | M_REJ_UNKNOWN | M_REJ_CROSSED => IxEvent::Rejected {
                    id,
                    reason: match maker {
                        M_REJ_NOQUOTE => IxReject::NoQuote,
                        M_REJ_UNKNOWN => IxReject::UnknownId,
                        _ => IxReject::CrossedQuote,
                    },
                },
                m if (M_ROUTE - 3..=M_ROUTE).contains(&m) => IxEvent::Routed {
                    id,
                    qty,
                    reason: match M_ROUTE - m {
                        0 => RouteReason::Size,
                        1 => RouteReason::WideQuote,
                        2 => RouteReason::Inventory,
                        _ => RouteReason::BadQuote,
                    },
                },
                m if m >= M_ROUTE - 3 => return None,
                m if m & AGENCY_MAKER_BIT != 0 => {
                    fill(FillKind::AgencyMaker, m & !AGENCY_MAKER_BIT)
                }
                m => fill(FillKind::AgencyTaker, m),
            }
        }
    })
}

/// Adapts an engine [`EventSink`] to the internalizer's [`IxSink`] by encoding.
struct Encoding<'a, S>(&'a mut S);

impl<S: EventSink> IxSink for Encoding<'_, S> {
    #[inline]
    fn ix_event(&mut self, e: IxEvent) {
        self.0.event(encode(e));
    }
}

/// The engine thread runs the internalizer on [`Msg`]s, publishing encoded events.
impl<B: OrderBook, V: Venue> Processor<Msg> for Internalizer<B, V> {
    #[inline]
    fn process<S: EventSink>(&mut self, msg: &Msg, sink: &mut S) {
        self.on_message(msg, &mut Encoding(sink));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_inverts_encode_for_every_event_shape() {
        let id = retail_id(65_535, (1 << 40) - 1); // the largest customer id
        let mut all = vec![
            IxEvent::Accepted {
                id,
                marketable: true,
            },
            IxEvent::Accepted {
                id,
                marketable: false,
            },
            IxEvent::Rested { id, qty: 7 },
            IxEvent::Hedge {
                side: Side::Buy,
                price: -5,
                qty: 3,
            },
            IxEvent::Hedge {
                side: Side::Sell,
                price: i64::MAX,
                qty: 3,
            },
        ];
        for r in [
            IxReject::Book(RejectReason::BadQty),
            IxReject::Book(RejectReason::DuplicateId),
            IxReject::NoQuote,
            IxReject::UnknownId,
            IxReject::CrossedQuote,
        ] {
            all.push(IxEvent::Rejected { id, reason: r });
        }
        for kind in [
            FillKind::AgencyTaker,
            FillKind::AgencyMaker,
            FillKind::Principal,
            FillKind::Exchange,
        ] {
            let contra = if matches!(kind, FillKind::AgencyTaker | FillKind::AgencyMaker) {
                retail_id(3, 9)
            } else {
                0
            };
            all.push(IxEvent::Fill {
                id,
                kind,
                price: i64::MIN,
                qty: 100,
                contra,
            });
        }
        for reason in [
            RouteReason::Size,
            RouteReason::WideQuote,
            RouteReason::Inventory,
            RouteReason::BadQuote,
        ] {
            all.push(IxEvent::Routed { id, qty: 5, reason });
        }
        for reason in [
            IxCancel::User,
            IxCancel::Replaced,
            IxCancel::Ioc,
            IxCancel::NoLiquidity,
            IxCancel::Collar,
            IxCancel::Stp,
        ] {
            all.push(IxEvent::Cancelled { id, qty: 5, reason });
        }
        let mut seen = std::collections::HashSet::new();
        for e in all {
            let w = encode(e);
            assert_eq!(decode(w), Some(e), "{e:?} via {w:?}");
            assert!(
                seen.insert(format!("{w:?}")),
                "two events encode alike: {e:?}"
            );
        }
        assert_eq!(
            decode(Event::Cancel {
                id: 1,
                qty: 1,
                reason: CancelReason::Fok
            }),
            None
        );
    }
}
