//! Order-preserving and id-preserving rewrites of a command stream: the same matching
//! problem with other numbers on it.
//!
//! Two of the adversarial workloads are the `equity-mixed` stream with its ids or its prices
//! renamed. A rewrite that keeps the stream's structure — every id still names the same
//! order, every price still sits in the same order relative to the others — leaves the
//! matching outcome unchanged up to the same renaming, so a book's cost on the rewritten
//! stream against the original measures only how the book copes with the *numbers*
//! (hash spread of ids, spacing of prices), not a different workload. The tests check that
//! property against the reference book.

use flowmatch_core::{Command, Event, OrderId, Price};

/// Applies `id` to every order id and `price` to every price in `cmds`.
pub fn rename(
    cmds: &[Command],
    id: impl Fn(OrderId) -> OrderId,
    price: impl Fn(Price) -> Price,
) -> Vec<Command> {
    cmds.iter()
        .map(|c| match *c {
            Command::New(mut o) => {
                o.id = id(o.id);
                o.price = o.price.map(&price);
                Command::New(o)
            }
            Command::Cancel { id: i } => Command::Cancel { id: id(i) },
            Command::Replace {
                id: i,
                price: p,
                qty,
            } => Command::Replace {
                id: id(i),
                price: price(p),
                qty,
            },
        })
        .collect()
}

/// The event `e` as the renamed stream's book reports it: the same rewrite applied to
/// every id and price the event carries.
pub fn rename_event(
    e: Event,
    id: impl Fn(OrderId) -> OrderId,
    price: impl Fn(Price) -> Price,
) -> Event {
    match e {
        Event::Ack { id: i } => Event::Ack { id: id(i) },
        Event::Replaced { id: i } => Event::Replaced { id: id(i) },
        Event::Trade {
            taker,
            maker,
            price: p,
            qty,
        } => Event::Trade {
            taker: id(taker),
            maker: id(maker),
            price: price(p),
            qty,
        },
        Event::Cancel {
            id: i,
            qty,
            reason,
            side,
            price: p,
        } => Event::Cancel {
            id: id(i),
            qty,
            reason,
            side,
            price: p.map(&price),
        },
        Event::Reject { id: i, reason } => Event::Reject { id: id(i), reason },
    }
}

/// A keyed bijection on `u64` whose outputs look uniformly random: the SplitMix64
/// finalizer (xor-shift and odd multiplies, each invertible) applied to `x ^ key`. Distinct
/// inputs always give distinct outputs, so renamed ids never collide.
pub fn scatter(x: u64, key: u64) -> u64 {
    let mut z = x ^ key;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The strictly increasing affine map that stretches `[lo, hi]` over (almost) the whole
/// `i64` domain: `lo` goes to `i64::MIN`, and each tick above it becomes `stride` ticks,
/// with `stride = floor((2^64 - 1) / (hi - lo))`. Returns the map as a closure; prices
/// outside `[lo, hi]` are clamped to the ends first (the caller passes the stream's range).
pub fn stretch(lo: Price, hi: Price) -> impl Fn(Price) -> Price {
    let span = (i128::from(hi) - i128::from(lo)).max(1);
    let stride = i128::from(u64::MAX) / span;
    move |p: Price| {
        let off = i128::from(p.clamp(lo, hi)) - i128::from(lo);
        let v = i128::from(i64::MIN) + off * stride;
        debug_assert!(v <= i128::from(i64::MAX));
        v as Price
    }
}

/// The lowest and highest price named anywhere in `cmds` (`(0, 0)` when none is).
pub fn price_range(cmds: &[Command]) -> (Price, Price) {
    let prices = cmds.iter().filter_map(|c| match c {
        Command::New(o) => o.price,
        Command::Replace { price, .. } => Some(*price),
        Command::Cancel { .. } => None,
    });
    prices
        .fold(None, |acc: Option<(Price, Price)>, p| match acc {
            None => Some((p, p)),
            Some((lo, hi)) => Some((lo.min(p), hi.max(p))),
        })
        .unwrap_or((0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn scatter_is_injective_on_a_dense_range_and_spreads_high_bits() {
        let outs: HashSet<u64> = (0..200_000u64).map(|x| scatter(x, 42)).collect();
        assert_eq!(outs.len(), 200_000);
        // Sequential inputs land all over the top byte, not in one bucket run.
        let tops: HashSet<u64> = (0..10_000u64).map(|x| scatter(x, 42) >> 56).collect();
        assert!(tops.len() > 250, "{} distinct top bytes", tops.len());
    }

    #[test]
    fn stretch_is_strictly_increasing_and_spans_i64() {
        let f = stretch(9_000, 11_000);
        assert_eq!(f(9_000), i64::MIN);
        assert!(f(11_000) > i64::MAX - (i64::MAX / 1_000), "{}", f(11_000));
        let mut prev = f(9_000);
        for p in 9_001..=11_000 {
            assert!(f(p) > prev);
            prev = f(p);
        }
        // A degenerate range still maps without overflow.
        let g = stretch(5, 5);
        assert_eq!(g(5), i64::MIN);
    }
}
