//! What comes out of the shards: where each shard runs ([`Placement`],
//! [`ShardPlacement`]), the (shard, sequence) stamp ([`ShardSeq`]) that gives the merged
//! stream a total order, and [`ShardOutputs`], the consumer's merged view that stamps each
//! output with the ring it came from.

use crate::engine::Output;
use crate::ingress::spsc;

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

    pub(super) fn core_of(&self, shard: usize) -> Option<core_affinity::CoreId> {
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
    pub(super) rings: Box<[spsc::Consumer<Output<E>>]>,
    pub(super) cursor: usize,
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
