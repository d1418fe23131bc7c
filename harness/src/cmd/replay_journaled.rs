//! `flowmatch replay --journal DIR`: the replay with every command journaled before its
//! events are released, optional snapshots, and `--resume` to continue a journal after a
//! crash.
//!
//! # The durability point
//! Each command is appended to the journal (sequence number = its position in the
//! stream, the number its event lines carry), then applied. Under `--fsync batch` and
//! `every` (written off the replay thread, [`flowmatch_journal::ThreadedWriter`]) the
//! command's event lines are held until its record is durable (`fdatasync` returned):
//! every event line a reader of the output has seen belongs to a command that a
//! recovery brings back. Lines are released in chunks (at most [`MAX_HELD`] bytes held;
//! past that the replay waits for the disk). Under `none` (written on the replay
//! thread, [`flowmatch_journal::Writer`]) events are released at once: a killed process
//! loses the records still in the writer's 64 KiB buffer, a machine crash whatever the
//! kernel had not written back (see `flowmatch_journal::writer`).
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
//! With snapshots on, the replay also keeps each accepted order's time in force and STP
//! mode (a hash map insert per accepted order; see `journaled::OrderAttrs`).
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
pub const MAX_HELD: usize = 1 << 20;
/// Largest `--snapshot-every`.
pub const MAX_SNAPSHOT_EVERY: u64 = 1 << 40;
/// A release mark every this many bytes of held event text.
const MARK_BYTES: usize = 4096;
/// Write released events once this many bytes are held.
const CHUNK: usize = 1 << 16;
/// Ring between the replay and the journal thread.
const RING: usize = 1 << 16;

/// The journal writer: on this thread under `none`, off it otherwise.
enum Journal<C: Codec + Copy + Send + 'static> {
    Direct(Writer<C>),
    Threaded(ThreadedWriter<C>),
}

impl<C: Codec + Copy + Send + 'static> Journal<C> {
    fn append(&mut self, record: &C) -> Result<u64, JournalError> {
        match self {
            Journal::Direct(w) => w.append(record),
            Journal::Threaded(w) => w.append(*record),
        }
    }

    /// Last record whose events may be released.
    fn released(&self) -> u64 {
        match self {
            Journal::Direct(w) => w.appended_seq(),
            Journal::Threaded(w) => w.durable_seq(),
        }
    }

    /// Waits until `seq` may be released (and, under `none`, is written).
    fn wait_for(&mut self, seq: u64) -> Result<(), JournalError> {
        match self {
            Journal::Direct(w) => {
                w.flush()?;
                Ok(())
            }
            Journal::Threaded(w) => {
                while w.durable_seq() < seq {
                    if w.failed() {
                        return Err(JournalError::Failed);
                    }
                    std::thread::sleep(Duration::from_micros(50));
                }
                Ok(())
            }
        }
    }

    fn close(self) -> Result<u64, JournalError> {
        match self {
            Journal::Direct(w) => w.close(),
            Journal::Threaded(w) => w.close().map(|c| c.last_seq),
        }
    }
}

/// Event text waiting for its commands to be durable, with marks saying which sequence
/// number ends where.
struct Held {
    buf: String,
    marks: VecDeque<(u64, usize)>,
    last_mark: usize,
}

impl Held {
    fn mark(&mut self, seq: u64) {
        if self.buf.len() - self.last_mark >= MARK_BYTES {
            self.marks.push_back((seq, self.buf.len()));
            self.last_mark = self.buf.len();
        }
    }

    /// Writes the text of every command up to `released`; returns whether it wrote.
    fn release<W: Write + ?Sized>(
        &mut self,
        released: u64,
        out: &mut W,
        all: bool,
    ) -> std::io::Result<()> {
        let mut upto = 0;
        if all {
            upto = self.buf.len();
            self.marks.clear();
        } else {
            while let Some(&(seq, at)) = self.marks.front() {
                if seq > released {
                    break;
                }
                upto = at;
                self.marks.pop_front();
            }
        }
        if upto == 0 {
            return Ok(());
        }
        out.write_all(&self.buf.as_bytes()[..upto])?;
        out.flush()?;
        self.buf.drain(..upto);
        for m in self.marks.iter_mut() {
            m.1 -= upto;
        }
        self.last_mark = self.last_mark.saturating_sub(upto);
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
            || {
                Ok(SingleBook::<B>::new(
                    settings.config(),
                    opts.snapshot_every.is_some(),
                ))
            },
            input,
            out,
        ),
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure::corrupt(format!("--instruments {}: {e}", path.display())))
            .and_then(|table| {
                if opts.snapshot_every.is_some() {
                    return Err(Failure::corrupt(format!(
                        "--snapshot-every does not combine with --instruments: {}",
                        journaled::SNAPSHOTS_OF_INSTRUMENTS
                    )));
                }
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
    let mut journal = match opts.fsync {
        FsyncPolicy::None => Journal::Direct(writer),
        _ => Journal::Threaded(ThreadedWriter::spawn(writer, RING).map_err(Failure::journal)?),
    };
    // The journal's own records, to check the skipped input against.
    let mut journaled = if start_seq > 0 {
        Some(Reader::<S::Record>::open(dir).map_err(Failure::journal)?)
    } else {
        None
    };
    let mut held = Held {
        buf: String::with_capacity(MAX_HELD + CHUNK),
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
    let mut emit =
        |held: &mut Held, released: u64, all: bool, closed: &mut bool| -> Result<(), Failure> {
            if *closed {
                held.buf.clear();
                held.marks.clear();
                held.last_mark = 0;
                return Ok(());
            }
            match held.release(released, out, all) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    *closed = true;
                    Ok(())
                }
                Err(e) => Err(Failure::io(format!("cannot write events: {e}"))),
            }
        };
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
        chain.add(seq, &record);
        state.apply(seq, &record, &mut held.buf);
        held.mark(seq);
        if held.buf.len() >= CHUNK {
            let all = matches!(journal, Journal::Direct(_));
            if !all && held.buf.len() >= MAX_HELD {
                journal.wait_for(seq).map_err(Failure::journal)?;
                emit(&mut held, seq, true, &mut output_closed)?;
            } else {
                emit(&mut held, journal.released(), all, &mut output_closed)?;
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
    emit(&mut held, last, true, &mut output_closed)?;
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
