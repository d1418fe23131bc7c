//! `random-ids`: the `equity-mixed` stream with every order id replaced by a pseudo-random
//! 64-bit id.
//!
//! Gateways assign client order ids their own way — random 64-bit values, per-gateway
//! prefixes in the high bits, sparse ranges — and an id index tuned for 1, 2, 3, … meets a
//! cache miss per lookup on them. The renaming is a keyed bijection
//! ([`remap::scatter`](super::remap::scatter)), so each id still names the same order,
//! reuse stays reuse, and the matching outcome is the sequential stream's, renamed: the
//! cost difference between the two streams is the id index and nothing else.

use super::equity::{self, EquityConfig};
use super::remap;
use flowmatch_core::Command;

/// The key of the id bijection for a seed (any fixed function of it would do).
pub fn id_key(seed: u64) -> u64 {
    seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xa076_1d64_78bd_642f
}

/// `n` commands: `equity-mixed` (calm) for `seed` with ids scattered over `u64`.
pub fn generate(seed: u64, n: usize) -> Vec<Command> {
    let base = equity::generate(&EquityConfig::default(), seed, n);
    let key = id_key(seed);
    remap::rename(&base, |id| remap::scatter(id, key), |p| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmatch_core::{BookConfig, OrderBook, ReferenceBook};

    /// The reference book (the oracle, not the book under test) reports on the renamed
    /// stream exactly the sequential stream's events, renamed.
    #[test]
    fn same_matching_as_the_sequential_stream_renamed() {
        let (seed, n) = (11, 30_000);
        let base = equity::generate(&EquityConfig::default(), seed, n);
        let renamed = generate(seed, n);
        let key = id_key(seed);
        let (mut a, mut b) = (
            ReferenceBook::new(BookConfig::default()),
            ReferenceBook::new(BookConfig::default()),
        );
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        for (x, y) in base.iter().zip(&renamed) {
            a.apply(x, &mut ea);
            b.apply(y, &mut eb);
        }
        let expected: Vec<_> = ea
            .into_iter()
            .map(|e| remap::rename_event(e, |id| remap::scatter(id, key), |p| p))
            .collect();
        assert_eq!(eb, expected);
        // And the ids really are spread: the top 16 bits take many values.
        let tops: std::collections::HashSet<u64> = renamed.iter().map(|c| c.id() >> 48).collect();
        assert!(
            tops.len() > 1_000,
            "{} distinct top-16-bit prefixes",
            tops.len()
        );
    }
}
