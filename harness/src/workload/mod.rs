//! Seeded, deterministic command streams shared by the benchmarks, `flowmatch latency`
//! and `flowmatch compare`. The same seed always gives the same stream, on any machine.
//!
//! `equity` is the common case; `adversarial` cycles through the shapes that break books;
//! the five below each isolate one shape a user's flow can have and a book's own
//! benchmark may not: ids in random order (`random_ids`), levels built far from the touch
//! (`deep_ladder`), prices spread over the whole `i64` range (`wide_band`), takers that
//! walk 100+ levels (`deep_sweep`) and quotes that are nearly all cancelled
//! (`cancel_storm`). `remap` renames a stream's ids or prices without changing its
//! matching outcome.

pub mod adversarial;
pub mod cancel_storm;
pub mod deep_ladder;
pub mod deep_sweep;
pub mod equity;
pub mod random_ids;
pub mod remap;
pub mod wide_band;
