//! `wide-band`: the `equity-mixed` stream with its prices stretched over the whole `i64`
//! range.
//!
//! Wide-tick instruments, options chains, crypto pairs quoted in tiny increments and
//! negative-price futures give books whose levels are far apart in tick terms. A book that
//! indexes prices by an array around the touch, hashes `price mod k`, or does arithmetic on
//! prices meets that shape here. The stretch is strictly increasing
//! ([`remap::stretch`](super::remap::stretch)), so every order keeps its place relative to
//! every other and the matching outcome is `equity-mixed`'s with the prices renamed.

use super::equity::{self, EquityConfig};
use super::remap;
use flowmatch_core::Command;

/// `n` commands: `equity-mixed` (calm) for `seed`, prices stretched from the stream's own
/// range onto `[i64::MIN, ~i64::MAX]`.
pub fn generate(seed: u64, n: usize) -> Vec<Command> {
    let base = equity::generate(&EquityConfig::default(), seed, n);
    let (lo, hi) = remap::price_range(&base);
    remap::rename(&base, |id| id, remap::stretch(lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmatch_core::{BookConfig, OrderBook, ReferenceBook};

    #[test]
    fn same_matching_as_the_narrow_stream_renamed() {
        let (seed, n) = (5, 30_000);
        let base = equity::generate(&EquityConfig::default(), seed, n);
        let wide = generate(seed, n);
        let (lo, hi) = remap::price_range(&base);
        let f = remap::stretch(lo, hi);
        let (mut a, mut b) = (
            ReferenceBook::new(BookConfig::default()),
            ReferenceBook::new(BookConfig::default()),
        );
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        for (x, y) in base.iter().zip(&wide) {
            a.apply(x, &mut ea);
            b.apply(y, &mut eb);
        }
        let expected: Vec<_> = ea
            .into_iter()
            .map(|e| remap::rename_event(e, |id| id, &f))
            .collect();
        assert_eq!(eb, expected);
        let (wlo, whi) = remap::price_range(&wide);
        assert_eq!(wlo, i64::MIN);
        assert!(whi > i64::MAX / 2, "top price {whi}");
    }
}
