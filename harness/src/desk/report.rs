//! The `crude-2020` report: `report.json` (the scenario, the cited facts and both roll
//! schedules' results), `report.md` (the same side by side, for people) and four SVG
//! charts drawn with [`crate::chart`]. Every number is computed from the runs; the only
//! figures not from the runs are the cited historical facts in [`SOURCES`].
//! Deterministic: nothing here reads a clock, a path or the machine.

use super::scenario::DeskScenario;
use super::sim::RunResult;
use crate::chart::{self, BarChart, LineChart, Series};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// A historical fact the scenario rests on, and where it is published.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Source {
    /// The fact, in our words.
    pub fact: &'static str,
    /// Where it is published.
    pub url: &'static str,
}

/// The facts the `crude-2020` preset uses, with their sources.
pub const SOURCES: [Source; 5] = [
    Source {
        fact: "NYMEX WTI crude oil futures for May 2020 delivery settled at -$37.63 a barrel on \
               Monday 2020-04-20, the first negative settlement of the contract, and expired \
               the next day, 2020-04-21, at $10.01.",
        url: "https://ca.advfn.com/stock-market/NASDAQ/CME/stock-news/82280501/negative-oil-prices-pose-headache-for-futures-gian",
    },
    Source {
        fact: "On 2020-04-08 CME Clearing issued advisory 20-152 saying it had a tested plan for \
               energy prices falling to zero or below, so its systems would accept negative \
               prices.",
        url: "https://www.cmegroup.com/notices/clearing/2020/04/Chadv20-152.html",
    },
    Source {
        fact: "Bank of China's retail product Yuan You Bao (\"crude oil treasure\") settled its \
               clients' WTI-linked positions at the 2020-04-20 settlement of -$37.63; clients \
               complained that peers moved positions a week or ten days before the last \
               trading day, while Bank of China did it the day before.",
        url: "https://asiatimes.com/2020/04/losses-for-chinese-investors-in-oil-price-futures/",
    },
    Source {
        fact: "Caixin reported more than 60,000 Yuan You Bao clients, who lost their margin \
               deposits of about 4.2 billion yuan and owed the bank about 5.8 billion yuan more.",
        url: "https://www.taipeitimes.com/News/biz/archives/2020/04/27/2003735352",
    },
    Source {
        fact: "The CFTC's staff published an interim report on trading in the NYMEX WTI contract \
               around 2020-04-20 on 2020-11-23.",
        url: "https://www.lexblog.com/2020/12/04/cftc-staff-publishes-interim-report-on-nymex-wti-crude-contract/",
    },
];

/// Figures derived from one run for the report. Money in cents.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The run's schedule label.
    pub schedule: &'static str,
    /// Contract-equivalents clients traded (barrels / contract size), flow.
    pub client_contract_equivalents: f64,
    /// The same for the client roll (closed plus reopened).
    pub client_roll_contract_equivalents: f64,
    /// Exchange fees had every client barrel been hedged one for one (flow and roll).
    pub fees_without_netting: i64,
    /// Fees netting saved: `fees_without_netting - desk_fees`.
    pub fees_saved: i64,
    /// Exchange contracts netting saved: client equivalents less what the desk traded.
    pub contracts_saved: f64,
    /// Client P&L: lowest, percentiles 1, 10, 50, 90, 99, highest, total.
    pub client_pnl_quantiles: [i64; 7],
    /// Sum of client P&L.
    pub client_pnl_total: i64,
    /// Clients with a gain.
    pub winners: usize,
    /// Clients with a loss.
    pub losers: usize,
    /// The run itself.
    pub run: RunResult,
}

fn quantile(sorted: &[i64], pct: usize) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[(sorted.len() - 1) * pct / 100]
}

impl Summary {
    /// Summarize a run.
    pub fn of(s: &DeskScenario, schedule: &'static str, run: RunResult) -> Summary {
        let size = s.contract_size as f64;
        let fee = s.exchange_fee_cents as i128;
        let barrels = (run.client_barrels + run.client_roll_barrels) as i128;
        let fees_without = (barrels * fee / s.contract_size as i128) as i64;
        let mut sorted = run.client_pnl.clone();
        sorted.sort_unstable();
        let q = [0, 1, 10, 50, 90, 99, 100].map(|p| quantile(&sorted, p));
        let traded = (run.hedge_contracts_flow + run.hedge_contracts_roll) as f64;
        Summary {
            schedule,
            client_contract_equivalents: run.client_barrels as f64 / size,
            client_roll_contract_equivalents: run.client_roll_barrels as f64 / size,
            fees_without_netting: fees_without,
            fees_saved: fees_without - run.desk_fees,
            contracts_saved: barrels as f64 / size - traded,
            client_pnl_quantiles: q,
            client_pnl_total: sorted.iter().sum(),
            winners: sorted.iter().filter(|p| **p > 0).count(),
            losers: sorted.iter().filter(|p| **p < 0).count(),
            run,
        }
    }
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The scenario as run.
    pub scenario: DeskScenario,
    /// Historical facts and their sources.
    pub sources: Vec<Source>,
    /// The schedule under test (late roll).
    pub late: Summary,
    /// The comparison (early roll).
    pub early: Summary,
}

/// `-$1,234.56` from cents.
pub fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let whole = (c / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}${grouped}.{:02}", c % 100)
}

fn price(cents: i64) -> String {
    dollars(cents)
}

/// The Markdown report.
pub fn markdown(r: &Report) -> String {
    let s = &r.scenario;
    let (l, e) = (&r.late, &r.early);
    let mut m = String::new();
    let _ = writeln!(
        m,
        "# crude-2020: a netting desk through a negative settlement\n"
    );
    let _ = writeln!(
        m,
        "{} clients send {} orders over {} trading days ({} to {}) to a desk that crosses them \
         at its price (the exchange mid) and hedges only its net in whole {}-barrel contracts \
         on a simulated futures exchange (a flowmatch book per contract, liquidity providers \
         refreshing a {}-level ladder {} times a day, thinning over the front month's last {} \
         days and draining by {}% into the close of its last two). Clients are margined at \
         {}% of notional and settled daily. The front month falls through zero to the \
         published settlement of {} on 2020-04-20. The same month is run with the desk \
         rolling **{} trading day(s)** before the last trading day (late, as Bank of China \
         did) and **{}** (early, as its peers did). Seed {}.\n",
        s.clients,
        s.orders,
        s.days(),
        s.dates[1],
        s.dates[s.days()],
        s.contract_size,
        s.maker_levels,
        s.steps_per_day,
        s.thin_days,
        s.close_dryup_pct,
        s.margin_pct,
        price(super::scenario::NEGATIVE_SETTLE),
        s.roll_days_before,
        s.early_roll_days_before,
        s.seed
    );
    let _ = writeln!(
        m,
        "Prices other than the two published settlements (2020-04-20 and 2020-04-21) are a \
         synthetic seeded path, not history. Every figure below is counted from the runs.\n"
    );
    let _ = writeln!(m, "| | late roll | early roll |\n|---|---:|---:|");
    let mut row = |name: &str, a: String, b: String| {
        let _ = writeln!(m, "| {name} | {a} | {b} |");
    };
    row(
        "roll date",
        l.run.roll_date.clone(),
        e.run.roll_date.clone(),
    );
    row(
        "clients rolled out at (front settlement)",
        price(l.run.roll_front_settle),
        price(e.run.roll_front_settle),
    );
    row(
        "rolled into (next-month settlement)",
        price(l.run.roll_next_settle),
        price(e.run.roll_next_settle),
    );
    row(
        "client orders filled / refused for margin",
        format!("{} / {}", l.run.client_fills, l.run.client_margin_rejects),
        format!("{} / {}", e.run.client_fills, e.run.client_margin_rejects),
    );
    row(
        "client volume, contract-equivalents (flow + roll)",
        format!(
            "{:.1} + {:.1}",
            l.client_contract_equivalents, l.client_roll_contract_equivalents
        ),
        format!(
            "{:.1} + {:.1}",
            e.client_contract_equivalents, e.client_roll_contract_equivalents
        ),
    );
    row(
        "desk exchange volume, contracts (flow + roll)",
        format!(
            "{} + {}",
            l.run.hedge_contracts_flow, l.run.hedge_contracts_roll
        ),
        format!(
            "{} + {}",
            e.run.hedge_contracts_flow, e.run.hedge_contracts_roll
        ),
    );
    row(
        "exchange contracts saved by netting",
        format!("{:.1}", l.contracts_saved),
        format!("{:.1}", e.contracts_saved),
    );
    row(
        "exchange fees without netting / paid / saved",
        format!(
            "{} / {} / {}",
            dollars(l.fees_without_netting),
            dollars(l.run.desk_fees),
            dollars(l.fees_saved)
        ),
        format!(
            "{} / {} / {}",
            dollars(e.fees_without_netting),
            dollars(e.run.desk_fees),
            dollars(e.fees_saved)
        ),
    );
    row(
        "hedge slippage vs mid: flow / roll window",
        format!(
            "{} / {}",
            dollars(l.run.slippage_flow),
            dollars(l.run.slippage_roll)
        ),
        format!(
            "{} / {}",
            dollars(e.run.slippage_flow),
            dollars(e.run.slippage_roll)
        ),
    );
    row(
        "desk's front-month roll sales above the clients' roll price",
        dollars(l.run.roll_vs_settlement),
        dollars(e.run.roll_vs_settlement),
    );
    row(
        "largest hedge shortfall the book's depth left, contracts",
        l.run.max_unhedged_contracts.to_string(),
        e.run.max_unhedged_contracts.to_string(),
    );
    row(
        "front-month hedge still held at the roll day's close, contracts",
        l.run.hedge_left_on_roll_day.to_string(),
        e.run.hedge_left_on_roll_day.to_string(),
    );
    row(
        "clients rolled / closed out at the roll",
        format!("{} / {}", l.run.clients_rolled, l.run.clients_closed_out),
        format!("{} / {}", e.run.clients_rolled, e.run.clients_closed_out),
    );
    row(
        "client P&L total",
        dollars(l.client_pnl_total),
        dollars(e.client_pnl_total),
    );
    row(
        "clients with a gain / a loss",
        format!("{} / {}", l.winners, l.losers),
        format!("{} / {}", e.winners, e.losers),
    );
    for (i, name) in ["min", "p1", "p10", "p50", "p90", "p99", "max"]
        .iter()
        .enumerate()
    {
        row(
            &format!("client P&L {name}"),
            dollars(l.client_pnl_quantiles[i]),
            dollars(e.client_pnl_quantiles[i]),
        );
    }
    row(
        "**accounts below zero**",
        format!("**{}**", l.run.accounts_below_zero),
        format!("**{}**", e.run.accounts_below_zero),
    );
    row(
        "**what they owe the desk**",
        format!("**{}**", dollars(l.run.owed)),
        format!("**{}**", dollars(e.run.owed)),
    );
    row(
        "desk P&L (client side + hedge)",
        format!(
            "{} ({} + {})",
            dollars(l.run.desk_pnl),
            dollars(l.run.desk_client_side_pnl),
            dollars(l.run.desk_hedge_pnl)
        ),
        format!(
            "{} ({} + {})",
            dollars(e.run.desk_pnl),
            dollars(e.run.desk_client_side_pnl),
            dollars(e.run.desk_hedge_pnl)
        ),
    );
    row(
        "liquidity providers' P&L",
        dollars(l.run.makers_pnl),
        dollars(e.run.makers_pnl),
    );
    row(
        "exchange fees collected",
        dollars(l.run.exchange_fees),
        dollars(e.run.exchange_fees),
    );
    row(
        "clients + desk + providers + exchange",
        dollars(l.run.conservation_total),
        dollars(e.run.conservation_total),
    );
    let _ = writeln!(
        m,
        "\nThe owed amount is money the desk cannot collect from its margin accounts: it \
         carries it as a claim on its clients (its P&L above counts it in full). P&L is \
         conserved to the cent in both runs: the run asserts that the parties' P&L sums to \
         zero and that every account's margin balance (daily variation margin) agrees with \
         its trade cash flows marked at the last settlements.\n"
    );
    let _ = writeln!(
        m,
        "Charts: `path.svg` (settlements), `depth.svg` (front-month depth at each close), \
         `pnl.svg` (client P&L distribution, both schedules), `netting.svg` (exchange volume \
         with and without netting).\n"
    );
    let _ = writeln!(m, "## Day by day (late roll)\n");
    let _ = writeln!(
        m,
        "| date | front settle | next settle | front depth | client net front, bbl | client net next, bbl | hedge front | hedge next | accounts < 0 |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for d in &l.run.days {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            d.date,
            price(d.front_settle),
            price(d.next_settle),
            d.front_depth,
            d.client_front,
            d.client_next,
            d.hedge_front,
            d.hedge_next,
            d.accounts_below_zero
        );
    }
    let _ = writeln!(m, "\n## Sources\n");
    for src in &r.sources {
        let _ = writeln!(m, "- {} <{}>", src.fact, src.url);
    }
    m
}

fn dollar_axis(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    format!("{v:.0}")
}

/// The charts, as `(file name, SVG)`.
pub fn charts(r: &Report) -> Vec<(&'static str, String)> {
    let (l, e) = (&r.late, &r.early);
    let day_series = |name: &str, f: &dyn Fn(&super::sim::DayRow) -> f64| Series {
        name: name.to_string(),
        points: l
            .run
            .days
            .iter()
            .enumerate()
            .map(|(i, d)| ((i + 1) as f64, f(d)))
            .collect(),
        secondary: false,
    };
    let paths = [
        day_series("front month (May)", &|d| d.front_settle as f64 / 100.0),
        day_series("next month (June)", &|d| d.next_settle as f64 / 100.0),
    ];
    let path_note = format!(
        "Late roll on {}, early roll on {}. Settlements other than 2020-04-20 and 2020-04-21 are synthetic.",
        l.run.roll_date, e.run.roll_date
    );
    let path = LineChart {
        title: "crude-2020: daily settlements, $ per barrel",
        x_label: "trading day",
        y_label: "$ / bbl",
        series: &paths,
        y_fmt: Some(dollar_axis),
        note: &path_note,
        ..LineChart::default()
    };
    let depths = [
        day_series("front month", &|d| d.front_depth as f64),
        day_series("next month", &|d| d.next_depth as f64),
    ];
    let depth = LineChart {
        title: "Exchange depth at each close, contracts (both sides)",
        x_label: "trading day",
        y_label: "contracts",
        series: &depths,
        note: "The front month thins into expiry and drains into the close of its last two days.",
        ..LineChart::default()
    };
    let buckets: [(i64, &str); 8] = [
        (-5_000_000, "< -$50k"),
        (-1_000_000, "-$50k..-$10k"),
        (-100_000, "-$10k..-$1k"),
        (0, "-$1k..0"),
        (1, "0"),
        (100_000, "0..$1k"),
        (1_000_000, "$1k..$10k"),
        (i64::MAX, "> $10k"),
    ];
    let count = |pnl: &[i64]| -> Vec<f64> {
        let mut c = vec![0f64; buckets.len()];
        for p in pnl {
            let i = buckets
                .iter()
                .position(|(hi, _)| *p < *hi)
                .unwrap_or(buckets.len() - 1);
            c[i] += 1.0;
        }
        c
    };
    let groups: Vec<String> = buckets.iter().map(|(_, n)| n.to_string()).collect();
    let pnl_series = [
        (
            format!("late roll ({})", l.run.roll_date),
            count(&l.run.client_pnl),
        ),
        (
            format!("early roll ({})", e.run.roll_date),
            count(&e.run.client_pnl),
        ),
    ];
    let pnl = BarChart {
        title: "Client P&L distribution, clients per bucket",
        x_label: "client P&L over the month",
        y_label: "clients",
        groups: &groups,
        series: &pnl_series,
        value_labels: Some(chart::num),
        ..BarChart::default()
    };
    let vol_groups = vec![
        format!("late roll ({})", l.run.roll_date),
        format!("early roll ({})", e.run.roll_date),
    ];
    let vol_series = [
        (
            "client volume, contract-equivalents".to_string(),
            vec![
                l.client_contract_equivalents + l.client_roll_contract_equivalents,
                e.client_contract_equivalents + e.client_roll_contract_equivalents,
            ],
        ),
        (
            "desk's exchange volume, contracts".to_string(),
            vec![
                (l.run.hedge_contracts_flow + l.run.hedge_contracts_roll) as f64,
                (e.run.hedge_contracts_flow + e.run.hedge_contracts_roll) as f64,
            ],
        ),
    ];
    let netting = BarChart {
        title: "Exchange volume with and without internal netting",
        x_label: "roll schedule",
        y_label: "contracts",
        groups: &vol_groups,
        series: &vol_series,
        value_labels: Some(chart::num),
        ..BarChart::default()
    };
    vec![
        ("path.svg", path.svg()),
        ("depth.svg", depth.svg()),
        ("pnl.svg", pnl.svg()),
        ("netting.svg", netting.svg()),
    ]
}

/// The files [`write_all`] writes.
pub const FILES: [&str; 6] = [
    "report.json",
    "report.md",
    "path.svg",
    "depth.svg",
    "pnl.svg",
    "netting.svg",
];

/// Write the report into `dir` (created if missing); returns the file names.
pub fn write_all(dir: &Path, r: &Report) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(r).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("report.json"), json + "\n")?;
    std::fs::write(dir.join("report.md"), markdown(r))?;
    for (name, svg) in charts(r) {
        std::fs::write(dir.join(name), svg)?;
    }
    Ok(FILES.iter().map(|f| f.to_string()).collect())
}
