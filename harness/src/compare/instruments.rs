//! The multi-instrument workloads of `flowmatch compare`: our books as
//! `MultiBook<FastBook>` against `MultiBook<ReferenceBook>` on the Zipf multi-instrument
//! stream ([`crate::workload::zipf_instruments`]).
//!
//! Why only our two books: the peers' adapters ([`flowmatch_peers`]) take a single book's
//! `Command` and know no instrument. One adapter per instrument would be cheap to build,
//! but a peer must first be screened in a child process on each stream it runs (nanobook
//! hangs on some), and that screening, the common-subset restriction and the fill
//! cross-check are keyed by single-book streams; so the peers are reported *not
//! applicable* here, with that reason, rather than measured on a different footing.
//!
//! What is measured, per book: throughput over `reps` interleaved passes of the whole
//! stream through a fresh multi-book (median, min, max), per-command service time
//! (quanta TSC around each apply, the two clock reads included, as the single-book
//! latency pass), and whether the two books emit identical events (the reference book is
//! the oracle).

use super::driver::new_histogram;
use crate::workload::zipf_instruments::{generate, ZipfConfig};
use flowmatch_core::instrument::{BookStorage, MultiBookConfig};
use flowmatch_core::{FastBook, InstrumentCommand, InstrumentEvent, MultiBook, ReferenceBook};
use serde::Serialize;
use std::hint::black_box;
use std::time::Instant;

/// Instruments of the compare's multi-instrument stream.
pub const INSTRUMENTS: u32 = 1_000;

/// A multi-instrument workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstrumentWorkload {
    /// Zipf(s = 1) activity over [`INSTRUMENTS`] instruments.
    ZipfInstruments,
}

impl InstrumentWorkload {
    pub const ALL: [InstrumentWorkload; 1] = [InstrumentWorkload::ZipfInstruments];

    /// The name on the command line (`--workloads`) and in the report.
    pub fn name(self) -> &'static str {
        match self {
            InstrumentWorkload::ZipfInstruments => "zipf-instruments",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.name() == name)
    }

    /// `n` commands from `seed`.
    pub fn generate(self, seed: u64, n: usize) -> Vec<InstrumentCommand> {
        match self {
            InstrumentWorkload::ZipfInstruments => generate(
                &ZipfConfig {
                    instruments: INSTRUMENTS,
                    zipf_s: 1.0,
                },
                seed,
                n,
            )
            .expect("a constant valid configuration"),
        }
    }

    fn instruments(self) -> u32 {
        match self {
            InstrumentWorkload::ZipfInstruments => INSTRUMENTS,
        }
    }
}

/// One book's figures on one multi-instrument workload.
#[derive(Clone, Debug, Serialize)]
pub struct MultiCell {
    pub workload: &'static str,
    pub matcher: &'static str,
    pub instruments: u32,
    pub commands: usize,
    pub median_mcps: f64,
    pub min_mcps: f64,
    pub max_mcps: f64,
    /// Median throughput over the fast multi-book's.
    pub ratio_to_fast: f64,
    pub events: u64,
    pub books_created: usize,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub max_ns: u64,
}

/// A matcher not run on a multi-instrument workload, and why.
#[derive(Clone, Debug, Serialize)]
pub struct NotApplicable {
    pub workload: &'static str,
    pub matcher: &'static str,
    pub reason: &'static str,
}

/// The multi-instrument section of the report.
#[derive(Clone, Debug, Serialize, Default)]
pub struct MultiSection {
    pub cells: Vec<MultiCell>,
    /// Per workload: the fast and reference multi-books emitted identical events.
    pub events_agree: Vec<(&'static str, bool)>,
    pub not_applicable: Vec<NotApplicable>,
}

impl MultiSection {
    /// The console lines (empty when no multi-instrument workload ran).
    pub fn console(&self) -> String {
        let mut s = String::new();
        if self.cells.is_empty() {
            return s;
        }
        s.push_str("\nMulti-instrument (MultiBook per matcher; M commands/s median [min-max]; service p50/p99):\n");
        for c in &self.cells {
            s.push_str(&format!(
                "{} {:<10} {} instruments: {:.2} [{:.2}-{:.2}] ratio {:.2}, p50 {} ns p99 {} ns, {} books\n",
                c.workload, c.matcher, c.instruments, c.median_mcps, c.min_mcps, c.max_mcps,
                c.ratio_to_fast, c.p50_ns, c.p99_ns, c.books_created
            ));
        }
        for (w, agree) in &self.events_agree {
            s.push_str(&format!(
                "{w}: fast and reference multi-books {}\n",
                if *agree {
                    "emit identical events"
                } else {
                    "DISAGREE"
                }
            ));
        }
        for n in &self.not_applicable {
            s.push_str(&format!(
                "{} {}: not applicable ({})\n",
                n.workload, n.matcher, n.reason
            ));
        }
        s
    }

    /// The Markdown section (empty when no multi-instrument workload ran).
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        if self.cells.is_empty() {
            return s;
        }
        s.push_str("\n## Multi-instrument workloads\n\nOur books as `MultiBook<FastBook>` and `MultiBook<ReferenceBook>`, interleaved passes of the whole stream; service time is the TSC around each apply (two clock reads included).\n\n");
        s.push_str("| workload | matcher | instruments | median M cmd/s | min | max | ratio to fast | p50 ns | p99 ns | p99.9 ns | books |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
        for c in &self.cells {
            s.push_str(&format!(
                "| {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} |\n",
                c.workload,
                c.matcher,
                c.instruments,
                c.median_mcps,
                c.min_mcps,
                c.max_mcps,
                c.ratio_to_fast,
                c.p50_ns,
                c.p99_ns,
                c.p999_ns,
                c.books_created
            ));
        }
        s.push('\n');
        for (w, agree) in &self.events_agree {
            s.push_str(&format!(
                "- {w}: fast and reference multi-books {}.\n",
                if *agree {
                    "emit identical events"
                } else {
                    "**disagree**"
                }
            ));
        }
        for n in &self.not_applicable {
            s.push_str(&format!(
                "- {} on {}: not applicable: {}.\n",
                n.matcher, n.workload, n.reason
            ));
        }
        s
    }
}

const PEER_REASON: &str = "no notion of instrument in its adapter; one instance per instrument would need the child-process screening and the cross-check keyed by a multi-instrument stream (not built)";

fn fresh<B: BookStorage>(instruments: u32) -> MultiBook<B> {
    MultiBook::new(
        crate::latency::shards::table(instruments),
        MultiBookConfig::default(),
    )
    .expect("default multi-book configuration is valid")
}

struct Count(u64);
impl flowmatch_core::Sink<InstrumentEvent> for Count {
    #[inline]
    fn event(&mut self, _: InstrumentEvent) {
        self.0 += 1;
    }
}

#[inline(never)]
fn timed<B: BookStorage>(m: &mut MultiBook<B>, cmds: &[InstrumentCommand]) -> (f64, u64) {
    let mut c = Count(0);
    let t = Instant::now();
    for cmd in cmds {
        m.apply(black_box(cmd), &mut c);
    }
    (t.elapsed().as_secs_f64(), black_box(c.0))
}

fn pass<B: BookStorage>(instruments: u32, cmds: &[InstrumentCommand]) -> (f64, u64, usize) {
    let mut m = fresh::<B>(instruments);
    let (s, ev) = timed(&mut m, cmds);
    (cmds.len() as f64 / s.max(1e-12) / 1e6, ev, m.open_books())
}

fn service<B: BookStorage>(
    instruments: u32,
    cmds: &[InstrumentCommand],
    clock: &quanta::Clock,
) -> hdrhistogram::Histogram<u64> {
    let mut m = fresh::<B>(instruments);
    let mut h = new_histogram();
    let mut c = Count(0);
    for cmd in cmds {
        let s = clock.raw();
        m.apply(black_box(cmd), &mut c);
        let e = clock.raw();
        h.saturating_record(clock.delta_as_nanos(s, e).clamp(1, h.high()));
    }
    h
}

fn events<B: BookStorage>(instruments: u32, cmds: &[InstrumentCommand]) -> Vec<InstrumentEvent> {
    let mut m = fresh::<B>(instruments);
    let mut out = Vec::new();
    for cmd in cmds {
        m.apply(cmd, &mut out);
    }
    out
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs every workload of `workloads`: `commands` commands from `seed`, `reps` interleaved
/// passes, `latency_commands` in the service-time pass, `cross_commands` in the event
/// comparison. `peers` are the peers configured (each reported not applicable).
#[allow(clippy::too_many_arguments)]
pub fn run(
    workloads: &[InstrumentWorkload],
    seed: u64,
    commands: usize,
    reps: usize,
    latency_commands: usize,
    cross_commands: usize,
    peers: &[&'static str],
    progress: &mut dyn FnMut(&str),
) -> MultiSection {
    let mut section = MultiSection::default();
    for &w in workloads {
        progress(&format!("generating {} ({commands} commands)", w.name()));
        let cmds = w.generate(seed, commands);
        let m = w.instruments();
        let (mut fast, mut reference) = (Vec::new(), Vec::new());
        let (mut fast_info, mut ref_info) = ((0, 0), (0, 0));
        for rep in 0..reps {
            progress(&format!("{} rep {}/{reps}", w.name(), rep + 1));
            let (r, ev, books) = pass::<FastBook>(m, &cmds);
            fast.push(r);
            fast_info = (ev, books);
            let (r, ev, books) = pass::<ReferenceBook>(m, &cmds);
            reference.push(r);
            ref_info = (ev, books);
        }
        let clock = quanta::Clock::new();
        let n = latency_commands.min(cmds.len());
        let hf = service::<FastBook>(m, &cmds[..n], &clock);
        let hr = service::<ReferenceBook>(m, &cmds[..n], &clock);
        let fast_med = median(&mut fast);
        for (name, runs, info, h) in [
            ("fast", &mut fast, fast_info, hf),
            ("reference", &mut reference, ref_info, hr),
        ] {
            let med = median(runs);
            section.cells.push(MultiCell {
                workload: w.name(),
                matcher: name,
                instruments: m,
                commands: cmds.len(),
                median_mcps: med,
                min_mcps: runs.first().copied().unwrap_or(0.0),
                max_mcps: runs.last().copied().unwrap_or(0.0),
                ratio_to_fast: med / fast_med.max(1e-12),
                events: info.0,
                books_created: info.1,
                p50_ns: h.value_at_quantile(0.5),
                p99_ns: h.value_at_quantile(0.99),
                p999_ns: h.value_at_quantile(0.999),
                max_ns: h.max(),
            });
        }
        let k = cross_commands.min(cmds.len());
        section.events_agree.push((
            w.name(),
            events::<FastBook>(m, &cmds[..k]) == events::<ReferenceBook>(m, &cmds[..k]),
        ));
        for &p in peers {
            section.not_applicable.push(NotApplicable {
                workload: w.name(),
                matcher: p,
                reason: PEER_REASON,
            });
        }
    }
    section
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_books_run_and_agree_and_peers_are_not_applicable() {
        let s = run(
            &[InstrumentWorkload::ZipfInstruments],
            3,
            5_000,
            1,
            1_000,
            5_000,
            &["nanobook"],
            &mut |_| {},
        );
        assert_eq!(s.cells.len(), 2);
        assert_eq!(s.cells[0].matcher, "fast");
        assert_eq!(s.cells[0].events, s.cells[1].events);
        assert!(s.cells[0].events >= 5_000, "one event per command at least");
        assert_eq!(s.events_agree, vec![("zipf-instruments", true)]);
        assert_eq!(s.not_applicable[0].matcher, "nanobook");
        assert_eq!(
            InstrumentWorkload::from_name("zipf-instruments"),
            Some(InstrumentWorkload::ZipfInstruments)
        );
    }
}
