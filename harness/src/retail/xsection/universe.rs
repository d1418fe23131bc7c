//! The cross-section: `n` stocks with share prices log-uniform over $1-$1,000,
//! Zipf-distributed dollar volume by rank, natural spreads in basis points that widen down
//! the ranks, displayed depth that thins down them, and the day's retail orders allocated
//! to them by dollar volume (largest remainder, so the counts add up exactly).
//!
//! Whether a stock is tick-constrained is not drawn here: it follows from its simulated
//! quotes ([`super::day`]), as the rule defines it.

use super::XConfig;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// One stock.
#[derive(Clone, Debug, PartialEq)]
pub struct Instrument {
    /// Index (also its random stream).
    pub index: usize,
    /// Dollar-volume rank, 1 = largest.
    pub rank: usize,
    /// Opening price, dollars.
    pub price: f64,
    /// Share of the day's dollar volume (sums to 1).
    pub weight: f64,
    /// Natural (untick-constrained) spread, basis points of the price.
    pub spread_bps: f64,
    /// Daily volatility, basis points.
    pub vol_bps: f64,
    /// Mean displayed size at the touch, shares.
    pub depth_shares: f64,
    /// Retail orders allocated to it.
    pub orders: usize,
}

/// Stock buckets of the markout tables.
pub const BUCKETS: [&str; 4] = ["tick-constrained", "large", "mid", "small"];

impl Instrument {
    /// Bucket index into [`BUCKETS`]: tick-constrained first, the rest by rank (top 50,
    /// 51-200, the others).
    pub fn bucket(&self, tick_constrained: bool) -> usize {
        if tick_constrained {
            0
        } else if self.rank <= 50 {
            1
        } else if self.rank <= 200 {
            2
        } else {
            3
        }
    }
}

/// The cross-section of `c.instruments` stocks (stream 0 of the seed).
pub fn universe(c: &XConfig) -> Vec<Instrument> {
    let mut rng = ChaCha8Rng::seed_from_u64(c.seed);
    rng.set_stream(0);
    let n = c.instruments;
    let raw: Vec<f64> = (1..=n).map(|r| (r as f64).powf(-c.zipf)).collect();
    let total: f64 = raw.iter().sum();
    let noise = Normal::<f64>::new(0.0, 0.3).expect("valid sd");
    let mut v: Vec<Instrument> = (0..n)
        .map(|i| {
            let rank = i + 1;
            let price = (rng.random::<f64>() * 1000f64.ln()).exp();
            let rel = rank as f64;
            Instrument {
                index: i,
                rank,
                price,
                weight: raw[i] / total,
                spread_bps: c.spread_bps_top
                    * rel.powf(c.spread_rank_exp)
                    * noise.sample(&mut rng).exp(),
                vol_bps: c.vol_bps_top * rel.powf(0.15),
                depth_shares: (c.depth_usd_top * rel.powf(-0.6) / price).max(100.0),
                orders: 0,
            }
        })
        .collect();
    // Largest-remainder allocation of the orders by dollar volume.
    let want: Vec<f64> = v.iter().map(|s| s.weight * c.orders as f64).collect();
    let mut given = 0usize;
    for (s, w) in v.iter_mut().zip(&want) {
        s.orders = w.floor() as usize;
        given += s.orders;
    }
    let mut rest: Vec<usize> = (0..n).collect();
    rest.sort_by(|&a, &b| {
        let fa = want[a] - want[a].floor();
        let fb = want[b] - want[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in rest.iter().take(c.orders - given) {
        v[i].orders += 1;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_add_up_and_follow_dollar_volume() {
        let mut c = XConfig::default_day();
        c.instruments = 500;
        c.orders = 100_003;
        let u = universe(&c);
        assert_eq!(u.iter().map(|s| s.orders).sum::<usize>(), 100_003);
        // Zipf(1) over 500 names: the top name has 1/H(500) = 14.7% of the flow.
        let h: f64 = (1..=500).map(|r| 1.0 / r as f64).sum();
        assert!((u[0].orders as f64 / 100_003.0 - 1.0 / h).abs() < 1e-4);
        assert!(u.iter().all(|s| (1.0..=1000.0).contains(&s.price)));
        assert!(u.iter().any(|s| s.price < 3.0) && u.iter().any(|s| s.price > 300.0));
    }
}
