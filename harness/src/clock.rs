//! The clock the open-loop driver ([`crate::pipeline`]) and the engine stamp with: the
//! CPU's time-stamp counter read through `quanta` (calibrated against the OS monotonic
//! clock once, when the first clock is built), kept in raw ticks on the hot path and
//! converted to nanoseconds only when a delta is recorded.
//!
//! Why raw ticks: a TSC read is ~20 cycles and needs no multiply; the conversion is done
//! on the client side, off the engine's path, for `flowmatch latency` and `flowmatch
//! run`'s engine measurement alike. On this machine (`constant_tsc`,
//! `nonstop_tsc`) the counter is invariant and shared by both cores, so a stamp taken on
//! one core and one taken on the other can be subtracted. If they ever were not, a negative
//! delta would be clamped to 0 by `delta_ns` rather than wrap.

/// A calibrated TSC clock. Cheap to clone; every clone shares the calibration.
#[derive(Clone, Debug)]
pub struct TscClock {
    clock: quanta::Clock,
    ticks_per_ns: f64,
}

impl Default for TscClock {
    fn default() -> Self {
        Self::new()
    }
}

impl TscClock {
    pub fn new() -> Self {
        let clock = quanta::Clock::new();
        // quanta's calibration gives ticks -> ns; invert it over a large span for precision.
        const SPAN: u64 = 1 << 40;
        let ns = clock.delta_as_nanos(0, SPAN).max(1);
        TscClock {
            clock,
            ticks_per_ns: SPAN as f64 / ns as f64,
        }
    }

    /// Raw counter value (ticks).
    #[inline(always)]
    pub fn raw(&self) -> u64 {
        self.clock.raw()
    }

    /// Nanoseconds from `start` to `end` (raw ticks); 0 if `end` is not after `start`.
    #[inline]
    pub fn delta_ns(&self, start: u64, end: u64) -> u64 {
        self.clock.delta_as_nanos(start, end)
    }

    /// Ticks per nanosecond (about the TSC frequency in GHz).
    pub fn ticks_per_ns(&self) -> f64 {
        self.ticks_per_ns
    }

    /// A nanosecond span in ticks, for scheduling in raw units.
    pub fn ns_to_ticks(&self, ns: f64) -> f64 {
        ns * self.ticks_per_ns
    }

    /// A closure reading the raw counter, to hand to the engine (which takes any
    /// `Fn() -> u64` as its clock).
    pub fn source(&self) -> impl Fn() -> u64 + Send + Clone + 'static {
        let c = self.clock.clone();
        move || c.raw()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_is_monotonic_and_calibration_is_plausible() {
        let c = TscClock::new();
        let a = c.raw();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = c.raw();
        assert!(b > a);
        let ns = c.delta_ns(a, b);
        // Slept at least 5 ms; allow a very noisy machine up to 5 s.
        assert!((5_000_000..5_000_000_000).contains(&ns), "{ns}");
        assert_eq!(c.delta_ns(b, a), 0);
        // Between 10 MHz and 10 GHz.
        assert!(
            (0.01..10.0).contains(&c.ticks_per_ns()),
            "{}",
            c.ticks_per_ns()
        );
    }
}
