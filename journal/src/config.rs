//! What a journal writer is told: the fsync policy, the segment size and the write
//! buffer, each checked against a range a real run can satisfy before any file is touched.

use crate::codec::Codec;
use crate::format::{FILE_HEADER_LEN, RECORD_HEADER_LEN};
use std::fmt;
use std::str::FromStr;

/// When the writer forces records to stable storage (`fdatasync`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Never. Records reach the kernel when the write buffer fills, at a segment rollover,
    /// on [`crate::Writer::flush`] or at close; the kernel writes them back when it likes.
    /// What a crash can lose is spelled out in [`crate::writer`].
    None,
    /// Group commit: one `fdatasync` for every `records` records, or once the oldest
    /// record not yet durable is `micros` microseconds old, whichever comes first.
    Batch {
        /// Records per commit, `1..=`[`MAX_BATCH_RECORDS`].
        records: u32,
        /// Longest a record waits for its commit, in microseconds,
        /// [`MIN_BATCH_MICROS`]`..=`[`MAX_BATCH_MICROS`].
        micros: u32,
    },
    /// Every record is durable before it counts as durable: one `fdatasync` per append on
    /// the calling-thread writer, one per drained batch on the off-thread one.
    Every,
}

/// Largest `Batch::records`.
pub const MAX_BATCH_RECORDS: u32 = 1_000_000;
/// Smallest `Batch::micros`.
pub const MIN_BATCH_MICROS: u32 = 1;
/// Largest `Batch::micros` (one second: an acknowledgement later than that is an outage).
pub const MAX_BATCH_MICROS: u32 = 1_000_000;
/// Largest segment file (1 TiB).
pub const MAX_SEGMENT_BYTES: u64 = 1 << 40;
/// Largest write buffer (64 MiB).
pub const MAX_BUFFER_BYTES: usize = 64 << 20;

impl FsyncPolicy {
    /// The batch policy's default: 4,096 records or 1 ms, so that at a million commands
    /// a second a commit starts at most once a millisecond (with 256, one started as soon
    /// as the previous `fdatasync` returned: `crate::threaded` gives the measurement).
    pub const DEFAULT_BATCH: FsyncPolicy = FsyncPolicy::Batch {
        records: 4096,
        micros: 1000,
    };

    /// The name the command line uses: `none`, `batch` or `every`.
    pub fn name(&self) -> &'static str {
        match self {
            FsyncPolicy::None => "none",
            FsyncPolicy::Batch { .. } => "batch",
            FsyncPolicy::Every => "every",
        }
    }

    /// Checks the batch parameters' ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let FsyncPolicy::Batch { records, micros } = *self {
            check(
                "fsync.batch.records",
                records as u64,
                1,
                MAX_BATCH_RECORDS as u64,
            )?;
            check(
                "fsync.batch.micros",
                micros as u64,
                MIN_BATCH_MICROS as u64,
                MAX_BATCH_MICROS as u64,
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for FsyncPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsyncPolicy::Batch { records, micros } => write!(f, "batch:{records}:{micros}"),
            p => f.write_str(p.name()),
        }
    }
}

/// Parses `none`, `every`, `batch` (the default 4,096 records / 1000 µs), `batch:RECORDS` or
/// `batch:RECORDS:MICROS`, and checks the ranges.
impl FromStr for FsyncPolicy {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let mut parts = s.split(':');
        let head = parts.next().unwrap_or("");
        let policy = match head {
            "none" | "every" if s.contains(':') => return Err(ConfigError::syntax(s)),
            "none" => FsyncPolicy::None,
            "every" => FsyncPolicy::Every,
            "batch" => {
                let FsyncPolicy::Batch {
                    mut records,
                    mut micros,
                } = FsyncPolicy::DEFAULT_BATCH
                else {
                    unreachable!("the default batch policy is a batch")
                };
                if let Some(r) = parts.next() {
                    records = r.parse().map_err(|_| ConfigError::syntax(s))?;
                }
                if let Some(m) = parts.next() {
                    micros = m.parse().map_err(|_| ConfigError::syntax(s))?;
                }
                if parts.next().is_some() {
                    return Err(ConfigError::syntax(s));
                }
                FsyncPolicy::Batch { records, micros }
            }
            _ => return Err(ConfigError::syntax(s)),
        };
        policy.validate()?;
        Ok(policy)
    }
}

/// A writer's configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalConfig {
    /// When records are forced to stable storage.
    pub fsync: FsyncPolicy,
    /// Largest segment file, header included; the writer starts a new segment rather than
    /// pass it. At least one header and one record of the largest payload
    /// ([`JournalConfig::min_segment_bytes`]), at most [`MAX_SEGMENT_BYTES`].
    pub segment_bytes: u64,
    /// User-space buffer that records are gathered in before a `write`; at least one
    /// record of the largest payload, at most [`MAX_BUFFER_BYTES`].
    pub buffer_bytes: usize,
}

impl Default for JournalConfig {
    /// Batch fsync (4,096 records / 1 ms), 64 MiB segments, a 64 KiB write buffer.
    fn default() -> Self {
        JournalConfig {
            fsync: FsyncPolicy::DEFAULT_BATCH,
            segment_bytes: 64 << 20,
            buffer_bytes: 64 << 10,
        }
    }
}

impl JournalConfig {
    /// The smallest segment that holds a header and one largest record of codec `C`.
    pub fn min_segment_bytes<C: Codec>() -> u64 {
        (FILE_HEADER_LEN + RECORD_HEADER_LEN + C::MAX_LEN) as u64
    }

    /// Checks every field's range for payloads of codec `C`.
    pub fn validate<C: Codec>(&self) -> Result<(), ConfigError> {
        self.fsync.validate()?;
        check(
            "segment_bytes",
            self.segment_bytes,
            Self::min_segment_bytes::<C>(),
            MAX_SEGMENT_BYTES,
        )?;
        check(
            "buffer_bytes",
            self.buffer_bytes as u64,
            (RECORD_HEADER_LEN + C::MAX_LEN) as u64,
            MAX_BUFFER_BYTES as u64,
        )?;
        Ok(())
    }
}

/// A configuration value outside its range, or a policy string that does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `field` holds `value`, outside `min..=max`.
    OutOfRange {
        /// The field's name (`fsync.batch.records`, `segment_bytes`, ...).
        field: &'static str,
        /// The value given.
        value: u64,
        /// Smallest accepted.
        min: u64,
        /// Largest accepted.
        max: u64,
    },
    /// An fsync policy string that is none of the accepted forms.
    Syntax(String),
}

impl ConfigError {
    fn syntax(s: &str) -> ConfigError {
        ConfigError::Syntax(s.to_string())
    }
}

fn check(field: &'static str, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            field,
            value,
            min,
            max,
        })
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::OutOfRange {
                field,
                value,
                min,
                max,
            } => write!(
                f,
                "journal {field} = {value} is outside its range {min}..={max}"
            ),
            ConfigError::Syntax(s) => write!(
                f,
                "fsync policy {s:?} is not one of none, every, batch, batch:RECORDS, \
                 batch:RECORDS:MICROS"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmatch_core::Command;

    fn out_of_range(e: Result<(), ConfigError>) -> (&'static str, u64, u64, u64) {
        match e {
            Err(ConfigError::OutOfRange {
                field,
                value,
                min,
                max,
            }) => (field, value, min, max),
            other => panic!("expected a range error, got {other:?}"),
        }
    }

    #[test]
    fn the_default_is_valid() {
        JournalConfig::default().validate::<Command>().unwrap();
    }

    #[test]
    fn batch_bounds_are_inclusive_and_named() {
        let batch = |records, micros| FsyncPolicy::Batch { records, micros }.validate();
        batch(1, 1).unwrap();
        batch(1_000_000, 1_000_000).unwrap();
        assert_eq!(
            out_of_range(batch(0, 10)),
            ("fsync.batch.records", 0, 1, 1_000_000)
        );
        assert_eq!(
            out_of_range(batch(1_000_001, 10)),
            ("fsync.batch.records", 1_000_001, 1, 1_000_000)
        );
        assert_eq!(
            out_of_range(batch(1, 0)),
            ("fsync.batch.micros", 0, 1, 1_000_000)
        );
        assert_eq!(
            out_of_range(batch(1, 1_000_001)),
            ("fsync.batch.micros", 1_000_001, 1, 1_000_000)
        );
    }

    #[test]
    fn segment_must_hold_a_header_and_one_largest_record() {
        // 36-byte file header + 16-byte record header + the largest payload, a 42-byte
        // New with a parameter (a stop's trigger, codec tag 4), by hand.
        let min = 36 + 16 + 42;
        assert_eq!(JournalConfig::min_segment_bytes::<Command>(), min);
        let with = |segment_bytes, buffer_bytes| JournalConfig {
            fsync: FsyncPolicy::None,
            segment_bytes,
            buffer_bytes,
        };
        // The buffer holds one record: 16-byte header + 42-byte payload.
        with(min, 58).validate::<Command>().unwrap();
        assert_eq!(
            out_of_range(with(min - 1, 4096).validate::<Command>()),
            ("segment_bytes", min - 1, min, 1 << 40)
        );
        assert_eq!(
            out_of_range(with((1 << 40) + 1, 4096).validate::<Command>()),
            ("segment_bytes", (1 << 40) + 1, min, 1 << 40)
        );
        assert_eq!(
            out_of_range(with(min, 57).validate::<Command>()),
            ("buffer_bytes", 57, 58, 64 << 20)
        );
        let e = with(min, 57).validate::<Command>().unwrap_err().to_string();
        assert!(e.contains("buffer_bytes") && e.contains("58..="), "{e}");
    }

    #[test]
    fn policy_strings_parse_and_bad_ones_say_why() {
        assert_eq!("none".parse(), Ok(FsyncPolicy::None));
        assert_eq!("every".parse(), Ok(FsyncPolicy::Every));
        assert_eq!("batch".parse(), Ok(FsyncPolicy::DEFAULT_BATCH));
        assert_eq!(
            "batch:8".parse(),
            Ok(FsyncPolicy::Batch {
                records: 8,
                micros: 1000
            })
        );
        assert_eq!(
            "batch:8:50".parse(),
            Ok(FsyncPolicy::Batch {
                records: 8,
                micros: 50
            })
        );
        for bad in ["", "Batch", "none:1", "batch:x", "batch:1:2:3", "batch:-1"] {
            assert!(
                matches!(bad.parse::<FsyncPolicy>(), Err(ConfigError::Syntax(_))),
                "{bad}"
            );
        }
        let e = "batch:0".parse::<FsyncPolicy>().unwrap_err().to_string();
        assert!(e.contains("fsync.batch.records"), "{e}");
        for p in [
            FsyncPolicy::None,
            FsyncPolicy::Every,
            FsyncPolicy::DEFAULT_BATCH,
        ] {
            assert_eq!(p.to_string().parse(), Ok(p));
        }
    }
}
