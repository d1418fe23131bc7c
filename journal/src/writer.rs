//! Appending to a journal on the calling thread: framing, the write buffer, segment
//! rollover and the fsync policy (group commit), with the durability point exposed.
//!
//! # The durability point
//! [`Writer::append`] returns the record's sequence number. Three counters say how far
//! the records have got:
//! - [`Writer::appended_seq`]: accepted by the writer (in its buffer or further);
//! - [`Writer::written_seq`]: handed to the kernel (`write` returned): survives the
//!   process dying (a panic, SIGKILL), not the machine;
//! - [`Writer::durable_seq`]: forced to stable storage (`fdatasync` returned): survives a
//!   power loss. Under `batch` and `every` the engine releases a command's events only
//!   once `durable_seq() >= seq`; `0` means nothing is durable yet.
//!
//! Under `every`, `append` returns only after the record is durable. Under `batch`, the
//! commit comes with the `records`-th record, or with the first `append` or
//! [`Writer::poll`] once the oldest record not yet durable is `micros` old: the caller
//! polls while idle (the engine's idle loop), so a quiet stream still commits on time.
//!
//! # What a crash can lose under `none`
//! Nothing is ever fsynced (except by an explicit [`Writer::sync`]), so:
//! - if the **process** dies, the records still in the user-space buffer: those after
//!   `written_seq()`, at most `buffer_bytes / (16 + Codec::MIN_LEN)` records (64 KiB /
//!   25 bytes = 2,621 commands with the default buffer). Records the kernel has are kept.
//! - if the **machine** dies (power, kernel panic), additionally every record the kernel
//!   had not yet written back: with Linux's defaults, about the last 30 s of records
//!   (`vm.dirty_expire_centisecs`), with no upper bound in principle, and the last
//!   segment may end torn (truncated, or zero-filled where the file grew). Recovery then
//!   gives the longest whole prefix with a [`crate::TornTail`] warning; which records
//!   were lost is not knowable from the journal.
//!
//! Under `batch` and `every`, a crash loses only records above `durable_seq()`, none of
//! which had its events released.
//!
//! # Segments
//! A record that would take the current segment past `segment_bytes` starts the next
//! segment (index + 1, its header naming the record's sequence number). Under `batch`
//! and `every` the old segment is committed first and the new file and its directory
//! entry are synced, so a durable record never sits behind a segment that might vanish.
//!
//! # Cost on the calling thread
//! An append frames the record into a buffer allocated at creation: no allocation (a
//! segment rollover, which opens the next file by name, is the exception; test
//! `journal_alloc`), but the system calls of `write` when the buffer fills and of
//! `fdatasync` at each commit, on this thread. [`crate::ThreadedWriter`] moves both off it.
//!
//! # Failure
//! The first I/O error is returned and the writer refuses everything afterwards
//! ([`JournalError::Failed`]): after a failed `fdatasync` the kernel may have dropped the
//! dirty pages, so nothing written since the last good commit can be called durable.
//!
//! One writer per directory: the writer takes no lock, so two writers on one journal
//! would interleave their records.

use crate::codec::Codec;
use crate::config::{FsyncPolicy, JournalConfig};
use crate::error::{JournalError, TornTail};
use crate::format::{
    encode_record, segment_path, SegmentHeader, FILE_HEADER_LEN, RECORD_HEADER_LEN,
};
use crate::reader::{list_segments, verify};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Appends records of codec `C` to a journal directory on the calling thread.
pub struct Writer<C> {
    dir: PathBuf,
    config: JournalConfig,
    file: File,
    path: PathBuf,
    segment_index: u64,
    /// Bytes of the current segment, buffered ones included.
    segment_len: u64,
    buf: Vec<u8>,
    scratch: Vec<u8>,
    next_seq: u64,
    written_seq: u64,
    durable_seq: u64,
    /// Records appended since the last commit.
    uncommitted: u32,
    /// When the oldest record not yet committed was appended (batch policy).
    oldest_uncommitted: Option<Instant>,
    batch_wait: Duration,
    syncs: u64,
    failed: bool,
    _codec: PhantomData<C>,
}

fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| JournalError::io("fsync directory", dir, e))
}

impl<C: Codec> Writer<C> {
    /// Starts a new journal in `dir` (created if missing; refused if it already holds
    /// segment files) at sequence number 1.
    pub fn create(dir: impl AsRef<Path>, config: JournalConfig) -> Result<Self, JournalError> {
        config.validate::<C>()?;
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| JournalError::io("create directory", &dir, e))?;
        if !list_segments(&dir)?.is_empty() {
            return Err(JournalError::Directory {
                path: dir,
                what: "already holds a journal (open it to append)",
            });
        }
        let (file, path) = Self::new_segment(&dir, &config, 0, 1)?;
        Ok(Self::with_file(
            dir,
            config,
            file,
            path,
            0,
            FILE_HEADER_LEN as u64,
            1,
        ))
    }

    /// Opens the journal in `dir` to append to it. The whole journal is verified first
    /// (corruption is the error); a torn tail is cut off (and synced) and returned, so the
    /// caller can report it. Appends continue at the sequence number after the last whole
    /// record; everything already in the journal is synced first and counts as written
    /// and durable.
    pub fn open(
        dir: impl AsRef<Path>,
        config: JournalConfig,
    ) -> Result<(Self, Option<TornTail>), JournalError> {
        config.validate::<C>()?;
        let dir = dir.as_ref().to_path_buf();
        let summary = verify::<C>(&dir)?;
        // What the journal holds counts as durable from here on, so make it so: a writer
        // under `none` (or a process killed before its commit) may have left dirty pages.
        for i in summary.first_segment..=summary.last_segment {
            let p = segment_path(&dir, i);
            File::open(&p)
                .and_then(|f| f.sync_data())
                .map_err(|e| JournalError::io("fdatasync", &p, e))?;
        }
        let index = summary.last_segment;
        let path = segment_path(&dir, index);
        let torn = summary.torn.clone();
        // A torn tail at offset 0 is a segment that never got a whole header.
        let header_torn = torn.as_ref().is_some_and(|t| t.offset == 0);
        let file = if header_torn {
            if summary.records == 0 && index > 0 && index == summary.first_segment {
                return Err(JournalError::Directory {
                    path: dir,
                    what: "its only segment has a torn header and an index above 0, so its \
                           first sequence number is unknown",
                });
            }
            Self::new_segment(&dir, &config, index, summary.next_seq)?.0
        } else {
            let file = OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(|e| JournalError::io("open segment", &path, e))?;
            if torn.is_some() {
                file.set_len(summary.last_segment_valid_len)
                    .and_then(|_| file.sync_all())
                    .map_err(|e| JournalError::io("truncate torn tail", &path, e))?;
            }
            file
        };
        let segment_len = if header_torn {
            FILE_HEADER_LEN as u64
        } else {
            summary.last_segment_valid_len
        };
        let w = Self::with_file(
            dir,
            config,
            file,
            path,
            index,
            segment_len,
            summary.next_seq,
        );
        Ok((w, torn))
    }

    fn with_file(
        dir: PathBuf,
        config: JournalConfig,
        file: File,
        path: PathBuf,
        segment_index: u64,
        segment_len: u64,
        next_seq: u64,
    ) -> Self {
        let batch_wait = match config.fsync {
            FsyncPolicy::Batch { micros, .. } => Duration::from_micros(micros as u64),
            _ => Duration::ZERO,
        };
        Writer {
            dir,
            buf: Vec::with_capacity(config.buffer_bytes),
            scratch: vec![0; RECORD_HEADER_LEN + C::MAX_LEN],
            config,
            file,
            path,
            segment_index,
            segment_len,
            next_seq,
            written_seq: next_seq - 1,
            durable_seq: next_seq - 1,
            uncommitted: 0,
            oldest_uncommitted: None,
            batch_wait,
            syncs: 0,
            failed: false,
            _codec: PhantomData,
        }
    }

    /// Creates segment `index` (truncating a torn one) with its header, synced with its
    /// directory entry unless the policy is `none`.
    fn new_segment(
        dir: &Path,
        config: &JournalConfig,
        index: u64,
        first_seq: u64,
    ) -> Result<(File, PathBuf), JournalError> {
        let path = segment_path(dir, index);
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| JournalError::io("create segment", &path, e))?;
        let header = SegmentHeader {
            codec: C::ID,
            index,
            first_seq,
        };
        file.write_all(&header.encode())
            .map_err(|e| JournalError::io("write segment header", &path, e))?;
        if config.fsync != FsyncPolicy::None {
            file.sync_data()
                .map_err(|e| JournalError::io("fdatasync", &path, e))?;
            sync_dir(dir)?;
        }
        // Reopen in append mode so every write lands at the end.
        drop(file);
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| JournalError::io("open segment", &path, e))?;
        Ok((file, path))
    }

    /// The configuration.
    pub fn config(&self) -> &JournalConfig {
        &self.config
    }

    /// The journal directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Index of the segment being written.
    pub fn segment_index(&self) -> u64 {
        self.segment_index
    }

    /// Sequence number of the last record accepted (0 before the first).
    pub fn appended_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Sequence number of the last record handed to the kernel: survives the process.
    pub fn written_seq(&self) -> u64 {
        self.written_seq
    }

    /// Sequence number of the last record on stable storage: survives the machine.
    /// The durability point: release a command's events once this reaches its sequence.
    pub fn durable_seq(&self) -> u64 {
        self.durable_seq
    }

    /// Number of `fdatasync` calls made for records so far (segment creation aside).
    pub fn syncs(&self) -> u64 {
        self.syncs
    }

    fn guard<T>(&mut self, r: Result<T, JournalError>) -> Result<T, JournalError> {
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    /// Appends one record and applies the fsync policy; returns its sequence number.
    pub fn append(&mut self, value: &C) -> Result<u64, JournalError> {
        let seq = self.push(value)?;
        match self.config.fsync {
            FsyncPolicy::None => {}
            FsyncPolicy::Every => self.commit()?,
            FsyncPolicy::Batch { .. } => {
                if self.batch_ready() {
                    self.commit()?;
                }
            }
        }
        Ok(seq)
    }

    /// Under `batch`: `records` records wait, or the oldest has waited `micros`.
    pub(crate) fn batch_ready(&self) -> bool {
        match self.config.fsync {
            FsyncPolicy::Batch { records, .. } => self.uncommitted >= records || self.batch_due(),
            _ => false,
        }
    }

    /// Frames and buffers one record without applying the fsync policy (the off-thread
    /// writer commits once per drained batch).
    pub(crate) fn push(&mut self, value: &C) -> Result<u64, JournalError> {
        if self.failed {
            return Err(JournalError::Failed);
        }
        let seq = self.next_seq;
        if seq == u64::MAX {
            return Err(JournalError::SequenceExhausted);
        }
        let n = encode_record(value, seq, &mut self.scratch);
        if self.segment_len + n as u64 > self.config.segment_bytes {
            let r = self.roll();
            self.guard(r)?;
        }
        if self.buf.len() + n > self.buf.capacity() {
            let r = self.write_out();
            self.guard(r)?;
        }
        self.buf.extend_from_slice(&self.scratch[..n]);
        self.segment_len += n as u64;
        self.next_seq += 1;
        self.uncommitted += 1;
        if self.oldest_uncommitted.is_none()
            && matches!(self.config.fsync, FsyncPolicy::Batch { .. })
        {
            self.oldest_uncommitted = Some(Instant::now());
        }
        Ok(seq)
    }

    fn batch_due(&self) -> bool {
        self.oldest_uncommitted
            .is_some_and(|t| t.elapsed() >= self.batch_wait)
    }

    /// Under `batch`, commits if the oldest record not yet durable has waited `micros`;
    /// call it while idle. Returns [`Writer::durable_seq`].
    pub fn poll(&mut self) -> Result<u64, JournalError> {
        if self.failed {
            return Err(JournalError::Failed);
        }
        if self.batch_due() {
            self.commit()?;
        }
        Ok(self.durable_seq)
    }

    /// Microseconds until [`Writer::poll`] would commit under `batch` (`None` when
    /// nothing waits or the policy is not `batch`).
    pub(crate) fn batch_wait_left(&self) -> Option<Duration> {
        self.oldest_uncommitted
            .map(|t| self.batch_wait.saturating_sub(t.elapsed()))
    }

    /// Hands every buffered record to the kernel (no fsync). Returns [`Writer::written_seq`].
    pub fn flush(&mut self) -> Result<u64, JournalError> {
        if self.failed {
            return Err(JournalError::Failed);
        }
        let r = self.write_out();
        self.guard(r)?;
        Ok(self.written_seq)
    }

    /// Writes and fsyncs everything appended, whatever the policy. Returns
    /// [`Writer::durable_seq`].
    pub fn sync(&mut self) -> Result<u64, JournalError> {
        if self.failed {
            return Err(JournalError::Failed);
        }
        self.commit()?;
        Ok(self.durable_seq)
    }

    fn write_out(&mut self) -> Result<(), JournalError> {
        if !self.buf.is_empty() {
            self.file
                .write_all(&self.buf)
                .map_err(|e| JournalError::io("write", &self.path, e))?;
            self.buf.clear();
        }
        self.written_seq = self.next_seq - 1;
        Ok(())
    }

    pub(crate) fn commit(&mut self) -> Result<(), JournalError> {
        let r = self.write_out().and_then(|_| {
            if self.durable_seq == self.written_seq {
                return Ok(());
            }
            self.syncs += 1;
            self.file
                .sync_data()
                .map_err(|e| JournalError::io("fdatasync", &self.path, e))
        });
        self.guard(r)?;
        self.durable_seq = self.written_seq;
        self.uncommitted = 0;
        self.oldest_uncommitted = None;
        Ok(())
    }

    fn roll(&mut self) -> Result<(), JournalError> {
        if self.config.fsync == FsyncPolicy::None {
            self.write_out()?;
        } else {
            self.commit()?;
        }
        let index = self.segment_index + 1;
        let (file, path) = Self::new_segment(&self.dir, &self.config, index, self.next_seq)?;
        self.file = file;
        self.path = path;
        self.segment_index = index;
        self.segment_len = FILE_HEADER_LEN as u64;
        Ok(())
    }

    /// Writes out everything and, unless the policy is `none`, syncs it; returns the
    /// last sequence number written. Dropping a writer does the same but cannot report
    /// an error.
    pub fn close(mut self) -> Result<u64, JournalError> {
        if self.failed {
            return Err(JournalError::Failed);
        }
        if self.config.fsync == FsyncPolicy::None {
            self.flush()?;
        } else {
            self.commit()?;
        }
        Ok(self.written_seq)
    }
}

impl<C> Drop for Writer<C> {
    fn drop(&mut self) {
        if !self.failed && !self.buf.is_empty() && self.file.write_all(&self.buf).is_ok() {
            self.buf.clear();
            if self.config.fsync != FsyncPolicy::None {
                let _ = self.file.sync_data();
            }
        }
    }
}
