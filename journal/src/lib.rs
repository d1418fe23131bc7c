//! # flowmatch-journal
//!
//! The on-disk record of what a flowmatch engine accepted: an append-only journal of
//! sequenced, checksummed records in segment files of bounded size, written with a
//! chosen fsync policy (group commit), read back with every record checked, and the
//! state hash that says two books hold the same state. The core does no I/O, so this is
//! its own crate.
//!
//! - [`format`](mod@format): the bytes on disk (segment names, header, record frame).
//! - [`codec`]: the payload of a record ([`Codec`]), implemented for [`flowmatch_core::Command`].
//! - [`config`]: the fsync policy, segment and buffer sizes, range-checked.
//! - [`writer`]: appending on the calling thread; the durability point; what `none` loses.
//! - [`threaded`]: the same writer off the calling thread, fed through the core's SPSC ring.
//! - [`reader`]: reading and verifying; torn tail versus corruption.
//! - [`state_hash`](mod@state_hash): the canonical form of a book's state and its SHA-256.
//! - [`error`]: corruption (file and byte offset), torn tails, I/O and configuration errors.
//!
//! ## Which writer
//! The off-thread one ([`ThreadedWriter`]) for `batch` and `every`: measured side by side
//! (table in [`threaded`]), the calling-thread writer stalls the matching thread for
//! every `fdatasync` (p99.9 per command 7.7 ms under `batch`, 0.06 M commands/s) while
//! through the ring the matching thread's per-command times stay those of no journal
//! (p50 181 ns, p99.9 4.5 µs) and `batch` runs 9x faster (0.55 M/s, one sync per group of
//! everything that piled up). Under `none` the calling-thread [`Writer`] is cheaper (no
//! second thread to schedule: 0.94 against 0.69 M/s on this loaded two-core machine).
//!
//! ## Use
//! ```no_run
//! use flowmatch_core::Command;
//! use flowmatch_journal::{FsyncPolicy, JournalConfig, Reader, ThreadedWriter, Writer};
//! # fn main() -> Result<(), flowmatch_journal::JournalError> {
//! let config = JournalConfig { fsync: "batch:256:1000".parse()?, ..JournalConfig::default() };
//! let mut journal = ThreadedWriter::spawn(Writer::<Command>::create("journal", config)?, 1 << 16)?;
//! let seq = journal.append(Command::Cancel { id: 7 })?;
//! // ... release the command's events once `journal.durable_seq() >= seq` ...
//! journal.close()?;
//! let mut reader = Reader::<Command>::open("journal")?;
//! while let Some(record) = reader.next_record()? {
//!     let _ = (record.seq, record.value);
//! }
//! if let Some(torn) = &reader.summary().torn {
//!     eprintln!("{torn}"); // a warning; `Writer::open` cuts it off
//! }
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod codec;
pub mod config;
pub mod error;
pub mod format;
pub mod reader;
pub mod short_crc;
pub mod state_hash;
pub mod threaded;
pub mod writer;

pub use codec::{Codec, DecodeError, InstrumentRecord};
pub use config::{ConfigError, FsyncPolicy, JournalConfig};
pub use error::{Corruption, CorruptionKind, JournalError, TornReason, TornTail};
pub use reader::{verify, ReadSummary, Reader, Record};
pub use state_hash::{state_hash, StateHash, StateHasher};
pub use threaded::{Closed, ThreadedWriter};
pub use writer::Writer;
