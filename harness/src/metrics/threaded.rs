//! The same retail stream pushed through the threaded engine (lock-free ingress, engine
//! thread running the internalizer, output ring), for latency.
//!
//! One producer pushes the merged, time-ordered stream: the market-data feed and the
//! brokers are merged by simulated time before the engine (a sequencer), so the engine
//! applies exactly the order the single-threaded economics used and its events are the
//! same — which the report checks with a digest and `tests/retail_engine.rs` checks event by
//! event. The engine is driven by the harness's one open-loop driver ([`crate::pipeline`],
//! shared with `flowmatch latency`): each message has an intended send time on a fixed
//! schedule, and end-to-end latency runs from that time to the publication of the
//! message's first event, so a stall of the client or the engine is never hidden. The
//! engine stamps raw TSC ticks; they become nanoseconds here, on the client thread.
//! Messages that produce no event (most quote updates) have no latency sample.

use crate::clock::TscClock;
use crate::latency::PathHistograms;
use crate::market::SimExchange;
use crate::pipeline::{self, Offer, Recorder, Shape};
use crate::retail::scenario::Scenario;
use crate::retail::Flow;
use flowmatch_core::engine::{EngineConfig, EngineStats, Output};
use flowmatch_core::ingress::QueueKind;
use flowmatch_core::FastBook;
use flowmatch_wholesaler::{self as wholesaler, Internalizer};
use hdrhistogram::Histogram;
use std::hash::{Hash, Hasher};

/// Result of a threaded run.
pub struct ThreadedRun {
    pub kind: QueueKind,
    /// Offered rate, messages per second (open loop).
    pub offered_rate: f64,
    /// Messages per second achieved over the run's window ([`pipeline::Throughput`]).
    pub achieved_rate: f64,
    /// Intended send time to first event published, ns.
    pub e2e: Histogram<u64>,
    /// Enqueue to dequeue by the engine, ns.
    pub hop: Histogram<u64>,
    /// Dequeue to first event published, ns.
    pub service: Histogram<u64>,
    pub stats: EngineStats,
    pub event_count: u64,
    pub event_digest: u64,
    /// Events with the global sequence number of their message (when kept).
    pub events: Option<Vec<(u64, wholesaler::Event)>>,
    /// The wholesaler's final inventory as the engine thread left it.
    pub final_inventory: i64,
}

/// Order-sensitive digest of an event stream (FNV-style mixing of every field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digest(pub u64);

impl Default for Digest {
    fn default() -> Self {
        Digest(0xcbf2_9ce4_8422_2325)
    }
}

impl Digest {
    #[inline]
    fn mix(&mut self, v: u64) {
        self.0 = (self.0 ^ v)
            .wrapping_mul(0x0000_0100_0000_01b3)
            .rotate_left(5);
    }
    /// Add one internalizer event (every field, through its derived `Hash`).
    #[inline]
    pub fn add(&mut self, e: &wholesaler::Event) {
        e.hash(self);
    }
}

/// The digest is fed through `Hash`, which is deterministic for these plain-data events.
impl Hasher for Digest {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.mix(*b as u64);
        }
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.mix(v);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// What `flowmatch run` keeps of each published event: the latency of every message's
/// first event, and the digest (and, if asked, the list) of all events.
struct EventRecorder<'a> {
    clock: &'a TscClock,
    /// The three paths of every message's first event.
    paths: PathHistograms,
    digest: Digest,
    count: u64,
    events: Option<Vec<(u64, wholesaler::Event)>>,
    progress: &'a mut dyn FnMut(u64),
    next_progress: u64,
}

/// Messages between two progress reports.
const PROGRESS_EVERY: u64 = 1 << 16;

impl Recorder<wholesaler::Event> for EventRecorder<'_> {
    #[inline]
    fn event(&mut self, o: &Output<wholesaler::Event>, _measured: bool) {
        if o.index == 0 {
            self.paths.record_output(self.clock, o);
        }
        self.digest.add(&o.event);
        self.count += 1;
        if let Some(v) = self.events.as_mut() {
            v.push((o.seq, o.event));
        }
    }

    #[inline]
    fn sent(&mut self, sent: u64) {
        // Rarely enough (every 64 Ki messages) not to disturb the timing.
        if sent >= self.next_progress {
            (self.progress)(sent);
            self.next_progress += PROGRESS_EVERY;
        }
    }
}

/// Push `flow` through the engine at `rate` messages per second (open loop, every message
/// measured). `progress` is told the number of messages pushed every 64 Ki messages.
pub fn run_threaded(
    scn: &Scenario,
    flow: &Flow,
    kind: QueueKind,
    rate: f64,
    keep_events: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<ThreadedRun, String> {
    if !(rate.is_finite() && rate > 0.0) {
        return Err(format!("offered rate must be > 0, not {rate}"));
    }
    if flow.stream.is_empty() {
        return Err("the flow has no messages".into());
    }
    // Read the core list once, before anything pins itself.
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let shape = Shape {
        queue: kind,
        producers: 1,
        capacity: 1 << 14,
        out_capacity: 1 << 16,
        batch: EngineConfig::default().batch,
        idle: EngineConfig::default().idle,
        pin: (cores.len() >= 2).then(|| (cores[0], cores[1])),
    };
    let offer = Offer::Open {
        rate,
        warmup: 0,
        measured: flow.stream.len() as u64,
        give_up_after: None,
    };
    let clock = TscClock::new();
    let ix = Internalizer::new(
        scn.wholesaler.to_config(),
        FastBook::new(super::book_config(scn, flow)),
        SimExchange::new(&scn.market),
    );
    let mut rec = EventRecorder {
        clock: &clock,
        paths: PathHistograms::default(),
        digest: Digest::default(),
        count: 0,
        // Written through once so that its pages are faulted in now, not while draining.
        events: keep_events.then(|| {
            let mut v = Vec::with_capacity(flow.stream.len() * 3);
            v.resize(
                v.capacity(),
                (0u64, wholesaler::Event::Rested { id: 0, qty: 0 }),
            );
            v.clear();
            v
        }),
        progress,
        next_progress: PROGRESS_EVERY,
    };
    let stream = &flow.stream;
    let d = pipeline::drive(
        &shape,
        offer,
        &clock,
        ix,
        wholesaler::Event::Rested { id: 0, qty: 0 },
        |i| stream[i as usize].msg,
        &mut rec,
    )?;
    Ok(ThreadedRun {
        kind,
        offered_rate: rate,
        achieved_rate: d.throughput.achieved_rate,
        e2e: rec.paths.e2e,
        hop: rec.paths.queue,
        service: rec.paths.service,
        stats: d.engine,
        event_count: rec.count,
        event_digest: rec.digest.0,
        events: rec.events,
        final_inventory: d.processor.inventory(),
    })
}
