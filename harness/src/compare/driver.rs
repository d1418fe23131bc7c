//! The matchers under comparison and the timed loops that drive them.
//!
//! Every matcher is driven through [`Matcher::apply`], one command at a time, collecting
//! its fills into one pre-sized vector that is cleared per command: the same work for our
//! books and for the peers (a peer that returns fills in a fresh `Vec` pays for that
//! allocation itself, inside its own `apply`). The loops are generic over the concrete
//! matcher type, so there is no dynamic dispatch in the timed path of any of them.

use flowmatch_core::{BookConfig, Command, FastBook, MatchPolicy, ReferenceBook};
use flowmatch_peers::{
    Capabilities, Fill, LobsterAdapter, MatchcoreAdapter, Matcher, NanobookAdapter, Ours,
};
use hdrhistogram::Histogram;
use std::hint::black_box;
use std::time::Instant;

/// Every matcher `compare` knows, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatcherKind {
    /// Our fast book, price-time: the product, and the baseline of every ratio.
    Fast,
    /// Our fast book with the pro-rata policy (no top order).
    FastProRata,
    /// Our reference book (test oracle), price-time.
    Reference,
    Matchcore,
    Nanobook,
    Lobster,
}

impl MatcherKind {
    pub const ALL: [MatcherKind; 6] = [
        MatcherKind::Fast,
        MatcherKind::FastProRata,
        MatcherKind::Reference,
        MatcherKind::Matchcore,
        MatcherKind::Nanobook,
        MatcherKind::Lobster,
    ];

    pub const PEERS: [MatcherKind; 3] = [
        MatcherKind::Matchcore,
        MatcherKind::Nanobook,
        MatcherKind::Lobster,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MatcherKind::Fast => "fast",
            MatcherKind::FastProRata => "fast-pro-rata",
            MatcherKind::Reference => "reference",
            MatcherKind::Matchcore => "matchcore",
            MatcherKind::Nanobook => "nanobook",
            MatcherKind::Lobster => "lobster",
        }
    }

    pub fn is_peer(self) -> bool {
        Self::PEERS.contains(&self)
    }

    /// What this matcher can express (ours: everything).
    pub fn capabilities(self) -> Capabilities {
        match self {
            MatcherKind::Matchcore => MatchcoreAdapter::new().capabilities(),
            MatcherKind::Nanobook => NanobookAdapter::new().capabilities(),
            MatcherKind::Lobster => LobsterAdapter::new().capabilities(),
            _ => Capabilities::FULL,
        }
    }
}

/// Book configuration used for our books in `compare`: defaults, with enough capacity for
/// every workload's resting depth so that no run measures storage growth.
pub fn book_config(policy: MatchPolicy) -> BookConfig {
    BookConfig {
        capacity: 1 << 17,
        policy,
        ..BookConfig::default()
    }
}

/// Call `f` with a freshly built matcher of `kind`, monomorphised per type.
macro_rules! with_matcher {
    ($kind:expr, |$m:ident| $body:expr) => {
        match $kind {
            MatcherKind::Fast => {
                let mut $m = Ours::new(FastBook::new(book_config(MatchPolicy::PriceTime)), "fast");
                $body
            }
            MatcherKind::FastProRata => {
                let mut $m = Ours::new(
                    FastBook::new(book_config(MatchPolicy::ProRata { top_order: false })),
                    "fast-pro-rata",
                );
                $body
            }
            MatcherKind::Reference => {
                let mut $m = Ours::new(
                    ReferenceBook::new(book_config(MatchPolicy::PriceTime)),
                    "reference",
                );
                $body
            }
            MatcherKind::Matchcore => {
                let mut $m = MatchcoreAdapter::new();
                $body
            }
            MatcherKind::Nanobook => {
                let mut $m = NanobookAdapter::new();
                $body
            }
            MatcherKind::Lobster => {
                let mut $m = LobsterAdapter::new();
                $body
            }
        }
    };
}

/// One timed pass of a whole stream through a fresh matcher.
#[derive(Clone, Copy, Debug)]
pub struct Pass {
    pub commands: usize,
    pub seconds: f64,
    /// Fills produced (kept so the work cannot be optimised away, and reported).
    pub fills: u64,
}

impl Pass {
    pub fn commands_per_sec(&self) -> f64 {
        self.commands as f64 / self.seconds.max(1e-12)
    }
}

#[inline(never)]
fn timed<M: Matcher>(m: &mut M, cmds: &[Command]) -> Pass {
    let mut fills: Vec<Fill> = Vec::with_capacity(1 << 16);
    let mut n_fills = 0u64;
    let t = Instant::now();
    for c in cmds {
        fills.clear();
        m.apply(black_box(c), &mut fills);
        n_fills += fills.len() as u64;
    }
    let seconds = t.elapsed().as_secs_f64();
    black_box(&fills);
    Pass {
        commands: cmds.len(),
        seconds,
        fills: n_fills,
    }
}

/// Run `cmds` once through a fresh fast book under `policy` (construction is not timed):
/// the CME family's pass ([`super::cme`]), the same loop as every matcher's.
pub fn throughput_policy(policy: MatchPolicy, cmds: &[Command]) -> Pass {
    let mut m = Ours::new(FastBook::new(book_config(policy)), "fast");
    timed(&mut m, cmds)
}

/// Run `cmds` once through a fresh matcher of `kind` (construction is not timed).
pub fn throughput(kind: MatcherKind, cmds: &[Command]) -> Pass {
    with_matcher!(kind, |m| timed(&mut m, cmds))
}

#[inline(never)]
fn per_command<M: Matcher>(
    m: &mut M,
    cmds: &[Command],
    clock: &quanta::Clock,
    hist: &mut Histogram<u64>,
) {
    let mut fills: Vec<Fill> = Vec::with_capacity(1 << 16);
    for c in cmds {
        fills.clear();
        let s = clock.raw();
        m.apply(black_box(c), &mut fills);
        let e = clock.raw();
        // Clamp into the histogram's fixed range: recording never resizes it.
        let ns = clock.delta_as_nanos(s, e).clamp(1, hist.high());
        hist.saturating_record(ns);
    }
    black_box(&fills);
}

/// A fixed-range histogram for service times (the harness's one constructor).
pub use crate::latency::hist::new_histogram;

/// Service time of every command (TSC clock read before and after `apply`) recorded into
/// `hist`. The two clock reads cost about 20–40 ns together and are included: compare the
/// matchers with each other, not with the throughput figures.
pub fn latency(
    kind: MatcherKind,
    cmds: &[Command],
    clock: &quanta::Clock,
    hist: &mut Histogram<u64>,
) {
    with_matcher!(kind, |m| per_command(&mut m, cmds, clock, hist))
}

/// All fills of `cmds` through a fresh matcher, grouped per command (index = command).
pub fn fills_per_command(kind: MatcherKind, cmds: &[Command]) -> Vec<Vec<Fill>> {
    with_matcher!(kind, |m| {
        let mut out = Vec::with_capacity(cmds.len());
        for c in cmds {
            let mut f = Vec::new();
            m.apply(c, &mut f);
            out.push(f);
        }
        out
    })
}

/// Apply `cmds` to a fresh matcher, calling `before(i)` before command `i` (screening).
pub fn drive_with_progress(kind: MatcherKind, cmds: &[Command], before: &mut dyn FnMut(usize)) {
    with_matcher!(kind, |m| {
        let mut f = Vec::new();
        for (i, c) in cmds.iter().enumerate() {
            before(i);
            f.clear();
            m.apply(c, &mut f);
        }
    })
}
