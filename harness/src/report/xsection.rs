//! The cross-section day's report: `report.json` (opening with the `headline` object, then
//! the P&L arithmetic, Rule 605 (2024) tables, Rule 606-style PFOF, markouts, routing,
//! the flow, the published anchors beside the results, the regime comparison and the
//! provenance), `report.md` with the same as tables, and `regime_comparison.svg`.

use crate::chart::BarChart;
use crate::provenance::Provenance;
use crate::retail::xsection::stats::{
    DayStats, HORIZONS, NOTIONAL_LABELS, ORDER_TYPES, SIZE_CLASSES, VENUES,
};
use crate::retail::xsection::universe::BUCKETS;
use crate::retail::xsection::{round, Headline, XConfig};
use flowmatch_wholesaler::symbol_desk::{Pfof, Regime, RouteWhy, MICRO};
use serde::Serialize;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::Path;

/// The files the report writes.
pub const FILES: [&str; 3] = ["report.json", "report.md", "regime_comparison.svg"];

#[derive(Serialize)]
struct Doc {
    headline: Headline,
    regime: &'static str,
    scenario: Value,
    pnl: Value,
    rule605: Value,
    rule606: Value,
    markouts: Value,
    routing: Value,
    flow: Value,
    anchors: Value,
    regime_comparison: Value,
    provenance: Value,
}

fn div(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

fn pfof_rule(p: &Pfof) -> String {
    match p {
        Pfof::PerShare(t) => format!("{t} ¢ per 100 shares"),
        Pfof::SpreadFraction(pm) => format!("{:.1}% of the quoted spread", *pm as f64 / 10.0),
        _ => "other".into(),
    }
}

fn pnl_json(st: &DayStats) -> Value {
    let p = &st.pnl;
    json!({
        "spread_capture_usd": round(p.spread_capture, 2),
        "position_usd": round(p.position, 2),
        "closeout_spread_usd": round(p.closeout_spread, 2),
        "pfof_usd": round(p.pfof, 2),
        "access_fees_routed_usd": round(p.fees_routed, 2),
        "access_fees_closeout_usd": round(p.fees_closeout, 2),
        "net_usd": round(p.net(), 2),
        "formula": "net = spread_capture + position + closeout_spread - pfof - access_fees_routed - access_fees_closeout",
    })
}

fn cell_json(label: &str, c: &crate::retail::xsection::stats::Cell) -> Value {
    let ex = c.exec_marketable();
    json!({
        "bucket": label,
        "orders": c.orders,
        "covered_shares": round(c.shares, 3),
        "executed_by_wholesaler": round(c.exec_wholesaler, 3),
        "executed_routed": round(c.exec_routed, 3),
        "executed_resting": round(c.exec_resting, 3),
        "e_over_q": round(div(c.effective, c.quoted), 4),
        "pi_cents_per_share": round(100.0 * div(c.improvement, ex), 4),
        "at_or_better_pct": round(100.0 * div(c.at_or_better, ex), 3),
        "realized_15s_cents_per_share": round(100.0 * div(c.realized[1], ex), 4),
        "realized_60s_cents_per_share": round(100.0 * div(c.realized[2], ex), 4),
    })
}

fn anchors(h: &Headline, st: &DayStats) -> Value {
    let w = st.wholesaler();
    let ex = st.markouts.iter().fold((0.0, 0.0), |a, b| {
        (a.0 + b[1].realized[2], a.1 + b[1].shares)
    });
    let pf: Vec<f64> = h.pfof_cents_per_100.values().copied().collect();
    let pmin = pf.iter().copied().fold(f64::INFINITY, f64::min);
    let pmax = pf.iter().copied().fold(0.0, f64::max);
    json!([
        {"figure": "E/Q of the wholesaler's own executions", "published": "0.43 (Citadel median), 0.50 (Virtu)", "result": h.wholesaler_eq, "source": "BMLL analysis of April 2025 Rule 605 filings (Global Trading, 2025)"},
        {"figure": "internalized share of marketable shares", "published": "about 71% (28.6% routed out)", "result": h.internalized_pct, "source": "Battalio, Jennings, Saglam & Wu, Management Science 2025"},
        {"figure": "what drives routing out", "published": "order size relative to displayed depth, recent order imbalance", "result": format!("routed by size {:.0}, imbalance {:.0}, inventory {:.0} shares", st.routed_why[0], st.routed_why[1], st.routed_why[2]), "source": "Battalio et al., Management Science 2025"},
        {"figure": "PFOF, cents per 100 shares", "published": "9-116 across retail brokers; one broker a fixed fraction of the quoted spread, another a fixed per-share amount", "result": format!("{pmin:.2}-{pmax:.2}"), "source": "Robinhood and Charles Schwab Rule 606 reports"},
        {"figure": "price improvement, cents per share", "published": "0.4-0.7", "result": h.pi_cents_per_share, "source": "wholesalers' Rule 605 reports (range of the issue's bar)"},
        {"figure": "realized spread, wholesaler vs exchange (60 s, cents/share)", "published": "wholesalers' realized spreads above exchanges', their price improvement larger still", "result": format!("wholesaler {:.4}, exchange {:.4}", 100.0 * div(w.realized[2], w.shares), 100.0 * div(ex.0, ex.1)), "source": "Dyhrberg, Shkilko & Werner"},
        {"figure": "information in retail order flow", "published": "imbalance predicts about 10 bps over the following week: short-horizon markouts near zero", "result": format!("wholesaler effective {:.2} bps, realized at 5 min {:.2} bps", div(w.effective_bps, w.shares), div(w.realized_bps[3], w.shares)), "source": "Boehmer, Jones, Zhang & Zhang, Journal of Finance 2021"},
        {"figure": "tick and access-fee cap", "published": "2023: 1¢ tick, 30 mils; 2025: half-penny tick when TWAQS <= $0.015, 10 mils", "result": format!("{} of {} stocks tick-constrained", st.tick_constrained, st.instruments), "source": "SEC Release 34-101070 (September 2024; compliance November 3, 2025)"},
    ])
}

fn regime_row(c: &XConfig, r: Regime, st: &DayStats) -> Value {
    let h = Headline::of(c, st);
    json!({
        "regime": r.name(),
        "tick_constrained_stocks": st.tick_constrained,
        "half_penny_tick": r == Regime::R2025,
        "access_fee_mils": r.access_fee_mils(),
        "mean_quoted_spread_cents": round(div(st.mean_spread_cents_sum, st.instruments as f64), 4),
        "headline": h,
        "pnl": pnl_json(st),
    })
}

/// The report of a cross-section day: `st` holds `[2023, 2025]`.
pub fn build(c: &XConfig, st: &[DayStats; 2], prov: &Provenance) -> (String, String, String) {
    let ri = Regime::ALL.iter().position(|r| *r == c.regime).unwrap_or(1);
    let s = &st[ri];
    let h = Headline::of(c, s);
    let by_type: Vec<Value> = ORDER_TYPES
        .iter()
        .enumerate()
        .map(|(t, name)| {
            json!({"order_type": name, "rows": NOTIONAL_LABELS.iter().zip(&s.by_type[t]).map(|(l, cell)| cell_json(l, cell)).collect::<Vec<_>>()})
        })
        .collect();
    let by_class: Vec<Value> = SIZE_CLASSES
        .iter()
        .zip(&s.by_class)
        .map(|(l, cell)| cell_json(l, cell))
        .collect();
    let rule606: Vec<Value> = c
        .brokers
        .iter()
        .zip(&s.brokers)
        .map(|(b, l)| {
            json!({"broker": b.name, "rule": pfof_rule(&b.pfof), "marketable_shares_sent": round(l.sent, 3), "executed_by_wholesaler": round(l.wholesaler, 3), "pfof_usd": round(l.pfof_usd, 2),
            "pfof_cents_per_100_executed": round(1e4 * div(l.pfof_usd, l.wholesaler), 3), "pfof_cents_per_100_sent": round(1e4 * div(l.pfof_usd, l.sent), 3)})
        })
        .collect();
    let mut marks = Vec::new();
    for (b, name) in BUCKETS.iter().enumerate() {
        for (v, venue) in VENUES.iter().enumerate() {
            let m = &s.markouts[b][v];
            marks.push(json!({"stock_bucket": name, "venue": venue, "shares": round(m.shares, 3),
                "effective_cents_per_share": round(100.0 * div(m.effective, m.shares), 4),
                "effective_bps": round(div(m.effective_bps, m.shares), 4),
                "realized_cents_per_share": HORIZONS.iter().zip(m.realized).map(|(h, r)| (format!("{h}s"), round(100.0 * div(r, m.shares), 4))).collect::<std::collections::BTreeMap<_, _>>(),
                "realized_bps": HORIZONS.iter().zip(m.realized_bps).map(|(h, r)| (format!("{h}s"), round(div(r, m.shares), 4))).collect::<std::collections::BTreeMap<_, _>>()}));
        }
    }
    let routing: Value = RouteWhy::ALL
        .iter()
        .map(|w| {
            (
                w.name().to_string(),
                json!(round(s.routed_why[*w as usize], 3)),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into();
    let flow = json!({
        "orders": s.orders,
        "odd_lot_pct": round(100.0 * div(s.odd_lot_orders as f64, s.orders as f64), 3),
        "fractional_orders": s.fractional_orders,
        "fractional_shares_filled_by_wholesaler": round(s.fractional_filled_micro as f64 / MICRO as f64, 6),
        "fractional_shares_routed": s.fractional_routed_micro,
        "unfilled_marketable_shares": round(s.unfilled_marketable, 3),
        "tick_constrained_stocks": s.tick_constrained,
    });
    let scenario = json!({
        "name": c.name, "seed": c.seed, "instruments": c.instruments, "orders": c.orders,
        "quoting": format!("improve the NBBO by {:.1}% of the quoted spread, at least {} ticks of $0.0001, at most to the midpoint", c.quoting.fraction_permille as f64 / 10.0, c.quoting.floor_ticks),
        "routing": format!("route whole shares above {:.1}% of the displayed far-touch size, or on the side of a running imbalance above {:.2} (weight {:.2} per order), or past the symbol's inventory limit ({:.1}% of its retail dollar flow, at least ${:.0})", c.routing.depth_permille as f64 / 10.0, c.routing.imbalance_permille as f64 / 1000.0, c.routing.imbalance_alpha_permille as f64 / 1000.0, 100.0 * c.inventory_frac, c.inventory_floor_usd),
        "informed_frac": c.informed_frac, "informed_horizon_s": c.informed_horizon_s,
    });
    let comparison = json!(Regime::ALL
        .iter()
        .zip(st.iter())
        .map(|(r, x)| regime_row(c, *r, x))
        .collect::<Vec<_>>());
    let doc = Doc {
        headline: h.clone(),
        regime: c.regime.name(),
        scenario,
        pnl: pnl_json(s),
        rule605: json!({"by_order_type_and_notional": by_type, "marketable_by_size_class": by_class}),
        rule606: json!(rule606),
        markouts: json!(marks),
        routing,
        flow,
        anchors: anchors(&h, s),
        regime_comparison: comparison.clone(),
        provenance: serde_json::to_value(prov).unwrap_or(Value::Null),
    };
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
    let md = markdown(c, s, &doc);
    let svg = chart(c, st);
    (text, md, svg)
}

fn markdown(c: &XConfig, s: &DayStats, d: &Doc) -> String {
    let h = &d.headline;
    let mut m = String::new();
    let _ = writeln!(
        m,
        "# flowmatch run: {} (regime {})\n",
        c.name,
        c.regime.name()
    );
    let _ = writeln!(m, "## Headline\n\n| figure | value |\n|---|---|");
    let _ = writeln!(m, "| instruments | {} |", h.instruments);
    let _ = writeln!(
        m,
        "| internalized (% of executed marketable shares) | {:.2} |",
        h.internalized_pct
    );
    let _ = writeln!(
        m,
        "| wholesaler E/Q (own executions) | {:.4} |",
        h.wholesaler_eq
    );
    let _ = writeln!(
        m,
        "| price improvement (¢/share, all marketable) | {:.4} |",
        h.pi_cents_per_share
    );
    for (b, v) in &h.pfof_cents_per_100 {
        let _ = writeln!(m, "| PFOF {b} (¢ per 100 shares executed) | {v:.3} |");
    }
    let _ = writeln!(m, "| net P&L ($) | {:.2} |\n", h.net_pnl_usd);
    let p = &s.pnl;
    let verdict = if p.net() > 0.0 { "makes" } else { "loses" };
    let _ = writeln!(
        m,
        "## The wholesaler's P&L\n\nThe wholesaler {verdict} money: net ${:.2}.\n",
        p.net()
    );
    let _ = writeln!(m, "| term | $ |\n|---|---|");
    for (k, v) in [
        (
            "spread capture against the midpoint at execution",
            p.spread_capture,
        ),
        (
            "+ position (adverse selection and inventory drift to the close)",
            p.position,
        ),
        ("+ close-out half spread", p.closeout_spread),
        ("- PFOF", -p.pfof),
        ("- access fees on routed shares", -p.fees_routed),
        ("- access fees on the close-out", -p.fees_closeout),
        ("= net", p.net()),
    ] {
        let _ = writeln!(m, "| {k} | {v:.2} |");
    }
    let _ = writeln!(
        m,
        "\n{}\n{}\n",
        d.scenario["quoting"].as_str().unwrap_or(""),
        d.scenario["routing"].as_str().unwrap_or("")
    );
    let _ = writeln!(m, "## Regime comparison (SEC Release 34-101070)\n\n| regime | tick-constrained stocks | access fee (mils) | mean quoted spread (¢) | internalized % | wholesaler E/Q | PI ¢/share | net P&L $ | PFOF $ | fees $ |\n|---|---|---|---|---|---|---|---|---|---|");
    for r in d.regime_comparison.as_array().into_iter().flatten() {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r["regime"].as_str().unwrap_or(""),
            r["tick_constrained_stocks"],
            r["access_fee_mils"],
            r["mean_quoted_spread_cents"],
            r["headline"]["internalized_pct"],
            r["headline"]["wholesaler_eq"],
            r["headline"]["pi_cents_per_share"],
            r["headline"]["net_pnl_usd"],
            r["pnl"]["pfof_usd"],
            round(
                r["pnl"]["access_fees_routed_usd"].as_f64().unwrap_or(0.0)
                    + r["pnl"]["access_fees_closeout_usd"].as_f64().unwrap_or(0.0),
                2
            )
        );
    }
    let _ = writeln!(m, "\nChart: `regime_comparison.svg`.\n\n## Published anchors\n\n| figure | published | this run | source |\n|---|---|---|---|");
    for a in d.anchors.as_array().into_iter().flatten() {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} |",
            a["figure"].as_str().unwrap_or(""),
            a["published"].as_str().unwrap_or(""),
            a["result"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| a["result"].to_string()),
            a["source"].as_str().unwrap_or("")
        );
    }
    let _ = writeln!(m, "\n## Rule 605 (2024 amendments): marketable orders by size class\n\n| class | orders | executed by wholesaler | routed | E/Q | PI ¢/share | at or better % | realized 15 s ¢/share | realized 60 s ¢/share |\n|---|---|---|---|---|---|---|---|---|");
    for r in d.rule605["marketable_by_size_class"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r["bucket"].as_str().unwrap_or(""),
            r["orders"],
            r["executed_by_wholesaler"],
            r["executed_routed"],
            r["e_over_q"],
            r["pi_cents_per_share"],
            r["at_or_better_pct"],
            r["realized_15s_cents_per_share"],
            r["realized_60s_cents_per_share"]
        );
    }
    let _ = writeln!(m, "\n## Rule 605 by order type and notional size\n\n| order type | notional | orders | covered shares | by wholesaler | routed | resting fills | E/Q | PI ¢/share | realized 60 s ¢/share |\n|---|---|---|---|---|---|---|---|---|---|");
    for t in d.rule605["by_order_type_and_notional"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for r in t["rows"].as_array().into_iter().flatten() {
            if r["orders"].as_u64().unwrap_or(0) == 0 {
                continue;
            }
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                t["order_type"].as_str().unwrap_or(""),
                r["bucket"].as_str().unwrap_or(""),
                r["orders"],
                r["covered_shares"],
                r["executed_by_wholesaler"],
                r["executed_routed"],
                r["executed_resting"],
                r["e_over_q"],
                r["pi_cents_per_share"],
                r["realized_60s_cents_per_share"]
            );
        }
    }
    let _ = writeln!(m, "\n## Rule 606-style PFOF per broker\n\n| broker | rule | marketable shares sent | executed by wholesaler | PFOF $ | ¢/100 executed | ¢/100 sent |\n|---|---|---|---|---|---|---|");
    for r in d.rule606.as_array().into_iter().flatten() {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r["broker"].as_str().unwrap_or(""),
            r["rule"].as_str().unwrap_or(""),
            r["marketable_shares_sent"],
            r["executed_by_wholesaler"],
            r["pfof_usd"],
            r["pfof_cents_per_100_executed"],
            r["pfof_cents_per_100_sent"]
        );
    }
    let _ = writeln!(m, "\n## Markouts: realized spread by horizon and stock bucket (¢/share; bps in report.json)\n\n| stock bucket | venue | shares | effective | 1 s | 15 s | 60 s | 300 s |\n|---|---|---|---|---|---|---|---|");
    for r in d.markouts.as_array().into_iter().flatten() {
        let rc = &r["realized_cents_per_share"];
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r["stock_bucket"].as_str().unwrap_or(""),
            r["venue"].as_str().unwrap_or(""),
            r["shares"],
            r["effective_cents_per_share"],
            rc["1s"],
            rc["15s"],
            rc["60s"],
            rc["300s"]
        );
    }
    let _ = writeln!(
        m,
        "\n## Routing and flow\n\n| routed because | whole shares |\n|---|---|"
    );
    for (k, v) in d.routing.as_object().into_iter().flatten() {
        let _ = writeln!(m, "| {k} | {v} |");
    }
    let _ = writeln!(m, "\n| flow | value |\n|---|---|");
    for (k, v) in d.flow.as_object().into_iter().flatten() {
        let _ = writeln!(m, "| {k} | {v} |");
    }
    let _ = writeln!(m, "\nThis day has no threaded-engine latency section: it measures economics only.\n\n## Provenance\n\n| field | value |\n|---|---|");
    for (k, v) in d.provenance.as_object().into_iter().flatten() {
        let _ = writeln!(
            m,
            "| {k} | {} |",
            v.as_str()
                .map(String::from)
                .unwrap_or_else(|| v.to_string())
        );
    }
    m
}

fn chart(c: &XConfig, st: &[DayStats; 2]) -> String {
    let hs: Vec<Headline> = st.iter().map(|s| Headline::of(c, s)).collect();
    let groups: Vec<String> = vec![
        "internalized %".into(),
        "E/Q x 100".into(),
        "PI (¢/share) x 100".into(),
        "net P&L ($ thousands)".into(),
    ];
    let series: Vec<(String, Vec<f64>)> = Regime::ALL
        .iter()
        .zip(&hs)
        .map(|(r, h)| {
            (
                format!("regime {}", r.name()),
                vec![
                    h.internalized_pct,
                    100.0 * h.wholesaler_eq,
                    100.0 * h.pi_cents_per_share,
                    (h.net_pnl_usd / 1000.0).max(0.0),
                ],
            )
        })
        .collect();
    BarChart {
        title: "Regime 2023 vs 2025: what the 2024 amendments change",
        x_label: "figure",
        y_label: "value",
        groups: &groups,
        series: &series,
        value_labels: Some(|v| format!("{v:.1}")),
        ..Default::default()
    }
    .svg()
}

/// Writes the report files into `dir` (created if missing); returns their names.
pub fn write(
    dir: &Path,
    c: &XConfig,
    st: &[DayStats; 2],
    prov: &Provenance,
) -> std::io::Result<Vec<&'static str>> {
    std::fs::create_dir_all(dir)?;
    let (json, md, svg) = build(c, st, prov);
    std::fs::write(dir.join(FILES[0]), json)?;
    std::fs::write(dir.join(FILES[1]), md)?;
    std::fs::write(dir.join(FILES[2]), svg)?;
    Ok(FILES.to_vec())
}
