//! Which shard a command goes to: the instrument symbol's FNV-1a hash through core's
//! `KeyHash` (unprefixed lines go to shard 0, where the default book lives), mixed first
//! by MurmurHash3's 32-bit finalizer: FNV-1a alone, through `KeyHash`'s multiply-shift,
//! sent all ten common tickers of the tests to shard 1 of 2. The gateway and the verifier
//! share this function, so both agree on every command's shard.

use flowmatch_core::engine::shards::KeyHash;
use flowmatch_core::Symbol;

/// Most shards a cluster may have (one stream pair per shard).
pub const MAX_SHARDS: usize = 64;

/// Routes symbols to shards.
#[derive(Debug)]
pub struct Routing {
    hash: KeyHash,
}

impl Routing {
    /// Routing over `shards` shards, `1..=MAX_SHARDS`.
    pub fn new(shards: usize) -> Result<Self, String> {
        if !(1..=MAX_SHARDS).contains(&shards) {
            return Err(format!(
                "--shards must be between 1 and {MAX_SHARDS}, got {shards}"
            ));
        }
        let hash = KeyHash::new(shards).map_err(|e| format!("--shards: {e}"))?;
        Ok(Routing { hash })
    }

    /// The shard of a command with this instrument prefix (or none).
    pub fn shard(&self, symbol: Option<&Symbol>) -> usize {
        match symbol {
            None => 0,
            Some(s) => self.hash.shard(fmix32(fnv1a(s.as_str().as_bytes()))),
        }
    }
}

/// 32-bit FNV-1a: stable across runs and machines (unlike `std`'s hasher).
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// MurmurHash3's 32-bit finalizer (avalanche: every input bit moves every output bit).
fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo's six symbols split 4/2 over two shards (hand-computed with a Python
    /// transcription of FNV-1a, fmix32 and `KeyHash`'s multiply-shift); before the
    /// finalizer all six went to shard 1, so the demo's shard 0 was empty.
    #[test]
    fn demo_symbols_spread_over_both_shards() {
        let r = Routing::new(2).unwrap();
        let shard = |s: &str| r.shard(Some(&Symbol::new(s).unwrap()));
        let got: Vec<usize> = ["AAPL", "MSFT", "IBM", "GOOG", "AMZN", "TSLA"]
            .iter()
            .map(|s| shard(s))
            .collect();
        assert_eq!(got, [0, 0, 0, 1, 1, 0]);
    }

    /// Published FNV-1a test vectors (draft-eastlake-fnv): "" and "a".
    #[test]
    fn fnv1a_matches_published_vectors() {
        assert_eq!(fnv1a(b""), 0x811c_9dc5);
        assert_eq!(fnv1a(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn shards_out_of_range_are_refused_by_name() {
        assert!(Routing::new(0).unwrap_err().contains("--shards"));
        assert!(Routing::new(MAX_SHARDS + 1)
            .unwrap_err()
            .contains("--shards"));
    }
}
