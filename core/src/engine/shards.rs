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

use super::Stamped;
use super::{spawn, Clock, Engine, EngineConfig, EngineHandle, EngineStats, Output, Processor};
use crate::ingress::{multi, spin_hint, spsc, Full, Receiver};
use std::fmt;
use std::sync::Arc;

/// Most shards one [`ShardsConfig`] may ask for.
pub const MAX_SHARDS: usize = 1024;
/// Most producers (routers) one [`ShardsConfig`] may ask for.
pub const MAX_PRODUCERS: usize = 1024;
/// Most slots one ingress ring may have (before rounding up to a power of two).
pub const MAX_CAPACITY: usize = 1 << 24;
/// Most slots one shard's output ring may have.
pub const MAX_OUT_CAPACITY: usize = 1 << 26;
/// Most ingress slots over every ring together (`shards × producers × capacity`, each
/// capacity rounded up to a power of two): a bound on memory a real run can afford.
pub const MAX_TOTAL_SLOTS: usize = 1 << 27;
/// Outputs taken per shard per [`ShardOutputs::poll`] while shutting down.
const DRAIN: usize = 256;

/// The shape of a sharded engine.
#[derive(Clone, Copy, Debug)]
pub struct ShardsConfig {
    /// Engine threads, each owning a disjoint set of keys: 1 to [`MAX_SHARDS`].
    pub shards: usize,
    /// Routers (one per producer thread): 1 to [`MAX_PRODUCERS`]. Each shard's ingress
    /// has one ring per producer.
    pub producers: usize,
    /// Slots per ingress ring (one ring per producer per shard): 1 to [`MAX_CAPACITY`],
    /// rounded up to a power of two.
    pub capacity: usize,
    /// Slots in each shard's output ring: 1 to [`MAX_OUT_CAPACITY`].
    pub out_capacity: usize,
    /// Each shard engine's tuning.
    pub engine: EngineConfig,
}

impl Default for ShardsConfig {
    /// Two shards, one producer, 1,024-slot rings, 16 Ki-slot output rings.
    fn default() -> Self {
        ShardsConfig {
            shards: 2,
            producers: 1,
            capacity: 1024,
            out_capacity: 1 << 14,
            engine: EngineConfig::default(),
        }
    }
}

impl ShardsConfig {
    /// Checks every field against its range; the error names the field and the range.
    pub fn validate(&self) -> Result<(), ShardsError> {
        let check = |field: &'static str, value: usize, max: usize| {
            if (1..=max).contains(&value) {
                Ok(())
            } else {
                Err(ShardsError::OutOfRange {
                    field,
                    value,
                    min: 1,
                    max,
                })
            }
        };
        check("shards", self.shards, MAX_SHARDS)?;
        check("producers", self.producers, MAX_PRODUCERS)?;
        check("capacity", self.capacity, MAX_CAPACITY)?;
        check("out_capacity", self.out_capacity, MAX_OUT_CAPACITY)?;
        let total = self
            .shards
            .saturating_mul(self.producers)
            .saturating_mul(self.capacity.next_power_of_two());
        check("shards x producers x capacity", total, MAX_TOTAL_SLOTS)
    }
}

/// Why a sharded engine could not be built, started or joined.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShardsError {
    /// A [`ShardsConfig`] field (or a router helper's shard count) outside its range.
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value given.
        value: usize,
        /// Smallest allowed.
        min: usize,
        /// Largest allowed.
        max: usize,
    },
    /// Not one processor per shard.
    ProcessorCount {
        /// Shards configured.
        shards: usize,
        /// Processors given.
        processors: usize,
    },
    /// A [`KeyTable`] entry names a shard that does not exist.
    TableEntry {
        /// The key whose entry is wrong.
        key: usize,
        /// The shard it names.
        shard: usize,
        /// The shard count.
        shards: usize,
    },
    /// The operating system refused a shard's thread.
    Spawn {
        /// The shard.
        shard: usize,
        /// The operating system's message.
        message: String,
    },
    /// A shard's engine thread panicked (the other shards were still drained and joined).
    Panicked {
        /// The first shard found to have panicked.
        shard: usize,
    },
}

impl fmt::Display for ShardsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShardsError::OutOfRange {
                field,
                value,
                min,
                max,
            } => write!(f, "{field} must be {min} to {max}, not {value}"),
            ShardsError::ProcessorCount { shards, processors } => write!(
                f,
                "one processor per shard is needed: {shards} shards, {processors} processors"
            ),
            ShardsError::TableEntry { key, shard, shards } => write!(
                f,
                "routing table entry for key {key} names shard {shard}, but shards are 0 to {}",
                shards - 1
            ),
            ShardsError::Spawn { shard, message } => {
                write!(f, "cannot start the thread of shard {shard}: {message}")
            }
            ShardsError::Panicked { shard } => write!(f, "the engine of shard {shard} panicked"),
        }
    }
}

impl std::error::Error for ShardsError {}

fn shard_count(shards: usize) -> Result<u32, ShardsError> {
    if (1..=MAX_SHARDS).contains(&shards) {
        Ok(shards as u32)
    } else {
        Err(ShardsError::OutOfRange {
            field: "shards",
            value: shards,
            min: 1,
            max: MAX_SHARDS,
        })
    }
}

/// Hash routing of a `u32` key: Fibonacci hashing (multiply by 2³²/φ) reduced to the
/// shard range by a multiply-high, so no division. Deterministic, and consecutive keys
/// spread evenly (the products of consecutive keys are equidistributed modulo 2³²).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyHash {
    shards: u32,
}

impl KeyHash {
    /// Hash routing over `shards` shards (1 to [`MAX_SHARDS`]).
    pub fn new(shards: usize) -> Result<Self, ShardsError> {
        Ok(KeyHash {
            shards: shard_count(shards)?,
        })
    }

    /// The shard of `key`, below the shard count.
    #[inline(always)]
    pub fn shard(&self, key: u32) -> usize {
        let h = key.wrapping_mul(0x9E37_79B9);
        ((h as u64 * self.shards as u64) >> 32) as usize
    }
}

/// Table routing of a `u32` key: key `k` goes to shard `table[k]` (an explicit placement,
/// e.g. one per instrument); keys past the end of the table go by [`KeyHash`]. Cheap to
/// clone (the table is shared).
#[derive(Clone, Debug)]
pub struct KeyTable {
    table: Arc<[u16]>,
    fallback: KeyHash,
}

impl KeyTable {
    /// A table over `shards` shards; every entry must be below `shards`.
    pub fn new(shards: usize, table: Vec<u16>) -> Result<Self, ShardsError> {
        let fallback = KeyHash::new(shards)?;
        if let Some((key, &shard)) = table
            .iter()
            .enumerate()
            .find(|(_, &s)| s as usize >= shards)
        {
            return Err(ShardsError::TableEntry {
                key,
                shard: shard as usize,
                shards,
            });
        }
        Ok(KeyTable {
            table: table.into(),
            fallback,
        })
    }

    /// The shard of `key`.
    #[inline(always)]
    pub fn shard(&self, key: u32) -> usize {
        match self.table.get(key as usize) {
            Some(&s) => s as usize,
            None => self.fallback.shard(key),
        }
    }
}

/// Where the shard threads run.
#[derive(Clone, Debug, Default)]
pub enum Placement {
    /// Left to the operating system's scheduler.
    #[default]
    Unpinned,
    /// Shard `i` is pinned to `cores[i % cores.len()]` (an empty list is `Unpinned`).
    Cores(Vec<core_affinity::CoreId>),
}

impl Placement {
    /// Every core the operating system reports, in its order (`Unpinned` if it reports
    /// none). Read it once, before any thread pins itself.
    pub fn every_core() -> Placement {
        match core_affinity::get_core_ids() {
            Some(ids) if !ids.is_empty() => Placement::Cores(ids),
            _ => Placement::Unpinned,
        }
    }

    fn core_of(&self, shard: usize) -> Option<core_affinity::CoreId> {
        match self {
            Placement::Cores(ids) if !ids.is_empty() => Some(ids[shard % ids.len()]),
            _ => None,
        }
    }
}

/// Where one shard's thread ended up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardPlacement {
    /// The shard.
    pub shard: usize,
    /// The core it was given (`None`: unpinned).
    pub core: Option<usize>,
    /// Whether pinning to that core succeeded.
    pub pinned: bool,
    /// How many *other* shards were given the same core (0: it has the core to itself,
    /// as far as shards go). Busy-polling shards on one core time-slice.
    pub sharing_with: usize,
}

/// A message's place in the merged order of all shards: its shard's sequence number, then
/// the shard. Ordered by `seq` first, so sorting by it interleaves the shards' streams in
/// a way fixed by their contents alone (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShardSeq {
    /// The shard's own sequence number of the message (1-based, dense per shard).
    pub seq: u64,
    /// The shard.
    pub shard: u32,
}

/// One event as read from a shard: the engine's record plus the shard it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardOutput<E> {
    /// The shard whose output ring held it.
    pub shard: u32,
    /// The engine's record (its `seq` is the shard's sequence).
    pub output: Output<E>,
}

impl<E> ShardOutput<E> {
    /// The message's place in the merged order.
    #[inline]
    pub fn stamp(&self) -> ShardSeq {
        ShardSeq {
            seq: self.output.seq,
            shard: self.shard,
        }
    }
}

/// The consuming ends of every shard's output ring, read by one client thread.
pub struct ShardOutputs<E> {
    rings: Box<[spsc::Consumer<Output<E>>]>,
    cursor: usize,
}

impl<E: Copy + Send> ShardOutputs<E> {
    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.rings.len()
    }

    /// Takes up to `max_per_shard` outputs from each shard, visiting every shard once
    /// starting one further each call (so none is starved), and hands each to `f` stamped
    /// with its shard. Within a shard, outputs come in that shard's order. Returns how many
    /// were taken.
    #[inline]
    pub fn poll(&mut self, max_per_shard: usize, mut f: impl FnMut(ShardOutput<E>)) -> usize {
        let n = self.rings.len();
        let mut taken = 0;
        let mut s = self.cursor;
        for _ in 0..n {
            taken += self.rings[s].pop_batch(max_per_shard, |output| {
                f(ShardOutput {
                    shard: s as u32,
                    output,
                })
            });
            s += 1;
            if s == n {
                s = 0;
            }
        }
        self.cursor += 1;
        if self.cursor == n {
            self.cursor = 0;
        }
        taken
    }

    /// One shard's output ring, to read it apart from the others (e.g. one consumer
    /// thread per shard after [`into_rings`](Self::into_rings)).
    pub fn ring(&mut self, shard: usize) -> Option<&mut spsc::Consumer<Output<E>>> {
        self.rings.get_mut(shard)
    }

    /// The output rings, index = shard.
    pub fn into_rings(self) -> Vec<spsc::Consumer<Output<E>>> {
        self.rings.into_vec()
    }
}

/// A producer's handle on every shard: one producing end per shard and the routing
/// function. One per producer thread; `Send`, not shared.
pub struct Router<M, R> {
    /// `lanes[s]`: this producer's ring into shard `s`.
    lanes: Box<[spsc::Producer<Stamped<M>>]>,
    /// Scratch for [`send_slice`](Self::send_slice): the shards it staged into, each once.
    /// Sized once (one slot per shard), never grown.
    touched: Box<[u32]>,
    route: R,
    producer: u32,
}

impl<M: Copy + Send, R: Fn(&M) -> usize> Router<M, R> {
    /// This router's producer index (the `source` of its messages' outputs in every shard).
    pub fn producer(&self) -> u32 {
        self.producer
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.lanes.len()
    }

    /// The shard `msg` goes to: the routing function's answer, reduced modulo the shard
    /// count if it is not below it.
    #[inline(always)]
    pub fn shard_of(&self, msg: &M) -> usize {
        let s = (self.route)(msg);
        let n = self.lanes.len();
        if s < n {
            s
        } else {
            s % n
        }
    }

    /// Pushes `m` into its shard's ring and publishes it, returning the shard, or hands it
    /// back if that ring is full.
    #[inline]
    pub fn try_send(&mut self, m: Stamped<M>) -> Result<usize, Full<Stamped<M>>> {
        let s = self.shard_of(&m.msg);
        self.lanes[s].try_push(m).map(|()| s)
    }

    /// Pushes `m` into its shard's ring, spinning while that ring is full (back-pressure by
    /// waiting), and returns the shard.
    #[inline]
    pub fn send(&mut self, mut m: Stamped<M>) -> usize {
        loop {
            match self.try_send(m) {
                Ok(s) => return s,
                Err(Full(back)) => {
                    m = back;
                    spin_hint();
                }
            }
        }
    }

    /// Pushes as many messages from the front of `items` as fit, each into its shard's
    /// ring, and publishes them with one release store per shard touched. Stops at the
    /// first message whose ring is full, so what was sent is always a prefix: returns its
    /// length (0: the first message's ring is full).
    #[inline]
    pub fn send_slice(&mut self, items: &[Stamped<M>]) -> usize {
        let mut sent = 0;
        let mut touched = 0;
        for m in items {
            let s = self.shard_of(&m.msg);
            let lane = &mut self.lanes[s];
            let first_here = lane.staged() == 0;
            if lane.stage(*m).is_err() {
                break;
            }
            if first_here {
                // Each shard is recorded once per call, so `touched` stays below the
                // number of shards, the scratch's length.
                self.touched[touched] = s as u32;
                touched += 1;
            }
            sent += 1;
        }
        for &s in &self.touched[..touched] {
            self.lanes[s as usize].commit();
        }
        sent
    }
}

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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::command::Sink;

    /// Echoes each message `(key, n)` as one event `(key, n, count seen so far)`.
    #[derive(Default)]
    struct Echo {
        seen: u64,
    }
    impl Processor<(u32, u32)> for Echo {
        type Event = (u32, u32, u64);
        fn process<S: Sink<(u32, u32, u64)>>(&mut self, m: &(u32, u32), sink: &mut S) {
            sink.event((m.0, m.1, self.seen));
            self.seen += 1;
        }
    }

    fn by_key(m: &(u32, u32)) -> usize {
        m.0 as usize
    }

    #[test]
    fn bad_shapes_are_errors_naming_the_field() {
        let ok = ShardsConfig::default();
        let cases = [
            (
                ShardsConfig { shards: 0, ..ok },
                "shards must be 1 to 1024, not 0",
            ),
            (
                ShardsConfig { shards: 1025, ..ok },
                "shards must be 1 to 1024, not 1025",
            ),
            (
                ShardsConfig { producers: 0, ..ok },
                "producers must be 1 to 1024, not 0",
            ),
            (
                ShardsConfig { capacity: 0, ..ok },
                "capacity must be 1 to 16777216, not 0",
            ),
            (
                ShardsConfig {
                    out_capacity: 0,
                    ..ok
                },
                "out_capacity must be 1 to 67108864, not 0",
            ),
            (
                ShardsConfig {
                    shards: 1024,
                    producers: 1024,
                    capacity: 1024,
                    ..ok
                },
                "shards x producers x capacity must be 1 to 134217728, not 1073741824",
            ),
        ];
        for (cfg, msg) in cases {
            assert_eq!(cfg.validate().unwrap_err().to_string(), msg);
        }
        assert!(ok.validate().is_ok());
        let e = build::<(u32, u32), Echo, _, _>(&ok, vec![Echo::default()], || 0u64, by_key)
            .err()
            .unwrap();
        assert_eq!(
            e,
            ShardsError::ProcessorCount {
                shards: 2,
                processors: 1
            }
        );
        assert_eq!(
            KeyTable::new(3, vec![0, 2, 3, 1]).unwrap_err().to_string(),
            "routing table entry for key 2 names shard 3, but shards are 0 to 2"
        );
        assert!(KeyHash::new(0).is_err());
        assert!(KeyHash::new(MAX_SHARDS + 1).is_err());
    }

    #[test]
    fn key_hash_is_balanced_on_consecutive_keys_and_table_routes_as_told() {
        for shards in [1usize, 2, 3, 7, 16] {
            let h = KeyHash::new(shards).unwrap();
            let mut count = vec![0u32; shards];
            for k in 0..70_000u32 {
                let s = h.shard(k);
                assert!(s < shards);
                count[s] += 1;
            }
            let (lo, hi) = (count.iter().min().unwrap(), count.iter().max().unwrap());
            // Equidistribution: within 1% of even over consecutive keys.
            assert!(
                (*hi - *lo) as f64 <= 0.01 * 70_000.0 / shards as f64,
                "{shards}: {count:?}"
            );
        }
        let t = KeyTable::new(4, vec![3, 3, 0, 1]).unwrap();
        assert_eq!((0..4).map(|k| t.shard(k)).collect::<Vec<_>>(), [3, 3, 0, 1]);
        // Past the table: the hash of the same shard count.
        let h = KeyHash::new(4).unwrap();
        for k in 4..1000 {
            assert_eq!(t.shard(k), h.shard(k));
        }
    }

    #[test]
    fn stepped_shards_sequence_apart_and_route_out_of_range_modulo() {
        let cfg = ShardsConfig {
            shards: 3,
            producers: 2,
            capacity: 4,
            out_capacity: 64,
            ..ShardsConfig::default()
        };
        let procs = (0..3).map(|_| Echo::default()).collect();
        let Built {
            mut engines,
            mut routers,
            mut outputs,
        } = build(&cfg, procs, || 7u64, by_key).unwrap();
        // Key 4 routes to 4 mod 3 = 1.
        assert_eq!(routers[0].shard_of(&(4, 0)), 1);
        let batch = [
            Stamped::bare((0, 0)),
            Stamped::bare((1, 1)),
            Stamped::bare((4, 2)),
            Stamped::bare((0, 3)),
        ];
        assert_eq!(routers[0].send_slice(&batch), 4);
        assert_eq!(routers[1].try_send(Stamped::bare((2, 0))), Ok(2));
        // Shard 1's ring from producer 0 holds 2 of 4: two more fit, the third comes back,
        // and a slice stops at the first message that does not fit (a prefix is sent).
        assert_eq!(routers[0].send_slice(&[Stamped::bare((1, 9)); 2]), 2);
        assert_eq!(
            routers[0].send_slice(&[Stamped::bare((0, 10)), Stamped::bare((1, 11))]),
            1
        );
        assert_eq!(
            routers[0].try_send(Stamped::bare((1, 12))),
            Err(Full(Stamped::bare((1, 12))))
        );
        for e in engines.iter_mut() {
            while e.step() > 0 {}
        }
        let mut got = Vec::new();
        while outputs.poll(2, |o| {
            got.push((o.stamp(), o.output.source, o.output.event))
        }) > 0
        {}
        got.sort();
        let s = |seq, shard| ShardSeq { seq, shard };
        assert_eq!(
            got,
            [
                (s(1, 0), 0, (0, 0, 0)),
                (s(1, 1), 0, (1, 1, 0)),
                (s(1, 2), 1, (2, 0, 0)),
                (s(2, 0), 0, (0, 3, 1)),
                (s(2, 1), 0, (4, 2, 1)),
                (s(3, 0), 0, (0, 10, 2)),
                (s(3, 1), 0, (1, 9, 2)),
                (s(4, 1), 0, (1, 9, 3)),
            ]
        );
        assert_eq!(
            engines.iter().map(|e| e.sequence()).collect::<Vec<_>>(),
            [3, 4, 1]
        );
    }

    #[test]
    fn placement_reports_shared_cores() {
        let cores = vec![
            core_affinity::CoreId { id: 0 },
            core_affinity::CoreId { id: 1 },
        ];
        let cfg = ShardsConfig {
            shards: 3,
            ..ShardsConfig::default()
        };
        let procs = (0..3).map(|_| Echo::default()).collect();
        let (h, routers, mut outputs) =
            start(&cfg, procs, || 0u64, by_key, &Placement::Cores(cores)).unwrap();
        let p = h.placement().to_vec();
        assert_eq!(
            p.iter()
                .map(|p| (p.core, p.sharing_with))
                .collect::<Vec<_>>(),
            [(Some(0), 1), (Some(1), 0), (Some(0), 1)]
        );
        assert!(h.shares_cores());
        assert!(h.describe_placement().starts_with("shard 0: core 0 ("));
        drop(routers);
        let reports = h.shutdown(&mut outputs, |_| {}).unwrap();
        assert_eq!(reports.len(), 3);
        assert!(reports.iter().all(|r| r.stats.messages == 0));
    }
}
