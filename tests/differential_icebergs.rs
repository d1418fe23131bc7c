//! Differential test of iceberg orders: seeded random streams in which a third of the new
//! orders are icebergs (display sizes from 0, invalid, to past the quantity, invalid too;
//! every time in force and STP mode), mixed with limit and market orders, cancels and
//! replaces on a few prices, so that refills at the back of a level, refills of a level's
//! only order, STP against an iceberg maker and replaces of icebergs all happen often.
//! The fast book must give the reference book's events and book after every command, under
//! both replace-priority modes, under price-time, pro-rata and every CME algorithm. Per order, fills and cancels never exceed its quantity (the reserve is not in
//! the book queries, so that is the conservation the events alone can show).

use flowmatch::core::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

#[path = "common/cme_params.rs"]
mod cme_params;
#[path = "common/hidden.rs"]
mod hidden;
use cme_params::pro_rata_and_cme;
use hidden::hidden;

fn command(rng: &mut ChaCha8Rng, stops: bool) -> Command {
    let id = rng.random_range(1..=24);
    let price = 100 + rng.random_range(0..4);
    let qty: Qty = match rng.random_range(0..12) {
        0 => 0,
        1 => rng.random_range(20..=40),
        _ => rng.random_range(1..=12),
    };
    match rng.random_range(0..10) {
        0..=5 => {
            let side = if rng.random_bool(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            let account = rng.random_range(1..=3);
            let mut o = match rng.random_range(0..10) {
                // Stops and stop-limits, triggered by the icebergs' prints as by any.
                0 if stops => NewOrder {
                    ord_type: OrdType::Stop {
                        trigger: price - 1 + rng.random_range(0..3),
                    },
                    tif: Tif::Ioc,
                    ..NewOrder::market(id, account, side, qty)
                },
                1 if stops => NewOrder {
                    ord_type: OrdType::StopLimit {
                        trigger: price - 1 + rng.random_range(0..3),
                    },
                    ..NewOrder::limit(id, account, side, price, qty)
                },
                0 | 1 => NewOrder::market(id, account, side, qty),
                2..=5 => NewOrder::limit(id, account, side, price, qty),
                _ => NewOrder {
                    ord_type: OrdType::Iceberg {
                        display: rng.random_range(0..=qty.saturating_add(1).min(14)),
                    },
                    ..NewOrder::limit(id, account, side, price, qty)
                },
            };
            if rng.random_bool(0.15) {
                o.tif = [Tif::Gtc, Tif::Ioc, Tif::Fok, Tif::Post][rng.random_range(0..4)];
            }
            o.stp = match rng.random_range(0..8) {
                0 => Stp::CancelTaker,
                1 => Stp::CancelMaker,
                2 => Stp::CancelBoth,
                3 => Stp::DecrementCancel,
                _ => Stp::None,
            };
            Command::New(o)
        }
        6 | 7 => Command::Cancel { id },
        _ => Command::Replace { id, price, qty },
    }
}

/// Per order, quantity and what its events have taken off it (fills and cancels).
#[derive(Default)]
struct Taken(HashMap<OrderId, (u128, u128)>);

impl Taken {
    fn observe(&mut self, cmd: &Command, events: &[Event]) {
        for e in events {
            match (*e, cmd) {
                // A new order's own ACK; a later ACK in the same command is a stop's
                // trigger mark, and that stop was counted when it arrived.
                (Event::Ack { id }, Command::New(o)) if id == o.id => {
                    self.0.insert(id, (o.qty as u128, 0));
                }
                (Event::Replaced { id }, Command::Replace { qty, .. }) => {
                    let e = self.0.get_mut(&id).expect("replace of a known order");
                    e.0 = e.1 + *qty as u128;
                }
                (
                    Event::Trade {
                        taker, maker, qty, ..
                    },
                    _,
                ) => {
                    for id in [taker, maker] {
                        self.take(id, qty);
                    }
                }
                (Event::Cancel { id, qty, .. }, _) => self.take(id, qty),
                _ => {}
            }
        }
    }

    fn take(&mut self, id: OrderId, qty: Qty) {
        let e = self.0.get_mut(&id).expect("event of a known order");
        e.1 += qty as u128;
        assert!(e.1 <= e.0, "order {id}: more taken off it than it had");
    }
}

fn run(
    policy: MatchPolicy,
    seeds: std::ops::Range<u64>,
    len: usize,
    stops: bool,
) -> (usize, usize, usize) {
    run_on(policy, seeds, len, stops, 1)
}

/// [`run`] on a book whose tick and lot are both `grid` (1: no grid).
fn run_on(
    policy: MatchPolicy,
    seeds: std::ops::Range<u64>,
    len: usize,
    stops: bool,
    grid: u64,
) -> (usize, usize, usize) {
    let (mut icebergs_rested, mut unsupported, mut triggered) = (0, 0, 0);
    for seed in seeds {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let cfg = BookConfig {
            policy,
            capacity: 32,
            tick: grid as i64,
            lot: grid,
            replace_priority: if seed % 2 == 0 {
                ReplacePriority::KeepIfReduced
            } else {
                ReplacePriority::AlwaysRequeue
            },
            ..Default::default()
        };
        let mut fast = FastBook::new(cfg);
        let mut reference = ReferenceBook::new(cfg);
        let mut taken = Taken::default();
        for i in 0..len {
            let cmd = command(&mut rng, stops);
            let (mut ef, mut er) = (Vec::new(), Vec::new());
            fast.apply(&cmd, &mut ef);
            reference.apply(&cmd, &mut er);
            assert_eq!(ef, er, "seed {seed} command {i} {cmd:?}: events differ");
            assert_eq!(
                fast.snapshot(),
                reference.snapshot(),
                "seed {seed} command {i} {cmd:?}: books differ"
            );
            assert_eq!(
                hidden(&fast),
                hidden(&reference),
                "seed {seed} command {i} {cmd:?}: reserves differ"
            );
            assert_eq!(fast.pending_stops(), reference.pending_stops());
            assert!(!ef.is_empty(), "every command gets an answer");
            taken.observe(&cmd, &ef);
            // A stop's trigger mark: an ACK of another id than the command's.
            triggered += ef
                .iter()
                .filter(|e| matches!(e, Event::Ack { id } if *id != cmd.id()))
                .count();
            if let Command::New(o) = cmd {
                if matches!(o.ord_type, OrdType::Iceberg { .. }) {
                    match ef[0] {
                        Event::Reject {
                            reason: RejectReason::Unsupported,
                            ..
                        } => unsupported += 1,
                        Event::Ack { .. } if fast.order(o.id).is_some() => icebergs_rested += 1,
                        _ => {}
                    }
                }
            }
        }
    }
    (icebergs_rested, unsupported, triggered)
}

#[test]
fn icebergs_match_reference_under_price_time() {
    let (rested, unsupported, _) = run(MatchPolicy::PriceTime, 0..300, 1_000, false);
    assert_eq!(unsupported, 0);
    // The stream must really exercise resting icebergs (not only rejects).
    assert!(rested > 10_000, "only {rested} icebergs rested");
}

/// Pro-rata (with and without a top order) and every CME algorithm take icebergs: only the
/// shown parts are allocated, a refill waits for the level's next round at the back, and a
/// refilled TOP order is TOP no more. Both books must agree on all of it, with stops
/// among the icebergs too.
#[test]
fn icebergs_match_reference_under_pro_rata_and_cme() {
    let policies = pro_rata_and_cme(3_000);
    for (policy, first) in policies {
        let (rested, unsupported, triggered) = run(policy, first..first + 40, 1_000, true);
        assert_eq!(unsupported, 0, "{policy:?}");
        assert!(rested > 1_000, "{policy:?}: only {rested} icebergs rested");
        assert!(
            triggered > 500,
            "{policy:?}: only {triggered} stops triggered"
        );
    }
}

/// Icebergs among stops and stop-limits: an iceberg's fills (and its refills' fills) set
/// off stops, triggered stops meet icebergs, and a replaced iceberg's prints cascade.
#[test]
fn icebergs_and_stops_match_reference_together() {
    let (rested, unsupported, triggered) = run(MatchPolicy::PriceTime, 1_000..1_200, 1_000, true);
    assert_eq!(unsupported, 0);
    assert!(triggered > 5_000, "only {triggered} stops triggered");
    assert!(rested > 5_000, "only {rested} icebergs rested");
}

/// On a price and quantity grid (tick 2, lot 2): an iceberg off the tick is `BAD_TICK`,
/// one whose quantity or display is off the lot `BAD_LOT`, in the contract's order, and
/// the rest trade as before; both books agree on all of it.
#[test]
fn icebergs_match_reference_on_a_grid() {
    let (rested, unsupported, _) = run_on(MatchPolicy::PriceTime, 2_000..2_150, 1_000, true, 2);
    assert_eq!(unsupported, 0);
    assert!(rested > 500, "only {rested} icebergs rested");
}
