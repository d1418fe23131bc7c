//! `zipf-instruments`: many instruments with very skewed activity, as a market-wide feed.
//!
//! What the stream models, and why:
//! - **Which instrument**: each command picks an instrument by Zipf rank with exponent
//!   `zipf_s` (1.0 by default: the rank-k instrument gets activity ∝ 1/k, the classic
//!   shape of volume across listed symbols, where a few hundred names carry most of it).
//!   Ranks are mapped to instrument ids by a seeded random permutation, so hot books are
//!   scattered over the table as they are over an alphabetical symbol list, not packed at
//!   its start.
//! - **Per-instrument flow** like the single-book `equity-mixed` stream, in miniature: a
//!   mid price (a random walk in ticks around 10,000), new GTC limits at a power-law distance
//!   from it (35%), IOC takers priced a few ticks through the mid (15%), replaces (20%) and
//!   cancels (30%) of the instrument's own recent orders, a few accounts with an STP mode
//!   now and then.
//! - **A shadow of live ids**: the generator replays its own stream through a shadow
//!   `MultiBook<FastBook>` (cold tier and all, so a million instruments fit) and keeps, per
//!   instrument, the ids that rest there, oldest first: cancels and replaces name only
//!   live orders, as a client that reads its fills does. An instrument rests at most
//!   sixteen orders: a new resting order when sixteen are live becomes a cancel of the
//!   oldest, so every book stays shallow and bounded.
//! - Order ids count up per instrument from 1: the same id lives in many instruments.
//!
//! The stream is a pure function of the configuration and the seed.

use flowmatch_core::instrument::MultiBookConfig;
use flowmatch_core::{
    Command, Event, FastBook, InstrumentCommand, InstrumentEvent, InstrumentId, InstrumentSpec,
    InstrumentTable, MultiBook, NewOrder, OrderId, Price, Side, Stp, Symbol, Tif,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Zipf};

/// Parameters of the stream.
#[derive(Clone, Debug)]
pub struct ZipfConfig {
    /// Number of instruments (`1..=u32::MAX`).
    pub instruments: u32,
    /// Zipf exponent of activity over instruments (`0.0..=10.0`; 1.0 by default).
    pub zipf_s: f64,
}

impl Default for ZipfConfig {
    fn default() -> Self {
        ZipfConfig {
            instruments: 1,
            zipf_s: 1.0,
        }
    }
}

/// Most live orders an instrument rests (and the generator remembers).
const RECENT: usize = 16;

/// One instrument's generator state: 144 bytes.
#[derive(Clone, Copy)]
struct Flow {
    mid: Price,
    next_id: OrderId,
    /// The ids live in the shadow book, oldest first.
    live: [OrderId; RECENT],
    len: u8,
}

impl Flow {
    const START: Flow = Flow {
        mid: 10_000,
        next_id: 1,
        live: [0; RECENT],
        len: 0,
    };

    fn ids(&self) -> &[OrderId] {
        &self.live[..self.len as usize]
    }

    fn remember(&mut self, id: OrderId) {
        if (self.len as usize) < RECENT {
            self.live[self.len as usize] = id;
            self.len += 1;
        }
    }

    fn forget(&mut self, id: OrderId) {
        if let Some(at) = self.ids().iter().position(|&x| x == id) {
            self.live.copy_within(at + 1..self.len as usize, at);
            self.len -= 1;
        }
    }

    /// Any live id.
    fn pick(&self, rng: &mut ChaCha8Rng) -> Option<OrderId> {
        (self.len > 0).then(|| self.live[rng.random_range(0..self.len as usize)])
    }
}

/// Checks the configuration against the ranges a run can satisfy.
pub fn validate(cfg: &ZipfConfig) -> Result<(), String> {
    if cfg.instruments == 0 {
        return Err(format!(
            "instruments must be between 1 and {}, got 0",
            u32::MAX
        ));
    }
    if !(0.0..=10.0).contains(&cfg.zipf_s) {
        return Err(format!(
            "zipf_s must be between 0.0 and 10.0, got {}",
            cfg.zipf_s
        ));
    }
    Ok(())
}

/// `n` commands over `cfg.instruments` instruments (ids `0..instruments`).
pub fn generate(cfg: &ZipfConfig, seed: u64, n: usize) -> Result<Vec<InstrumentCommand>, String> {
    validate(cfg)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let count = cfg.instruments as usize;
    let zipf = Zipf::new(cfg.instruments as f64, cfg.zipf_s).map_err(|e| e.to_string())?;
    // Rank -> instrument: a seeded Fisher-Yates permutation.
    let mut by_rank: Vec<u32> = (0..cfg.instruments).collect();
    for i in (1..count).rev() {
        by_rank.swap(i, rng.random_range(0..=i));
    }
    let mut flows = vec![Flow::START; count];
    let mut table = InstrumentTable::new();
    for i in 0..cfg.instruments {
        let symbol = Symbol::new(&format!("I{i}")).map_err(|e| e.to_string())?;
        table
            .push(InstrumentSpec::new(symbol))
            .map_err(|e| e.to_string())?;
    }
    let mut shadow =
        MultiBook::<FastBook>::new(table, MultiBookConfig::default()).map_err(|e| e.to_string())?;
    let mut events: Vec<InstrumentEvent> = Vec::new();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let rank = (zipf.sample(&mut rng) as usize).clamp(1, count);
        let instrument = by_rank[rank - 1];
        let flow = &mut flows[instrument as usize];
        flow.mid += rng.random_range(-1..=1);
        let u: f64 = rng.random();
        let full = flow.len as usize == RECENT;
        // A new resting order when `RECENT` rest becomes a cancel of the oldest, so an
        // instrument never rests more than `RECENT` orders.
        let cmd = if (u < 0.30 || (u >= 0.65 && full)) && flow.len > 0 {
            Command::Cancel { id: flow.live[0] }
        } else if u < 0.50 && flow.len > 0 {
            let id = flow.pick(&mut rng).unwrap_or(0);
            let side_sign = if rng.random_bool(0.5) { 1 } else { -1 };
            Command::Replace {
                id,
                price: flow.mid + side_sign * distance(&mut rng),
                qty: lot(&mut rng),
            }
        } else if u < 0.65 {
            let side = if rng.random_bool(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            let through = rng.random_range(0..=3);
            let price = match side {
                Side::Buy => flow.mid + through,
                Side::Sell => flow.mid - through,
            };
            let id = flow.next_id;
            flow.next_id += 1;
            Command::New(order(&mut rng, id, side, price, Tif::Ioc))
        } else {
            let side = if rng.random_bool(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            let price = match side {
                Side::Buy => flow.mid - distance(&mut rng),
                Side::Sell => flow.mid + distance(&mut rng),
            };
            let id = flow.next_id;
            flow.next_id += 1;
            Command::New(order(&mut rng, id, side, price, Tif::Gtc))
        };
        let msg = InstrumentCommand {
            instrument: InstrumentId(instrument),
            cmd,
        };
        // The shadow says which ids are live now.
        events.clear();
        shadow.apply(&msg, &mut events);
        let book = shadow.book(msg.instrument);
        let live = |id| book.as_ref().is_some_and(|b| b.order(id).is_some());
        for e in &events {
            match e.event {
                Event::Trade { maker, .. } if !live(maker) => flow.forget(maker),
                Event::Cancel { id, .. } => flow.forget(id),
                _ => {}
            }
        }
        match cmd {
            Command::New(o) if live(o.id) => flow.remember(o.id),
            // A replace that re-entered may have traded away as a taker.
            Command::Replace { id, .. } if !live(id) => flow.forget(id),
            _ => {}
        }
        out.push(msg);
    }
    Ok(out)
}

/// Ticks from the mid: power law with tail exponent 1.5 over a scale of 4 ticks (as
/// `equity-mixed`), at least 1.
fn distance(rng: &mut ChaCha8Rng) -> Price {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let d = 4.0 * (u.powf(-1.0 / 1.5) - 1.0);
    (d as Price).clamp(0, 1_000) + 1
}

/// 100 to 1,000 shares in round lots of 100.
fn lot(rng: &mut ChaCha8Rng) -> u64 {
    100 * rng.random_range(1..=10)
}

fn order(rng: &mut ChaCha8Rng, id: OrderId, side: Side, price: Price, tif: Tif) -> NewOrder {
    let stp = if rng.random_bool(0.05) {
        Stp::CancelTaker
    } else {
        Stp::None
    };
    NewOrder::limit(id, rng.random_range(0..16), side, price, lot(rng))
        .with_tif(tif)
        .with_stp(stp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmatch_core::{BookConfig, OrderBook, ReferenceBook, RejectReason};

    #[test]
    fn deterministic_skewed_and_per_instrument_ids() {
        let cfg = ZipfConfig {
            instruments: 1_000,
            zipf_s: 1.0,
        };
        let a = generate(&cfg, 7, 50_000).unwrap();
        assert_eq!(a, generate(&cfg, 7, 50_000).unwrap());
        let mut per = vec![0usize; 1_000];
        for c in &a {
            per[c.instrument.index()] += 1;
        }
        per.sort_unstable_by(|x, y| y.cmp(x));
        // Zipf s=1 over 1,000: the top instrument gets 1/H(1000) ≈ 13.4% of commands,
        // the top 10 about 39%.
        let top = per[0] as f64 / 50_000.0;
        let top10 = per[..10].iter().sum::<usize>() as f64 / 50_000.0;
        assert!((0.12..0.15).contains(&top), "{top}");
        assert!((0.36..0.42).contains(&top10), "{top10}");
        // The same id is used in more than one instrument.
        let ones = a
            .iter()
            .filter(|c| matches!(c.cmd, Command::New(o) if o.id == 1))
            .count();
        assert!(ones > 100, "{ones}");
        // Every cancel and replace names a live order: replayed through one reference book
        // per instrument (the oracle, not the shadow), none is answered UNKNOWN_ID.
        let mut books: Vec<ReferenceBook> = (0..1_000)
            .map(|_| ReferenceBook::new(BookConfig::default()))
            .collect();
        let (mut unknown, mut named) = (0, 0);
        let mut events = Vec::new();
        for c in &a {
            events.clear();
            books[c.instrument.index()].apply(&c.cmd, &mut events);
            if !matches!(c.cmd, Command::New(_)) {
                named += 1;
                unknown += events
                    .iter()
                    .filter(|e| {
                        matches!(
                            e,
                            Event::Reject {
                                reason: RejectReason::UnknownId,
                                ..
                            }
                        )
                    })
                    .count();
            }
        }
        assert!(named > 15_000, "{named}");
        assert_eq!(
            unknown, 0,
            "{unknown} of {named} cancels and replaces name no live order"
        );
        assert!(books.iter().all(|b| b.len() <= RECENT));
        assert!(validate(&ZipfConfig {
            instruments: 0,
            zipf_s: 1.0
        })
        .is_err());
        assert!(validate(&ZipfConfig {
            instruments: 5,
            zipf_s: f64::NAN
        })
        .is_err());
    }
}
