//! Synthetic retail order flow, calibrated by default to published facts, seeded and
//! deterministic.
//!
//! Defaults and where they come from:
//! - **Order mix** 33% market, 30% marketable limit, 30% non-marketable limit, 7% other
//!   (split between IOC limits and cancel-replaces): a large broker's 2024 Rule 606 report.
//! - **Sizes**: 70% exactly 100 shares, 6% 200, 4% larger round lots up to 1,000 (fewer the
//!   larger), 20% odd lots drawn log-normal with μ = 2.9, σ = 1.2 (in shares, redrawn until
//!   below 100). Fractional and notional orders are modelled as these odd lots.
//! - **Arrivals**: a Hawkes process with branching ratio 0.6 (each order triggers on
//!   average 0.6 more, exponentially delayed), over a U-shaped intraday base rate (four
//!   times as busy at the open and the close as at midday). It is simulated exactly through
//!   its cluster representation: immigrants drawn from the base rate, each with a Poisson
//!   family tree.
//! - **Direction**: buy probability `0.5 + bias + z`, with `z` an AR(1) (φ = 0.5) over
//!   successive orders: a persistent imbalance around 50/50.
//! - **Limit placement**: non-marketable limits at the touch 10% of the time, otherwise
//!   1 cent to twice the quoted spread behind it; marketable limits at the far touch or up
//!   to 2 cents through it. Resting limits are cancelled after an exponential lifetime, except
//!   a share left to the close.
//!
//! The generator emits one merged, time-ordered stream of [`Timed`] messages: NBBO updates
//! from the market producer (id 0) and orders, cancels and replaces from the brokers
//! (producers 1..). Ties in time are broken by producer id, then by generation order, so the
//! stream — and everything computed from it — depends only on the scenario and the seed.

pub mod budget;
pub mod field;
pub mod scenario;
pub mod xsection;

use field::{f64_below, f64_in, int_in, FieldError};

use crate::market::{quote_index_at, quote_path, MarketConfig, QuoteAt};
use flowmatch_core::{Account, Command, NewOrder, OrderId, Price, Qty, Side, Tif};
use flowmatch_wholesaler::{retail_id, Msg, TICKS_PER_CENT};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal, Poisson};
use serde::{Deserialize, Serialize};

/// One broker: a producer of orders with its own id space and PFOF rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerConfig {
    pub name: String,
    /// Relative share of the order flow.
    pub weight: f64,
    /// Payment for order flow, cents per 100 shares of marketable orders executed.
    pub pfof_cents_per_100: f64,
    /// Number of distinct customer accounts.
    pub accounts: u32,
}

/// Retail-flow parameters (a `[retail]` table in a scenario file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetailConfig {
    /// Number of order arrivals (new orders, IOCs and cancel-replaces) over the day.
    pub orders: usize,
    /// Length of the simulated session in seconds (6.5 h = 23,400 s).
    pub day_seconds: f64,
    pub brokers: Vec<BrokerConfig>,
    /// Order mix: fractions of market, marketable limit, non-marketable limit, IOC limit
    /// and cancel-replace. Must sum to 1.
    pub mix_market: f64,
    pub mix_marketable_limit: f64,
    pub mix_nonmarketable_limit: f64,
    pub mix_ioc: f64,
    pub mix_replace: f64,
    /// Size distribution: fractions of exactly 100, exactly 200, larger round lots (300 to
    /// 1,000); the rest are odd lots.
    pub size_100: f64,
    pub size_200: f64,
    pub size_large: f64,
    pub odd_lot_mu: f64,
    pub odd_lot_sigma: f64,
    /// Hawkes branching ratio (0 <= n < 1) and mean delay of a triggered order (seconds).
    pub hawkes_branching: f64,
    pub hawkes_decay_s: f64,
    /// Ratio of the base rate at the open/close to the base rate at midday.
    pub u_shape: f64,
    /// AR(1) coefficient and innovation standard deviation of the buy/sell imbalance.
    pub imbalance_phi: f64,
    pub imbalance_sigma: f64,
    /// Added to the buy probability (a one-sided day: positive).
    pub buy_bias: f64,
    /// Fraction of non-marketable limits placed at the touch.
    pub touch_frac: f64,
    /// Non-marketable limits otherwise rest up to this many spreads behind the touch.
    pub offset_max_spreads: f64,
    /// Mean lifetime of a resting limit before its owner cancels it (seconds).
    pub cancel_mean_s: f64,
    /// Fraction of resting limits never cancelled (left to the close).
    pub keep_to_close: f64,
    /// Fraction of orders that are wash attempts: a marketable order from the account of
    /// a recent resting order on the other side.
    pub wash_frac: f64,
}

impl Default for RetailConfig {
    fn default() -> Self {
        RetailConfig {
            orders: 200_000,
            day_seconds: 23_400.0,
            brokers: vec![
                BrokerConfig {
                    name: "broker-a".into(),
                    weight: 0.5,
                    pfof_cents_per_100: 20.0,
                    accounts: 50_000,
                },
                BrokerConfig {
                    name: "broker-b".into(),
                    weight: 0.3,
                    pfof_cents_per_100: 35.0,
                    accounts: 20_000,
                },
                BrokerConfig {
                    name: "broker-c".into(),
                    weight: 0.2,
                    pfof_cents_per_100: 60.0,
                    accounts: 10_000,
                },
            ],
            mix_market: 0.33,
            mix_marketable_limit: 0.30,
            mix_nonmarketable_limit: 0.30,
            mix_ioc: 0.035,
            mix_replace: 0.035,
            size_100: 0.70,
            size_200: 0.06,
            size_large: 0.04,
            odd_lot_mu: 2.9,
            odd_lot_sigma: 1.2,
            hawkes_branching: 0.6,
            hawkes_decay_s: 2.0,
            u_shape: 4.0,
            imbalance_phi: 0.5,
            imbalance_sigma: 0.1,
            buy_bias: 0.0,
            touch_frac: 0.10,
            offset_max_spreads: 2.0,
            cancel_mean_s: 120.0,
            keep_to_close: 0.2,
            wash_frac: 0.0,
        }
    }
}

/// Most order arrivals a scenario may ask for (a run of this size stays within
/// [`budget::MAX_RUN_BYTES`] with the default market).
pub const MAX_ORDERS: usize = 5_000_000;
/// Most brokers a scenario may list.
pub const MAX_BROKERS: usize = 1_000;
/// Most customer accounts per broker (account ids are `broker x 1,000,000 + n`).
pub const MAX_ACCOUNTS: u32 = 1_000_000;

impl RetailConfig {
    /// Checks each field against the range a real run can satisfy, and the relations
    /// between them; returns `(field, why)` for the first bad one.
    pub fn validate(&self) -> Result<(), FieldError> {
        int_in("orders", self.orders, 1, MAX_ORDERS, "order arrivals")?;
        f64_in("day_seconds", self.day_seconds, 1.0, 1e6, "seconds")?;
        int_in("brokers", self.brokers.len(), 1, MAX_BROKERS, "brokers")?;
        let mut names = std::collections::BTreeSet::new();
        for b in &self.brokers {
            let named = |(f, why): FieldError| (f, format!("broker {:?}: {why}", b.name));
            if b.name.is_empty() || b.name.len() > 64 || b.name.chars().any(char::is_control) {
                return Err(named((
                    "brokers.name",
                    "must be 1 to 64 characters, none a control character".into(),
                )));
            }
            if !names.insert(b.name.as_str()) {
                return Err(named((
                    "brokers.name",
                    "appears twice: each broker needs its own name (reports group by it)".into(),
                )));
            }
            f64_in(
                "brokers.weight",
                b.weight,
                1e-6,
                1e6,
                "(relative share of the flow)",
            )
            .map_err(named)?;
            f64_in(
                "brokers.pfof_cents_per_100",
                b.pfof_cents_per_100,
                0.0,
                1_000.0,
                "cents per 100 shares",
            )
            .map_err(named)?;
            int_in("brokers.accounts", b.accounts, 1, MAX_ACCOUNTS, "accounts").map_err(named)?;
        }
        let mix = [
            ("mix_market", self.mix_market),
            ("mix_marketable_limit", self.mix_marketable_limit),
            ("mix_nonmarketable_limit", self.mix_nonmarketable_limit),
            ("mix_ioc", self.mix_ioc),
            ("mix_replace", self.mix_replace),
        ];
        for (n, v) in mix {
            f64_in(n, v, 0.0, 1.0, "")?;
        }
        let s: f64 = mix.iter().map(|m| m.1).sum();
        if (s - 1.0).abs() > 1e-6 {
            return Err((
                "mix_market",
                format!("the five mix_* fractions must sum to 1 (they sum to {s})"),
            ));
        }
        for (n, v) in [
            ("size_100", self.size_100),
            ("size_200", self.size_200),
            ("size_large", self.size_large),
        ] {
            f64_in(n, v, 0.0, 1.0, "")?;
        }
        if self.size_100 + self.size_200 + self.size_large > 1.0 + 1e-9 {
            return Err((
                "size_100",
                "size_100 + size_200 + size_large must not exceed 1".into(),
            ));
        }
        f64_in(
            "odd_lot_mu",
            self.odd_lot_mu,
            0.0,
            4.6,
            "(log shares: median below 100 shares)",
        )?;
        f64_in("odd_lot_sigma", self.odd_lot_sigma, 0.01, 5.0, "")?;
        f64_below(
            "hawkes_branching",
            self.hawkes_branching,
            0.0,
            0.95,
            "(stationary)",
        )?;
        f64_in(
            "hawkes_decay_s",
            self.hawkes_decay_s,
            0.001,
            86_400.0,
            "seconds",
        )?;
        f64_in("u_shape", self.u_shape, 1.0, 100.0, "")?;
        f64_below("imbalance_phi", self.imbalance_phi, 0.0, 1.0, "")?;
        f64_in("imbalance_sigma", self.imbalance_sigma, 0.0, 0.5, "")?;
        f64_in("buy_bias", self.buy_bias, -0.5, 0.5, "")?;
        f64_in("touch_frac", self.touch_frac, 0.0, 1.0, "")?;
        f64_in(
            "offset_max_spreads",
            self.offset_max_spreads,
            0.0,
            100.0,
            "spreads",
        )?;
        f64_in("cancel_mean_s", self.cancel_mean_s, 0.001, 1e7, "seconds")?;
        f64_in("keep_to_close", self.keep_to_close, 0.0, 1.0, "")?;
        f64_in("wash_frac", self.wash_frac, 0.0, 1.0, "")?;
        Ok(())
    }
}

/// How the generator meant an order (for per-type metrics; the internalizer decides for
/// itself whether an order is marketable, from the NBBO it holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum OrderClass {
    Market,
    MarketableLimit,
    NonMarketableLimit,
    Ioc,
    /// The new order of a cancel-replace.
    Replace,
    /// A wash attempt (marketable, from an account with a resting order on the other side).
    Wash,
}

impl OrderClass {
    pub const ALL: [OrderClass; 6] = [
        OrderClass::Market,
        OrderClass::MarketableLimit,
        OrderClass::NonMarketableLimit,
        OrderClass::Ioc,
        OrderClass::Replace,
        OrderClass::Wash,
    ];
    pub fn name(self) -> &'static str {
        match self {
            OrderClass::Market => "market",
            OrderClass::MarketableLimit => "marketable_limit",
            OrderClass::NonMarketableLimit => "nonmarketable_limit",
            OrderClass::Ioc => "ioc",
            OrderClass::Replace => "replace",
            OrderClass::Wash => "wash",
        }
    }
}

/// A message with its simulated time (ns since the open) and producer (0: market data,
/// b: broker b).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timed {
    pub ts: u64,
    pub producer: u16,
    pub msg: Msg,
}

/// What the generator knows about each order it created (for metrics and tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderInfo {
    pub id: OrderId,
    pub broker: u16,
    pub account: Account,
    pub side: Side,
    pub class: OrderClass,
    pub qty: Qty,
    pub price: Option<Price>,
    pub ts: u64,
}

/// The generated day: the quote path, the merged message stream and the order register.
pub struct Flow {
    pub quotes: Vec<QuoteAt>,
    pub stream: Vec<Timed>,
    pub orders: Vec<OrderInfo>,
}

/// Draw an order size.
fn draw_size<R: Rng>(cfg: &RetailConfig, odd: &LogNormal<f64>, rng: &mut R) -> Qty {
    let u: f64 = rng.random();
    if u < cfg.size_100 {
        100
    } else if u < cfg.size_100 + cfg.size_200 {
        200
    } else if u < cfg.size_100 + cfg.size_200 + cfg.size_large {
        // Round lots 300..=1000 with weight 1/lots: larger ones rarer.
        const W: [f64; 8] = [
            1.0 / 3.0,
            0.25,
            0.2,
            1.0 / 6.0,
            1.0 / 7.0,
            0.125,
            1.0 / 9.0,
            0.1,
        ];
        let total: f64 = W.iter().sum();
        let mut v = rng.random::<f64>() * total;
        for (i, w) in W.iter().enumerate() {
            if v < *w {
                return 300 + 100 * i as u64;
            }
            v -= w;
        }
        1000
    } else {
        for _ in 0..64 {
            let s = odd.sample(rng).round();
            if (1.0..100.0).contains(&s) {
                return s as Qty;
            }
        }
        1
    }
}

/// Arrival times (seconds, sorted) of exactly `n` orders: Hawkes clusters over a U-shaped
/// base rate on `[0, day)`.
fn arrivals<R: Rng>(cfg: &RetailConfig, n: usize, rng: &mut R) -> Vec<f64> {
    let day = cfg.day_seconds;
    let kids = Poisson::new(cfg.hawkes_branching.max(1e-9)).expect("valid");
    let delay = Exp::new(1.0 / cfg.hawkes_decay_s).expect("valid");
    let a = cfg.u_shape - 1.0;
    let mut out = Vec::with_capacity(n);
    let mut stack: Vec<f64> = Vec::new();
    while out.len() < n {
        // Immigrant from density ∝ 1 + a (2x-1)^2 by rejection.
        let x = loop {
            let x: f64 = rng.random();
            let y: f64 = rng.random::<f64>() * (1.0 + a);
            if y <= 1.0 + a * (2.0 * x - 1.0).powi(2) {
                break x;
            }
        };
        stack.push(x * day);
        while let Some(t) = stack.pop() {
            if out.len() >= n {
                break;
            }
            out.push(t);
            let k = if cfg.hawkes_branching > 0.0 {
                kids.sample(rng) as usize
            } else {
                0
            };
            for _ in 0..k {
                let c = t + delay.sample(rng);
                if c < day {
                    stack.push(c);
                }
            }
        }
        stack.clear();
    }
    out.sort_by(|a, b| a.total_cmp(b));
    out
}

/// Generate a day of retail flow and its market.
pub fn generate(retail: &RetailConfig, market: &MarketConfig, seed: u64) -> Flow {
    // Independent streams per component, so that changing one knob does not reshuffle
    // everything else.
    let mut rng_mkt = ChaCha8Rng::seed_from_u64(seed);
    rng_mkt.set_stream(1);
    let mut rng_arr = ChaCha8Rng::seed_from_u64(seed);
    rng_arr.set_stream(2);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(3);

    let day_ns = (retail.day_seconds * 1e9) as u64;
    let quotes = quote_path(market, day_ns, &mut rng_mkt);
    let times = arrivals(retail, retail.orders, &mut rng_arr);

    let odd = LogNormal::new(retail.odd_lot_mu, retail.odd_lot_sigma).expect("validated");
    let innov = Normal::new(0.0, retail.imbalance_sigma.max(0.0)).expect("validated");
    let life = Exp::new(1.0 / retail.cancel_mean_s).expect("validated");
    let wsum: f64 = retail.brokers.iter().map(|b| b.weight).sum();

    let mut stream: Vec<Timed> = Vec::with_capacity(quotes.len() + retail.orders * 2);
    for q in &quotes {
        stream.push(Timed {
            ts: q.ts,
            producer: 0,
            msg: Msg::Quote(q.quote),
        });
    }
    let mut orders: Vec<OrderInfo> = Vec::with_capacity(retail.orders + retail.orders / 8);
    let mut seq = vec![0u64; retail.brokers.len() + 1];
    // Recent resting orders per side (for replaces and wash attempts): ring of indices.
    let mut recent: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    let mut z = 0.0f64;
    let cum = [
        retail.mix_market,
        retail.mix_market + retail.mix_marketable_limit,
        retail.mix_market + retail.mix_marketable_limit + retail.mix_nonmarketable_limit,
        retail.mix_market
            + retail.mix_marketable_limit
            + retail.mix_nonmarketable_limit
            + retail.mix_ioc,
    ];

    for t in times {
        let ts = (t * 1e9) as u64;
        let q = quotes[quote_index_at(&quotes, ts)].quote;
        let spread_c = (q.ask - q.bid) / TICKS_PER_CENT;
        // Broker.
        let mut u = rng.random::<f64>() * wsum;
        let mut b = retail.brokers.len() - 1;
        for (i, br) in retail.brokers.iter().enumerate() {
            if u < br.weight {
                b = i;
                break;
            }
            u -= br.weight;
        }
        let broker = (b + 1) as u16;
        let account: Account =
            broker as u32 * 1_000_000 + rng.random_range(0..retail.brokers[b].accounts);
        // Direction: AR(1) imbalance.
        z = retail.imbalance_phi * z + innov.sample(&mut rng);
        let p_buy = (0.5 + retail.buy_bias + z).clamp(0.02, 0.98);
        let side = if rng.random::<f64>() < p_buy {
            Side::Buy
        } else {
            Side::Sell
        };
        let qty = draw_size(retail, &odd, &mut rng);
        let mut next_id = |broker: u16| {
            seq[broker as usize] += 1;
            retail_id(broker, seq[broker as usize])
        };

        // Wash attempt: a marketable order against the account's own resting order.
        if retail.wash_frac > 0.0 && rng.random::<f64>() < retail.wash_frac {
            let other = &recent[side_ix(side.opposite())];
            if let Some(&oi) = other.last() {
                let o = orders[oi];
                let id = next_id(o.broker);
                let ord = NewOrder::limit(id, o.account, side, q.far(side), qty).with_tif(Tif::Ioc);
                orders.push(OrderInfo {
                    id,
                    broker: o.broker,
                    account: o.account,
                    side,
                    class: OrderClass::Wash,
                    qty,
                    price: ord.price,
                    ts,
                });
                stream.push(Timed {
                    ts,
                    producer: o.broker,
                    msg: Msg::Order(ord),
                });
                continue;
            }
        }

        let u: f64 = rng.random();
        let far = q.far(side);
        let near = q.price(side);
        let through = |c: i64| match side {
            Side::Buy => far + c * TICKS_PER_CENT,
            Side::Sell => far - c * TICKS_PER_CENT,
        };
        let (class, ord) = if u < cum[0] {
            (
                OrderClass::Market,
                NewOrder::market(next_id(broker), account, side, qty),
            )
        } else if u < cum[1] {
            let c = if rng.random::<f64>() < 0.5 {
                0
            } else {
                rng.random_range(1..=2)
            };
            (
                OrderClass::MarketableLimit,
                NewOrder::limit(next_id(broker), account, side, through(c), qty),
            )
        } else if u < cum[2] {
            let off_c = if rng.random::<f64>() < retail.touch_frac {
                0
            } else {
                let max = ((retail.offset_max_spreads * spread_c as f64).round() as i64).max(1);
                rng.random_range(1..=max)
            };
            let p = match side {
                Side::Buy => near - off_c * TICKS_PER_CENT,
                Side::Sell => near + off_c * TICKS_PER_CENT,
            };
            (
                OrderClass::NonMarketableLimit,
                NewOrder::limit(next_id(broker), account, side, p, qty),
            )
        } else if u < cum[3] {
            (
                OrderClass::Ioc,
                NewOrder::limit(next_id(broker), account, side, far, qty).with_tif(Tif::Ioc),
            )
        } else {
            // Cancel-replace of a recent resting order of this side: chase the touch.
            let r = &mut recent[side_ix(side)];
            if let Some(oi) = r.pop() {
                let o = orders[oi];
                let new_id = next_id(o.broker);
                orders.push(OrderInfo {
                    id: new_id,
                    broker: o.broker,
                    account: o.account,
                    side: o.side,
                    class: OrderClass::Replace,
                    qty: o.qty,
                    price: Some(near),
                    ts,
                });
                stream.push(Timed {
                    ts,
                    producer: o.broker,
                    msg: Msg::Replace {
                        id: o.id,
                        new_id,
                        price: near,
                        qty: o.qty,
                    },
                });
                schedule_cancel(
                    retail,
                    &life,
                    &mut rng,
                    new_id,
                    o.broker,
                    ts,
                    day_ns,
                    &mut stream,
                );
                continue;
            }
            // No order to replace: an IOC instead.
            (
                OrderClass::Ioc,
                NewOrder::limit(next_id(broker), account, side, far, qty).with_tif(Tif::Ioc),
            )
        };
        orders.push(OrderInfo {
            id: ord.id,
            broker,
            account,
            side,
            class,
            qty,
            price: ord.price,
            ts,
        });
        stream.push(Timed {
            ts,
            producer: broker,
            msg: Msg::Order(ord),
        });
        if class == OrderClass::NonMarketableLimit {
            let r = &mut recent[side_ix(side)];
            if r.len() >= 64 {
                r.remove(0);
            }
            r.push(orders.len() - 1);
            schedule_cancel(
                retail,
                &life,
                &mut rng,
                ord.id,
                broker,
                ts,
                day_ns,
                &mut stream,
            );
        }
    }
    // Stable sort: equal (ts, producer) keep generation order.
    stream.sort_by_key(|m| (m.ts, m.producer));
    Flow {
        quotes,
        stream,
        orders,
    }
}

#[inline]
fn side_ix(s: Side) -> usize {
    match s {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

#[allow(clippy::too_many_arguments)]
fn schedule_cancel<R: Rng>(
    cfg: &RetailConfig,
    life: &Exp<f64>,
    rng: &mut R,
    id: OrderId,
    broker: u16,
    ts: u64,
    day_ns: u64,
    stream: &mut Vec<Timed>,
) {
    if rng.random::<f64>() < cfg.keep_to_close {
        return;
    }
    let at = ts.saturating_add((life.sample(rng) * 1e9) as u64);
    if at < day_ns {
        stream.push(Timed {
            ts: at,
            producer: broker,
            msg: Msg::Cancel { id },
        });
    }
}

/// The retail flow as a plain command stream for a single order book, with no NBBO: the
/// `retail` workload of `flowmatch compare`. Market orders stay market orders, limits keep
/// their prices (ticks of $0.0001), a cancel-replace becomes a cancel followed by a new
/// limit with the new id. Deterministic in `(seed, n)`; `n` is the number of order arrivals
/// (the stream also holds their cancels, so it is somewhat longer).
pub fn retail_commands(seed: u64, n: usize) -> Vec<Command> {
    let cfg = RetailConfig {
        orders: n.max(1),
        ..Default::default()
    };
    let flow = generate(&cfg, &MarketConfig::default(), seed);
    let mut side_acct = std::collections::HashMap::with_capacity(flow.orders.len());
    for o in &flow.orders {
        side_acct.insert(o.id, (o.side, o.account));
    }
    let mut out = Vec::with_capacity(flow.stream.len());
    for m in &flow.stream {
        match m.msg {
            Msg::Quote(_) => {}
            Msg::Order(o) => out.push(Command::New(o)),
            Msg::Cancel { id } => out.push(Command::Cancel { id }),
            Msg::Replace {
                id,
                new_id,
                price,
                qty,
            } => {
                out.push(Command::Cancel { id });
                if let Some(&(side, account)) = side_acct.get(&new_id) {
                    out.push(Command::New(NewOrder::limit(
                        new_id, account, side, price, qty,
                    )));
                }
            }
        }
    }
    out
}
