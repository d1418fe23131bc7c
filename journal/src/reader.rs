//! Reading a journal back: every record of every segment in sequence order, each checked
//! (frame, CRC, sequence, payload), and the one thing a crash may leave, a torn final
//! record, told apart from corruption.
//!
//! # What is torn and what is corrupt
//! Only the end of the **last** segment may be torn, and only in one of these shapes
//! ([`TornReason`]): the file ends inside the segment header, inside a record's 16-byte
//! frame, or inside a record's payload (the frame present, its length and sequence the
//! expected ones); or every byte from some record boundary to the end is zero (the file
//! grew but its data never reached the disk). A reader reports it as a [`TornTail`] value
//! after the last whole record; [`crate::Writer::open`] cuts it off.
//!
//! Everything else is [`Corruption`], an error naming the segment file and the byte
//! offset of the damaged header or record: a bad CRC anywhere (also in the final record,
//! whole but wrong: under `batch` and `every` it may have been acknowledged), a length
//! outside the codec's range, a sequence gap, a header that does not decode or names
//! another codec or index, a segment index missing between two present ones, a segment
//! other than the last that ends inside a record. Nothing is ever skipped: the reader
//! stops at the first error and yields nothing after it.
//!
//! Speed: reading back and checking every record runs at 3-4 M records/s here (1 M
//! commands in about 0.3 s; `journal_throughput` example, "read back" column).
//!
//! Because a record's length is checked against the codec's maximum before anything is
//! skipped over, damage can pass for a torn tail only within the final
//! `16 + Codec::MAX_LEN` bytes of the journal (for commands: the final record).

use crate::codec::Codec;
use crate::error::{Corruption, CorruptionKind, JournalError, TornReason, TornTail};
use crate::format::{
    parse_segment_file_name, segment_path, RecordHeader, SegmentHeader, FILE_HEADER_LEN,
    RECORD_HEADER_LEN,
};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// The segment indices present in `dir`, in order, checked to be consecutive.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<u64>, JournalError> {
    let entries = std::fs::read_dir(dir).map_err(|e| JournalError::io("read directory", dir, e))?;
    let mut indices = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| JournalError::io("read directory", dir, e))?;
        if let Some(i) = entry.file_name().to_str().and_then(parse_segment_file_name) {
            indices.push(i);
        }
    }
    indices.sort_unstable();
    for pair in indices.windows(2) {
        if pair[1] != pair[0] + 1 {
            return Err(Corruption {
                file: segment_path(dir, pair[0] + 1),
                offset: 0,
                kind: CorruptionKind::MissingSegment,
            }
            .into());
        }
    }
    Ok(indices)
}

/// One journaled value and where it sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<C> {
    /// Its sequence number.
    pub seq: u64,
    /// The value.
    pub value: C,
}

/// What a full read found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadSummary {
    /// Index of the first segment present.
    pub first_segment: u64,
    /// Index of the last segment.
    pub last_segment: u64,
    /// Sequence number of the first record the journal holds or would hold.
    pub first_seq: u64,
    /// Sequence number the next appended record gets (last whole record's plus one).
    pub next_seq: u64,
    /// Whole records read.
    pub records: u64,
    /// Bytes of the last segment up to the end of its last whole record (or header).
    pub last_segment_valid_len: u64,
    /// The torn tail, if the last segment ends in one.
    pub torn: Option<TornTail>,
}

impl ReadSummary {
    /// Sequence number of the last whole record, if there is one.
    pub fn last_seq(&self) -> Option<u64> {
        (self.records > 0).then(|| self.next_seq - 1)
    }
}

/// Bytes a segment is read in at a time: records are checked on slices of this block,
/// not copied out one by one (see [`SegmentScanner`]). 128 KiB and 256 KiB measured no
/// better (recover of 10 M commands, alternating runs on the loaded 2-core machine).
const BLOCK_BYTES: usize = 1 << 20;

/// Reads one segment file, a block at a time: `block[pos..end]` holds the file's bytes
/// from `offset` on. Recovery checks every record before a snapshot and reads every one
/// after it, so this is its inner loop: one `read` per block instead of two buffered
/// copies per record, and the CRC runs on the block in place (recover of 10 M commands:
/// `flowmatch_harness::journaled::recovery`'s docs and `bench-results/journal/`).
struct SegmentScanner {
    path: PathBuf,
    file: File,
    len: u64,
    /// File offset of the next byte not yet consumed (`block[pos]`).
    offset: u64,
    /// File offset up to which the file has been read into `block` (`block[end]`).
    read_to: u64,
    block: Vec<u8>,
    pos: usize,
    end: usize,
    is_last: bool,
}

/// One step of a scan.
enum Step {
    /// A whole record; its payload is `block[payload_at..payload_at + payload_len]`.
    Record {
        seq: u64,
        payload_at: usize,
        payload_len: usize,
    },
    End,
    Torn(TornTail),
}

impl SegmentScanner {
    fn corrupt(&self, offset: u64, kind: CorruptionKind) -> JournalError {
        Corruption {
            file: self.path.clone(),
            offset,
            kind,
        }
        .into()
    }

    /// Makes at least `want` bytes from `offset` available in `block[pos..end]` (fewer
    /// only where the file ends first): what is left of the block moves to its front and
    /// the file fills the rest.
    fn fill(&mut self, want: usize) -> Result<(), JournalError> {
        let want = want.min((self.len - self.offset) as usize);
        if self.end - self.pos >= want {
            return Ok(());
        }
        self.block.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        if self.block.len() < want {
            self.block.resize(want, 0);
        }
        while self.end < want {
            let room = (self.block.len() - self.end).min((self.len - self.read_to) as usize);
            let n = match self.file.read(&mut self.block[self.end..self.end + room]) {
                Ok(0) => {
                    let e = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
                    return Err(JournalError::io("read segment", &self.path, e));
                }
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(JournalError::io("read segment", &self.path, e)),
            };
            self.end += n;
            self.read_to += n as u64;
        }
        Ok(())
    }

    /// Consumes `n` available bytes.
    fn consume(&mut self, n: usize) {
        debug_assert!(self.end - self.pos >= n);
        self.pos += n;
        self.offset += n as u64;
    }

    /// True when every byte from `offset` to the end of the file is zero. Consumes
    /// nothing: what is past the block is read into a scratch chunk and the file's
    /// position put back (the error path only: a zero-filled tail or a bad header).
    fn rest_is_zero(&mut self) -> Result<bool, JournalError> {
        if self.block[self.pos..self.end].iter().any(|&b| b != 0) {
            return Ok(false);
        }
        let io = |e| JournalError::io("read segment", &self.path, e);
        let mut chunk = [0u8; 4096];
        let mut at = self.read_to;
        let mut zero = true;
        while zero && at < self.len {
            let n = ((self.len - at) as usize).min(chunk.len());
            self.file.read_exact(&mut chunk[..n]).map_err(io)?;
            zero = chunk[..n].iter().all(|&b| b == 0);
            at += n as u64;
        }
        self.file.seek(SeekFrom::Start(self.read_to)).map_err(io)?;
        Ok(zero)
    }

    fn torn(&self, offset: u64, reason: TornReason) -> Step {
        Step::Torn(TornTail {
            file: self.path.clone(),
            offset,
            bytes: self.len - offset,
            reason,
        })
    }

    /// Opens a segment and reads its header. `Ok(Err(torn))` when the header itself is
    /// the torn tail.
    fn open<C: Codec>(
        dir: &Path,
        index: u64,
        is_last: bool,
    ) -> Result<Result<(SegmentScanner, SegmentHeader), TornTail>, JournalError> {
        let path = segment_path(dir, index);
        let f = File::open(&path).map_err(|e| JournalError::io("open segment", &path, e))?;
        let len = f
            .metadata()
            .map_err(|e| JournalError::io("stat segment", &path, e))?
            .len();
        let mut s = SegmentScanner {
            path,
            file: f,
            len,
            offset: 0,
            read_to: 0,
            block: vec![0; (len as usize).min(BLOCK_BYTES)],
            pos: 0,
            end: 0,
            is_last,
        };
        if len < FILE_HEADER_LEN as u64 {
            if !is_last {
                return Err(s.corrupt(0, CorruptionKind::TruncatedBeforeTail { present: len }));
            }
            return Ok(Err(TornTail {
                file: s.path,
                offset: 0,
                bytes: len,
                reason: TornReason::PartialSegmentHeader,
            }));
        }
        s.fill(FILE_HEADER_LEN)?;
        let mut b = [0u8; FILE_HEADER_LEN];
        b.copy_from_slice(&s.block[s.pos..s.pos + FILE_HEADER_LEN]);
        let header = match SegmentHeader::decode(&b) {
            Ok(h) => {
                s.consume(FILE_HEADER_LEN);
                h
            }
            Err(e) => {
                if is_last && s.rest_is_zero()? {
                    return Ok(Err(TornTail {
                        file: s.path,
                        offset: 0,
                        bytes: len,
                        reason: TornReason::ZeroFilled,
                    }));
                }
                return Err(s.corrupt(0, CorruptionKind::Header(e)));
            }
        };
        if header.codec != C::ID {
            return Err(s.corrupt(
                0,
                CorruptionKind::CodecMismatch {
                    expected: C::ID,
                    found: header.codec,
                },
            ));
        }
        if header.index != index {
            return Err(s.corrupt(
                0,
                CorruptionKind::IndexMismatch {
                    name: index,
                    header: header.index,
                },
            ));
        }
        if header.first_seq == 0 {
            return Err(s.corrupt(
                0,
                CorruptionKind::SequenceGap {
                    expected: 1,
                    found: 0,
                },
            ));
        }
        Ok(Ok((s, header)))
    }

    /// Checks the next record's frame and payload in place, everything but the
    /// payload's decoding.
    #[inline]
    fn next<C: Codec>(&mut self, expected_seq: u64) -> Result<Step, JournalError> {
        let at = self.offset;
        let remaining = self.len - at;
        if remaining == 0 {
            return Ok(Step::End);
        }
        self.fill(RECORD_HEADER_LEN + C::MAX_LEN)?;
        let frame_present = remaining.min(RECORD_HEADER_LEN as u64) as usize;
        let mut frame = [0u8; RECORD_HEADER_LEN];
        frame[..frame_present].copy_from_slice(&self.block[self.pos..self.pos + frame_present]);
        if self.is_last && frame[..frame_present].iter().all(|&b| b == 0) && self.rest_is_zero()? {
            return Ok(self.torn(at, TornReason::ZeroFilled));
        }
        let h = RecordHeader::decode(&frame);
        if frame_present >= 4 && !(C::MIN_LEN..=C::MAX_LEN).contains(&(h.len as usize)) {
            return Err(self.corrupt(at, CorruptionKind::BadLength { len: h.len }));
        }
        if frame_present < RECORD_HEADER_LEN {
            if self.is_last {
                return Ok(self.torn(at, TornReason::PartialRecordHeader));
            }
            return Err(self.corrupt(
                at,
                CorruptionKind::TruncatedBeforeTail { present: remaining },
            ));
        }
        if h.seq != expected_seq {
            return Err(self.corrupt(
                at,
                CorruptionKind::SequenceGap {
                    expected: expected_seq,
                    found: h.seq,
                },
            ));
        }
        let n = h.len as usize;
        if remaining < (RECORD_HEADER_LEN + n) as u64 {
            if self.is_last {
                return Ok(self.torn(at, TornReason::PartialPayload));
            }
            return Err(self.corrupt(
                at,
                CorruptionKind::TruncatedBeforeTail { present: remaining },
            ));
        }
        // `fill` made 16 + MAX_LEN bytes available, or all that remain: the whole record.
        let payload_at = self.pos + RECORD_HEADER_LEN;
        let payload = &self.block[payload_at..payload_at + n];
        let computed = RecordHeader::expected_crc(&frame, payload);
        if computed != h.crc {
            return Err(self.corrupt(
                at,
                CorruptionKind::BadCrc {
                    stored: h.crc,
                    computed,
                },
            ));
        }
        self.consume(RECORD_HEADER_LEN + n);
        Ok(Step::Record {
            seq: h.seq,
            payload_at,
            payload_len: n,
        })
    }
}

/// Reads a journal's records in sequence order across its segments.
///
/// [`Reader::next_record`] (or the iterator) yields each whole record; after the last
/// one, [`Reader::summary`] tells what was read and whether the journal ended in a torn
/// tail. The first error ends the read: nothing after it is yielded.
pub struct Reader<C> {
    dir: PathBuf,
    indices: Vec<u64>,
    /// Position in `indices` of the segment being read.
    at: usize,
    scanner: Option<SegmentScanner>,
    next_seq: Option<u64>,
    first_seq: Option<u64>,
    records: u64,
    last_valid_len: u64,
    torn: Option<TornTail>,
    /// Where the last record's payload is in the scanner's block.
    payload: std::ops::Range<usize>,
    finished: bool,
    _codec: PhantomData<C>,
}

impl<C: Codec> Reader<C> {
    /// Opens the journal in `dir`: lists its segments and checks they are consecutive.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, JournalError> {
        let dir = dir.as_ref().to_path_buf();
        let indices = list_segments(&dir)?;
        if indices.is_empty() {
            return Err(Corruption {
                file: dir,
                offset: 0,
                kind: CorruptionKind::NoSegments,
            }
            .into());
        }
        Ok(Reader {
            dir,
            indices,
            at: 0,
            scanner: None,
            next_seq: None,
            first_seq: None,
            records: 0,
            last_valid_len: 0,
            torn: None,
            payload: 0..0,
            finished: false,
            _codec: PhantomData,
        })
    }

    /// The next whole record, `Ok(None)` at the end of the journal (torn tail or not), or
    /// the corruption that stops the read.
    pub fn next_record(&mut self) -> Result<Option<Record<C>>, JournalError> {
        if self.finished {
            return Ok(None);
        }
        let r = self.advance();
        if !matches!(r, Ok(Some(_))) {
            self.finished = true;
        }
        r
    }

    /// The next whole record's sequence number, its frame and CRC checked but its
    /// payload not decoded (the bytes are [`Reader::last_payload`]); `Ok(None)` at the
    /// end. For a caller that only needs to know the records are whole and chain them
    /// (recovery's scan up to a snapshot): the CRC vouches the bytes are the ones the
    /// writer wrote, and the writer writes only encodings. [`Reader::next_record`] and
    /// this may be mixed.
    pub fn next_checked(&mut self) -> Result<Option<u64>, JournalError> {
        if self.finished {
            return Ok(None);
        }
        let r = self.advance_raw();
        if !matches!(r, Ok(Some(_))) {
            self.finished = true;
        }
        r.map(|o| o.map(|(seq, _)| seq))
    }

    fn advance(&mut self) -> Result<Option<Record<C>>, JournalError> {
        let Some((seq, at)) = self.advance_raw()? else {
            return Ok(None);
        };
        match C::decode(self.last_payload()) {
            Ok(value) => Ok(Some(Record { seq, value })),
            Err(d) => {
                let scanner = self.scanner.as_ref().expect("a record was just read");
                Err(scanner.corrupt(at, CorruptionKind::Payload(d)))
            }
        }
    }

    /// The next record's sequence number and offset, everything but its payload's
    /// decoding checked.
    fn advance_raw(&mut self) -> Result<Option<(u64, u64)>, JournalError> {
        loop {
            if self.scanner.is_none() {
                if self.at >= self.indices.len() {
                    return Ok(None);
                }
                let index = self.indices[self.at];
                let is_last = self.at + 1 == self.indices.len();
                match SegmentScanner::open::<C>(&self.dir, index, is_last)? {
                    Err(torn) => {
                        self.last_valid_len = 0;
                        self.torn = Some(torn);
                        self.at += 1;
                        return Ok(None);
                    }
                    Ok((scanner, header)) => {
                        let expected = *self.next_seq.get_or_insert(header.first_seq);
                        if header.first_seq != expected {
                            return Err(scanner.corrupt(
                                0,
                                CorruptionKind::SequenceGap {
                                    expected,
                                    found: header.first_seq,
                                },
                            ));
                        }
                        self.first_seq.get_or_insert(header.first_seq);
                        self.last_valid_len = FILE_HEADER_LEN as u64;
                        self.scanner = Some(scanner);
                    }
                }
            }
            let expected = self.next_seq.expect("set when the first segment opened");
            let scanner = self.scanner.as_mut().expect("opened above");
            match scanner.next::<C>(expected)? {
                Step::Record {
                    seq,
                    payload_at,
                    payload_len,
                } => {
                    let at = scanner.offset - (RECORD_HEADER_LEN + payload_len) as u64;
                    self.payload = payload_at..payload_at + payload_len;
                    self.last_valid_len = scanner.offset;
                    self.records += 1;
                    self.next_seq =
                        Some(seq.checked_add(1).ok_or(JournalError::SequenceExhausted)?);
                    return Ok(Some((seq, at)));
                }
                Step::End => {
                    self.payload = 0..0;
                    self.scanner = None;
                    self.at += 1;
                }
                Step::Torn(t) => {
                    self.torn = Some(t);
                    self.scanner = None;
                    self.at += 1;
                    return Ok(None);
                }
            }
        }
    }

    /// The payload bytes of the record [`Reader::next_record`] or [`Reader::next_checked`]
    /// returned last (checked by its CRC), for a caller that hashes what is on disk
    /// without encoding it again: valid until the next call (empty once the read moved
    /// past that record's segment).
    pub fn last_payload(&self) -> &[u8] {
        match &self.scanner {
            Some(s) => &s.block[self.payload.clone()],
            None => &[],
        }
    }

    /// The torn tail found so far (known once the read has reached the end).
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn.as_ref()
    }

    /// What was read so far; complete once [`Reader::next_record`] has returned `Ok(None)`.
    /// A journal whose only segment has a torn header holds no record and starts at
    /// sequence 1 when its index is 0.
    pub fn summary(&self) -> ReadSummary {
        let first_seq = self.first_seq.unwrap_or(1);
        ReadSummary {
            first_segment: self.indices[0],
            last_segment: *self.indices.last().expect("open refuses an empty journal"),
            first_seq,
            next_seq: self.next_seq.unwrap_or(first_seq),
            records: self.records,
            last_segment_valid_len: self.last_valid_len,
            torn: self.torn.clone(),
        }
    }
}

impl<C: Codec> Iterator for Reader<C> {
    type Item = Result<Record<C>, JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// Reads the whole journal in `dir`, checking every record, and returns what it found
/// (with the torn tail, if any); the first corruption is the error.
pub fn verify<C: Codec>(dir: impl AsRef<Path>) -> Result<ReadSummary, JournalError> {
    let mut r = Reader::<C>::open(dir)?;
    while r.next_record()?.is_some() {}
    Ok(r.summary())
}
