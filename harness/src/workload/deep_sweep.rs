//! `deep-sweep`: marketable orders that each walk 100 or more price levels.
//!
//! A cycle builds 100–300 levels next to the touch on one side, one to three orders per
//! level of random size, then sends one order from the other side that reaches all of
//! them: a market order, an IOC limit priced at the last level, or a fill-or-kill that
//! either just fills or is one unit short (and is killed). What is left is cancelled and
//! sides alternate, so the book starts each cycle empty. Punishes per-level overhead in the
//! matching walk, level removal, and a FOK check that costs as much as the fill.

use flowmatch_core::{Command, NewOrder, Price, Qty, Side, Tif};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Mid price the cycles build around.
const MID: Price = 1_000_000;

/// `n` commands of `deep-sweep` for `seed`.
pub fn generate(seed: u64, n: usize) -> Vec<Command> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n);
    let mut next_id = 1u64;
    let mut side = Side::Sell;
    while out.len() < n {
        let levels: i64 = rng.random_range(100..=300);
        let gap: i64 = rng.random_range(1..=3);
        let mut resting: Vec<u64> = Vec::new();
        let mut total: Qty = 0;
        for l in 1..=levels {
            let price = match side {
                Side::Sell => MID + l * gap,
                Side::Buy => MID - l * gap,
            };
            for _ in 0..rng.random_range(1..=3) {
                let qty: Qty = rng.random_range(1..=200);
                total += qty;
                let account = rng.random_range(1..=8);
                out.push(Command::New(NewOrder::limit(
                    next_id, account, side, price, qty,
                )));
                resting.push(next_id);
                next_id += 1;
            }
        }
        let last = match side {
            Side::Sell => MID + levels * gap,
            Side::Buy => MID - levels * gap,
        };
        // The taker's account (9) is never a maker's, so no STP interferes with the walk.
        let taker = match rng.random_range(0..4) {
            0 => NewOrder::market(next_id, 9, side.opposite(), total),
            1 => NewOrder::limit(next_id, 9, side.opposite(), last, total).with_tif(Tif::Ioc),
            2 => NewOrder::limit(next_id, 9, side.opposite(), last, total).with_tif(Tif::Fok),
            _ => NewOrder::limit(next_id, 9, side.opposite(), last, total + 1).with_tif(Tif::Fok),
        };
        next_id += 1;
        out.push(Command::New(taker));
        // Whatever a killed FOK left is cancelled (after a fill these get UNKNOWN_ID,
        // cheap rejects a real feed also sends).
        if taker.qty > total {
            out.extend(resting.iter().map(|&id| Command::Cancel { id }));
        }
        side = side.opposite();
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmatch_core::{BookConfig, Event, OrderBook, ReferenceBook};

    #[test]
    fn every_sweep_walks_at_least_100_levels_or_is_killed_whole() {
        let cmds = generate(3, 40_000);
        assert_eq!(cmds, generate(3, 40_000));
        let mut book = ReferenceBook::new(BookConfig::default());
        let mut ev = Vec::new();
        let mut sweeps = 0;
        for c in &cmds {
            let before = ev.len();
            book.apply(c, &mut ev);
            let Command::New(o) = c else { continue };
            if o.account != 9 {
                continue;
            }
            let prices: std::collections::BTreeSet<_> = ev[before..]
                .iter()
                .filter_map(|e| match e {
                    Event::Trade { price, .. } => Some(*price),
                    _ => None,
                })
                .collect();
            let killed = ev[before..]
                .iter()
                .any(|e| matches!(e, Event::Cancel { qty, .. } if *qty == o.qty));
            assert!(
                prices.len() >= 100 || killed,
                "a sweep met {} levels",
                prices.len()
            );
            sweeps += 1;
        }
        assert!(sweeps > 20, "{sweeps} sweeps");
    }
}
