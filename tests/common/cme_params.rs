//! Seeded CME allocation parameters for the differential tests, shared so that every
//! test draws them the same way.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// CME allocation parameters for one seed: TOP limits, pro-rata minimum, LMMs among accounts
/// 1..=3, split and leveling, each over a range that makes it bite.
pub fn cme_params(seed: u64) -> flowmatch::core::allocation::AllocationParams {
    use flowmatch::core::allocation::{AllocationParams, Lmm};
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xC3E);
    let mut p = AllocationParams {
        top_min: if rng.random_bool(0.5) {
            0
        } else {
            rng.random_range(1..=10)
        },
        top_max: if rng.random_bool(0.5) {
            0
        } else {
            rng.random_range(1..=20)
        },
        pro_rata_min: rng.random_range(1..=3),
        split_fifo_percent: rng.random_range(0..=100),
        leveling: rng.random_bool(0.5),
        ..AllocationParams::default()
    };
    let mut left = 50u8;
    for account in 1..=rng.random_range(0..=3u32) {
        if left == 0 {
            break;
        }
        let percent = rng.random_range(1..=left.min(40));
        left -= percent;
        p.push_lmm(Lmm { account, percent })
            .expect("at most 3 LMMs");
    }
    p
}

/// Every policy that shares a level other than FIFO, each with the first seed of its
/// streams: pro-rata without and with a top order (`first`, `first + 100`), then each CME
/// algorithm (`first + 200`, `first + 300`, ...) with [`cme_params`] of its seed.
#[allow(dead_code)] // not every test that draws parameters runs every policy
pub fn pro_rata_and_cme(first: u64) -> Vec<(flowmatch::core::MatchPolicy, u64)> {
    use flowmatch::core::allocation::{Algorithm, CmePolicy};
    use flowmatch::core::MatchPolicy;
    let mut policies = vec![
        (MatchPolicy::ProRata { top_order: false }, first),
        (MatchPolicy::ProRata { top_order: true }, first + 100),
    ];
    for (k, algorithm) in Algorithm::ALL.into_iter().enumerate() {
        let seed = first + 200 + 100 * k as u64;
        let policy = CmePolicy::new(algorithm, cme_params(seed)).expect("parameters in range");
        policies.push((MatchPolicy::Cme(policy), seed));
    }
    policies
}
