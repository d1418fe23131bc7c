//! Invariants of the internalizer checked on every event of long generated runs, with an
//! oracle written here from the rules (not from the metrics code):
//!
//! - **no trade-through**: every internal fill (agency or principal) of an order is at or
//!   better than the NBBO in force when the message was handled; a routed order's first
//!   exchange fill is at the NBBO and later ones walk away from it level by level;
//! - **limits**: no fill past the customer's limit;
//! - **price collar**: no customer fill more than `collar_ticks` beyond the NBBO in force
//!   when the message was handled;
//! - **customer priority**: after a principal trade at price P, no customer order that
//!   would have traded at P is left resting;
//! - **risk**: the inventory never passes `max_inventory` after a principal fill, and no
//!   order larger than the auto-execution size gets a principal fill;
//! - **conservation**: every share of every accepted order is filled, cancelled, or open in
//!   the book at the close;
//! - after every quote, no resting order is marketable against it;
//! - the fast book and the reference book give the same events.

use flowmatch_core::{BookConfig, FastBook, OrderBook, ReferenceBook, Side};
use flowmatch_harness::market::SimExchange;
use flowmatch_harness::retail::scenario::Scenario;
use flowmatch_harness::retail::{generate, Flow, OrderInfo};
use flowmatch_wholesaler::*;
use std::collections::HashMap;

struct Shadow {
    side: Side,
    price: i64,
    account: u32,
    open: u64,
}

/// Run `flow` through an internalizer over book `B`, checking everything; returns the events.
fn check_run<B: OrderBook>(scn: &Scenario, flow: &Flow, book: B) -> Vec<Event> {
    let cfg = scn.wholesaler.to_config();
    let depth_levels = scn.market.depth_levels as i64;
    let mut ix = Internalizer::new(cfg, book, SimExchange::new(&scn.market));
    let info: HashMap<u64, OrderInfo> = flow.orders.iter().map(|o| (o.id, *o)).collect();
    let mut resting: HashMap<u64, Shadow> = HashMap::new();
    let mut accepted: HashMap<u64, u64> = HashMap::new(); // id -> qty
    let mut done: HashMap<u64, u64> = HashMap::new(); // id -> filled + cancelled
    let mut last_exch: HashMap<u64, i64> = HashMap::new();
    let mut inv: i64 = 0;
    let mut all = Vec::new();
    let mut ev = Vec::new();
    let mut quote: Option<Quote> = None;
    let mut fills = 0u64;
    for m in &flow.stream {
        ev.clear();
        ix.on_message(&m.msg, &mut ev);
        if let Msg::Quote(q) = m.msg {
            if q.is_valid() {
                quote = Some(q);
            }
        }
        let mut principal_prices: Vec<(Side, i64)> = vec![]; // (wholesaler side, price)
        for e in &ev {
            match *e {
                Event::Accepted { id, marketable } => {
                    let o = info[&id];
                    let q = quote.expect("accepted without a quote");
                    let is_mkt = match o.price {
                        None => true,
                        Some(p) => o.side.accepts(p, q.far(o.side)),
                    };
                    assert_eq!(marketable, is_mkt, "order {id}");
                    assert!(accepted.insert(id, o.qty).is_none(), "accepted twice: {id}");
                }
                Event::Rested { id, qty } => {
                    let o = info[&id];
                    let q = quote.unwrap();
                    let p = o.price.expect("only limits rest");
                    assert!(
                        !o.side.accepts(p, q.far(o.side)),
                        "marketable order {id} rested"
                    );
                    resting.insert(
                        id,
                        Shadow {
                            side: o.side,
                            price: p,
                            account: o.account,
                            open: qty,
                        },
                    );
                }
                Event::Fill {
                    id,
                    kind,
                    price,
                    qty,
                    ..
                } => {
                    fills += 1;
                    let o = info[&id];
                    let q = quote.unwrap();
                    *done.entry(id).or_default() += qty;
                    if let Some(l) = o.price {
                        assert!(o.side.accepts(l, price), "fill past limit: {e:?} limit {l}");
                    }
                    let far = q.far(o.side);
                    if kind != FillKind::AgencyMaker {
                        let collar = match o.side {
                            Side::Buy => far + cfg.collar_ticks,
                            Side::Sell => far - cfg.collar_ticks,
                        };
                        assert!(
                            o.side.accepts(collar, price),
                            "past the collar: {e:?} {q:?}"
                        );
                    }
                    match kind {
                        FillKind::AgencyTaker | FillKind::Principal => assert!(
                            o.side.accepts(far, price),
                            "trade-through: {e:?} NBBO {q:?}"
                        ),
                        FillKind::AgencyMaker => {}
                        FillKind::Exchange => {
                            // First fill at the NBBO, later ones one cent further each.
                            let prev = last_exch.get(&id).copied();
                            let expect_min = match prev {
                                None => far,
                                Some(p) => match o.side {
                                    Side::Buy => p + TICKS_PER_CENT,
                                    Side::Sell => p - TICKS_PER_CENT,
                                },
                            };
                            if prev.is_none() {
                                // the order may find the best level used up already
                                assert!(o.side.accepts(price, far), "{e:?} better than NBBO {q:?}");
                            } else {
                                assert!(o.side.accepts(price, expect_min), "{e:?} not walking");
                            }
                            let worst = match o.side {
                                Side::Buy => far + (depth_levels - 1) * TICKS_PER_CENT,
                                Side::Sell => far - (depth_levels - 1) * TICKS_PER_CENT,
                            };
                            assert!(o.side.accepts(worst, price), "{e:?} beyond displayed depth");
                            last_exch.insert(id, price);
                        }
                    }
                    if kind == FillKind::Principal {
                        assert!(
                            o.qty <= cfg.max_autoex_qty || resting.contains_key(&id),
                            "principal fill of an order over the auto-ex size: {e:?}"
                        );
                        inv += match o.side {
                            Side::Buy => -(qty as i64),
                            Side::Sell => qty as i64,
                        };
                        assert!(
                            inv.unsigned_abs() <= cfg.max_inventory,
                            "inventory {inv} past the limit"
                        );
                        principal_prices.push((o.side.opposite(), price));
                    }
                    match kind {
                        // A swept order left the book whole (filled, maybe partly routed).
                        FillKind::Principal => {
                            resting.remove(&id);
                        }
                        FillKind::AgencyMaker => {
                            let r = resting.get_mut(&id).expect("maker must be resting");
                            r.open -= qty;
                            if r.open == 0 {
                                resting.remove(&id);
                            }
                        }
                        _ => {}
                    }
                }
                Event::Routed { id, .. } => {
                    resting.remove(&id);
                }
                Event::Cancelled { id, qty, .. } => {
                    *done.entry(id).or_default() += qty;
                    if let Some(r) = resting.get_mut(&id) {
                        r.open = r.open.saturating_sub(qty);
                        if r.open == 0 {
                            resting.remove(&id);
                        }
                    }
                }
                Event::Hedge { side, qty, .. } => {
                    inv += match side {
                        Side::Buy => qty as i64,
                        Side::Sell => -(qty as i64),
                    };
                }
                Event::Rejected { .. } => {}
            }
        }
        assert_eq!(inv, ix.inventory());
        // Customer priority: nothing a principal trade would have satisfied still rests.
        for (wside, p) in principal_prices {
            // The wholesaler sold at p: a resting customer sell at <= p should have gone
            // first; it bought at p: a resting customer buy at >= p should have.
            for (id, r) in &resting {
                assert!(
                    !(r.side == wside && wside.opposite().accepts(p, r.price)),
                    "customer priority: resting {id} {:?} at {} (account {}) vs principal {:?} at {p}",
                    r.side,
                    r.price,
                    r.account,
                    wside
                );
            }
        }
        if let (Msg::Quote(_), Some(q)) = (m.msg, quote) {
            if let Some(b) = ix.book().best_bid() {
                assert!(b < q.ask, "resting bid {b} marketable after {q:?}");
            }
            if let Some(a) = ix.book().best_ask() {
                assert!(a > q.bid, "resting ask {a} marketable after {q:?}");
            }
        }
        all.extend_from_slice(&ev);
    }
    // Conservation.
    let mut open: HashMap<u64, u64> = HashMap::new();
    ix.book().for_each_order(&mut |o| {
        open.insert(o.id, o.open_qty);
    });
    assert_eq!(open.len(), resting.len(), "shadow book out of step");
    for (id, qty) in &accepted {
        let d = done.get(id).copied().unwrap_or(0);
        let o = open.get(id).copied().unwrap_or(0);
        assert_eq!(d + o, *qty, "order {id}: {d} done + {o} open != {qty}");
    }
    for id in done.keys() {
        assert!(
            accepted.contains_key(id),
            "events for never-accepted order {id}"
        );
    }
    assert!(
        fills > 1000,
        "run too small to mean anything: {fills} fills"
    );
    all
}

fn scenario(name: &str, orders: usize) -> Scenario {
    let mut s = Scenario::preset(name).unwrap();
    s.retail.orders = orders;
    s
}

fn book_cfg() -> BookConfig {
    BookConfig {
        capacity: 1 << 14,
        ..Default::default()
    }
}

#[test]
fn retail_invariants_on_every_fill_fast_equals_reference() {
    let s = scenario("retail", 60_000);
    let flow = generate(&s.retail, &s.market, 7);
    let fast = check_run(&s, &flow, FastBook::new(book_cfg()));
    let reference = check_run(&s, &flow, ReferenceBook::new(book_cfg()));
    assert_eq!(fast.len(), reference.len());
    assert!(fast == reference, "fast and reference books diverge");
    // Every path happened.
    let has = |f: &dyn Fn(&Event) -> bool| fast.iter().any(f);
    assert!(has(&|e| matches!(
        e,
        Event::Fill {
            kind: FillKind::AgencyTaker,
            ..
        }
    )));
    assert!(has(&|e| matches!(
        e,
        Event::Fill {
            kind: FillKind::Principal,
            ..
        }
    )));
    assert!(has(&|e| matches!(
        e,
        Event::Fill {
            kind: FillKind::Exchange,
            ..
        }
    )));
    // The default wholesaler does not hedge (it routes on its inventory limit instead) and
    // its wide-quote rule does not bind on a normal day: both paths are required of the
    // meme-squeeze run below.
    assert!(has(&|e| matches!(
        e,
        Event::Routed {
            reason: RouteReason::Size,
            ..
        }
    )));
    assert!(has(&|e| matches!(
        e,
        Event::Routed {
            reason: RouteReason::Inventory,
            ..
        }
    )));
    assert!(has(&|e| matches!(
        e,
        Event::Cancelled {
            reason: CancelReason::User,
            ..
        }
    )));
    assert!(has(&|e| matches!(
        e,
        Event::Cancelled {
            reason: CancelReason::Replaced,
            ..
        }
    )));
}

#[test]
fn meme_squeeze_invariants_and_risk_limits_bind() {
    let s = scenario("meme-squeeze", 60_000);
    let flow = generate(&s.retail, &s.market, 3);
    let ev = check_run(&s, &flow, FastBook::new(book_cfg()));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Routed {
            reason: RouteReason::WideQuote,
            ..
        }
    )));
    assert!(ev.iter().any(|e| matches!(e, Event::Hedge { .. })));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Cancelled {
            reason: CancelReason::Collar,
            ..
        }
    )));
}

#[test]
fn negative_price_invariants() {
    let s = scenario("negative-price", 40_000);
    let flow = generate(&s.retail, &s.market, 5);
    assert!(flow.quotes.first().unwrap().quote.bid > 0);
    assert!(
        flow.quotes.iter().any(|q| q.quote.ask < 0),
        "the price never went negative"
    );
    let ev = check_run(&s, &flow, FastBook::new(book_cfg()));
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::Fill { price, .. } if *price < 0)));
}

#[test]
fn wash_invariants_and_self_trades_prevented() {
    let s = scenario("wash", 40_000);
    let flow = generate(&s.retail, &s.market, 11);
    let ev = check_run(&s, &flow, FastBook::new(book_cfg()));
    let stp = ev
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Cancelled {
                    reason: CancelReason::Stp,
                    ..
                }
            )
        })
        .count();
    assert!(stp > 50, "only {stp} self-trades prevented");
    // No agency cross ever pairs an account with itself.
    let acct: HashMap<u64, u32> = flow.orders.iter().map(|o| (o.id, o.account)).collect();
    for e in &ev {
        if let Event::Fill {
            id,
            kind: FillKind::AgencyTaker,
            contra,
            ..
        } = e
        {
            assert_ne!(acct[id], acct[contra], "self-trade {e:?}");
        }
    }
}

#[test]
fn tight_inventory_limit_holds_in_a_long_run() {
    // No hedging room (threshold = limit): the limit itself has to stop principal fills,
    // for incoming orders and for swept resting orders alike.
    let mut s = scenario("retail", 40_000);
    s.wholesaler.max_inventory = 600;
    s.wholesaler.hedge_threshold = 600;
    s.wholesaler.hedge_target = 600;
    s.validate().unwrap();
    let flow = generate(&s.retail, &s.market, 13);
    let ev = check_run(&s, &flow, FastBook::new(book_cfg()));
    let by_limit = ev
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Routed {
                    reason: RouteReason::Inventory,
                    ..
                }
            )
        })
        .count();
    assert!(
        by_limit > 100,
        "the inventory limit bound only {by_limit} times"
    );
    assert!(!ev.iter().any(|e| matches!(e, Event::Hedge { .. })));
}
