//! The workspace root package exists to hold the black-box tests in `tests/`; it
//! re-exports the two crates so those tests can name them from one place.
pub use flowmatch_core as core;
pub use flowmatch_harness as harness;
