//! The latency lab: drives the engine thread with a command stream under a chosen load and
//! measures where each command's time goes.
//!
//! # What is measured
//! Every command carries four raw TSC stamps: the time it was *meant* to be sent (its slot
//! in the open-loop schedule), the time it was pushed into the ingress, the time the engine
//! took its batch out, and the time the engine published its first event. From these, per
//! command: **queue hop** (enqueue -> dequeue), **service** (dequeue -> first event) and
//! **end-to-end** (intended send -> first event).
//!
//! # Why "intended" send time
//! A load generator that waits for the system before sending the next request, or that
//! measures from the moment it actually managed to send, silently drops the samples a
//! stall would have produced (coordinated omission). The open-loop client here computes
//! each command's send slot from the start time and the offered rate alone; if it falls
//! behind (the queue is full, the engine stalled, the client was descheduled) it sends the
//! overdue commands as fast as it can, and their latency still counts from their slot.
//!
//! # Shape on a 2-core machine
//! The engine thread owns one core (pinned); the calling thread is the client, pinned to
//! the other, and both sends and drains the output ring (one thread per role would need
//! a third core). With several producers, the client owns all their producing ends and
//! sends each chunk through the next one in turn, which exercises the engine's
//! multi-producer polling without more threads than cores.
//!
//! Load modes: open-loop at a fixed offered rate ([`Load::Open`]), closed-loop maximum
//! throughput ([`Load::Closed`]: the ingress is kept full; intended = enqueue time, so
//! end-to-end there is the response time under saturation), and a rate sweep
//! ([`find_knee`]).
//!
//! # Baselines
//! [`Pipeline::Null`] runs the same client, rings and engine thread with a processor that
//! applies nothing and echoes one `ACK` per command (the Disruptor's harness-overhead
//! baseline): whatever tail it shows is not the book's. [`probe`] measures, in the same
//! invocation, how long each core is taken away from us, and models the latency floor
//! those gaps alone impose.

pub mod hist;
pub mod probe;

pub use hist::{PathHistograms, Percentiles};

use crate::clock::TscClock;
use flowmatch_core::engine::Processor;
use flowmatch_core::engine::{self, Engine, EngineConfig, EngineStats, Idle, Output, Stamped};
use flowmatch_core::ingress::{ingress, spsc, IngressError, QueueKind};
use flowmatch_core::{BookConfig, Command, Event, FastBook, Sink};
use serde::Serialize;
use std::time::Duration;

/// How commands are offered.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Load {
    /// Open loop at `rate` commands per second.
    Open { rate: f64 },
    /// Closed loop: as fast as the engine takes them.
    Closed,
}

/// What the engine thread does with each command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pipeline {
    /// A fresh `FastBook` applies every command (the product).
    Book,
    /// Nothing is applied: one `ACK` per command is echoed (the harness-overhead baseline).
    Null,
}

impl Pipeline {
    pub fn name(self) -> &'static str {
        match self {
            Pipeline::Book => "book",
            Pipeline::Null => "null",
        }
    }
}

/// The null processor: one `ACK` per command, no state.
pub struct Echo;

impl Processor<Command> for Echo {
    type Event = Event;
    #[inline]
    fn process<S: Sink<Event>>(&mut self, msg: &Command, sink: &mut S) {
        sink.event(Event::Ack { id: msg.id() });
    }
}

/// One measured run.
#[derive(Clone, Debug)]
pub struct RunSpec {
    pub pipeline: Pipeline,
    pub queue: QueueKind,
    pub producers: usize,
    /// Most commands the engine takes per poll.
    pub batch: usize,
    /// What the engine does when a poll finds nothing.
    pub idle: Idle,
    /// Slots per ingress ring (total for `ArrayQueue`).
    pub capacity: usize,
    /// Slots in the engine's output ring.
    pub out_capacity: usize,
    pub load: Load,
    /// Measured time (after warm-up).
    pub duration: Duration,
    /// Time at the start whose commands are sent but not recorded (caches, branch
    /// predictors and the book's storage warm up).
    pub warmup: Duration,
    /// `(client core, engine core)` to pin to, if any.
    pub pin: Option<(core_affinity::CoreId, core_affinity::CoreId)>,
    pub book: BookConfig,
}

impl Default for RunSpec {
    fn default() -> Self {
        RunSpec {
            pipeline: Pipeline::Book,
            queue: QueueKind::Spsc,
            producers: 1,
            batch: 64,
            idle: Idle::Pause,
            capacity: 1024,
            out_capacity: 1 << 14,
            load: Load::Closed,
            duration: Duration::from_secs(2),
            warmup: Duration::from_millis(250),
            pin: None,
            book: BookConfig {
                capacity: 1 << 18,
                ..BookConfig::default()
            },
        }
    }
}

/// A command stream replayed cyclically: pass `k` adds `k * stride` to every id, so a
/// stream shorter than the run never reuses a live id.
pub struct Cycle<'a> {
    cmds: &'a [Command],
    stride: u64,
}

impl<'a> Cycle<'a> {
    /// `cmds` must not be empty.
    pub fn new(cmds: &'a [Command]) -> Option<Self> {
        if cmds.is_empty() {
            return None;
        }
        let max_id = cmds.iter().map(|c| c.id()).max().unwrap_or(0);
        Some(Cycle {
            cmds,
            stride: max_id.saturating_add(1),
        })
    }

    #[inline]
    pub fn get(&self, i: u64) -> Command {
        let n = self.cmds.len() as u64;
        let off = (i / n).wrapping_mul(self.stride);
        let mut c = self.cmds[(i % n) as usize];
        match &mut c {
            Command::New(o) => o.id = o.id.wrapping_add(off),
            Command::Cancel { id } | Command::Replace { id, .. } => *id = id.wrapping_add(off),
        }
        c
    }
}

/// What one run measured.
pub struct RunResult {
    pub pipeline: Pipeline,
    pub load: Load,
    pub queue: QueueKind,
    pub producers: usize,
    pub batch: usize,
    /// Commands pushed into the ingress.
    pub sent: u64,
    /// Commands whose first event came back (equals `sent` after a clean shutdown).
    pub completed: u64,
    /// Events received.
    pub events: u64,
    /// Commands recorded in the histograms (those scheduled after the warm-up).
    pub recorded: u64,
    /// Commands per second from the first send slot to the last first-event.
    pub achieved_rate: f64,
    pub elapsed_s: f64,
    pub hists: PathHistograms,
    pub engine: EngineStats,
    pub client_pinned: bool,
    /// The open-loop run fell so far behind that sending was cut short.
    pub truncated: bool,
    /// Minor page faults of the whole process from the first send slot to the end (from
    /// `/proc/self/stat`; `None` where that is unreadable).
    pub minor_faults: Option<u64>,
}

/// Commands sent per push (the client batches overdue commands into one push).
const CHUNK: usize = 32;

/// Runs the engine under `spec.load`, replaying `stream`, with a fresh `FastBook` or the
/// null processor as `spec.pipeline` says.
pub fn run(spec: &RunSpec, stream: &Cycle, clock: &TscClock) -> Result<RunResult, String> {
    match spec.pipeline {
        Pipeline::Book => run_with(spec, stream, clock, FastBook::new(spec.book)),
        Pipeline::Null => run_with(spec, stream, clock, Echo),
    }
}

/// Minor page faults of this process so far (field 10 of `/proc/self/stat`).
pub fn minor_faults() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is parenthesised and may hold spaces: count after it.
    let rest = &s[s.rfind(')')? + 1..];
    rest.split_whitespace().nth(7)?.parse().ok()
}

/// Fills every ring once and empties it again, so that the first pass through their
/// storage (fresh pages from the OS: ~350 minor faults for the default output ring) does
/// not happen on the measured path. Leaves every ring empty. `filler` is any message (it
/// is never processed), `out_filler` any event. Serves this runner and `flowmatch run`'s
/// threaded engine run.
pub(crate) fn prefault<M: Copy + Send, E: Copy + Send>(
    txs: &mut [flowmatch_core::ingress::Sender<Stamped<M>>],
    rx: &mut flowmatch_core::ingress::Receiver<Stamped<M>>,
    out_tx: &mut spsc::Producer<Output<E>>,
    out_rx: &mut spsc::Consumer<Output<E>>,
    filler: M,
    out_filler: E,
) {
    let dummy = [Stamped::bare(filler); CHUNK];
    for tx in txs.iter_mut() {
        while tx.push_slice(&dummy) > 0 {}
    }
    while rx.poll(1024, |_, _| {}) > 0 {}
    let out = Output::blank(out_filler);
    while out_tx.try_push(out).is_ok() {}
    while out_rx.pop_batch(1024, |_| {}) > 0 {}
}

fn run_with<P: Processor<Command, Event = Event> + Send + 'static>(
    spec: &RunSpec,
    stream: &Cycle,
    clock: &TscClock,
    proc: P,
) -> Result<RunResult, String> {
    let (mut txs, mut rx) = ingress::<Stamped<Command>>(spec.queue, spec.producers, spec.capacity)
        .map_err(|e: IngressError| e.to_string())?;
    let (mut out_tx, mut out_rx) = spsc::channel::<Output<Event>>(spec.out_capacity);
    prefault(
        &mut txs,
        &mut rx,
        &mut out_tx,
        &mut out_rx,
        Command::Cancel { id: 0 },
        Event::Ack { id: 0 },
    );
    let eng = Engine::new(
        rx,
        out_tx,
        proc,
        clock.source(),
        EngineConfig {
            batch: spec.batch,
            idle: spec.idle,
        },
    );
    let client_pinned = spec
        .pin
        .map(|(c, _)| core_affinity::set_for_current(c))
        .unwrap_or(false);
    let handle = engine::spawn(eng, spec.pin.map(|(_, e)| e)).map_err(|e| e.to_string())?;

    let total = spec.warmup + spec.duration;
    let (n_total, period) = match spec.load {
        Load::Open { rate } => {
            let rate = rate.max(1.0);
            (
                (rate * total.as_secs_f64()).ceil() as u64,
                clock.ns_to_ticks(1e9 / rate),
            )
        }
        Load::Closed => (u64::MAX, 0.0),
    };
    // Give the engine thread a moment to start spinning before the first slot.
    let start = clock.raw() + clock.ns_to_ticks(2e6) as u64;
    let warm_end = start + clock.ns_to_ticks(spec.warmup.as_nanos() as f64) as u64;
    let send_end = start + clock.ns_to_ticks(total.as_nanos() as f64) as u64;
    // An open-loop run that cannot keep up stops sending after 3x its length (+1 s).
    let hard_end = start + clock.ns_to_ticks(3.0 * total.as_nanos() as f64 + 1e9) as u64;

    let mut hists = PathHistograms::default();
    let (mut sent, mut completed, mut events, mut recorded) = (0u64, 0u64, 0u64, 0u64);
    let mut last_publish = start;
    let mut limit = n_total;
    let mut truncated = false;
    let mut chunk = [Stamped::bare(Command::Cancel { id: 0 }); CHUNK];
    let mut producer = 0usize;

    let mut drain = |out_rx: &mut spsc::Consumer<Output<Event>>,
                     completed: &mut u64,
                     events: &mut u64,
                     recorded: &mut u64,
                     last_publish: &mut u64| {
        out_rx.pop_batch(256, |o| {
            *events += 1;
            if o.index == 0 {
                *completed += 1;
                *last_publish = o.t_publish;
                if o.t_intended >= warm_end {
                    *recorded += 1;
                    hists.record(
                        clock.delta_ns(o.t_enqueue, o.t_dequeue),
                        clock.delta_ns(o.t_dequeue, o.t_publish),
                        clock.delta_ns(o.t_intended, o.t_publish),
                    );
                }
            }
        })
    };

    let faults_start = minor_faults();
    loop {
        let now = clock.raw();
        let due = match spec.load {
            Load::Open { .. } => {
                if now < start {
                    0
                } else {
                    (((now - start) as f64 / period) as u64 + 1).min(limit)
                }
            }
            Load::Closed => {
                if now < start {
                    0
                } else if now >= send_end {
                    limit = sent;
                    sent
                } else {
                    sent + CHUNK as u64
                }
            }
        };
        if sent < due {
            let k = ((due - sent) as usize).min(CHUNK);
            for (j, slot) in chunk[..k].iter_mut().enumerate() {
                let i = sent + j as u64;
                let intended = match spec.load {
                    Load::Open { .. } => start + (i as f64 * period) as u64,
                    Load::Closed => now,
                };
                *slot = Stamped {
                    msg: stream.get(i),
                    t_intended: intended,
                    t_enqueue: now,
                };
            }
            sent += txs[producer].push_slice(&chunk[..k]) as u64;
            producer += 1;
            if producer == txs.len() {
                producer = 0;
            }
        }
        drain(
            &mut out_rx,
            &mut completed,
            &mut events,
            &mut recorded,
            &mut last_publish,
        );
        // The client polls again at once when idle (no `pause`): it has its own core, and
        // it must notice both its next send slot and the engine's output promptly.
        if sent == limit && completed == sent {
            break;
        }
        if matches!(spec.load, Load::Open { .. }) && now > hard_end && limit > sent {
            limit = sent;
            truncated = true;
        }
    }

    handle.stop();
    while !handle.is_finished() {
        drain(
            &mut out_rx,
            &mut completed,
            &mut events,
            &mut recorded,
            &mut last_publish,
        );
        std::hint::spin_loop();
    }
    let faults_end = minor_faults();
    let (_proc, engine_stats) = handle
        .join()
        .map_err(|_| "the engine thread panicked".to_string())?;
    drain(
        &mut out_rx,
        &mut completed,
        &mut events,
        &mut recorded,
        &mut last_publish,
    );
    let elapsed_s = clock.delta_ns(start, last_publish) as f64 / 1e9;
    Ok(RunResult {
        pipeline: spec.pipeline,
        load: spec.load,
        queue: spec.queue,
        producers: txs.len(),
        batch: spec.batch,
        sent,
        completed,
        events,
        recorded,
        achieved_rate: if elapsed_s > 0.0 {
            completed as f64 / elapsed_s
        } else {
            0.0
        },
        elapsed_s,
        hists,
        engine: engine_stats,
        client_pinned,
        truncated,
        minor_faults: faults_start
            .zip(faults_end)
            .map(|(a, b)| b.saturating_sub(a)),
    })
}

/// Median end-to-end latency (ns) above which a rate counts as saturated: the median
/// command is then waiting behind a backlog, not just crossing two cores and a book.
pub const KNEE_P50_NS: u64 = 20_000;

/// The saturation knee of a rate sweep: the highest offered rate that the engine sustained
/// (achieved at least 97% of offered, sending not cut short) with a median end-to-end
/// latency under [`KNEE_P50_NS`]. The median, not a high percentile, decides, because on a
/// shared machine a single descheduling makes p99 noisy at any rate while a backlog moves
/// the median. `None` if no rate qualified.
pub fn find_knee(results: &[(f64, f64, u64, bool)]) -> Option<f64> {
    // (offered, achieved, e2e p50 ns, truncated), in any order.
    results
        .iter()
        .filter(|&&(offered, achieved, p50, truncated)| {
            !truncated && achieved >= 0.97 * offered && p50 <= KNEE_P50_NS
        })
        .map(|r| r.0)
        .max_by(|a, b| a.total_cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmatch_core::{NewOrder, Side};

    #[test]
    fn cycle_offsets_ids_per_pass() {
        let cmds = [
            Command::New(NewOrder::limit(5, 1, Side::Buy, 10, 1)),
            Command::Cancel { id: 5 },
            Command::Replace {
                id: 7,
                price: 1,
                qty: 1,
            },
        ];
        let c = Cycle::new(&cmds).unwrap();
        assert_eq!(c.get(0), cmds[0]);
        assert_eq!(c.get(4), Command::Cancel { id: 13 });
        assert_eq!(
            c.get(8),
            Command::Replace {
                id: 23,
                price: 1,
                qty: 1
            }
        );
        assert!(Cycle::new(&[]).is_none());
    }

    /// Functional only (no timing assertions): every command sent comes back, the
    /// histograms hold the post-warm-up commands, the engine's counts agree with the client's.
    #[test]
    fn short_runs_complete_every_command_for_every_queue_kind() {
        let cmds = crate::workload::equity::generate(
            &crate::workload::equity::EquityConfig::default(),
            5,
            20_000,
        );
        let stream = Cycle::new(&cmds).unwrap();
        let clock = TscClock::new();
        for (queue, producers) in [
            (QueueKind::Spsc, 1),
            (QueueKind::Multi, 3),
            (QueueKind::ArrayQueue, 2),
        ] {
            for load in [Load::Closed, Load::Open { rate: 200_000.0 }] {
                // Queues large enough to hold a whole run: on a loaded machine the unpinned
                // client and engine may only run in alternating time slices, and small
                // queues would then limit progress to one queueful per slice.
                let spec = RunSpec {
                    queue,
                    producers,
                    capacity: 1 << 14,
                    out_capacity: 1 << 16,
                    load,
                    duration: Duration::from_millis(60),
                    warmup: Duration::from_millis(20),
                    ..RunSpec::default()
                };
                let r = run(&spec, &stream, &clock).unwrap();
                let what = format!("{queue:?} {load:?}");
                assert!(r.sent > 0, "{what}");
                assert_eq!(r.completed, r.sent, "{what}");
                assert_eq!(r.engine.messages, r.sent, "{what}");
                assert_eq!(r.engine.events, r.events, "{what}");
                assert!(r.events >= r.sent, "{what}: every command has an event");
                assert!(r.recorded <= r.completed, "{what}");
                assert_eq!(r.hists.e2e.len(), r.recorded, "{what}");
                assert_eq!(r.producers, producers);
                if let (Load::Open { rate }, false) = (load, r.truncated) {
                    // The schedule fixes how many commands are offered: rate x (warm-up + run)
                    // (unless the machine was so loaded that the run fell behind and was cut).
                    assert_eq!(
                        r.sent,
                        (rate * 0.08).ceil() as u64,
                        "{what} truncated={} elapsed={}",
                        r.truncated,
                        r.elapsed_s
                    );
                }
            }
        }
        // A bad shape is an error, not a panic.
        let bad = RunSpec {
            queue: QueueKind::Spsc,
            producers: 2,
            ..RunSpec::default()
        };
        assert!(run(&bad, &stream, &clock).is_err());
    }

    /// The null pipeline runs the same client and engine but echoes exactly one `ACK` per
    /// command, whatever the command (checked against the stream itself).
    #[test]
    fn null_pipeline_echoes_one_ack_per_command() {
        let cmds = crate::workload::equity::generate(
            &crate::workload::equity::EquityConfig::default(),
            3,
            5_000,
        );
        let stream = Cycle::new(&cmds).unwrap();
        let clock = TscClock::new();
        let mut echo_events = Vec::new();
        for i in 0..10 {
            Echo.process(&stream.get(i), &mut echo_events);
        }
        let ids: Vec<Event> = (0..10)
            .map(|i| Event::Ack {
                id: stream.get(i).id(),
            })
            .collect();
        assert_eq!(echo_events, ids);
        for load in [Load::Closed, Load::Open { rate: 200_000.0 }] {
            let spec = RunSpec {
                pipeline: Pipeline::Null,
                capacity: 1 << 14,
                out_capacity: 1 << 16,
                load,
                duration: Duration::from_millis(40),
                warmup: Duration::from_millis(10),
                ..RunSpec::default()
            };
            let r = run(&spec, &stream, &clock).unwrap();
            assert_eq!(r.pipeline, Pipeline::Null);
            assert!(r.sent > 0);
            assert_eq!(r.completed, r.sent, "{load:?}");
            assert_eq!(r.events, r.sent, "{load:?}: one event per command");
            assert_eq!(r.engine.events, r.sent);
        }
    }

    #[test]
    fn minor_faults_are_read_and_grow_when_memory_is_touched() {
        let Some(a) = minor_faults() else {
            return; // no /proc here
        };
        let v = vec![1u8; 8 << 20];
        let b = minor_faults().unwrap();
        assert!(b > a, "{a} -> {b}");
        assert_eq!(v.iter().map(|&x| x as u64).sum::<u64>(), 8 << 20);
    }

    #[test]
    fn knee_is_last_sustained_rate() {
        let r = [
            (1e6, 0.999e6, 900, false),
            (5e5, 5e5, 800, false),
            (2e6, 1.99e6, 5_000, false),
            (3e6, 2.95e6, 3_000_000, false), // kept up on average but backlogged
            (4e6, 2.5e6, 900, false),        // fell behind
        ];
        assert_eq!(find_knee(&r), Some(2e6));
        // A noisy low rate does not hide a clean higher one.
        assert_eq!(
            find_knee(&[(2.5e5, 2.5e5, 2_000_000, false), (1e6, 1e6, 500, false)]),
            Some(1e6)
        );
        assert_eq!(find_knee(&[(1e6, 1e5, 1, false)]), None);
        assert_eq!(find_knee(&[(1e6, 1e6, 1, true)]), None);
        assert_eq!(find_knee(&[]), None);
    }
}
