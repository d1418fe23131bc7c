//! Differential test of midpoint pegs: seeded streams dense in pegs (capped and not, GTC
//! and IOC, and the FOK and post-only pegs the contract rejects), lit orders that move
//! the touch across even and odd spreads, cancels and replaces of both, few accounts
//! (self-trade prevention between pegs and against lit takers fires often), through the
//! fast book and the reference book side by side. After every command both must have
//! produced identical events and hold identical lit books and identical pegs, and two
//! invariants are checked from the outside: the lit book is never crossed, and no two
//! resting pegs could trade at the current midpoint (a cross that should have happened
//! would show as a buy and a sell peg both admitting it).
//!
//! The streams also carry icebergs and stops (whose triggers peg trades may reach), since
//! a peg meets them on both books' exotic paths. Under price-time and on a tick grid of 2
//! (every price even, so a midpoint exists only when the spread is a multiple of two
//! ticks); and under pro-rata and every CME algorithm.

use flowmatch::core::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[path = "common/cme_params.rs"]
mod cme_params;
#[path = "common/hidden.rs"]
mod hidden;
use cme_params::pro_rata_and_cme;
use hidden::hidden;

/// Buy or sell, evenly.
fn any_side(rng: &mut ChaCha8Rng) -> Side {
    if rng.random_bool(0.5) {
        Side::Buy
    } else {
        Side::Sell
    }
}

fn command(rng: &mut ChaCha8Rng, tick: i64) -> Command {
    let id = rng.random_range(1..=40u64);
    let price = |rng: &mut ChaCha8Rng| 1_000 + tick * rng.random_range(-4..=4i64);
    let tif = |rng: &mut ChaCha8Rng| match rng.random_range(0..10) {
        0 => Tif::Ioc,
        1 => Tif::Fok,
        2 => Tif::Post,
        _ => Tif::Gtc,
    };
    let stp = match rng.random_range(0..8) {
        0 => Stp::CancelTaker,
        1 => Stp::CancelMaker,
        2 => Stp::CancelBoth,
        3 => Stp::DecrementCancel,
        _ => Stp::None,
    };
    let side = any_side(rng);
    let account = rng.random_range(1..=3);
    let qty = rng.random_range(1..=12);
    match rng.random_range(0..100) {
        0..=29 => Command::New(
            NewOrder::limit(id, account, side, price(rng), qty)
                .with_tif(tif(rng))
                .with_stp(stp),
        ),
        30..=32 => Command::New(NewOrder {
            ord_type: OrdType::Iceberg {
                display: rng.random_range(1..=4),
            },
            ..NewOrder::limit(id, account, side, price(rng), qty).with_stp(stp)
        }),
        33..=34 => {
            let trigger = price(rng);
            Command::New(if rng.random_bool(0.5) {
                NewOrder {
                    ord_type: OrdType::Stop { trigger },
                    ..NewOrder::market(id, account, side, qty).with_stp(stp)
                }
            } else {
                NewOrder {
                    ord_type: OrdType::StopLimit { trigger },
                    ..NewOrder::limit(id, account, side, price(rng), qty).with_stp(stp)
                }
            })
        }
        35..=39 => Command::New(
            NewOrder::market(id, account, side, qty)
                .with_tif(if rng.random_bool(0.8) {
                    Tif::Ioc
                } else {
                    Tif::Fok
                })
                .with_stp(stp),
        ),
        40..=64 => {
            let cap = if rng.random_bool(0.5) {
                None
            } else {
                Some(price(rng))
            };
            let tif = match rng.random_range(0..10) {
                0..=1 => Tif::Ioc,
                2 => Tif::Fok,
                3 => Tif::Post,
                _ => Tif::Gtc,
            };
            Command::New(NewOrder {
                id,
                account,
                side,
                ord_type: OrdType::MidPeg,
                price: cap,
                qty,
                tif,
                stp,
            })
        }
        65..=84 => Command::Cancel { id },
        _ => Command::Replace {
            id,
            price: price(rng),
            qty,
        },
    }
}

fn pegs<B: OrderBook>(b: &B) -> Vec<RestingPeg> {
    let mut v = Vec::new();
    b.for_each_peg(&mut |p| v.push(*p));
    v
}

/// The two invariants, from the book's public view only.
fn check_invariants<B: OrderBook>(b: &B, what: &str) {
    let (bid, ask) = (b.best_bid(), b.best_ask());
    if let (Some(bid), Some(ask)) = (bid, ask) {
        assert!(bid < ask, "{what}: crossed {bid} / {ask}");
        let sum = bid as i128 + ask as i128;
        if sum % 2 == 0 {
            let mid = (sum / 2) as Price;
            let ps = pegs(b);
            let buy = ps
                .iter()
                .any(|p| p.side == Side::Buy && p.cap.is_none_or(|c| mid <= c));
            let sell = ps
                .iter()
                .any(|p| p.side == Side::Sell && p.cap.is_none_or(|c| mid >= c));
            assert!(
                !(buy && sell),
                "{what}: pegs left uncrossed at {mid}: {ps:?}"
            );
        }
    }
}

/// Runs `streams` streams of `len` commands; returns (commands, trades with a peg side).
fn run(
    policy: MatchPolicy,
    tick: i64,
    first_seed: u64,
    streams: u64,
    len: usize,
) -> (usize, usize) {
    let (mut ev_fast, mut ev_ref): (Vec<Event>, Vec<Event>) = (Vec::new(), Vec::new());
    let mut peg_trades = 0;
    let mut commands = 0;
    for seed in first_seed..first_seed + streams {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let cfg = BookConfig {
            policy,
            capacity: 64,
            tick,
            ..BookConfig::default()
        };
        let mut fast = FastBook::new(cfg);
        let mut reference = ReferenceBook::new(cfg);
        for i in 0..len {
            let cmd = command(&mut rng, tick.max(1));
            let before: Vec<OrderId> = pegs(&reference).iter().map(|p| p.id).collect();
            ev_fast.clear();
            ev_ref.clear();
            fast.apply(&cmd, &mut ev_fast);
            reference.apply(&cmd, &mut ev_ref);
            let what = format!("seed {seed} command {i} {cmd:?}");
            assert_eq!(ev_fast, ev_ref, "{what}: events differ");
            assert_eq!(
                fast.snapshot(),
                reference.snapshot(),
                "{what}: books differ"
            );
            assert_eq!(pegs(&fast), pegs(&reference), "{what}: pegs differ");
            assert_eq!(fast.len(), reference.len(), "{what}: lengths differ");
            assert_eq!(fast.pegs(), reference.pegs(), "{what}: peg counts differ");
            assert_eq!(
                fast.pending_stops(),
                reference.pending_stops(),
                "{what}: stops differ"
            );
            assert_eq!(hidden(&fast), hidden(&reference), "{what}: icebergs differ");
            check_invariants(&fast, &what);
            let is_peg = |id: &OrderId| {
                before.contains(id)
                    || matches!(cmd, Command::New(o) if o.id == *id && o.ord_type == OrdType::MidPeg)
            };
            peg_trades += ev_fast
                .iter()
                .filter(|e| matches!(e, Event::Trade { maker, .. } if is_peg(maker)))
                .count();
            commands += 1;
        }
    }
    (commands, peg_trades)
}

#[test]
fn pegs_match_reference_under_price_time() {
    let (n, trades) = run(MatchPolicy::PriceTime, 1, 1, 300, 400);
    assert_eq!(n, 120_000);
    // The streams must exercise pegs, not merely carry them.
    assert!(trades > 5_000, "only {trades} trades with a peg maker");
}

#[test]
fn pegs_match_reference_on_a_tick_grid() {
    let (_, trades) = run(MatchPolicy::PriceTime, 2, 1_000, 150, 400);
    assert!(trades > 2_000, "only {trades} trades with a peg maker");
}

/// Pro-rata and every CME algorithm take pegs and icebergs: pegs trade among themselves and
/// with lit takers at the midpoint in time priority whatever the policy (the policy shares
/// lit levels), and both books must agree on all of it.
#[test]
fn pegs_match_reference_under_pro_rata_and_cme() {
    let policies = pro_rata_and_cme(2_000);
    for (policy, seed) in policies {
        let (_, trades) = run(policy, 1, seed, 30, 400);
        assert!(
            trades > 500,
            "{policy:?}: only {trades} trades with a peg maker"
        );
    }
}

/// A command of the deep-queue stream: ids over thousands, so a side's peg queue grows to
/// hundreds and cancels and replaces reach into its middle (the fast book's tombstones
/// and their sweeps), and the lit book moves the midpoint that half of the pegs' caps
/// then refuse.
fn deep_command(rng: &mut ChaCha8Rng) -> Command {
    let id = rng.random_range(1..=3_000u64);
    let side = any_side(rng);
    let account = rng.random_range(1..=4);
    let qty = rng.random_range(1..=12);
    let near = |rng: &mut ChaCha8Rng| 1_000 + rng.random_range(-8..=8i64);
    match rng.random_range(0..100) {
        0..=44 => Command::New(NewOrder {
            ord_type: OrdType::MidPeg,
            price: rng.random_bool(0.5).then(|| near(rng)),
            ..NewOrder::limit(id, account, side, 0, qty)
        }),
        45..=69 => Command::Cancel { id },
        70..=79 => Command::Replace {
            id,
            price: near(rng),
            qty,
        },
        _ => Command::New(NewOrder::limit(id, account, side, near(rng), qty).with_tif(
            if rng.random_bool(0.3) {
                Tif::Ioc
            } else {
                Tif::Gtc
            },
        )),
    }
}

#[test]
fn deep_peg_queues_match_reference() {
    let mut deepest = 0;
    let mut peg_cancels = 0;
    for seed in 7_000..7_004u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let cfg = BookConfig {
            capacity: 4_096,
            ..BookConfig::default()
        };
        let mut fast = FastBook::new(cfg);
        let mut reference = ReferenceBook::new(cfg);
        let (mut ev_fast, mut ev_ref) = (Vec::new(), Vec::new());
        for i in 0..20_000 {
            let cmd = deep_command(&mut rng);
            let was_peg = pegs(&reference).iter().any(|p| p.id == cmd.id());
            ev_fast.clear();
            ev_ref.clear();
            fast.apply(&cmd, &mut ev_fast);
            reference.apply(&cmd, &mut ev_ref);
            let what = format!("seed {seed} command {i} {cmd:?}");
            assert_eq!(ev_fast, ev_ref, "{what}: events differ");
            assert_eq!(pegs(&fast), pegs(&reference), "{what}: pegs differ");
            assert_eq!(
                fast.snapshot(),
                reference.snapshot(),
                "{what}: books differ"
            );
            if was_peg && matches!(cmd, Command::Cancel { .. }) {
                peg_cancels += 1;
            }
            deepest = deepest.max(fast.pegs());
        }
        check_invariants(&fast, "end of stream");
    }
    // The queues must be deep and cancelled from the inside, not merely present.
    assert!(deepest > 300, "at most {deepest} pegs rested");
    assert!(peg_cancels > 1_500, "only {peg_cancels} peg cancels");
}
