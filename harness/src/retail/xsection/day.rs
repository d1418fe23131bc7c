//! One cross-section day: per instrument, a midpoint path and a natural-spread path on a
//! one-second grid, the instrument's retail orders (herding sides, a few informed orders
//! that know the midpoint ahead, Rule 606 order mix, log-normal notionals, fractional
//! orders), then each regime's quotes from the same paths and the desk's handling of every
//! order, summed into [`DayStats`].
//!
//! The same orders meet both regimes: only the tick (hence the quoted spread of
//! tick-constrained stocks) and the access fee differ, so the comparison isolates the
//! 2024 amendments.

use super::stats::{notional_bucket, DayStats, HORIZONS};
use super::universe::{universe, Instrument};
use super::XConfig;
use flowmatch_core::Side;
use flowmatch_wholesaler::symbol_desk::{is_tick_constrained, Regime, SymbolDesk, MICRO};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Normal};

/// Dollars per tick.
const TICK_USD: f64 = 1e-4;
/// Levels a routed order may walk past the far touch.
const MAX_LEVELS: i64 = 10;

/// An instrument's grid paths: midpoint and natural spread (ticks), one per second.
pub struct Paths {
    pub mid: Vec<f64>,
    pub nat: Vec<f64>,
}

impl Paths {
    /// The NBBO at second `k` under tick `t` (ticks): the natural spread rounded up to a
    /// whole number of ticks (at least one), around the midpoint.
    pub fn quote(&self, k: usize, t: i64) -> (i64, i64) {
        let tf = t as f64;
        let s = ((self.nat[k] / tf).ceil().max(1.0) as i64) * t;
        let bid = (((self.mid[k] - s as f64 / 2.0) / tf).floor() as i64 * t).max(t);
        (bid, bid + s)
    }
}

/// One generated order.
#[derive(Clone, Copy, Debug)]
pub struct XOrder {
    pub k: usize,
    pub broker: u8,
    pub side: Side,
    /// Index into [`super::stats::ORDER_TYPES`].
    pub kind: u8,
    /// Micro-shares.
    pub qty: u64,
    pub notional: f64,
    /// Displayed shares at the far touch when it arrives.
    pub depth: u64,
    /// Marketable limits: ticks through the far touch; non-marketable: ticks behind the
    /// near touch.
    pub offset: i64,
    /// Non-marketable limits: seconds before its owner cancels it.
    pub life: usize,
}

fn seconds(c: &XConfig) -> usize {
    (c.day_seconds.max(1.0) as usize).max(1)
}

/// The instrument's paths and orders (its own random stream).
pub fn generate(c: &XConfig, inst: &Instrument) -> (Paths, Vec<XOrder>) {
    let mut rng = ChaCha8Rng::seed_from_u64(c.seed);
    rng.set_stream(inst.index as u64 + 1);
    let n = seconds(c);
    let z = Normal::new(0.0, 1.0).expect("unit normal");
    let sig = inst.vol_bps / 1e4 / (n as f64).sqrt();
    let mut mid = Vec::with_capacity(n + 1);
    let mut nat = Vec::with_capacity(n + 1);
    let mut m = inst.price / TICK_USD;
    let mut f = 0.0f64;
    for _ in 0..=n {
        mid.push(m);
        nat.push(m * inst.spread_bps / 1e4 * f.exp());
        m *= (sig * z.sample(&mut rng)).exp();
        f = 0.95 * f + 0.08 * z.sample(&mut rng);
    }
    let paths = Paths { mid, nat };
    // Arrival seconds from a U-shaped intraday rate (four times as busy at the open and
    // the close as at midday), by rejection.
    let mut ks: Vec<usize> = (0..inst.orders)
        .map(|_| loop {
            let x: f64 = rng.random();
            if rng.random::<f64>() * 4.0 <= 1.0 + 3.0 * (2.0 * x - 1.0).powi(2) {
                break ((x * n as f64) as usize).min(n - 1);
            }
        })
        .collect();
    ks.sort_unstable();
    let life = Exp::new(1.0 / c.nml_life_s.max(1.0)).expect("positive rate");
    let total_w: f64 = c.brokers.iter().map(|b| b.weight).sum();
    let mut herd = 0.0f64;
    let mut orders = Vec::with_capacity(ks.len());
    for k in ks {
        herd = c.herd_phi * herd + c.herd_sigma * z.sample(&mut rng);
        let p_buy = (0.5 + herd).clamp(0.05, 0.95);
        let mut side = if rng.random::<f64>() < p_buy {
            Side::Buy
        } else {
            Side::Sell
        };
        if rng.random::<f64>() < c.informed_frac {
            let ahead = (k + c.informed_horizon_s as usize).min(n);
            let d = paths.mid[ahead] - paths.mid[k];
            if d > 0.0 {
                side = Side::Buy;
            } else if d < 0.0 {
                side = Side::Sell;
            }
        }
        let u: f64 = rng.random();
        let mut acc = 0.0;
        let mut kind = 3u8;
        for (i, w) in c.mix.iter().enumerate() {
            acc += w;
            if u < acc {
                kind = i as u8;
                break;
            }
        }
        let mut bu = rng.random::<f64>() * total_w;
        let mut broker = (c.brokers.len() - 1) as u8;
        for (i, b) in c.brokers.iter().enumerate() {
            if bu < b.weight {
                broker = i as u8;
                break;
            }
            bu -= b.weight;
        }
        let want = (c.notional_median * (c.notional_sigma * z.sample(&mut rng)).exp())
            .clamp(1.0, c.notional_max.max(1.0));
        let px = paths.mid[k] * TICK_USD;
        let qty = if rng.random::<f64>() < c.fractional_frac {
            ((want / px * MICRO as f64) as u64).max(MICRO / 1000)
        } else {
            let mut sh = (want / px).round().max(1.0) as u64;
            if sh >= 100 && rng.random::<f64>() < c.round_frac {
                sh = ((sh + 50) / 100) * 100;
            }
            sh * MICRO
        };
        let depth = (inst.depth_shares * (0.5 * z.sample(&mut rng)).exp()).max(1.0) as u64;
        let offset = if kind == 3 {
            if rng.random::<f64>() < 0.25 {
                0
            } else {
                1 + (rng.random::<f64>().ln() / 0.5f64.ln()) as i64
            }
        } else {
            rng.random_range(0..3)
        };
        orders.push(XOrder {
            k,
            broker,
            side,
            kind,
            qty,
            notional: qty as f64 / MICRO as f64 * px,
            depth,
            offset,
            life: life.sample(&mut rng) as usize,
        });
    }
    (paths, orders)
}

/// Whether the instrument is tick-constrained: its time-weighted average quoted spread
/// at a one-cent tick is at most $0.015.
pub fn tick_constrained(p: &Paths) -> bool {
    let n = p.mid.len();
    let sum: f64 = (0..n)
        .map(|k| {
            let (b, a) = p.quote(k, 100);
            (a - b) as f64
        })
        .sum();
    is_tick_constrained(sum / n as f64)
}

/// Puts one instrument's orders through the desk under `regime`, adding to `st`.
pub fn run_instrument(
    c: &XConfig,
    regime: Regime,
    inst: &Instrument,
    p: &Paths,
    orders: &[XOrder],
    tc: bool,
    st: &mut DayStats,
) {
    let t = regime.tick(tc);
    let fee = regime.access_fee_mils() as f64 * TICK_USD;
    let last = p.mid.len() - 1;
    let qmid = |k: usize| {
        let (b, a) = p.quote(k.min(last), t);
        (b + a) as f64 / 2.0 * TICK_USD
    };
    let bucket = inst.bucket(tc);
    let flow_usd = inst.orders as f64 * c.notional_median * (c.notional_sigma.powi(2) / 2.0).exp();
    let limit_sh = (c.inventory_floor_usd.max(c.inventory_frac * flow_usd) / inst.price) as u64;
    let mut desk = SymbolDesk::new(limit_sh.max(1));
    let close_mid = qmid(last);
    st.instruments += 1;
    st.tick_constrained += tc as u64;
    st.mean_spread_cents_sum += (0..=last)
        .map(|k| {
            let (b, a) = p.quote(k, t);
            (a - b) as f64
        })
        .sum::<f64>()
        / (last + 1) as f64
        / 100.0;
    for o in orders {
        let (bid, ask) = p.quote(o.k, t);
        let qm = (bid + ask) as f64 / 2.0 * TICK_USD;
        let spread = (ask - bid) as f64 * TICK_USD;
        let s = if o.side == Side::Buy { 1.0 } else { -1.0 };
        let si: i64 = if o.side == Side::Buy { 1 } else { -1 };
        let later = HORIZONS.map(|h| qmid(o.k + h));
        let sh = o.qty as f64 / MICRO as f64;
        let nb = notional_bucket(o.notional);
        st.orders += 1;
        let frac = o.qty % MICRO != 0;
        st.fractional_orders += frac as u64;
        st.odd_lot_orders += (o.qty < 100 * MICRO) as u64;
        let cell = &mut st.by_type[o.kind as usize][nb];
        cell.orders += 1;
        cell.shares += sh;
        if o.kind == 3 {
            // Resting on an exchange until the far side reaches it or its owner cancels.
            let limit = if si > 0 {
                bid - o.offset * t
            } else {
                ask + o.offset * t
            };
            let end = (o.k + o.life).min(last);
            for j in o.k + 1..=end {
                let (b, a) = p.quote(j, t);
                if (si > 0 && a <= limit) || (si < 0 && b >= limit) {
                    cell.exec_resting += sh;
                    break;
                }
            }
            continue;
        }
        let class = if frac {
            0
        } else if o.qty < 100 * MICRO {
            1
        } else {
            2
        };
        st.by_class[class].orders += 1;
        st.by_class[class].shares += sh;
        let d = desk.handle(&c.quoting, &c.routing, o.side, o.qty, bid, ask, o.depth);
        st.fractional_routed_micro += d.routed % MICRO;
        st.fractional_filled_micro += d.principal % MICRO;
        let broker = &mut st.brokers[o.broker as usize];
        broker.sent += sh;
        if d.principal > 0 {
            let psh = d.principal as f64 / MICRO as f64;
            let px = d.price as f64 * TICK_USD;
            let cell = &mut st.by_type[o.kind as usize][nb];
            cell.exec_wholesaler += psh;
            cell.fill(s, psh, px, qm, spread, &later);
            st.by_class[class].exec_wholesaler += psh;
            st.by_class[class].fill(s, psh, px, qm, spread, &later);
            st.markouts[bucket][0].fill(s, psh, px, qm, spread, &later);
            st.pnl.spread_capture += s * (px - qm) * psh;
            st.pnl.position += -s * psh * (close_mid - qm);
            let pay = c.brokers[o.broker as usize]
                .pfof
                .payment(d.principal, ask - bid) as f64
                * TICK_USD
                / MICRO as f64;
            st.pnl.pfof += pay;
            broker.wholesaler += psh;
            broker.pfof_usd += pay;
        }
        if let Some(w) = d.why {
            st.routed_why[w as usize] += d.routed as f64 / MICRO as f64;
        }
        if d.routed > 0 {
            // Walk the displayed depth: the far touch, then one tick per level, each level
            // half again as deep as the touch, up to the customer's limit.
            let far = if si > 0 { ask } else { bid };
            let cap = if o.kind == 0 {
                MAX_LEVELS - 1
            } else {
                o.offset.min(MAX_LEVELS - 1)
            };
            let mut left = d.routed / MICRO;
            for lvl in 0..=cap {
                if left == 0 {
                    break;
                }
                let avail = o.depth + o.depth * lvl as u64 / 2;
                let q = left.min(avail.max(1));
                left -= q;
                let px = (far + si * lvl * t) as f64 * TICK_USD;
                let qf = q as f64;
                let cell = &mut st.by_type[o.kind as usize][nb];
                cell.exec_routed += qf;
                cell.fill(s, qf, px, qm, spread, &later);
                st.by_class[class].exec_routed += qf;
                st.by_class[class].fill(s, qf, px, qm, spread, &later);
                st.markouts[bucket][1].fill(s, qf, px, qm, spread, &later);
                st.pnl.fees_routed += fee * qf;
            }
            st.unfilled_marketable += left as f64;
        }
    }
    // Flatten the closing inventory at the closing quote, paying half the spread and the fee.
    let inv = desk.inventory as f64 / MICRO as f64;
    let (b, a) = p.quote(last, t);
    st.pnl.closeout_spread -= inv.abs() * (a - b) as f64 * TICK_USD / 2.0;
    st.pnl.fees_closeout += inv.abs() * fee;
}

/// The whole day under both regimes (`[2023, 2025]`), with `progress(done, total)` after
/// each instrument. Returns the universe, which instruments were tick-constrained and the
/// statistics per regime.
pub fn run_day(
    c: &XConfig,
    mut progress: impl FnMut(usize, usize),
) -> (Vec<Instrument>, Vec<bool>, [DayStats; 2]) {
    let u = universe(c);
    let mut out = [
        DayStats::new(c.brokers.len()),
        DayStats::new(c.brokers.len()),
    ];
    let mut tcs = Vec::with_capacity(u.len());
    for (i, inst) in u.iter().enumerate() {
        let (p, orders) = generate(c, inst);
        let tc = tick_constrained(&p);
        tcs.push(tc);
        for (r, st) in Regime::ALL.iter().zip(out.iter_mut()) {
            run_instrument(c, *r, inst, &p, &orders, tc, st);
        }
        progress(i + 1, u.len());
    }
    (u, tcs, out)
}
