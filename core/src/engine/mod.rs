//! The engine loop: one thread that owns the processor (a book, the wholesaler, an
//! embedder's own state machine), busy-polls the ingress, applies messages in batches and
//! publishes the processor's own events into an output ring.
//!
//! # Why this shape
//! - *One thread owns all matching state*, so the book needs no locks and stays in that
//!   core's caches. Everything crosses threads through the bounded rings of
//!   [`ingress`](crate::ingress), which allocate only when built.
//! - *Busy polling*: a sleeping thread costs microseconds to wake; the engine spins on its
//!   ingress instead (with a `pause` hint) and is meant to have a core to itself.
//! - *Batches*: one poll takes up to `batch` messages with one acquire/release pair, and
//!   the clock is read once per batch for the dequeue stamp, so under load the per-message
//!   overhead shrinks while a lone message is still taken at once.
//! - *A global sequence number* is stamped on each message as it is taken, in the order the
//!   engine applies them: with several producers this is the journal order.
//! - *Events are published per message*: the events of a message are buffered in a small
//!   fixed array, stamped with one clock read, staged into the output ring and made
//!   visible with one release store, so the client never sees half a message unless the
//!   message produced more events than the buffer holds (then they go out in chunks, in
//!   order).
//! - *Back-pressure both ways*: a full ingress stops the producer (it gets the item back);
//!   a full output ring makes the engine wait for the client to drain. Nothing is dropped.
//! - *Clean shutdown*: [`Engine::run`] returns only after it has seen the stop flag *and*
//!   then found every ingress ring empty. Producers push before the flag is raised
//!   (`Release`), the engine reads it with `Acquire`, so every accepted message is visible
//!   to that final drain and none is lost.
//!
//! The core has no clock of its own: the engine is handed one ([`Clock`], any
//! `Fn() -> u64`), in whatever unit the caller likes (the harness passes raw TSC ticks).
//! After construction nothing on this path allocates (given a processor that does not): the
//! rings and the event buffer are sized when they are built and never grow. The only
//! per-message scratch is that fixed buffer, so no arena (bumpalo) is needed: an oversized
//! message simply flushes its events in several chunks.
//!
//! [`spawn`] runs an engine on its own (optionally pinned) thread and returns once that
//! thread is running; [`Engine::step`] drives it on the caller's thread (tests).

use crate::book::OrderBook;
use crate::command::{Command, Event, Sink};
use crate::ingress::{spin_hint, spsc, Receiver};
use std::sync::atomic::{AtomicBool, Ordering};

mod publish;
pub mod shards;
mod thread;

pub use publish::Output;
pub use shards::{Router, ShardOutput, ShardOutputs, ShardSeq, ShardsConfig, ShardsHandle};
pub use thread::{spawn, EngineHandle};

use publish::{Header, Publisher, CHUNK};

/// A source of timestamps for the engine. Any unit; monotonic per thread.
pub trait Clock {
    /// The current time.
    fn now(&self) -> u64;
}

impl<F: Fn() -> u64> Clock for F {
    #[inline(always)]
    fn now(&self) -> u64 {
        self()
    }
}

/// A message on its way into the engine with the timestamps its sender took: when it was
/// *meant* to be sent (the open-loop schedule; measuring from here keeps a stall from
/// hiding queueing delay) and when it was actually pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamped<M> {
    /// The message.
    pub msg: M,
    /// When the sender meant to send it (any unit the engine's clock shares).
    pub t_intended: u64,
    /// When the sender pushed it.
    pub t_enqueue: u64,
}

impl<M> Stamped<M> {
    /// A message with no timing information (both stamps 0).
    pub fn bare(msg: M) -> Self {
        Stamped {
            msg,
            t_intended: 0,
            t_enqueue: 0,
        }
    }
}

/// What the engine does with each message of type `M`, and what it publishes. Every
/// [`OrderBook`] processes [`Command`]s into [`Event`]s; other processors (the wholesaler
/// on its market-data and order messages, an embedder's own state machine) name their own
/// event type, which the engine publishes as it is.
pub trait Processor<M> {
    /// The event type this processor publishes. `Copy`, so it travels through the output
    /// ring by value; `Send`, so the client thread may read it.
    type Event: Copy + Send;

    /// Applies one message, delivering its events to `sink` in order.
    fn process<S: Sink<Self::Event>>(&mut self, msg: &M, sink: &mut S);
}

impl<B: OrderBook> Processor<Command> for B {
    type Event = Event;

    #[inline]
    fn process<S: Sink<Event>>(&mut self, msg: &Command, sink: &mut S) {
        self.apply(msg, sink)
    }
}

/// What the engine does between polls that found nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Idle {
    /// A `pause` hint: the usual spin-wait courtesy to the sibling hyper-thread and the
    /// memory system.
    #[default]
    Pause,
    /// Poll again at once. On a virtual machine a long `pause` loop can trigger the
    /// hypervisor's pause-loop exiting (the vCPU is descheduled as if it spun on a lock),
    /// so this is worth measuring against `Pause` on each host.
    Spin,
    /// Give the core back to the scheduler (`sched_yield`): for engines that share cores
    /// with each other or with their producers (more shards than cores, stress tests on a
    /// small machine), where a spinning engine would hold a core its producer needs. A
    /// system call, but only when a poll found nothing, never on the path of a message.
    Yield,
}

/// Engine tuning.
#[derive(Clone, Copy, Debug)]
pub struct EngineConfig {
    /// Most messages taken from the ingress per poll (at least 1).
    pub batch: usize,
    /// What to do when a poll finds nothing.
    pub idle: Idle,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            batch: 64,
            idle: Idle::Pause,
        }
    }
}

/// Counters the engine keeps about itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Messages taken from the ingress.
    pub messages: u64,
    /// Events published.
    pub events: u64,
    /// Polls that took at least one message.
    pub batches: u64,
    /// Most messages taken by one poll.
    pub max_batch: u64,
    /// Times the engine found the output ring full and had to wait for the client.
    pub output_full_waits: u64,
    /// Whether the engine thread was pinned to the core it was given.
    pub pinned: bool,
}

/// The engine: ingress, processor, output ring and clock. Drive it with [`run`] on its own
/// thread (see [`spawn`]) or step by step with [`step`] (tests).
///
/// [`run`]: Engine::run
/// [`step`]: Engine::step
pub struct Engine<M, P: Processor<M>, C> {
    rx: Receiver<Stamped<M>>,
    out: spsc::Producer<Output<P::Event>>,
    proc: P,
    clock: C,
    batch: usize,
    idle: Idle,
    seq: u64,
    /// The per-message event buffer: capacity `CHUNK`, allocated here, never grown.
    buf: Vec<P::Event>,
    stats: EngineStats,
}

impl<M: Copy + Send, P: Processor<M>, C: Clock> Engine<M, P, C> {
    /// An engine taking messages from `rx`, applying them with `proc` and publishing the
    /// events into `out`, stamped by `clock`. A `batch` of 0 is taken as 1.
    pub fn new(
        rx: Receiver<Stamped<M>>,
        out: spsc::Producer<Output<P::Event>>,
        proc: P,
        clock: C,
        cfg: EngineConfig,
    ) -> Self {
        Engine {
            rx,
            out,
            proc,
            clock,
            batch: cfg.batch.max(1),
            idle: cfg.idle,
            seq: 0,
            buf: Vec::with_capacity(CHUNK),
            stats: EngineStats::default(),
        }
    }

    /// One poll: takes up to `batch` messages, processes them in order and publishes their
    /// events. Returns how many messages were taken (0: the ingress was empty).
    #[inline]
    pub fn step(&mut self) -> usize {
        let Engine {
            rx,
            out,
            proc,
            clock,
            batch,
            seq,
            buf,
            stats,
            ..
        } = self;
        let mut t_dequeue = 0;
        let mut first = true;
        let n = rx.poll(*batch, |source, m: Stamped<M>| {
            if first {
                t_dequeue = clock.now();
                first = false;
            }
            *seq += 1;
            let mut sink = Publisher {
                out: &mut *out,
                clock: &*clock,
                buf: &mut *buf,
                emitted: 0,
                stats: &mut *stats,
                head: Header {
                    seq: *seq,
                    source,
                    t_intended: m.t_intended,
                    t_enqueue: m.t_enqueue,
                    t_dequeue,
                },
            };
            proc.process(&m.msg, &mut sink);
            sink.flush();
            let emitted = sink.emitted as u64;
            stats.events += emitted;
        });
        if n > 0 {
            self.stats.messages += n as u64;
            self.stats.batches += 1;
            self.stats.max_batch = self.stats.max_batch.max(n as u64);
        }
        n
    }

    /// Busy-polls until `stop` is raised, then drains every message still in the ingress
    /// and returns the processor and the counters.
    pub fn run(mut self, stop: &AtomicBool) -> (P, EngineStats) {
        loop {
            if self.step() == 0 {
                if stop.load(Ordering::Acquire) {
                    // Everything pushed before the flag is visible now (Release/Acquire on
                    // the flag), so draining until one poll finds every ring empty loses
                    // nothing.
                    while self.step() > 0 {}
                    break;
                }
                match self.idle {
                    Idle::Pause => spin_hint(),
                    Idle::Spin => {}
                    Idle::Yield => std::thread::yield_now(),
                }
            }
        }
        (self.proc, self.stats)
    }

    /// The counters so far.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Messages taken so far (= the last sequence number stamped).
    pub fn sequence(&self) -> u64 {
        self.seq
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::ingress::{ingress, QueueKind};
    use crate::types::{CancelReason, Qty, Side};
    use std::cell::Cell;

    /// Emits `k` events for message `k` (ids = message value), so event counts are known.
    struct Fan;
    impl Processor<u64> for Fan {
        type Event = Event;
        fn process<S: Sink<Event>>(&mut self, k: &u64, sink: &mut S) {
            for i in 0..*k {
                sink.event(Event::Cancel {
                    id: *k,
                    qty: i as Qty,
                    reason: CancelReason::User,
                    side: Side::Buy,
                    price: Some(100),
                });
            }
        }
    }

    #[test]
    fn step_sequences_stamps_and_chunks() {
        let (mut tx, rx) = ingress::<Stamped<u64>>(QueueKind::Multi, 2, 8).unwrap();
        let (out_tx, mut out_rx) = spsc::channel::<Output<Event>>(256);
        let ticks = Cell::new(100u64);
        let clock = || {
            ticks.set(ticks.get() + 1);
            ticks.get()
        };
        let mut eng = Engine::new(
            rx,
            out_tx,
            Fan,
            clock,
            EngineConfig {
                batch: 3,
                ..EngineConfig::default()
            },
        );
        tx[0]
            .try_push(Stamped {
                msg: 2,
                t_intended: 5,
                t_enqueue: 6,
            })
            .unwrap();
        tx[1]
            .try_push(Stamped {
                msg: 1,
                t_intended: 7,
                t_enqueue: 8,
            })
            .unwrap();
        tx[0]
            .try_push(Stamped {
                msg: 70,
                t_intended: 9,
                t_enqueue: 10,
            })
            .unwrap();
        assert_eq!(eng.step(), 3);
        let mut got = Vec::new();
        while let Some(o) = out_rx.pop() {
            got.push(o);
        }
        assert_eq!(got.len(), 2 + 1 + 70);
        // Round-robin with quota ceil(3/2) = 2: producer 0's two messages, then producer 1.
        let seqs: Vec<(u64, u32, u32)> = got.iter().map(|o| (o.seq, o.source, o.index)).collect();
        assert_eq!(&seqs[..3], &[(1, 0, 0), (1, 0, 1), (2, 0, 0)]);
        assert_eq!(seqs[72], (3, 1, 0));
        // Indices count up within a message across chunk boundaries (70 > 32).
        for (j, o) in got[2..72].iter().enumerate() {
            assert_eq!((o.seq, o.index), (2, j as u32));
            assert_eq!(
                o.event,
                Event::Cancel {
                    id: 70,
                    qty: j as Qty,
                    reason: CancelReason::User,
                    side: Side::Buy,
                    price: Some(100),
                }
            );
        }
        // One dequeue stamp for the batch; publication after dequeue.
        assert!(got.iter().all(|o| o.t_dequeue == 101));
        assert!(got.iter().all(|o| o.t_publish > o.t_dequeue));
        assert_eq!((got[0].t_intended, got[0].t_enqueue), (5, 6));
        assert_eq!(eng.stats().events, 73);
        assert_eq!(eng.step(), 0);
        assert_eq!(eng.sequence(), 3);
    }

    #[test]
    fn threaded_run_waits_on_full_output_and_drains_on_stop() {
        let (mut tx, rx) = ingress::<Stamped<u64>>(QueueKind::Spsc, 1, 4).unwrap();
        // A tiny output ring: the engine must wait for this thread constantly.
        let (out_tx, mut out_rx) = spsc::channel::<Output<Event>>(2);
        let eng = Engine::new(
            rx,
            out_tx,
            Fan,
            || 0u64,
            EngineConfig {
                batch: 4,
                idle: Idle::Spin,
            },
        );
        let h = spawn(eng, None).unwrap();
        let mut expect_events = 0u64;
        let mut seen = 0u64;
        let mut next_seq = 1;
        let mut check = |o: Output<Event>| {
            if o.index == 0 {
                assert_eq!(o.seq, next_seq);
                next_seq += 1;
            }
        };
        for k in 0..2000u64 {
            let m = Stamped::bare(k % 5 + 1);
            expect_events += k % 5 + 1;
            let mut m = m;
            loop {
                match tx[0].try_push(m) {
                    Ok(()) => break,
                    Err(crate::ingress::Full(back)) => {
                        m = back;
                        while let Some(o) = out_rx.pop() {
                            check(o);
                            seen += 1;
                        }
                    }
                }
            }
        }
        h.stop();
        while !h.is_finished() {
            while let Some(o) = out_rx.pop() {
                check(o);
                seen += 1;
            }
        }
        let (_, stats) = h.join().unwrap();
        while let Some(o) = out_rx.pop() {
            check(o);
            seen += 1;
        }
        assert_eq!(seen, expect_events);
        assert_eq!(stats.messages, 2000);
        assert_eq!(stats.events, expect_events);
        assert!(stats.output_full_waits > 0);
    }
}
