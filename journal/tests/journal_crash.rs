//! The writer killed with SIGKILL: a child process (this test binary, re-run on its
//! ignored `crash_child` test) appends a deterministic stream under `batch` and prints
//! every durable sequence number the writer reports; the parent kills it at a random
//! point, then checks that every sequence number the child saw durable is in the
//! journal, that the journal holds exactly the stream's commands in order (nothing lost
//! before the durable point, nothing duplicated, nothing out of place), and that opening
//! it for append cuts any torn tail so the next child carries on from the last whole
//! record. Rounds alternate the off-thread and the calling-thread writer.

mod common;

use flowmatch_core::Command;
use flowmatch_journal::{FsyncPolicy, JournalConfig, Reader, ThreadedWriter, Writer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

const CHILD_DIR: &str = "FLOWMATCH_JOURNAL_CRASH_DIR";
const CHILD_DESIGN: &str = "FLOWMATCH_JOURNAL_CRASH_DESIGN";

/// The stream's command at sequence number `seq`, the same in every process.
fn command_at(seq: u64) -> Command {
    common::commands(seq, 1)[0]
}

fn config() -> JournalConfig {
    JournalConfig {
        fsync: FsyncPolicy::Batch {
            records: 32,
            micros: 300,
        },
        segment_bytes: 16 << 10,
        buffer_bytes: 4096,
    }
}

#[test]
#[ignore = "the child process of killed_writers_lose_nothing_durable_and_duplicate_nothing"]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let dir = Path::new(&dir);
    let writer = if dir
        .join(flowmatch_journal::format::segment_file_name(0))
        .exists()
    {
        Writer::<Command>::open(dir, config()).unwrap().0
    } else {
        Writer::<Command>::create(dir, config()).unwrap()
    };
    let mut out = std::io::stdout().lock();
    let mut reported = writer.durable_seq();
    let mut next = writer.appended_seq() + 1;
    writeln!(out, "start {next}").unwrap();
    out.flush().unwrap();
    let mut report = |durable: u64, out: &mut std::io::StdoutLock| {
        if durable > reported {
            reported = durable;
            writeln!(out, "durable {durable}").unwrap();
            out.flush().unwrap();
        }
    };
    if std::env::var(CHILD_DESIGN).as_deref() == Ok("threaded") {
        let mut t = ThreadedWriter::spawn(writer, 1024).unwrap();
        loop {
            assert_eq!(t.append(command_at(next)).unwrap(), next);
            next += 1;
            report(t.durable_seq(), &mut out);
        }
    } else {
        let mut w = writer;
        loop {
            assert_eq!(w.append(&command_at(next)).unwrap(), next);
            next += 1;
            let d = w.poll().unwrap();
            report(d, &mut out);
        }
    }
}

#[test]
fn killed_writers_lose_nothing_durable_and_duplicate_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mut torn_seen = 0;
    let rounds = 30;
    for round in 0..rounds {
        let design = if round % 2 == 0 { "threaded" } else { "direct" };
        let mut child = Process::new(std::env::current_exe().unwrap())
            .args([
                "crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_DESIGN, design)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let start: u64 = loop {
            let l = lines.next().expect("the child starts").unwrap();
            // libtest prints `test crash_child ... ` before the child's first line.
            if let Some((_, s)) = l.split_once("start ") {
                break s.parse().unwrap();
            }
        };
        // Kill once the child has reported a random number of durable records, after a
        // random extra pause, so the kill lands anywhere in a write or a sync.
        let target = start + rng.random_range(50..3000);
        let mut durable = start - 1;
        let deadline = Instant::now() + Duration::from_secs(60);
        while durable < target {
            assert!(
                Instant::now() < deadline,
                "round {round}: the child stalled at {durable}"
            );
            let l = lines.next().expect("the child reports").unwrap();
            if let Some(d) = l.strip_prefix("durable ") {
                durable = d.parse().unwrap();
            }
        }
        std::thread::sleep(Duration::from_micros(rng.random_range(0..3000)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // What the child saw durable before it died (lines still in the pipe count too:
        // they were printed before the kill).
        for l in lines.map_while(Result::ok) {
            if let Some(d) = l.strip_prefix("durable ") {
                durable = d.parse().unwrap();
            }
        }

        let mut r = Reader::<Command>::open(dir.path()).unwrap();
        let mut expected = 1;
        while let Some(rec) = r.next_record().unwrap() {
            assert_eq!(rec.seq, expected, "round {round}: in order, no duplicate");
            assert_eq!(
                rec.value,
                command_at(rec.seq),
                "round {round}: seq {}",
                rec.seq
            );
            expected += 1;
        }
        let last = expected - 1;
        assert!(
            last >= durable,
            "round {round} ({design}): durable {durable} but the journal ends at {last}"
        );
        if r.summary().torn.is_some() {
            torn_seen += 1;
        }
        // Cut the torn tail (if any) as the next child's open would, and check it is gone.
        let (w, _) = Writer::<Command>::open(dir.path(), config()).unwrap();
        assert_eq!(w.appended_seq(), last);
        drop(w);
        assert_eq!(
            flowmatch_journal::verify::<Command>(dir.path())
                .unwrap()
                .torn,
            None
        );
    }
    eprintln!("{rounds} kills, {torn_seen} left a torn tail");
}
