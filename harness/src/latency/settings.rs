//! What one `flowmatch latency` invocation is asked to do, and the check that it is a run a
//! real machine can do: every option against a stated range, before any work starts.
//!
//! Each bound is a constant here and each message names the option and its accepted range
//! with the ends said right (an open end is "more than", a closed one "at least" / "at
//! most"), so the `--help`, the error and the code cannot disagree. Non-finite numbers
//! (NaN, infinities) fail every range.

use super::sweep::MAX_RATE;
use flowmatch_core::engine::Idle;
use flowmatch_core::ingress::QueueKind;

/// Which command stream to replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StreamKind {
    /// The mixed realistic equity stream (default).
    Equity,
    /// The adversarial stream (deep sweeps, edge cases).
    Adversarial,
}

impl StreamKind {
    pub fn name(self) -> &'static str {
        match self {
            StreamKind::Equity => "equity",
            StreamKind::Adversarial => "adversarial",
        }
    }
}

/// Lowest rate any run may be offered, commands/s.
pub const MIN_RATE: f64 = 1.0;
/// Longest measured window or warm-up, seconds.
pub const MAX_SECONDS: f64 = 3600.0;
/// Longest jitter probe, seconds.
pub const MAX_PROBE_SECONDS: f64 = 600.0;
/// Most commands the engine may take per poll.
pub const MAX_BATCH: usize = 65_536;
/// Most slots per ingress ring (a slot of the stamped command stream is 64 bytes).
pub const MAX_CAPACITY: usize = 1 << 20;
/// Most producers.
pub const MAX_PRODUCERS: usize = 64;
/// Most ingress slots over all rings of `--queue multi` (256 MiB of slots).
pub const MAX_TOTAL_SLOTS: usize = 1 << 22;
/// Most commands generated up front.
pub const MAX_STREAM_LEN: usize = 10_000_000;
/// Most open-loop rates one invocation may list.
pub const MAX_RATES: usize = 64;

/// The open-loop rates tried when none are given: the sweep then goes on past the last one
/// until the knee is found (see [`super::sweep`]).
pub const DEFAULT_RATES: [f64; 6] = [250e3, 500e3, 1e6, 1.5e6, 2e6, 3e6];

/// One invocation's settings.
#[derive(Clone, Debug)]
pub struct Settings {
    pub queue: QueueKind,
    /// Open-loop rates, commands/s. Empty: [`DEFAULT_RATES`], extended until the knee.
    pub rates: Vec<f64>,
    /// Measured seconds per run (after the warm-up).
    pub duration_s: f64,
    /// Warm-up seconds per run (commands sent, not recorded).
    pub warmup_s: f64,
    pub batch: usize,
    pub idle: Idle,
    /// Pin the client and engine threads to the first two cores.
    pub pin: bool,
    pub producers: usize,
    pub capacity: usize,
    pub stream: StreamKind,
    pub stream_len: usize,
    pub seed: u64,
    /// Run the closed-loop maximum-throughput load first.
    pub closed: bool,
    /// Run the null-pipeline baseline after each book run.
    pub null: bool,
    /// Seconds of platform jitter probe per open-loop rate (0: none).
    pub probe_s: f64,
    /// Engine shards (1: the single engine).
    pub shards: usize,
    /// `Some(M)`: the Zipf multi-instrument stream over M instruments, one
    /// `MultiBook<FastBook>` per shard ([`super::shards`]); `None`: the single book.
    pub instruments: Option<u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            queue: QueueKind::Spsc,
            rates: Vec::new(),
            duration_s: 2.0,
            warmup_s: 0.25,
            batch: 64,
            idle: Idle::Pause,
            pin: true,
            producers: 1,
            capacity: 1024,
            stream: StreamKind::Equity,
            stream_len: 1_000_000,
            seed: 42,
            closed: true,
            null: true,
            probe_s: 1.0,
            shards: 1,
            instruments: None,
        }
    }
}

/// `Ok` if `rate` is a rate a run may be offered: at least [`MIN_RATE`] and at most
/// [`MAX_RATE`] commands/s.
pub fn check_rate(rate: f64) -> Result<(), String> {
    if rate.is_finite() && (MIN_RATE..=MAX_RATE).contains(&rate) {
        Ok(())
    } else {
        // `{:e}` beyond the range keeps `--rate 1e300` from printing 301 digits.
        let shown = if rate.abs() > MAX_RATE {
            format!("{rate:e}")
        } else {
            format!("{rate}")
        };
        Err(format!(
            "--rate {shown} is out of range: a rate must be at least 1 and at most 1e9 commands/s"
        ))
    }
}

fn in_range<T: PartialOrd + std::fmt::Display + Copy>(
    name: &str,
    v: T,
    lo: T,
    hi: T,
    unit: &str,
) -> Result<(), String> {
    if lo <= v && v <= hi {
        Ok(())
    } else {
        Err(format!(
            "--{name} {v} is out of range: it must be at least {lo} and at most {hi}{unit}"
        ))
    }
}

impl Settings {
    /// The rates the sweep starts from.
    pub fn planned_rates(&self) -> Vec<f64> {
        if self.rates.is_empty() {
            DEFAULT_RATES.to_vec()
        } else {
            self.rates.clone()
        }
    }

    /// Whether the sweep may go on past its planned rates (only the default plan does: a
    /// rate list given by hand is run as given).
    pub fn extends_to_knee(&self) -> bool {
        self.rates.is_empty()
    }

    /// Checks every setting; the error names the option and its accepted range.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.duration_s.is_finite() && self.duration_s > 0.0 && self.duration_s <= MAX_SECONDS)
        {
            return Err(format!(
                "--duration {} is out of range: it must be more than 0 and at most 3600 seconds",
                self.duration_s
            ));
        }
        if !(self.warmup_s.is_finite() && (0.0..=MAX_SECONDS).contains(&self.warmup_s)) {
            return Err(format!(
                "--warmup {} is out of range: it must be at least 0 and at most 3600 seconds",
                self.warmup_s
            ));
        }
        if !(self.probe_s.is_finite() && (0.0..=MAX_PROBE_SECONDS).contains(&self.probe_s)) {
            return Err(format!(
                "--probe {} is out of range: it must be at least 0 (no probe) and at most 600 seconds",
                self.probe_s
            ));
        }
        super::shards::check(self.shards, self.instruments)?;
        in_range("batch", self.batch, 1, MAX_BATCH, " commands")?;
        in_range("capacity", self.capacity, 1, MAX_CAPACITY, " slots")?;
        in_range("producers", self.producers, 1, MAX_PRODUCERS, "")?;
        in_range(
            "stream-len",
            self.stream_len,
            1,
            MAX_STREAM_LEN,
            " commands",
        )?;
        if self.queue == QueueKind::Spsc && self.producers != 1 {
            return Err(format!(
                "--queue spsc takes exactly one producer, not --producers {}; use --queue multi for several",
                self.producers
            ));
        }
        if self.queue == QueueKind::Multi && self.producers * self.capacity > MAX_TOTAL_SLOTS {
            return Err(format!(
                "--producers {} x --capacity {} is {} ingress slots: --queue multi takes at most {MAX_TOTAL_SLOTS} in all",
                self.producers,
                self.capacity,
                self.producers * self.capacity
            ));
        }
        if self.rates.len() > MAX_RATES {
            return Err(format!(
                "--rate lists {} rates: at most {MAX_RATES} may be given",
                self.rates.len()
            ));
        }
        let rates = self.planned_rates();
        for (i, &rate) in rates.iter().enumerate() {
            check_rate(rate)?;
            // The runs are labelled by the rounded rate; two equal labels would overwrite
            // each other's files.
            if rates[..i].iter().any(|&r| r.round() == rate.round()) {
                return Err(format!("--rate lists {:.0} commands/s twice", rate.round()));
            }
            // At least one command in the measured window, so that its achieved rate and
            // percentiles measure something.
            if rate * self.duration_s < 1.0 {
                return Err(format!(
                    "--duration {} s at --rate {rate} commands/s measures no whole command: at that rate --duration must be at least {} s",
                    self.duration_s,
                    1.0 / rate
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_rate_is_named_briefly() {
        let e = check_rate(1e300).unwrap_err();
        assert!(e.starts_with("--rate 1e300 is out of range"), "{e}");
        assert!(check_rate(1e9).is_ok() && check_rate(0.5).is_err());
    }

    fn with(f: impl FnOnce(&mut Settings)) -> Result<(), String> {
        let mut s = Settings::default();
        f(&mut s);
        s.validate()
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Settings::default().validate(), Ok(()));
        assert_eq!(with(|s| s.rates = vec![1.0, 1e9]), Ok(()));
        assert_eq!(with(|s| s.warmup_s = 0.0), Ok(()));
        assert_eq!(with(|s| s.probe_s = 0.0), Ok(()));
        assert_eq!(with(|s| s.duration_s = 3600.0), Ok(()));
    }

    /// Issue 9 defect 9: `--duration 0` said "must be between 0 and 3600", which 0 is.
    /// The message now says the lower end is open.
    #[test]
    fn duration_zero_is_rejected_with_an_open_lower_end() {
        let e = with(|s| s.duration_s = 0.0).unwrap_err();
        assert!(e.contains("more than 0 and at most 3600 seconds"), "{e}");
        assert!(e.starts_with("--duration 0 "), "{e}");
    }

    /// Every numeric option rejects NaN, infinities, negatives and huge values, naming
    /// the option and its range.
    #[test]
    fn every_option_rejects_nonsense_with_its_range() {
        type Set = fn(&mut Settings);
        let cases: [(&str, Set, &str); 22] = [
            (
                "duration",
                |s| s.duration_s = f64::NAN,
                "more than 0 and at most 3600",
            ),
            ("duration", |s| s.duration_s = f64::INFINITY, "at most 3600"),
            ("duration", |s| s.duration_s = -1.0, "more than 0"),
            ("duration", |s| s.duration_s = 3600.5, "at most 3600"),
            (
                "warmup",
                |s| s.warmup_s = f64::NAN,
                "at least 0 and at most 3600",
            ),
            ("warmup", |s| s.warmup_s = -0.1, "at least 0"),
            ("warmup", |s| s.warmup_s = 1e300, "at most 3600"),
            (
                "probe",
                |s| s.probe_s = f64::NEG_INFINITY,
                "at least 0 (no probe) and at most 600",
            ),
            ("probe", |s| s.probe_s = 601.0, "at most 600"),
            (
                "batch",
                |s| s.batch = 0,
                "at least 1 and at most 65536 commands",
            ),
            ("batch", |s| s.batch = usize::MAX, "at most 65536"),
            (
                "capacity",
                |s| s.capacity = 0,
                "at least 1 and at most 1048576 slots",
            ),
            ("capacity", |s| s.capacity = 1 << 40, "at most 1048576"),
            (
                "producers",
                |s| s.producers = 0,
                "at least 1 and at most 64",
            ),
            ("producers", |s| s.producers = 1000, "at most 64"),
            (
                "stream-len",
                |s| s.stream_len = 0,
                "at least 1 and at most 10000000 commands",
            ),
            ("stream-len", |s| s.stream_len = 1 << 40, "at most 10000000"),
            (
                "rate",
                |s| s.rates = vec![f64::NAN],
                "at least 1 and at most 1e9 commands/s",
            ),
            ("rate", |s| s.rates = vec![0.5], "at least 1"),
            ("rate", |s| s.rates = vec![1e10], "at most 1e9"),
            ("rate", |s| s.rates = vec![-5.0], "at least 1"),
            ("rate", |s| s.rates = vec![f64::INFINITY], "at most 1e9"),
        ];
        for (name, set, range) in cases {
            let mut s = Settings::default();
            set(&mut s);
            let e = s.validate().unwrap_err();
            assert!(e.starts_with(&format!("--{name} ")), "{name}: {e}");
            assert!(e.contains(range), "{name}: {e}");
        }
    }

    #[test]
    fn shapes_that_cannot_run_are_rejected() {
        let e = with(|s| s.producers = 2).unwrap_err();
        assert!(e.contains("--queue spsc takes exactly one producer"), "{e}");
        let e = with(|s| {
            s.queue = QueueKind::Multi;
            s.producers = 64;
            s.capacity = 1 << 20;
        })
        .unwrap_err();
        assert!(e.contains("at most 4194304 in all"), "{e}");
        assert_eq!(
            with(|s| {
                s.queue = QueueKind::Multi;
                s.producers = 4;
                s.capacity = 1 << 20;
            }),
            Ok(())
        );
        let e = with(|s| s.rates = vec![1e6, 1e6 + 0.2]).unwrap_err();
        assert!(e.contains("1000000 commands/s twice"), "{e}");
        let e = with(|s| s.rates = vec![1e6; 65]).unwrap_err();
        assert!(e.contains("at most 64"), "{e}");
    }

    /// A window shorter than one period measures nothing (issue 9 defect 8 ran `--rate 1
    /// --duration 0.2`): rejected, with the shortest duration that would do.
    #[test]
    fn a_window_must_hold_at_least_one_command() {
        let e = with(|s| {
            s.rates = vec![1.0];
            s.duration_s = 0.2;
        })
        .unwrap_err();
        assert!(e.contains("--duration must be at least 1 s"), "{e}");
        assert_eq!(
            with(|s| {
                s.rates = vec![1.0];
                s.duration_s = 1.0;
            }),
            Ok(())
        );
        assert_eq!(
            with(|s| {
                s.rates = vec![5.0];
                s.duration_s = 0.2;
            }),
            Ok(())
        );
    }
}
