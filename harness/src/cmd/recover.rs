//! `flowmatch recover --journal DIR`: rebuilds the state a journal directory holds
//! (the newest valid snapshot plus the journal after it, see [`super::journaled`]) and
//! prints, on stdout, `last_seq=N`, `state_hash=HEX`, `snapshot_seq=S|none` and
//! `tail_commands=T`. `--book-out` writes the book dump in `replay`'s format, `--events`
//! the event lines of the tail commands it re-applied (numbered by sequence, as the
//! original replay numbered them).
//!
//! Exit status: 0 when recovered (a torn final record is a warning on stderr: recovery
//! stops at the last whole record; `replay --resume` truncates it); 2 for corruption (the
//! message names the file and byte offset), a snapshot that does not match the journal,
//! or a usage problem; 1 when an output cannot be written.
//!
//! Cost: the tail's event text is formatted only with `--events`, and the records up to
//! the snapshot are checked (frame, sequence, CRC) and chained but not decoded. Measured
//! with `valgrind --tool=callgrind` (test profile) on `recover` of a 200,000-command
//! journal with a snapshot at 180,000 (`scripts/bench-journal.sh`'s generator),
//! 2026-12-02: 304.3 M instructions at 22da06e, 206.7 M after (-32%), same output.

use super::journaled::{self, Failure, JournaledState, SingleBook};
use super::replay::BookKind;
use crate::output;
use flowmatch_core::{FastBook, ReferenceBook};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The journal directory.
    #[arg(long, value_name = "DIR")]
    pub journal: PathBuf,
    /// Write the event lines of the re-applied tail here.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Write the recovered book (`side,price,id,open_qty` lines, then any resting midpoint
    /// pegs as `side,MID,id,open_qty,cap`) here.
    #[arg(long, value_name = "FILE")]
    pub book_out: Option<PathBuf>,
}

/// Checks that `dir` is an existing directory (the option is named in the message).
pub fn existing_dir(option: &str, dir: &Path) -> Result<(), Failure> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Failure::corrupt(format!(
            "{option} {} is not a directory",
            dir.display()
        ))),
        Err(e) => Err(Failure::corrupt(format!("{option} {}: {e}", dir.display()))),
    }
}

/// Entry point: returns the process exit code.
pub fn run(a: Args) -> u8 {
    match run_inner(&a) {
        Ok(()) => 0,
        Err(f) => {
            eprintln!("flowmatch recover: {f}");
            f.code
        }
    }
}

fn run_inner(a: &Args) -> Result<(), Failure> {
    existing_dir("--journal", &a.journal)?;
    let mut outputs: Vec<(&str, &Path)> = Vec::new();
    if let Some(p) = &a.events {
        outputs.push(("--events", p));
    }
    if let Some(p) = &a.book_out {
        outputs.push(("--book-out", p));
    }
    output::refuse_overwriting_inputs(&outputs, &[]).map_err(Failure::corrupt)?;
    for (opt, p) in &outputs {
        if p.starts_with(&a.journal) {
            return Err(Failure::corrupt(format!(
                "{opt} {} is inside --journal {}; write it elsewhere",
                p.display(),
                a.journal.display()
            )));
        }
    }
    let s = journaled::Settings::read(&a.journal)?;
    let path = a.journal.join(journaled::INSTRUMENTS_FILE);
    match (s.book, journaled::instrument_table_text(&a.journal)?) {
        (BookKind::Fast, None) => recover_with(a, SingleBook::<FastBook>::new(s.config())),
        (BookKind::Reference, None) => {
            recover_with(a, SingleBook::<ReferenceBook>::new(s.config()))
        }
        (BookKind::Fast, Some(t)) => {
            recover_with(a, journaled::instrument_state::<FastBook>(&s, &t, &path)?)
        }
        (BookKind::Reference, Some(t)) => recover_with(
            a,
            journaled::instrument_state::<ReferenceBook>(&s, &t, &path)?,
        ),
    }
}

fn recover_with<S: JournaledState>(a: &Args, fresh: S) -> Result<(), Failure> {
    let mut events = match &a.events {
        Some(p) => Some(BufWriter::with_capacity(
            1 << 16,
            File::create(p)
                .map_err(|e| Failure::io(format!("cannot create {}: {e}", p.display())))?,
        )),
        None => None,
    };
    let rec = journaled::recover(
        &a.journal,
        fresh,
        events.as_mut().map(|w| w as &mut dyn Write),
    )?;
    drop(events);
    if let Some(t) = &rec.torn {
        eprintln!(
            "flowmatch recover: warning: {t}; recovered up to the last whole record (seq {})",
            rec.last_seq
        );
    }
    if let Some(p) = &a.book_out {
        std::fs::write(p, rec.state.book_dump())
            .map_err(|e| Failure::io(format!("cannot write book to {}: {e}", p.display())))?;
    }
    println!("last_seq={}", rec.last_seq);
    println!("state_hash={}", rec.state.state_hash());
    match rec.snapshot_seq {
        Some(s) => println!("snapshot_seq={s}"),
        None => println!("snapshot_seq=none"),
    }
    println!("tail_commands={}", rec.tail);
    let t = rec.timing;
    eprintln!(
        "flowmatch recover: snapshot {} ms, journal up to it {} ms, tail {} ms",
        t.snapshot_us / 1000,
        t.prefix_us / 1000,
        t.tail_us / 1000
    );
    Ok(())
}
