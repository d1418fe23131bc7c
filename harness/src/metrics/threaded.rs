//! The same retail stream pushed through the threaded engine (lock-free ingress, engine
//! thread running the internalizer, output ring), for latency.
//!
//! One producer pushes the merged, time-ordered stream: the market-data feed and the
//! brokers are merged by simulated time before the engine (a sequencer), so the engine
//! applies exactly the order the single-threaded economics used and its events are the
//! same — which the report checks with a digest and `tests/retail_engine.rs` checks event by
//! event. Latency is measured open-loop: each message has an intended send time on a fixed
//! schedule, and end-to-end latency runs from that time to the publication of the
//! message's first event, so a stall of the client or the engine is never hidden.
//! Messages that produce no event (most quote updates) have no latency sample.

use crate::market::SimExchange;
use crate::retail::scenario::Scenario;
use crate::retail::Flow;
use flowmatch_core::engine::{self, Engine, EngineConfig, EngineStats, Output, Stamped};
use flowmatch_core::ingress::{ingress, spsc, QueueKind};
use flowmatch_core::FastBook;
use flowmatch_wholesaler::{Event as IxEvent, Internalizer, Msg};
use hdrhistogram::Histogram;
use std::hash::{Hash, Hasher};

/// Result of a threaded run.
pub struct ThreadedRun {
    pub kind: QueueKind,
    /// Offered rate, messages per second (open loop).
    pub offered_rate: f64,
    /// Messages per second actually achieved (push of the first to last event drained).
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
    pub events: Option<Vec<(u64, IxEvent)>>,
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
    pub fn add(&mut self, e: &IxEvent) {
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

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds")
}

/// Push `flow` through the engine at `rate` messages per second (open loop). `progress`
/// is told the number of messages pushed every 64 Ki messages.
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
    // Read the core list once, before anything pins itself.
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let (client_core, engine_core) = if cores.len() >= 2 {
        (Some(cores[0]), Some(cores[1]))
    } else {
        (None, None)
    };
    let (mut txs, mut rx) =
        ingress::<Stamped<Msg>>(kind, 1, 1 << 14).map_err(|e| format!("ingress: {e}"))?;
    let (mut out_tx, mut out_rx) = spsc::channel::<Output<IxEvent>>(1 << 16);
    // First touches of the rings' fresh pages happen here, not on the measured path.
    crate::latency::prefault(
        &mut txs,
        &mut rx,
        &mut out_tx,
        &mut out_rx,
        Msg::Cancel { id: 0 },
        IxEvent::Rested { id: 0, qty: 0 },
    );
    let mut tx = txs.pop().expect("one producer");
    let clock = quanta::Clock::new();
    let c = clock.clone();
    let now = move || c.delta_as_nanos(0, c.raw());
    let book_cfg = super::book_config(scn, flow);
    let ix = Internalizer::new(
        scn.wholesaler.to_ix(),
        FastBook::new(book_cfg),
        SimExchange::new(&scn.market),
    );
    let engine = Engine::new(rx, out_tx, ix, now.clone(), EngineConfig::default());
    // The engine thread: pinned to its own core when there are two, running until the
    // stop flag is up and its ingress is drained; `spawn` returns once it runs.
    let handle = engine::spawn(engine, engine_core)
        .map_err(|e| format!("cannot start the engine thread: {e}"))?;

    let (mut e2e, mut hop, mut service) = (hist(), hist(), hist());
    let mut digest = Digest::default();
    let mut count = 0u64;
    // Written through once so that its pages are faulted in now, not while draining.
    let mut events = keep_events.then(|| {
        let mut v = Vec::with_capacity(flow.stream.len() * 3);
        v.resize(v.capacity(), (0u64, IxEvent::Rested { id: 0, qty: 0 }));
        v.clear();
        v
    });
    if let Some(core) = client_core {
        core_affinity::set_for_current(core);
    }
    let period_ns = 1e9 / rate;
    let n = flow.stream.len();
    let mut i = 0usize;
    let mut stopped = false;
    // The open-loop schedule starts once the engine thread runs on its core (`spawn` has
    // returned), plus 2 ms: waking an idle vCPU can take milliseconds on a virtual machine,
    // and the first messages would otherwise wait for it (measured: an 8 ms stall at the
    // start of about half the runs, enough to put p99 in the milliseconds).
    let start = now() + 2_000_000;
    let mut last_out = start;
    let mut drain = |out_rx: &mut spsc::Consumer<Output<IxEvent>>| {
        out_rx.pop_batch(1024, |o: Output<IxEvent>| {
            if o.index == 0 {
                let _ = e2e.record(o.t_publish.saturating_sub(o.t_intended).max(1));
                let _ = hop.record(o.t_dequeue.saturating_sub(o.t_enqueue).max(1));
                let _ = service.record(o.t_publish.saturating_sub(o.t_dequeue).max(1));
            }
            last_out = o.t_publish;
            digest.add(&o.event);
            count += 1;
            if let Some(v) = events.as_mut() {
                v.push((o.seq, o.event));
            }
        })
    };
    loop {
        if i < n {
            let intended = start + (i as f64 * period_ns) as u64;
            let t = now();
            if t >= intended {
                let m = Stamped {
                    msg: flow.stream[i].msg,
                    t_intended: intended,
                    t_enqueue: t,
                };
                if tx.try_push(m).is_ok() {
                    i += 1;
                    // Rarely enough (every 64 Ki messages) not to disturb the timing.
                    if i & 0xFFFF == 0 {
                        progress(i as u64);
                    }
                }
            }
        } else if !stopped {
            // Release: every push above is visible to the engine's final drain.
            handle.stop();
            stopped = true;
        }
        let got = drain(&mut out_rx);
        if stopped && got == 0 && handle.is_finished() && drain(&mut out_rx) == 0 {
            break;
        }
    }
    let (ix, stats) = handle
        .join()
        .map_err(|_| "the engine thread panicked".to_string())?;
    let secs = (last_out.saturating_sub(start)) as f64 / 1e9;
    Ok(ThreadedRun {
        kind,
        offered_rate: rate,
        achieved_rate: if secs > 0.0 { n as f64 / secs } else { 0.0 },
        e2e,
        hop,
        service,
        stats,
        event_count: count,
        event_digest: digest.0,
        events,
        final_inventory: ix.inventory(),
    })
}
