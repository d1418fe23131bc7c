//! What a failed stress run leaves behind: the shrunk stream as a command file in the
//! replay format (`*.txt`, `#` comment lines carrying the seed, round, policy, mutant and
//! first divergence), and the exact commands that reproduce it.
//!
//! The file's name depends only on the seed, so the command line can check it against
//! the other outputs ([`crate::output`]) before any work.

use super::checks::Invariant;
use super::mutants::Mutant;
use super::{Failure, StressConfig};
use crate::provenance::Provenance;
use crate::text::write_command;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Where the reproducer of a run with `seed` goes under `dir`.
pub fn path(dir: &Path, seed: u64) -> PathBuf {
    dir.join(format!("stress-repro-seed{seed}.txt"))
}

/// Where the account table of a failed group round goes, beside the reproducer `file`
/// (`flowmatch replay --accounts` needs it to rebuild the round's STP).
pub fn accounts_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or("stress-repro".into(), |s| s.to_string_lossy());
    file.with_file_name(format!("{stem}-accounts.csv"))
}

/// The command that re-runs the same gate (same seed, producers, profile, mutant).
pub fn rerun_command(cfg: &StressConfig) -> String {
    let mut s = format!(
        "flowmatch stress --profile {} --seed {} --producers {}",
        cfg.profile.name(),
        cfg.seed,
        cfg.producers
    );
    if let Some(m) = cfg.mutant {
        let _ = write!(s, " --mutant {}", m.name());
    }
    s
}

/// The replay commands that show the failure on the reproducer: the book under test, and
/// what it should have given.
pub fn replay_commands(cfg: &StressConfig, f: &Failure, file: &Path) -> Vec<String> {
    let base = format!(
        "flowmatch replay --input {} {}",
        file.display(),
        f.setup.replay_flags(&accounts_path(file))
    );
    match (f.target, cfg.mutant) {
        (Invariant::AnsweredOnce | Invariant::ThreadedEqualsReplay, _) => vec![
            format!("{base}   # the events every command should have had"),
            format!("{}   # loses commands again", rerun_command(cfg)),
        ],
        (Invariant::RecoveredEqualsLive, _) => vec![
            format!(
                "{base} --journal DIR --fsync none --snapshot-every {}   # prints the live state hash",
                (f.reproducer.len() / 3).max(1)
            ),
            "flowmatch recover --journal DIR   # the recovered state hash differs".to_string(),
        ],
        (_, Some(m @ Mutant::Book(_))) => vec![
            format!("{base} --mutant {}", m.name()),
            format!("{base}   # differs: the unmutated fast book"),
        ],
        _ => vec![
            base.clone(),
            format!("{base} --book reference   # differs: the oracle"),
        ],
    }
}

/// The reproducer file's text.
pub fn file_text(cfg: &StressConfig, f: &Failure, file: &Path) -> String {
    let mut s = String::new();
    s.push_str(&Provenance::capture().comment_lines());
    let _ = writeln!(s, "# flowmatch stress reproducer: {}", f.target.name());
    let _ = writeln!(s, "# rerun: {}", rerun_command(cfg));
    let _ = writeln!(
        s,
        "# seed {}, round {}, policy {}, replace priority {}, account groups {}, mutant {}",
        cfg.seed,
        f.round,
        f.setup.policy,
        f.setup.replace,
        f.setup.groups_label(),
        cfg.mutant.map_or("none", |m| m.name())
    );
    let _ = writeln!(
        s,
        "# shrunk from {} to {} commands in {} checks{}",
        f.original_len,
        f.reproducer.len(),
        f.shrink_tests,
        if f.minimal { " (1-minimal)" } else { "" }
    );
    for v in &f.violations {
        let _ = writeln!(
            s,
            "# first divergence, {}: {}",
            v.invariant.name(),
            v.detail
        );
    }
    for l in &f.lost {
        let _ = writeln!(
            s,
            "# producer schedule: producer {} lost its command {} at its full push number {}",
            l.producer, l.index, l.full_pushes
        );
    }
    for c in replay_commands(cfg, f, file) {
        let _ = writeln!(s, "# reproduce: {c}");
    }
    for c in &f.reproducer {
        let _ = write_command(&mut s, c);
    }
    s
}
