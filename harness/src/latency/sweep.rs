//! The open-loop rate sweep: which rates to try, when to go on, and where the saturation
//! knee is. Pure functions over the sweep's results, so every rule here is tested without a
//! clock.
//!
//! # The knee
//! A rate is *sustained* when the engine kept up with it: achieved at least
//! [`SUSTAINED_SHARE`] of the offered rate, sending was not cut short, and the median
//! end-to-end latency stayed under [`KNEE_P50_NS`]. The median, not a high percentile,
//! decides, because on a shared machine one descheduling makes p99 noisy at any rate while
//! a backlog moves the median. The knee lies between the highest sustained rate and the
//! lowest rate above it that was not: only when such a higher rate was tried has the knee
//! been *found*. A sweep whose highest rate was sustained says so ([`Knee::NotReached`])
//! instead of calling that rate the knee.
//!
//! # Going on until the knee
//! The default plan ends at 3 M/s, below what the engine can sustain on a quiet machine. So
//! after the planned rates, while the highest rate tried is still sustained, the sweep
//! tries [`STEP`] times that rate, up to a bound: [`HEADROOM`] times the closed-loop
//! throughput measured in the same invocation (no open loop can sustain much more than the
//! engine's saturated rate), or [`MAX_RATE`] without a closed-loop run.

use serde::Serialize;

/// Median end-to-end latency (ns) above which a rate counts as saturated: the median
/// command is then waiting behind a backlog, not just crossing two cores and a book.
pub const KNEE_P50_NS: u64 = 20_000;
/// Share of the offered rate a sustained run must achieve.
pub const SUSTAINED_SHARE: f64 = 0.97;
/// Factor between consecutive rates when the sweep goes on past its plan.
pub const STEP: f64 = 1.5;
/// How far above the closed-loop throughput the sweep may go looking for the knee.
pub const HEADROOM: f64 = 1.5;
/// Highest rate any run may be offered (commands/s), and the sweep's bound when there is
/// no closed-loop run to derive one from.
pub const MAX_RATE: f64 = 1e9;

/// The rule, as the summary states it.
pub const RULE: &str = "a rate is sustained when achieved >= 97% of offered, sending was not cut short and e2e p50 <= 20 us; the knee lies between the highest sustained rate and the lowest higher rate that was not sustained";

/// One open-loop rate of the sweep, as measured through the book.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub offered: f64,
    pub achieved: f64,
    /// Median end-to-end latency, ns.
    pub e2e_p50_ns: u64,
    /// The run fell so far behind that sending was cut short.
    pub truncated: bool,
}

impl Point {
    /// The engine kept up with this rate (see the module doc).
    pub fn sustained(&self) -> bool {
        !self.truncated
            && self.achieved >= SUSTAINED_SHARE * self.offered
            && self.e2e_p50_ns <= KNEE_P50_NS
    }
}

/// Where the saturation knee of a sweep is.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "found", rename_all = "snake_case")]
pub enum Knee {
    /// Between `sustained` (the highest rate sustained) and `failed` (the lowest rate above
    /// it that was not).
    Between { sustained: f64, failed: f64 },
    /// Every rate tried up to `highest` that is above the last unsustained one was
    /// sustained: the knee is above `highest`.
    NotReached { highest: f64 },
    /// No rate tried was sustained; the knee is below `lowest`.
    BelowLowest { lowest: f64 },
}

impl Knee {
    /// One line for the console.
    pub fn sentence(&self) -> String {
        match *self {
            Knee::Between { sustained, failed } => format!(
                "saturation knee: between {sustained:.0} commands/s (sustained) and {failed:.0} commands/s (not sustained)"
            ),
            Knee::NotReached { highest } => format!(
                "saturation knee: not reached; the highest rate tried, {highest:.0} commands/s, was sustained"
            ),
            Knee::BelowLowest { lowest } => format!(
                "saturation knee: below {lowest:.0} commands/s; no rate tried was sustained"
            ),
        }
    }
}

/// The knee of `points` (in any order; `None` for no points). The highest sustained rate
/// decides, so a noisy low rate does not hide a clean higher one.
pub fn knee(points: &[Point]) -> Option<Knee> {
    let lowest = points.iter().map(|p| p.offered).min_by(f64::total_cmp)?;
    let Some(sustained) = points
        .iter()
        .filter(|p| p.sustained())
        .map(|p| p.offered)
        .max_by(f64::total_cmp)
    else {
        return Some(Knee::BelowLowest { lowest });
    };
    let failed = points
        .iter()
        .filter(|p| !p.sustained() && p.offered > sustained)
        .map(|p| p.offered)
        .min_by(f64::total_cmp);
    Some(match failed {
        Some(failed) => Knee::Between { sustained, failed },
        None => Knee::NotReached { highest: sustained },
    })
}

/// The bound the sweep may extend to: [`HEADROOM`] times the closed-loop throughput if
/// one was measured, else [`MAX_RATE`]; never above [`MAX_RATE`].
pub fn bound(closed_loop_rate: Option<f64>) -> f64 {
    match closed_loop_rate {
        Some(r) if r.is_finite() && r > 0.0 => (HEADROOM * r).min(MAX_RATE),
        _ => MAX_RATE,
    }
}

/// The next rate to try once the planned rates are done: [`STEP`] times the highest rate
/// tried while the knee is not reached, if that stays within `bound`; `None` when the knee
/// is found (or lies below the lowest rate) or the next step would pass the bound.
pub fn next_rate(points: &[Point], bound: f64) -> Option<f64> {
    match knee(points)? {
        Knee::NotReached { highest } => {
            let next = (highest * STEP).round();
            (next <= bound.min(MAX_RATE)).then_some(next)
        }
        Knee::Between { .. } | Knee::BelowLowest { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(offered: f64, achieved: f64, e2e_p50_ns: u64, truncated: bool) -> Point {
        Point {
            offered,
            achieved,
            e2e_p50_ns,
            truncated,
        }
    }

    #[test]
    fn sustained_needs_rate_median_and_no_truncation() {
        assert!(p(1e6, 0.97e6, 20_000, false).sustained());
        assert!(!p(1e6, 0.969e6, 900, false).sustained(), "short of 97%");
        assert!(!p(1e6, 1e6, 20_001, false).sustained(), "backlogged median");
        assert!(!p(1e6, 1e6, 900, true).sustained(), "sending cut short");
    }

    #[test]
    fn knee_lies_between_highest_sustained_and_next_failed_rate() {
        let r = [
            p(1e6, 0.999e6, 900, false),
            p(5e5, 5e5, 800, false),
            p(2e6, 1.99e6, 5_000, false),
            p(3e6, 2.95e6, 3_000_000, false), // kept up on average but backlogged
            p(4e6, 2.5e6, 900, false),        // fell behind
        ];
        assert_eq!(
            knee(&r),
            Some(Knee::Between {
                sustained: 2e6,
                failed: 3e6
            })
        );
        // A noisy low rate does not hide a clean higher one.
        assert_eq!(
            knee(&[p(2.5e5, 2.5e5, 2_000_000, false), p(1e6, 1e6, 500, false)]),
            Some(Knee::NotReached { highest: 1e6 })
        );
        assert_eq!(
            knee(&[p(1e6, 1e5, 1, false), p(2e6, 1e5, 1, false)]),
            Some(Knee::BelowLowest { lowest: 1e6 })
        );
        assert_eq!(knee(&[]), None);
    }

    /// Defect 7 of issue 9: the committed default sweep sustained every rate up to 3 M/s,
    /// its highest, and the old rule called 3 M/s "the knee".
    #[test]
    fn a_sweep_whose_top_rate_was_sustained_has_not_found_the_knee() {
        let default_sweep: Vec<Point> = [250e3, 500e3, 1e6, 1.5e6, 2e6, 3e6]
            .iter()
            .map(|&r| p(r, r, 600, false))
            .collect();
        let k = knee(&default_sweep).unwrap();
        assert_eq!(k, Knee::NotReached { highest: 3e6 });
        assert!(k.sentence().contains("not reached"), "{}", k.sentence());
        // The closed loop of the same run did 6.3 M/s: the sweep goes on, 1.5x per step.
        assert_eq!(next_rate(&default_sweep, bound(Some(6.3e6))), Some(4.5e6));
    }

    /// A fake engine that sustains anything up to 7 M/s, driven through the sweep's rules:
    /// the plan is extended 3M -> 4.5M -> 6.75M -> 10.125M, and the knee is found between
    /// 6.75M and 10.125M (the closed loop measured 7M, bound 10.5M).
    #[test]
    fn the_sweep_goes_on_until_the_knee_is_found() {
        let engine = |rate: f64| {
            let achieved = rate.min(7e6);
            let p50 = if rate <= 7e6 { 700 } else { 5_000_000 };
            p(rate, achieved, p50, false)
        };
        let mut points: Vec<Point> = [250e3, 500e3, 1e6, 1.5e6, 2e6, 3e6]
            .iter()
            .map(|&r| engine(r))
            .collect();
        let limit = bound(Some(7e6));
        while let Some(r) = next_rate(&points, limit) {
            points.push(engine(r));
        }
        let tried: Vec<f64> = points[6..].iter().map(|p| p.offered).collect();
        assert_eq!(tried, [4.5e6, 6.75e6, 10.125e6]);
        assert_eq!(
            knee(&points),
            Some(Knee::Between {
                sustained: 6.75e6,
                failed: 10.125e6
            })
        );
    }

    /// An engine that sustains everything the bound allows: the sweep stops at the bound and
    /// says the knee was not reached (it never claims the top rate as the knee).
    #[test]
    fn the_sweep_stops_at_its_bound_and_says_the_knee_was_not_reached() {
        let mut points = vec![p(1e6, 1e6, 500, false)];
        let limit = bound(Some(2e6)); // 3M
        while let Some(r) = next_rate(&points, limit) {
            points.push(p(r, r, 500, false));
        }
        let tried: Vec<f64> = points.iter().map(|p| p.offered).collect();
        assert_eq!(
            tried,
            [1e6, 1.5e6, 2.25e6],
            "3.375M would pass the 3M bound"
        );
        assert_eq!(knee(&points), Some(Knee::NotReached { highest: 2.25e6 }));
        // Without a closed loop the bound is the highest rate any run may be offered.
        assert_eq!(bound(None), MAX_RATE);
        assert_eq!(bound(Some(1e12)), MAX_RATE);
        assert_eq!(bound(Some(f64::NAN)), MAX_RATE);
        assert_eq!(next_rate(&[p(9e8, 9e8, 1, false)], MAX_RATE), None);
    }

    #[test]
    fn a_found_knee_or_nothing_sustained_ends_the_sweep() {
        let found = [p(1e6, 1e6, 500, false), p(2e6, 1e6, 500, false)];
        assert_eq!(next_rate(&found, MAX_RATE), None);
        assert_eq!(next_rate(&[p(1e6, 1e3, 500, false)], MAX_RATE), None);
        assert_eq!(next_rate(&[], MAX_RATE), None);
    }
}
