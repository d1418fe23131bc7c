//! Shards: several engine threads, each owning a disjoint set of keys, fed by routers on
//! the producers' side. This module owns the shape (how many shards, rings, placement),
//! the [`Router`] that sends each message to its shard, the merged view of the shards'
//! outputs ([`ShardOutputs`]) and the clean shutdown that drains every shard.
//!
//! # Why this shape
//! - *Nothing new under the hood.* Each shard is an ordinary [`Engine`] with its own
//!   multi-producer ingress ([`multi`]: one SPSC ring per producer) and its own output
//!   ring, run by [`spawn`]. Sharding adds no lock-free code: a router is just the set of
//!   producing ends one producer holds, one per shard, so producers never contend with
//!   each other and a shard's engine never contends with another's.
//! - *Routing is the caller's.* A routing function `Fn(&M) -> usize` names the shard of
//!   each message; every message with the same key must go to the same shard (that is
//!   what makes the shards' state disjoint). [`KeyHash`] and [`KeyTable`] route a `u32`
//!   key by hash or by an explicit table. A result `>= shards` is reduced modulo the shard
//!   count, so a bad routing function cannot make a push panic; it still routes each key
//!   consistently.
//! - *Back-pressure, never a drop.* A full ring hands the message back
//!   ([`Router::try_send`]) or is waited on ([`Router::send`]), exactly as the ingress
//!   does; a full output ring makes that shard wait for the consumer.
//! - *One sequence per shard.* Each shard's engine stamps its own dense sequence number
//!   (1, 2, ...) in the order it applies messages: that is the shard's journal order. The
//!   shard's index is not stored in [`Output`]: the consumer knows which ring an output
//!   came from, so [`ShardOutputs`] stamps it as it reads ([`ShardOutput`]). Putting it
//!   in `Output` would widen every record of every single-engine ring (and every
//!   construction site) to carry a number the ring already implies.
//! - *A well-defined merged order.* `(seq, shard)` ([`ShardSeq`], ordered by sequence,
//!   then shard) is a total order over all messages of all shards that agrees with each
//!   shard's own order and depends only on what each shard applied, never on timing; the
//!   events of one message follow by their [`Output::index`]. Shards are independent, so
//!   no order between two shards' messages is implied beyond that convention.
//! - *Clean shutdown drains every shard.* [`ShardsHandle::shutdown`] raises every
//!   shard's stop flag (after the producers' last push), keeps draining the outputs while
//!   the engines finish their ingress, joins them and returns each shard's processor and
//!   counters. Every message pushed before the stop is applied and its events delivered.
//! - *Placement is reported, not hidden.* With [`Placement::Cores`] shard `i` is pinned
//!   to core `i mod cores`; when there are more shards than cores, several shards share
//!   a core (each engine busy-polls, so they time-slice; give such engines
//!   [`Idle::Yield`](super::Idle::Yield)) and [`ShardsHandle::placement`] says which core
//!   each got and how many others share it.
//!
//! [`Engine::step`] drives one shard on the caller's thread (tests): [`build`] returns the
//! engines unspawned for that, [`spawn_shards`] starts them, [`start`] does both.
//!
//! # Measured costs and a model of N-core throughput
//! Measured with `tests/shards_cost.rs` (test profile, `opt-level = 2`; the equity mixed
//! stream, 1.30 events per command, routed by order id), on this 2-core VM:
//!
//! | per message | instructions (callgrind) |
//! |---|---|
//! | one engine, unrouted: `push_slice` → `step` (pop, match in `FastBook`, publish) → read | 649 |
//! | the same through a router and 1 shard (`send_slice` → `step` → ring read) | 697 |
//! | — so the router's own cost `r` (route by id, pick the ring, stage, one commit per shard per batch) | **48** |
//! | stamping the shard on the way out (`ShardOutputs::poll`) | 4.6 (3.5 per event) |
//! | 4 shards instead of 1, one thread stepping all (empty polls, smaller books) | +12 |
//!
//! Instruction counts are the differences between runs of 140,000 and 40,000 commands
//! (fixed costs cancel) and do not move with the load; the clock-timed figures of the
//! same test moved by 3x between runs at a load of 14 on 2 cores and are not quoted.
//! For a time, the calibration is the committed single-engine closed-loop run
//! (`bench-results/latency`, release build, engine and client pinned, load ~1): 4.0 M
//! commands/s, i.e. a per-message engine service time `S ≈ 250 ns` for those ~650
//! instructions (≈ 0.39 ns per instruction, cross-core transfers included). At that rate
//! the router's 48 instructions are `r ≈ 18 ns`.
//!
//! **Model** (stated as a model: this machine has 2 cores, so it cannot be measured
//! here). With `N` shards each on a core of its own, `P` producers each on its own core
//! spending `g` to make or parse a message plus `r` to route it, `C` consumer threads each
//! spending `c` per event at `e` events per message, and a routing that gives the busiest
//! shard a share `f_max` of the messages (`1/N` when balanced):
//!
//! `X(N) = min( 1 / (S · f_max),  P / (g + r),  C / (c · e) )`
//!
//! With `S ≈ 250 ns` and balanced keys the shards give `N × 4 M/s`; one producer's routing
//! alone allows `1 / r ≈ 55 M/s`, so with `g = 0` one producer keeps up to ~13 shards busy
//! (in a real gateway `g`, decoding, dominates: add producers, each router is independent
//! and shares nothing with the others). The consumer's own stamping is ~2 ns per message;
//! past a few tens of M/s split it by shard (each output ring is its own SPSC ring,
//! [`ShardOutputs::into_rings`]). Skew caps `X` sooner: if one key carries 10% of the flow,
//! `X ≤ 10 / S ≈ 40 M/s` however many shards there are.
//!
//! On this machine more than one thread shares a core as soon as `N + P + C > 2`, and the
//! engines busy-poll, so measured sharded throughput is bounded by 2 cores' worth and
//! falls as shards time-slice (`tests/shards_cost.rs` prints it: at a load of 14, 0.44 M/s
//! with 1 shard, 0.12 M/s with 2, 0.22 M/s with 4, `Idle::Yield` engines); that is why
//! the N-core figure is a model.
//!
//! [`multi`]: crate::ingress::multi
//! [`spawn`]: super::spawn

mod config;
mod keys;
mod outputs;
mod router;
#[cfg(all(test, not(loom)))]
mod tests;

pub use config::{
    ShardsConfig, ShardsError, MAX_CAPACITY, MAX_OUT_CAPACITY, MAX_PRODUCERS, MAX_SHARDS,
    MAX_TOTAL_SLOTS,
};
pub use keys::{KeyHash, KeyTable};
pub use outputs::{Placement, ShardOutput, ShardOutputs, ShardPlacement, ShardSeq};
pub use router::Router;

use super::Stamped;
use super::{spawn, Clock, Engine, EngineHandle, EngineStats, Output, Processor};
use crate::ingress::{multi, spin_hint, spsc, Receiver};

/// Outputs taken per shard per [`ShardOutputs::poll`] while shutting down.
const DRAIN: usize = 256;

/// A sharded engine before its threads start: the engines (index = shard), the routers
/// (index = producer) and the consuming ends of the output rings.
pub struct Built<M, P: Processor<M>, C, R> {
    /// One engine per shard, unspawned: step them on this thread or hand them to
    /// [`spawn_shards`].
    pub engines: Vec<Engine<M, P, C>>,
    /// One router per producer.
    pub routers: Vec<Router<M, R>>,
    /// Every shard's output ring.
    pub outputs: ShardOutputs<P::Event>,
}

/// Builds `cfg.shards` engines, shard `i` applying messages with `processors[i]` and
/// stamping with a clone of `clock`, and `cfg.producers` routers sending each message
/// where `route` says. Every ring is allocated here, never afterwards. Validates `cfg`
/// first (the error names the field and its range).
pub fn build<M, P, C, R>(
    cfg: &ShardsConfig,
    processors: Vec<P>,
    clock: C,
    route: R,
) -> Result<Built<M, P, C, R>, ShardsError>
where
    M: Copy + Send,
    P: Processor<M>,
    C: Clock + Clone,
    R: Fn(&M) -> usize + Clone,
{
    cfg.validate()?;
    if processors.len() != cfg.shards {
        return Err(ShardsError::ProcessorCount {
            shards: cfg.shards,
            processors: processors.len(),
        });
    }
    let mut lanes_of: Vec<Vec<spsc::Producer<Stamped<M>>>> = (0..cfg.producers)
        .map(|_| Vec::with_capacity(cfg.shards))
        .collect();
    let mut engines = Vec::with_capacity(cfg.shards);
    let mut out_rings = Vec::with_capacity(cfg.shards);
    for proc in processors {
        let (txs, rx) = multi::channel::<Stamped<M>>(cfg.producers, cfg.capacity);
        for (lanes, tx) in lanes_of.iter_mut().zip(txs) {
            lanes.push(tx);
        }
        let (out_tx, out_rx) = spsc::channel::<Output<P::Event>>(cfg.out_capacity);
        out_rings.push(out_rx);
        engines.push(Engine::new(
            Receiver::Multi(rx),
            out_tx,
            proc,
            clock.clone(),
            cfg.engine,
        ));
    }
    let routers = lanes_of
        .into_iter()
        .enumerate()
        .map(|(p, lanes)| Router {
            lanes: lanes.into_boxed_slice(),
            touched: vec![0; cfg.shards].into_boxed_slice(),
            route: route.clone(),
            producer: p as u32,
        })
        .collect();
    Ok(Built {
        engines,
        routers,
        outputs: ShardOutputs {
            rings: out_rings.into_boxed_slice(),
            cursor: 0,
        },
    })
}

/// Running shard threads.
pub struct ShardsHandle<P> {
    engines: Vec<EngineHandle<P>>,
    placement: Vec<ShardPlacement>,
}

/// What one shard leaves behind when it is joined.
pub struct ShardReport<P> {
    /// The shard.
    pub shard: usize,
    /// Its processor, as the engine left it.
    pub processor: P,
    /// Its engine's counters (`messages` = its last sequence number).
    pub stats: EngineStats,
    /// Where it ran.
    pub placement: ShardPlacement,
}

/// Starts each engine on its own thread, shard `i` pinned as `placement` says, and returns
/// once every one runs. If a thread cannot be started, the ones already running are
/// stopped and joined first (nothing has been routed to them yet unless the caller did).
pub fn spawn_shards<M, P, C>(
    engines: Vec<Engine<M, P, C>>,
    placement: &Placement,
) -> Result<ShardsHandle<P>, ShardsError>
where
    M: Copy + Send + 'static,
    P: Processor<M> + Send + 'static,
    C: Clock + Send + 'static,
{
    let n = engines.len();
    let cores: Vec<Option<core_affinity::CoreId>> = (0..n).map(|i| placement.core_of(i)).collect();
    let mut handles: Vec<EngineHandle<P>> = Vec::with_capacity(n);
    for (shard, (engine, core)) in engines.into_iter().zip(&cores).enumerate() {
        match spawn(engine, *core) {
            Ok(h) => handles.push(h),
            Err(e) => {
                for h in handles.iter() {
                    h.stop();
                }
                for h in handles {
                    let _ = h.join();
                }
                return Err(ShardsError::Spawn {
                    shard,
                    message: e.to_string(),
                });
            }
        }
    }
    let placement = handles
        .iter()
        .enumerate()
        .map(|(shard, h)| {
            let core = cores[shard].map(|c| c.id);
            ShardPlacement {
                shard,
                core,
                pinned: h.pinned(),
                sharing_with: core.map_or(0, |c| {
                    cores.iter().filter(|o| o.map(|o| o.id) == Some(c)).count() - 1
                }),
            }
        })
        .collect();
    Ok(ShardsHandle {
        engines: handles,
        placement,
    })
}

/// [`build`], then [`spawn_shards`]: the running shards, the routers and the outputs.
#[allow(clippy::type_complexity)]
pub fn start<M, P, C, R>(
    cfg: &ShardsConfig,
    processors: Vec<P>,
    clock: C,
    route: R,
    placement: &Placement,
) -> Result<(ShardsHandle<P>, Vec<Router<M, R>>, ShardOutputs<P::Event>), ShardsError>
where
    M: Copy + Send + 'static,
    P: Processor<M> + Send + 'static,
    C: Clock + Clone + Send + 'static,
    R: Fn(&M) -> usize + Clone,
{
    let built = build(cfg, processors, clock, route)?;
    let handle = spawn_shards(built.engines, placement)?;
    Ok((handle, built.routers, built.outputs))
}

impl<P> ShardsHandle<P> {
    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.engines.len()
    }

    /// Where each shard runs (index = shard).
    pub fn placement(&self) -> &[ShardPlacement] {
        &self.placement
    }

    /// True when some core was given more than one shard.
    pub fn shares_cores(&self) -> bool {
        self.placement.iter().any(|p| p.sharing_with > 0)
    }

    /// One line per shard: `shard 0: core 1 (pinned, shared with 1 other shard)`.
    pub fn describe_placement(&self) -> String {
        let mut s = String::new();
        for p in &self.placement {
            let line = match p.core {
                None => format!("shard {}: unpinned", p.shard),
                Some(c) => format!(
                    "shard {}: core {c} ({}{})",
                    p.shard,
                    if p.pinned {
                        "pinned"
                    } else {
                        "pinning refused"
                    },
                    match p.sharing_with {
                        0 => String::new(),
                        1 => ", shared with 1 other shard".to_string(),
                        k => format!(", shared with {k} other shards"),
                    }
                ),
            };
            s.push_str(&line);
            s.push('\n');
        }
        s
    }

    /// Asks every shard to finish: each drains everything already pushed, then exits. Call
    /// it only after every router's last push (e.g. after joining the producer threads):
    /// it is what orders those pushes before each shard's final drain.
    pub fn stop(&self) {
        for h in &self.engines {
            h.stop();
        }
    }

    /// True once every shard thread has returned.
    pub fn is_finished(&self) -> bool {
        self.engines.iter().all(|h| h.is_finished())
    }

    /// Stops every shard ([`stop`](Self::stop): only after the routers' last push), hands
    /// every output still to come to `f` while the shards drain their ingress, joins them,
    /// and returns each shard's processor and counters (index = shard). A shard that
    /// panicked does not keep the others from being drained and joined; the first one is
    /// then reported as [`ShardsError::Panicked`].
    pub fn shutdown<E: Copy + Send>(
        self,
        outputs: &mut ShardOutputs<E>,
        mut f: impl FnMut(ShardOutput<E>),
    ) -> Result<Vec<ShardReport<P>>, ShardsError> {
        self.stop();
        while !self.is_finished() {
            if outputs.poll(DRAIN, &mut f) == 0 {
                spin_hint();
            }
        }
        let mut reports = Vec::with_capacity(self.engines.len());
        let mut panicked = None;
        for (shard, (h, placement)) in self.engines.into_iter().zip(self.placement).enumerate() {
            match h.join() {
                Ok((processor, stats)) => reports.push(ShardReport {
                    shard,
                    processor,
                    stats,
                    placement,
                }),
                Err(_) => {
                    panicked.get_or_insert(shard);
                }
            }
        }
        while outputs.poll(DRAIN, &mut f) > 0 {}
        match panicked {
            Some(shard) => Err(ShardsError::Panicked { shard }),
            None => Ok(reports),
        }
    }
}
