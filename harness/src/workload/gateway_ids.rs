//! `gateway-ids` and `sparse-ids`: the `equity-mixed` stream with its ids spelled as two
//! more kinds of gateway would spell them.
//!
//! - `gateway-ids`: eight gateways, each with its own prefix in the top byte and its own
//!   sequential counter below it (order `n` goes to gateway `n mod 8`, as its
//!   `n div 8`-th order), so the id space is eight dense runs 2^56 apart.
//! - `sparse-ids`: one counter with gaps, ids `10^12 + 1009·n` — dense in order, sparse in
//!   value (no two ids in one run of neighbouring buckets of a table hashed by low bits).
//!
//! Both are bijective renamings ([`remap::rename`](super::remap::rename)), so the matching
//! outcome is `equity-mixed`'s, renamed, and the cost difference is the id index alone
//! (as for [`random_ids`](super::random_ids)).

use super::equity::{self, EquityConfig};
use super::remap;
use flowmatch_core::{Command, OrderId};

/// Gateway `id mod 8` in the top byte, its counter `id div 8` below.
pub fn gateway_id(id: OrderId) -> OrderId {
    ((id % 8) << 56) | (id / 8)
}

/// `10^12 + 1009·id` (injective for every id the equity stream issues, which stay far
/// below 2^40).
pub fn sparse_id(id: OrderId) -> OrderId {
    1_000_000_000_000 + id.wrapping_mul(1_009)
}

/// `n` commands: `equity-mixed` (calm) for `seed` with gateway-prefixed ids.
pub fn generate_gateway(seed: u64, n: usize) -> Vec<Command> {
    let base = equity::generate(&EquityConfig::default(), seed, n);
    remap::rename(&base, gateway_id, |p| p)
}

/// `n` commands: `equity-mixed` (calm) for `seed` with sparse ids.
pub fn generate_sparse(seed: u64, n: usize) -> Vec<Command> {
    let base = equity::generate(&EquityConfig::default(), seed, n);
    remap::rename(&base, sparse_id, |p| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmatch_core::{BookConfig, OrderBook, ReferenceBook};
    use std::collections::HashSet;

    /// Both spellings are injective on the ids the stream uses, and the reference book
    /// (the oracle) reports on each renamed stream the sequential stream's events, renamed.
    #[test]
    fn same_matching_as_the_sequential_stream_renamed() {
        let (seed, n) = (5, 20_000);
        let base = equity::generate(&EquityConfig::default(), seed, n);
        let ids: HashSet<OrderId> = base.iter().map(|c| c.id()).collect();
        type Spelling = fn(OrderId) -> OrderId;
        type Generator = fn(u64, usize) -> Vec<Command>;
        let spellings: [(Spelling, Generator); 2] =
            [(gateway_id, generate_gateway), (sparse_id, generate_sparse)];
        for (spell, generate) in spellings {
            let spelled: HashSet<OrderId> = ids.iter().map(|&i| spell(i)).collect();
            assert_eq!(spelled.len(), ids.len(), "the spelling is injective");
            let mut a = ReferenceBook::new(BookConfig::default());
            let mut b = ReferenceBook::new(BookConfig::default());
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            for (x, y) in base.iter().zip(&generate(seed, n)) {
                a.apply(x, &mut ea);
                b.apply(y, &mut eb);
            }
            let expected: Vec<_> = ea
                .into_iter()
                .map(|e| remap::rename_event(e, spell, |p| p))
                .collect();
            assert_eq!(eb, expected);
        }
        // Gateway ids really use eight prefixes.
        let tops: HashSet<u64> = ids.iter().map(|&i| gateway_id(i) >> 56).collect();
        assert_eq!(tops.len(), 8);
    }
}
