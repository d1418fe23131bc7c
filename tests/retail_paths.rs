//! Hand-checked small scenarios for each path through the internalizer: agency cross,
//! principal fill with price improvement, routing (size, wide quote, inventory), the
//! price collar on routed orders, best execution of the agency cross, hedging,
//! customer priority when the NBBO moves through resting orders, self-trade prevention,
//! negative prices and rejects. Every expected event list below was worked out by hand
//! from the rules in `wholesaler/src/lib.rs` (the order paths).
//!
//! Prices are ticks of $0.0001: $10.00 = 100_000, one cent = 100.

use flowmatch_core::{
    BookConfig, NewOrder, OrderBook, ReferenceBook, RejectReason as BookReject, Side, Tif,
};
use flowmatch_harness::market::{MarketConfig, SimExchange};
use flowmatch_wholesaler::*;

const C: i64 = TICKS_PER_CENT;

fn ix(cfg: Config) -> Internalizer<ReferenceBook, SimExchange> {
    // Exchange: best level with the quote's size, then 2 deeper levels of 300 each.
    let m = MarketConfig {
        depth_size: 300,
        depth_levels: 3,
        ..Default::default()
    };
    Internalizer::new(
        cfg,
        ReferenceBook::new(BookConfig::default()),
        SimExchange::new(&m),
    )
}

fn cfg() -> Config {
    Config {
        account: 999,
        improvement_permille: 450,
        max_autoex_qty: 400,
        collar_ticks: 5 * C,
        max_autoex_spread_ticks: 3 * C,
        max_inventory: 5_000,
        hedge_threshold: 3_000,
        hedge_target: 1_000,
    }
}

fn quote(bid: i64, ask: i64) -> Msg {
    Msg::Quote(Quote {
        bid,
        ask,
        bid_size: 200,
        ask_size: 200,
    })
}

fn send<B: OrderBook>(x: &mut Internalizer<B, SimExchange>, m: Msg) -> Vec<Event> {
    let mut v = Vec::new();
    x.on_message(&m, &mut v);
    v
}

const A: u64 = 1 << BROKER_SHIFT | 1; // broker 1, order 1
const B: u64 = 1 << BROKER_SHIFT | 2;
const D: u64 = 2 << BROKER_SHIFT | 1; // broker 2, order 1

fn fill(id: u64, kind: FillKind, price: i64, qty: u64, contra: u64) -> Event {
    Event::Fill {
        id,
        kind,
        price,
        qty,
        contra,
    }
}

#[test]
fn principal_fill_with_improvement() {
    let mut x = ix(cfg());
    assert!(send(&mut x, quote(100_000, 100_200)).is_empty());
    // Spread 2 cents = 200 ticks; improvement 45% = 90 ticks: buy at 10.0200 - 0.0090.
    let ev = send(&mut x, Msg::Order(NewOrder::market(A, 1, Side::Buy, 100)));
    assert_eq!(
        ev,
        vec![
            Event::Accepted {
                id: A,
                marketable: true
            },
            fill(A, FillKind::Principal, 100_110, 100, 0),
        ]
    );
    assert_eq!(x.inventory(), -100);
    assert_eq!(x.cash(), 100 * 100_110);
    // A marketable sell limit at the bid: 10.0000 + 0.0090.
    let ev = send(
        &mut x,
        Msg::Order(NewOrder::limit(B, 2, Side::Sell, 100_000, 60)),
    );
    assert_eq!(ev[1], fill(B, FillKind::Principal, 100_090, 60, 0));
    assert_eq!(x.inventory(), -40);
}

#[test]
fn agency_cross_at_resting_price_then_principal() {
    let mut x = ix(cfg());
    send(&mut x, quote(100_000, 100_200));
    // A sell limit at 10.01 (inside the spread, above the bid): not marketable, rests.
    let ev = send(
        &mut x,
        Msg::Order(NewOrder::limit(A, 1, Side::Sell, 100_100, 100)),
    );
    assert_eq!(
        ev,
        vec![
            Event::Accepted {
                id: A,
                marketable: false
            },
            Event::Rested { id: A, qty: 100 }
        ]
    );
    // A market buy of 150 from another account: 100 crossed at 10.01 (better than the
    // 10.02 offer), the other 50 from the wholesaler at 10.0110.
    let ev = send(&mut x, Msg::Order(NewOrder::market(D, 2, Side::Buy, 150)));
    assert_eq!(
        ev,
        vec![
            Event::Accepted {
                id: D,
                marketable: true
            },
            fill(D, FillKind::AgencyTaker, 100_100, 100, A),
            fill(A, FillKind::AgencyMaker, 100_100, 100, D),
            fill(D, FillKind::Principal, 100_110, 50, 0),
        ]
    );
    assert_eq!(x.inventory(), -50);
    assert!(x.book().is_empty());
}

#[test]
fn resting_order_worse_than_nbbo_is_not_crossed() {
    let mut x = ix(cfg());
    send(&mut x, quote(100_000, 100_200));
    send(
        &mut x,
        Msg::Order(NewOrder::limit(A, 1, Side::Sell, 100_300, 100)),
    );
    let ev = send(&mut x, Msg::Order(NewOrder::market(D, 2, Side::Buy, 100)));
    assert_eq!(ev[1], fill(D, FillKind::Principal, 100_110, 100, 0));
    assert_eq!(ev.len(), 2);
    assert_eq!(x.book().len(), 1);
}

#[test]
fn large_order_routed_walks_displayed_depth() {
    let mut x = ix(cfg());
    send(&mut x, quote(100_000, 100_200));
    // 500 > max auto-ex 400: routed whole. Exchange: 200 at 10.02, 300 at 10.03.
    let ev = send(&mut x, Msg::Order(NewOrder::market(A, 1, Side::Buy, 500)));
    assert_eq!(
        ev,
        vec![
            Event::Accepted {
                id: A,
                marketable: true
            },
            Event::Routed {
                id: A,
                qty: 500,
                reason: RouteReason::Size
            },
            fill(A, FillKind::Exchange, 100_200, 200, 0),
            fill(A, FillKind::Exchange, 100_300, 300, 0),
        ]
    );
    assert_eq!(x.inventory(), 0);
    // A routed marketable limit at 10.03 for 600 finds 300 left at 10.04 only beyond its
    // limit: 10.02 and 10.03 are used up, so nothing fills and all 600 are cancelled.
    let ev = send(
        &mut x,
        Msg::Order(NewOrder::limit(B, 1, Side::Buy, 100_300, 600)),
    );
    assert_eq!(
        &ev[1..],
        &[
            Event::Routed {
                id: B,
                qty: 600,
                reason: RouteReason::Size
            },
            Event::Cancelled {
                id: B,
                qty: 600,
                reason: CancelReason::NoLiquidity
            },
        ]
    );
}

#[test]
fn wide_quote_is_routed_by_the_wide_quote_rule() {
    let mut x = ix(cfg());
    send(&mut x, quote(100_000, 100_500)); // 5 cents > the 3-cent wide-quote rule
    let ev = send(&mut x, Msg::Order(NewOrder::market(A, 1, Side::Sell, 100)));
    assert_eq!(
        &ev[1..],
        &[
            Event::Routed {
                id: A,
                qty: 100,
                reason: RouteReason::WideQuote
            },
            fill(A, FillKind::Exchange, 100_000, 100, 0),
        ]
    );
    // At exactly 3 cents the wholesaler still fills: 10.03 - 45% of 3 cents = 10.01650.
    send(&mut x, quote(100_000, 100_300));
    let ev = send(&mut x, Msg::Order(NewOrder::market(B, 1, Side::Buy, 100)));
    assert_eq!(ev[1..], [fill(B, FillKind::Principal, 100_165, 100, 0)]);
}

/// Exchange with ten displayed levels of 300 shares one cent apart, best level 200.
fn deep_ix(cfg: Config) -> Internalizer<ReferenceBook, SimExchange> {
    let m = MarketConfig {
        depth_size: 300,
        depth_levels: 10,
        ..Default::default()
    };
    Internalizer::new(
        cfg,
        ReferenceBook::new(BookConfig::default()),
        SimExchange::new(&m),
    )
}

#[test]
fn routed_market_order_stops_at_the_price_collar() {
    // Collar 2 cents: a buy never pays more than offer + 0.02.
    let mut x = deep_ix(Config {
        collar_ticks: 2 * C,
        ..cfg()
    });
    send(&mut x, quote(100_000, 100_200));
    // A market buy of 1,500 (over auto-ex 400): displayed 200 at 10.02, 300 at 10.03,
    // 300 at 10.04, 300 at 10.05 ... The collar is 10.04: 800 fill, the 700 left are
    // cancelled for the collar (displayed depth at 10.05 and beyond was left).
    let ev = send(&mut x, Msg::Order(NewOrder::market(A, 1, Side::Buy, 1_500)));
    assert_eq!(
        &ev[1..],
        &[
            Event::Routed {
                id: A,
                qty: 1_500,
                reason: RouteReason::Size
            },
            fill(A, FillKind::Exchange, 100_200, 200, 0),
            fill(A, FillKind::Exchange, 100_300, 300, 0),
            fill(A, FillKind::Exchange, 100_400, 300, 0),
            Event::Cancelled {
                id: A,
                qty: 700,
                reason: CancelReason::Collar
            },
        ]
    );
    // A sell of 600 limited at 9.90 (looser than the collar, bid - 0.02 = 9.98): the
    // collar binds: 200 at 10.00, 300 at 9.99, 100 at 9.98.
    let ev = send(
        &mut x,
        Msg::Order(NewOrder::limit(B, 2, Side::Sell, 99_000, 600)),
    );
    assert_eq!(
        &ev[2..],
        &[
            fill(B, FillKind::Exchange, 100_000, 200, 0),
            fill(B, FillKind::Exchange, 99_900, 300, 0),
            fill(B, FillKind::Exchange, 99_800, 100, 0),
        ]
    );
    // The customer's own limit tighter than the collar: a buy limited at 10.02 for 500
    // after the 10.02 level is gone finds nothing within its limit: NoLiquidity, not Collar.
    let ev = send(
        &mut x,
        Msg::Order(NewOrder::limit(D, 3, Side::Buy, 100_200, 500)),
    );
    assert_eq!(
        &ev[2..],
        &[Event::Cancelled {
            id: D,
            qty: 500,
            reason: CancelReason::NoLiquidity
        }]
    );
}

#[test]
fn collar_holds_for_orders_routed_by_the_wide_quote_rule_and_zero_collar() {
    // Collar 0: routed orders fill at the NBBO only.
    let mut x = deep_ix(Config {
        collar_ticks: 0,
        ..cfg()
    });
    send(&mut x, quote(100_000, 100_500)); // wide: routed
    let ev = send(&mut x, Msg::Order(NewOrder::market(A, 1, Side::Sell, 350)));
    assert_eq!(
        &ev[1..],
        &[
            Event::Routed {
                id: A,
                qty: 350,
                reason: RouteReason::WideQuote
            },
            fill(A, FillKind::Exchange, 100_000, 200, 0),
            Event::Cancelled {
                id: A,
                qty: 150,
                reason: CancelReason::Collar
            },
        ]
    );
}

#[test]
fn agency_cross_only_when_it_beats_the_principal_price() {
    let mut x = ix(cfg());
    send(&mut x, quote(100_000, 100_200));
    // A resting customer sell AT the offer (10.02) and one inside it at 10.01.
    send(
        &mut x,
        Msg::Order(NewOrder::limit(A, 1, Side::Sell, 100_200, 100)),
    );
    // A market buy of 100: principal would pay 10.0110; the resting sell at 10.02 is worse
    // for the buyer, so the wholesaler fills it and the resting order stays.
    let ev = send(&mut x, Msg::Order(NewOrder::market(D, 2, Side::Buy, 100)));
    assert_eq!(ev[1..], [fill(D, FillKind::Principal, 100_110, 100, 0)]);
    assert_eq!(x.book().len(), 1);
    // A market buy of 500 (over auto-ex): no principal, so it crosses the resting sell at
    // the offer (as good as the exchange) and routes the other 400: 200 at 10.02, 200 at
    // 10.03.
    let ev = send(&mut x, Msg::Order(NewOrder::market(B, 3, Side::Buy, 500)));
    assert_eq!(
        &ev[1..],
        &[
            fill(B, FillKind::AgencyTaker, 100_200, 100, A),
            fill(A, FillKind::AgencyMaker, 100_200, 100, B),
            Event::Routed {
                id: B,
                qty: 400,
                reason: RouteReason::Size
            },
            fill(B, FillKind::Exchange, 100_200, 200, 0),
            fill(B, FillKind::Exchange, 100_300, 200, 0),
        ]
    );
}

#[test]
fn inventory_full_principal_then_agency_at_the_nbbo_then_route() {
    let mut x = ix(Config {
        max_inventory: 100,
        hedge_threshold: 100,
        hedge_target: 100,
        ..cfg()
    });
    send(&mut x, quote(100_000, 100_200));
    // Resting customer buy at the bid (10.00) for 100.
    send(
        &mut x,
        Msg::Order(NewOrder::limit(A, 1, Side::Buy, 100_000, 100)),
    );
    // A market sell of 300: principal price 10.0090 beats the resting 10.00, so the
    // wholesaler buys first, up to its 100-share room; then the resting buy at the NBBO
    // takes 100; the last 100 go to the exchange at the bid.
    let ev = send(&mut x, Msg::Order(NewOrder::market(D, 2, Side::Sell, 300)));
    assert_eq!(
        &ev[1..],
        &[
            fill(D, FillKind::Principal, 100_090, 100, 0),
            fill(D, FillKind::AgencyTaker, 100_000, 100, A),
            fill(A, FillKind::AgencyMaker, 100_000, 100, D),
            Event::Routed {
                id: D,
                qty: 100,
                reason: RouteReason::Inventory
            },
            fill(D, FillKind::Exchange, 100_000, 100, 0),
        ]
    );
    assert_eq!(x.inventory(), 100);
}

#[test]
fn inventory_limit_routes_the_excess() {
    let mut x = ix(Config {
        max_inventory: 300,
        hedge_threshold: 300,
        hedge_target: 300,
        ..cfg()
    });
    send(&mut x, quote(100_000, 100_200));
    send(&mut x, Msg::Order(NewOrder::market(A, 1, Side::Buy, 200)));
    assert_eq!(x.inventory(), -200);
    // Room for 100 more: 100 principal, 100 routed (inventory), filled at the offer.
    let ev = send(&mut x, Msg::Order(NewOrder::market(B, 1, Side::Buy, 200)));
    assert_eq!(
        &ev[1..],
        &[
            fill(B, FillKind::Principal, 100_110, 100, 0),
            Event::Routed {
                id: B,
                qty: 100,
                reason: RouteReason::Inventory
            },
            fill(B, FillKind::Exchange, 100_200, 100, 0),
        ]
    );
    assert_eq!(x.inventory(), -300);
}

#[test]
fn hedge_past_threshold_back_to_target() {
    let mut x = ix(Config {
        max_inventory: 1_000,
        hedge_threshold: 250,
        hedge_target: 100,
        ..cfg()
    });
    send(&mut x, quote(100_000, 100_200));
    // Sell 300 to a buyer: inventory -300 > 250: buy back 200 on the exchange at the
    // offer (200 displayed at 10.02).
    let ev = send(&mut x, Msg::Order(NewOrder::market(A, 1, Side::Buy, 300)));
    assert_eq!(
        &ev[1..],
        &[
            fill(A, FillKind::Principal, 100_110, 300, 0),
            Event::Hedge {
                side: Side::Buy,
                price: 100_200,
                qty: 200
            },
        ]
    );
    assert_eq!(x.inventory(), -100);
    assert_eq!(x.cash(), 300 * 100_110 - 200 * 100_200);
}

#[test]
fn nbbo_moving_through_resting_orders_fills_them_first() {
    let mut x = ix(cfg());
    send(&mut x, quote(100_000, 100_200));
    // Two resting buys: A at 10.01 (first), B at 10.01 (second), D at 10.00.
    send(
        &mut x,
        Msg::Order(NewOrder::limit(A, 1, Side::Buy, 100_100, 100)),
    );
    send(
        &mut x,
        Msg::Order(NewOrder::limit(B, 2, Side::Buy, 100_100, 50)),
    );
    send(
        &mut x,
        Msg::Order(NewOrder::limit(D, 3, Side::Buy, 100_000, 70)),
    );
    // The offer drops to 10.01: A then B are filled by the wholesaler at 10.01; D stays.
    let ev = send(&mut x, quote(99_900, 100_100));
    assert_eq!(
        ev,
        vec![
            fill(A, FillKind::Principal, 100_100, 100, 0),
            fill(B, FillKind::Principal, 100_100, 50, 0),
        ]
    );
    // The customers bought 150: the wholesaler is short 150.
    assert_eq!(x.inventory(), -150);
    // The offer gaps down to 9.98: D (limit 10.00) gets 9.98, better than its limit.
    let ev = send(&mut x, quote(99_700, 99_800));
    assert_eq!(ev, vec![fill(D, FillKind::Principal, 99_800, 70, 0)]);
    assert!(x.book().is_empty());
}

#[test]
fn sweep_routes_when_the_inventory_is_full() {
    let mut x = ix(Config {
        max_inventory: 100,
        hedge_threshold: 100,
        hedge_target: 100,
        ..cfg()
    });
    send(&mut x, quote(100_000, 100_200));
    send(
        &mut x,
        Msg::Order(NewOrder::limit(A, 1, Side::Buy, 100_100, 150)),
    );
    let ev = send(&mut x, quote(99_900, 100_100));
    assert_eq!(
        ev,
        vec![
            fill(A, FillKind::Principal, 100_100, 100, 0),
            Event::Routed {
                id: A,
                qty: 50,
                reason: RouteReason::Inventory
            },
            fill(A, FillKind::Exchange, 100_100, 50, 0),
        ]
    );
}

#[test]
fn self_trade_prevented_then_principal() {
    let mut x = ix(cfg());
    send(&mut x, quote(100_000, 100_200));
    send(
        &mut x,
        Msg::Order(NewOrder::limit(A, 7, Side::Sell, 100_100, 100)),
    );
    // Same account 7 buys: its resting sell at 10.01 beats the principal price 10.0110, so
    // the cross would take it, but it is the buyer's own: cancelled (STP), and the buy gets
    // principal. (A resting sell at the offer would not be crossed at all: see
    // `agency_cross_only_when_it_beats_the_principal_price`.)
    let ev = send(&mut x, Msg::Order(NewOrder::market(B, 7, Side::Buy, 100)));
    assert_eq!(
        &ev[1..],
        &[
            Event::Cancelled {
                id: A,
                qty: 100,
                reason: CancelReason::Stp
            },
            fill(B, FillKind::Principal, 100_110, 100, 0),
        ]
    );
    assert_eq!(x.stats().stp_cancels, 1);
}

#[test]
fn negative_prices_work() {
    let mut x = ix(cfg());
    // Bid -$0.05, offer -$0.03: spread 200 ticks, improvement 90 ticks: a sell gets
    // -0.0500 + 0.0090 = -0.0410.
    send(&mut x, quote(-500, -300));
    let ev = send(&mut x, Msg::Order(NewOrder::market(A, 1, Side::Sell, 100)));
    assert_eq!(ev[1], fill(A, FillKind::Principal, -410, 100, 0));
    assert_eq!(x.inventory(), 100);
    assert_eq!(x.cash(), 100 * 410);
}

#[test]
fn cancel_replace_and_rejects() {
    let mut x = ix(cfg());
    // Before any quote an order cannot be priced.
    let ev = send(&mut x, Msg::Order(NewOrder::market(A, 1, Side::Buy, 100)));
    assert_eq!(
        ev,
        vec![Event::Rejected {
            id: A,
            reason: RejectReason::NoQuote
        }]
    );
    let ev = send(&mut x, quote(100_200, 100_000));
    assert_eq!(
        ev,
        vec![Event::Rejected {
            id: 0,
            reason: RejectReason::CrossedQuote
        }]
    );
    send(&mut x, quote(100_000, 100_200));
    let ev = send(&mut x, Msg::Order(NewOrder::market(A, 1, Side::Buy, 0)));
    assert_eq!(
        ev,
        vec![Event::Rejected {
            id: A,
            reason: RejectReason::Book(BookReject::BadQty)
        }]
    );
    let mut bad = NewOrder::market(A, 1, Side::Buy, 10);
    bad.tif = Tif::Gtc;
    let ev = send(&mut x, Msg::Order(bad));
    assert_eq!(
        ev,
        vec![Event::Rejected {
            id: A,
            reason: RejectReason::Book(BookReject::BadTif)
        }]
    );
    send(
        &mut x,
        Msg::Order(NewOrder::limit(A, 1, Side::Buy, 99_900, 100)),
    );
    // Replace A (9.99 x 100) by B at 10.03 x 80: A cancelled, B is marketable and filled
    // by the wholesaler at 10.0110.
    let ev = send(
        &mut x,
        Msg::Replace {
            id: A,
            new_id: B,
            price: 100_300,
            qty: 80,
        },
    );
    assert_eq!(
        ev,
        vec![
            Event::Cancelled {
                id: A,
                qty: 100,
                reason: CancelReason::Replaced
            },
            Event::Accepted {
                id: B,
                marketable: true
            },
            fill(B, FillKind::Principal, 100_110, 80, 0),
        ]
    );
    let ev = send(&mut x, Msg::Cancel { id: A });
    assert_eq!(
        ev,
        vec![Event::Rejected {
            id: A,
            reason: RejectReason::UnknownId
        }]
    );
    // Fill-or-kill is refused; a marketable post-only is refused, a passive one rests.
    let ev = send(
        &mut x,
        Msg::Order(NewOrder::limit(D, 1, Side::Buy, 100_200, 10).with_tif(Tif::Fok)),
    );
    assert_eq!(
        ev,
        vec![Event::Rejected {
            id: D,
            reason: RejectReason::Book(BookReject::BadTif)
        }]
    );
    let ev = send(
        &mut x,
        Msg::Order(NewOrder::limit(D, 1, Side::Buy, 100_200, 10).with_tif(Tif::Post)),
    );
    assert_eq!(
        ev,
        vec![Event::Rejected {
            id: D,
            reason: RejectReason::Book(BookReject::WouldCross)
        }]
    );
    let ev = send(
        &mut x,
        Msg::Order(NewOrder::limit(D, 1, Side::Buy, 100_100, 10).with_tif(Tif::Post)),
    );
    assert_eq!(ev[1], Event::Rested { id: D, qty: 10 });
    send(&mut x, Msg::Cancel { id: D });
    // A non-marketable IOC is cancelled, never rests.
    let ev = send(
        &mut x,
        Msg::Order(NewOrder::limit(D, 1, Side::Sell, 100_300, 10).with_tif(Tif::Ioc)),
    );
    assert_eq!(
        &ev[1..],
        &[Event::Cancelled {
            id: D,
            qty: 10,
            reason: CancelReason::Ioc
        }]
    );
    assert!(x.book().is_empty());
}
