//! Latency histograms for the whole harness, one home for each of: the constructor (fixed
//! bounds allocated up front; records saturate, a value past the top bound counts as the
//! top bound rather than resizing mid-run), the percentile summary every report quotes
//! ([`Percentiles`]) and the `.hgrm` percentile-distribution text that HdrHistogram's
//! plotter reads ([`hgrm`]). `flowmatch latency`, `flowmatch run`'s report and `compare`
//! all use these, so their figures and files are made the same way.

use crate::clock::TscClock;
use flowmatch_core::engine::Output;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::fmt::Write as _;

/// Lowest recordable value: 1 ns.
pub const LOW_NS: u64 = 1;
/// Highest recordable value: 10 s. Anything slower saturates here.
pub const HIGH_NS: u64 = 10_000_000_000;
/// Significant decimal digits kept (relative error below 0.1%).
pub const SIGFIG: u8 = 3;

/// A histogram of nanosecond latencies with the fixed bounds above.
pub fn new_histogram() -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(LOW_NS, HIGH_NS, SIGFIG)
        .expect("constant histogram bounds are valid");
    h.auto(false);
    h
}

/// The three paths a command takes, each with its own histogram.
pub struct PathHistograms {
    /// Enqueue -> dequeue by the engine.
    pub queue: Histogram<u64>,
    /// Dequeue -> publication of the first event.
    pub service: Histogram<u64>,
    /// Intended send time -> publication of the first event.
    pub e2e: Histogram<u64>,
}

impl Default for PathHistograms {
    fn default() -> Self {
        PathHistograms {
            queue: new_histogram(),
            service: new_histogram(),
            e2e: new_histogram(),
        }
    }
}

impl PathHistograms {
    /// Records one command's three latencies (ns). Never allocates or resizes.
    #[inline]
    pub fn record(&mut self, queue_ns: u64, service_ns: u64, e2e_ns: u64) {
        self.queue.saturating_record(queue_ns.max(LOW_NS));
        self.service.saturating_record(service_ns.max(LOW_NS));
        self.e2e.saturating_record(e2e_ns.max(LOW_NS));
    }

    /// Records the three paths of a published event's message, from the raw TSC stamps the
    /// engine path carries (converted to ns here, on the client).
    #[inline]
    pub fn record_output<E>(&mut self, clock: &TscClock, o: &Output<E>) {
        self.record(
            clock.delta_ns(o.t_enqueue, o.t_dequeue),
            clock.delta_ns(o.t_dequeue, o.t_publish),
            clock.delta_ns(o.t_intended, o.t_publish),
        );
    }

    /// `(name, histogram)` for each path, in report order.
    pub fn paths(&self) -> [(&'static str, &Histogram<u64>); 3] {
        [
            ("queue", &self.queue),
            ("service", &self.service),
            ("e2e", &self.e2e),
        ]
    }
}

/// The percentiles every report quotes, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p99_9: u64,
    pub p99_99: u64,
    pub max: u64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: h.len(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p99_9: h.value_at_quantile(0.999),
            p99_99: h.value_at_quantile(0.9999),
            max: h.max(),
        }
    }
}

/// The `.hgrm` percentile distribution of `h` (values recorded in ns, written in
/// microseconds), in the layout of HdrHistogram's `outputPercentileDistribution`: a
/// `Value Percentile TotalCount 1/(1-Percentile)` table with 5 ticks per half distance to
/// 100%, then the `#[Mean ...]`, `#[Max ...]` and `#[Buckets ...]` footer.
pub fn hgrm(h: &Histogram<u64>) -> String {
    const SCALE: f64 = 1_000.0; // ns -> us
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    if !h.is_empty() {
        for v in h.iter_quantiles(5) {
            let q = v.quantile_iterated_to();
            let value = h.highest_equivalent(v.value_iterated_to()) as f64 / SCALE;
            if q < 1.0 {
                let _ = writeln!(
                    s,
                    "{:>12.3} {:>2.12} {:>10} {:>14.2}",
                    value,
                    q,
                    v.count_since_last_iteration(),
                    1.0 / (1.0 - q)
                );
            } else {
                let _ = writeln!(
                    s,
                    "{:>12.3} {:>2.12} {:>10}",
                    value,
                    q,
                    v.count_since_last_iteration()
                );
            }
        }
    }
    let mean = if h.is_empty() { 0.0 } else { h.mean() / SCALE };
    let stdev = if h.is_empty() { 0.0 } else { h.stdev() / SCALE };
    let _ = writeln!(
        s,
        "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]",
        mean, stdev
    );
    let _ = writeln!(
        s,
        "#[Max     = {:>12.3}, Total count    = {:>12}]",
        h.max() as f64 / SCALE,
        h.len()
    );
    let _ = writeln!(
        s,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        h.buckets(),
        sub_buckets(h.sigfig())
    );
    s
}

/// Sub-buckets per bucket for a precision of `sigfig` digits, as HdrHistogram sizes them:
/// the power of two at or above `2 * 10^sigfig`.
fn sub_buckets(sigfig: u8) -> u64 {
    (2 * 10u64.pow(sigfig as u32)).next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturates_instead_of_resizing_and_percentiles_match_hand_values() {
        let mut h = PathHistograms::default();
        for v in 1..=1000u64 {
            h.record(v * 1000, 0, v * 1000);
        }
        h.record(u64::MAX, 1, 1); // saturates at the top bound
        let p = Percentiles::of(&h.queue);
        assert_eq!(p.count, 1001);
        // 1001 values: p50 is the 501st (501 us), p99 the 991st (991 us), each reported as
        // the top of its bucket (within 0.1% above).
        assert!((501_000..=501_600).contains(&p.p50), "{}", p.p50);
        assert!((991_000..=992_000).contains(&p.p99), "{}", p.p99);
        assert!(
            p.max >= HIGH_NS && p.max <= HIGH_NS + HIGH_NS / 500,
            "{}",
            p.max
        );
        // Zero is clamped to the lowest bound, not lost.
        assert_eq!(Percentiles::of(&h.service).count, 1001);
    }

    #[test]
    fn hgrm_has_table_and_footer() {
        let mut h = new_histogram();
        for v in [1_000u64, 2_000, 3_000, 1_000_000] {
            h.record(v).unwrap();
        }
        let s = hgrm(&h);
        let mut lines = s.lines();
        let header = lines.next().unwrap();
        assert!(header.contains("Value") && header.contains("1/(1-Percentile)"));
        assert!(s.contains("#[Mean    ="));
        assert!(s.contains("Total count    =            4]"));
        // The last table row reaches percentile 1.0 at the max value (in us).
        let last_row = s
            .lines()
            .rfind(|l| !l.starts_with('#') && !l.is_empty())
            .unwrap();
        assert!(last_row.contains("1.000000000000"), "{last_row}");
        assert!(last_row.trim_start().starts_with("100"), "{last_row}");
        assert!(hgrm(&new_histogram()).contains("Total count    =            0]"));
        assert!(s.contains("SubBuckets     =         2048]"));
    }
}
