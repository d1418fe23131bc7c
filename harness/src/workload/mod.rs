//! Seeded, deterministic command streams shared by the benchmarks, `flowmatch latency`
//! and `flowmatch compare`. The same seed always gives the same stream, on any machine.
//!
//! `equity` is the common case; `adversarial` cycles through the shapes that break books;
//! the five below each isolate one shape a user's flow can have and a book's own
//! benchmark may not: ids in random order (`random_ids`; `gateway_ids` for prefixed and sparse ids), levels built far from the touch
//! (`deep_ladder`), prices spread over the whole `i64` range (`wide_band`), takers that
//! walk 100+ levels (`deep_sweep`) and quotes that are nearly all cancelled
//! (`cancel_storm`). `remap` renames a stream's ids or prices without changing its
//! matching outcome.

pub mod adversarial;
pub mod cancel_storm;
pub mod deep_ladder;
pub mod deep_sweep;
pub mod equity;
pub mod gateway_ids;
pub mod random_ids;
pub mod remap;
pub mod wide_band;
pub mod zipf_instruments;

use flowmatch_core::Command;

/// Every book workload by name, so benchmarks, `compare`, profiling and the CI gates
/// generate the same stream from the same name and seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Workload {
    /// `equity-mixed`, driftless mid: the common case.
    EquityCalm,
    /// `equity-mixed`, trending mid.
    EquityTrending,
    /// `equity-mixed` with a flash crash.
    EquityFlashCrash,
    /// The four phases of [`adversarial`].
    Adversarial,
    /// [`random_ids`]: `equity-mixed` with ids scattered over `u64`.
    RandomIds,
    /// [`gateway_ids`]: `equity-mixed` with eight gateway prefixes in the ids' top byte.
    GatewayIds,
    /// [`gateway_ids`]: `equity-mixed` with ids `10^12 + 1009·n`.
    SparseIds,
    /// [`wide_band`]: `equity-mixed` with prices over the whole `i64` range.
    WideBand,
    /// [`deep_ladder`]: 400k levels built away from the touch, then swept.
    DeepLadder,
    /// [`deep_sweep`]: takers that walk 100–300 levels.
    DeepSweep,
    /// [`cancel_storm`]: ~95% of resting orders cancelled.
    CancelStorm,
}

impl Workload {
    /// All workloads, the common case first.
    pub const ALL: [Workload; 11] = [
        Workload::EquityCalm,
        Workload::EquityTrending,
        Workload::EquityFlashCrash,
        Workload::Adversarial,
        Workload::RandomIds,
        Workload::GatewayIds,
        Workload::SparseIds,
        Workload::WideBand,
        Workload::DeepLadder,
        Workload::DeepSweep,
        Workload::CancelStorm,
    ];

    /// The workload's stable name (used on command lines and in result files).
    pub fn name(self) -> &'static str {
        match self {
            Workload::EquityCalm => "equity-mixed",
            Workload::EquityTrending => "equity-trending",
            Workload::EquityFlashCrash => "equity-flash-crash",
            Workload::Adversarial => "adversarial",
            Workload::RandomIds => "random-ids",
            Workload::GatewayIds => "gateway-ids",
            Workload::SparseIds => "sparse-ids",
            Workload::WideBand => "wide-band",
            Workload::DeepLadder => "deep-ladder",
            Workload::DeepSweep => "deep-sweep",
            Workload::CancelStorm => "cancel-storm",
        }
    }

    /// The workload with this name, if any.
    pub fn from_name(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    /// `n` commands of this workload for `seed`.
    pub fn generate(self, seed: u64, n: usize) -> Vec<Command> {
        use equity::{EquityConfig, EquityVariant};
        match self {
            Workload::EquityCalm => equity::generate(&EquityConfig::default(), seed, n),
            Workload::EquityTrending => {
                equity::generate(&EquityConfig::variant(EquityVariant::Trending), seed, n)
            }
            Workload::EquityFlashCrash => {
                equity::generate(&EquityConfig::variant(EquityVariant::FlashCrash), seed, n)
            }
            Workload::Adversarial => adversarial::generate(seed, n),
            Workload::RandomIds => random_ids::generate(seed, n),
            Workload::GatewayIds => gateway_ids::generate_gateway(seed, n),
            Workload::SparseIds => gateway_ids::generate_sparse(seed, n),
            Workload::WideBand => wide_band::generate(seed, n),
            Workload::DeepLadder => deep_ladder::generate(seed, n),
            Workload::DeepSweep => deep_sweep::generate(seed, n),
            Workload::CancelStorm => cancel_storm::generate(seed, n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_streams_have_the_asked_length() {
        for w in Workload::ALL {
            assert_eq!(Workload::from_name(w.name()), Some(w));
            let a = w.generate(1, 3_000);
            assert_eq!(a.len(), 3_000, "{}", w.name());
            assert_eq!(a, w.generate(1, 3_000), "{} is not deterministic", w.name());
        }
        assert_eq!(Workload::from_name("nope"), None);
    }
}
