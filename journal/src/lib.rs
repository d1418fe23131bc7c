//! # flowmatch-journal
//!
//! The on-disk record of what a flowmatch engine accepted: an append-only journal of
//! sequenced, checksummed records in segment files of bounded size, written with a
//! chosen fsync policy (group commit), read back with every record checked, and the
//! state hash that says two books hold the same state. The core does no I/O, so this is
//! its own crate.
//!
//! - [`format`]: the bytes on disk (segment names, header, record frame).
//! - [`codec`]: the payload of a record ([`Codec`]), implemented for [`flowmatch_core::Command`].
//! - [`config`]: the fsync policy, segment and buffer sizes, range-checked.
//! - [`writer`]: appending on the calling thread; the durability point; what `none` loses.
//! - [`threaded`]: the same writer off the calling thread, fed through the core's SPSC ring.
//! - [`reader`]: reading and verifying; torn tail versus corruption.
//! - [`state_hash`]: the canonical form of a book's state and its SHA-256.
//! - [`error`]: corruption (file and byte offset), torn tails, I/O and configuration errors.
//!
//! ## Which writer
//! Measured with `cargo run --release -p flowmatch-journal --example journal_throughput`
//! (numbers in [`threaded`]'s and [`writer`]'s docs and the crate README section of the
//! lead's report).

#![deny(missing_docs)]

pub mod codec;
pub mod config;
pub mod error;
pub mod format;
pub mod reader;
pub mod state_hash;
pub mod threaded;
pub mod writer;

pub use codec::{Codec, DecodeError};
pub use config::{ConfigError, FsyncPolicy, JournalConfig};
pub use error::{Corruption, CorruptionKind, JournalError, TornReason, TornTail};
pub use reader::{verify, ReadSummary, Reader, Record};
pub use state_hash::{state_hash, StateHash, StateHasher};
pub use threaded::{Closed, ThreadedWriter};
pub use writer::Writer;
