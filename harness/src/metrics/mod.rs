//! Execution-quality metrics of a retail run, computed from the internalizer's events.
//!
//! The economics are computed by feeding the generated stream, in its fixed order, to one
//! internalizer on one thread ([`simulate`], a runner composing small steps: see
//! `runner.rs`): the figures depend only on the scenario and the seed. The service time of each message is timed on the side with the TSC clock
//! (`quanta`) and kept apart ([`Latency`]); it is the only thing that varies between runs.
//!
//! Definitions (Rule 605 style; `D` = +1 for a buy, -1 for a sell, `M` = NBBO midpoint when
//! the order was received, `P` = fill price, all share-weighted):
//! - effective spread `2·D·(P − M)`; quoted spread `ask − bid` at receipt; E/Q their ratio;
//! - price improvement `D·(far quote − P)` (buy: ask − P), in cents per share; a share is
//!   *improved*, *at* or *outside* the quote by its sign;
//! - realized spread at horizon `h`: `2·D·(P − M(t+h))`, the part of the effective spread the
//!   liquidity provider keeps after the price has moved for `h`;
//! - internalized = filled by agency cross or by the wholesaler; routed = sent to the
//!   exchange (filled there or cancelled for lack of displayed depth).

use crate::market::{mid2, quote_index_at, QuoteAt};
use crate::retail::scenario::Scenario;
use crate::retail::{Flow, OrderClass, OrderInfo};
use flowmatch_core::Side;
use flowmatch_wholesaler::{self as wholesaler, FillKind, RouteReason};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

mod runner;
pub mod threaded;

pub use runner::{order_index, simulate, simulate_with};

/// Realized-spread and markout horizons, in seconds of simulated time.
pub const HORIZONS_S: [f64; 6] = [0.05, 1.0, 5.0, 15.0, 60.0, 300.0];

/// Dollars per tick-share.
const DOLLARS_PER_TICK: f64 = 1e-4;

/// Everything known about one customer order by the end of the run.
#[derive(Clone, Copy, Debug, Default)]
pub struct OrderOutcome {
    pub accepted: bool,
    pub rejected: bool,
    pub marketable: bool,
    pub agency: u64,
    pub principal: u64,
    pub exchange: u64,
    pub routed: u64,
    pub cancelled: u64,
    pub stp_cancelled: u64,
    pub first_fill_ts: Option<u64>,
    /// Quote at receipt (bid, ask) in ticks.
    pub bid: i64,
    pub ask: i64,
}

/// One customer fill, kept for horizon metrics.
#[derive(Clone, Copy, Debug)]
pub struct FillRec {
    pub ts: u64,
    pub order: usize,
    pub kind: FillKind,
    pub price: i64,
    pub qty: u64,
}

/// One wholesaler trade (principal fill or hedge), from the wholesaler's side.
#[derive(Clone, Copy, Debug)]
pub struct WTrade {
    pub ts: u64,
    /// +1 the wholesaler bought, -1 sold.
    pub dir: i64,
    pub price: i64,
    pub qty: u64,
    pub hedge: bool,
}

/// A sample of the wholesaler's state over time.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Sample {
    pub t_s: f64,
    pub inventory: i64,
    /// Mark-to-market trading P&L (dollars), before fees and payments.
    pub trading_pnl: f64,
    /// Net P&L after fees and payment for order flow (dollars).
    pub net_pnl: f64,
}

/// Latency of the internalizer's service per message (dequeue to last event), nanoseconds.
pub struct Latency {
    pub all: Histogram<u64>,
    pub orders: Histogram<u64>,
    pub quotes: Histogram<u64>,
}

impl Latency {
    fn new() -> Self {
        let h = crate::latency::hist::new_histogram;
        Latency {
            all: h(),
            orders: h(),
            quotes: h(),
        }
    }
}

/// The raw record of a run: the flow, each order's outcome, every fill, the wholesaler's
/// trades and state samples, and the events in order (for tests).
pub struct RunRecord {
    pub outcomes: Vec<OrderOutcome>,
    pub fills: Vec<FillRec>,
    pub wtrades: Vec<WTrade>,
    pub samples: Vec<Sample>,
    pub open_at_close: HashMap<u64, u64>,
    pub events: Option<Vec<(u64, wholesaler::Event)>>,
    pub stp_prevented: u64,
    pub rejects: BTreeMap<String, u64>,
    pub final_inventory: i64,
    pub final_cash_ticks: i128,
    pub max_abs_inventory: u64,
    pub routed_by_reason: BTreeMap<String, u64>,
    /// Routed shares the exchange did not fill, by cancel reason (`collar`, `no_liquidity`).
    pub routed_unfilled_by_reason: BTreeMap<String, u64>,
    pub hedged_shares: u64,
    pub exchange_shares: u64,
    /// Number and order-sensitive digest of every event, to compare with an engine run.
    pub event_count: u64,
    pub event_digest: u64,
}

/// The internal book's configuration for a scenario: storage sized to the flow, the
/// scenario's matching policy. Shared by the single-threaded and the threaded runs so
/// both run the same book.
pub fn book_config(scn: &Scenario, flow: &Flow) -> flowmatch_core::BookConfig {
    flowmatch_core::BookConfig {
        capacity: (flow.orders.len() / 2).clamp(1024, 1 << 20),
        policy: scn.wholesaler.matching.policy(),
        ..Default::default()
    }
}

pub fn route_name(r: RouteReason) -> &'static str {
    match r {
        RouteReason::Size => "size_over_autoex",
        RouteReason::WideQuote => "wide_quote",
        RouteReason::Inventory => "inventory_limit",
    }
}

/// Shares split by where they went.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Split {
    pub orders: u64,
    pub shares: u64,
    pub agency_shares: u64,
    pub principal_shares: u64,
    pub routed_shares: u64,
    pub routed_filled_shares: u64,
    /// Percent of shares internalized (agency + principal).
    pub internalized_pct: f64,
    /// Percent of orders entirely internalized.
    pub internalized_orders_pct: f64,
    pub fully_internalized_orders: u64,
}

impl Split {
    fn add(&mut self, info: &OrderInfo, o: &OrderOutcome) {
        self.orders += 1;
        self.shares += info.qty;
        self.agency_shares += o.agency;
        self.principal_shares += o.principal;
        self.routed_shares += o.routed;
        self.routed_filled_shares += o.exchange;
        if o.agency + o.principal == info.qty {
            self.fully_internalized_orders += 1;
        }
    }
    fn finish(&mut self) {
        self.internalized_pct = pct(self.agency_shares + self.principal_shares, self.shares);
        self.internalized_orders_pct = pct(self.fully_internalized_orders, self.orders);
    }
}

fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

/// Rule 605-style statistics over the marketable orders.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Rule605 {
    pub executed_shares: u64,
    pub avg_quoted_spread_cents: f64,
    pub avg_effective_spread_cents: f64,
    pub e_over_q: f64,
    /// E/Q over internalized (agency + principal) shares only.
    pub e_over_q_internalized: f64,
    pub price_improvement_cents_per_share: f64,
    pub pct_shares_improved: f64,
    pub pct_shares_at_quote: f64,
    pub pct_shares_outside_quote: f64,
    /// Realized spread (cents/share) at each horizon in [`HORIZONS_S`].
    pub realized_spread_cents: Vec<(String, f64)>,
    /// Price improvement histogram: (cents/share bucket lower edge, shares).
    pub improvement_histogram: Vec<(f64, u64)>,
    /// The same figures per fill kind (agency, principal, routed), so that a reader sees
    /// where the all-shares E/Q comes from: the all-shares E/Q is the quoted-spread-weighted
    /// mean of these (`Σ share_of_quoted · E/Q_kind`).
    pub by_kind: Vec<KindQuality>,
}

/// Execution quality of one fill kind within a Rule 605 group.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct KindQuality {
    /// `agency` (incoming order crossed with a resting customer order), `principal`
    /// (filled by the wholesaler) or `routed` (filled on the exchange).
    pub kind: String,
    pub executed_shares: u64,
    /// Percent of the group's executed shares.
    pub pct_of_shares: f64,
    /// Percent of the group's quoted-spread dollars (the weight of this kind in E/Q).
    pub pct_of_quoted: f64,
    pub avg_quoted_spread_cents: f64,
    pub e_over_q: f64,
    pub price_improvement_cents_per_share: f64,
    pub pct_shares_improved: f64,
    pub pct_shares_at_quote: f64,
    pub pct_shares_outside_quote: f64,
}

/// Non-marketable limit orders.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Limits {
    pub orders: u64,
    pub shares: u64,
    pub filled_shares: u64,
    /// Where the resting shares ended: crossed with an incoming customer order (agency),
    /// filled by the wholesaler when the NBBO moved through them, filled on the exchange
    /// (routed when the NBBO moved through them and the inventory was full), cancelled
    /// (by the customer, a replace or self-trade prevention), open at the close.
    pub agency_filled_shares: u64,
    pub wholesaler_filled_shares: u64,
    pub exchange_filled_shares: u64,
    pub cancelled_shares: u64,
    pub open_at_close_shares: u64,
    pub fill_rate_pct: f64,
    pub mean_time_to_first_fill_s: f64,
    pub median_time_to_first_fill_s: f64,
}

/// The wholesaler's profit and loss, dollars.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Pnl {
    /// Principal fills against the midpoint at the time: what the spread paid.
    pub spread_capture: f64,
    /// Crossing the spread to hedge (against the midpoint; negative).
    pub hedge_spread_cost: f64,
    /// Everything else of the mark-to-market: the inventory's exposure to price moves.
    pub inventory_pnl: f64,
    /// Markouts of principal fills at each horizon, dollars (negative: adverse selection).
    pub markouts: Vec<(String, f64)>,
    pub access_fees: f64,
    pub pfof_paid: f64,
    pub trading_pnl: f64,
    pub net_pnl: f64,
    pub final_inventory: i64,
    pub max_abs_inventory: u64,
    pub hedged_shares: u64,
}

/// The economic part of the report: a pure function of scenario and seed.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Economics {
    pub orders: u64,
    pub messages: u64,
    pub quote_updates: u64,
    pub marketable: Split,
    pub by_class: BTreeMap<String, Split>,
    pub by_broker: BTreeMap<String, Split>,
    pub routed_by_reason: BTreeMap<String, u64>,
    /// Routed shares left unfilled, by reason: `collar` (the price collar stopped the
    /// order short of displayed depth) or `no_liquidity` (displayed depth within the
    /// customer's limit ran out).
    pub routed_unfilled_by_reason: BTreeMap<String, u64>,
    pub rule605: Rule605,
    pub rule605_by_class: BTreeMap<String, Rule605>,
    pub nonmarketable_limits: Limits,
    pub pfof_by_broker: BTreeMap<String, f64>,
    pub pfof_cents_per_100_shares: f64,
    pub pnl: Pnl,
    pub self_trades_prevented: u64,
    pub rejects: BTreeMap<String, u64>,
    pub conservation: Conservation,
    pub samples: Vec<Sample>,
}

/// Share accounting over every accepted order: what came in and where it ended.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Conservation {
    pub shares_in: u64,
    pub filled_internally: u64,
    pub filled_on_exchange: u64,
    pub cancelled: u64,
    pub open_at_close: u64,
    /// `shares_in` minus the four above: must be 0.
    pub unaccounted: i64,
}

/// Mid (ticks, as f64) at time `ts`.
fn mid_at(quotes: &[QuoteAt], ts: u64) -> f64 {
    mid2(&quotes[quote_index_at(quotes, ts)].quote) as f64 / 2.0
}

fn r605(flow: &Flow, rec: &RunRecord, pick: &dyn Fn(&OrderInfo) -> bool) -> Rule605 {
    let mut r = Rule605::default();
    let (mut eff, mut quoted, mut pi) = (0.0, 0.0, 0.0);
    let (mut eff_i, mut quoted_i) = (0.0, 0.0);
    let (mut imp, mut at, mut out) = (0u64, 0u64, 0u64);
    let mut real = [0.0f64; HORIZONS_S.len()];
    // PI histogram buckets of 0.1 cent from -2 to +3 cents (the end ones open-ended).
    let mut hist = vec![0u64; 50];
    // Per kind (agency taker, principal, exchange): shares, eff, quoted, PI, improved, at, out.
    let mut kinds = [(0u64, 0.0f64, 0.0f64, 0.0f64, 0u64, 0u64, 0u64); 3];
    for f in &rec.fills {
        if f.kind == FillKind::AgencyMaker {
            continue; // the maker was non-marketable when it arrived
        }
        let info = &flow.orders[f.order];
        let o = &rec.outcomes[f.order];
        if !o.marketable || !pick(info) {
            continue;
        }
        let d = if info.side == Side::Buy { 1.0 } else { -1.0 };
        let m = (o.bid as f64 + o.ask as f64) / 2.0;
        let q = f.qty as f64;
        let p = f.price as f64;
        let far = if info.side == Side::Buy { o.ask } else { o.bid } as f64;
        let e = 2.0 * d * (p - m) * q;
        let s = (o.ask - o.bid) as f64 * q;
        eff += e;
        quoted += s;
        if f.kind != FillKind::Exchange {
            eff_i += e;
            quoted_i += s;
        }
        let improvement = d * (far - p); // ticks per share
        pi += improvement * q;
        let k = &mut kinds[match f.kind {
            FillKind::Principal => 1,
            FillKind::Exchange => 2,
            _ => 0,
        }];
        k.0 += f.qty;
        k.1 += e;
        k.2 += s;
        k.3 += improvement * q;
        if improvement > 0.0 {
            k.4 += f.qty;
        } else if improvement == 0.0 {
            k.5 += f.qty;
        } else {
            k.6 += f.qty;
        }
        if improvement > 0.0 {
            imp += f.qty;
        } else if improvement == 0.0 {
            at += f.qty;
        } else {
            out += f.qty;
        }
        let improvement_ticks = match info.side {
            Side::Buy => i128::from(o.ask) - i128::from(f.price),
            Side::Sell => i128::from(f.price) - i128::from(o.bid),
        };
        let b = improvement_bin(improvement_ticks);
        hist[b] += f.qty;
        for (k, h) in HORIZONS_S.iter().enumerate() {
            let mh = mid_at(&flow.quotes, f.ts + (h * 1e9) as u64);
            real[k] += 2.0 * d * (p - mh) * q;
        }
        r.executed_shares += f.qty;
    }
    let n = r.executed_shares.max(1) as f64;
    // ticks -> cents: /100
    r.avg_quoted_spread_cents = quoted / n / 100.0;
    r.avg_effective_spread_cents = eff / n / 100.0;
    r.e_over_q = if quoted > 0.0 { eff / quoted } else { 0.0 };
    r.e_over_q_internalized = if quoted_i > 0.0 {
        eff_i / quoted_i
    } else {
        0.0
    };
    r.price_improvement_cents_per_share = pi / n / 100.0;
    r.pct_shares_improved = pct(imp, r.executed_shares);
    r.pct_shares_at_quote = pct(at, r.executed_shares);
    r.pct_shares_outside_quote = pct(out, r.executed_shares);
    r.realized_spread_cents = HORIZONS_S
        .iter()
        .zip(real)
        .map(|(h, v)| (horizon_name(*h), v / n / 100.0))
        .collect();
    r.improvement_histogram = hist
        .iter()
        .enumerate()
        .map(|(i, s)| (round6(i as f64 / 10.0 - 2.0), *s))
        .collect();
    r.by_kind = ["agency", "principal", "routed"]
        .iter()
        .zip(kinds)
        .map(|(name, (n, e, s, pi, imp, at, out))| {
            let nf = n.max(1) as f64;
            KindQuality {
                kind: name.to_string(),
                executed_shares: n,
                pct_of_shares: pct(n, r.executed_shares),
                pct_of_quoted: if quoted > 0.0 {
                    100.0 * s / quoted
                } else {
                    0.0
                },
                avg_quoted_spread_cents: s / nf / 100.0,
                e_over_q: if s > 0.0 { e / s } else { 0.0 },
                price_improvement_cents_per_share: pi / nf / 100.0,
                pct_shares_improved: pct(imp, n),
                pct_shares_at_quote: pct(at, n),
                pct_shares_outside_quote: pct(out, n),
            }
        })
        .collect();
    r
}

pub fn horizon_name(h: f64) -> String {
    if h < 1.0 {
        format!("{}ms", (h * 1000.0).round())
    } else if h < 60.0 {
        format!("{}s", h)
    } else {
        format!("{}min", h / 60.0)
    }
}

/// Round to 6 decimals so that the JSON is stable and readable.
pub fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// Compute the economics from a run record.
pub fn economics(scn: &Scenario, flow: &Flow, rec: &RunRecord) -> Economics {
    let mut ec = Economics {
        orders: flow.orders.len() as u64,
        messages: flow.stream.len() as u64,
        quote_updates: flow.quotes.len() as u64,
        ..Default::default()
    };
    let broker_name = |b: u16| scn.retail.brokers[(b - 1) as usize].name.clone();
    let mut lim = Limits::default();
    let mut ttf: Vec<f64> = Vec::new();
    let mut cons = Conservation::default();
    for (info, o) in flow.orders.iter().zip(&rec.outcomes) {
        if !o.accepted {
            continue;
        }
        cons.shares_in += info.qty;
        cons.filled_internally += o.agency + o.principal;
        cons.filled_on_exchange += o.exchange;
        cons.cancelled += o.cancelled;
        cons.open_at_close += rec.open_at_close.get(&info.id).copied().unwrap_or(0);
        if o.marketable {
            ec.marketable.add(info, o);
            ec.by_class
                .entry(info.class.name().into())
                .or_default()
                .add(info, o);
            ec.by_broker
                .entry(broker_name(info.broker))
                .or_default()
                .add(info, o);
        } else {
            lim.orders += 1;
            lim.shares += info.qty;
            lim.filled_shares += o.agency + o.principal + o.exchange;
            lim.agency_filled_shares += o.agency;
            lim.wholesaler_filled_shares += o.principal;
            lim.exchange_filled_shares += o.exchange;
            lim.cancelled_shares += o.cancelled;
            lim.open_at_close_shares += rec.open_at_close.get(&info.id).copied().unwrap_or(0);
            if let Some(t) = o.first_fill_ts {
                ttf.push((t - info.ts) as f64 / 1e9);
            }
        }
    }
    cons.unaccounted = cons.shares_in as i64
        - (cons.filled_internally + cons.filled_on_exchange + cons.cancelled + cons.open_at_close)
            as i64;
    ec.conservation = cons;
    ec.marketable.finish();
    for s in ec.by_class.values_mut().chain(ec.by_broker.values_mut()) {
        s.finish();
    }
    lim.fill_rate_pct = pct(lim.filled_shares, lim.shares);
    if !ttf.is_empty() {
        lim.mean_time_to_first_fill_s = round6(ttf.iter().sum::<f64>() / ttf.len() as f64);
        ttf.sort_by(|a, b| a.total_cmp(b));
        lim.median_time_to_first_fill_s = round6(ttf[ttf.len() / 2]);
    }
    ec.nonmarketable_limits = lim;
    ec.routed_by_reason = rec.routed_by_reason.clone();
    ec.routed_unfilled_by_reason = rec.routed_unfilled_by_reason.clone();
    ec.rule605 = r605(flow, rec, &|_| true);
    for c in OrderClass::ALL {
        let r = r605(flow, rec, &|i: &OrderInfo| i.class == c);
        if r.executed_shares > 0 {
            ec.rule605_by_class.insert(c.name().into(), r);
        }
    }

    // Payment for order flow: per broker rate on executed shares of marketable orders.
    let mut pfof_total = 0.0;
    let mut pfof_shares = 0u64;
    for (i, b) in scn.retail.brokers.iter().enumerate() {
        let broker = (i + 1) as u16;
        let mut shares = 0u64;
        for f in &rec.fills {
            if f.kind != FillKind::AgencyMaker
                && flow.orders[f.order].broker == broker
                && rec.outcomes[f.order].marketable
            {
                shares += f.qty;
            }
        }
        let paid = b.pfof_cents_per_100 / 100.0 * shares as f64 / 100.0;
        pfof_total += paid;
        pfof_shares += shares;
        ec.pfof_by_broker.insert(b.name.clone(), round6(paid));
    }
    ec.pfof_cents_per_100_shares = if pfof_shares > 0 {
        pfof_total * 100.0 / pfof_shares as f64 * 100.0
    } else {
        0.0
    };

    // Wholesaler P&L.
    let mut pnl = Pnl::default();
    let mut marks = [0.0f64; HORIZONS_S.len()];
    for t in &rec.wtrades {
        let m = mid_at(&flow.quotes, t.ts);
        let dir = t.dir as f64;
        let q = t.qty as f64;
        // Buying below the mid (or selling above it) earns the difference.
        let capture = dir * (m - t.price as f64) * q * DOLLARS_PER_TICK;
        if t.hedge {
            pnl.hedge_spread_cost += capture;
        } else {
            pnl.spread_capture += capture;
            for (k, h) in HORIZONS_S.iter().enumerate() {
                let mh = mid_at(&flow.quotes, t.ts + (h * 1e9) as u64);
                marks[k] += dir * (mh - m) * q * DOLLARS_PER_TICK;
            }
        }
    }
    let end_mid = mid2(&flow.quotes[flow.quotes.len() - 1].quote) as f64 / 2.0;
    pnl.trading_pnl =
        (rec.final_cash_ticks as f64 + rec.final_inventory as f64 * end_mid) * DOLLARS_PER_TICK;
    pnl.inventory_pnl = pnl.trading_pnl - pnl.spread_capture - pnl.hedge_spread_cost;
    pnl.markouts = HORIZONS_S
        .iter()
        .zip(marks)
        .map(|(h, v)| (horizon_name(*h), round6(v)))
        .collect();
    pnl.access_fees = scn.market.fee_ticks() as f64
        * DOLLARS_PER_TICK
        * (rec.exchange_shares + rec.hedged_shares) as f64;
    pnl.pfof_paid = pfof_total;
    pnl.net_pnl = pnl.trading_pnl - pnl.access_fees - pnl.pfof_paid;
    pnl.final_inventory = rec.final_inventory;
    pnl.max_abs_inventory = rec.max_abs_inventory;
    pnl.hedged_shares = rec.hedged_shares;
    ec.pnl = pnl;
    ec.self_trades_prevented = rec.stp_prevented;
    ec.rejects = rec.rejects.clone();
    ec.samples = rec.samples.clone();
    ec.round();
    ec
}

impl Economics {
    /// Round every float to 6 decimals (stable JSON).
    fn round(&mut self) {
        fn split(s: &mut Split) {
            s.internalized_pct = round6(s.internalized_pct);
            s.internalized_orders_pct = round6(s.internalized_orders_pct);
        }
        fn r(x: &mut Rule605) {
            for v in [
                &mut x.avg_quoted_spread_cents,
                &mut x.avg_effective_spread_cents,
                &mut x.e_over_q,
                &mut x.e_over_q_internalized,
                &mut x.price_improvement_cents_per_share,
                &mut x.pct_shares_improved,
                &mut x.pct_shares_at_quote,
                &mut x.pct_shares_outside_quote,
            ] {
                *v = round6(*v);
            }
            for (_, v) in &mut x.realized_spread_cents {
                *v = round6(*v);
            }
            for k in &mut x.by_kind {
                for v in [
                    &mut k.pct_of_shares,
                    &mut k.pct_of_quoted,
                    &mut k.avg_quoted_spread_cents,
                    &mut k.e_over_q,
                    &mut k.price_improvement_cents_per_share,
                    &mut k.pct_shares_improved,
                    &mut k.pct_shares_at_quote,
                    &mut k.pct_shares_outside_quote,
                ] {
                    *v = round6(*v);
                }
            }
        }
        split(&mut self.marketable);
        self.by_class.values_mut().for_each(split);
        self.by_broker.values_mut().for_each(split);
        r(&mut self.rule605);
        self.rule605_by_class.values_mut().for_each(r);
        self.nonmarketable_limits.fill_rate_pct = round6(self.nonmarketable_limits.fill_rate_pct);
        self.pfof_cents_per_100_shares = round6(self.pfof_cents_per_100_shares);
        let p = &mut self.pnl;
        for v in [
            &mut p.spread_capture,
            &mut p.hedge_spread_cost,
            &mut p.inventory_pnl,
            &mut p.access_fees,
            &mut p.pfof_paid,
            &mut p.trading_pnl,
            &mut p.net_pnl,
        ] {
            *v = round6(*v);
        }
        for s in &mut self.samples {
            s.t_s = round6(s.t_s);
            s.trading_pnl = round6(s.trading_pnl);
            s.net_pnl = round6(s.net_pnl);
        }
    }
}

/// The price-improvement histogram's bin for an improvement of `ticks` ($0.0001) per
/// share: 50 bins of 0.1 cent (10 ticks) from -2 cents, the two end bins open-ended.
/// Integer arithmetic: in floating point `0.3 + 2.0` is `2.2999…`, so an exact 0.3-cent
/// improvement used to land one bin low (and a 3-cent one on the chart's frame).
fn improvement_bin(ticks: i128) -> usize {
    (ticks + 200).div_euclid(10).clamp(0, 49) as usize
}

#[cfg(test)]
mod bin_tests {
    #[test]
    fn improvement_bins_are_exact_in_ticks() {
        // Hand-checked: bin k holds [k/10 - 2, (k+1)/10 - 2) cents.
        assert_eq!(super::improvement_bin(0), 20);
        assert_eq!(super::improvement_bin(30), 23); // 0.3 cent
        assert_eq!(super::improvement_bin(50), 25); // 0.5 cent
        assert_eq!(super::improvement_bin(29), 22);
        assert_eq!(super::improvement_bin(-1), 19);
        assert_eq!(super::improvement_bin(-200), 0);
        assert_eq!(super::improvement_bin(-10_000), 0);
        assert_eq!(super::improvement_bin(290), 49); // 2.9 cents
        assert_eq!(super::improvement_bin(300), 49); // 3 cents: the open top bin
    }
}
