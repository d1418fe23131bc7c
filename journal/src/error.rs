//! What can go wrong with a journal: I/O, a bad configuration, corruption (always with the
//! segment file and byte offset), and the torn tail, which is not an error but a warning
//! value the caller must see.

use crate::codec::DecodeError;
use crate::config::ConfigError;
use crate::format::HeaderError;
use std::fmt;
use std::io;
use std::path::PathBuf;

/// Damage found before the tail of the journal, or a journal that does not hang together.
/// Recovery stops here: nothing after it is applied and nothing is skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corruption {
    /// The segment file.
    pub file: PathBuf,
    /// Byte offset in that file of the damaged header or record.
    pub offset: u64,
    /// What is wrong there.
    pub kind: CorruptionKind,
}

/// What is wrong at a [`Corruption`]'s offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorruptionKind {
    /// The segment header does not decode.
    Header(HeaderError),
    /// The segment was written with another payload codec.
    CodecMismatch {
        /// The codec the reader expects.
        expected: [u8; 4],
        /// The codec in the header.
        found: [u8; 4],
    },
    /// The header's segment index is not the one in the file name.
    IndexMismatch {
        /// The index in the file name.
        name: u64,
        /// The index in the header.
        header: u64,
    },
    /// A segment index is missing between two present ones (the offset is 0 and the file
    /// named is the missing one).
    MissingSegment,
    /// A segment's first sequence number (header) or a record's sequence number is not the
    /// one that follows.
    SequenceGap {
        /// The sequence number expected.
        expected: u64,
        /// The one found.
        found: u64,
    },
    /// A record's length is outside the codec's `MIN_LEN..=MAX_LEN`.
    BadLength {
        /// The length found.
        len: u32,
    },
    /// A record's CRC does not match its bytes.
    BadCrc {
        /// The CRC stored.
        stored: u32,
        /// The CRC of the bytes.
        computed: u32,
    },
    /// The CRC matched but the payload does not decode.
    Payload(DecodeError),
    /// A segment other than the last ends inside a header or record (only the very last
    /// record of the journal may be torn).
    TruncatedBeforeTail {
        /// Bytes present from the offset to the end of the file.
        present: u64,
    },
    /// The journal directory holds no segment at all.
    NoSegments,
}

impl fmt::Display for CorruptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorruptionKind::Header(h) => write!(f, "bad segment header: {h:?}"),
            CorruptionKind::CodecMismatch { expected, found } => write!(
                f,
                "payload codec {:?}, expected {:?}",
                String::from_utf8_lossy(found),
                String::from_utf8_lossy(expected)
            ),
            CorruptionKind::IndexMismatch { name, header } => {
                write!(f, "header says segment {header}, the file name says {name}")
            }
            CorruptionKind::MissingSegment => write!(f, "segment file missing"),
            CorruptionKind::SequenceGap { expected, found } => {
                write!(f, "sequence number {found}, expected {expected}")
            }
            CorruptionKind::BadLength { len } => write!(f, "record length {len} out of range"),
            CorruptionKind::BadCrc { stored, computed } => write!(
                f,
                "record CRC32C {stored:#010x} does not match its bytes ({computed:#010x})"
            ),
            CorruptionKind::Payload(d) => write!(f, "payload does not decode: {d}"),
            CorruptionKind::TruncatedBeforeTail { present } => write!(
                f,
                "segment ends inside a record ({present} bytes) but is not the last one"
            ),
            CorruptionKind::NoSegments => write!(f, "no segment files"),
        }
    }
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "journal corrupt: {} at byte offset {}: {}",
            self.file.display(),
            self.offset,
            self.kind
        )
    }
}

/// A torn final record: the journal's last segment ends inside a header or a record, as a
/// crash in the middle of a write leaves it. Everything before [`TornTail::offset`] is
/// whole; the bytes from there to the end of the file are not a record. A reader reports
/// it; opening the journal for append cuts those bytes off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The last segment file.
    pub file: PathBuf,
    /// Where the torn bytes start (the end of the last whole record or of the header).
    pub offset: u64,
    /// How many bytes are torn (from the offset to the end of the file).
    pub bytes: u64,
    /// What the torn bytes look like.
    pub reason: TornReason,
}

/// The shape of a torn tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TornReason {
    /// The file ends inside the 36-byte segment header.
    PartialSegmentHeader,
    /// The file ends inside a record's 16-byte frame.
    PartialRecordHeader,
    /// The file ends inside a record's payload (its frame names a length, sequence and
    /// CRC the reader expected; the payload is short).
    PartialPayload,
    /// Everything from the offset to the end of the file is zero bytes: the file grew but
    /// the data never reached the disk (what some file systems show after a power loss).
    ZeroFilled,
}

impl fmt::Display for TornTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.reason {
            TornReason::PartialSegmentHeader => "a partial segment header",
            TornReason::PartialRecordHeader => "a partial record frame",
            TornReason::PartialPayload => "a partial record payload",
            TornReason::ZeroFilled => "zero bytes",
        };
        write!(
            f,
            "journal torn tail: {} ends with {} bytes of {} from byte offset {} (a write cut \
             short by a crash); everything before it is whole",
            self.file.display(),
            self.bytes,
            what,
            self.offset
        )
    }
}

/// Any journal failure.
#[derive(Debug)]
pub enum JournalError {
    /// An operating-system call failed.
    Io {
        /// What was being done (`create segment`, `fdatasync`, ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A configuration value out of range.
    Config(ConfigError),
    /// Damage before the tail.
    Corrupt(Corruption),
    /// The directory already holds a journal (`create`) or holds none (`open`).
    Directory {
        /// The directory.
        path: PathBuf,
        /// What was wrong.
        what: &'static str,
    },
    /// The writer failed earlier (the first error was returned then) and accepts nothing
    /// more: a record that might not be on disk is never reported durable.
    Failed,
    /// The sequence numbers are used up (`u64::MAX` was written).
    SequenceExhausted,
}

impl JournalError {
    /// An I/O error with its operation and path.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        JournalError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// True for corruption (the command line exits with status 2 for these).
    pub fn is_corruption(&self) -> bool {
        matches!(self, JournalError::Corrupt(_))
    }
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::Io { op, path, source } => {
                write!(f, "journal {op} {}: {source}", path.display())
            }
            JournalError::Config(c) => c.fmt(f),
            JournalError::Corrupt(c) => c.fmt(f),
            JournalError::Directory { path, what } => {
                write!(f, "journal directory {}: {what}", path.display())
            }
            JournalError::Failed => write!(f, "journal writer failed earlier; it is closed"),
            JournalError::SequenceExhausted => write!(f, "journal sequence numbers exhausted"),
        }
    }
}

impl std::error::Error for JournalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JournalError::Io { source, .. } => Some(source),
            JournalError::Config(c) => Some(c),
            _ => None,
        }
    }
}

impl From<ConfigError> for JournalError {
    fn from(c: ConfigError) -> Self {
        JournalError::Config(c)
    }
}

impl From<Corruption> for JournalError {
    fn from(c: Corruption) -> Self {
        JournalError::Corrupt(c)
    }
}
