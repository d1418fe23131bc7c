//! `flowmatch journal verify DIR` and `flowmatch journal dump DIR`.
//!
//! `verify` reads every record (frame, CRC32C, sequence, payload), replays the journal
//! from its start through the book its `settings` name, and checks every snapshot
//! against the replay at its sequence (state hash and record chain). It prints
//! `ok records=N last_seq=S snapshots=K state_hash=HEX` and exits 0; a torn final
//! record is a warning (exit 0: it is what a crash mid-write leaves, and recovery stops
//! before it); corruption exits 2 with the file and byte offset of the first bad record;
//! a snapshot that disagrees with the journal exits 2 naming it.
//!
//! `dump` prints the journal as commands in the replay text format (one per record, in
//! sequence order), preceded by a comment naming the settings and followed by a
//! `# state_hash=HEX last_seq=S` comment: `flowmatch replay` with the same book options
//! on the dump gives the same book and state hash. Same exit statuses as `verify`.

use super::journaled::{self, Chain, Failure, JournaledState, Settings, SingleBook};
use super::recover::existing_dir;
use super::replay::BookKind;
use flowmatch_core::{FastBook, ReferenceBook};
use flowmatch_journal::Reader;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Check every record and snapshot; exit 2 naming the first bad one.
    Verify {
        /// The journal directory.
        dir: PathBuf,
    },
    /// Print the journal as replay-format commands.
    Dump {
        /// The journal directory.
        dir: PathBuf,
    },
}

/// Entry point: returns the process exit code.
pub fn run(a: Args) -> u8 {
    let (name, dir, dump) = match &a.action {
        Action::Verify { dir } => ("verify", dir, false),
        Action::Dump { dir } => ("dump", dir, true),
    };
    let r = existing_dir("DIR", dir)
        .and_then(|()| Settings::read(dir))
        .and_then(|s| {
            let table = journaled::instrument_table_text(dir)?;
            let path = dir.join(journaled::INSTRUMENTS_FILE);
            match (s.book, table) {
                (BookKind::Fast, None) => {
                    walk(dir, &s, SingleBook::<FastBook>::new(s.config()), dump)
                }
                (BookKind::Reference, None) => {
                    walk(dir, &s, SingleBook::<ReferenceBook>::new(s.config()), dump)
                }
                (BookKind::Fast, Some(t)) => walk(
                    dir,
                    &s,
                    journaled::instrument_state::<FastBook>(&s, &t, &path)?,
                    dump,
                ),
                (BookKind::Reference, Some(t)) => walk(
                    dir,
                    &s,
                    journaled::instrument_state::<ReferenceBook>(&s, &t, &path)?,
                    dump,
                ),
            }
        });
    match r {
        Ok(()) => 0,
        Err(f) => {
            eprintln!("flowmatch journal {name}: {f}");
            f.code
        }
    }
}

fn walk<S: JournaledState>(
    dir: &Path,
    settings: &Settings,
    mut state: S,
    dump: bool,
) -> Result<(), Failure> {
    let settings_text = settings.to_text();
    let snapshot_settings = state.snapshot_settings(&settings_text);
    // Oldest first, to meet them in sequence order.
    let mut snapshots = journaled::list_snapshots(dir)?;
    snapshots.reverse();
    let mut pending = snapshots.into_iter().peekable();
    let mut reader = Reader::<S::Record>::open(dir).map_err(Failure::journal)?;
    let mut events = String::with_capacity(1 << 12);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut line = String::with_capacity(1 << 16);
    let write_err = |e: std::io::Error| Failure::io(format!("cannot write: {e}"));
    if dump {
        line.push_str("# flowmatch journal dump; settings:\n");
        for l in settings_text.lines() {
            line.push_str("# ");
            line.push_str(l);
            line.push('\n');
        }
        if dir.join(journaled::INSTRUMENTS_FILE).exists() {
            line.push_str(&format!(
                "# instruments: {} (replay it with --instruments)\n",
                dir.join(journaled::INSTRUMENTS_FILE).display()
            ));
        }
    }
    let mut chain = Chain::default();
    let mut last_seq = 0;
    let mut checked = 0;
    let mut check = |seq: u64,
                     chain: Chain,
                     state: &S,
                     pending: &mut std::iter::Peekable<std::vec::IntoIter<(u64, PathBuf)>>|
     -> Result<(), Failure> {
        while let Some((s, path)) = pending.next_if(|(s, _)| *s <= seq) {
            let snap = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| journaled::decode_snapshot(&b))
                .map_err(|e| Failure::corrupt(format!("snapshot {}: {e}", path.display())))?;
            if s != seq
                || snap.seq != seq
                || snap.chain != chain
                || snap.settings != snapshot_settings
            {
                return Err(Failure::corrupt(format!(
                    "snapshot {} does not match the journal at seq {s}",
                    path.display()
                )));
            }
            let h = state.state_hash();
            if h != snap.hash {
                return Err(Failure::corrupt(format!(
                    "snapshot {}: state hash {} but the journal replayed to seq {s} gives {h}",
                    path.display(),
                    snap.hash
                )));
            }
            checked += 1;
        }
        Ok(())
    };
    check(0, chain, &state, &mut pending)?;
    while let Some(r) = reader.next_record().map_err(Failure::journal)? {
        chain.add(r.seq, &r.value);
        last_seq = r.seq;
        events.clear();
        state.apply(r.seq, &r.value, &mut events);
        check(r.seq, chain, &state, &mut pending)?;
        if dump {
            S::write_record(&mut line, &r.value);
            if line.len() >= 1 << 16 {
                out.write_all(line.as_bytes()).map_err(write_err)?;
                line.clear();
            }
        }
    }
    if let Some((s, path)) = pending.next() {
        return Err(Failure::corrupt(format!(
            "snapshot {} refused: its sequence {s} is beyond the journal's end ({last_seq})",
            path.display()
        )));
    }
    if let Some(t) = reader.summary().torn {
        eprintln!("warning: {t}; the journal ends at the last whole record (seq {last_seq})");
    }
    let hash = state.state_hash();
    if dump {
        line.push_str(&format!("# state_hash={hash} last_seq={last_seq}\n"));
    } else {
        line.push_str(&format!(
            "ok records={} last_seq={last_seq} snapshots={checked} state_hash={hash}\n",
            reader.summary().records
        ));
    }
    out.write_all(line.as_bytes())
        .and_then(|()| out.flush())
        .map_err(write_err)
}
