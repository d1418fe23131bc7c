//! Crash test through the binary: `flowmatch replay --journal D --fsync batch --resume`
//! runs as a child on a long generated stream and is killed with SIGKILL at random
//! points (at least 50 kills); after each kill `flowmatch recover` must hold every
//! command whose events the parent had read (the replay releases a command's events only
//! once its record is durable), and its book and state hash must be the independent
//! oracle's (the reference book, in this process, after the same number of commands).
//! Each next run resumes the journal on the same input. At the end the journal holds
//! exactly the stream (nothing lost, nothing twice), `journal verify` passes, and the
//! final book, state hash and the last run's events are the uninterrupted oracle's.
//! (The binary is located by `tests/common/flowmatch_bin.rs`.)

#[path = "common/flowmatch_bin.rs"]
mod flowmatch_bin;
use flowmatch_bin::flowmatch_bin;
#[path = "common/crash_loop.rs"]
mod crash_loop;
use crash_loop::{watch_and_kill, Watched};
use flowmatch_core::{
    BookConfig, Command, Event, NewOrder, OrdType, OrderBook, ReferenceBook, Side, Stp, Tif,
};
use flowmatch_harness::text;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::Instant;

/// A seeded stream: limit orders around a moving mid (some crossing), cancels and
/// replaces of live ids, a few IOC and market orders.
fn stream(seed: u64, n: usize) -> Vec<Command> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut live: Vec<u64> = Vec::new();
    let mut cmds = Vec::with_capacity(n);
    for i in 1..=n as u64 {
        let x: f64 = rng.random();
        if x < 0.6 || live.len() < 10 {
            let side = if rng.random_bool(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            let market = rng.random_bool(0.02);
            let off: i64 = rng.random_range(-8..=12);
            let price = match side {
                Side::Buy => 1000 - off,
                Side::Sell => 1000 + off,
            };
            cmds.push(Command::New(NewOrder {
                id: i,
                account: rng.random_range(1..=40),
                side,
                ord_type: if market {
                    OrdType::Market
                } else {
                    OrdType::Limit
                },
                price: (!market).then_some(price),
                qty: rng.random_range(1..=100),
                tif: if market || rng.random_bool(0.05) {
                    Tif::Ioc
                } else {
                    Tif::Gtc
                },
                stp: if rng.random_bool(0.1) {
                    Stp::CancelTaker
                } else {
                    Stp::None
                },
            }));
            live.push(i);
        } else if x < 0.85 {
            let id = live.swap_remove(rng.random_range(0..live.len()));
            cmds.push(Command::Cancel { id });
        } else {
            let id = live[rng.random_range(0..live.len())];
            cmds.push(Command::Replace {
                id,
                price: 1000 + rng.random_range(-10..=10),
                qty: rng.random_range(1..=100),
            });
        }
    }
    cmds
}

/// The oracle: the reference book advanced command by command, its event lines kept.
struct Oracle<'a> {
    book: ReferenceBook,
    cmds: &'a [Command],
    applied: usize,
    /// Event text of each applied command.
    events: Vec<String>,
}

impl<'a> Oracle<'a> {
    fn new(cmds: &'a [Command]) -> Self {
        Oracle {
            book: ReferenceBook::new(BookConfig::default()),
            cmds,
            applied: 0,
            events: Vec::with_capacity(cmds.len()),
        }
    }
    fn advance_to(&mut self, n: usize) {
        assert!(
            n >= self.applied,
            "the journal shrank: {n} < {}",
            self.applied
        );
        while self.applied < n {
            let mut ev: Vec<Event> = Vec::new();
            self.book.apply(&self.cmds[self.applied], &mut ev);
            self.applied += 1;
            let mut s = String::new();
            for e in &ev {
                text::write_event(&mut s, self.applied as u64, e).unwrap();
            }
            self.events.push(s);
        }
    }
    fn hash(&self) -> String {
        flowmatch_journal::state_hash(&self.book).to_string()
    }
}

/// The value of `key=value` among the whitespace-separated words of `stdout`.
fn field<'a>(stdout: &'a str, key: &str) -> &'a str {
    stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in {stdout}"))
}

/// `flowmatch recover`: (last_seq, state hash, book dump).
fn recover(journal: &Path, book_out: &Path) -> (usize, String, String) {
    let out = Process::new(flowmatch_bin())
        .args(["recover", "--journal"])
        .arg(journal)
        .arg("--book-out")
        .arg(book_out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "recover failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        field(&stdout, "last_seq").parse().unwrap(),
        field(&stdout, "state_hash").to_string(),
        std::fs::read_to_string(book_out).unwrap(),
    )
}

/// One crash round on a fresh journal: runs killed at random points until the stream is
/// done (at most `max_kills` kills, then a run that finishes). Returns the kills.
fn round(
    dir: &Path,
    cmds: &[Command],
    input: &str,
    rng: &mut ChaCha8Rng,
    max_kills: usize,
) -> usize {
    let input_path = dir.join("stream.txt");
    std::fs::write(&input_path, input).unwrap();
    let journal = dir.join("journal");
    let book_out = dir.join("book.txt");
    let final_book = dir.join("final-book.txt");
    let mut oracle = Oracle::new(cmds);
    let mut kills = 0;
    let mut recovered = 0usize;
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs <= max_kills + 5, "the stream never finished");
        let last_run = kills >= max_kills;
        let mut child = Process::new(flowmatch_bin())
            .args(["replay", "--input"])
            .arg(&input_path)
            .arg("--journal")
            .arg(&journal)
            .args(["--fsync", "batch", "--resume", "--snapshot-every", "25000"])
            .arg("--book-out")
            .arg(&final_book)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let Watched {
            acked,
            seen,
            status,
        } = watch_and_kill(&mut child, rng, recovered, last_run);
        let (last, hash, dump) = recover(&journal, &book_out);
        assert!(
            last >= acked,
            "run {runs}: command {acked} was acknowledged but the journal ends at {last}"
        );
        assert!(last >= recovered);
        oracle.advance_to(last);
        assert_eq!(
            hash,
            oracle.hash(),
            "run {runs}: state hash after {last} commands"
        );
        assert_eq!(
            dump,
            text::book_dump(&oracle.book),
            "run {runs}: book after {last} commands"
        );
        if !status.success() {
            kills += 1;
            recovered = last;
            continue;
        }
        // Finished (the kill, if any, came too late).
        assert_eq!(last, cmds.len(), "a finished run journals the whole stream");
        // From the resume point on, the same events as an uninterrupted run.
        let want: String = oracle.events[recovered..].concat();
        assert!(
            seen == want,
            "the resumed run's events differ from the oracle's"
        );
        assert_eq!(
            std::fs::read_to_string(&final_book).unwrap(),
            text::book_dump(&oracle.book),
            "the finished run's --book-out"
        );
        break;
    }
    // Nothing lost, nothing twice: the journal is the stream, record for record.
    let dump = Process::new(flowmatch_bin())
        .args(["journal", "dump"])
        .arg(&journal)
        .output()
        .unwrap();
    assert!(dump.status.success());
    let dumped: String = String::from_utf8(dump.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(dumped == input, "the journal is not the stream");
    let verify = Process::new(flowmatch_bin())
        .args(["journal", "verify"])
        .arg(&journal)
        .output()
        .unwrap();
    let v = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success(),
        "{v}{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert_eq!(field(&v, "state_hash"), oracle.hash());
    kills
}

#[test]
fn sigkill_at_50_points_loses_nothing_acknowledged_and_applies_nothing_twice() {
    const N: usize = 200_000;
    const KILLS: usize = 50;
    let started = Instant::now();
    let cmds = stream(13, N);
    let mut input = String::with_capacity(N * 32);
    for c in &cmds {
        text::write_command(&mut input, c).unwrap();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut kills = 0;
    let mut rounds = 0;
    // A round whose runs get far between kills finishes the stream early; then another
    // round starts on a fresh journal, until 50 kills in all.
    while kills < KILLS {
        rounds += 1;
        assert!(rounds <= 10, "only {kills} kills in {rounds} rounds");
        let dir = tempfile::tempdir().unwrap();
        kills += round(dir.path(), &cmds, &input, &mut rng, KILLS - kills);
    }
    eprintln!(
        "{kills} kills in {rounds} rounds, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
