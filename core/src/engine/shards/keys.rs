//! Routing functions for `u32` keys (an instrument, an account): [`KeyHash`] by hash,
//! [`KeyTable`] by an explicit placement table. Both are deterministic, so every message
//! with one key goes to one shard, which is what keeps the shards' state disjoint.

use super::config::shard_count;
use super::ShardsError;
use std::sync::Arc;

/// Hash routing of a `u32` key: Fibonacci hashing (multiply by 2³²/φ) reduced to the
/// shard range by a multiply-high, so no division. Deterministic, and consecutive keys
/// spread evenly (the products of consecutive keys are equidistributed modulo 2³²).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyHash {
    shards: u32,
}

impl KeyHash {
    /// Hash routing over `shards` shards (1 to [`MAX_SHARDS`](super::MAX_SHARDS)).
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
