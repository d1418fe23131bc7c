//! `deep-ladder`: hundreds of thousands of price levels built *away* from the touch, then
//! swept.
//!
//! Each new order rests one tick worse than every order already on its side (bids at
//! `top − 1, top − 2, …`, asks at `top + 1, top + 2, …`), so a ladder kept as a sorted
//! array with the best price at one end inserts every level at the far end and moves the
//! whole array each time: quadratic. Books with many sparse levels (crypto, options,
//! wide-tick and negative-price futures) have this shape, and a hostile client can send it
//! on purpose. Once a side holds its levels, IOC orders sweep it in chunks of
//! `sweep_levels` levels until it is empty; sides alternate from one cycle to the next.

use flowmatch_core::{Command, NewOrder, Price, Side, Tif};

/// Sizes of the `deep-ladder` stream. The defaults are the benchmark workload.
#[derive(Clone, Debug)]
pub struct DeepLadderConfig {
    /// Levels built on one side per cycle (one order of quantity 1 each).
    pub levels: usize,
    /// Levels each sweeping IOC order takes.
    pub sweep_levels: usize,
    /// Price the ladders start next to (bids below it, asks above it).
    pub top: Price,
}

impl Default for DeepLadderConfig {
    fn default() -> Self {
        DeepLadderConfig {
            levels: 400_000,
            sweep_levels: 100,
            top: 1_000_000_000,
        }
    }
}

/// `n` commands of `deep-ladder` with the default sizes (a cycle is shortened to fit `n`,
/// so every stream ends with its ladder swept away).
pub fn generate(seed: u64, n: usize) -> Vec<Command> {
    generate_with(&DeepLadderConfig::default(), seed, n)
}

/// `n` commands of `deep-ladder`. The stream has no randomness; `seed` only picks which
/// side the first cycle builds, so that every workload takes a seed.
pub fn generate_with(cfg: &DeepLadderConfig, seed: u64, n: usize) -> Vec<Command> {
    let sweep = cfg.sweep_levels.max(1);
    let mut out = Vec::with_capacity(n);
    let mut next_id = 1u64;
    let mut side = if seed.is_multiple_of(2) {
        Side::Buy
    } else {
        Side::Sell
    };
    while out.len() < n {
        // Levels that fit with their sweeps: L adds + ceil(L / sweep) sweeps ≤ what is left.
        let left = n - out.len();
        let fit = left * sweep / (sweep + 1);
        let levels = cfg.levels.min(fit.max(1));
        for i in 1..=levels as i64 {
            let price = match side {
                Side::Buy => cfg.top - i,
                Side::Sell => cfg.top + i,
            };
            out.push(Command::New(NewOrder::limit(next_id, 1, side, price, 1)));
            next_id += 1;
        }
        let mut swept = 0usize;
        while swept < levels && out.len() < n {
            let take = sweep.min(levels - swept);
            swept += take;
            let limit = match side {
                Side::Buy => cfg.top - swept as i64,
                Side::Sell => cfg.top + swept as i64,
            };
            let taker =
                NewOrder::limit(next_id, 2, side.opposite(), limit, take as u64).with_tif(Tif::Ioc);
            out.push(Command::New(taker));
            next_id += 1;
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
    fn builds_far_from_the_touch_then_sweeps_everything() {
        let cfg = DeepLadderConfig {
            levels: 1_000,
            sweep_levels: 100,
            top: 0,
        };
        let cmds = generate_with(&cfg, 0, 2 * 1_010);
        assert_eq!(cmds.len(), 2_020);
        // Every add is strictly worse than the one before on its side.
        let Command::New(first) = cmds[0] else {
            panic!()
        };
        let Command::New(second) = cmds[1] else {
            panic!()
        };
        assert_eq!(first.side, Side::Buy);
        assert!(second.price < first.price);
        // The oracle: after each cycle the book is empty and every level traded.
        let mut book = ReferenceBook::new(BookConfig::default());
        let mut ev = Vec::new();
        for c in &cmds[..1_010] {
            book.apply(c, &mut ev);
        }
        assert!(book.is_empty());
        let trades = ev
            .iter()
            .filter(|e| matches!(e, Event::Trade { .. }))
            .count();
        assert_eq!(trades, 1_000);
        for c in &cmds[1_010..] {
            book.apply(c, &mut ev);
        }
        assert!(book.is_empty());
    }

    #[test]
    fn short_streams_still_end_swept() {
        for n in [1, 2, 50, 101, 102, 5_000] {
            let cmds = generate(1, n);
            assert_eq!(cmds.len(), n);
            let mut book = ReferenceBook::new(BookConfig::default());
            let mut ev = Vec::new();
            for c in &cmds {
                book.apply(c, &mut ev);
            }
            assert!(book.len() <= 1, "n={n}: {} left", book.len());
        }
    }
}
