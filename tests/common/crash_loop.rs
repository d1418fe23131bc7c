//! The step every journal crash loop shares (`tests/crash_recover.rs`,
//! `tests/journal_instruments.rs`): read a `flowmatch replay --journal` child's event
//! lines, check that none belongs to a command an earlier recovery already held (nothing
//! applied twice), note the highest command acknowledged, and SIGKILL the child after a
//! random number of lines and a random pause, unless this run must finish. Included with
//! `#[path]` by each test binary that needs it.

use rand::Rng;
use std::io::{BufRead, BufReader};
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
/// kills it. Every line's sequence number (after an optional `SYM:` prefix) must be
/// above `recovered`. Draws from `rng` in a fixed order, so a seed replays the kills.
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
        // Event lines have no colon except after an instrument prefix.
        let body = line.split_once(':').map_or(line.as_str(), |(_, b)| b);
        let seq: usize = body.split(',').next().unwrap().parse().unwrap();
        assert!(
            seq > recovered,
            "event of command {seq} again after recovery at {recovered}"
        );
        acked = acked.max(seq);
        lines += 1;
        seen.push_str(&line);
        if !last_run && lines >= kill_after {
            std::thread::sleep(Duration::from_micros(rng.random_range(0..1500)));
            child.kill().unwrap();
            break;
        }
    }
    let status = child.wait().unwrap();
    Watched {
        acked,
        seen,
        status,
    }
}
