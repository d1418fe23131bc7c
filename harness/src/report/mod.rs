//! Reports of a retail run: `report.json`, `report.md`, `.hgrm` latency files, SVG charts
//! and the console summary.
//!
//! The JSON keeps the economics (a pure function of scenario and seed, byte-identical
//! between runs) and the latency (measured, varies) in separate top-level sections, so that
//! the economics can be compared byte for byte.
//!
//! The SVG charts are drawn by [`crate::chart`] (plotters, SVG backend, no font features):
//! text is left to the viewer's fonts, so nothing here needs a font file or fontconfig.

pub mod prose;
pub mod xsection;

use crate::chart::{self, Bin, Series};
use crate::metrics::{Economics, Latency};
use crate::provenance::Provenance;
use crate::retail::scenario::Scenario;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// Percentiles and `.hgrm` text have one home, shared with `flowmatch latency` and `compare`.
pub use crate::latency::hist::{hgrm, Percentiles};

/// `reason shares, reason shares, ...` for the console summary.
fn share_counts(by_reason: &std::collections::BTreeMap<String, u64>) -> String {
    by_reason
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Published figures to hold the simulation against.
pub struct Anchor {
    pub what: &'static str,
    pub published: &'static str,
    pub source: &'static str,
}

pub const ANCHORS: [Anchor; 4] = [
    Anchor {
        what: "internalized share of marketable shares",
        published: "≈71% (28.6% filled by outside liquidity, May 2022)",
        source: "Battalio et al., Management Science 2025",
    },
    Anchor {
        what: "price improvement",
        published: "≈0.5–0.6 ¢/share",
        source: "SEC Rule 605 reports, largest wholesalers",
    },
    Anchor {
        what: "effective / quoted spread (E/Q)",
        published: "0.3–0.5",
        source: "SEC Rule 605 reports, largest wholesalers",
    },
    Anchor {
        what: "payment for order flow",
        published: "20–115 ¢ per 100 shares",
        source: "Rule 606 reports",
    },
];

/// Latency section of the report (nanoseconds).
#[derive(Clone, Debug, Serialize)]
pub struct LatencySummary {
    pub what: &'static str,
    pub clock: &'static str,
    pub all: Percentiles,
    pub orders: Percentiles,
    pub quotes: Percentiles,
    /// The same stream through the threaded engine, if it was run.
    pub engine: Option<EngineLatency>,
    /// `/proc/loadavg` when the run started: on a shared 2-core machine the engine's
    /// busy-polling thread is descheduled for whole time slices when the load exceeds the
    /// core count, and the tail (or more) of the latency shows it.
    pub load_average: Option<String>,
}

/// Latency through the threaded engine (ns).
#[derive(Clone, Debug, Serialize)]
pub struct EngineLatency {
    pub what: &'static str,
    pub queue: &'static str,
    pub offered_rate_per_s: f64,
    pub achieved_rate_per_s: f64,
    pub engine_pinned: bool,
    /// The engine's events equal the single-threaded run's (count and digest).
    pub events_identical_to_single_threaded: bool,
    pub end_to_end: Percentiles,
    pub queue_hop: Percentiles,
    pub service: Percentiles,
}

/// Summarize a threaded run against the single-threaded record.
pub fn engine_latency(
    t: &crate::metrics::threaded::ThreadedRun,
    rec: &crate::metrics::RunRecord,
) -> EngineLatency {
    EngineLatency {
        what: "open loop from each message's intended send time: one client thread pushes the merged stream and drains events, the engine thread runs the internalizer; messages without events have no sample",
        queue: t.kind.name(),
        offered_rate_per_s: t.offered_rate.round(),
        achieved_rate_per_s: t.achieved_rate.round(),
        engine_pinned: t.stats.pinned,
        events_identical_to_single_threaded: t.event_count == rec.event_count
            && t.event_digest == rec.event_digest,
        end_to_end: Percentiles::of(&t.e2e),
        queue_hop: Percentiles::of(&t.hop),
        service: Percentiles::of(&t.service),
    }
}

pub fn latency_summary(l: &Latency) -> LatencySummary {
    LatencySummary {
        what: "internalizer service time per message on one thread (message in hand to last event delivered)",
        clock: "TSC via quanta",
        all: Percentiles::of(&l.all),
        orders: Percentiles::of(&l.orders),
        quotes: Percentiles::of(&l.quotes),
        engine: None,
        load_average: Some(crate::provenance::load_average()).filter(|l| !l.is_empty()),
    }
}

#[derive(Serialize)]
struct ReportJson<'a> {
    /// Where the result came from (tool, commit, command, machine, load, time).
    provenance: &'a Provenance,
    scenario: &'a Scenario,
    /// Depends only on scenario and seed: byte-identical between runs.
    economics: &'a Economics,
    /// Measured: varies from run to run.
    latency: &'a LatencySummary,
    wall_seconds: f64,
}

/// The JSON of the economics alone (what the determinism test compares).
pub fn economics_json(scn: &Scenario, ec: &Economics) -> String {
    #[derive(Serialize)]
    struct E<'a> {
        scenario: &'a Scenario,
        economics: &'a Economics,
    }
    serde_json::to_string_pretty(&E {
        scenario: scn,
        economics: ec,
    })
    .expect("serializable")
}

/// Everything one run writes.
pub struct Written<'a> {
    pub scenario: &'a Scenario,
    pub economics: &'a Economics,
    pub latency: &'a Latency,
    pub summary: &'a LatencySummary,
    /// The threaded engine run, when there was one.
    pub engine: Option<&'a crate::metrics::threaded::ThreadedRun>,
    pub wall_seconds: f64,
    pub provenance: &'a Provenance,
}

/// The files [`write_all`] writes, in order: with the engine run, or without it. The run
/// checks these names against its input before any work.
pub fn file_names(with_engine: bool) -> Vec<&'static str> {
    let mut v = vec![
        "report.json",
        "report.md",
        "service_all.hgrm",
        "service_orders.hgrm",
        "service_quotes.hgrm",
    ];
    if with_engine {
        v.extend(["engine_end_to_end.hgrm", "engine_queue_hop.hgrm"]);
    }
    v.extend([
        "latency.svg",
        "internalization_by_type.svg",
        "inventory_pnl.svg",
        "price_improvement.svg",
    ]);
    v
}

/// Write every output file into `dir` (the names of [`file_names`]).
pub fn write_all(dir: &Path, w: &Written) -> std::io::Result<Vec<String>> {
    let (scn, ec, lat, ls) = (w.scenario, w.economics, w.latency, w.summary);
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(&ReportJson {
        provenance: w.provenance,
        scenario: scn,
        economics: ec,
        latency: ls,
        wall_seconds: (w.wall_seconds * 100.0).round() / 100.0,
    })
    .expect("serializable");
    let names = file_names(w.engine.is_some());
    let mut files = vec![];
    let mut put = |name: &str, text: String| -> std::io::Result<()> {
        debug_assert!(names.contains(&name), "{name} missing from file_names");
        std::fs::write(dir.join(name), text)?;
        files.push(name.to_string());
        Ok(())
    };
    put("report.json", json + "\n")?;
    put("report.md", markdown(scn, ec, ls, w.provenance))?;
    put("service_all.hgrm", hgrm(&lat.all))?;
    put("service_orders.hgrm", hgrm(&lat.orders))?;
    put("service_quotes.hgrm", hgrm(&lat.quotes))?;
    let svg = match w.engine {
        Some(t) => {
            put("engine_end_to_end.hgrm", hgrm(&t.e2e))?;
            put("engine_queue_hop.hgrm", hgrm(&t.hop))?;
            latency_curve(&[
                ("engine end-to-end", &t.e2e),
                ("engine queue hop", &t.hop),
                ("service, orders", &lat.orders),
                ("service, quotes", &lat.quotes),
            ])
        }
        None => latency_curve(&[
            ("service, all", &lat.all),
            ("service, orders", &lat.orders),
            ("service, quotes", &lat.quotes),
        ]),
    };
    put("latency.svg", svg)?;
    put("internalization_by_type.svg", internalization_by_type(ec))?;
    put("inventory_pnl.svg", inventory_pnl(ec))?;
    put("price_improvement.svg", improvement_hist(ec))?;
    Ok(files)
}

/// Latency percentile curves (the one chart of [`chart::latency_by_percentile`]).
pub fn latency_curve(series: &[(&str, &Histogram<u64>)]) -> String {
    chart::latency_by_percentile("Latency by percentile", series)
}

/// Stacked bars per order type: % of marketable shares agency / principal / routed.
pub fn internalization_by_type(ec: &Economics) -> String {
    let groups: Vec<String> = ec.by_class.keys().cloned().collect();
    let part = |f: fn(&crate::metrics::Split) -> u64| -> Vec<f64> {
        ec.by_class
            .values()
            .map(|s| f(s) as f64 / s.shares.max(1) as f64 * 100.0)
            .collect()
    };
    let series = vec![
        ("agency cross".to_string(), part(|s| s.agency_shares)),
        ("principal".to_string(), part(|s| s.principal_shares)),
        ("routed".to_string(), part(|s| s.routed_shares)),
    ];
    chart::BarChart {
        title: "Marketable shares by outcome, per order type",
        x_label: "order type",
        y_label: "% of shares",
        groups: &groups,
        series: &series,
        stacked: true,
        y_max: Some(100.0),
        ..Default::default()
    }
    .svg()
}

/// Inventory (shares, left axis) and trading / net P&L (dollars, right axis) over the session.
pub fn inventory_pnl(ec: &Economics) -> String {
    let s = &ec.samples;
    let tmax = s.last().map(|x| x.t_s).unwrap_or(1.0);
    let imax = s
        .iter()
        .map(|x| x.inventory.unsigned_abs() as f64)
        .fold(1.0, f64::max);
    let pmax = s
        .iter()
        .map(|x| x.net_pnl.abs().max(x.trading_pnl.abs()))
        .filter(|v| v.is_finite())
        .fold(1.0, f64::max);
    let line = |name: &str, secondary: bool, f: &dyn Fn(&crate::metrics::Sample) -> f64| Series {
        name: name.into(),
        points: s.iter().map(|x| (x.t_s, f(x))).collect(),
        secondary,
    };
    let series = [
        line("inventory", false, &|x| x.inventory as f64),
        line("trading P&L (right)", true, &|x| x.trading_pnl),
        line("net P&L (right)", true, &|x| x.net_pnl),
    ];
    chart::LineChart {
        title: "Wholesaler inventory and P&L over the session",
        x_label: "seconds since the open",
        y_label: "inventory (shares)",
        x_range: Some((0.0, tmax)),
        y_range: Some((-imax * 1.1, imax * 1.1)),
        y2: Some(("P&L (dollars)", (-pmax * 1.1, pmax * 1.1))),
        series: &series,
        ..Default::default()
    }
    .svg()
}

/// Distribution of price improvement per share over marketable executed shares.
pub fn improvement_hist(ec: &Economics) -> String {
    let h = &ec.rule605.improvement_histogram;
    let total: u64 = h.iter().map(|x| x.1).sum::<u64>().max(1);
    let bins: Vec<Bin> = h
        .iter()
        .map(|&(lo, n)| Bin {
            lo,
            hi: lo + 0.1,
            value: n as f64 / total as f64 * 100.0,
            class: if lo < 0.0 {
                2
            } else if lo < 0.1 {
                1
            } else {
                0
            },
        })
        .collect();
    chart::Hist {
        title: "Price improvement per share (marketable orders)",
        x_label: "cents per share (negative: outside the quote)",
        y_label: "% of executed shares",
        x_range: (-2.0, 3.0),
        bins: &bins,
        classes: &[
            ("improved", chart::COLORS[0]),
            ("at the quote", chart::GREY),
            ("outside", chart::COLORS[3]),
        ],
        ..Default::default()
    }
    .svg()
}

fn f2(v: f64) -> String {
    format!("{v:.2}")
}

/// The compact console table: our figures beside the published anchors.
pub fn console_summary(scn: &Scenario, ec: &Economics, ls: &LatencySummary) -> String {
    let m = &ec.marketable;
    let r = &ec.rule605;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "scenario {} (seed {}): {} orders, {} quote updates, {} messages",
        scn.name, scn.seed, ec.orders, ec.quote_updates, ec.messages
    );
    let _ = writeln!(s, "{:<44} {:>16}   published", "", "flowmatch");
    let rows = [
        (
            "internalized (% of marketable shares)",
            f2(m.internalized_pct),
            ANCHORS[0].published,
        ),
        (
            "price improvement (¢/share)",
            format!("{:.3}", r.price_improvement_cents_per_share),
            ANCHORS[1].published,
        ),
        (
            "E/Q (all marketable shares)",
            format!("{:.3}", r.e_over_q),
            ANCHORS[2].published,
        ),
        (
            "E/Q (internalized shares)",
            format!("{:.3}", r.e_over_q_internalized),
            "",
        ),
        (
            "PFOF (¢ per 100 shares)",
            f2(ec.pfof_cents_per_100_shares),
            ANCHORS[3].published,
        ),
    ];
    for (k, v, p) in rows {
        let _ = writeln!(s, "{k:<44} {v:>16}   {p}");
    }
    let _ = writeln!(
        s,
        "split of marketable shares: agency {} / principal {} / routed {} (routed shares of all orders by reason: {})",
        m.agency_shares,
        m.principal_shares,
        m.routed_shares,
        share_counts(&ec.routed_by_reason)
    );
    let _ = writeln!(
        s,
        "routed shares left unfilled: {}",
        if ec.routed_unfilled_by_reason.is_empty() {
            "none".to_string()
        } else {
            share_counts(&ec.routed_unfilled_by_reason)
        }
    );
    let _ = writeln!(
        s,
        "where E/Q comes from (kind: % of executed shares, E/Q, PI ¢/share, % at the quote): {}",
        r.by_kind
            .iter()
            .map(|k| format!(
                "{} {:.1}%, {:.3}, {:.3}, {:.1}%",
                k.kind,
                k.pct_of_shares,
                k.e_over_q,
                k.price_improvement_cents_per_share,
                k.pct_shares_at_quote
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let l = &ec.nonmarketable_limits;
    let _ = writeln!(
        s,
        "shares improved / at / outside the quote: {:.1}% / {:.1}% / {:.1}%; avg quoted spread {:.2}¢",
        r.pct_shares_improved,
        r.pct_shares_at_quote,
        r.pct_shares_outside_quote,
        r.avg_quoted_spread_cents
    );
    let _ = writeln!(
        s,
        "non-marketable limits: fill rate {:.1}% of {} shares (agency {}, wholesaler on a quote move {}, exchange {}; cancelled {}, open {})",
        l.fill_rate_pct,
        l.shares,
        l.agency_filled_shares,
        l.wholesaler_filled_shares,
        l.exchange_filled_shares,
        l.cancelled_shares,
        l.open_at_close_shares
    );
    let p = &ec.pnl;
    let _ = writeln!(
        s,
        "wholesaler P&L $: spread {:.0}, hedge cost {:.0}, inventory {:.0}, fees -{:.0}, PFOF -{:.0} => net {:.0}; max |inventory| {}",
        p.spread_capture, p.hedge_spread_cost, p.inventory_pnl, p.access_fees, p.pfof_paid, p.net_pnl, p.max_abs_inventory
    );
    let _ = writeln!(
        s,
        "self-trades prevented {}; conservation: {} shares unaccounted",
        ec.self_trades_prevented, ec.conservation.unaccounted
    );
    let _ = writeln!(
        s,
        "latency (service per order message, ns): p50 {} p90 {} p99 {} p99.9 {} p99.99 {} max {}",
        ls.orders.p50,
        ls.orders.p90,
        ls.orders.p99,
        ls.orders.p99_9,
        ls.orders.p99_99,
        ls.orders.max
    );
    if let Some(e) = &ls.engine {
        let x = &e.end_to_end;
        let _ = writeln!(
            s,
            "latency through the engine ({} queue, {:.0} msg/s offered, {:.0} achieved; end-to-end ns): p50 {} p90 {} p99 {} p99.9 {} p99.99 {} max {}",
            e.queue, e.offered_rate_per_s, e.achieved_rate_per_s, x.p50, x.p90, x.p99, x.p99_9, x.p99_99, x.max
        );
        let _ = writeln!(
            s,
            "engine events identical to the single-threaded run: {}; load average {}",
            e.events_identical_to_single_threaded,
            ls.load_average.as_deref().unwrap_or("unknown")
        );
    }
    s
}

/// `report.md`: every sentence from the scenario, the results and the provenance.
pub fn markdown(scn: &Scenario, ec: &Economics, ls: &LatencySummary, prov: &Provenance) -> String {
    let m = &ec.marketable;
    let r = &ec.rule605;
    let mut s = String::new();
    let _ = writeln!(s, "# flowmatch run: `{}` (seed {})\n", scn.name, scn.seed);
    let _ = writeln!(
        s,
        "{} retail orders from {} brokers over {:.0} s of simulated trading, {} NBBO updates. \
         Prices in ticks of $0.0001; the NBBO moves in whole cents. Economics below depend only \
         on the scenario and the seed; latency is measured and varies.\n",
        ec.orders,
        scn.retail.brokers.len(),
        scn.retail.day_seconds,
        ec.quote_updates
    );
    let _ = writeln!(s, "## Against published figures\n");
    let _ = writeln!(
        s,
        "| figure | flowmatch | published | source |\n|---|---:|---|---|"
    );
    let ours = [
        format!("{:.2}%", m.internalized_pct),
        format!("{:.3} ¢/share", r.price_improvement_cents_per_share),
        format!(
            "{:.3} (internalized only: {:.3})",
            r.e_over_q, r.e_over_q_internalized
        ),
        format!("{:.2} ¢ per 100 shares", ec.pfof_cents_per_100_shares),
    ];
    for (a, o) in ANCHORS.iter().zip(ours) {
        let _ = writeln!(s, "| {} | {} | {} | {} |", a.what, o, a.published, a.source);
    }
    let _ = writeln!(s, "\n{}", prose::how_figures_come_about(scn, ec));
    let _ = writeln!(s, "\n## Internalization of marketable orders\n");
    let _ = writeln!(
        s,
        "| group | orders | shares | agency | principal | routed | internalized % shares | fully internalized % orders |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    );
    let row = |s: &mut String, name: &str, x: &crate::metrics::Split| {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {:.2} | {:.2} |",
            name,
            x.orders,
            x.shares,
            x.agency_shares,
            x.principal_shares,
            x.routed_shares,
            x.internalized_pct,
            x.internalized_orders_pct
        );
    };
    row(&mut s, "**all marketable**", m);
    for (k, v) in &ec.by_class {
        row(&mut s, &format!("type: {k}"), v);
    }
    for (k, v) in &ec.by_broker {
        row(&mut s, &format!("broker: {k}"), v);
    }
    let _ = writeln!(
        s,
        "\n{}",
        count_table(
            "routed because",
            "shares (all orders)",
            &ec.routed_by_reason,
            "no order was routed"
        )
    );
    let _ = writeln!(
        s,
        "{}",
        count_table(
            "routed, left unfilled because",
            "shares",
            &ec.routed_unfilled_by_reason,
            "every routed share was filled"
        )
    );
    let _ = writeln!(s, "## Rule 605 statistics (marketable orders)\n");
    let _ = writeln!(
        s,
        "| type | executed shares | quoted spread ¢ | effective spread ¢ | E/Q | PI ¢/share | improved % | at % | outside % |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let r605 = |s: &mut String, name: &str, x: &crate::metrics::Rule605| {
        let _ = writeln!(
            s,
            "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1} | {:.1} | {:.1} |",
            name,
            x.executed_shares,
            x.avg_quoted_spread_cents,
            x.avg_effective_spread_cents,
            x.e_over_q,
            x.price_improvement_cents_per_share,
            x.pct_shares_improved,
            x.pct_shares_at_quote,
            x.pct_shares_outside_quote
        );
    };
    r605(&mut s, "**all**", r);
    for (k, v) in &ec.rule605_by_class {
        r605(&mut s, k, v);
    }
    let _ = writeln!(
        s,
        "\nWhere E/Q comes from (all marketable orders, by fill kind; E/Q over all shares is the \
         mean of the kinds' E/Q weighted by their share of quoted spread):\n\n\
         | kind | executed shares | % of shares | % of quoted spread | quoted spread ¢ | E/Q | PI ¢/share | improved % | at % | outside % |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for k in &r.by_kind {
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} | {:.1} | {:.3} | {:.3} | {:.3} | {:.1} | {:.1} | {:.1} |",
            k.kind,
            k.executed_shares,
            k.pct_of_shares,
            k.pct_of_quoted,
            k.avg_quoted_spread_cents,
            k.e_over_q,
            k.price_improvement_cents_per_share,
            k.pct_shares_improved,
            k.pct_shares_at_quote,
            k.pct_shares_outside_quote
        );
    }
    let _ = writeln!(
        s,
        "\nRealized spread (¢/share) by horizon: {}\n",
        fmt_pairs(&r.realized_spread_cents)
    );
    let l = &ec.nonmarketable_limits;
    let _ = writeln!(
        s,
        "Non-marketable limits: {} orders, {} shares, fill rate {:.2}%, time to first fill mean {:.1} s / median {:.1} s. \
         Where their shares ended: crossed with incoming customer orders {}, filled by the wholesaler when the NBBO moved through them {}, \
         filled on the exchange {}, cancelled {}, open at the close {}.\n",
        l.orders, l.shares, l.fill_rate_pct, l.mean_time_to_first_fill_s, l.median_time_to_first_fill_s,
        l.agency_filled_shares, l.wholesaler_filled_shares, l.exchange_filled_shares, l.cancelled_shares, l.open_at_close_shares
    );
    let p = &ec.pnl;
    let _ = writeln!(s, "## Wholesaler P&L (dollars)\n");
    let _ = writeln!(
        s,
        "| spread capture | hedge spread cost | inventory (price moves) | trading total | access fees | PFOF paid | net |\n|---:|---:|---:|---:|---:|---:|---:|\n| {:.2} | {:.2} | {:.2} | {:.2} | -{:.2} | -{:.2} | {:.2} |\n",
        p.spread_capture, p.hedge_spread_cost, p.inventory_pnl, p.trading_pnl, p.access_fees, p.pfof_paid, p.net_pnl
    );
    let _ = writeln!(
        s,
        "Markouts of principal fills ($, negative = adverse selection): {}. Final inventory {}, max |inventory| {}, hedged {} shares.\n",
        fmt_pairs(&p.markouts),
        p.final_inventory,
        p.max_abs_inventory,
        p.hedged_shares
    );
    let _ = writeln!(
        s,
        "| broker | PFOF rate (¢ per 100 shares) | PFOF paid ($) |\n|---|---:|---:|"
    );
    for b in &scn.retail.brokers {
        let _ = writeln!(
            s,
            "| {} | {} | {:.2} |",
            b.name,
            b.pfof_cents_per_100,
            ec.pfof_by_broker.get(&b.name).copied().unwrap_or(0.0)
        );
    }
    let _ = writeln!(s);
    let c = &ec.conservation;
    let _ = writeln!(
        s,
        "## Checks\n\nSelf-trades prevented: {}.\n\n{}\nConservation: {} shares in = {} internal + {} exchange + {} cancelled + {} open at the close; unaccounted {}.\n",
        ec.self_trades_prevented,
        count_table("rejected because", "messages", &ec.rejects, "no message was rejected"),
        c.shares_in,
        c.filled_internally,
        c.filled_on_exchange,
        c.cancelled,
        c.open_at_close,
        c.unaccounted
    );
    let _ = writeln!(s, "## Latency ({}, {})\n", ls.what, ls.clock);
    let _ = writeln!(
        s,
        "| messages | count | p50 ns | p90 | p99 | p99.9 | p99.99 | max | mean |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for (n, x) in [
        ("all", &ls.all),
        ("orders", &ls.orders),
        ("quotes", &ls.quotes),
    ] {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.1} |",
            n, x.count, x.p50, x.p90, x.p99, x.p99_9, x.p99_99, x.max, x.mean
        );
    }
    if let Some(e) = &ls.engine {
        let _ = writeln!(
            s,
            "\nThrough the threaded engine ({}; {} queue, offered {:.0} msg/s, achieved {:.0}, engine pinned: {}, events identical to the single-threaded run: {}):\n\n| path | count | p50 ns | p90 | p99 | p99.9 | p99.99 | max | mean |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            e.what, e.queue, e.offered_rate_per_s, e.achieved_rate_per_s, e.engine_pinned, e.events_identical_to_single_threaded
        );
        for (n, x) in [
            ("end-to-end", &e.end_to_end),
            ("queue hop", &e.queue_hop),
            ("service", &e.service),
        ] {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {:.1} |",
                n, x.count, x.p50, x.p90, x.p99, x.p99_9, x.p99_99, x.max, x.mean
            );
        }
    }
    let _ = writeln!(
        s,
        "\n{}\n\nCharts: `latency.svg`, `internalization_by_type.svg`, `inventory_pnl.svg`, `price_improvement.svg`.\n",
        machine_note(prov, ls.engine.is_some())
    );
    let _ = write!(s, "\n{}", prov.markdown());
    s
}

/// A two-column Markdown table of counts by reason, or `empty` when there are none.
fn count_table(
    what: &str,
    unit: &str,
    counts: &std::collections::BTreeMap<String, u64>,
    empty: &str,
) -> String {
    if counts.is_empty() {
        return format!("{}: {empty}.\n", capitalize(what));
    }
    let mut s = format!("| {what} | {unit} |\n|---|---:|\n");
    for (k, v) in counts {
        let _ = writeln!(s, "| {k} | {} |", prose::thousands(*v));
    }
    s
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// What the machine's load means for the latency figures, from the provenance block: a
/// load above the core count means the measured threads lost time slices.
fn machine_note(prov: &Provenance, engine: bool) -> String {
    let load: Option<f64> = prov
        .load_average
        .split_whitespace()
        .next()
        .and_then(|l| l.parse().ok());
    let cores = prov.logical_cores;
    let who = if engine {
        "the engine thread lost whole time slices, and every engine percentile shows it"
    } else {
        "the timed thread lost whole time slices, and the service-time tail shows it"
    };
    match load {
        Some(l) if cores > 0 && l > cores as f64 => format!(
            "Load average at the start {l:.2} on {cores} logical cores: above the core count, so \
             {who}."
        ),
        Some(l) => format!(
            "Load average at the start {l:.2} on {cores} logical cores (not above the core \
             count); the tail percentiles still include noisy-neighbour stalls on a shared \
             virtual machine."
        ),
        None => "Load average unknown: the tail percentiles may include stalls from other work \
                 on the machine."
            .to_string(),
    }
}

fn fmt_pairs(v: &[(String, f64)]) -> String {
    v.iter()
        .map(|(k, x)| format!("{k}: {x:.3}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_note_says_contended_only_above_the_core_count() {
        let mut p = Provenance::capture();
        p.logical_cores = 2;
        p.load_average = "1.04 0.90 0.80".into();
        let calm = machine_note(&p, true);
        assert!(
            calm.contains("1.04") && calm.contains("not above"),
            "{calm}"
        );
        p.load_average = "2.50 2.00 1.00".into();
        let busy = machine_note(&p, true);
        assert!(busy.contains("above the core count") && !busy.contains("not above"));
        assert!(busy.contains("engine thread"));
        assert!(machine_note(&p, false).contains("service-time tail"));
        p.load_average = String::new();
        assert!(machine_note(&p, false).contains("unknown"));
    }

    #[test]
    fn percentile_labels_for_log_x() {
        use crate::chart::percentile_label;
        // x = 1/(1-p): hand-computed p for each decade.
        let got: Vec<String> = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5]
            .iter()
            .map(|&x| percentile_label(x))
            .collect();
        assert_eq!(got, ["p0", "p90", "p99", "p99.9", "p99.99", "p99.999"]);
        assert_eq!(percentile_label(f64::NAN), "");
        assert_eq!(percentile_label(0.5), "");
    }

    #[test]
    fn latency_chart_names_every_series_and_is_deterministic() {
        let mut a = Histogram::<u64>::new(3).unwrap();
        for v in [100u64, 200, 300, 40_000] {
            a.record(v).unwrap();
        }
        let empty = Histogram::<u64>::new(3).unwrap();
        let svg = latency_curve(&[("service, orders", &a), ("service, quotes", &empty)]);
        for w in [
            "Latency by percentile",
            "service, orders",
            "service, quotes",
            "p99.9",
        ] {
            assert!(svg.contains(&format!("\n{w}\n")), "{w} missing");
        }
        assert_eq!(
            svg,
            latency_curve(&[("service, orders", &a), ("service, quotes", &empty)])
        );
    }
}
