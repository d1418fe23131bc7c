//! Recovery: the newest valid snapshot plus the journal after it (the parent module's docs
//! give the files and the checks), with its three parts arranged for time.
//!
//! # Where the time goes, and how it is spent
//! 1. **The snapshot**: read, CRC, decode, then rebuilt order by order through the book
//!    (each order must rest untouched), the level aggregates compared and the state hash
//!    checked ([`super::rebuild`]). The rebuild runs on a second thread.
//! 2. **The journal up to the snapshot**: every record's frame, sequence and CRC checked
//!    and chained ([`super::Chain`]), not decoded. It runs on the calling thread at the
//!    same time as the rebuild (the two share nothing: the walk needs only the snapshot's
//!    sequence and chain), and both are joined before anything else happens, so a
//!    corrupt record there stops recovery exactly as it did when the walk came second:
//!    exit 2 naming the segment and offset, no output written; a snapshot the rebuild
//!    refuses is reported first, as before.
//! 3. **The tail**: each record decoded and applied, read [`PREFETCH_AHEAD`] records
//!    ahead of the one applied so the book can start loading the id-index bucket (and,
//!    half as far ahead, the order slot) each will need ([`JournaledState::prefetch_far`]).
//!
//! Measured: recover of 10 M commands from a snapshot at 9 M (`scripts/bench-journal.sh
//! 10000000`), see `bench-results/journal/` and the commit messages for the split.

use super::{
    decode_snapshot, list_snapshots, Chain, Failure, JournaledState, Settings, Snapshot,
    PREFETCH_AHEAD,
};
use flowmatch_journal::{Codec, Reader, Record, TornTail};
use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What a recovery found.
#[derive(Debug)]
pub struct Recovered<S> {
    /// The rebuilt state.
    pub state: S,
    /// Sequence number of the last whole record (0: none).
    pub last_seq: u64,
    /// The snapshot used, if any.
    pub snapshot_seq: Option<u64>,
    /// Commands re-applied after the snapshot.
    pub tail: u64,
    /// The chain at `last_seq`.
    pub chain: Chain,
    /// A torn final record (not yet truncated: the reader only reports it).
    pub torn: Option<TornTail>,
    /// Where the time went.
    pub timing: RecoveryTiming,
}

/// Where a recovery's time went, in microseconds. The snapshot and the journal up to it
/// are read at the same time (module docs), so the first two overlap.
#[derive(Clone, Copy, Debug, Default)]
pub struct RecoveryTiming {
    /// From the start to the snapshot rebuilt and checked (0 without one).
    pub snapshot_us: u64,
    /// Reading and checking the journal's records up to the snapshot's sequence.
    pub prefix_us: u64,
    /// Reading and re-applying the records after it.
    pub tail_us: u64,
}

/// The newest snapshot in `dir` whose file reads and decodes (each one skipped is a
/// warning on stderr), with its path.
fn newest_readable_snapshot(dir: &Path) -> Result<Option<(Snapshot, PathBuf)>, Failure> {
    for (_, path) in list_snapshots(dir)? {
        let loaded = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| decode_snapshot(&b));
        match loaded {
            Ok(s) => return Ok(Some((s, path))),
            Err(e) => eprintln!(
                "warning: snapshot {} unreadable ({e}); using an older one or the journal from its start",
                path.display()
            ),
        }
    }
    Ok(None)
}

/// The journal read up to the snapshot's sequence.
struct Prefix<C> {
    reader: Reader<C>,
    chain: Chain,
    last_seq: u64,
    took: Duration,
}

/// Opens the journal and checks (frame, sequence, CRC) and chains its records up to
/// `snap_seq`, without decoding them; the chain must be the snapshot's there.
fn walk_prefix<C: Codec>(
    dir: &Path,
    snap: Option<(&Snapshot, &Path)>,
) -> Result<Prefix<C>, Failure> {
    let t = Instant::now();
    let snap_seq = snap.map_or(0, |s| s.0.seq);
    let name = || snap.map(|s| s.1.display().to_string()).unwrap_or_default();
    let mut reader = Reader::<C>::open(dir).map_err(Failure::journal)?;
    let mut chain = Chain::default();
    let mut last_seq = 0;
    while last_seq < snap_seq {
        let Some(seq) = reader.next_checked().map_err(Failure::journal)? else {
            break;
        };
        chain.add_payload(seq, reader.last_payload());
        last_seq = seq;
        if seq > snap_seq {
            return Err(Failure::corrupt(format!(
                "snapshot {} refused: the journal starts after its sequence {snap_seq}",
                name()
            )));
        }
        if seq == snap_seq && Some(chain) != snap.map(|s| s.0.chain) {
            return Err(Failure::corrupt(format!(
                "snapshot {} refused: it was not taken from this journal (record chain differs at seq {snap_seq})",
                name()
            )));
        }
    }
    Ok(Prefix {
        reader,
        chain,
        last_seq,
        took: t.elapsed(),
    })
}

/// Rebuilds the state of the journal in `dir` into `state` (fresh, built from the
/// journal's settings): the newest snapshot whose CRC holds (older ones, or none, if it
/// does not; each skip is a warning on stderr) plus the journal after it. With `events`,
/// the tail's event lines are written to it. Corruption and a snapshot that does not
/// match the journal are failures with exit status 2.
pub fn recover<S: JournaledState>(
    dir: &Path,
    mut state: S,
    mut events: Option<&mut dyn Write>,
) -> Result<Recovered<S>, Failure> {
    let t0 = Instant::now();
    let settings_text = Settings::read(dir)?.to_text();
    let chosen = newest_readable_snapshot(dir)?;
    if let Some((s, path)) = &chosen {
        if s.settings != state.snapshot_settings(&settings_text) {
            return Err(Failure::corrupt(format!(
                "snapshot {} refused: its settings (or instrument table) are not the journal's",
                path.display()
            )));
        }
    }
    let snap = chosen.as_ref().map(|(s, p)| (s, p.as_path()));
    let (loaded, prefix) = std::thread::scope(|scope| {
        let state = &mut state;
        let load = move || -> Result<Duration, Failure> {
            if let Some((s, path)) = snap {
                state.load_snapshot(s, path)?;
            }
            Ok(t0.elapsed())
        };
        let loader = scope.spawn(load);
        let prefix = walk_prefix::<S::Record>(dir, snap);
        let loaded = loader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (loaded, prefix)
    });
    // The rebuild's refusal first: the order the checks had when they ran one after
    // the other.
    let loaded = loaded?;
    let Prefix {
        mut reader,
        mut chain,
        mut last_seq,
        took,
    } = prefix?;
    let snap_seq = snap.map_or(0, |s| s.0.seq);
    let mut timing = RecoveryTiming {
        snapshot_us: if snap.is_some() {
            loaded.as_micros() as u64
        } else {
            0
        },
        prefix_us: took.as_micros() as u64,
        ..RecoveryTiming::default()
    };
    let t_tail = Instant::now();
    let mut tail = 0;
    let mut buf = String::with_capacity(1 << 16);
    let mut ahead: VecDeque<Record<S::Record>> = VecDeque::with_capacity(PREFETCH_AHEAD);
    // A read error is held until the records read before it are applied, so the state
    // and the events written when it stops recovery are what they would be without the
    // read-ahead.
    let mut stopped = None;
    loop {
        while stopped.is_none() && ahead.len() < PREFETCH_AHEAD {
            match reader.next_record() {
                Ok(Some(r)) => {
                    chain.add_payload(r.seq, reader.last_payload());
                    state.prefetch_far(&r.value);
                    ahead.push_back(r);
                }
                Ok(None) => break,
                Err(e) => stopped = Some(Failure::journal(e)),
            }
        }
        let Some(r) = ahead.pop_front() else {
            break;
        };
        if let Some(near) = ahead.get(PREFETCH_AHEAD / 2) {
            state.prefetch_near(&near.value);
        }
        last_seq = r.seq;
        tail += 1;
        match events.as_deref_mut() {
            None => state.apply_quiet(r.seq, &r.value, &mut buf),
            Some(out) => {
                state.apply(r.seq, &r.value, &mut buf);
                if buf.len() >= 1 << 16 {
                    out.write_all(buf.as_bytes())
                        .map_err(|e| Failure::io(format!("cannot write events: {e}")))?;
                    buf.clear();
                }
            }
        }
    }
    if let Some(f) = stopped {
        return Err(f);
    }
    if let Some(out) = events {
        out.write_all(buf.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| Failure::io(format!("cannot write events: {e}")))?;
    }
    if snap_seq > last_seq {
        return Err(Failure::corrupt(format!(
            "snapshot {} refused: its sequence {snap_seq} is beyond the journal's end ({last_seq})",
            snap.map(|s| s.1.display().to_string()).unwrap_or_default()
        )));
    }
    timing.tail_us = t_tail.elapsed().as_micros() as u64;
    Ok(Recovered {
        timing,
        state,
        last_seq,
        snapshot_seq: snap.map(|s| s.0.seq),
        tail,
        chain,
        torn: reader.summary().torn,
    })
}
