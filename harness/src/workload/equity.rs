//! `equity-mixed`: a single liquid symbol as a matching engine sees it.
//!
//! What the stream models, and why:
//! - a mid price following a geometric random walk in integer ticks (a tick is one cent;
//!   the mid starts at $100.00 = 10,000 ticks), with calm, trending and flash-crash
//!   variants;
//! - resting limit orders placed at a power-law distance from the mid, so depth is thick
//!   near the touch and thins out with distance (the empirical shape of equity books);
//! - ~15% of messages are IOC takers priced around the touch (about a third reach the
//!   opposite best), ~20% are replaces, the rest new GTC orders and cancels; cancels thin
//!   out below a target resting population so the book holds a few thousand orders.
//!   Measured (`cargo run --release -p flowmatch-harness --example stream_stats`, 1M
//!   commands, seed 1): in the calm variant 72% of resting orders end cancelled rather than
//!   filled (US equities: about 95% — a drifting mid makes new orders pick off stale quotes
//!   more often here), 48% in the trending one; 0.8% of commands are rejected;
//! - a small set of accounts, so self-trade prevention is exercised now and then.
//!
//! Cancels and replaces name orders that are really resting: the generator runs every
//! command it emits through a shadow [`FastBook`] and picks its targets among the shadow's
//! live orders. A small configurable share (`p_stale`, 2% by default) deliberately names
//! an order that has just traded away — as in a real feed, where a cancel can race a fill —
//! and the book answers those with `UNKNOWN_ID`. (An earlier version tracked only what it
//! had sent, so a third of its commands were such rejects: cheap work that flattered every
//! matcher's throughput.)

use flowmatch_core::{
    BookConfig, Command, CountingSink, FastBook, NewOrder, OrderBook, OrderId, Price, Qty, Side,
    Stp, Tif,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The shape of the mid-price path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EquityVariant {
    /// Driftless random walk.
    #[default]
    Calm,
    /// A steady drift up (about +20% over the stream), so the book keeps re-centering.
    Trending,
    /// A calm walk with a 10% crash over 2% of the stream at the 40% mark, then a recovery.
    FlashCrash,
}

impl EquityVariant {
    pub const ALL: [EquityVariant; 3] = [
        EquityVariant::Calm,
        EquityVariant::Trending,
        EquityVariant::FlashCrash,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EquityVariant::Calm => "calm",
            EquityVariant::Trending => "trending",
            EquityVariant::FlashCrash => "flash-crash",
        }
    }
}

/// Parameters of the `equity-mixed` stream. The defaults are the benchmark workload.
#[derive(Clone, Debug)]
pub struct EquityConfig {
    pub variant: EquityVariant,
    /// Starting mid in ticks.
    pub start_mid: Price,
    /// Per-message volatility of the log mid (the walk moves every message).
    pub sigma: f64,
    /// Fraction of messages that are new GTC limit orders.
    pub p_new: f64,
    /// Fraction that are IOC limit orders priced through the touch.
    pub p_ioc: f64,
    /// Fraction that are replaces of a (believed) resting order.
    pub p_replace: f64,
    /// Everything else is a cancel of a (believed) resting order.
    /// Tail exponent of the distance-from-mid distribution (smaller = fatter tail).
    pub depth_alpha: f64,
    /// Distance scale in ticks.
    pub depth_scale: f64,
    /// Number of distinct accounts.
    pub accounts: u32,
    /// Fraction of orders that carry a self-trade-prevention mode.
    pub p_stp: f64,
    /// Resting orders the generator aims to keep alive (cancels win when above it).
    pub target_resting: usize,
    /// Share of cancels and replaces that name an order which has just left the book (a
    /// cancel racing a fill).
    pub p_stale: f64,
}

impl Default for EquityConfig {
    fn default() -> Self {
        EquityConfig {
            variant: EquityVariant::Calm,
            start_mid: 10_000,
            sigma: 0.000005,
            p_new: 0.35,
            p_ioc: 0.15,
            p_replace: 0.20,
            depth_alpha: 1.5,
            depth_scale: 4.0,
            accounts: 64,
            p_stp: 0.05,
            target_resting: 5_000,
            p_stale: 0.02,
        }
    }
}

impl EquityConfig {
    pub fn variant(variant: EquityVariant) -> Self {
        EquityConfig {
            variant,
            ..Default::default()
        }
    }
}

/// Generate `n` commands of the `equity-mixed` stream.
pub fn generate(cfg: &EquityConfig, seed: u64, n: usize) -> Vec<Command> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n);
    // Ids the generator has placed and not yet cancelled; pruned lazily against the shadow.
    let mut live: Vec<OrderId> = Vec::with_capacity(cfg.target_resting * 2);
    let mut shadow = FastBook::new(BookConfig {
        capacity: cfg.target_resting * 4,
        ..Default::default()
    });
    let mut sink = CountingSink::default();
    let mut next_id: OrderId = 1;
    let mut log_mid = (cfg.start_mid.max(1) as f64).ln();
    let n_f = n.max(1) as f64;

    for i in 0..n {
        // Move the mid.
        let z: f64 = StandardNormal.sample(&mut rng);
        let t = i as f64 / n_f;
        let drift = match cfg.variant {
            EquityVariant::Calm => 0.0,
            EquityVariant::Trending => 0.2 / n_f,
            EquityVariant::FlashCrash => {
                if (0.40..0.42).contains(&t) {
                    -0.10 / (0.02 * n_f)
                } else if (0.42..0.50).contains(&t) {
                    0.10 / (0.08 * n_f)
                } else {
                    0.0
                }
            }
        };
        log_mid += drift + cfg.sigma * z;
        let mid = log_mid.exp().round() as Price;

        let u: f64 = rng.random();
        // Keep the resting population near its target: above it, favour cancels.
        let over = shadow.len() > cfg.target_resting;
        let mut kind = if over && u < 0.5 {
            Kind::Cancel
        } else if u < cfg.p_new {
            Kind::New
        } else if u < cfg.p_new + cfg.p_ioc {
            Kind::Ioc
        } else if u < cfg.p_new + cfg.p_ioc + cfg.p_replace {
            Kind::Replace
        } else if rng.random::<f64>() * (cfg.target_resting as f64) < shadow.len() as f64 {
            // Below the target population, cancels thin out in proportion, so the book
            // settles around `target_resting` orders instead of draining.
            Kind::Cancel
        } else {
            Kind::New
        };
        // The target of a cancel or replace: a live order, or now and then a stale one.
        let mut target: Option<(OrderId, Option<(Side, Price)>)> = None;
        if matches!(kind, Kind::Cancel | Kind::Replace) {
            while !live.is_empty() {
                let k = rng.random_range(0..live.len());
                let id = live[k];
                match shadow.order(id) {
                    Some(o) => {
                        target = Some((id, Some((o.side, o.price))));
                        break;
                    }
                    None => {
                        live.swap_remove(k);
                        if rng.random::<f64>() < cfg.p_stale {
                            target = Some((id, None));
                            break;
                        }
                    }
                }
            }
            if target.is_none() {
                kind = Kind::New;
            }
        }

        let side = if rng.random::<bool>() {
            Side::Buy
        } else {
            Side::Sell
        };
        match kind {
            Kind::New => {
                let price = away_from_mid(&mut rng, cfg, side, mid);
                let mut o =
                    NewOrder::limit(next_id, account(&mut rng, cfg), side, price, qty(&mut rng));
                o.stp = stp(&mut rng, cfg);
                live.push(next_id);
                next_id += 1;
                out.push(Command::New(o));
            }
            Kind::Ioc => {
                // Priced around the touch: about a third reach the opposite best (some
                // sweeping a level or two), the rest expire unfilled, so most resting
                // orders end cancelled rather than filled, as in US equities.
                let through: Price = rng.random_range(-4..=1);
                let price = match side {
                    Side::Buy => mid + through,
                    Side::Sell => mid - through,
                };
                let mut o =
                    NewOrder::limit(next_id, account(&mut rng, cfg), side, price, qty(&mut rng))
                        .with_tif(Tif::Ioc);
                o.stp = stp(&mut rng, cfg);
                next_id += 1;
                out.push(Command::New(o));
            }
            Kind::Replace => {
                let (id, resting) = target.expect("chosen above");
                let step: Price = rng.random_range(-2..=2);
                // Re-priced by a tick or two, or kept, but never across the mid: a quote
                // update moves a quote, it does not turn it into a taker.
                let price = match resting {
                    Some((side, p)) => {
                        let p = if rng.random::<f64>() < 0.3 {
                            p
                        } else {
                            p + step
                        };
                        match side {
                            Side::Buy => p.min(mid - 1),
                            Side::Sell => p.max(mid + 1),
                        }
                    }
                    None => mid + step,
                };
                let q = if rng.random::<f64>() < 0.5 {
                    rng.random_range(1..=100)
                } else {
                    qty(&mut rng)
                };
                out.push(Command::Replace { id, price, qty: q });
            }
            Kind::Cancel => {
                let (id, _) = target.expect("chosen above");
                out.push(Command::Cancel { id });
            }
        }
        shadow.apply(out.last().expect("one command per step"), &mut sink);
    }
    out
}

#[derive(Clone, Copy)]
enum Kind {
    New,
    Ioc,
    Replace,
    Cancel,
}

/// A resting price at a power-law distance behind the mid on the order's own side.
fn away_from_mid(rng: &mut ChaCha8Rng, cfg: &EquityConfig, side: Side, mid: Price) -> Price {
    let u: f64 = rng.random::<f64>().max(1e-12);
    let d = (cfg.depth_scale * (u.powf(-1.0 / cfg.depth_alpha) - 1.0)).min(5_000.0) as Price;
    // One tick of spread around the mid: bids at mid-1-d, asks at mid+1+d.
    match side {
        Side::Buy => mid - 1 - d,
        Side::Sell => mid + 1 + d,
    }
}

/// Round lots of 100 half the time, otherwise 1..=500.
fn qty(rng: &mut ChaCha8Rng) -> Qty {
    if rng.random::<bool>() {
        100
    } else {
        rng.random_range(1..=500)
    }
}

fn account(rng: &mut ChaCha8Rng, cfg: &EquityConfig) -> u32 {
    rng.random_range(1..=cfg.accounts.max(1))
}

fn stp(rng: &mut ChaCha8Rng, cfg: &EquityConfig) -> Stp {
    if rng.random::<f64>() >= cfg.p_stp {
        return Stp::None;
    }
    match rng.random_range(0..4) {
        0 => Stp::CancelTaker,
        1 => Stp::CancelMaker,
        2 => Stp::CancelBoth,
        _ => Stp::DecrementCancel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_different_seed_differs() {
        let cfg = EquityConfig::default();
        let a = generate(&cfg, 7, 20_000);
        let b = generate(&cfg, 7, 20_000);
        let c = generate(&cfg, 8, 20_000);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 20_000);
    }

    #[test]
    fn mix_is_roughly_as_documented() {
        let cmds = generate(&EquityConfig::default(), 1, 200_000);
        let (mut new, mut ioc, mut rpl, mut cxl) = (0usize, 0usize, 0usize, 0usize);
        for c in &cmds {
            match c {
                Command::New(o) if o.tif == Tif::Ioc => ioc += 1,
                Command::New(_) => new += 1,
                Command::Replace { .. } => rpl += 1,
                Command::Cancel { .. } => cxl += 1,
            }
        }
        let f = |x: usize| x as f64 / cmds.len() as f64;
        assert!((0.12..0.18).contains(&f(ioc)), "ioc {}", f(ioc));
        assert!((0.15..0.25).contains(&f(rpl)), "replace {}", f(rpl));
        assert!(
            f(new) > 0.25 && f(cxl) > 0.20,
            "new {} cancel {}",
            f(new),
            f(cxl)
        );
    }

    /// Cancels and replaces name live orders (the stream is real work, not rejects), and
    /// the book holds its target population.
    #[test]
    fn few_rejects_and_a_populated_book() {
        use flowmatch_core::Event;
        let cmds = generate(&EquityConfig::default(), 5, 200_000);
        let mut book = FastBook::new(BookConfig::default());
        let mut ev = Vec::new();
        for c in &cmds {
            book.apply(c, &mut ev);
        }
        let rejects = ev
            .iter()
            .filter(|e| matches!(e, Event::Reject { .. }))
            .count();
        let share = rejects as f64 / cmds.len() as f64;
        assert!((0.001..0.03).contains(&share), "rejects {share}");
        assert!(book.len() > 1_000, "resting {}", book.len());
    }

    #[test]
    fn variants_move_the_mid_as_named() {
        // The last new orders' prices sit around the final mid.
        let last_mid = |v| {
            let cmds = generate(&EquityConfig::variant(v), 3, 100_000);
            let prices: Vec<Price> = cmds
                .iter()
                .rev()
                .filter_map(|c| match c {
                    Command::New(o) if o.tif == Tif::Ioc => o.price,
                    _ => None,
                })
                .take(200)
                .collect();
            prices.iter().sum::<Price>() / prices.len() as Price
        };
        let calm = last_mid(EquityVariant::Calm);
        let trend = last_mid(EquityVariant::Trending);
        assert!(trend > calm + 1_000, "trending {trend} vs calm {calm}");
    }
}
