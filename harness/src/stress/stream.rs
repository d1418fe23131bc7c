//! The command streams `flowmatch stress` pushes: one per producer per round, seeded, so
//! the same `(seed, round, producer)` always gives the same commands.
//!
//! Each stream is a run of segments. Most are drawn from a generator built to exercise
//! every rule often in few commands: a narrow price band (so nearly every order meets
//! the other side), a small pool of ids per producer (so ids are reused at once, and
//! cancels and replaces name orders that are live, finished or never existed), a handful
//! of accounts shared by all producers (so self-trade prevention fires), every time in
//! force and STP mode, market orders, replaces that keep priority (same price, smaller)
//! and that lose it (bigger, or a new price), and a few invalid commands. The other
//! segments are slices of the project's adversarial workloads (`harness/src/workload/`:
//! deep FIFO levels, long sweeps, extreme prices, id reuse, cancel storms, deep sweeps),
//! their ids moved into the producer's id space.
//!
//! Producers never share an id (each owns the ids with its number in bits 40..), so the
//! outcome of one producer's command depends on the interleaving only through the book,
//! never through a collision the stream itself made.

use super::Profile;
use crate::workload::Workload;
use flowmatch_core::{Command, NewOrder, OrdType, OrderId, Price, Qty, Side, Stp, Tif};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Commands per segment.
const SEGMENT: usize = 200;
/// Ids per producer in the generator's pool.
const ID_POOL: u64 = 40;
/// Accounts shared by all producers.
const ACCOUNTS: u32 = 4;
/// The generator's price band.
const LOW: Price = 100;
const HIGH: Price = 108;

/// The workloads whose slices are mixed in.
const ADVERSARIAL: [Workload; 4] = [
    Workload::Adversarial,
    Workload::CancelStorm,
    Workload::DeepSweep,
    Workload::EquityFlashCrash,
];

/// The first id of producer `producer`'s id space.
pub fn id_base(producer: usize) -> OrderId {
    (producer as OrderId + 1) << 40
}

/// The producer that owns `id` (the inverse of [`id_base`]), if any.
pub fn id_owner(id: OrderId) -> Option<usize> {
    let p = id >> 40;
    (p >= 1).then(|| (p - 1) as usize)
}

/// A seed for one producer's stream of one round.
fn stream_seed(seed: u64, round: usize, producer: usize) -> u64 {
    // SplitMix64-style mixing so neighbouring rounds and producers are unrelated.
    let mut z = seed
        ^ (round as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (producer as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `n` commands for `producer` in `round`.
pub fn round_stream(
    seed: u64,
    round: usize,
    producer: usize,
    n: usize,
    profile: Profile,
) -> Vec<Command> {
    let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(seed, round, producer));
    let mut gen = Generator::new(producer);
    let adversarial_share = match profile {
        Profile::Quick | Profile::Soak => 0.2,
        Profile::Adversarial => 0.6,
    };
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let len = SEGMENT.min(n - out.len());
        if rng.random_bool(adversarial_share) {
            let w = ADVERSARIAL[rng.random_range(0..ADVERSARIAL.len())];
            let skip = rng.random_range(0..4 * SEGMENT);
            let base = id_base(producer);
            let cmds = w.generate(rng.random(), skip + len);
            out.extend(cmds[skip..].iter().map(|c| move_ids(c, base)));
        } else {
            for _ in 0..len {
                out.push(gen.next(&mut rng));
            }
        }
    }
    out
}

/// The command with its id moved into the id space starting at `base`.
fn move_ids(cmd: &Command, base: OrderId) -> Command {
    let local = |id: OrderId| base | (id & ((1 << 40) - 1));
    match *cmd {
        Command::New(o) => Command::New(NewOrder {
            id: local(o.id),
            ..o
        }),
        Command::Cancel { id } => Command::Cancel { id: local(id) },
        Command::Replace { id, price, qty } => Command::Replace {
            id: local(id),
            price,
            qty,
        },
    }
}

/// The rule-dense generator of one producer. It remembers the price and quantity it last
/// sent for each id so that its replaces can keep or lose priority on purpose (whether the
/// order is still live is the book's business).
struct Generator {
    base: OrderId,
    last: [(Price, Qty); ID_POOL as usize],
}

const TIFS: [Tif; 4] = [Tif::Gtc, Tif::Ioc, Tif::Fok, Tif::Post];
const STPS: [Stp; 5] = [
    Stp::None,
    Stp::CancelTaker,
    Stp::CancelMaker,
    Stp::CancelBoth,
    Stp::DecrementCancel,
];

impl Generator {
    fn new(producer: usize) -> Self {
        Generator {
            base: id_base(producer),
            last: [(LOW, 1); ID_POOL as usize],
        }
    }

    fn next(&mut self, rng: &mut ChaCha8Rng) -> Command {
        let slot = rng.random_range(0..ID_POOL);
        let id = self.base + 1 + slot;
        let roll = rng.random_range(0..100u32);
        let qty: Qty = if rng.random_bool(0.1) {
            rng.random_range(20..=200)
        } else {
            rng.random_range(1..=20)
        };
        let side = if rng.random_bool(0.5) {
            Side::Buy
        } else {
            Side::Sell
        };
        let stp = if rng.random_bool(0.5) {
            Stp::None
        } else {
            STPS[rng.random_range(1..STPS.len())]
        };
        let account = rng.random_range(1..=ACCOUNTS);
        match roll {
            0..=49 => {
                let price = rng.random_range(LOW..=HIGH);
                let tif = TIFS[rng.random_range(0..TIFS.len())];
                self.last[slot as usize] = (price, qty);
                Command::New(NewOrder {
                    id,
                    account,
                    side,
                    ord_type: OrdType::Limit,
                    price: Some(price),
                    qty,
                    tif,
                    stp,
                })
            }
            50..=54 => {
                // Market orders, now and then with a time in force they cannot take.
                let tif = [Tif::Ioc, Tif::Fok, Tif::Ioc, Tif::Gtc][rng.random_range(0..4)];
                Command::New(NewOrder {
                    id,
                    account,
                    side,
                    ord_type: OrdType::Market,
                    price: None,
                    qty,
                    tif,
                    stp,
                })
            }
            55..=56 => {
                // Invalid: a zero quantity.
                Command::New(NewOrder {
                    qty: 0,
                    ..NewOrder::limit(id, account, side, LOW, 1)
                })
            }
            57..=74 => Command::Cancel { id },
            _ => {
                let (price, last_qty) = self.last[slot as usize];
                let (price, qty) = match rng.random_range(0..3u32) {
                    // Same price, smaller: keeps priority.
                    0 => (price, rng.random_range(1..=last_qty.max(1))),
                    // Same price, bigger: loses priority.
                    1 => (price, last_qty + rng.random_range(1..=10)),
                    // A new price: loses priority, may cross.
                    _ => (rng.random_range(LOW..=HIGH), qty),
                };
                self.last[slot as usize] = (price, qty);
                Command::Replace { id, price, qty }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_deterministic_and_stay_in_their_id_space() {
        let a = round_stream(5, 2, 1, 2_000, Profile::Adversarial);
        assert_eq!(a.len(), 2_000);
        assert_eq!(a, round_stream(5, 2, 1, 2_000, Profile::Adversarial));
        assert_ne!(a, round_stream(5, 2, 0, 2_000, Profile::Adversarial));
        assert!(a.iter().all(|c| id_owner(c.id()) == Some(1)));
    }
}
