//! `flowmatch replay --journal DIR`: the replay with every command journaled before its
//! events are released, optional snapshots, and `--resume` to continue a journal after a
//! crash.
//!
//! # The durability point
//! Each command is appended to the journal (sequence number = its position in the
//! stream, the number its event lines carry), then applied. The journal is written off
//! the replay thread under every policy ([`flowmatch_journal::ThreadedWriter`]: an
//! append is a ring push). Under `--fsync batch` and `every` the command's event lines
//! are held until its record is durable (`fdatasync` returned): every event line a
//! reader of the output has seen belongs to a command that a recovery brings back.
//! Lines are released in chunks of at least 64 KiB (at most [`MAX_HELD`] bytes held;
//! past that the replay waits for the disk). Under `none` events are released at once:
//! a killed process loses the records still in the ring (at most 65,536) and in the
//! journal thread's 64 KiB buffer, a machine crash whatever the kernel had not written
//! back (see `flowmatch_journal::writer`).
//!
//! # Measured: where the journal's cost went (issue 13's 10% bar)
//! `valgrind --tool=callgrind --separate-threads=yes target/debug/flowmatch replay
//! --input cmds.txt [--journal J --fsync P]` (test profile, opt-level 2), 200,000
//! commands from `scripts/bench-journal.sh`'s generator; instructions per command on the
//! replay (matching) thread, 2026-12-02. Instruction counts, not time: the machine was
//! shared at load 20+.
//!
//! | build | plain | `none` | `batch` | journal thread (`none` / `batch`) |
//! | --- | --- | --- | --- | --- |
//! | before (22da06e) | 3,811 | 4,865 (+27.7%, writer on this thread) | 4,475 (+17.4%) | - / 577 |
//! | after (ebfa381) | 3,811 | 4,049 (+6.2%) | 4,177 (+9.6%) | 400 / 397 |
//! | after (f6445c1, release attempts) | 3,811 | 4,049 | 4,064 (+6.6%) | 400 / 397 |
//!
//! Of the "after" extra, ~170 instructions per command here are the state hash printed
//! at the end (34 M instructions of SHA-256 over this stream's final book: fixed per run,
//! not per command; 17 per command at 2 M commands): without it `none` is +1.8% and
//! `batch` +2.2% (+5.1% at ebfa381). Of `batch`'s, ~90 per command were release attempts re-scanning the
//! held marks while the durability point had not moved; they are now skipped (an attempt
//! only when it moved).
//!
//! The extra work found and removed: the snapshot chain (a second encode and CRC of
//! every record, ~320 instructions, on the replay thread) was kept with snapshots off;
//! the record CRC took three calls into the CRC crate (one now, [`flowmatch_journal::format::record_crc`]);
//! released event text was moved to the front of the held buffer at every release (now
//! skipped over, compacted once 1 MiB is behind). Left on the replay thread: the ring
//! push (~70), the held-text marks (~20) and, once at the end, the state hash (SHA-256
//! of the book: fixed, not per command). `none` moved off the thread too: on the quiet
//! machine (bench-results/journal, 22da06e) the off-thread `every` (6.00 s) beat the
//! calling-thread `none` (7.19 s) on 10 M commands, and on this thread `none` costs the
//! encode, CRC, copy and `write` calls of every record.
//!
//! # A directory that already holds a journal
//! Refused unless `--resume` is given. With `--resume` the journal is verified (a torn
//! tail is cut off, with a warning; corruption exits 2), its state recovered (snapshot +
//! tail), and the input's first `last_seq` commands are skipped: each is compared with
//! the journal's record of the same sequence number (a difference exits 2: the input is
//! not the journaled stream), the rest are journaled and applied from `last_seq + 1`. So
//! `replay --resume` on the same input after a crash continues exactly where the journal
//! ends, nothing applied twice. The settings (book, policy, limits) must be the
//! journal's. `--resume` on a missing or empty directory starts a new journal.
//!
//! # Snapshots
//! `--snapshot-every N` writes a snapshot after every command whose sequence number is a
//! multiple of N, once that command's record is durable (under `none`: written), so a
//! snapshot is never ahead of its journal. The replay is single-threaded, so a snapshot
//! stops it for the whole time: waiting for the record, serializing, writing and syncing;
//! the report on stderr gives the longest stop and its parts.
//!
//! With snapshots on, the replay also keeps the chain CRC that ties a snapshot to its
//! journal; with them off it does not. (A resting order's time in force and STP mode,
//! which a snapshot must hold, come from the book itself.) An
//! instrument journal (`--instruments`) snapshots every book (`journaled::instruments`).
//!
//! # Report
//! At the end, stderr gets one line: the journal's last sequence number and the state
//! hash (`flowmatch_journal::state_hash`), and one per snapshot summary.

use super::journaled::{self, Chain, Failure, JournaledState, NewBook, Settings, SingleBook};
use super::replay::{Args, OnClosedOutput};
use crate::text::ReadError;
use flowmatch_core::instrument::BookStorage;
use flowmatch_journal::{
    Codec, FsyncPolicy, JournalConfig, JournalError, Reader, ThreadedWriter, Writer,
};
use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Most event bytes held back waiting for durability before the replay waits.
pub const MAX_HELD: usize = 8 << 20;
/// Released text behind the held text that makes the buffer compact.
const COMPACT_AT: usize = 1 << 20;
/// Largest `--snapshot-every`.
pub const MAX_SNAPSHOT_EVERY: u64 = 1 << 40;
/// A release mark every this many bytes of held event text.
const MARK_BYTES: usize = 4096;
/// Write released events once this many bytes are held.
const CHUNK: usize = 1 << 16;
/// Ring between the replay and the journal thread.
const RING: usize = 1 << 16;

/// The journal writer, off the replay thread under every policy (see the module docs
/// for the measurement behind that).
struct Journal<C: Codec + Copy + Send + 'static> {
    w: ThreadedWriter<C>,
    /// Under `none` a record counts once written (its events are not held).
    none: bool,
}

impl<C: Codec + Copy + Send + 'static> Journal<C> {
    fn append(&mut self, record: &C) -> Result<u64, JournalError> {
        self.w.append(*record)
    }

    /// Last record whose events may be released.
    fn released(&self) -> u64 {
        self.w.durable_seq()
    }

    /// Waits until record `seq` is durable (under `none`: written, so a snapshot taken
    /// after it is never ahead of its journal).
    fn wait_for(&mut self, seq: u64) -> Result<(), JournalError> {
        loop {
            let at = if self.none {
                self.w.written_seq()
            } else {
                self.w.durable_seq()
            };
            if at >= seq {
                return Ok(());
            }
            if self.w.failed() {
                return Err(JournalError::Failed);
            }
            std::thread::sleep(Duration::from_micros(50));
        }
    }

    fn close(self) -> Result<u64, JournalError> {
        self.w.close().map(|c| c.last_seq)
    }
}

/// Event text waiting for its commands to be durable, with marks saying which sequence
/// number ends where. Released text is only skipped over (`start`), and the buffer is
/// compacted once that much is behind it, so a release copies nothing but what it writes.
struct Held {
    buf: String,
    /// Bytes before this have been written (or discarded).
    start: usize,
    marks: VecDeque<(u64, usize)>,
    last_mark: usize,
}

impl Held {
    /// Bytes held.
    fn len(&self) -> usize {
        self.buf.len() - self.start
    }

    fn mark(&mut self, seq: u64) {
        if self.buf.len() - self.last_mark >= MARK_BYTES {
            self.marks.push_back((seq, self.buf.len()));
            self.last_mark = self.buf.len();
        }
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.marks.clear();
        self.last_mark = 0;
    }

    /// Writes the text of every command up to `released` (everything with `all`), once
    /// at least `min` bytes can go.
    fn release<W: Write + ?Sized>(
        &mut self,
        released: u64,
        out: &mut W,
        all: bool,
        min: usize,
    ) -> std::io::Result<()> {
        let upto = if all {
            self.buf.len()
        } else {
            let mut upto = self.start;
            for &(seq, at) in self.marks.iter() {
                if seq > released {
                    break;
                }
                upto = at;
            }
            upto
        };
        if upto - self.start < min.max(1) {
            return Ok(());
        }
        out.write_all(&self.buf.as_bytes()[self.start..upto])?;
        out.flush()?;
        while self.marks.front().is_some_and(|&(_, at)| at <= upto) {
            self.marks.pop_front();
        }
        self.start = upto;
        if self.start == self.buf.len() {
            self.clear();
        } else if self.start >= COMPACT_AT {
            self.buf.drain(..self.start);
            for m in self.marks.iter_mut() {
                m.1 -= self.start;
            }
            self.last_mark = self.last_mark.saturating_sub(self.start);
            self.start = 0;
        }
        Ok(())
    }
}

/// The journal's options, checked.
pub struct JournalOptions<'a> {
    /// The directory.
    pub dir: &'a Path,
    /// The fsync policy.
    pub fsync: FsyncPolicy,
    /// Snapshot period.
    pub snapshot_every: Option<u64>,
    /// Continue a journal.
    pub resume: bool,
}

/// Refuses a journal directory that is the input or holds it, or is not a directory.
pub fn check_dir(dir: &Path, input: &Path) -> Result<(), String> {
    crate::output::check_output_dir("--journal", dir)?;
    if input.as_os_str() == "-" {
        return Ok(());
    }
    if let (Ok(d), Ok(i)) = (dir.canonicalize(), input.canonicalize()) {
        if i.starts_with(&d) {
            return Err(format!(
                "--journal {} holds --input {}; give the journal its own directory",
                dir.display(),
                input.display()
            ));
        }
    }
    Ok(())
}

fn has_journal(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            e.file_name()
                .to_str()
                .and_then(flowmatch_journal::format::parse_segment_file_name)
                .is_some()
        })
    })
}

/// Replays `input` through a fresh or recovered book of type `B`, journaling into
/// `opts.dir`; with `--instruments` (`a.instruments`) the journal is an instrument
/// journal (prefixed lines, the table copied into the directory). Returns the exit code
/// (messages on stderr).
pub fn run<B: NewBook + BookStorage>(
    a: &Args,
    settings: Settings,
    opts: &JournalOptions,
    input: Box<dyn BufRead>,
    out: &mut dyn Write,
) -> u8 {
    let r = match &a.instruments {
        None => run_inner(
            a,
            settings,
            opts,
            None,
            || Ok(SingleBook::<B>::new(settings.config())),
            input,
            out,
        ),
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure::corrupt(format!("--instruments {}: {e}", path.display())))
            .and_then(|table| {
                run_inner(
                    a,
                    settings,
                    opts,
                    Some(&table),
                    || journaled::instrument_state::<B>(&settings, &table, path),
                    input,
                    out,
                )
            }),
    };
    match r {
        Ok(()) => 0,
        Err(f) => {
            eprintln!("flowmatch replay: {f}");
            f.code
        }
    }
}

fn run_inner<S: JournaledState>(
    a: &Args,
    settings: Settings,
    opts: &JournalOptions,
    table: Option<&str>,
    fresh: impl Fn() -> Result<S, Failure>,
    mut input: Box<dyn BufRead>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let dir = opts.dir;
    let config = JournalConfig {
        fsync: opts.fsync,
        ..JournalConfig::default()
    };
    let settings_text = settings.to_text();
    let (mut state, writer, start_seq, mut chain) = if has_journal(dir) {
        if !opts.resume {
            return Err(Failure::corrupt(format!(
                "--journal {} already holds a journal; pass --resume to continue it (the input's first commands must be the journaled ones) or give an empty directory",
                dir.display()
            )));
        }
        let on_disk = Settings::read(dir)?;
        if on_disk != settings {
            return Err(Failure::corrupt(format!(
                "--journal {}: the journal was written with other book settings:\n{}these options give:\n{settings_text}",
                dir.display(),
                on_disk.to_text()
            )));
        }
        let on_disk_table = journaled::instrument_table_text(dir)?;
        if on_disk_table.as_deref() != table {
            return Err(Failure::corrupt(match on_disk_table {
                Some(_) if table.is_some() => format!(
                    "--journal {}: the journal was written with another instrument table ({})",
                    dir.display(),
                    journaled::INSTRUMENTS_FILE
                ),
                Some(_) => format!(
                    "--journal {} is an instrument journal; pass --instruments with its table ({})",
                    dir.display(),
                    journaled::INSTRUMENTS_FILE
                ),
                None => format!(
                    "--journal {} is a single-book journal; drop --instruments",
                    dir.display()
                ),
            }));
        }
        let (writer, torn) = Writer::<S::Record>::open(dir, config).map_err(Failure::journal)?;
        if let Some(t) = torn {
            eprintln!("flowmatch replay: warning: {t}; truncated");
        }
        let rec = journaled::recover(dir, fresh()?, None)?;
        (rec.state, writer, rec.last_seq, rec.chain)
    } else {
        let state = fresh()?;
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::io(format!("cannot create --journal {}: {e}", dir.display())))?;
        settings.write(dir)?;
        if let Some(t) = table {
            journaled::write_instrument_table(dir, t)?;
        }
        let writer = Writer::<S::Record>::create(dir, config).map_err(Failure::journal)?;
        (state, writer, 0, Chain::default())
    };
    let mut journal = Journal {
        w: ThreadedWriter::spawn(writer, RING).map_err(Failure::journal)?,
        none: opts.fsync == FsyncPolicy::None,
    };
    // The journal's own records, to check the skipped input against.
    let mut journaled = if start_seq > 0 {
        Some(Reader::<S::Record>::open(dir).map_err(Failure::journal)?)
    } else {
        None
    };
    let mut held = Held {
        buf: String::with_capacity(MAX_HELD + COMPACT_AT + CHUNK),
        start: 0,
        marks: VecDeque::with_capacity(MAX_HELD / MARK_BYTES + 2),
        last_mark: 0,
    };
    let on_closed = if a.book_out.is_some() {
        OnClosedOutput::Finish
    } else {
        OnClosedOutput::Stop
    };
    let mut output_closed = false;
    let mut seq = 0u64;
    let mut snapshots = 0u64;
    let mut longest_stop = (0u64, journaled::SnapshotCost::default());
    let input_name = if a.input.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        a.input.display().to_string()
    };
    let mut input_error: Option<ReadError> = None;
    let mut emit = |held: &mut Held,
                    released: u64,
                    all: bool,
                    min: usize,
                    closed: &mut bool|
     -> Result<(), Failure> {
        if *closed {
            held.clear();
            return Ok(());
        }
        match held.release(released, out, all, min) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                *closed = true;
                Ok(())
            }
            Err(e) => Err(Failure::io(format!("cannot write events: {e}"))),
        }
    };
    // The durability point of the last release attempt.
    let mut tried = u64::MAX;
    let mut text = String::with_capacity(128);
    let mut line = 0usize;
    loop {
        text.clear();
        line += 1;
        match input.read_line(&mut text) {
            Ok(0) => break,
            Ok(_) => {}
            Err(source) => {
                input_error = Some(ReadError::Io { line, source });
                break;
            }
        }
        let record = match S::parse(&text, line) {
            Ok(None) => continue,
            Ok(Some(r)) => r,
            Err(e) => {
                input_error = Some(ReadError::Syntax(e));
                break;
            }
        };
        seq += 1;
        if seq <= start_seq {
            let on_disk = journaled
                .as_mut()
                .and_then(|r| r.next_record().transpose())
                .transpose()
                .map_err(Failure::journal)?;
            match on_disk {
                Some(r) if r.seq == seq && r.value == record => continue,
                _ => {
                    return Err(Failure::corrupt(format!(
                        "{input_name} line {line}: command {seq} is not the journal's record {seq}; --resume needs the journaled stream as input"
                    )))
                }
            }
        }
        let got = journal.append(&record).map_err(Failure::journal)?;
        if got != seq {
            return Err(Failure::io(format!(
                "journal gave sequence {got} to command {seq}"
            )));
        }
        // The chain only ties snapshots to their journal: without snapshots it is not
        // kept (a later `--resume --snapshot-every` recomputes it from the journal).
        if opts.snapshot_every.is_some() {
            chain.add(seq, &record);
        }
        state.apply(seq, &record, &mut held.buf);
        held.mark(seq);
        if held.len() >= CHUNK {
            let all = journal.none;
            if !all && held.len() >= MAX_HELD {
                journal.wait_for(seq).map_err(Failure::journal)?;
                emit(&mut held, seq, true, 0, &mut output_closed)?;
            } else {
                // Only a durability point that moved can release anything new.
                let released = journal.released();
                if all || released != tried {
                    tried = released;
                    emit(&mut held, released, all, CHUNK, &mut output_closed)?;
                }
            }
            if output_closed && on_closed == OnClosedOutput::Stop {
                break;
            }
        }
        if let Some(n) = opts.snapshot_every {
            if seq.is_multiple_of(n) {
                let t0 = Instant::now();
                journal.wait_for(seq).map_err(Failure::journal)?;
                let cost = state.write_snapshot(dir, seq, chain, &settings_text)?;
                let stop = t0.elapsed().as_micros() as u64;
                snapshots += 1;
                if stop >= longest_stop.0 {
                    longest_stop = (stop, cost);
                }
            }
        }
    }
    let last = journal.close().map_err(Failure::journal)?;
    emit(&mut held, last, true, 0, &mut output_closed)?;
    eprintln!(
        "flowmatch replay: journal {}: last_seq={last} state_hash={}",
        dir.display(),
        state.state_hash()
    );
    if snapshots > 0 {
        let (stop, c) = longest_stop;
        eprintln!(
            "flowmatch replay: {snapshots} snapshots; longest stop {stop} µs ({} µs serializing, {} µs writing + fsync + rename, {} bytes)",
            c.serialize_us, c.write_us, c.bytes
        );
    }
    if let Some(e) = input_error {
        return Err(Failure::corrupt(format!("{input_name}: {e}")));
    }
    if let Some(path) = &a.book_out {
        std::fs::write(path, state.book_dump())
            .map_err(|e| Failure::io(format!("cannot write book to {}: {e}", path.display())))?;
    }
    Ok(())
}
