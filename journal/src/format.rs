//! The on-disk format: segment file names, the segment header and the record frame.
//! Everything is little-endian and fixed width, so another tool can read a journal from
//! this description alone.
//!
//! # Segment files
//! A journal is a directory of segment files named `NNNNNNNNNNNNNNNNNNNN.fmj`: the
//! segment index as 20 decimal digits (the width of `u64::MAX`), so names sort as the
//! indices do. Indices are consecutive; the first present one may be above 0 (older
//! segments may be removed once a snapshot covers them). Other files in the directory
//! are not the journal's and are left alone.
//!
//! # Segment header (36 bytes, format version 1)
//! | offset | width | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `FMJOURNL` (ASCII) |
//! | 8 | 2 | format version (u16) = 1 |
//! | 10 | 2 | reserved, 0 |
//! | 12 | 4 | payload codec id (four ASCII bytes, e.g. `cmd1`, see [`crate::codec`]) |
//! | 16 | 8 | segment index (u64), equal to the one in the file name |
//! | 24 | 8 | sequence number of the segment's first record (u64, at least 1) |
//! | 32 | 4 | CRC32C (Castagnoli) of bytes 0..32 |
//!
//! # Record (16-byte frame + payload), one after another up to the end of the file
//! | offset | width | field |
//! | --- | --- | --- |
//! | 0 | 4 | payload length `n` (u32), `Codec::MIN_LEN..=Codec::MAX_LEN` |
//! | 4 | 4 | CRC32C of bytes 0..4 followed by bytes 8..16+n (length, sequence, payload) |
//! | 8 | 8 | sequence number (u64): the previous record's plus one |
//! | 16 | n | payload, in the codec's layout |
//!
//! Sequence numbers run on across segments without a gap: a segment's first sequence
//! number is the previous segment's last plus one (or its own first, if it is empty).

use crate::codec::Codec;
use std::path::{Path, PathBuf};

/// Bytes of a segment header.
pub const FILE_HEADER_LEN: usize = 36;
/// Bytes of a record's frame before its payload.
pub const RECORD_HEADER_LEN: usize = 16;
/// The segment magic.
pub const MAGIC: [u8; 8] = *b"FMJOURNL";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Extension of segment files.
pub const SEGMENT_EXTENSION: &str = "fmj";

/// The file name of segment `index`.
pub fn segment_file_name(index: u64) -> String {
    format!("{index:020}.{SEGMENT_EXTENSION}")
}

/// The path of segment `index` in `dir`.
pub fn segment_path(dir: &Path, index: u64) -> PathBuf {
    dir.join(segment_file_name(index))
}

/// The segment index a file name stands for, if it is a segment's name (exactly 20
/// digits and the extension).
pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SEGMENT_EXTENSION)?.strip_suffix('.')?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A decoded segment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    /// The payload codec id.
    pub codec: [u8; 4],
    /// The segment index.
    pub index: u64,
    /// The sequence number its first record has (or would have).
    pub first_seq: u64,
}

/// Why a segment header did not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// The magic is not `FMJOURNL`.
    BadMagic,
    /// The header's CRC does not match its bytes.
    BadCrc,
    /// A format version this crate does not read.
    UnsupportedVersion(u16),
    /// The reserved field is not zero.
    ReservedNotZero,
}

impl SegmentHeader {
    /// The header's 36 bytes.
    pub fn encode(&self) -> [u8; FILE_HEADER_LEN] {
        let mut b = [0u8; FILE_HEADER_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&self.codec);
        b[16..24].copy_from_slice(&self.index.to_le_bytes());
        b[24..32].copy_from_slice(&self.first_seq.to_le_bytes());
        let crc = crc32c::crc32c(&b[0..32]);
        b[32..36].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Reads a header: the magic first (is this a segment at all?), then the CRC, then
    /// the fields the CRC vouches for.
    pub fn decode(b: &[u8; FILE_HEADER_LEN]) -> Result<SegmentHeader, HeaderError> {
        if b[0..8] != MAGIC {
            return Err(HeaderError::BadMagic);
        }
        if crc32c::crc32c(&b[0..32]) != u32_at(b, 32) {
            return Err(HeaderError::BadCrc);
        }
        let version = u16::from_le_bytes([b[8], b[9]]);
        if version != FORMAT_VERSION {
            return Err(HeaderError::UnsupportedVersion(version));
        }
        if b[10..12] != [0, 0] {
            return Err(HeaderError::ReservedNotZero);
        }
        let mut codec = [0u8; 4];
        codec.copy_from_slice(&b[12..16]);
        Ok(SegmentHeader {
            codec,
            index: u64_at(b, 16),
            first_seq: u64_at(b, 24),
        })
    }
}

/// The frame of one record, as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    /// Payload length.
    pub len: u32,
    /// The CRC stored in the frame.
    pub crc: u32,
    /// The record's sequence number.
    pub seq: u64,
}

impl RecordHeader {
    /// Reads a frame.
    pub fn decode(b: &[u8; RECORD_HEADER_LEN]) -> RecordHeader {
        RecordHeader {
            len: u32_at(b, 0),
            crc: u32_at(b, 4),
            seq: u64_at(b, 8),
        }
    }

    /// The CRC this frame and `payload` should carry ([`record_crc`] of the frame's
    /// length and sequence number).
    pub fn expected_crc(frame: &[u8; RECORD_HEADER_LEN], payload: &[u8]) -> u32 {
        record_crc(u32_at(frame, 0), u64_at(frame, 8), payload)
    }
}

/// The one spelling of a record's CRC, used by the writer ([`encode_record`]) and the
/// reader ([`RecordHeader::expected_crc`]): CRC32C of the length (u32 LE), the sequence
/// number (u64 LE) and the payload, in that order, streamed field by field without a
/// copy ([`crate::short_crc`]: the `crc32c` crate's per-call setup cost more than the
/// ~40 bytes of a record).
#[inline]
pub fn record_crc(len: u32, seq: u64, payload: &[u8]) -> u32 {
    crate::short_crc::len_seq_payload(len, seq, payload)
}

/// Writes one record (frame and payload) for `value` at sequence `seq` to the start of
/// `out`, which must hold [`RECORD_HEADER_LEN`]` + C::MAX_LEN` bytes; returns its length.
pub fn encode_record<C: Codec>(value: &C, seq: u64, out: &mut [u8]) -> usize {
    let n = value.encode(&mut out[RECORD_HEADER_LEN..]);
    debug_assert!((C::MIN_LEN..=C::MAX_LEN).contains(&n));
    out[0..4].copy_from_slice(&(n as u32).to_le_bytes());
    out[8..16].copy_from_slice(&seq.to_le_bytes());
    let crc = record_crc(
        n as u32,
        seq,
        &out[RECORD_HEADER_LEN..RECORD_HEADER_LEN + n],
    );
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    RECORD_HEADER_LEN + n
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmatch_core::Command;

    #[test]
    fn names_sort_as_indices_and_parse_back() {
        let names: Vec<String> = [0u64, 9, 10, 99, 100, u64::MAX]
            .iter()
            .map(|&i| segment_file_name(i))
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(segment_file_name(7), "00000000000000000007.fmj");
        assert_eq!(parse_segment_file_name("00000000000000000007.fmj"), Some(7));
        assert_eq!(
            parse_segment_file_name("18446744073709551615.fmj"),
            Some(u64::MAX)
        );
        for not in [
            "7.fmj",
            "0000000000000000007.fmj",
            "00000000000000000007.fmj.tmp",
            "0000000000000000000a.fmj",
            "99999999999999999999.fmj",
            "snapshot.bin",
        ] {
            assert_eq!(parse_segment_file_name(not), None, "{not}");
        }
    }

    #[test]
    fn header_layout_is_the_documented_one() {
        let h = SegmentHeader {
            codec: *b"cmd1",
            index: 3,
            first_seq: 0x0102,
        };
        let b = h.encode();
        assert_eq!(&b[0..8], b"FMJOURNL");
        assert_eq!(&b[8..16], &[1, 0, 0, 0, b'c', b'm', b'd', b'1']);
        assert_eq!(&b[16..24], &[3, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[24..32], &[2, 1, 0, 0, 0, 0, 0, 0]);
        // CRC-32C check value of the standard ("123456789" -> 0xE3069283) pins the variant.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(
            u32::from_le_bytes([b[32], b[33], b[34], b[35]]),
            crc32c::crc32c(&b[0..32])
        );
        assert_eq!(SegmentHeader::decode(&b), Ok(h));
    }

    #[test]
    fn damaged_headers_are_refused() {
        let b = SegmentHeader {
            codec: *b"cmd1",
            index: 0,
            first_seq: 1,
        }
        .encode();
        let mut m = b;
        m[0] ^= 1;
        assert_eq!(SegmentHeader::decode(&m), Err(HeaderError::BadMagic));
        for at in 8..36 {
            let mut c = b;
            c[at] ^= 0x10;
            assert_eq!(SegmentHeader::decode(&c), Err(HeaderError::BadCrc), "{at}");
        }
    }

    #[test]
    fn record_frame_is_the_documented_one() {
        let mut out = [0u8; RECORD_HEADER_LEN + Command::MAX_LEN];
        let n = encode_record(&Command::Cancel { id: 5 }, 9, &mut out);
        assert_eq!(n, 16 + 9);
        assert_eq!(&out[0..4], &[9, 0, 0, 0]);
        assert_eq!(&out[8..16], &[9, 0, 0, 0, 0, 0, 0, 0]);
        let mut covered = out[0..4].to_vec();
        covered.extend_from_slice(&out[8..n]);
        assert_eq!(
            u32::from_le_bytes([out[4], out[5], out[6], out[7]]),
            crc32c::crc32c(&covered)
        );
    }

    /// Both paths of `record_crc` (one call over a stack copy, three calls for long
    /// payloads) against the CRC of the documented concatenation.
    #[test]
    fn record_crc_is_the_crc_of_len_seq_payload() {
        for n in [0usize, 1, 40, 116, 117, 300] {
            let payload: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
            let mut covered = (n as u32).to_le_bytes().to_vec();
            covered.extend_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes());
            covered.extend_from_slice(&payload);
            assert_eq!(
                record_crc(n as u32, 0x0102_0304_0506_0708, &payload),
                crc32c::crc32c(&covered),
                "{n}"
            );
        }
    }
}
