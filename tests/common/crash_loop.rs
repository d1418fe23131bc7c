//! The step every journal crash loop shares (`tests/crash_recover.rs`,
//! `tests/journal_instruments.rs`): read a `flowmatch replay --journal` child's event
//! lines, check that none belongs to a command an earlier recovery already held (nothing
//! applied twice), note the highest command acknowledged, and SIGKILL the child after a
//! random number of lines and a random pause, unless this run must finish. Included with
//! `#[path]` by each test binary that needs it.

use rand::Rng;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ExitStatus};
use std::time::Duration;

/// What the parent saw of one child run.
pub struct Watched {
    /// Highest sequence number whose events were read (0: none).
    pub acked: usize,
    /// Every event line read, in order.
    pub seen: String,
    /// The child's exit status (a kill is a failure).
    pub status: ExitStatus,
}

/// Reads `child`'s stdout (piped) until it ends or, unless `last_run`, until a random
/// 1..=1500 lines have been read and a random pause of up to 1.5 ms has passed, then
/// kills it (a child that finished before the kill landed is read to its end). Every
/// line's sequence number (after an optional `SYM:` prefix) must be above `recovered`. Draws from `rng` in a fixed order, so a seed replays the kills.
pub fn watch_and_kill(
    child: &mut Child,
    rng: &mut impl Rng,
    recovered: usize,
    last_run: bool,
) -> Watched {
    let mut stdout = BufReader::new(child.stdout.take().expect("the child's stdout is piped"));
    let kill_after: usize = rng.random_range(1..=1500);
    let (mut lines, mut acked) = (0usize, 0usize);
    let mut line = String::new();
    let mut seen = String::new();
    loop {
        line.clear();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        acked = acked.max(fresh_seq(&line, recovered));
        lines += 1;
        seen.push_str(&line);
        if !last_run && lines >= kill_after {
            std::thread::sleep(Duration::from_micros(rng.random_range(0..1500)));
            child.kill().unwrap();
            break;
        }
    }
    let status = child.wait().unwrap();
    // A kill that landed after the child had finished (it exits 0, so the caller takes
    // it as a finished run): the rest of its output is still in the pipe. Read it, so
    // that `seen` is the whole run's and not cut at the kill point.
    if status.success() {
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        for l in rest.lines() {
            acked = acked.max(fresh_seq(l, recovered));
        }
        seen.push_str(&rest);
    }
    Watched {
        acked,
        seen,
        status,
    }
}

/// The sequence number of an event line, which must be above `recovered` (nothing
/// applied twice). Event lines have no colon except after an instrument prefix.
fn fresh_seq(line: &str, recovered: usize) -> usize {
    let body = line.split_once(':').map_or(line, |(_, b)| b);
    let seq: usize = body.split(',').next().unwrap().parse().unwrap();
    assert!(
        seq > recovered,
        "event of command {seq} again after recovery at {recovered}"
    );
    seq
}
