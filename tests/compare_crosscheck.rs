//! `flowmatch compare`'s fill cross-check and stream restriction, on hand-checked streams
//! and on a workload: a peer that agrees must be reported as agreeing, a known
//! disagreement (matchcore's trade-through) must be found at the right command with the
//! right fills, and `restrict` must leave out exactly what a peer cannot express.

use flowmatch::core::{Command, NewOrder, Side, Stp, Tif};
use flowmatch::harness::compare::crosscheck::{cross_check, FillRow};
use flowmatch::harness::compare::driver::{fills_per_command, MatcherKind};
use flowmatch::harness::compare::peers::{restrict, Capabilities, Fill};
use flowmatch::harness::compare::{Screened, TooSlow};
use flowmatch::harness::workload::Workload;

fn lim(id: u64, acct: u32, side: Side, price: i64, qty: u64) -> Command {
    Command::New(NewOrder::limit(id, acct, side, price, qty))
}

/// The SEMANTICS example plus a resting remainder: sells at 100 and 101, a buy limited at
/// 100 for 8. Ours fills 5 at 100 and rests 3; matchcore walks on to 101.
fn trade_through_stream() -> Vec<Command> {
    vec![
        lim(1, 1, Side::Sell, 100, 5),
        lim(2, 1, Side::Sell, 101, 5),
        lim(3, 2, Side::Buy, 100, 8),
    ]
}

#[test]
fn matchcore_trade_through_is_reported_at_the_first_differing_command() {
    let c = cross_check(
        MatcherKind::Matchcore,
        "hand",
        &trade_through_stream(),
        Screened::Finished,
    );
    assert!(!c.agree);
    let d = c.first_difference.expect("a difference");
    assert_eq!(d.index, 2);
    assert_eq!(d.command, "N,3,2,B,L,100,8,GTC,NONE");
    let row = |maker, price, qty| FillRow {
        taker: 3,
        maker,
        price,
        qty,
    };
    assert_eq!(d.ours, vec![row(1, 100, 5)]);
    assert_eq!(d.theirs, vec![row(1, 100, 5), row(2, 101, 3)]);
    assert!(
        d.explanation.starts_with("trade-through"),
        "{}",
        d.explanation
    );
}

#[test]
fn every_peer_agrees_on_a_stream_without_the_known_defects() {
    // Resting orders on both sides, takers that stop exactly at one level, a market sweep,
    // a price-changing replace that does not cross, and cancels of orders never touched
    // by a fill (nanobook's defect needs a cancel after a fill at the same level).
    let s = vec![
        lim(1, 1, Side::Sell, 101, 10),
        lim(2, 2, Side::Sell, 101, 20),
        lim(3, 3, Side::Sell, 103, 30),
        lim(4, 1, Side::Buy, 99, 10),
        lim(5, 2, Side::Buy, 98, 10),
        Command::Replace {
            id: 5,
            price: 97,
            qty: 15,
        },
        Command::New(NewOrder::limit(6, 4, Side::Buy, 101, 25).with_tif(Tif::Ioc)),
        Command::Cancel { id: 4 },
        Command::New(NewOrder::market(7, 4, Side::Buy, 40)),
        Command::New(NewOrder::market(8, 4, Side::Sell, 5)),
    ];
    let ours = fills_per_command(MatcherKind::Fast, &s);
    let f = |taker, maker, price, qty| Fill {
        taker,
        maker,
        price,
        qty,
    };
    assert_eq!(ours[6], vec![f(6, 1, 101, 10), f(6, 2, 101, 15)]);
    assert_eq!(ours[8], vec![f(7, 2, 101, 5), f(7, 3, 103, 30)]);
    assert_eq!(ours[9], vec![f(8, 5, 97, 5)]);
    for peer in MatcherKind::PEERS {
        let c = cross_check(peer, "hand", &s, Screened::Finished);
        assert!(c.agree, "{}: {:?}", peer.name(), c.first_difference);
        assert_eq!(c.commands, s.len());
    }
}

#[test]
fn lobster_agrees_on_its_subset_of_the_equity_workload() {
    let stream = Workload::EquityCalm.generate(7, 20_000);
    let c = cross_check(
        MatcherKind::Lobster,
        "equity-mixed",
        &stream,
        Screened::Finished,
    );
    assert!(c.commands > 10_000 && c.our_fills > 1_000, "{c:?}");
    assert!(c.agree, "{:?}", c.first_difference);
}

#[test]
fn cross_check_stops_before_a_known_hang() {
    let s = trade_through_stream();
    let c = cross_check(MatcherKind::Nanobook, "hand", &s, Screened::Hung { at: 2 });
    assert_eq!(c.commands, 2);
    assert_eq!(c.hung_at, Some((2, "N,3,2,B,L,100,8,GTC,NONE".to_string())));
    assert!(c.agree);
}

#[test]
fn cross_check_of_a_too_slow_peer_covers_what_it_got_through_and_says_so() {
    let s = trade_through_stream();
    let c = cross_check(
        MatcherKind::Lobster,
        "hand",
        &s,
        Screened::TooSlow {
            at: 2,
            seconds: 4.0,
        },
    );
    assert_eq!(c.commands, 2);
    assert_eq!(c.hung_at, None);
    assert_eq!(
        c.too_slow,
        Some(TooSlow {
            reached: 2,
            commands: 3,
            seconds: 4.0
        })
    );
    let t = c.too_slow.unwrap();
    assert_eq!(t.text(), "too slow: 2 of 3 commands in 4.0 s (≈0.0000 M/s)");
    assert!((t.mcps() - 0.5e-6).abs() < 1e-12);
}

#[test]
fn restrict_leaves_out_exactly_what_a_peer_cannot_express() {
    let caps = Capabilities {
        stp: false,
        fok: false,
        post_only: false,
        keep_priority_replace: false,
        min_price: -1_000,
        max_price: 1_000,
    };
    let s = vec![
        lim(1, 1, Side::Sell, 100, 10), // kept
        Command::New(NewOrder::limit(2, 1, Side::Buy, 90, 5).with_tif(Tif::Fok)), // FOK
        Command::New(NewOrder::limit(3, 1, Side::Buy, 90, 5).with_tif(Tif::Post)), // post-only
        lim(4, 1, Side::Buy, 5_000, 5), // price range
        lim(1, 2, Side::Buy, 50, 5),    // duplicate live id: our book rejects
        Command::Replace {
            id: 1,
            price: 100,
            qty: 4,
        }, // keeps priority
        Command::Replace {
            id: 1,
            price: 101,
            qty: 4,
        }, // loses priority: kept
        Command::New(NewOrder::limit(5, 1, Side::Buy, 101, 1).with_stp(Stp::CancelTaker)), // STP cleared, kept
        Command::Cancel { id: 99 }, // unknown: rejected
    ];
    let (out, d) = restrict(&s, &caps);
    assert_eq!(
        out,
        vec![
            s[0],
            s[6],
            Command::New(NewOrder::limit(5, 1, Side::Buy, 101, 1)),
        ]
    );
    assert_eq!(
        (d.fok, d.post_only, d.price_range, d.keep_priority_replace),
        (1, 1, 1, 1)
    );
    assert_eq!((d.rejected, d.stp_cleared), (2, 1));
    // With every capability, only the rejects go.
    let (all, d) = restrict(&s, &Capabilities::FULL);
    assert_eq!(all.len(), s.len() - 2);
    assert_eq!(d.rejected, 2);
}
