//! The one open-loop driver of the engine: builds the rings, pre-faults them, starts the
//! engine thread, sends a message stream on a schedule stamped with each message's
//! *intended* send time, drains the engine's output, and shuts the engine down cleanly.
//! `flowmatch latency` ([`crate::latency`]) and `flowmatch run`'s engine measurement
//! ([`crate::metrics::threaded`]) both drive the engine through [`drive`] and differ only in
//! the [`Recorder`] that sees each published event. The schedule itself is [`send_loop`],
//! over [`Lanes`] (push a prefix of a chunk, drain what was published): [`drive`] gives it
//! one engine's ingress and output ring, `flowmatch latency --shards`
//! ([`crate::latency::shards`]) a sharded engine's routers and output rings, so both share
//! one schedule, one intended-time stamping and one measured window.
//!
//! # Clock
//! Every stamp on the engine path (intended, enqueue, dequeue, publish) is a raw TSC tick
//! ([`crate::clock::TscClock`]); conversion to nanoseconds happens only here, on the
//! client thread, and in the recorders, never on the engine thread.
//!
//! # Schedule ([`Offer`])
//! - *Open loop*: message `i` is due at `start + i * period` (`period = 1 / rate`), and is
//!   stamped with that time even if the client sends it late (a full queue, a stalled
//!   engine, the client descheduled): overdue messages go out as fast as the ring takes
//!   them, in chunks of [`CHUNK`], and their latency still counts from their slot, so a
//!   stall cannot hide its queueing delay (no coordinated omission). The first `warmup`
//!   messages are sent but not *measured*.
//! - *Closed loop*: the ingress is kept full; a message's intended time is its enqueue
//!   time. Messages enqueued during the warm-up time are not measured.
//!
//! # Throughput ([`Throughput`])
//! The achieved rate is the number of measured messages sent, over the measured window:
//! the time the schedule gives them (`measured * period` in open loop), or, if the engine
//! fell behind, from the first measured message's intended time to the last event any
//! measured message produced, whichever is longer. Warm-up messages count in neither.
//!
//! # Shape on a 2-core machine
//! The engine thread owns one core (pinned); the calling thread is the client, pinned to
//! the other, and both sends and drains (one thread per role would need a third core).
//! With several producers the client owns all their producing ends and sends each chunk
//! through the next one in turn.

use crate::clock::TscClock;
use flowmatch_core::engine::{
    self, Engine, EngineConfig, EngineStats, Idle, Output, Processor, Stamped,
};
use flowmatch_core::ingress::{ingress, spsc, IngressError, QueueKind, Receiver, Sender};
use std::time::Duration;

/// Messages sent per push (the client batches overdue messages into one push).
pub const CHUNK: usize = 32;
/// Outputs taken from the engine's ring per drain.
const DRAIN: usize = 256;
/// Wait between the engine thread's start and the first slot: waking an idle vCPU can
/// take milliseconds on a virtual machine, and the first messages would otherwise wait for
/// it.
const LEAD_NS: f64 = 2e6;

/// Rings, engine tuning and placement.
#[derive(Clone, Debug)]
pub struct Shape {
    pub queue: QueueKind,
    pub producers: usize,
    /// Slots per ingress ring (total for `ArrayQueue`).
    pub capacity: usize,
    /// Slots in the engine's output ring.
    pub out_capacity: usize,
    /// Most messages the engine takes per poll.
    pub batch: usize,
    /// What the engine does when a poll finds nothing.
    pub idle: Idle,
    /// `(client core, engine core)` to pin to, if any.
    pub pin: Option<(core_affinity::CoreId, core_affinity::CoreId)>,
}

impl Default for Shape {
    /// One SPSC ring of 1,024 slots, a 16 Ki-slot output ring, batches of 64, `pause` when
    /// idle, unpinned.
    fn default() -> Self {
        Shape {
            queue: QueueKind::Spsc,
            producers: 1,
            capacity: 1024,
            out_capacity: 1 << 14,
            batch: 64,
            idle: Idle::Pause,
            pin: None,
        }
    }
}

/// How messages are offered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Offer {
    /// Open loop at `rate` messages/s: `warmup` unmeasured messages, then `measured`
    /// measured ones. If `give_up_after` is set and sending is still unfinished that long
    /// after the first slot, the rest is not sent (the run is *truncated*).
    Open {
        rate: f64,
        warmup: u64,
        measured: u64,
        give_up_after: Option<Duration>,
    },
    /// Closed loop: the ingress is kept full for `warmup` (unmeasured), then `measured`.
    Closed {
        warmup: Duration,
        measured: Duration,
    },
}

/// Slots an open-loop schedule at `rate` gives a span of `seconds`: `ceil(rate *
/// seconds)`, with a relative tolerance of 1e-12 so that a product such as `200000 * 0.02`
/// that is an integer in decimal is not rounded up by its binary representation.
pub fn slots(rate: f64, seconds: f64) -> u64 {
    let x = rate * seconds;
    if !(x.is_finite() && x > 0.0) {
        return 0;
    }
    (x * (1.0 - 1e-12)).ceil() as u64
}

impl Offer {
    /// Open loop at `rate` with a warm-up and a measured window of the given lengths: the
    /// slots each span holds ([`slots`]).
    pub fn open_for(rate: f64, warmup: Duration, measured: Duration) -> Offer {
        Offer::Open {
            rate,
            warmup: slots(rate, warmup.as_secs_f64()),
            measured: slots(rate, measured.as_secs_f64()),
            give_up_after: None,
        }
    }

    /// The same offer, cut short `after` the first slot if sending is not done by then
    /// (open loop; a closed-loop offer ends on its own).
    pub fn giving_up_after(self, after: Duration) -> Offer {
        match self {
            Offer::Open {
                rate,
                warmup,
                measured,
                ..
            } => Offer::Open {
                rate,
                warmup,
                measured,
                give_up_after: Some(after),
            },
            closed => closed,
        }
    }
}

/// Told about every event the engine publishes, in order, on the client thread. `E` is
/// the processor's event type.
pub trait Recorder<E> {
    /// `o` is one published event; `measured` says whether its message is measured (past
    /// the warm-up).
    fn event(&mut self, o: &Output<E>, measured: bool);
    /// Messages pushed so far (called after every push that took some).
    #[inline]
    fn sent(&mut self, _sent: u64) {}
    /// `o` came from shard `shard` of a sharded engine (a single engine is shard 0 and
    /// calls [`event`](Self::event) directly).
    #[inline]
    fn event_from(&mut self, _shard: u32, o: &Output<E>, measured: bool) {
        self.event(o, measured)
    }
}

/// Achieved rate over the measured window (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Throughput {
    /// Measured messages sent.
    pub measured: u64,
    /// Length of the measured window, seconds.
    pub elapsed_s: f64,
    /// `measured / elapsed_s` (0 when nothing was measured).
    pub achieved_rate: f64,
}

impl Throughput {
    /// `measured` messages whose schedule spans `scheduled_ns` (0 in closed loop), and
    /// whose events ran from the first one's intended time for `span_ns` (`None`: no
    /// measured message produced an event).
    pub fn of(measured: u64, scheduled_ns: f64, span_ns: Option<u64>) -> Throughput {
        let elapsed_ns = scheduled_ns.max(span_ns.unwrap_or(0) as f64);
        let elapsed_s = elapsed_ns / 1e9;
        Throughput {
            measured,
            elapsed_s,
            achieved_rate: if elapsed_s > 0.0 {
                measured as f64 / elapsed_s
            } else {
                0.0
            },
        }
    }
}

/// What a driven run returns besides what its recorder kept.
pub struct Driven<P> {
    /// The processor as the engine thread left it.
    pub processor: P,
    pub engine: EngineStats,
    /// Messages pushed into the ingress.
    pub sent: u64,
    pub producers: usize,
    pub client_pinned: bool,
    /// Open loop only: sending was cut short (see [`Offer::Open`]).
    pub truncated: bool,
    pub throughput: Throughput,
    /// Minor page faults of the whole process from the first slot to the end (from
    /// `/proc/self/stat`; `None` where that is unreadable).
    pub minor_faults: Option<u64>,
}

/// Minor page faults of this process so far (field 10 of `/proc/self/stat`).
pub fn minor_faults() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is parenthesised and may hold spaces: count after it.
    let rest = &s[s.rfind(')')? + 1..];
    rest.split_whitespace().nth(7)?.parse().ok()
}

/// Fills every ring once and empties it again, so that the first pass through their
/// storage (fresh pages from the OS: ~350 minor faults for a 16 Ki-slot output ring) does
/// not happen on the measured path. Leaves every ring empty. `filler` is any message (it
/// is never processed), `blank` any event (it is never read).
fn prefault<M: Copy + Send, E: Copy + Send>(
    txs: &mut [Sender<Stamped<M>>],
    rx: &mut Receiver<Stamped<M>>,
    out_tx: &mut spsc::Producer<Output<E>>,
    out_rx: &mut spsc::Consumer<Output<E>>,
    filler: M,
    blank: E,
) {
    let dummy = [Stamped::bare(filler); CHUNK];
    for tx in txs.iter_mut() {
        while tx.push_slice(&dummy) > 0 {}
    }
    while rx.poll(1024, |_, _| {}) > 0 {}
    let out = Output::blank(blank);
    while out_tx.try_push(out).is_ok() {}
    while out_rx.pop_batch(1024, |_| {}) > 0 {}
}

/// The measured window as the drains see it: which events belong to measured messages
/// (stamped at or after `warm_end`) and the latest publication among them.
pub struct Window {
    warm_end: u64,
    last: Option<u64>,
}

impl Window {
    /// Whether `o`'s message is measured; keeps the latest publication of those that are.
    #[inline]
    pub fn see<E>(&mut self, o: &Output<E>) -> bool {
        let measured = o.t_intended >= self.warm_end;
        if measured {
            self.last = Some(self.last.map_or(o.t_publish, |t| t.max(o.t_publish)));
        }
        measured
    }
}

/// Where the driver sends messages and reads events back: one engine's ingress and output
/// ring ([`drive`]), or a sharded engine's routers and output rings
/// ([`crate::latency::shards`]). The schedule, the stamping and the window are the
/// driver's ([`send_loop`]); only pushing and draining differ.
pub trait Lanes<M, E> {
    /// Pushes a prefix of `items` (as many as fit) and returns its length.
    fn push(&mut self, items: &[Stamped<M>]) -> usize;
    /// Hands what has been published so far to `recorder` (through `window`), returning
    /// how many events were taken.
    fn drain<R: Recorder<E>>(&mut self, window: &mut Window, recorder: &mut R) -> usize;
}

/// One engine's lanes: its producers' ingress ends, sent through in turn, and its output
/// ring.
struct EngineLanes<M, E> {
    txs: Vec<Sender<Stamped<M>>>,
    producer: usize,
    out_rx: spsc::Consumer<Output<E>>,
}

impl<M: Copy + Send, E: Copy + Send> Lanes<M, E> for EngineLanes<M, E> {
    #[inline]
    fn push(&mut self, items: &[Stamped<M>]) -> usize {
        let pushed = self.txs[self.producer].push_slice(items);
        self.producer += 1;
        if self.producer == self.txs.len() {
            self.producer = 0;
        }
        pushed
    }

    #[inline]
    fn drain<R: Recorder<E>>(&mut self, window: &mut Window, recorder: &mut R) -> usize {
        self.out_rx.pop_batch(DRAIN, |o| {
            let measured = window.see(&o);
            recorder.event(&o, measured);
        })
    }
}

/// What the send loop leaves for the shutdown and the throughput.
pub struct Sending {
    /// Messages pushed.
    pub sent: u64,
    /// Measured messages pushed.
    pub measured_sent: u64,
    /// Open loop only: sending was cut short (see [`Offer::Open`]).
    pub truncated: bool,
    /// The measured window so far; the shutdown's drains go on updating it.
    pub window: Window,
    /// The first measured stamp (`None`: closed loop, nothing measured was sent).
    pub window_start: Option<u64>,
    /// The schedule's span of the measured messages, ns (0 in closed loop).
    pub scheduled_ns: f64,
}

impl Sending {
    /// The achieved rate over the measured window, once every event has been drained.
    pub fn throughput(&self, clock: &TscClock) -> Throughput {
        let span_ns = self
            .window_start
            .zip(self.window.last)
            .map(|(a, b)| clock.delta_ns(a, b));
        Throughput::of(self.measured_sent, self.scheduled_ns, span_ns)
    }
}

/// Sends `feed(0)`, `feed(1)`, ... through `lanes` as `offer` says, each stamped with its
/// intended time (see the module doc), draining events into `recorder` between pushes.
/// `filler` is any message (it fills the chunk buffer and is never sent). Returns when
/// sending is done; the caller stops the engine(s) and drains the rest.
pub fn send_loop<M, E, L, F, R>(
    offer: Offer,
    clock: &TscClock,
    lanes: &mut L,
    filler: M,
    mut feed: F,
    recorder: &mut R,
) -> Sending
where
    M: Copy,
    L: Lanes<M, E>,
    F: FnMut(u64) -> M,
    R: Recorder<E>,
{
    let start = clock.raw() + clock.ns_to_ticks(LEAD_NS) as u64;
    let ticks = |d: Duration| clock.ns_to_ticks(d.as_nanos() as f64) as u64;
    // Per offer: total messages (u64::MAX: until `send_end`), slot period in ticks, the
    // first measured stamp, the end of sending (closed loop) and the give-up time.
    let (mut limit, period, warm_end, send_end, give_up, warm_count, scheduled_ns) = match offer {
        Offer::Open {
            rate,
            warmup,
            measured,
            give_up_after,
        } => {
            let period = clock.ns_to_ticks(1e9 / rate);
            (
                warmup + measured,
                period,
                start + (warmup as f64 * period) as u64,
                u64::MAX,
                give_up_after.map(|d| start + ticks(d)),
                warmup,
                measured as f64 * 1e9 / rate,
            )
        }
        Offer::Closed { warmup, measured } => {
            let warm_end = start + ticks(warmup);
            (
                u64::MAX,
                0.0,
                warm_end,
                warm_end + ticks(measured),
                None,
                0,
                0.0,
            )
        }
    };
    let open = matches!(offer, Offer::Open { .. });

    let mut chunk = [Stamped::bare(filler); CHUNK];
    let (mut sent, mut measured_sent) = (0u64, 0u64);
    let mut truncated = false;
    // Closed loop: the first measured stamp is the first enqueue after the warm-up.
    let mut window_start: Option<u64> = open.then_some(warm_end);
    let mut window = Window {
        warm_end,
        last: None,
    };

    while sent < limit {
        let now = clock.raw();
        let due = if now < start {
            0
        } else if open {
            (((now - start) as f64 / period) as u64 + 1).min(limit)
        } else if now >= send_end {
            limit = sent;
            sent
        } else {
            sent + CHUNK as u64
        };
        if sent < due {
            let k = ((due - sent) as usize).min(CHUNK);
            for (j, slot) in chunk[..k].iter_mut().enumerate() {
                let i = sent + j as u64;
                let intended = if open {
                    start + (i as f64 * period) as u64
                } else {
                    now
                };
                *slot = Stamped {
                    msg: feed(i),
                    t_intended: intended,
                    t_enqueue: now,
                };
            }
            let pushed = lanes.push(&chunk[..k]) as u64;
            if pushed > 0 {
                if open {
                    measured_sent = (sent + pushed).saturating_sub(warm_count);
                } else if now >= warm_end {
                    window_start.get_or_insert(now);
                    measured_sent += pushed;
                }
                sent += pushed;
                recorder.sent(sent);
            }
        }
        // The client polls again at once when idle (no `pause`): it has its own core, and
        // it must notice both its next send slot and the engine's output promptly.
        lanes.drain(&mut window, recorder);
        if give_up.is_some_and(|g| now > g) && limit > sent {
            limit = sent;
            truncated = true;
        }
    }
    Sending {
        sent,
        measured_sent,
        truncated,
        window,
        window_start,
        scheduled_ns,
    }
}

/// Drives `processor` on its own engine thread with the messages `feed(0)`, `feed(1)`, ...
/// offered as `offer` says, handing every published event to `recorder`. `blank` is any
/// event of the processor's type (it fills the output ring while pre-faulting and is never
/// read). Returns once the engine has processed every message sent and exited.
pub fn drive<M, P, F, R>(
    shape: &Shape,
    offer: Offer,
    clock: &TscClock,
    processor: P,
    blank: P::Event,
    mut feed: F,
    recorder: &mut R,
) -> Result<Driven<P>, String>
where
    M: Copy + Send + 'static,
    P: Processor<M> + Send + 'static,
    F: FnMut(u64) -> M,
    R: Recorder<P::Event>,
{
    let (mut txs, mut rx) = ingress::<Stamped<M>>(shape.queue, shape.producers, shape.capacity)
        .map_err(|e: IngressError| e.to_string())?;
    let (mut out_tx, mut out_rx) = spsc::channel::<Output<P::Event>>(shape.out_capacity);
    let filler = feed(0);
    prefault(&mut txs, &mut rx, &mut out_tx, &mut out_rx, filler, blank);
    let eng = Engine::new(
        rx,
        out_tx,
        processor,
        clock.source(),
        EngineConfig {
            batch: shape.batch,
            idle: shape.idle,
        },
    );
    let client_pinned = shape
        .pin
        .map(|(c, _)| core_affinity::set_for_current(c))
        .unwrap_or(false);
    // `spawn` returns once the engine thread runs (pinned, about to poll).
    let handle = engine::spawn(eng, shape.pin.map(|(_, e)| e))
        .map_err(|e| format!("cannot start the engine thread: {e}"))?;

    let producers = txs.len();
    let mut lanes = EngineLanes {
        txs,
        producer: 0,
        out_rx,
    };
    let faults_start = minor_faults();
    let mut sending = send_loop(offer, clock, &mut lanes, filler, feed, recorder);

    // Every push happened before this (Release); the engine drains them all, then exits.
    handle.stop();
    while !handle.is_finished() {
        lanes.drain(&mut sending.window, recorder);
        std::hint::spin_loop();
    }
    let faults_end = minor_faults();
    let (processor, engine_stats) = handle
        .join()
        .map_err(|_| "the engine thread panicked".to_string())?;
    while lanes.drain(&mut sending.window, recorder) > 0 {}
    Ok(Driven {
        processor,
        engine: engine_stats,
        sent: sending.sent,
        producers,
        client_pinned,
        truncated: sending.truncated,
        throughput: sending.throughput(clock),
        minor_faults: faults_start
            .zip(faults_end)
            .map(|(a, b)| b.saturating_sub(a)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_round_up_but_not_binary_noise() {
        assert_eq!(slots(200_000.0, 0.02), 4_000);
        assert_eq!(slots(200_000.0, 0.06), 12_000);
        assert_eq!(slots(10.0, 0.25), 3, "slots at 0, 0.1 and 0.2 s");
        assert_eq!(slots(1.0, 2.0), 2);
        assert_eq!(slots(1.0, 0.2), 1);
        assert_eq!(slots(3.0, 0.0), 0);
        assert_eq!(slots(f64::NAN, 1.0), 0);
    }

    /// Issue 9 defect 8, from the schedules the three reported runs had. Before, the rate
    /// was every message sent (warm-up included) over the first slot to the last event:
    /// `--rate 10 --duration 1` (warm-up 0.25 s) sent 13 messages, the last at 1.2 s, and
    /// reported 13 / 1.2 = 11/s; `--rate 1 --duration 2 --warmup 0` sent 2 messages one
    /// second apart and reported an elapsed 1.000 s; `--rate 1 --duration 0.2 --warmup 0`
    /// sent one message and divided by its 2 us latency (531/s).
    #[test]
    fn achieved_rate_counts_measured_messages_over_the_measured_window() {
        // --rate 10 --duration 1 --warmup 0.25: 3 warm-up slots, then 10 measured ones,
        // 0.1 s apart from 0.3 s; the last one's event 5 us after its slot at 1.2 s.
        let offer = Offer::open_for(10.0, Duration::from_millis(250), Duration::from_secs(1));
        assert_eq!(
            offer,
            Offer::Open {
                rate: 10.0,
                warmup: 3,
                measured: 10,
                give_up_after: None
            }
        );
        let t = Throughput::of(10, 10.0 * 1e8, Some(900_005_000));
        assert_eq!(t.elapsed_s, 1.0);
        assert_eq!(t.achieved_rate, 10.0);

        // --rate 1 --duration 2 --warmup 0: slots at 0 and 1 s, a 2 s window.
        assert_eq!(
            Offer::open_for(1.0, Duration::ZERO, Duration::from_secs(2)),
            Offer::Open {
                rate: 1.0,
                warmup: 0,
                measured: 2,
                give_up_after: None
            }
        );
        let t = Throughput::of(2, 2e9, Some(1_000_002_000));
        assert_eq!(t.elapsed_s, 2.0);
        assert_eq!(t.achieved_rate, 1.0);

        // One message in a one-period window is 1/s, not 1 / its latency.
        let t = Throughput::of(1, 1e9, Some(1_883));
        assert_eq!(t.achieved_rate, 1.0);
    }

    /// An engine that falls behind stretches the window past the schedule, so the achieved
    /// rate drops below the offered one; in closed loop the window is the span alone.
    #[test]
    fn a_backlog_stretches_the_window() {
        // 1000 measured at 1000/s (1 s of slots), the last event 3 s after the first slot.
        let t = Throughput::of(1_000, 1e9, Some(3_000_000_000));
        assert_eq!(t.elapsed_s, 3.0);
        assert!((t.achieved_rate - 1000.0 / 3.0).abs() < 1e-9);
        // Closed loop: 6 M messages in 1 s of span.
        let t = Throughput::of(6_000_000, 0.0, Some(1_000_000_000));
        assert_eq!(t.achieved_rate, 6e6);
        // Nothing measured: rate 0, never a division by zero.
        assert_eq!(Throughput::of(0, 0.0, None).achieved_rate, 0.0);
    }

    #[test]
    fn minor_faults_are_read_and_grow_when_memory_is_touched() {
        let Some(a) = minor_faults() else {
            return; // no /proc here
        };
        // Above glibc's largest dynamic mmap threshold (32 MiB), so the pages are fresh from
        // the OS even when another test thread has just freed a large buffer.
        let v = vec![1u8; 64 << 20];
        let b = minor_faults().unwrap();
        assert!(b > a, "{a} -> {b}");
        assert_eq!(v.iter().map(|&x| x as u64).sum::<u64>(), 64 << 20);
    }
}
