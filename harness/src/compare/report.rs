//! Running the comparison and writing what it found: console table, `report.json`,
//! `report.md` and SVG charts under one directory (by default `flowmatch-out/compare/`).

use super::cme::{self, CmeSection};
use super::crosscheck::{cross_check, CrossCheck};
use super::distribution::{fill_distribution, FillDistribution};
use super::driver::{latency, new_histogram, throughput, MatcherKind};
use super::incentives::{self, Study};
use super::instruments::{self, MultiSection};
use super::{screen, streams, Config, ScreenMode, Screened, TooSlow};
use crate::provenance::Provenance;
use flowmatch_peers::{restrict, Capabilities, Dropped};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

#[derive(Clone, Debug, Serialize)]
pub struct WorkloadInfo {
    pub name: &'static str,
    pub full_commands: usize,
    pub common_commands: usize,
    /// What restriction to the common subset left out.
    pub dropped: Dropped,
}

/// Throughput of one matcher on one workload's common-subset stream.
#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    pub workload: &'static str,
    pub matcher: &'static str,
    /// Millions of commands per second: median, min, max over the repetitions.
    pub median_mcps: f64,
    pub min_mcps: f64,
    pub max_mcps: f64,
    /// This matcher's median / our fast book's median on the same stream.
    pub ratio_to_fast: f64,
    pub runs_mcps: Vec<f64>,
    pub fills: u64,
    /// The matcher never returned from this command of the stream (index, text): no
    /// throughput, and its worst case counts as 0.
    pub hung_at: Option<(usize, String)>,
    /// The matcher was stopped for being too slow on this stream in screening: not timed
    /// further; its rate there stands as its throughput (median = min = max).
    pub too_slow: Option<TooSlow>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WorstCase {
    pub matcher: &'static str,
    pub workload: &'static str,
    pub median_mcps: f64,
}

/// The bar: fast book's worst case ≥ 2× the best peer's worst case.
#[derive(Clone, Debug, Serialize)]
pub struct Bar {
    pub fast_worst_mcps: f64,
    pub best_peer: &'static str,
    pub best_peer_worst_mcps: f64,
    pub ratio: f64,
    pub pass: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub matcher: &'static str,
    pub count: u64,
    pub mean_ns: f64,
    pub p50_ns: u64,
    pub p90_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub p9999_ns: u64,
    pub max_ns: u64,
    /// Every sample (ns), for the percentile chart; not part of report.json.
    #[serde(skip)]
    pub histogram: hdrhistogram::Histogram<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Tool, commit, command line, machine, load and time of this run (the house block).
    pub provenance: Provenance,
    pub seed: u64,
    pub commands_per_workload: usize,
    pub reps: usize,
    pub matchers: Vec<&'static str>,
    pub peers_not_built: Vec<String>,
    pub common_subset: CapabilitiesOut,
    pub workloads: Vec<WorkloadInfo>,
    pub throughput: Vec<Cell>,
    /// Our fast book on the full (unrestricted) streams, same repetitions.
    pub fast_full_stream: Vec<Cell>,
    pub worst_case: Vec<WorstCase>,
    pub bar: Option<Bar>,
    pub latency: Vec<Latency>,
    pub cross_checks: Vec<CrossCheck>,
    pub fill_distribution: Vec<FillDistribution>,
    /// The multi-instrument workloads: our multi-books ([`super::instruments`]).
    pub multi_instrument: MultiSection,
    pub notes: Vec<String>,
    /// The CME Globex allocation family: throughput per algorithm ([`super::cme`]).
    pub cme_family: CmeSection,
    /// The incentives study on the first workload's full stream ([`super::incentives`]).
    pub incentives: Study,
}

#[derive(Clone, Debug, Serialize)]
pub struct CapabilitiesOut {
    pub stp: bool,
    pub fok: bool,
    pub post_only: bool,
    pub keep_priority_replace: bool,
    pub min_price: i64,
    pub max_price: i64,
}

impl From<Capabilities> for CapabilitiesOut {
    fn from(c: Capabilities) -> Self {
        CapabilitiesOut {
            stp: c.stp,
            fok: c.fok,
            post_only: c.post_only,
            keep_priority_replace: c.keep_priority_replace,
            min_price: c.min_price,
            max_price: c.max_price,
        }
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        return 0.0;
    }
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    }
}

fn cell(workload: &'static str, matcher: &'static str, runs: &[f64], fills: u64) -> Cell {
    Cell {
        workload,
        matcher,
        median_mcps: median(runs),
        min_mcps: runs.iter().copied().fold(f64::INFINITY, f64::min),
        max_mcps: runs.iter().copied().fold(0.0, f64::max),
        ratio_to_fast: 0.0,
        runs_mcps: runs.to_vec(),
        fills,
        hung_at: None,
        too_slow: None,
    }
}

/// Run the whole comparison. `provenance` is stored in the report as given (capture it
/// when the run starts); `progress` receives one line per stage.
pub fn run(cfg: &Config, provenance: Provenance, progress: &mut dyn FnMut(&str)) -> Report {
    let common_caps = super::common_capabilities(&cfg.matchers);
    let mut infos = Vec::new();
    let mut data = Vec::new();
    for &w in &cfg.workloads {
        progress(&format!(
            "generating {} ({} commands)",
            w.name(),
            cfg.commands
        ));
        let (full, common) = streams(w, cfg);
        let (_, dropped) = restrict(&full, &common_caps);
        infos.push(WorkloadInfo {
            name: w.name(),
            full_commands: full.len(),
            common_commands: common.len(),
            dropped,
        });
        data.push((w, full, common));
    }

    // Screen each peer on each stream in a child process: a peer that never returns from a
    // command would otherwise stop the whole comparison.
    let mut hung_common = std::collections::HashMap::new();
    let mut hung_own = std::collections::HashMap::new();
    for &m in cfg.matchers.iter().filter(|m| m.is_peer()) {
        for (wi, (w, _, _)) in data.iter().enumerate() {
            progress(&format!("screening {} on {}", m.name(), w.name()));
            for (mode, map) in [
                (ScreenMode::Common, &mut hung_common),
                (ScreenMode::Own, &mut hung_own),
            ] {
                match screen(m, *w, mode, cfg) {
                    Ok(Screened::Finished) => {}
                    Ok(s @ Screened::Hung { at }) => {
                        progress(&format!(
                            "  {} did not return from command {at} ({mode:?} stream)",
                            m.name()
                        ));
                        map.insert((m, wi), s);
                    }
                    Ok(s @ Screened::TooSlow { at, seconds }) => {
                        progress(&format!(
                            "  {} too slow: at command {at} after {seconds:.1} s ({mode:?} stream)",
                            m.name()
                        ));
                        map.insert((m, wi), s);
                    }
                    Err(e) => progress(&format!(
                        "  screening failed to run ({e}); assuming it finishes"
                    )),
                }
            }
        }
    }

    // Interleaved throughput: every rep runs every workload through every matcher.
    let nm = cfg.matchers.len();
    let nw = data.len();
    let mut runs = vec![vec![Vec::new(); nm]; nw];
    let mut fills = vec![vec![0u64; nm]; nw];
    let mut full_runs = vec![Vec::new(); nw];
    for rep in 0..cfg.reps {
        progress(&format!("throughput rep {}/{}", rep + 1, cfg.reps));
        for (wi, (_, full, common)) in data.iter().enumerate() {
            for (mi, &m) in cfg.matchers.iter().enumerate() {
                if rep == 0 {
                    progress(&format!(
                        "  first pass: {} on {}",
                        m.name(),
                        data[wi].0.name()
                    ));
                }
                if hung_common.contains_key(&(m, wi)) {
                    continue;
                }
                let p = throughput(m, common);
                runs[wi][mi].push(p.commands_per_sec() / 1e6);
                fills[wi][mi] = p.fills;
            }
            let p = throughput(MatcherKind::Fast, full);
            full_runs[wi].push(p.commands_per_sec() / 1e6);
        }
    }
    let mut cells = Vec::new();
    let mut fast_full = Vec::new();
    for (wi, (w, _, _)) in data.iter().enumerate() {
        let fast_med = cfg
            .matchers
            .iter()
            .position(|&m| m == MatcherKind::Fast)
            .map(|i| median(&runs[wi][i]));
        for (mi, &m) in cfg.matchers.iter().enumerate() {
            let mut c = cell(w.name(), m.name(), &runs[wi][mi], fills[wi][mi]);
            let (_, _, common) = &data[wi];
            match hung_common.get(&(m, wi)) {
                Some(&Screened::Hung { at }) => {
                    c.hung_at = common
                        .get(at)
                        .map(|cmd| (at, super::crosscheck::command_text(cmd)));
                    c.median_mcps = 0.0;
                    c.min_mcps = 0.0;
                }
                Some(&s) => {
                    if let Some(t) = TooSlow::of(s, common.len()) {
                        c.median_mcps = t.mcps();
                        c.min_mcps = t.mcps();
                        c.max_mcps = t.mcps();
                        c.too_slow = Some(t);
                    }
                }
                None => {}
            }
            if let Some(f) = fast_med {
                c.ratio_to_fast = c.median_mcps / f.max(1e-12);
            }
            cells.push(c);
        }
        fast_full.push(cell(w.name(), "fast (full stream)", &full_runs[wi], 0));
    }

    // Worst case per matcher across workloads, and the bar.
    let worst_case: Vec<WorstCase> = cfg
        .matchers
        .iter()
        .filter_map(|m| {
            cells
                .iter()
                .filter(|c| c.matcher == m.name())
                .min_by(|a, b| a.median_mcps.total_cmp(&b.median_mcps))
                .map(|c| WorstCase {
                    matcher: c.matcher,
                    workload: c.workload,
                    median_mcps: c.median_mcps,
                })
        })
        .collect();
    let fast_worst = worst_case.iter().find(|w| w.matcher == "fast");
    let best_peer = worst_case
        .iter()
        .filter(|w| MatcherKind::PEERS.iter().any(|p| p.name() == w.matcher))
        .max_by(|a, b| a.median_mcps.total_cmp(&b.median_mcps));
    let bar = match (fast_worst, best_peer) {
        (Some(f), Some(p)) => Some(Bar {
            fast_worst_mcps: f.median_mcps,
            best_peer: p.matcher,
            best_peer_worst_mcps: p.median_mcps,
            ratio: f.median_mcps / p.median_mcps.max(1e-12),
            pass: f.median_mcps >= 2.0 * p.median_mcps,
        }),
        _ => None,
    };

    // Per-command service time, all workloads merged per matcher.
    progress("per-command latency");
    let clock = quanta::Clock::new();
    let mut lat = Vec::new();
    for &m in &cfg.matchers {
        let mut h = new_histogram();
        for (wi, (_, _, common)) in data.iter().enumerate() {
            let n = cfg.latency_commands.min(common.len());
            let n = hung_common
                .get(&(m, wi))
                .and_then(|s: &Screened| s.stop())
                .map_or(n, |k| n.min(k));
            latency(m, &common[..n], &clock, &mut h);
        }
        lat.push(Latency {
            matcher: m.name(),
            count: h.len(),
            mean_ns: h.mean(),
            p50_ns: h.value_at_quantile(0.50),
            p90_ns: h.value_at_quantile(0.90),
            p99_ns: h.value_at_quantile(0.99),
            p999_ns: h.value_at_quantile(0.999),
            p9999_ns: h.value_at_quantile(0.9999),
            max_ns: h.max(),
            histogram: h,
        });
    }

    // Cross-check every peer on its own subset of every workload.
    progress("cross-check");
    let mut checks = Vec::new();
    for &m in cfg.matchers.iter().filter(|m| m.is_peer()) {
        for (wi, (w, full, _)) in data.iter().enumerate() {
            let n = cfg.cross_commands.min(full.len());
            checks.push(cross_check(
                m,
                w.name(),
                &full[..n],
                hung_own
                    .get(&(m, wi))
                    .copied()
                    .unwrap_or(Screened::Finished),
            ));
        }
    }

    progress("fill distribution by policy");
    let dist = data
        .iter()
        .map(|(w, full, _)| fill_distribution(w.name(), full))
        .collect();

    progress("CME family: throughput per algorithm");
    let cme_streams: Vec<(super::Workload, &[flowmatch_core::Command])> =
        data.iter().map(|(w, full, _)| (*w, &full[..])).collect();
    let cme_family = cme::run(&cme_streams, cfg.reps);
    progress("incentives study");
    let study = data
        .first()
        .map(|(w, full, _)| incentives::study(w.name(), full))
        .unwrap_or_default();

    let peers: Vec<&'static str> = cfg
        .matchers
        .iter()
        .filter(|m| m.is_peer())
        .map(|m| m.name())
        .collect();
    let multi_instrument = instruments::run(
        &cfg.instrument_workloads,
        cfg.seed,
        cfg.commands,
        cfg.reps,
        cfg.latency_commands,
        cfg.cross_commands,
        &peers,
        progress,
    );

    let notes = vec![
        "Workloads: every workload of the registry (harness/src/workload/, under its registry name) and retail (the main-job flow, flowmatch_harness::retail::retail_commands); all seeded; --workloads picks some.".to_string(),
        format!("Screening: each peer first runs each stream in a child process; one that does not return from a command for {} ms is reported hung there, one still working after {} ms is reported too slow with where it had got to and its rate there (progress reports included), which stands as its throughput; neither is timed further on that stream.", cfg.stall.as_millis(), cfg.budget.as_millis()),
        "Throughput: each matcher runs the identical common-subset stream of each workload (what every peer can express); our fast book's figure on the full stream is listed separately.".to_string(),
        "Latency: per-command service time measured with the TSC clock (quanta) around each apply, including the cost of the two clock reads; all workloads merged per matcher.".to_string(),
        "All three crates.io peers (matchcore 0.4, nanobook 0.19, lobster 0.7) build here; their translation and limits are documented in peers/README.md.".to_string(),
    ];

    Report {
        provenance,
        seed: cfg.seed,
        commands_per_workload: cfg.commands,
        reps: cfg.reps,
        matchers: cfg.matchers.iter().map(|m| m.name()).collect(),
        peers_not_built: Vec::new(),
        common_subset: common_caps.into(),
        workloads: infos,
        throughput: cells,
        fast_full_stream: fast_full,
        worst_case,
        bar,
        latency: lat,
        cross_checks: checks,
        fill_distribution: dist,
        multi_instrument,
        notes,
        cme_family,
        incentives: study,
    }
}

impl Report {
    fn cell(&self, w: &str, m: &str) -> Option<&Cell> {
        self.throughput
            .iter()
            .find(|c| c.workload == w && c.matcher == m)
    }

    /// The console summary.
    pub fn console(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "flowmatch compare — {} commands/workload, {} interleaved reps, seed {} — {} ({} cores), commit {}",
            self.commands_per_workload,
            self.reps,
            self.seed,
            self.provenance.cpu,
            self.provenance.logical_cores,
            self.provenance.commit_label()
        );
        let _ = writeln!(
            s,
            "\nThroughput, M commands/s (median; ratio to fast) on the common-subset stream:"
        );
        let _ = write!(s, "{:<26}", "workload");
        for m in &self.matchers {
            let _ = write!(s, "{:>22}", m);
        }
        let _ = writeln!(s);
        for w in &self.workloads {
            let _ = write!(s, "{:<26}", w.name);
            for m in &self.matchers {
                let t = self
                    .cell(w.name, m)
                    .map(|c| match (&c.hung_at, &c.too_slow) {
                        (Some((k, _)), _) => format!("HUNG@{k}"),
                        (None, Some(t)) => format!("SLOW {:.4}", t.mcps()),
                        (None, None) => {
                            format!("{:.2} ({:.2}x)", c.median_mcps, c.ratio_to_fast)
                        }
                    })
                    .unwrap_or_default();
                let _ = write!(s, "{:>22}", t);
            }
            let _ = writeln!(s);
        }
        let _ = write!(s, "{:<26}", "worst case");
        for m in &self.matchers {
            let t = self
                .worst_case
                .iter()
                .find(|w| w.matcher == *m)
                .map(|w| format!("{:.2}", w.median_mcps))
                .unwrap_or_default();
            let _ = write!(s, "{:>22}", t);
        }
        let _ = writeln!(s);
        if let Some(b) = &self.bar {
            let _ = writeln!(
                s,
                "\nBar (fast worst case >= 2x best peer worst case): fast {:.2} vs {} {:.2} = {:.2}x -> {}",
                b.fast_worst_mcps,
                b.best_peer,
                b.best_peer_worst_mcps,
                b.ratio,
                if b.pass { "PASS" } else { "FAIL" }
            );
        }
        let _ = writeln!(
            s,
            "\nService time per command, ns (p50 / p99 / p99.99 / max):"
        );
        for l in &self.latency {
            let _ = writeln!(
                s,
                "  {:<16} {:>8} {:>8} {:>10} {:>12}",
                l.matcher, l.p50_ns, l.p99_ns, l.p9999_ns, l.max_ns
            );
        }
        let _ = writeln!(
            s,
            "\nCross-check of fills against our fast book (each peer on its own subset):"
        );
        for c in &self.cross_checks {
            if let Some(t) = &c.too_slow {
                let _ = writeln!(
                    s,
                    "  {:<10} {:<26} TOO SLOW: {}; first {} commands compared below",
                    c.peer,
                    c.workload,
                    t.text(),
                    t.reached
                );
            }
            if let Some((k, t)) = &c.hung_at {
                let _ = writeln!(
                    s,
                    "  {:<10} {:<26} HUNG: never returned from command {} `{}`; first {} commands compared below",
                    c.peer, c.workload, k, t, k
                );
            }
            match &c.first_difference {
                None => {
                    let _ = writeln!(
                        s,
                        "  {:<10} {:<26} agree ({} commands, {} fills)",
                        c.peer, c.workload, c.commands, c.our_fills
                    );
                }
                Some(d) => {
                    let _ = writeln!(
                        s,
                        "  {:<10} {:<26} DIFFER at command {} `{}`: {} ({} differing commands)",
                        c.peer, c.workload, d.index, d.command, d.explanation, c.differing_commands
                    );
                }
            }
        }
        let _ = writeln!(
            s,
            "\nShare of traded quantity by resting-order size (small <= median < large), and fill ratio of each:"
        );
        for d in &self.fill_distribution {
            for p in &d.policies {
                let _ = writeln!(
                    s,
                    "  {:<26} {:<13} small (<= {}): {:>5.1}% of traded, {:>5.1}% of orders filled | large: {:>5.1}%, {:>5.1}% of orders filled",
                    d.workload,
                    p.policy,
                    p.classes[0].max_qty,
                    p.classes[0].share_pct,
                    p.classes[0].orders_filled_pct,
                    p.classes[1].share_pct,
                    p.classes[1].orders_filled_pct
                );
            }
        }
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        s.push_str(&self.multi_instrument.console());
        s
    }

    /// The Markdown report.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# flowmatch compare\n");
        let _ = writeln!(
            s,
            "Seed {}; {} commands per workload; {} interleaved repetitions; commit {}. Where it ran: see [Provenance](#provenance).\n",
            self.seed,
            self.commands_per_workload,
            self.reps,
            self.provenance.commit_label()
        );
        let _ = writeln!(
            s,
            "## Throughput (M commands/s, median [min–max], ratio to fast)\n"
        );
        let _ = writeln!(
            s,
            "Every matcher runs the identical common-subset stream of each workload.\n"
        );
        let _ = write!(s, "| workload |");
        for m in &self.matchers {
            let _ = write!(s, " {m} |");
        }
        let _ = writeln!(s, " fast, full stream |");
        let _ = writeln!(s, "|---|{}---|", "---|".repeat(self.matchers.len()));
        for (wi, w) in self.workloads.iter().enumerate() {
            let _ = write!(s, "| {} |", w.name);
            for m in &self.matchers {
                match self.cell(w.name, m) {
                    Some(Cell {
                        hung_at: Some((k, t)),
                        ..
                    }) => {
                        let _ = write!(s, " **hung** at command {k} `{t}` |");
                    }
                    Some(Cell {
                        too_slow: Some(t), ..
                    }) => {
                        let _ = write!(s, " **{}**; not timed further |", t.text());
                    }
                    Some(c) => {
                        let _ = write!(
                            s,
                            " {:.2} [{:.2}–{:.2}] {:.2}× |",
                            c.median_mcps, c.min_mcps, c.max_mcps, c.ratio_to_fast
                        );
                    }
                    None => {
                        let _ = write!(s, " – |");
                    }
                }
            }
            let f = &self.fast_full_stream[wi];
            let _ = writeln!(
                s,
                " {:.2} [{:.2}–{:.2}] |",
                f.median_mcps, f.min_mcps, f.max_mcps
            );
        }
        let _ = write!(s, "| **worst case** |");
        for m in &self.matchers {
            match self.worst_case.iter().find(|w| w.matcher == *m) {
                Some(w) => {
                    let _ = write!(s, " **{:.2}** ({}) |", w.median_mcps, w.workload);
                }
                None => {
                    let _ = write!(s, " – |");
                }
            }
        }
        let _ = writeln!(s, " |\n");
        if let Some(b) = &self.bar {
            let _ = writeln!(
                s,
                "Bar: fast worst case {:.2} M/s vs best peer worst case ({}) {:.2} M/s = **{:.2}×** → **{}** (needs ≥ 2×).\n",
                b.fast_worst_mcps,
                b.best_peer,
                b.best_peer_worst_mcps,
                b.ratio,
                if b.pass { "pass" } else { "fail" }
            );
        }
        let _ = writeln!(s, "![throughput](throughput.svg)\n");
        let _ = writeln!(s, "### Streams\n");
        let _ = writeln!(s, "| workload | full | common subset | left out: rejected by our book / FOK / post-only / priority-keeping replace / price range; STP cleared |");
        let _ = writeln!(s, "|---|---|---|---|");
        for w in &self.workloads {
            let d = &w.dropped;
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} / {} / {} / {} / {}; {} |",
                w.name,
                w.full_commands,
                w.common_commands,
                d.rejected,
                d.fok,
                d.post_only,
                d.keep_priority_replace,
                d.price_range,
                d.stp_cleared
            );
        }
        let _ = writeln!(s, "\n## Service time per command (ns, all workloads)\n");
        let _ = writeln!(
            s,
            "| matcher | p50 | p90 | p99 | p99.9 | p99.99 | max | mean |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
        for l in &self.latency {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {:.0} |",
                l.matcher, l.p50_ns, l.p90_ns, l.p99_ns, l.p999_ns, l.p9999_ns, l.max_ns, l.mean_ns
            );
        }
        let _ = writeln!(s, "\n![latency](latency.svg)\n");
        let _ = writeln!(s, "## Cross-check of fills against our fast book\n");
        let _ = writeln!(s, "Each peer runs its own expressible subset of the first commands of each workload; fills (taker, maker, price, qty, in order) are compared command by command.\n");
        let _ = writeln!(s, "| peer | workload | commands | our fills | result |");
        let _ = writeln!(s, "|---|---|---|---|---|");
        for c in &self.cross_checks {
            let mut hung = c.hung_at.as_ref().map_or(String::new(), |(k, t)| {
                format!("**hung**: never returned from command {k} `{t}`; compared the {k} commands before it: ")
            });
            if let Some(t) = &c.too_slow {
                hung += &format!(
                    "**{}**; compared the {} commands before it: ",
                    t.text(),
                    t.reached
                );
            }
            let r = hung + &match &c.first_difference {
                None => "agree".to_string(),
                Some(d) => format!(
                    "**differ** at command {} `{}`: {} (ours: {:?}; peer: {:?}); {} differing commands",
                    d.index,
                    d.command,
                    d.explanation,
                    d.ours.iter().map(|f| (f.maker, f.price, f.qty)).collect::<Vec<_>>(),
                    d.theirs.iter().map(|f| (f.maker, f.price, f.qty)).collect::<Vec<_>>(),
                    c.differing_commands
                ),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                c.peer, c.workload, c.commands, c.our_fills, r
            );
        }
        let _ = writeln!(s, "\n## Who gets filled: price-time vs pro-rata\n");
        let _ = writeln!(s, "Resting orders in two size classes split at the median limit size of the stream (small: at most the median). Share of all traded quantity (as makers), and fill ratio (maker-side traded / entered) per class.\n");
        let _ = writeln!(s, "| workload | policy | small (≤ median) | small share | large share | small fill ratio | large fill ratio | small orders filled | large orders filled | fills (small / large) |");
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|");
        for d in &self.fill_distribution {
            for p in &d.policies {
                let c = &p.classes;
                let _ = writeln!(
                    s,
                    "| {} | {} | ≤ {} | {:.1}% | {:.1}% | {:.1}% | {:.1}% | {:.1}% | {:.1}% | {} / {} |",
                    d.workload,
                    p.policy,
                    c[0].max_qty,
                    c[0].share_pct,
                    c[1].share_pct,
                    c[0].fill_ratio_pct,
                    c[1].fill_ratio_pct,
                    c[0].orders_filled_pct,
                    c[1].orders_filled_pct,
                    c[0].fills,
                    c[1].fills
                );
            }
        }
        let _ = writeln!(s, "\n![fills](fill-distribution.svg)\n");
        let _ = writeln!(s, "## Notes\n");
        for n in &self.notes {
            let _ = writeln!(s, "- {n}");
        }
        let _ = writeln!(s, "\n{}", self.provenance.markdown());
        s.push_str(&self.multi_instrument.markdown());
        s.push_str(&self.cme_family.markdown());
        s.push_str(&self.incentives.markdown());
        s
    }

    /// Write report.json, report.md and the SVG charts into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("report.json"), json + "\n")?;
        std::fs::write(dir.join("report.md"), self.markdown())?;
        std::fs::write(dir.join("throughput.svg"), self.throughput_svg())?;
        std::fs::write(dir.join("latency.svg"), self.latency_svg())?;
        if let Some(d) = self.charted_fill_distribution() {
            std::fs::write(dir.join("fill-distribution.svg"), fill_distribution_svg(d))?;
        }
        if !self.incentives.algorithms.is_empty() {
            std::fs::write(dir.join("incentives-size.svg"), self.incentives.size_svg())?;
            std::fs::write(dir.join("incentives-rank.svg"), self.incentives.rank_svg())?;
        }
        Ok(())
    }

    /// Median throughput per workload and matcher, each bar labelled with its value (a
    /// 0.12 M/s bar beside a 60 M/s one is otherwise invisible); a matcher that hung on a
    /// workload gets a cross and "hung at N" in its slot instead of an empty gap.
    pub fn throughput_svg(&self) -> String {
        let groups: Vec<String> = self.workloads.iter().map(|w| w.name.to_string()).collect();
        let mut missing = Vec::new();
        let series: Vec<(String, Vec<f64>)> = self
            .matchers
            .iter()
            .enumerate()
            .map(|(mi, m)| {
                let v = self
                    .workloads
                    .iter()
                    .enumerate()
                    .map(|(wi, w)| match self.cell(w.name, m) {
                        Some(Cell {
                            hung_at: Some((k, _)),
                            ..
                        }) => {
                            missing.push((mi, wi, format!("hung at {k}")));
                            0.0
                        }
                        Some(c) => c.median_mcps,
                        None => 0.0,
                    })
                    .collect();
                (m.to_string(), v)
            })
            .collect();
        crate::chart::BarChart {
            title: "Throughput, M commands/s (median, common subset)",
            y_label: "M commands/s",
            groups: &groups,
            series: &series,
            value_labels: Some(mcps_label),
            missing: &missing,
            ..Default::default()
        }
        .svg()
    }

    /// Service time per command by percentile, one curve per matcher (the same chart as
    /// `flowmatch run`'s latency.svg).
    pub fn latency_svg(&self) -> String {
        let series: Vec<(&str, &hdrhistogram::Histogram<u64>)> = self
            .latency
            .iter()
            .map(|l| (l.matcher, &l.histogram))
            .collect();
        crate::chart::latency_by_percentile("Service time per command, by percentile", &series)
    }

    /// The workload the fill chart shows: adversarial (its deep levels show the policies'
    /// difference best), else the first.
    pub fn charted_fill_distribution(&self) -> Option<&FillDistribution> {
        self.fill_distribution
            .iter()
            .find(|d| d.workload == "adversarial")
            .or(self.fill_distribution.first())
    }
}

/// Bar label for throughput: two decimals below 10 M/s, one above.
fn mcps_label(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

/// Bar label for a percentage, as report.md prints it.
pub fn pct_label(v: f64) -> String {
    format!("{v:.1}")
}

/// What its title says: the percentage of each size class's resting orders that got at
/// least one fill (`orders_filled_pct`), one bar per policy, each labelled with the
/// report's number.
pub fn fill_distribution_svg(d: &FillDistribution) -> String {
    let groups: Vec<String> = d
        .policies
        .first()
        .map(|p| {
            p.classes
                .iter()
                .map(|c| {
                    format!(
                        "{} ({}..={})",
                        c.class,
                        c.min_qty,
                        if c.max_qty == u64::MAX {
                            "max".to_string()
                        } else {
                            c.max_qty.to_string()
                        }
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let series: Vec<(String, Vec<f64>)> = d
        .policies
        .iter()
        .map(|p| {
            (
                p.policy.to_string(),
                p.classes.iter().map(|c| c.orders_filled_pct).collect(),
            )
        })
        .collect();
    crate::chart::BarChart {
        title: &format!(
            "Resting orders that got any fill, % by size class ({})",
            d.workload
        ),
        x_label: "resting-order size class (split at the stream's median limit size)",
        y_label: "% of the class's orders with at least one fill",
        groups: &groups,
        series: &series,
        y_max: Some(100.0),
        value_labels: Some(pct_label),
        ..Default::default()
    }
    .svg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::distribution::{ClassShare, PolicyDistribution};

    fn class(class: &'static str, orders_filled_pct: f64, share_pct: f64) -> ClassShare {
        ClassShare {
            class,
            min_qty: if class == "small" { 1 } else { 301 },
            max_qty: if class == "small" { 300 } else { u64::MAX },
            orders: 1000,
            orders_filled_pct,
            fills: 10,
            traded_qty: 100,
            share_pct,
            fill_ratio_pct: 1.0,
        }
    }

    /// The committed adversarial run: 54.5 / 65.3 / 64.8 % of small orders filled, while
    /// the share of traded quantity is about 13 / 87 under every policy.
    fn committed_adversarial() -> FillDistribution {
        let p = |policy, small, large| PolicyDistribution {
            policy,
            classes: vec![class("small", small, 13.1), class("large", large, 86.9)],
        };
        FillDistribution {
            workload: "adversarial".into(),
            policies: vec![
                p("price-time", 54.536719041941744, 53.61478218306412),
                p("pro-rata", 65.26281890721724, 64.16129508438715),
                p("pro-rata+top", 64.84285917901938, 63.89501543890604),
            ],
        }
    }

    fn texts(svg: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg).expect("well-formed XML");
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| n.text().unwrap_or("").trim().to_string())
            .collect()
    }

    #[test]
    fn fill_chart_plots_the_share_of_orders_filled_that_its_title_names() {
        let svg = fill_distribution_svg(&committed_adversarial());
        let t = texts(&svg);
        assert!(
            t.iter()
                .any(|x| x.starts_with("Resting orders that got any fill")),
            "{t:?}"
        );
        for want in ["54.5", "65.3", "64.8", "53.6", "64.2", "63.9"] {
            assert!(t.iter().any(|x| x == want), "{want} missing in {t:?}");
        }
        // Not the traded-quantity shares.
        for wrong in ["13.1", "86.9"] {
            assert!(!t.iter().any(|x| x == wrong), "{wrong} plotted: {t:?}");
        }
        // Bar heights follow the numbers: small-class bars price-time < pro-rata+top <
        // pro-rata, in the policies' colours.
        let height = |color: &str| -> Vec<f64> {
            let doc = roxmltree::Document::parse(&svg).unwrap();
            doc.descendants()
                .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(color))
                .filter(|n| n.attribute("x").unwrap().parse::<f64>().unwrap() < 760.0)
                .map(|n| n.attribute("height").unwrap().parse().unwrap())
                .collect()
        };
        let (pt, pr, top) = (height("#1F77B4"), height("#FF7F0E"), height("#2CA02C"));
        assert!(pt[0] < top[0] && top[0] < pr[0], "{pt:?} {pr:?} {top:?}");
        // 0..100 % axis: 54.5 % is 54.5 / 65.3 of the pro-rata bar, to a pixel.
        assert!(
            (pt[0] / pr[0] - 54.536719041941744 / 65.26281890721724).abs() < 0.01,
            "{pt:?} {pr:?}"
        );
    }
}
