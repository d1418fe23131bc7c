//! The cross-section day (`flowmatch run --scenario cross-section`, issue 17): the
//! headline lands in the published ranges on a smaller seeded day, the toxic preset loses
//! money, the economics are byte-identical for a seed, the regime switch changes the tick
//! and the access fee exactly as the rule states (a hand-computed case), fractional shares
//! are never routed, and a bad `--regime` is refused naming the flag.

use flowmatch_core::Side;
use flowmatch_harness::cmd::run::{run, Args};
use flowmatch_harness::cmd::run_xsection::load;
use flowmatch_harness::retail::xsection::day::{
    run_day, run_instrument, tick_constrained, Paths, XOrder,
};
use flowmatch_harness::retail::xsection::stats::DayStats;
use flowmatch_harness::retail::xsection::universe::Instrument;
use flowmatch_harness::retail::xsection::{Headline, XConfig};
use flowmatch_wholesaler::symbol_desk::{Regime, MICRO};
use std::path::Path;

fn args(scenario: &str, out: &Path) -> Args {
    Args {
        scenario: scenario.into(),
        seed: None,
        orders: Some(20_000),
        duration: None,
        out: Some(out.to_path_buf()),
        quiet: true,
        print_scenario: false,
        policy: None,
        queue: flowmatch_core::ingress::QueueKind::Spsc,
        rate: 2_000_000.0,
        no_engine: true,
        regime: None,
        instruments: Some(500),
    }
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("flowmatch-xsection-")
        .tempdir()
        .expect("temporary directory")
}

/// The bar, on a 500-stock, 150,000-order day (seed 1) (the published
/// ranges are the oracle): wholesaler E/Q 0.40-0.50, price improvement 0.4-0.7 c/share,
/// internalized 65-80% of marketable shares, every broker's PFOF 9-116 c/100, net P&L > 0;
/// more than half the orders odd lots; fractional shares filled, none routed.
#[test]
fn smaller_day_lands_in_the_bar_ranges_under_both_regimes() {
    let mut c = XConfig::preset("cross-section").unwrap();
    assert!(
        c.instruments >= 500 && c.orders >= 1_000_000,
        "the default day"
    );
    c.instruments = 500;
    c.orders = 150_000;
    let (u, _, st) = run_day(&c, |_, _| {});
    assert_eq!(u.len(), 500);
    for (r, s) in Regime::ALL.iter().zip(&st) {
        let h = Headline::of(&c, s);
        let r = r.name();
        assert_eq!(h.instruments, 500);
        assert!(
            (0.40..=0.50).contains(&h.wholesaler_eq),
            "{r}: E/Q {}",
            h.wholesaler_eq
        );
        assert!(
            (0.4..=0.7).contains(&h.pi_cents_per_share),
            "{r}: PI {}",
            h.pi_cents_per_share
        );
        assert!(
            (65.0..=80.0).contains(&h.internalized_pct),
            "{r}: internalized {}",
            h.internalized_pct
        );
        assert_eq!(h.pfof_cents_per_100.len(), c.brokers.len());
        for (b, v) in &h.pfof_cents_per_100 {
            assert!((9.0..=116.0).contains(v), "{r}: PFOF {b} {v}");
        }
        assert!(h.net_pnl_usd > 0.0, "{r}: net {}", h.net_pnl_usd);
        // The arithmetic adds up.
        let p = &s.pnl;
        let sum = p.spread_capture + p.position + p.closeout_spread
            - p.pfof
            - p.fees_routed
            - p.fees_closeout;
        assert!((sum - p.net()).abs() < 1e-6);
        assert!(
            s.odd_lot_orders * 2 > s.orders,
            "{r}: odd lots {} of {}",
            s.odd_lot_orders,
            s.orders
        );
        assert!(s.fractional_orders > 0 && s.fractional_filled_micro > 0);
        assert_eq!(
            s.fractional_routed_micro, 0,
            "{r}: fractional shares routed"
        );
        assert!(
            s.routed_why.iter().all(|&x| x > 0.0),
            "{r}: every routing reason used"
        );
    }
}

#[test]
fn toxic_flow_turns_the_wholesaler_negative() {
    let mut c = XConfig::preset("cross-section-toxic").unwrap();
    c.instruments = 500;
    c.orders = 150_000;
    let (_, _, st) = run_day(&c, |_, _| {});
    for (r, s) in Regime::ALL.iter().zip(&st) {
        assert!(s.pnl.net() < 0.0, "{}: net {}", r.name(), s.pnl.net());
        // Through adverse selection, not through a change of quoting.
        assert!(s.pnl.position < 0.0 && s.pnl.spread_capture > 0.0);
    }
}

fn economics(dir: &Path) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let text = std::fs::read_to_string(dir.join("report.json")).unwrap();
    assert!(
        text.trim_start().starts_with("{\n  \"headline\": {"),
        "report.json opens with the headline"
    );
    for k in [
        "instruments",
        "internalized_pct",
        "wholesaler_eq",
        "pi_cents_per_share",
        "pfof_cents_per_100",
        "net_pnl_usd",
    ] {
        assert!(v["headline"].get(k).is_some(), "headline lacks {k}");
    }
    v.as_object_mut().unwrap().remove("provenance");
    serde_json::to_string(&v).unwrap()
}

#[test]
fn economics_are_byte_identical_for_a_seed() {
    let t = scratch();
    let (a, b, c) = (t.path().join("a"), t.path().join("b"), t.path().join("c"));
    assert_eq!(run(args("cross-section", &a)), 0);
    assert_eq!(run(args("cross-section", &b)), 0);
    let mut other = args("cross-section", &c);
    other.seed = Some(2);
    assert_eq!(run(other), 0);
    assert_eq!(economics(&a), economics(&b));
    assert_ne!(economics(&a), economics(&c), "a different seed must differ");
    let svg = std::fs::read_to_string(a.join("regime_comparison.svg")).unwrap();
    assert!(svg.starts_with("<svg") && !svg.contains("NaN"));
}

#[test]
fn bad_regime_is_refused_naming_the_flag() {
    let t = scratch();
    let mut a = args("cross-section", &t.path().join("x"));
    a.regime = Some("2024".into());
    let e = load(&a).unwrap_err();
    assert!(e.contains("--regime") && e.contains("2023 or 2025"), "{e}");
    assert_eq!(run(a), 2);
    let mut a = args("cross-section", &t.path().join("y"));
    a.regime = Some("2023".into());
    assert_eq!(load(&a).unwrap().0.regime, Regime::R2023);
    // --regime on a single-symbol preset is refused too.
    let mut a = args("retail", &t.path().join("z"));
    a.regime = Some("2023".into());
    assert_eq!(run(a), 2);
    let mut a = args("cross-section", &t.path().join("w"));
    a.instruments = Some(0);
    assert!(load(&a).unwrap_err().contains("--instruments"));
}

/// A hand-computed case. A $10.00 stock with a 0.4-cent natural spread:
/// - 2023 (1-cent tick): quote 9.99 x 10.00, midpoint 9.995;
/// - 2025 (tick-constrained, half-penny): quote 9.995 x 10.00, midpoint 9.9975.
///
/// A market buy of 100 shares: improvement max(27% of the spread, 10 ticks) = 27 ticks
/// (2023) and 13 ticks (2025, 13.5 rounded down), so it fills at 9.9973 / 9.9987: E/Q
/// 2 x 23/100 = 0.46 and 2 x 12/50 = 0.48; PFOF at 8% of the spread: 8 and 4 ticks a share,
/// $0.08 and $0.04. A market sell of 5,000 against 1,000 displayed is routed: access fee
/// 5,000 x $0.003 = $15 (2023) and 5,000 x $0.001 = $5 (2025). The close-out of the 100
/// short shares pays half the spread ($0.50 / $0.25) and the fee ($0.30 / $0.10).
#[test]
fn regime_switch_changes_tick_and_fee_as_the_rule_states() {
    let c = XConfig::preset("cross-section").unwrap();
    let p = Paths {
        mid: vec![100_000.0; 4],
        nat: vec![40.0; 4],
    };
    assert!(tick_constrained(&p));
    assert_eq!(p.quote(0, Regime::R2023.tick(true)), (99_900, 100_000));
    assert_eq!(p.quote(0, Regime::R2025.tick(true)), (99_950, 100_000));
    let inst = Instrument {
        index: 0,
        rank: 1,
        price: 10.0,
        weight: 1.0,
        spread_bps: 4.0,
        vol_bps: 0.0,
        depth_shares: 1_000.0,
        orders: 2,
    };
    let buy = XOrder {
        k: 0,
        broker: 0,
        side: Side::Buy,
        kind: 0,
        qty: 100 * MICRO,
        notional: 1_000.0,
        depth: 10_000,
        offset: 0,
        life: 0,
    };
    let sell = XOrder {
        side: Side::Sell,
        qty: 5_000 * MICRO,
        notional: 50_000.0,
        depth: 1_000,
        ..buy
    };
    let want = [
        // (E/Q, PI dollars/share, PFOF $, routed fees $, close-out half spread $, close-out fee $)
        (0.46, 0.0027, 0.08, 15.0, 0.50, 0.30),
        (0.48, 0.0013, 0.04, 5.0, 0.25, 0.10),
    ];
    for (r, w) in Regime::ALL.iter().zip(want) {
        let mut st = DayStats::new(c.brokers.len());
        run_instrument(&c, *r, &inst, &p, &[buy, sell], true, &mut st);
        let wh = st.wholesaler();
        let near = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(near(wh.shares, 100.0));
        assert!(
            near(wh.effective / wh.quoted, w.0),
            "{}: E/Q {}",
            r.name(),
            wh.effective / wh.quoted
        );
        let m = &st.by_type[0];
        let pi: f64 = m.iter().map(|x| x.improvement).sum::<f64>();
        // The routed sell fills at or below the bid: its improvement is <= 0; the buy's is w.1.
        let buy_pi = st.markouts[0][0].shares * w.1;
        assert!(pi <= buy_pi + 1e-9);
        assert!(near(st.pnl.pfof, w.2), "{}: PFOF {}", r.name(), st.pnl.pfof);
        assert!(
            near(st.pnl.fees_routed, w.3),
            "{}: fees {}",
            r.name(),
            st.pnl.fees_routed
        );
        assert!(
            near(st.pnl.closeout_spread, -w.4),
            "{}",
            st.pnl.closeout_spread
        );
        assert!(near(st.pnl.fees_closeout, w.5), "{}", st.pnl.fees_closeout);
        assert!(
            near(st.markouts[0][1].shares, 5_000.0),
            "all routed shares fill"
        );
    }
}

/// The committed default day (`bench-results/cross-section/report.json`) is what a fresh
/// run of the default scenario gives, and it meets the bar at full size.
#[test]
fn committed_default_day_matches_a_fresh_run_and_meets_the_bar() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("bench-results/cross-section/report.json")).unwrap(),
    )
    .unwrap();
    let c = XConfig::preset("cross-section").unwrap();
    let (_, _, st) = run_day(&c, |_, _| {});
    let h = Headline::of(&c, &st[1]);
    assert_eq!(serde_json::to_value(&h).unwrap(), committed["headline"]);
    assert!(h.instruments >= 500 && st[1].orders >= 1_000_000);
    assert!((0.40..=0.50).contains(&h.wholesaler_eq));
    assert!((0.4..=0.7).contains(&h.pi_cents_per_share));
    assert!((65.0..=80.0).contains(&h.internalized_pct));
    assert!(h
        .pfof_cents_per_100
        .values()
        .all(|v| (9.0..=116.0).contains(v)));
    assert!(h.net_pnl_usd > 0.0);
    let cmp = committed["regime_comparison"].as_array().unwrap();
    assert_eq!(cmp.len(), 2);
    assert_eq!(cmp[0]["regime"], "2023");
    assert_eq!(cmp[0]["access_fee_mils"], 30);
    assert_eq!(cmp[1]["access_fee_mils"], 10);
}
