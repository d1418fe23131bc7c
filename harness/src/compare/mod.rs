//! `flowmatch compare`: our books and crates.io peers, side by side, on the same streams,
//! interleaved in one process on one machine.
//!
//! For each workload the full stream is generated once (seeded), then restricted to the
//! *common subset* every peer can express ([`flowmatch_peers::restrict`] with the
//! intersection of all capabilities). Every matcher runs that identical stream, so each
//! throughput ratio compares the same work. Our fast book's figure on the full, unrestricted
//! stream is reported beside it.
//!
//! Runs are interleaved (rep 1: A B C …, rep 2: A B C …), so a noisy neighbour or a
//! frequency change hits every matcher alike; each cell reports the median and min–max.
//! Separately: per-command service-time histograms (TSC clock), the fill cross-check of
//! every peer against our fast book on the peer's own subset, and how fills are shared
//! between small and large resting orders under price-time and pro-rata. Then the CME
//! Globex allocation family ([`cme`]: throughput of the eight algorithms beside price-time)
//! and the incentives study ([`incentives`]: what each algorithm rewards).

pub mod cme;
pub mod crosscheck;
pub mod distribution;
pub mod driver;
pub mod incentives;
pub mod instruments;
pub mod report;

use driver::MatcherKind;
use flowmatch_core::Command;
use flowmatch_peers::{restrict, Capabilities};

/// A named, seeded command stream: every workload of the registry
/// ([`crate::workload::Workload`], under its registry name), and the retail flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// A registered book workload.
    Book(crate::workload::Workload),
    /// The retail flow of the main-job issue ([`crate::retail::retail_commands`]).
    Retail,
}

impl Workload {
    /// Every workload `compare` knows, in report order: the registry's, then retail.
    pub fn all() -> Vec<Workload> {
        crate::workload::Workload::ALL
            .into_iter()
            .map(Workload::Book)
            .chain(std::iter::once(Workload::Retail))
            .collect()
    }

    /// The name used on the command line (`--workloads`) and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Book(w) => w.name(),
            Workload::Retail => "retail",
        }
    }

    /// The workload with this name, if any.
    pub fn from_name(name: &str) -> Option<Workload> {
        Workload::all().into_iter().find(|w| w.name() == name)
    }

    /// The full stream: `n` commands from `seed`. Same arguments, same stream.
    pub fn generate(self, seed: u64, n: usize) -> Vec<Command> {
        match self {
            Workload::Book(w) => w.generate(seed, n),
            Workload::Retail => {
                // `n` counts order arrivals there; the stream (with cancels) is longer.
                let mut v = crate::retail::retail_commands(seed, n);
                v.truncate(n);
                v
            }
        }
    }
}

/// A name `--workloads` accepts: a single-book workload or a multi-instrument one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadName {
    Book(Workload),
    Instruments(instruments::InstrumentWorkload),
}

impl WorkloadName {
    /// Every name, in report order: the single-book workloads, then the multi-instrument.
    pub fn all() -> Vec<WorkloadName> {
        Workload::all()
            .into_iter()
            .map(WorkloadName::Book)
            .chain(
                instruments::InstrumentWorkload::ALL
                    .into_iter()
                    .map(WorkloadName::Instruments),
            )
            .collect()
    }

    pub fn name(self) -> &'static str {
        match self {
            WorkloadName::Book(w) => w.name(),
            WorkloadName::Instruments(w) => w.name(),
        }
    }

    pub fn from_name(name: &str) -> Option<WorkloadName> {
        WorkloadName::all().into_iter().find(|w| w.name() == name)
    }
}

/// What `flowmatch compare` runs. The defaults finish in a few minutes on 2 cores.
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    /// Commands per workload stream (before restriction to the common subset).
    pub commands: usize,
    /// Interleaved repetitions of every (workload, matcher) pass.
    pub reps: usize,
    /// Commands per workload in the fill cross-check.
    pub cross_commands: usize,
    /// Commands per workload in the per-command latency pass.
    pub latency_commands: usize,
    pub matchers: Vec<MatcherKind>,
    pub workloads: Vec<Workload>,
    /// Multi-instrument workloads (our multi-books; see [`instruments`]).
    pub instrument_workloads: Vec<instruments::InstrumentWorkload>,
    /// A peer that has not returned from one command for this long is declared hung.
    pub stall: std::time::Duration,
    /// A peer still working through one screened stream after this long is reported too
    /// slow (where it had got to, and its rate) and not timed further on that stream: a
    /// peer that is merely pathologically slow (a deep ladder in a sorted vector) would
    /// otherwise hold the run for many minutes per repetition.
    pub budget: std::time::Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 42,
            commands: 200_000,
            reps: 5,
            cross_commands: 50_000,
            latency_commands: 100_000,
            matchers: MatcherKind::ALL.to_vec(),
            workloads: Workload::all(),
            instrument_workloads: instruments::InstrumentWorkload::ALL.to_vec(),
            stall: std::time::Duration::from_secs(2),
            budget: std::time::Duration::from_secs(3),
        }
    }
}

/// The capabilities of the common subset of the configured peers.
pub fn common_capabilities(matchers: &[MatcherKind]) -> Capabilities {
    let caps: Vec<Capabilities> = matchers.iter().map(|m| m.capabilities()).collect();
    Capabilities::intersect(&caps)
}

/// The common-subset stream of a workload, and the full stream it came from.
pub fn streams(w: Workload, cfg: &Config) -> (Vec<Command>, Vec<Command>) {
    let full = w.generate(cfg.seed, cfg.commands);
    let (common, _) = restrict(&full, &common_capabilities(&cfg.matchers));
    (full, common)
}

/// The peer adapters, re-exported for tests and tools that drive them directly.
pub use flowmatch_peers as peers;
pub use report::{run, Report};

/// Which stream a screening run drives a peer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScreenMode {
    /// The common-subset stream used for throughput.
    Common,
    /// The peer's own subset of the first `cross_commands` commands (the cross-check).
    Own,
}

/// How a screened peer got on with a whole stream ([`screen`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Screened {
    /// It returned from every command.
    Finished,
    /// It did not return from command `at` for [`Config::stall`].
    Hung { at: usize },
    /// It kept returning, but was only at command `at` when [`Config::budget`] ran out,
    /// `seconds` after its first command.
    TooSlow { at: usize, seconds: f64 },
}

impl Screened {
    /// The index of the first command the peer is not run on, if it is stopped.
    pub fn stop(self) -> Option<usize> {
        match self {
            Screened::Finished => None,
            Screened::Hung { at } | Screened::TooSlow { at, .. } => Some(at),
        }
    }
}

/// A peer stopped for being too slow: it had got through `reached` of `commands` commands
/// in `seconds` (so about `reached / seconds` commands per second, progress reports
/// included).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct TooSlow {
    pub reached: usize,
    pub commands: usize,
    pub seconds: f64,
}

impl TooSlow {
    /// What a stream of `commands` commands screened as, if it was too slow.
    pub fn of(s: Screened, commands: usize) -> Option<TooSlow> {
        match s {
            Screened::TooSlow { at, seconds } => Some(TooSlow {
                reached: at,
                commands,
                seconds,
            }),
            _ => None,
        }
    }

    /// Millions of commands per second it managed before it was stopped.
    pub fn mcps(&self) -> f64 {
        self.reached as f64 / self.seconds.max(1e-9) / 1e6
    }

    /// `too slow: 1234 of 200000 commands in 3.0 s (≈0.0004 M/s)`.
    pub fn text(&self) -> String {
        format!(
            "too slow: {} of {} commands in {:.1} s (≈{:.4} M/s)",
            self.reached,
            self.commands,
            self.seconds,
            self.mcps()
        )
    }
}

/// Find whether a peer gets through every command of a stream, without risking this
/// process: the stream is run in a child `flowmatch compare --screen ...` process that
/// reports each command index before applying it, and is killed once a single command
/// has not returned for `cfg.stall` (hung), or once it has worked on the stream for
/// `cfg.budget` without finishing (too slow).
///
/// Needed because a peer can loop forever on a legal stream (nanobook 0.19.3 does, see
/// peers/README.md); a thread cannot be stopped, a process can.
pub fn screen(
    peer: MatcherKind,
    w: Workload,
    mode: ScreenMode,
    cfg: &Config,
) -> std::io::Result<Screened> {
    let timeout = cfg.stall;
    use std::io::Read;
    use std::process::{Command as Proc, Stdio};
    let spec = format!(
        "{}:{}:{}:{}:{}:{}",
        peer.name(),
        w.name(),
        if mode == ScreenMode::Common {
            "common"
        } else {
            "own"
        },
        cfg.seed,
        cfg.commands,
        cfg.cross_commands
    );
    // The child's output goes to a self-deleting temporary file (removed on every path
    // out of here, errors included).
    let out_file = tempfile::Builder::new()
        .prefix("flowmatch-screen-")
        .suffix(".txt")
        .tempfile()?;
    let out_path = out_file.path().to_path_buf();
    let file = out_file.reopen()?;
    let mut child = Proc::new(std::env::current_exe()?)
        .args(["compare", "--screen", &spec])
        .env(SCREEN_PARENT_ENV, std::process::id().to_string())
        .stdout(Stdio::from(file))
        .stderr(Stdio::null())
        .spawn()?;
    // Killed when the output stops growing for `timeout`: one command that takes that long
    // has, for any practical purpose, not returned. Before the first index appears the
    // child is still generating its stream (our code, not the peer's), which may take
    // longer than a short `timeout`: that phase gets at least STARTUP_ALLOWANCE.
    const STARTUP_ALLOWANCE: std::time::Duration = std::time::Duration::from_secs(120);
    let mut last_len = 0;
    let mut last_change = std::time::Instant::now();
    // When the first index appeared: the peer's work on the stream starts there.
    let mut first_output: Option<std::time::Instant> = None;
    let mut too_slow_after = None;
    let finished = loop {
        if let Some(st) = child.try_wait()? {
            break st.success();
        }
        let len = std::fs::metadata(&out_path).map_or(0, |m| m.len());
        if len > 0 && first_output.is_none() {
            first_output = Some(std::time::Instant::now());
        }
        // Past the budget, the peer is too slow only if it is still moving: stopped on its
        // next progress report. One that stops moving is hung (after `stall`, as before),
        // whatever the budget.
        let over_budget = first_output.filter(|t| t.elapsed() > cfg.budget);
        if len != last_len {
            if let Some(t) = over_budget {
                child.kill()?;
                child.wait()?;
                too_slow_after = Some(t.elapsed().as_secs_f64());
                break false;
            }
            last_len = len;
            last_change = std::time::Instant::now();
        } else if last_change.elapsed()
            > if last_len == 0 {
                timeout.max(STARTUP_ALLOWANCE)
            } else {
                timeout
            }
        {
            child.kill()?;
            child.wait()?;
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut s = String::new();
    std::fs::File::open(&out_path)?.read_to_string(&mut s)?;
    drop(out_file);
    if finished && s.lines().last() == Some("done") {
        return Ok(Screened::Finished);
    }
    // The last index written is the command that was started and never returned (or, when
    // too slow, the one it was working on when stopped).
    let at = s
        .lines()
        .rev()
        .find_map(|l| l.parse::<usize>().ok())
        .unwrap_or(0);
    Ok(match too_slow_after {
        Some(seconds) => Screened::TooSlow { at, seconds },
        None => Screened::Hung { at },
    })
}

/// A screening child runs a peer that may never return; if the `compare` that started it
/// is killed, nothing would ever kill the child, and it would spin on a core for good. So
/// the child watches its parent and exits once it is gone (re-parented). The parent names
/// itself in [`SCREEN_PARENT_ENV`], because by the time the child runs its first line its
/// parent may already have died; without the variable the child's first parent counts.
fn exit_with_parent() {
    let parent = std::env::var(SCREEN_PARENT_ENV)
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or_else(std::os::unix::process::parent_id);
    std::thread::spawn(move || loop {
        if std::os::unix::process::parent_id() != parent {
            std::process::exit(3);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    });
}

/// The environment variable in which `compare` gives a screening child its own pid.
pub const SCREEN_PARENT_ENV: &str = "FLOWMATCH_SCREEN_PARENT";

/// The child side of [`screen`]: parse the spec, run the peer, report progress, then print
/// `done`.
///
/// Progress: the driving thread stores each command's index before applying it (one
/// atomic store, so screening does not slow the peer down); a reporter thread prints the
/// index every 10 ms when it has changed (flushed, so the parent sees it even if the peer
/// never returns). A peer stuck in command `k` leaves `k` as the last line and the output
/// stops growing. A system call per command instead would make a fast peer look slow
/// against the budget.
pub fn screen_child(spec: &str) -> Result<(), String> {
    use std::io::Write;
    exit_with_parent();
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.len() != 6 {
        return Err(format!("bad --screen spec `{spec}`"));
    }
    let peer = MatcherKind::ALL
        .into_iter()
        .find(|m| m.name() == parts[0])
        .ok_or_else(|| format!("unknown matcher `{}`", parts[0]))?;
    let w =
        Workload::from_name(parts[1]).ok_or_else(|| format!("unknown workload `{}`", parts[1]))?;
    let num = |s: &str| {
        s.parse::<u64>()
            .map_err(|e| format!("bad number `{s}`: {e}"))
    };
    let cfg = Config {
        seed: num(parts[3])?,
        commands: num(parts[4])? as usize,
        cross_commands: num(parts[5])? as usize,
        ..Config::default()
    };
    let cmds = if parts[2] == "common" {
        streams(w, &cfg).1
    } else {
        let full = w.generate(cfg.seed, cfg.commands);
        let n = cfg.cross_commands.min(full.len());
        restrict(&full[..n], &peer.capabilities()).0
    };
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    let at = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let reporter = {
        let (at, finished) = (Arc::clone(&at), Arc::clone(&finished));
        std::thread::spawn(move || {
            let mut out = std::io::stdout().lock();
            let mut shown = None;
            loop {
                let done = finished.load(Ordering::Acquire);
                let i = at.load(Ordering::Acquire);
                if shown != Some(i) {
                    let _ = writeln!(out, "{i}");
                    let _ = out.flush();
                    shown = Some(i);
                }
                if done {
                    let _ = writeln!(out, "done");
                    let _ = out.flush();
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        })
    };
    driver::drive_with_progress(peer, &cmds, &mut |i| at.store(i, Ordering::Release));
    finished.store(true, Ordering::Release);
    let _ = reporter.join();
    Ok(())
}
