//! Kill-and-recover inside `flowmatch stress`: every round's sequenced stream is journaled
//! as it is checked (the `flowmatch-journal` writer, the replay's journal directory layout
//! from [`crate::journaled`]), snapshots are taken at a third and at two thirds of the
//! round, and at three points the journal directory is recovered exactly as `flowmatch
//! recover` does after a crash (newest snapshot + the journal after it) while the live run
//! goes on: at half the round (snapshot 1 + tail), at the end (snapshot 2 + tail) and at the
//! end once more from the journal alone (every snapshot removed first). Each recovery must
//! give the live book's state: the same last sequence number and the same
//! [`flowmatch_journal::state_hash`] as the book the run holds at that point (the
//! checker's replay mid-round, the threaded engine's own book at the end). That is
//! [`Invariant::RecoveredEqualsLive`].
//!
//! The "kill" is that the journal is read back by a fresh recovery while its writer is
//! still open (flushed: records handed to the kernel, as a SIGKILLed process leaves them),
//! and nothing the writer or the run holds in memory is used by the recovery. The SIGKILL of
//! a real process is `tests/crash_recover.rs`'s (through the binary); this check makes the
//! same recovery meet every rule the stress streams exercise, every round.
//!
//! Not run under a book mutant (`--mutant`): the recovery rebuilds the product's book, so
//! it would only repeat that the mutant is not the product.
//!
//! The journal is written under `fsync none` (durability is not what is checked here; the
//! bytes and the recovery are) in a temporary directory removed at the end of the round.

use super::checks::Invariant;
use crate::journaled::{self, Chain, Settings};
use crate::policy::{PolicyArg, ReplacePriorityArg};
use crate::replay_loop::BookKind;
use flowmatch_core::{BookConfig, Command, FastBook, MatchPolicy, OrderBook, ReplacePriority};
use flowmatch_journal::{state_hash, FsyncPolicy, JournalConfig, Writer};

/// Where in a round of `n` commands snapshots are written (after these sequence numbers).
pub fn snapshot_points(n: u64) -> [u64; 2] {
    [n / 3, 2 * n / 3]
}

/// Where in a round of `n` commands a mid-round recovery is made.
pub fn mid_recovery_point(n: u64) -> u64 {
    n / 2
}

/// One round's journal and the state the recoveries are checked against.
pub struct RoundJournal {
    dir: tempfile::TempDir,
    writer: Option<Writer<Command>>,
    settings: Settings,
    settings_text: String,
    chain: Chain,
    seq: u64,
    len: u64,
    /// Recoveries made.
    pub checks: u64,
    /// The first failed recovery: `(position, detail)`.
    pub failure: Option<(u64, String)>,
}

fn policy_arg(p: MatchPolicy) -> PolicyArg {
    match p {
        MatchPolicy::PriceTime => PolicyArg::PriceTime,
        MatchPolicy::ProRata { top_order: false } => PolicyArg::ProRata,
        MatchPolicy::ProRata { top_order: true } => PolicyArg::ProRataTop,
        // The stress gate journals only the three policies above; a CME book's parameters
        // would not survive the journal's settings (see `journaled::Settings`), so its CME
        // rounds skip the recovery check (`RoundSetup::journal_can_state`).
        MatchPolicy::Cme(c) => PolicyArg::from_algorithm(c.algorithm()),
    }
}

fn replace_arg(r: ReplacePriority) -> ReplacePriorityArg {
    match r {
        ReplacePriority::KeepIfReduced => ReplacePriorityArg::KeepIfReduced,
        ReplacePriority::AlwaysRequeue => ReplacePriorityArg::AlwaysRequeue,
    }
}

impl RoundJournal {
    /// A journal for a round of `len` commands on books of `cfg`. `Err` when the temporary
    /// directory or the journal cannot be created (an I/O problem of the machine, not a
    /// violation).
    pub fn new(cfg: BookConfig, len: u64) -> Result<Self, String> {
        let dir =
            tempfile::tempdir().map_err(|e| format!("cannot make a journal directory: {e}"))?;
        let settings = Settings::new(
            BookKind::Fast,
            policy_arg(cfg.policy),
            replace_arg(cfg.replace_priority),
            &cfg,
        );
        if settings.config().policy != cfg.policy
            || settings.config().max_order_qty != cfg.max_order_qty
        {
            return Err("the journal settings cannot express this round's book".into());
        }
        settings.write(dir.path()).map_err(|e| e.to_string())?;
        let config = JournalConfig {
            fsync: FsyncPolicy::None,
            ..JournalConfig::default()
        };
        let writer = Writer::<Command>::create(dir.path(), config).map_err(|e| e.to_string())?;
        Ok(RoundJournal {
            settings_text: settings.to_text(),
            settings,
            dir,
            writer: Some(writer),
            chain: Chain::default(),
            seq: 0,
            len,
            checks: 0,
            failure: None,
        })
    }

    fn fail(&mut self, pos: u64, detail: String) {
        if self.failure.is_none() {
            self.failure = Some((pos, detail));
        }
    }

    /// Journals the next command of the sequenced stream, applied to the live book `live`
    /// (the state after it); snapshots and mid-round recoveries happen here.
    pub fn step(&mut self, cmd: &Command, live: &impl OrderBook) {
        self.seq += 1;
        let seq = self.seq;
        let Some(w) = self.writer.as_mut() else {
            return;
        };
        match w.append(cmd) {
            Ok(s) if s == seq => {}
            Ok(s) => return self.fail(seq, format!("the journal numbered command {seq} as {s}")),
            Err(e) => return self.fail(seq, format!("journal append failed: {e}")),
        }
        self.chain.add(seq, cmd);
        if snapshot_points(self.len).contains(&seq) {
            if let Err(e) = w.flush() {
                return self.fail(seq, format!("journal flush failed: {e}"));
            }
            if let Err(e) = journaled::write_snapshot(
                self.dir.path(),
                seq,
                self.chain,
                &self.settings_text,
                live,
            ) {
                return self.fail(seq, format!("snapshot after command {seq}: {e}"));
            }
        }
        if seq == mid_recovery_point(self.len) {
            self.recover_and_compare(seq, live, "mid-round");
        }
    }

    /// The end of the round: recovers from the newest snapshot and from the journal alone,
    /// each compared with `live` (the engine's own book).
    pub fn finish(&mut self, live: &impl OrderBook) {
        let seq = self.seq;
        self.recover_and_compare(seq, live, "end of round, from the newest snapshot");
        if self.failure.is_some() {
            return;
        }
        match journaled::list_snapshots(self.dir.path()) {
            Ok(snaps) => {
                for (_, p) in snaps {
                    if let Err(e) = std::fs::remove_file(&p) {
                        return self.fail(seq, format!("cannot remove {}: {e}", p.display()));
                    }
                }
            }
            Err(e) => return self.fail(seq, e.to_string()),
        }
        self.recover_and_compare(seq, live, "end of round, from the journal alone");
        if let Some(w) = self.writer.take() {
            if let Err(e) = w.close() {
                self.fail(seq, format!("journal close failed: {e}"));
            }
        }
    }

    fn recover_and_compare(&mut self, seq: u64, live: &impl OrderBook, when: &str) {
        if let Some(w) = self.writer.as_mut() {
            if let Err(e) = w.flush() {
                return self.fail(seq, format!("journal flush failed: {e}"));
            }
        }
        self.checks += 1;
        let fresh = journaled::SingleBook::<FastBook>::new(self.settings.config());
        let rec = match journaled::recover(self.dir.path(), fresh, None) {
            Ok(r) => r,
            Err(e) => {
                return self.fail(
                    seq,
                    format!("recovery after command {seq} ({when}) failed: {e}"),
                )
            }
        };
        let (got, want) = (state_hash(&rec.state.book), state_hash(live));
        if rec.last_seq != seq || got != want {
            self.fail(
                seq,
                format!(
                    "recovery after command {seq} ({when}, snapshot {}, {} tail commands): last sequence {}, state hash {got}; the live book's state hash is {want}",
                    rec.snapshot_seq.map_or("none".to_string(), |s| s.to_string()),
                    rec.tail,
                    rec.last_seq
                ),
            );
        }
    }

    /// The invariant this checks.
    pub const INVARIANT: Invariant = Invariant::RecoveredEqualsLive;
}

/// The single-threaded twin of a round's recovery checks (the predicate shrinking uses):
/// `cmds` applied to the book under test, journaled, snapshotted and recovered as in a
/// round. The first failed recovery, if any.
pub fn check_stream(
    cmds: &[Command],
    cfg: BookConfig,
    mutant: Option<super::mutants::BookMutant>,
) -> Option<(u64, String)> {
    let mut book = super::mutants::BookUnderTest::new(cfg, mutant);
    let mut journal = RoundJournal::new(cfg, cmds.len() as u64).ok()?;
    let mut events = Vec::new();
    for c in cmds {
        events.clear();
        book.apply(c, &mut events);
        journal.step(c, &book);
    }
    journal.finish(&book);
    journal.failure
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stress::{stream, Profile};

    /// The recoveries agree with the live book on a rule-dense stream under every policy
    /// (three recoveries each), and a journal whose tail lost a command does not: the
    /// check can fail.
    #[test]
    fn recoveries_match_the_live_book_and_a_lost_record_is_caught() {
        // Every journaled round setting: the three non-CME policies, both replace modes.
        for round in
            (0..6).filter(|&r| crate::stress::rounds::RoundSetup::of(r, true).journal_can_state())
        {
            let cfg = crate::stress::rounds::RoundSetup::of(round, true).book;
            let cmds = stream::round_stream(7, round, 0, 1_500, Profile::Quick);
            assert_eq!(check_stream(&cmds, cfg, None), None, "round {round}");
        }
        // The live book saw one command more than the journal: its hash must differ.
        let cfg = crate::stress::rounds::RoundSetup::of(0, true).book;
        let cmds = stream::round_stream(7, 0, 0, 600, Profile::Quick);
        let mut live = FastBook::new(cfg);
        let mut journal = RoundJournal::new(cfg, 600).unwrap();
        let mut events = Vec::new();
        for c in &cmds[..599] {
            events.clear();
            live.apply(c, &mut events);
            journal.step(c, &live);
        }
        // A last command that rests an order, applied to the live book only.
        let extra = flowmatch_core::Command::New(flowmatch_core::NewOrder::limit(
            999_999,
            1,
            flowmatch_core::Side::Buy,
            1,
            5,
        ));
        live.apply(&extra, &mut events);
        journal.finish(&live);
        let (pos, detail) = journal
            .failure
            .expect("a recovery missing a command must differ");
        assert_eq!(pos, 599);
        assert!(detail.contains("state hash"), "{detail}");
        assert_eq!(journal.checks, 2);
    }
}
