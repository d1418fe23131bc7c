//! The reference market: a mid price walking in whole cents, an NBBO around it with a
//! quoted spread and displayed size, and a simulated exchange ([`SimExchange`]) that fills
//! routed and hedge orders against that displayed depth, level by level.
//!
//! Prices are internalizer ticks (1 tick = $0.0001, [`TICKS_PER_CENT`] = 100 per cent).
//! The quote path is generated up front from the seed, so the market is a pure function of
//! the scenario; the exchange's depth is a pure function of the latest quote and of what has
//! been taken from it since, so its fills are deterministic too.

use crate::retail::field::{f64_in, int_in, FieldError};
use flowmatch_core::{Price, Qty, Side};
use flowmatch_wholesaler::{Quote, Venue, TICKS_PER_CENT};
use rand::Rng;
use rand_distr::{Distribution, Exp};
use serde::{Deserialize, Serialize};

/// Reference-market parameters (a `[market]` table in a scenario file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketConfig {
    /// Opening mid price in dollars (rounded to a whole cent for the opening bid).
    pub start_price: f64,
    /// Standard deviation of the day's price change, in cents (random-walk volatility).
    pub daily_vol_cents: f64,
    /// Expected drift over the day in cents (negative: the price falls).
    pub drift_cents: f64,
    /// Probability that a price move jumps several cents at once (geometric size).
    pub jump_prob: f64,
    /// Mean jump size in cents when a jump happens.
    pub jump_mean_cents: f64,
    /// Probability weights of a quoted spread of 1, 2, 3, ... cents.
    pub spread_weights: Vec<f64>,
    /// Probability that an update redraws the spread (otherwise it persists).
    pub spread_change_prob: f64,
    /// Mean time between quote updates that do not move the price, in milliseconds.
    pub quote_interval_ms: f64,
    /// Mean displayed size at the best bid and offer, in shares.
    pub top_size: u64,
    /// Displayed size at each deeper level (one level per cent).
    pub depth_size: u64,
    /// Number of displayed levels on each side, including the best.
    pub depth_levels: usize,
    /// Exchange access fee charged to takers, dollars per share (Rule 610 cap: 0.003).
    pub access_fee: f64,
}

impl Default for MarketConfig {
    fn default() -> Self {
        MarketConfig {
            start_price: 50.0,
            // 70 cents on $50: 1.4% a day, about 22% annualized, a normal day for a liquid
            // large cap (was 100: 2%, a busy day).
            daily_vol_cents: 70.0,
            drift_cents: 0.0,
            jump_prob: 0.0,
            jump_mean_cents: 1.0,
            // Liquid large caps sit mostly at 1-2 cents: 70% of the time here, mean 2.0
            // cents (was 1-6 cents, mean 2.8: a mid cap).
            spread_weights: vec![0.40, 0.30, 0.18, 0.12],
            spread_change_prob: 0.2,
            quote_interval_ms: 500.0,
            top_size: 800,
            depth_size: 1_500,
            depth_levels: 5,
            access_fee: 0.0030,
        }
    }
}

impl MarketConfig {
    /// Checks each field against the range a real run can satisfy; returns `(field, why)`
    /// for the first bad one (NaN and infinities fail every range).
    pub fn validate(&self) -> Result<(), FieldError> {
        f64_in("start_price", self.start_price, -1e6, 1e6, "dollars")?;
        f64_in(
            "daily_vol_cents",
            self.daily_vol_cents,
            0.0,
            MAX_DAILY_VOL_CENTS,
            "cents",
        )?;
        f64_in("drift_cents", self.drift_cents, -1e6, 1e6, "cents")?;
        f64_in("jump_prob", self.jump_prob, 0.0, 1.0, "")?;
        f64_in(
            "jump_mean_cents",
            self.jump_mean_cents,
            1.0,
            MAX_JUMP_CENTS as f64,
            "cents",
        )?;
        int_in(
            "spread_weights",
            self.spread_weights.len(),
            1,
            MAX_SPREAD_CENTS,
            "weights (spreads of 1 to that many cents)",
        )?;
        for w in &self.spread_weights {
            f64_in("spread_weights", *w, 0.0, 1e6, "each")?;
        }
        if self.spread_weights.iter().sum::<f64>() <= 0.0 {
            return Err((
                "spread_weights",
                "must have a positive sum (all weights are 0)".into(),
            ));
        }
        f64_in("spread_change_prob", self.spread_change_prob, 0.0, 1.0, "")?;
        f64_in(
            "quote_interval_ms",
            self.quote_interval_ms,
            1.0,
            3_600_000.0,
            "milliseconds",
        )?;
        int_in("top_size", self.top_size, 1, MAX_DISPLAYED_SIZE, "shares")?;
        int_in(
            "depth_size",
            self.depth_size,
            0,
            MAX_DISPLAYED_SIZE,
            "shares",
        )?;
        int_in("depth_levels", self.depth_levels, 1, MAX_LEVELS, "levels")?;
        f64_in("access_fee", self.access_fee, 0.0, 0.01, "dollars/share")?;
        Ok(())
    }

    /// Checks what depends on the session length too (called by the scenario, which knows
    /// it): the drift must be one the walk can make, `|drift| <= 0.98 x moves x mean step`
    /// (the up-probability is kept within 0.01..0.99).
    pub fn validate_for_day(&self, day_seconds: f64) -> Result<(), FieldError> {
        let w = WalkRates::of(self, day_seconds);
        let reach = 0.98 * w.moves * w.mean_step;
        if self.drift_cents.abs() > reach {
            return Err((
                "drift_cents",
                format!(
                    "must be within -{reach:.0}..={reach:.0} cents for this daily_vol_cents and jump size: \
                     the walk makes about {:.0} moves of {:.2} cents on average (got {})",
                    w.moves, w.mean_step, self.drift_cents
                ),
            ));
        }
        Ok(())
    }

    /// Access fee in ticks per share (rounded to the nearest tick).
    pub fn fee_ticks(&self) -> Price {
        (self.access_fee * 10_000.0).round() as Price
    }
}

/// Largest `daily_vol_cents`: the walk then makes up to 25 million one-cent moves a day.
pub const MAX_DAILY_VOL_CENTS: f64 = 5_000.0;
/// Largest `jump_mean_cents` (jump sizes are capped at this many cents).
pub const MAX_JUMP_CENTS: i64 = 10_000;
/// Widest quoted spread a scenario may draw (cents): `spread_weights` has at most this many.
pub const MAX_SPREAD_CENTS: usize = 100;
/// Largest displayed size per level (`top_size`, `depth_size`), shares.
pub const MAX_DISPLAYED_SIZE: u64 = 10_000_000;

/// The rates of the quote path's random walk, derived from the scenario: shared by
/// [`quote_path`] and by the size estimate a run is checked against before it starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WalkRates {
    /// Expected number of price moves over the day (at least 1).
    pub moves: f64,
    /// Mean size of a move in cents.
    pub mean_step: f64,
    /// Probability of continuing a geometric jump (1 / mean jump).
    pub geo_p: f64,
    /// Price moves per second.
    pub move_rate: f64,
    /// Size-only quote updates per second.
    pub quote_rate: f64,
}

impl WalkRates {
    pub fn of(cfg: &MarketConfig, day_s: f64) -> WalkRates {
        let jump_mean = cfg.jump_mean_cents.max(1.0);
        // E[step^2] for the step-size mixture (1 cent, or geometric with mean `jump_mean`).
        let geo_p = 1.0 / jump_mean;
        let geo_m2 = (2.0 - geo_p) / (geo_p * geo_p);
        let m2 = (1.0 - cfg.jump_prob) + cfg.jump_prob * geo_m2;
        let m1 = (1.0 - cfg.jump_prob) + cfg.jump_prob * jump_mean;
        let moves = (cfg.daily_vol_cents * cfg.daily_vol_cents / m2).max(1.0);
        WalkRates {
            moves,
            mean_step: m1,
            geo_p,
            move_rate: moves / day_s,
            quote_rate: 1000.0 / cfg.quote_interval_ms,
        }
    }

    /// Expected number of quote updates over `day_s` seconds (price moves and size-only
    /// updates), plus the opening quote.
    pub fn expected_quotes(&self, day_s: f64) -> f64 {
        (self.move_rate + self.quote_rate) * day_s + 1.0
    }
}

/// Deepest displayed book the exchange keeps per side.
pub const MAX_LEVELS: usize = 16;

/// One point of the quote path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuoteAt {
    /// Simulated time in nanoseconds since the open.
    pub ts: u64,
    pub quote: Quote,
}

/// Twice the midpoint, in ticks (an integer even when the spread is an odd number of ticks).
#[inline]
pub fn mid2(q: &Quote) -> i128 {
    q.bid as i128 + q.ask as i128
}

/// Generate the day's quote path: `(time, NBBO)` in time order, first at time 0.
///
/// The price moves by whole cents as a random walk: the move rate is chosen so that the
/// variance over the day equals `daily_vol_cents^2` (accounting for jump sizes), and the
/// up-probability gives the expected drift. Between moves, size-only updates arrive every
/// `quote_interval_ms` on average. Sizes are drawn around `top_size`.
pub fn quote_path<R: Rng>(cfg: &MarketConfig, day_ns: u64, rng: &mut R) -> Vec<QuoteAt> {
    let day_s = day_ns as f64 / 1e9;
    let w = WalkRates::of(cfg, day_s);
    let (moves, m1, geo_p, move_rate) = (w.moves, w.mean_step, w.geo_p, w.move_rate);
    // drift = moves * m1 * (2p - 1)
    let p_up = (0.5 + cfg.drift_cents / (2.0 * moves * m1)).clamp(0.01, 0.99);
    let total_rate = move_rate + w.quote_rate;
    let gap = Exp::new(total_rate).expect("positive rate");

    let wsum: f64 = cfg.spread_weights.iter().sum();
    let draw_spread = |rng: &mut R| -> i64 {
        let mut u = rng.random::<f64>() * wsum;
        for (i, w) in cfg.spread_weights.iter().enumerate() {
            if u < *w {
                return i as i64 + 1;
            }
            u -= w;
        }
        cfg.spread_weights.len() as i64
    };
    let draw_size = |rng: &mut R| -> Qty {
        // Round lots around the mean: uniform 0.25x..1.75x, at least 100.
        let f = 0.25 + 1.5 * rng.random::<f64>();
        (((cfg.top_size as f64 * f) / 100.0).round() as u64).max(1) * 100
    };

    let mut spread_c = draw_spread(rng);
    // Centre the opening quote on start_price: bid = round(price - spread/2) in cents.
    let mut bid_c = (cfg.start_price * 100.0 - spread_c as f64 / 2.0).round() as i64;
    let mk = |bid_c: i64, spread_c: i64, rng: &mut R| Quote {
        bid: bid_c * TICKS_PER_CENT,
        ask: (bid_c + spread_c) * TICKS_PER_CENT,
        bid_size: draw_size(rng),
        ask_size: draw_size(rng),
    };
    let mut out = Vec::with_capacity((total_rate * day_s) as usize + 16);
    out.push(QuoteAt {
        ts: 0,
        quote: mk(bid_c, spread_c, rng),
    });
    let mut t = 0.0f64;
    loop {
        t += gap.sample(rng);
        if t >= day_s {
            break;
        }
        if rng.random::<f64>() < move_rate / total_rate {
            let mut step = 1i64;
            if cfg.jump_prob > 0.0 && rng.random::<f64>() < cfg.jump_prob {
                // Geometric number of cents with mean `jump_mean`.
                step = 1;
                while rng.random::<f64>() > geo_p && step < MAX_JUMP_CENTS {
                    step += 1;
                }
            }
            if rng.random::<f64>() < p_up {
                bid_c += step;
            } else {
                bid_c -= step;
            }
        }
        if rng.random::<f64>() < cfg.spread_change_prob {
            // Keep the mid close: widen/narrow around it.
            let mid2c = 2 * bid_c + spread_c;
            spread_c = draw_spread(rng);
            // When the new spread's parity differs the mid must move half a cent: up or
            // down at random, so that spread changes add no drift.
            let twice_bid = mid2c - spread_c;
            bid_c = twice_bid.div_euclid(2);
            if twice_bid.rem_euclid(2) == 1 && rng.random::<bool>() {
                bid_c += 1;
            }
        }
        let ts = (t * 1e9) as u64;
        out.push(QuoteAt {
            ts,
            quote: mk(bid_c, spread_c, rng),
        });
    }
    out
}

/// Index of the quote in force at `ts` (the last one at or before it).
pub fn quote_index_at(path: &[QuoteAt], ts: u64) -> usize {
    path.partition_point(|q| q.ts <= ts).saturating_sub(1)
}

/// One side of the displayed book: level prices and remaining sizes, best first.
#[derive(Clone, Copy, Debug)]
struct SideBook {
    price: [Price; MAX_LEVELS],
    size: [Qty; MAX_LEVELS],
    levels: usize,
}

/// The simulated exchange. It displays `depth_levels` levels per side, one per cent from
/// the NBBO: the best with the quote's size, deeper ones with `depth_size` each. Routed
/// orders take displayed size best price first; what they take stays taken until the next
/// quote refreshes the book. No allocation after construction.
#[derive(Clone, Debug)]
pub struct SimExchange {
    bids: SideBook,
    asks: SideBook,
    depth_size: Qty,
    levels: usize,
    /// Shares executed here (routed and hedge), for fee accounting.
    pub executed: Qty,
}

impl SimExchange {
    pub fn new(cfg: &MarketConfig) -> Self {
        let empty = SideBook {
            price: [0; MAX_LEVELS],
            size: [0; MAX_LEVELS],
            levels: 0,
        };
        SimExchange {
            bids: empty,
            asks: empty,
            depth_size: cfg.depth_size,
            levels: cfg.depth_levels.clamp(1, MAX_LEVELS),
            executed: 0,
        }
    }
}

impl Venue for SimExchange {
    fn on_quote(&mut self, q: &Quote) {
        for (book, best, size, dir) in [
            (&mut self.bids, q.bid, q.bid_size, -1i64),
            (&mut self.asks, q.ask, q.ask_size, 1i64),
        ] {
            book.levels = self.levels;
            for i in 0..self.levels {
                // Saturating: quotes near the i64 limits simply stack at the limit.
                book.price[i] = best.saturating_add(dir * TICKS_PER_CENT * i as i64);
                book.size[i] = if i == 0 { size } else { self.depth_size };
            }
        }
    }

    fn execute<F: FnMut(Price, Qty)>(
        &mut self,
        side: Side,
        qty: Qty,
        limit: Option<Price>,
        mut fill: F,
    ) -> Qty {
        let book = match side {
            Side::Buy => &mut self.asks,
            Side::Sell => &mut self.bids,
        };
        let mut left = qty;
        for i in 0..book.levels {
            if left == 0 {
                break;
            }
            let p = book.price[i];
            if let Some(l) = limit {
                if !side.accepts(l, p) {
                    break;
                }
            }
            let n = left.min(book.size[i]);
            if n > 0 {
                book.size[i] -= n;
                left -= n;
                fill(p, n);
            }
        }
        let done = qty - left;
        self.executed += done;
        done
    }

    fn displayed(&self, side: Side, limit: Option<Price>) -> Qty {
        let book = match side {
            Side::Buy => &self.asks,
            Side::Sell => &self.bids,
        };
        (0..book.levels)
            .take_while(|&i| limit.is_none_or(|l| side.accepts(l, book.price[i])))
            .map(|i| book.size[i])
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn q(bid: i64, ask: i64, bs: u64, as_: u64) -> Quote {
        Quote {
            bid,
            ask,
            bid_size: bs,
            ask_size: as_,
        }
    }

    #[test]
    fn exchange_walks_levels_and_respects_limit() {
        let cfg = MarketConfig {
            depth_size: 300,
            depth_levels: 3,
            ..Default::default()
        };
        let mut x = SimExchange::new(&cfg);
        x.on_quote(&q(10_000, 10_100, 200, 100));
        let mut fills = vec![];
        // Buy 500: 100 at 1.0100, 300 at 1.0200, 100 at 1.0300.
        let n = x.execute(Side::Buy, 500, None, |p, n| fills.push((p, n)));
        assert_eq!(n, 500);
        assert_eq!(fills, vec![(10_100, 100), (10_200, 300), (10_300, 100)]);
        // What was taken stays taken: only 200 left at 1.0300, and a limit of 1.0200 gets nothing.
        fills.clear();
        let n = x.execute(Side::Buy, 500, Some(10_200), |p, n| fills.push((p, n)));
        assert_eq!(n, 0);
        let n = x.execute(Side::Buy, 500, None, |p, n| fills.push((p, n)));
        assert_eq!(n, 200);
        assert_eq!(fills, vec![(10_300, 200)]);
        // Sells walk down from the bid.
        fills.clear();
        let n = x.execute(Side::Sell, 250, Some(9_900), |p, n| fills.push((p, n)));
        assert_eq!(n, 250);
        assert_eq!(fills, vec![(10_000, 200), (9_900, 50)]);
        assert_eq!(x.executed, 950);
        // What is still displayed: bids 250 at 0.9900 and 300 at 0.9800; asks none.
        assert_eq!(x.displayed(Side::Sell, None), 550);
        assert_eq!(x.displayed(Side::Sell, Some(9_900)), 250);
        assert_eq!(x.displayed(Side::Sell, Some(10_000)), 0);
        assert_eq!(x.displayed(Side::Buy, None), 0);
    }

    #[test]
    fn quote_path_is_valid_and_seeded() {
        let cfg = MarketConfig::default();
        let a = quote_path(&cfg, 3_600_000_000_000, &mut ChaCha8Rng::seed_from_u64(1));
        let b = quote_path(&cfg, 3_600_000_000_000, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(a, b);
        assert!(a.len() > 1000);
        for w in a.windows(2) {
            assert!(w[0].ts <= w[1].ts);
        }
        for p in &a {
            assert!(p.quote.bid < p.quote.ask);
            assert_eq!(p.quote.bid % TICKS_PER_CENT, 0);
            assert_eq!(p.quote.ask % TICKS_PER_CENT, 0);
        }
    }

    #[test]
    fn validate_names_field() {
        let c = MarketConfig {
            depth_levels: 0,
            ..Default::default()
        };
        assert_eq!(c.validate().unwrap_err().0, "depth_levels");
    }
}
