//! One stress producer: sends its stream in seeded bursts of 1–16 commands to whatever
//! ingress the round uses (a single-book engine's ring, a shard router), and meets a full
//! ingress with back-pressure. The threaded and the sharded rounds both run it, so the
//! burst pattern and the back-pressure policy are the same in both and written once.
//!
//! Back-pressure: when the ingress takes less than a whole burst, the producer retries
//! (the engine is most likely running and about to free a slot), spinning with a pause
//! hint and giving the core away every [`YIELD_EVERY`] failed attempts: the CI machines
//! this gate runs on have two cores. Only the ingress mutant drops instead, through
//! `drop_when_full`, which is how it loses a command.

use flowmatch_core::engine::Stamped;
use flowmatch_core::ingress;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Failed attempts between two `yield_now`s while the ingress is full.
const YIELD_EVERY: u64 = 64;

/// Sends `stream` in bursts drawn from `seed`; `send` offers a burst and returns how many
/// commands the ingress took (a prefix). On a short send, `drop_when_full(index, full)`
/// is asked whether to drop the command at `index` (the first not taken) instead of
/// retrying, `full` being the short sends so far including this one. Returns that count
/// of short sends (the producer's full pushes).
pub fn send_in_bursts<M: Copy>(
    stream: &[M],
    seed: u64,
    mut send: impl FnMut(&[Stamped<M>]) -> usize,
    mut drop_when_full: impl FnMut(usize, u64) -> bool,
) -> u64 {
    let stamped: Vec<Stamped<M>> = stream
        .iter()
        .enumerate()
        .map(|(k, c)| Stamped {
            msg: *c,
            t_intended: k as u64,
            t_enqueue: 0,
        })
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut i, mut full, mut spins) = (0, 0u64, 0u64);
    while i < stamped.len() {
        let burst = rng.random_range(1..=16).min(stamped.len() - i);
        let n = send(&stamped[i..i + burst]);
        debug_assert!(n <= burst, "an ingress took more than it was offered");
        i += n;
        if n < burst {
            full += 1;
            if drop_when_full(i, full) {
                i += 1;
                continue;
            }
            spins += 1;
            if spins.is_multiple_of(YIELD_EVERY) {
                std::thread::yield_now();
            } else {
                ingress::spin_hint();
            }
        }
    }
    full
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake ingress taking at most `room` commands per offer: every command arrives
    /// once, in order, whatever the bursts and short sends.
    #[test]
    fn every_command_arrives_once_in_order_through_a_short_ingress() {
        let stream: Vec<u32> = (0..1000).collect();
        let mut got = Vec::new();
        let mut offers = 0u64;
        let full = send_in_bursts(
            &stream,
            7,
            |burst| {
                offers += 1;
                // Every third offer finds the ring full; the others take up to 3.
                let take = if offers.is_multiple_of(3) {
                    0
                } else {
                    burst.len().min(3)
                };
                got.extend(burst[..take].iter().map(|s| s.msg));
                take
            },
            |_, _| false,
        );
        assert_eq!(got, stream);
        assert!(full > 0, "the fake ingress was full at times");
    }

    /// Dropping on a full ingress loses exactly the commands it was told to drop.
    #[test]
    fn drop_when_full_skips_exactly_the_first_command_not_taken() {
        let stream: Vec<u32> = (0..50).collect();
        let mut got = Vec::new();
        let mut dropped = Vec::new();
        let mut first = true;
        send_in_bursts(
            &stream,
            3,
            |burst| {
                // The very first offer is refused entirely; later ones take everything.
                if std::mem::take(&mut first) {
                    return 0;
                }
                got.extend(burst.iter().map(|s| s.msg));
                burst.len()
            },
            |index, full| {
                dropped.push((index, full));
                true
            },
        );
        assert_eq!(dropped, vec![(0, 1)]);
        assert_eq!(got, (1..50).collect::<Vec<u32>>());
    }
}
