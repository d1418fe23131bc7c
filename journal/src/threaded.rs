//! Appending to a journal off the calling thread: records go by value through the core's
//! SPSC ring to a journal thread that owns a [`Writer`] and publishes the durability
//! point in atomics. The calling (matching) thread then never makes a system call for the
//! journal: an append is a ring push.
//!
//! Group commit: the journal thread takes everything the ring holds, writes it, and then applies the policy once for the whole batch. Under `every` it
//! commits after each drained batch, which keeps the promise (no record counts as durable
//! before its `fdatasync`) with one sync per batch instead of per record. Under `batch`
//! it commits when `records` records wait or the oldest has waited `micros` (checked
//! after each drained batch and while idle); while an `fdatasync` runs, records pile up
//! in the ring and the next commit takes them all, so a commit may cover more than
//! `records` records but none waits longer than it would for a commit of exactly
//! `records` (they were waiting in the ring for the sync in progress either way). Under
//! `none`, the thread hands its buffer to the kernel when it fills, and while the ring is
//! dry once its oldest record has waited [`NONE_FLUSH_AFTER`] (1 ms), so a dying process
//! loses at most the ring's contents and the thread's buffer.
//!
//! While the ring is empty the thread sleeps rather than spin (the machine this runs on
//! has two cores): in steps of at most 20 µs under `every`, whose every drained batch is
//! a commit that some command's events wait for, and of at most 200 µs under `batch` and
//! `none`, never past a batch or flush deadline. So under `batch` a record waits for its
//! commit at most `micros` after the thread takes it from the ring, plus the idle step
//! it arrived in (200 µs), plus an `fdatasync` already running.
//!
//! # Measured: the idle step and the default group
//! `/usr/bin/time` over `flowmatch replay` of `scripts/bench-journal.sh`'s 10 M-command
//! stream, 2026-12-02, AMD EPYC, two cores, load ~1. With 20 µs steps, and under `none` a
//! `write` whenever the ring ran dry, the journal thread slept and wrote ~10^5 times per
//! 10 M commands: system time 1.1-1.5 s under `none` and 2.8-3.0 s under the old default
//! `batch` (256 records / 1 ms) against 0.2-0.3 s without a journal; with 256 records a
//! commit started as soon as the previous `fdatasync` returned (a sync here outlasts 256
//! records' arrival), ~1,200 syncs per million commands. With 200 µs steps, the 1 ms
//! flush under `none` and a default group of 4,096 records / 1 ms (a commit at most every
//! millisecond at this rate): 0.6-0.9 s under `none` and 0.7-1.6 s under `batch`. The
//! side-by-side throughput is in `bench-results/journal/`.
//!
//! # Measured: calling thread against off-thread
//! `cargo run --release -p flowmatch-journal --example journal_throughput -- 1000000 5000`
//! on the commit that adds this table, 2026-12-01, two cores at load average 11-12
//! (other builds running: the means carry preemption; the percentiles are the signal).
//! One seeded mixed stream (60% limit orders, 25% cancels, 15% replaces) applied to a
//! `FastBook` with the journal append on the matching thread; default config (64 MiB
//! segments, 64 KiB buffer, batch = 256 records / 1000 µs: the default then), ring of 65,536. "All
//! durable" counts until the last record is durable and the writer closed; "release" is
//! append to `durable_seq() >= seq` as the engine would see it.
//!
//! | writer | fsync | Mcmd/s all durable | matching thread ns p50 / p99 / p99.9 | release µs p50 / p99 | fdatasyncs | bytes/cmd |
//! | --- | --- | --- | --- | --- | --- | --- |
//! | no journal | - | 1.08-1.31 | 160-170 / 541-571 / 3456-4379 | - | 0 | - |
//! | calling thread | none | 0.94 | 201 / 631 / 5340 | - | 1 (the bench's final sync) | 42.4 |
//! | calling thread | batch | 0.06 | 401 / 1863 / 7,688,436 | 1458 / 16909 | 3910 | 42.4 |
//! | calling thread | every (5,000 cmds) | < 0.01 | 212,766 / 8,155,997 / 12,964,782 | 213 / 8156 | 5000 | 42.5 |
//! | off-thread ring | none | 0.69 | 170 / 601 / 3847 | - | 0 | 42.4 |
//! | off-thread ring | batch | 0.55 | 181 / 602 / 4468 | 21998 / 76784 | 207 | 42.4 |
//! | off-thread ring | every (5,000 cmds) | 0.24 | 70 / 191 / 370 | 20129 / 20417 | 1 | 42.5 |
//!
//! An `fdatasync` here costs 0.2-10 ms (p50 213 µs, p99 8 ms under `every`). On the calling
//! thread each one stops matching; off it, matching never waits for the disk, and a group
//! commit takes everything queued meanwhile, so `batch` does one sync per ~4,800 records
//! instead of per 256. The off-thread `batch` release latency (22 ms p50) is queueing
//! behind syncs on this busy disk, with the ring full; a faster disk shortens it. Chosen:
//! the off-thread writer for `batch`/`every`; for `none` the calling-thread writer costs
//! less here (no second thread competing for two busy cores).

use crate::codec::Codec;
use crate::config::FsyncPolicy;
use crate::error::JournalError;
use crate::writer::Writer;
use flowmatch_core::ingress::spsc::{self, Consumer, Producer};
use flowmatch_core::ingress::Full;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest idle sleep under `every`: each drained batch is a commit that events wait for.
const IDLE_SLEEP_EVERY: Duration = Duration::from_micros(20);
/// Longest idle sleep under `batch` and `none` (the module docs give the measurement).
const IDLE_SLEEP_GROUPED: Duration = Duration::from_micros(200);
/// Under `none`: how long the oldest record may wait in the thread's buffer, while the
/// ring is dry, before the buffer goes to the kernel.
pub const NONE_FLUSH_AFTER: Duration = Duration::from_millis(1);

struct Shared {
    written: AtomicU64,
    durable: AtomicU64,
    syncs: AtomicU64,
    failed: AtomicBool,
    stop: AtomicBool,
}

/// What [`ThreadedWriter::close`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closed {
    /// Sequence number of the last record written.
    pub last_seq: u64,
    /// `fdatasync` calls made for records.
    pub syncs: u64,
}

/// The calling thread's end of an off-thread journal writer.
pub struct ThreadedWriter<C: Codec + Copy + Send + 'static> {
    tx: Producer<C>,
    next_seq: u64,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<Result<u64, JournalError>>>,
}

impl<C: Codec + Copy + Send + 'static> ThreadedWriter<C> {
    /// Moves `writer` to a new journal thread fed by a ring of at least `ring_capacity`
    /// records (`1..=2^24`).
    pub fn spawn(writer: Writer<C>, ring_capacity: usize) -> Result<Self, JournalError> {
        if !(1..=1 << 24).contains(&ring_capacity) {
            return Err(crate::config::ConfigError::OutOfRange {
                field: "ring_capacity",
                value: ring_capacity as u64,
                min: 1,
                max: 1 << 24,
            }
            .into());
        }
        let (tx, rx) = spsc::channel(ring_capacity);
        let next_seq = writer.appended_seq() + 1;
        let shared = Arc::new(Shared {
            written: AtomicU64::new(writer.written_seq()),
            durable: AtomicU64::new(writer.durable_seq()),
            syncs: AtomicU64::new(0),
            failed: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || {
                let r = journal_thread(writer, rx, &s);
                if r.is_err() {
                    s.failed.store(true, Ordering::Release);
                }
                r
            })
            .map_err(|e| JournalError::io("spawn journal thread", "", e))?;
        Ok(ThreadedWriter {
            tx,
            next_seq,
            shared,
            thread: Some(thread),
        })
    }

    /// Queues one record and returns its sequence number: a ring push, with no
    /// allocation, lock or system call (test `journal_alloc`). A full ring is
    /// back-pressure: the call waits (spinning, then yielding) until the journal thread
    /// makes room.
    pub fn append(&mut self, value: C) -> Result<u64, JournalError> {
        if self.shared.failed.load(Ordering::Acquire) {
            return Err(JournalError::Failed);
        }
        let mut v = value;
        let mut spins = 0u32;
        loop {
            match self.tx.try_push(v) {
                Ok(()) => break,
                Err(Full(back)) => {
                    v = back;
                    if self.shared.failed.load(Ordering::Acquire) {
                        return Err(JournalError::Failed);
                    }
                    spins += 1;
                    if spins < 64 {
                        std::hint::spin_loop();
                    } else {
                        std::thread::yield_now();
                    }
                }
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        Ok(seq)
    }

    /// Sequence number of the last record queued (0 before the first).
    pub fn appended_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Sequence number of the last record the journal thread handed to the kernel.
    pub fn written_seq(&self) -> u64 {
        self.shared.written.load(Ordering::Acquire)
    }

    /// Sequence number of the last record on stable storage: the durability point.
    pub fn durable_seq(&self) -> u64 {
        self.shared.durable.load(Ordering::Acquire)
    }

    /// Number of `fdatasync` calls the journal thread has made for records.
    pub fn syncs(&self) -> u64 {
        self.shared.syncs.load(Ordering::Acquire)
    }

    /// True once the journal thread has failed (the error comes back from `close`).
    pub fn failed(&self) -> bool {
        self.shared.failed.load(Ordering::Acquire)
    }

    /// Drains the ring, closes the writer (synced unless the policy is `none`) and
    /// returns the last sequence number written, or the journal thread's first error.
    pub fn close(mut self) -> Result<Closed, JournalError> {
        let last_seq = self.stop_and_join()?;
        Ok(Closed {
            last_seq,
            syncs: self.syncs(),
        })
    }

    fn stop_and_join(&mut self) -> Result<u64, JournalError> {
        self.shared.stop.store(true, Ordering::Release);
        match self.thread.take() {
            Some(t) => t.join().unwrap_or(Err(JournalError::Failed)),
            None => Err(JournalError::Failed),
        }
    }
}

impl<C: Codec + Copy + Send + 'static> Drop for ThreadedWriter<C> {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.stop_and_join();
        }
    }
}

fn journal_thread<C: Codec + Copy + Send>(
    mut w: Writer<C>,
    mut rx: Consumer<C>,
    shared: &Shared,
) -> Result<u64, JournalError> {
    let policy = w.config().fsync;
    let idle_sleep = match policy {
        FsyncPolicy::Every => IDLE_SLEEP_EVERY,
        FsyncPolicy::Batch { .. } | FsyncPolicy::None => IDLE_SLEEP_GROUPED,
    };
    // Under `none`: when the oldest record not yet handed to the kernel was taken.
    let mut unflushed_since: Option<Instant> = None;
    loop {
        let mut err = None;
        // Everything visible: a commit covers all that piled up during the previous one.
        let n = rx.pop_batch(usize::MAX, |v| {
            if err.is_none() {
                err = w.push(&v).err();
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        if n > 0 {
            if policy == FsyncPolicy::None && unflushed_since.is_none() {
                unflushed_since = Some(Instant::now());
            }
            let commit = match policy {
                FsyncPolicy::Every => true,
                FsyncPolicy::Batch { .. } => w.batch_ready(),
                FsyncPolicy::None => false,
            };
            if commit {
                w.commit()?;
            }
        } else {
            // Idle: a stop request is honoured only once the ring is empty.
            let stopping = shared.stop.load(Ordering::Acquire) && rx.is_empty();
            if stopping {
                if policy == FsyncPolicy::None {
                    w.flush()?;
                } else {
                    w.commit()?;
                }
                shared.syncs.store(w.syncs(), Ordering::Release);
                let last = w.close()?;
                shared.written.store(last, Ordering::Release);
                if policy != FsyncPolicy::None {
                    shared.durable.store(last, Ordering::Release);
                }
                return Ok(last);
            }
            match policy {
                FsyncPolicy::None => {
                    if unflushed_since.is_some_and(|t| t.elapsed() >= NONE_FLUSH_AFTER) {
                        w.flush()?;
                        unflushed_since = None;
                    }
                }
                FsyncPolicy::Batch { .. } => {
                    w.poll()?;
                }
                FsyncPolicy::Every => {}
            }
        }
        shared.written.store(w.written_seq(), Ordering::Release);
        shared.durable.store(w.durable_seq(), Ordering::Release);
        shared.syncs.store(w.syncs(), Ordering::Release);
        if n == 0 {
            let deadline = match policy {
                FsyncPolicy::None => {
                    unflushed_since.map(|t| NONE_FLUSH_AFTER.saturating_sub(t.elapsed()))
                }
                _ => w.batch_wait_left(),
            };
            let nap = deadline.map_or(idle_sleep, |left| left.min(idle_sleep));
            if nap.is_zero() {
                std::hint::spin_loop();
            } else {
                std::thread::sleep(nap);
            }
        }
    }
}
