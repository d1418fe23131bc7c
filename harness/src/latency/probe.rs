//! The platform jitter probe, and the model of what its gaps alone do to an open-loop
//! stream.
//!
//! # The probe
//! One thread per core (pinned unless told otherwise), all started at the same TSC instant,
//! each doing nothing but read the clock in a loop. Whenever two consecutive reads are more
//! than [`RECORD_NS`] apart, the thread was not running in between (a timer tick, an
//! interrupt, the host descheduling the vCPU): that interval is a *gap*. Each thread keeps
//! its gaps in a buffer allocated and pre-faulted before the start, plus counters per
//! threshold, so nothing on the probe's loop allocates or faults.
//!
//! # The model ([`implied_delays`])
//! The pipeline needs both cores: the client core sends each command, the engine core takes
//! it and publishes its first event (the end of the end-to-end measurement). A command due
//! at `t` that falls inside a client gap (`start < t < end`) is sent at the gap's end `s`;
//! if `s` falls inside an engine gap it is taken at that gap's end `e`. Its delay is
//! `e - t`. That is all the model charges: the pipeline itself costs nothing and catches up
//! instantly, so the latency curve it implies is a **floor** that no software running on
//! these two cores can beat. When the gaps of the two cores do not overlap, the delay is
//! simply the remaining length of the gap covering `t` on either core.
//!
//! Over a stream spaced `period` apart, a gap of length `g` delays about `(g - x) / period`
//! commands by more than `x`; so the gaps longer than 5 µs put
//! `sum(g - 5 µs) / wall time` of all commands past 5 µs, whatever the rate.

use super::hist::{new_histogram, Percentiles};
use crate::clock::TscClock;
use serde::Serialize;
use std::time::Duration;

/// Gaps longer than this (ns) are recorded. Two back-to-back TSC reads on this machine are
/// ~20-40 ns apart, so a 1 µs gap is unambiguously time the thread did not run.
pub const RECORD_NS: u64 = 1_000;
/// The thresholds the summary counts gaps over (ns): 1 µs, 5 µs, 10 µs, 100 µs, 1 ms.
pub const THRESHOLDS_NS: [u64; 5] = [1_000, 5_000, 10_000, 100_000, 1_000_000];
/// The latency bar the floor is quoted against (ns).
pub const BAR_NS: u64 = 5_000;
/// Most gaps kept per core (16 bytes each); later gaps are still counted but not kept.
pub const MAX_GAPS: usize = 1 << 18;

/// One interval in which a thread did not run: its last clock read before (`start`) and its
/// first after (`end`), in ns from the probe's common start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub start: u64,
    pub end: u64,
}

impl Gap {
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `start < t < end`: a command due at `t` cannot be handled before `end`.
    #[inline]
    fn covers(&self, t: u64) -> bool {
        self.start < t && t < self.end
    }
}

/// What one probe thread saw.
#[derive(Clone, Debug)]
pub struct CoreTrace {
    /// Index of the core in the core list (`None` if the thread was not pinned).
    pub core: Option<usize>,
    pub pinned: bool,
    /// Gaps longer than [`RECORD_NS`], in time order (at most [`MAX_GAPS`]).
    pub gaps: Vec<Gap>,
    /// Gaps longer than [`RECORD_NS`] that did not fit in `gaps` (counted below anyway).
    pub dropped: u64,
    /// Gaps longer than each of [`THRESHOLDS_NS`].
    pub over: [u64; 5],
    /// Total length of the gaps longer than [`BAR_NS`] (ns).
    pub lost_over_bar_ns: u64,
    pub max_gap_ns: u64,
    /// Clock reads made.
    pub reads: u64,
    /// The probe's length (ns).
    pub wall_ns: u64,
}

/// Runs the probe for `duration` on every core in `cores` at once (one thread each, pinned
/// to it if `pin`), or on two unpinned threads if `cores` is empty. Returns one trace per
/// thread, in the order of `cores`.
pub fn run(
    cores: &[core_affinity::CoreId],
    pin: bool,
    duration: Duration,
    clock: &TscClock,
) -> Vec<CoreTrace> {
    let slots: Vec<Option<(usize, core_affinity::CoreId)>> = if cores.is_empty() {
        vec![None, None]
    } else {
        cores.iter().copied().enumerate().map(Some).collect()
    };
    let ticks = |ns: f64| clock.ns_to_ticks(ns).max(1.0) as u64;
    let record_ticks = ticks(RECORD_NS as f64);
    let wall_ticks = ticks(duration.as_nanos() as f64);
    // A common start far enough ahead for every thread to be spawned and pinned.
    let start = clock.raw() + ticks(20e6);
    let end = start + wall_ticks;
    std::thread::scope(|s| {
        let handles: Vec<_> = slots
            .iter()
            .map(|slot| {
                let slot = *slot;
                s.spawn(move || {
                    let pinned = match (pin, slot) {
                        (true, Some((_, id))) => core_affinity::set_for_current(id),
                        _ => false,
                    };
                    // Pre-fault the gap buffer: the loop below must not take page faults.
                    let mut raw: Vec<(u64, u64)> = vec![(1, 1); MAX_GAPS];
                    raw.clear();
                    let mut dropped = 0u64;
                    let mut reads = 0u64;
                    let mut last = clock.raw();
                    while last < start {
                        last = clock.raw();
                    }
                    loop {
                        let now = clock.raw();
                        reads += 1;
                        if now.wrapping_sub(last) > record_ticks {
                            if raw.len() < MAX_GAPS {
                                raw.push((last, now));
                            } else {
                                dropped += 1;
                            }
                        }
                        last = now;
                        if now >= end {
                            break;
                        }
                    }
                    (slot.map(|(i, _)| i), pinned, raw, dropped, reads)
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().ok())
            .map(|(core, pinned, raw, dropped, reads)| {
                let gaps: Vec<Gap> = raw
                    .iter()
                    .map(|&(a, b)| Gap {
                        start: clock.delta_ns(start, a),
                        end: clock.delta_ns(start, b),
                    })
                    .filter(|g| g.len() > RECORD_NS)
                    .collect();
                let mut t = CoreTrace {
                    core,
                    pinned,
                    dropped,
                    over: [0; 5],
                    lost_over_bar_ns: 0,
                    max_gap_ns: 0,
                    reads,
                    wall_ns: clock.delta_ns(start, end),
                    gaps: Vec::new(),
                };
                t.count(&gaps);
                t.gaps = gaps;
                t
            })
            .collect()
    })
}

impl CoreTrace {
    /// A trace built from a gap list (tests, and the probe itself).
    pub fn from_gaps(gaps: Vec<Gap>, wall_ns: u64) -> Self {
        let mut t = CoreTrace {
            core: None,
            pinned: false,
            gaps: Vec::new(),
            dropped: 0,
            over: [0; 5],
            lost_over_bar_ns: 0,
            max_gap_ns: 0,
            reads: 0,
            wall_ns,
        };
        t.count(&gaps);
        t.gaps = gaps;
        t
    }

    fn count(&mut self, gaps: &[Gap]) {
        for g in gaps {
            let len = g.len();
            for (k, &th) in THRESHOLDS_NS.iter().enumerate() {
                if len > th {
                    self.over[k] += 1;
                }
            }
            if len > BAR_NS {
                self.lost_over_bar_ns += len;
            }
            self.max_gap_ns = self.max_gap_ns.max(len);
        }
    }
}

/// Calls `f(t, delay)` for each command of an open-loop stream due at `t = k * period_ns`
/// (`k = 0, 1, ...`, `t < window_ns`): `delay` is how long the gaps alone hold it (see the
/// module docs: first the client core's gap covering `t`, then the engine core's gap
/// covering the time it was sent). Both gap lists must be in time order and
/// non-overlapping within themselves (as one thread's gaps are). Returns the number of
/// commands. A non-positive or non-finite period yields none.
pub fn implied_delays(
    client: &[Gap],
    engine: &[Gap],
    window_ns: u64,
    period_ns: f64,
    mut f: impl FnMut(u64, u64),
) -> u64 {
    if !(period_ns.is_finite() && period_ns > 0.0) {
        return 0;
    }
    let (mut ci, mut ei) = (0usize, 0usize);
    let mut k = 0u64;
    loop {
        let t = (k as f64 * period_ns) as u64;
        if t >= window_ns {
            break;
        }
        while ci < client.len() && client[ci].end <= t {
            ci += 1;
        }
        let sent = match client.get(ci) {
            Some(g) if g.covers(t) => g.end,
            _ => t,
        };
        while ei < engine.len() && engine[ei].end <= sent {
            ei += 1;
        }
        let taken = match engine.get(ei) {
            Some(g) if g.covers(sent) => g.end,
            _ => sent,
        };
        f(t, taken - t);
        k += 1;
    }
    k
}

/// The latency floor the gaps imply for an open-loop stream at `rate` commands/s.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Floor {
    pub rate: f64,
    /// Commands in the modelled stream (rate x probe length).
    pub commands: u64,
    /// Fraction of them the gaps alone delay by more than [`BAR_NS`].
    pub over_bar_fraction: f64,
    /// The delay distribution the gaps imply (ns; a command no gap touches counts as 0,
    /// recorded as 1 ns). Its p99 is the floor under the measured e2e p99.
    pub delay_ns: Percentiles,
}

/// Models a stream at `rate` over the probe's window with `client`'s and `engine`'s gaps.
pub fn floor(client: &CoreTrace, engine: &CoreTrace, rate: f64) -> Floor {
    let mut h = new_histogram();
    let mut over = 0u64;
    let window = client.wall_ns.min(engine.wall_ns);
    let n = implied_delays(&client.gaps, &engine.gaps, window, 1e9 / rate, |_, d| {
        if d > BAR_NS {
            over += 1;
        }
        h.saturating_record(d.max(1));
    });
    Floor {
        rate,
        commands: n,
        over_bar_fraction: if n > 0 { over as f64 / n as f64 } else { 0.0 },
        delay_ns: Percentiles::of(&h),
    }
}

/// Total time (ns) both lists are in a gap longer than `min_len` at once: the host pausing
/// the whole VM rather than one vCPU.
pub fn overlap_ns(a: &[Gap], b: &[Gap], min_len: u64) -> u64 {
    let a: Vec<Gap> = a.iter().copied().filter(|g| g.len() > min_len).collect();
    let b: Vec<Gap> = b.iter().copied().filter(|g| g.len() > min_len).collect();
    let (mut i, mut j, mut total) = (0usize, 0usize, 0u64);
    while i < a.len() && j < b.len() {
        let lo = a[i].start.max(b[j].start);
        let hi = a[i].end.min(b[j].end);
        total += hi.saturating_sub(lo);
        if a[i].end < b[j].end {
            i += 1;
        } else {
            j += 1;
        }
    }
    total
}

/// Per-core summary for the report.
#[derive(Clone, Debug, Serialize)]
pub struct CoreSummary {
    pub core: Option<usize>,
    pub pinned: bool,
    pub clock_reads: u64,
    pub gaps_over_1us: u64,
    pub gaps_over_5us: u64,
    pub gaps_over_10us: u64,
    pub gaps_over_100us: u64,
    pub gaps_over_1ms: u64,
    /// Time lost in gaps longer than 5 µs (ns), and as a percentage of the probe's length.
    pub lost_over_5us_ns: u64,
    pub lost_over_5us_pct: f64,
    pub max_gap_ns: u64,
    /// Gaps over 1 µs beyond the buffer (counted in `gaps_over_*`, not in the model).
    pub gaps_not_kept: u64,
}

impl From<&CoreTrace> for CoreSummary {
    fn from(t: &CoreTrace) -> Self {
        CoreSummary {
            core: t.core,
            pinned: t.pinned,
            clock_reads: t.reads,
            gaps_over_1us: t.over[0] + t.dropped,
            gaps_over_5us: t.over[1],
            gaps_over_10us: t.over[2],
            gaps_over_100us: t.over[3],
            gaps_over_1ms: t.over[4],
            lost_over_5us_ns: t.lost_over_bar_ns,
            lost_over_5us_pct: if t.wall_ns > 0 {
                100.0 * t.lost_over_bar_ns as f64 / t.wall_ns as f64
            } else {
                0.0
            },
            max_gap_ns: t.max_gap_ns,
            gaps_not_kept: t.dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(start: u64, end: u64) -> Gap {
        Gap { start, end }
    }

    /// Hand-computed: a 1 µs-spaced stream (t = 0, 1000, 2000, ... ns) over 100 µs.
    /// Client core: one gap (10 µs, 30 µs). Commands due at 11..=29 µs are sent at 30 µs:
    /// delays 19, 18, ..., 1 µs; the one due at exactly 10 µs was sent before the gap.
    /// Engine core: a gap (30.5 µs, 33 µs) catches nothing sent at 30 µs (it starts later)
    /// but catches the commands due at 31 and 32 µs (delays 2 and 1 µs); and a gap
    /// (60 µs, 70 µs) on the engine alone delays the ones due at 61..=69 µs by 9..1 µs.
    /// Delays over 5 µs: 19..=6 (14 commands) and 9..=6 (4 commands) = 18 of 100.
    #[test]
    fn delays_match_a_hand_computed_gap_list() {
        let client = [g(10_000, 30_000)];
        let engine = [g(30_500, 33_000), g(60_000, 70_000)];
        let mut got = Vec::new();
        let n = implied_delays(&client, &engine, 100_000, 1_000.0, |t, d| got.push((t, d)));
        assert_eq!(n, 100);
        let delay = |t_us: u64| got[t_us as usize].1;
        assert_eq!(delay(10), 0);
        assert_eq!(delay(11), 19_000);
        assert_eq!(delay(29), 1_000);
        assert_eq!(delay(30), 0);
        assert_eq!(delay(31), 2_000);
        assert_eq!(delay(32), 1_000);
        assert_eq!(delay(33), 0);
        assert_eq!(delay(61), 9_000);
        assert_eq!(delay(69), 1_000);
        assert_eq!(delay(70), 0);
        let total: u64 = got.iter().map(|x| x.1).sum();
        // 19+...+1 = 190, 2+1 = 3, 9+...+1 = 45 (µs).
        assert_eq!(total, 238_000);
        let over = got.iter().filter(|x| x.1 > BAR_NS).count();
        assert_eq!(over, 18);

        let tc = CoreTrace::from_gaps(client.to_vec(), 100_000);
        let te = CoreTrace::from_gaps(engine.to_vec(), 100_000);
        let f = floor(&tc, &te, 1e6);
        assert_eq!(f.commands, 100);
        assert!((f.over_bar_fraction - 0.18).abs() < 1e-12);
        // 100 delays, 70 of them 0 (recorded as 1 ns): the median is 0; the max is 19 µs
        // (within the histogram's 0.1%).
        assert_eq!(f.delay_ns.p50, 1);
        assert!(
            (19_000..=19_020).contains(&f.delay_ns.max),
            "{}",
            f.delay_ns.max
        );
    }

    /// A client gap that ends inside an engine gap chains: the command waits for both.
    /// And the VM paused on both cores at once counts once, not twice.
    #[test]
    fn gaps_chain_across_cores_and_a_shared_pause_counts_once() {
        // Due at 5 µs, client gap (4, 10) -> sent at 10; engine gap (8, 20) -> taken at 20.
        let mut got = Vec::new();
        implied_delays(
            &[g(4_000, 10_000)],
            &[g(8_000, 20_000)],
            6_000,
            1_000.0,
            |t, d| got.push((t, d)),
        );
        assert_eq!(got[5], (5_000, 15_000));
        // Same pause on both cores (host stopped the VM): delay = remaining pause.
        let both = [g(2_000, 12_000)];
        let mut got = Vec::new();
        implied_delays(&both, &both, 20_000, 1_000.0, |_, d| got.push(d));
        let expect: Vec<u64> = (0..20u64)
            .map(|t| if t > 2 && t < 12 { (12 - t) * 1_000 } else { 0 })
            .collect();
        assert_eq!(got, expect);
        assert_eq!(overlap_ns(&both, &both, 5_000), 10_000);
        assert_eq!(
            overlap_ns(&[g(0, 10_000)], &[g(4_000, 30_000)], 5_000),
            6_000
        );
        // Gaps at or under the length filter do not count.
        assert_eq!(overlap_ns(&[g(0, 5_000)], &[g(0, 5_000)], 5_000), 0);
    }

    /// The rule of thumb in the module docs: at any rate, a gap of g delays about
    /// (g - 5 µs) / period commands past 5 µs.
    #[test]
    fn fraction_over_the_bar_is_excess_gap_time_over_wall_time() {
        // 1 ms window, gaps of 25 µs and 105 µs on the client: excess 20 + 100 = 120 µs.
        let client =
            CoreTrace::from_gaps(vec![g(100_000, 125_000), g(500_000, 605_000)], 1_000_000);
        let engine = CoreTrace::from_gaps(vec![], 1_000_000);
        // Hand count per rate (open intervals on the grid): gap 1 holds the commands due
        // strictly inside (100, 125) µs, gap 2 those inside (500, 605) µs; those delayed by
        // more than 5 µs are the ones due before 120 µs and before 600 µs.
        // 1 M/s: 101..=119 (19) + 501..=599 (99) = 118 of 1000.
        // 2 M/s: 100.5..=119.5 step 0.5 (39) + 500.5..=599.5 (199) = 238 of 2000.
        // 4 M/s: 100.25..=119.75 step 0.25 (79) + 500.25..=599.75 (399) = 478 of 4000.
        for (rate, over, n) in [(1e6, 118u64, 1000u64), (2e6, 238, 2000), (4e6, 478, 4000)] {
            let f = floor(&client, &engine, rate);
            assert_eq!(f.commands, n, "{rate}");
            assert!(
                (f.over_bar_fraction - over as f64 / n as f64).abs() < 1e-12,
                "{rate}: {}",
                f.over_bar_fraction
            );
            // ... which is the excess gap time over wall time, 120 µs / 1 ms, to a command.
            assert!((f.over_bar_fraction - 0.12).abs() <= 2.0 / n as f64 + 1e-12);
        }
        let s = CoreSummary::from(&client);
        assert_eq!(
            (
                s.gaps_over_1us,
                s.gaps_over_5us,
                s.gaps_over_10us,
                s.gaps_over_100us,
                s.gaps_over_1ms
            ),
            (2, 2, 2, 1, 0)
        );
        assert_eq!(s.lost_over_5us_ns, 130_000);
        assert!((s.lost_over_5us_pct - 13.0).abs() < 1e-9);
        assert_eq!(s.max_gap_ns, 105_000);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        assert_eq!(implied_delays(&[], &[], 1_000, 0.0, |_, _| {}), 0);
        assert_eq!(implied_delays(&[], &[], 1_000, f64::NAN, |_, _| {}), 0);
        assert_eq!(implied_delays(&[], &[], 0, 1.0, |_, _| {}), 0);
        let empty = CoreTrace::from_gaps(vec![], 0);
        let f = floor(&empty, &empty, 1e6);
        assert_eq!(f.commands, 0);
        assert_eq!(f.over_bar_fraction, 0.0);
        assert_eq!(CoreSummary::from(&empty).lost_over_5us_pct, 0.0);
    }

    /// The probe itself runs and reports one trace per thread (no timing assertions).
    #[test]
    fn probe_runs_unpinned() {
        let clock = TscClock::new();
        let traces = run(&[], false, Duration::from_millis(20), &clock);
        assert_eq!(traces.len(), 2);
        for t in &traces {
            assert!(t.reads > 0);
            assert!(t.gaps.windows(2).all(|w| w[0].end <= w[1].start));
            assert!(t.gaps.iter().all(|g| g.len() > RECORD_NS));
            assert_eq!(t.over[0] as usize, t.gaps.len());
        }
    }
}
