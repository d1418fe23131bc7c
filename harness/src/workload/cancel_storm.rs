//! `cancel-storm`: quotes that flicker — about 95% of resting orders end cancelled, as in
//! US equities — around a touch that moves.
//!
//! Market makers re-quote on every tick: most orders live for microseconds and are
//! cancelled, and only a few percent ever trade. The stream keeps a few hundred orders
//! within a few ticks of a random-walk mid; each step is a new quote (55%), a cancel
//! (40%: the newest order half the time, a random live one otherwise) or an IOC taker of
//! one to four round lots at the touch (5%). New quotes never cross the other side, so
//! only the takers trade. A shadow book tells the generator which orders are still live,
//! so cancels name real orders. Punishes id indexes that leave tombstones, levels that
//! empty and refill at the touch, and anything with per-cancel cost above O(1).

use flowmatch_core::{
    BookConfig, Command, CountingSink, FastBook, NewOrder, OrderBook, Price, Side, Tif,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Resting orders the stream hovers around.
const TARGET_LIVE: usize = 400;

/// `n` commands of `cancel-storm` for `seed`.
pub fn generate(seed: u64, n: usize) -> Vec<Command> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n);
    let mut shadow = FastBook::new(BookConfig {
        capacity: TARGET_LIVE * 4,
        ..BookConfig::default()
    });
    let mut sink = CountingSink::default();
    let mut live: Vec<u64> = Vec::with_capacity(TARGET_LIVE * 2);
    let mut next_id = 1u64;
    let mut mid: Price = 50_000;
    while out.len() < n {
        if rng.random::<f64>() < 0.05 {
            mid += rng.random_range(-1..=1);
        }
        live.retain(|&id| shadow.order(id).is_some());
        let u: f64 = rng.random();
        let over = live.len() > TARGET_LIVE;
        let cmd = if !live.is_empty() && (u < 0.40 || (over && u < 0.95)) {
            let k = if rng.random::<bool>() {
                live.len() - 1
            } else {
                rng.random_range(0..live.len())
            };
            Command::Cancel {
                id: live.swap_remove(k),
            }
        } else if u < 0.95 {
            let side = if rng.random::<bool>() {
                Side::Buy
            } else {
                Side::Sell
            };
            let d: Price = rng.random_range(1..=6);
            // Quotes never cross: a maker re-quotes behind the other side's best.
            let price = match side {
                Side::Buy => (mid - d).min(shadow.best_ask().map_or(Price::MAX, |a| a - 1)),
                Side::Sell => (mid + d).max(shadow.best_bid().map_or(Price::MIN, |b| b + 1)),
            };
            let qty = 100 * rng.random_range(1..=5);
            live.push(next_id);
            Command::New(NewOrder::limit(
                next_id,
                rng.random_range(1..=32),
                side,
                price,
                qty,
            ))
        } else {
            let side = if rng.random::<bool>() {
                Side::Buy
            } else {
                Side::Sell
            };
            let price = match side {
                Side::Buy => mid - 1,
                Side::Sell => mid + 1,
            };
            let qty = 100 * rng.random_range(1..=4);
            let taker = NewOrder::limit(next_id, 33, side, price, qty).with_tif(Tif::Ioc);
            Command::New(taker)
        };
        if let Command::New(_) = cmd {
            next_id += 1;
        }
        shadow.apply(&cmd, &mut sink);
        out.push(cmd);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmatch_core::{CancelReason, Event, ReferenceBook};
    use std::collections::HashMap;

    /// Counted on the reference book: of the orders that rested, the share that ended by a
    /// user cancel rather than by trading away.
    #[test]
    fn about_95_percent_of_resting_orders_end_cancelled() {
        let cmds = generate(9, 200_000);
        assert_eq!(cmds.len(), 200_000);
        let mut book = ReferenceBook::new(BookConfig::default());
        let mut ev = Vec::new();
        for c in &cmds {
            book.apply(c, &mut ev);
        }
        let mut open: HashMap<u64, u64> = HashMap::new();
        let (mut cancelled, mut filled) = (0u64, 0u64);
        let mut takers = std::collections::HashSet::new();
        for c in &cmds {
            if let Command::New(o) = c {
                if o.tif == Tif::Ioc {
                    takers.insert(o.id);
                } else {
                    open.insert(o.id, o.qty);
                }
            }
        }
        for e in &ev {
            match *e {
                Event::Cancel {
                    id,
                    reason: CancelReason::User,
                    ..
                } if open.remove(&id).is_some() => cancelled += 1,
                Event::Trade { maker, qty, .. } => {
                    let q = open.get_mut(&maker).expect("maker was resting");
                    *q -= qty;
                    if *q == 0 {
                        open.remove(&maker);
                        filled += 1;
                    }
                }
                _ => {}
            }
        }
        let share = cancelled as f64 / (cancelled + filled) as f64;
        assert!((0.92..0.98).contains(&share), "cancelled share {share}");
        let rejects = ev
            .iter()
            .filter(|e| matches!(e, Event::Reject { .. }))
            .count();
        assert_eq!(rejects, 0, "every cancel names a live order");
    }
}
