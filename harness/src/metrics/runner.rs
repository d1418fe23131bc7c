//! The single-threaded run behind the economics: feed the generated stream, in its fixed
//! order, to one internalizer and record what happened. [`simulate_with`] is a loop that
//! composes four small steps, each owning one concern:
//!
//! - [`ServiceTimer`]: the TSC-timed service of each message (the only thing that varies
//!   between runs; kept apart in [`Latency`]);
//! - [`StateSampler`]: the wholesaler's inventory and P&L at fixed simulated-time steps;
//! - [`Ledger`]: access fees and payment for order flow as they accrue (what the samples'
//!   net P&L subtracts);
//! - [`EventFold`]: each event folded into the order outcomes, fills, wholesaler trades and
//!   counters of the [`RunRecord`].
//!
//! The order of every floating-point accumulation is the stream's, so the record is a pure
//! function of scenario and seed.

use super::threaded::Digest;
use super::{
    route_name, FillRec, Latency, OrderOutcome, RunRecord, Sample, WTrade, DOLLARS_PER_TICK,
};
use crate::market::{mid2, SimExchange};
use crate::retail::scenario::Scenario;
use crate::retail::{Flow, Timed};
use flowmatch_core::{FastBook, OrderBook, Side};
use flowmatch_wholesaler::{self as wholesaler, FillKind, Internalizer, Msg, Quote};
use std::collections::{BTreeMap, HashMap};

/// Collects the events of one message (pre-sized buffer, cleared per message).
struct Buf(Vec<wholesaler::Event>);
impl flowmatch_core::Sink<wholesaler::Event> for Buf {
    #[inline]
    fn event(&mut self, e: wholesaler::Event) {
        self.0.push(e);
    }
}

/// Feed `flow` to a fresh internalizer (fast book, simulated exchange) in stream order.
/// `keep_events` stores every event with its time (tests). `progress` is called every
/// 64 Ki messages with the count done.
pub fn simulate(
    scn: &Scenario,
    flow: &Flow,
    keep_events: bool,
    mut progress: impl FnMut(u64),
) -> (RunRecord, Latency) {
    let index = order_index(flow);
    let book = FastBook::new(super::book_config(scn, flow));
    let exch = SimExchange::new(&scn.market);
    let mut ix = Internalizer::new(scn.wholesaler.to_config(), book, exch);
    simulate_with(scn, flow, &index, &mut ix, keep_events, &mut progress)
}

/// Order id to its position in `flow.orders`.
pub fn order_index(flow: &Flow) -> HashMap<u64, usize> {
    flow.orders
        .iter()
        .enumerate()
        .map(|(i, o)| (o.id, i))
        .collect()
}

/// As [`simulate`], with a caller-chosen internalizer (e.g. over the reference book).
pub fn simulate_with<B: OrderBook>(
    scn: &Scenario,
    flow: &Flow,
    index: &HashMap<u64, usize>,
    ix: &mut Internalizer<B, SimExchange>,
    keep_events: bool,
    progress: &mut dyn FnMut(u64),
) -> (RunRecord, Latency) {
    let mut timer = ServiceTimer::new();
    let mut sampler = StateSampler::new(scn);
    let mut ledger = Ledger::new(scn);
    let mut fold = EventFold::new(flow, index, keep_events);
    let mut buf = Buf(Vec::with_capacity(4096));
    for (n, m) in flow.stream.iter().enumerate() {
        if n & 0xFFFF == 0 {
            progress(n as u64);
        }
        sampler.before(m, ix, &ledger);
        let quote_at_receipt = ix.quote();
        buf.0.clear();
        timer.time(&m.msg, || ix.on_message(&m.msg, &mut buf));
        fold.inventory(ix.inventory());
        for e in &buf.0 {
            fold.event(m, quote_at_receipt, e, &mut ledger);
        }
    }
    sampler.close(scn, ix, &ledger);
    progress(flow.stream.len() as u64);
    let mut open_at_close = HashMap::new();
    ix.book().for_each_order(&mut |o| {
        open_at_close.insert(o.id, o.open_qty);
    });
    let rec = fold.finish(sampler.samples, open_at_close, ix.inventory(), ix.cash());
    (rec, timer.lat)
}

/// Times each message's service on the TSC clock.
struct ServiceTimer {
    clock: quanta::Clock,
    lat: Latency,
}

impl ServiceTimer {
    fn new() -> Self {
        ServiceTimer {
            clock: quanta::Clock::new(),
            lat: Latency::new(),
        }
    }

    /// Run `serve` and record its time under all messages and under its kind.
    #[inline]
    fn time(&mut self, msg: &Msg, serve: impl FnOnce()) {
        let t0 = self.clock.raw();
        serve();
        let t1 = self.clock.raw();
        let ns = self.clock.delta_as_nanos(t0, t1).max(1);
        let _ = self.lat.all.record(ns);
        let kind = match msg {
            Msg::Quote(_) => &mut self.lat.quotes,
            _ => &mut self.lat.orders,
        };
        let _ = kind.record(ns);
    }
}

/// Access fees and payment for order flow accrued so far, dollars.
struct Ledger {
    fee_per_share: f64,
    /// Dollars per share per producer (index 0, the market, pays nothing).
    pfof_per_share: Vec<f64>,
    fees: f64,
    pfof: f64,
}

impl Ledger {
    fn new(scn: &Scenario) -> Self {
        Ledger {
            fee_per_share: scn.market.fee_ticks() as f64 * DOLLARS_PER_TICK,
            pfof_per_share: std::iter::once(0.0)
                .chain(
                    scn.retail
                        .brokers
                        .iter()
                        .map(|b| b.pfof_cents_per_100 / 100.0 / 100.0),
                )
                .collect(),
            fees: 0.0,
            pfof: 0.0,
        }
    }

    /// Shares taken on the exchange (routed fills and hedges) pay the access fee.
    #[inline]
    fn exchange(&mut self, qty: u64) {
        self.fees += self.fee_per_share * qty as f64;
    }

    /// Executed shares of a marketable order earn its broker its PFOF rate.
    #[inline]
    fn marketable_fill(&mut self, broker: u16, qty: u64) {
        self.pfof += self.pfof_per_share[broker as usize] * qty as f64;
    }
}

/// Samples the wholesaler's state at fixed simulated-time steps (390 a day), marked to the
/// latest midpoint.
struct StateSampler {
    every_ns: u64,
    next: u64,
    last_mid2: i128,
    samples: Vec<Sample>,
}

impl StateSampler {
    fn new(scn: &Scenario) -> Self {
        StateSampler {
            every_ns: ((scn.retail.day_seconds * 1e9) as u64 / 390).max(1),
            next: 0,
            last_mid2: 0,
            samples: Vec::with_capacity(512),
        }
    }

    fn sample<B: OrderBook>(
        &self,
        t_ns: u64,
        ix: &Internalizer<B, SimExchange>,
        ledger: &Ledger,
    ) -> Sample {
        let mtm = (ix.cash() as f64 + ix.inventory() as f64 * self.last_mid2 as f64 / 2.0)
            * DOLLARS_PER_TICK;
        Sample {
            t_s: t_ns as f64 / 1e9,
            inventory: ix.inventory(),
            trading_pnl: mtm,
            net_pnl: mtm - ledger.fees - ledger.pfof,
        }
    }

    /// Before `m` is served: take the samples of every step boundary up to its time (the
    /// state at the boundary), then note its midpoint if it is a quote.
    fn before<B: OrderBook>(
        &mut self,
        m: &Timed,
        ix: &Internalizer<B, SimExchange>,
        ledger: &Ledger,
    ) {
        while m.ts >= self.next {
            let s = self.sample(self.next, ix, ledger);
            self.samples.push(s);
            self.next += self.every_ns;
        }
        if let Msg::Quote(q) = m.msg {
            self.last_mid2 = mid2(&q);
        }
    }

    /// The sample at the close.
    fn close<B: OrderBook>(
        &mut self,
        scn: &Scenario,
        ix: &Internalizer<B, SimExchange>,
        ledger: &Ledger,
    ) {
        let end_ns = (scn.retail.day_seconds * 1e9) as u64;
        let s = self.sample(end_ns, ix, ledger);
        self.samples.push(s);
    }
}

/// Folds each event into the run record.
struct EventFold<'a> {
    flow: &'a Flow,
    index: &'a HashMap<u64, usize>,
    outcomes: Vec<OrderOutcome>,
    fills: Vec<FillRec>,
    wtrades: Vec<WTrade>,
    events: Option<Vec<(u64, wholesaler::Event)>>,
    rejects: BTreeMap<String, u64>,
    routed_by_reason: BTreeMap<String, u64>,
    routed_unfilled: BTreeMap<String, u64>,
    stp: u64,
    max_abs_inventory: u64,
    hedged: u64,
    exchange_shares: u64,
    digest: Digest,
    event_count: u64,
}

impl<'a> EventFold<'a> {
    fn new(flow: &'a Flow, index: &'a HashMap<u64, usize>, keep_events: bool) -> Self {
        EventFold {
            flow,
            index,
            outcomes: vec![OrderOutcome::default(); flow.orders.len()],
            fills: Vec::with_capacity(flow.orders.len() * 2),
            wtrades: Vec::with_capacity(flow.orders.len()),
            events: keep_events.then(|| Vec::with_capacity(flow.stream.len() * 3)),
            rejects: BTreeMap::new(),
            routed_by_reason: BTreeMap::new(),
            routed_unfilled: BTreeMap::new(),
            stp: 0,
            max_abs_inventory: 0,
            hedged: 0,
            exchange_shares: 0,
            digest: Digest::default(),
            event_count: 0,
        }
    }

    /// The inventory after a message (for the largest absolute inventory).
    #[inline]
    fn inventory(&mut self, inventory: i64) {
        self.max_abs_inventory = self.max_abs_inventory.max(inventory.unsigned_abs());
    }

    /// One event of message `m`, which arrived when the NBBO was `quote_at_receipt`.
    fn event(
        &mut self,
        m: &Timed,
        quote_at_receipt: Option<Quote>,
        e: &wholesaler::Event,
        ledger: &mut Ledger,
    ) {
        self.digest.add(e);
        self.event_count += 1;
        if let Some(ev) = self.events.as_mut() {
            ev.push((m.ts, *e));
        }
        let index = self.index;
        match *e {
            wholesaler::Event::Accepted { id, marketable } => {
                if let Some(&i) = index.get(&id) {
                    let o = &mut self.outcomes[i];
                    o.accepted = true;
                    o.marketable = marketable;
                    if let Some(q) = quote_at_receipt {
                        o.bid = q.bid;
                        o.ask = q.ask;
                    }
                }
            }
            wholesaler::Event::Rejected { id, reason } => {
                *self.rejects.entry(format!("{reason:?}")).or_default() += 1;
                if let (Msg::Order(_), Some(&i)) = (m.msg, index.get(&id)) {
                    self.outcomes[i].rejected = true;
                }
                if let (Msg::Replace { new_id, .. }, Some(&i)) = (m.msg, index.get(&id)) {
                    if new_id == id {
                        self.outcomes[i].rejected = true;
                    }
                }
            }
            wholesaler::Event::Fill {
                id,
                kind,
                price,
                qty,
                ..
            } => {
                let Some(&i) = index.get(&id) else { return };
                let info = &self.flow.orders[i];
                let o = &mut self.outcomes[i];
                match kind {
                    FillKind::AgencyTaker | FillKind::AgencyMaker => o.agency += qty,
                    FillKind::Principal => {
                        o.principal += qty;
                        // The wholesaler takes the other side of the customer.
                        let dir = match info.side {
                            Side::Buy => -1,
                            Side::Sell => 1,
                        };
                        self.wtrades.push(WTrade {
                            ts: m.ts,
                            dir,
                            price,
                            qty,
                            hedge: false,
                        });
                    }
                    FillKind::Exchange => {
                        o.exchange += qty;
                        self.exchange_shares += qty;
                        ledger.exchange(qty);
                    }
                }
                o.first_fill_ts.get_or_insert(m.ts);
                if o.marketable {
                    ledger.marketable_fill(info.broker, qty);
                }
                self.fills.push(FillRec {
                    ts: m.ts,
                    order: i,
                    kind,
                    price,
                    qty,
                });
            }
            wholesaler::Event::Routed { id, qty, reason } => {
                *self
                    .routed_by_reason
                    .entry(route_name(reason).into())
                    .or_default() += qty;
                if let Some(&i) = index.get(&id) {
                    self.outcomes[i].routed += qty;
                }
            }
            wholesaler::Event::Rested { .. } => {}
            wholesaler::Event::Cancelled { id, qty, reason } => {
                if reason == wholesaler::CancelReason::Stp {
                    self.stp += 1;
                }
                let unfilled = match reason {
                    wholesaler::CancelReason::Collar => Some("collar"),
                    wholesaler::CancelReason::NoLiquidity => Some("no_liquidity"),
                    _ => None,
                };
                if let Some(k) = unfilled {
                    *self.routed_unfilled.entry(k.into()).or_default() += qty;
                }
                if let Some(&i) = index.get(&id) {
                    self.outcomes[i].cancelled += qty;
                    if reason == wholesaler::CancelReason::Stp {
                        self.outcomes[i].stp_cancelled += qty;
                    }
                }
            }
            wholesaler::Event::Hedge { side, price, qty } => {
                self.hedged += qty;
                ledger.exchange(qty);
                self.wtrades.push(WTrade {
                    ts: m.ts,
                    dir: if side == Side::Buy { 1 } else { -1 },
                    price,
                    qty,
                    hedge: true,
                });
            }
        }
    }

    fn finish(
        self,
        samples: Vec<Sample>,
        open_at_close: HashMap<u64, u64>,
        final_inventory: i64,
        final_cash_ticks: i128,
    ) -> RunRecord {
        RunRecord {
            outcomes: self.outcomes,
            fills: self.fills,
            wtrades: self.wtrades,
            samples,
            open_at_close,
            events: self.events,
            stp_prevented: self.stp,
            rejects: self.rejects,
            final_inventory,
            final_cash_ticks,
            max_abs_inventory: self.max_abs_inventory,
            routed_by_reason: self.routed_by_reason,
            routed_unfilled_by_reason: self.routed_unfilled,
            hedged_shares: self.hedged,
            exchange_shares: self.exchange_shares,
            event_count: self.event_count,
            event_digest: self.digest.0,
        }
    }
}
