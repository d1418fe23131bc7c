//! Seeded, deterministic command streams shared by the benchmarks, `flowmatch latency`
//! and `flowmatch compare`. The same seed always gives the same stream, on any machine.

pub mod adversarial;
pub mod equity;
