//! Group self-trade prevention (issue 18, item 3): accounts of one beneficial-owner group
//! cannot trade with each other when the books are given the account-group table.
//!
//! Two oracles: hand-checked cases, one per STP mode, worked from `docs/SEMANTICS.md`
//! ("Self-trade prevention", "Account groups") and run through both books; and a seeded
//! differential run of the fast book against the reference book (implemented separately:
//! it looks both accounts up in an ordered map at every comparison) with groups set, under
//! price-time and pro-rata.

use flowmatch::core::book::AccountGroups;
use flowmatch::core::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Accounts 1 and 2 are one firm (group 7); account 3 is on its own; account 7 is unlisted
/// (its number equals the group's, which must not make it a member).
fn groups() -> AccountGroups {
    AccountGroups::from_pairs([(1, 7), (2, 7)]).unwrap()
}

/// The book every case starts from: asks of 10 by account 2 (id 1) then 5 by account 3
/// (id 2), both at 100.
fn seeded<B: OrderBook>(mut b: B) -> B {
    let mut ev = Vec::new();
    b.apply(
        &Command::New(NewOrder::limit(1, 2, Side::Sell, 100, 10)),
        &mut ev,
    );
    b.apply(
        &Command::New(NewOrder::limit(2, 3, Side::Sell, 100, 5)),
        &mut ev,
    );
    b
}

fn fast(grouped: bool) -> FastBook {
    let mut b = FastBook::new(BookConfig::default());
    if grouped {
        b.set_account_groups(groups());
    }
    seeded(b)
}

fn reference(grouped: bool) -> ReferenceBook {
    let mut b = ReferenceBook::new(BookConfig::default());
    if grouped {
        b.set_account_groups(&groups());
    }
    seeded(b)
}

fn cancel(id: OrderId, qty: Qty, side: Side) -> Event {
    Event::Cancel {
        id,
        qty,
        reason: CancelReason::Stp,
        side,
        price: Some(100),
    }
}

fn trade(maker: OrderId, qty: Qty) -> Event {
    Event::Trade {
        taker: 9,
        maker,
        price: 100,
        qty,
    }
}

/// A buy of 12 at 100 by `account` with mode `stp`, through both books; both must print
/// `want` and end with the same book.
fn check(grouped: bool, account: Account, stp: Stp, want: &[Event], resting: &[(OrderId, Qty)]) {
    let cmd = Command::New(NewOrder::limit(9, account, Side::Buy, 100, 12).with_stp(stp));
    let (mut f, mut r) = (fast(grouped), reference(grouped));
    let (mut ef, mut er) = (Vec::new(), Vec::new());
    f.apply(&cmd, &mut ef);
    r.apply(&cmd, &mut er);
    let mut expected = vec![Event::Ack { id: 9 }];
    expected.extend_from_slice(want);
    assert_eq!(ef, expected, "fast book, {stp:?}, grouped {grouped}");
    assert_eq!(er, expected, "reference book, {stp:?}, grouped {grouped}");
    assert_eq!(f.snapshot(), r.snapshot());
    let open: Vec<(OrderId, Qty)> = f.snapshot().iter().map(|o| (o.id, o.open_qty)).collect();
    assert_eq!(open, resting, "{stp:?}: resting orders");
}

#[test]
fn none_trades_across_the_group() {
    check(true, 1, Stp::None, &[trade(1, 10), trade(2, 2)], &[(2, 3)]);
}

#[test]
fn cancel_taker_stops_at_the_first_group_order() {
    check(
        true,
        1,
        Stp::CancelTaker,
        &[cancel(9, 12, Side::Buy)],
        &[(1, 10), (2, 5)],
    );
}

#[test]
fn cancel_maker_removes_the_group_order_and_trades_on() {
    // 10 cancelled (account 2, same firm), 5 traded with account 3, 7 rests as a bid.
    check(
        true,
        1,
        Stp::CancelMaker,
        &[cancel(1, 10, Side::Sell), trade(2, 5)],
        &[(9, 7)],
    );
}

#[test]
fn cancel_both_removes_both() {
    check(
        true,
        1,
        Stp::CancelBoth,
        &[cancel(1, 10, Side::Sell), cancel(9, 12, Side::Buy)],
        &[(2, 5)],
    );
}

#[test]
fn decrement_cancel_decrements_both_by_the_smaller() {
    // min(12, 10) = 10 off both (maker first); the taker's last 2 trade with account 3.
    check(
        true,
        1,
        Stp::DecrementCancel,
        &[
            cancel(1, 10, Side::Sell),
            cancel(9, 10, Side::Buy),
            trade(2, 2),
        ],
        &[(2, 3)],
    );
}

#[test]
fn without_the_table_linked_accounts_trade() {
    for stp in [
        Stp::CancelTaker,
        Stp::CancelMaker,
        Stp::CancelBoth,
        Stp::DecrementCancel,
    ] {
        check(false, 1, stp, &[trade(1, 10), trade(2, 2)], &[(2, 3)]);
    }
}

#[test]
fn an_unlisted_account_numbered_like_a_group_is_not_in_it() {
    check(
        true,
        7,
        Stp::CancelTaker,
        &[trade(1, 10), trade(2, 2)],
        &[(2, 3)],
    );
}

#[test]
fn the_same_account_still_counts_with_groups_set() {
    // Account 3 is in no group but is its own owner: its second order meets its first.
    check(
        true,
        3,
        Stp::CancelMaker,
        &[trade(1, 10), cancel(2, 5, Side::Sell)],
        &[(9, 2)],
    );
}

#[test]
fn fill_or_kill_counts_group_orders_as_unfillable() {
    // FOK 12 with cancel-taker: the walk meets account 2 (same firm) first, so it cannot
    // fill; with cancel-maker, 10 would be cancelled and only 5 left: it cannot fill
    // either. Both books cancel it whole and leave the book as it was.
    for stp in [Stp::CancelTaker, Stp::CancelMaker] {
        let cmd = Command::New(
            NewOrder::limit(9, 1, Side::Buy, 100, 12)
                .with_tif(Tif::Fok)
                .with_stp(stp),
        );
        let (mut f, mut r) = (fast(true), reference(true));
        let (mut ef, mut er) = (Vec::new(), Vec::new());
        f.apply(&cmd, &mut ef);
        r.apply(&cmd, &mut er);
        let want = vec![
            Event::Ack { id: 9 },
            Event::Cancel {
                id: 9,
                qty: 12,
                reason: CancelReason::Fok,
                side: Side::Buy,
                price: Some(100),
            },
        ];
        assert_eq!(ef, want, "fast {stp:?}");
        assert_eq!(er, want, "reference {stp:?}");
    }
}

/// A seeded stream over 8 accounts in random groups (some unlisted), few prices and ids.
fn stream(seed: u64, len: usize) -> (AccountGroups, Vec<Command>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pairs: Vec<(Account, u32)> = Vec::new();
    for a in 1..=8u32 {
        if rng.random_bool(0.75) {
            pairs.push((a, rng.random_range(1..=3)));
        }
    }
    let groups = AccountGroups::from_pairs(pairs).unwrap();
    let mut cmds = Vec::with_capacity(len);
    for _ in 0..len {
        let id = rng.random_range(1..=40);
        let price = 100 + rng.random_range(0..5);
        let qty = rng.random_range(1..=12);
        let c = match rng.random_range(0..10) {
            0..=6 => {
                let side = if rng.random_bool(0.5) {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let account = rng.random_range(1..=8);
                let mut o = if rng.random_bool(0.1) {
                    NewOrder::market(id, account, side, qty)
                } else {
                    NewOrder::limit(id, account, side, price, qty)
                };
                if o.ord_type == OrdType::Limit {
                    o.tif = match rng.random_range(0..8) {
                        0 => Tif::Ioc,
                        1 => Tif::Fok,
                        2 => Tif::Post,
                        _ => Tif::Gtc,
                    };
                }
                o.stp = match rng.random_range(0..6) {
                    0 => Stp::None,
                    1 => Stp::CancelTaker,
                    2 => Stp::CancelMaker,
                    3 => Stp::CancelBoth,
                    _ => Stp::DecrementCancel,
                };
                Command::New(o)
            }
            7 => Command::Cancel { id },
            _ => Command::Replace { id, price, qty },
        };
        cmds.push(c);
    }
    (groups, cmds)
}

fn differential(policy: MatchPolicy) {
    let mut group_stp_cancels = 0usize;
    for seed in 0..300 {
        let (groups, cmds) = stream(seed, 400);
        let cfg = BookConfig {
            policy,
            capacity: 64,
            ..BookConfig::default()
        };
        let mut f = FastBook::new(cfg);
        let mut r = ReferenceBook::new(cfg);
        f.set_account_groups(groups.clone());
        r.set_account_groups(&groups);
        let (mut ef, mut er) = (Vec::new(), Vec::new());
        for (i, c) in cmds.iter().enumerate() {
            ef.clear();
            er.clear();
            f.apply(c, &mut ef);
            r.apply(c, &mut er);
            assert_eq!(ef, er, "seed {seed} command {i} {c:?}");
            assert_eq!(f.snapshot(), r.snapshot(), "seed {seed} command {i}");
            group_stp_cancels += ef
                .iter()
                .filter(|e| {
                    matches!(
                        e,
                        Event::Cancel {
                            reason: CancelReason::Stp,
                            ..
                        }
                    )
                })
                .count();
        }
    }
    // The streams must exercise STP (across groups, with few accounts) a lot.
    assert!(group_stp_cancels > 5_000, "{group_stp_cancels} STP cancels");
}

#[test]
fn price_time_with_groups_matches_reference() {
    differential(MatchPolicy::PriceTime);
}

#[test]
fn pro_rata_with_groups_matches_reference() {
    differential(MatchPolicy::ProRata { top_order: false });
    differential(MatchPolicy::ProRata { top_order: true });
}

/// The CME family's STP pre-pass compares owners too: every algorithm, with groups, against
/// the reference book (default parameters plus a TOP minimum, so A, K, O, Q and S have a
/// TOP order to allocate to).
#[test]
fn cme_algorithms_with_groups_match_reference() {
    use flowmatch::core::allocation::{Algorithm, AllocationParams, CmePolicy};
    for algorithm in [
        Algorithm::A,
        Algorithm::C,
        Algorithm::F,
        Algorithm::K,
        Algorithm::O,
        Algorithm::Q,
        Algorithm::S,
        Algorithm::T,
    ] {
        let params = AllocationParams {
            top_min: 2,
            ..AllocationParams::default()
        };
        let policy = CmePolicy::new(algorithm, params).expect("parameters in range");
        differential(MatchPolicy::Cme(policy));
    }
}

#[test]
fn groups_remove_trades_between_linked_accounts() {
    // The same stream with and without the table: with it, no trade ever joins two
    // accounts of one group whose taker had an STP mode; without it, some do.
    let (groups, cmds) = stream(11, 2_000);
    let count = |with: bool| {
        let mut b = FastBook::new(BookConfig::default());
        if with {
            b.set_account_groups(groups.clone());
        }
        let mut owner = std::collections::HashMap::new();
        let mut n = 0;
        let mut ev = Vec::new();
        for c in &cmds {
            ev.clear();
            b.apply(c, &mut ev);
            // Only an accepted order takes its id (a duplicate is rejected).
            if let (Command::New(o), Some(Event::Ack { .. })) = (c, ev.first()) {
                owner.insert(o.id, (o.account, o.stp));
            }
            for e in &ev {
                if let Event::Trade { taker, maker, .. } = e {
                    let (ta, ts) = owner[taker];
                    let (ma, _) = owner[maker];
                    if ts != Stp::None && ta != ma && groups.owner(ta) == groups.owner(ma) {
                        n += 1;
                    }
                }
            }
        }
        n
    };
    assert!(count(false) > 0);
    assert_eq!(count(true), 0);
}
