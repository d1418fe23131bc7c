//! The shape of a sharded engine and what can go wrong with it: how many shards and
//! producers, ring sizes, placement, the bounds a real run can afford
//! ([`ShardsConfig::validate`] checks them before anything is built) and
//! [`ShardsError`].

use crate::engine::EngineConfig;
use std::fmt;

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
    /// A [`KeyTable`](super::KeyTable) entry names a shard that does not exist.
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

pub(super) fn shard_count(shards: usize) -> Result<u32, ShardsError> {
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
