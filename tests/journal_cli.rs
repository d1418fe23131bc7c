//! Black-box tests of `replay --journal`, `recover` and `journal verify|dump`: the real
//! binary on small hand-written streams; damage made by hand at offsets computed from
//! the documented record layout (36-byte segment header; per record a 16-byte frame and
//! a 34/9/25-byte New/Cancel/Replace payload), not from the code under test.
//! (The binary is located by `tests/common/flowmatch_bin.rs`.)

#[path = "common/flowmatch_bin.rs"]
mod flowmatch_bin;
use flowmatch_bin::flowmatch_bin;
use flowmatch_core::{BookConfig, OrderBook, ReferenceBook};
use flowmatch_harness::text;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A stream with trades, partial fills, cancels, replaces, an STP order and a rejection.
const STREAM: &str = "\
N,1,1,S,L,101,10
N,2,2,S,L,102,5
N,3,3,B,L,99,7,GTC,CT
N,4,4,B,L,101,4
C,2
R,3,100,9
N,5,5,S,L,100,2
N,6,3,S,L,98,20,GTC,CT
C,42
N,7,6,B,L,103,1
R,1,101,3
N,8,7,B,L,100,6
";

fn run(args: &[&str], paths: &[&Path]) -> Output {
    let mut c = Command::new(flowmatch_bin());
    c.args(args);
    for p in paths {
        c.arg(p);
    }
    c.output().unwrap()
}

fn flowmatch(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(flowmatch_bin()).args(args).output().unwrap()
}

fn os<P: AsRef<std::ffi::OsStr> + ?Sized>(p: &P) -> &std::ffi::OsStr {
    p.as_ref()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// The reference book after the first `n` commands of `stream`: (dump, state hash).
fn oracle(stream: &str, n: usize) -> (String, String) {
    let mut book = ReferenceBook::new(BookConfig::default());
    let mut sink = Vec::new();
    for (i, line) in stream.lines().enumerate().take(n) {
        let cmd = text::parse_command(line, i + 1).unwrap().unwrap();
        book.apply(&cmd, &mut sink);
    }
    (
        text::book_dump(&book),
        flowmatch_journal::state_hash(&book).to_string(),
    )
}

fn field(out: &str, key: &str) -> String {
    out.split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in {out}"))
        .to_string()
}

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let s = Setup {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(s.path("in.txt"), STREAM).unwrap();
        s
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    /// `replay --journal j` with extra options.
    fn journal(&self, extra: &[&str]) -> Output {
        let input = self.path("in.txt");
        let j = self.path("j");
        let mut args = vec![
            os("replay"),
            os("--input"),
            input.as_os_str(),
            os("--journal"),
            j.as_os_str(),
        ];
        args.extend(extra.iter().map(os));
        flowmatch(&args)
    }
    fn segment(&self) -> PathBuf {
        self.path("j").join("00000000000000000000.fmj")
    }
    /// `recover` writing the tail's events to `events` and the book to `rec.txt`.
    fn recover_with_events(&self, events: &Path) -> Output {
        run(
            &["recover", "--journal"],
            &[
                &self.path("j"),
                Path::new("--events"),
                events,
                Path::new("--book-out"),
                &self.path("rec.txt"),
            ],
        )
    }
    fn recover(&self) -> Output {
        run(
            &["recover", "--journal"],
            &[
                &self.path("j"),
                Path::new("--book-out"),
                &self.path("rec.txt"),
            ],
        )
    }
}

/// Byte offset of record `k` (0-based) of `stream` in its segment, from the documented
/// layout.
fn record_offset(stream: &str, k: usize) -> u64 {
    36 + stream
        .lines()
        .take(k)
        .map(|l| {
            16 + match &l[..1] {
                "N" => 34,
                "C" => 9,
                "R" => 25,
                _ => unreachable!(),
            }
        })
        .sum::<u64>()
}

#[test]
fn journaled_replay_prints_what_the_plain_replay_prints_under_every_policy() {
    let s = Setup::new();
    let plain = run(
        &["replay", "--input"],
        &[
            &s.path("in.txt"),
            Path::new("--book-out"),
            &s.path("plain.txt"),
        ],
    );
    assert!(plain.status.success());
    let (want_book, want_hash) = oracle(STREAM, usize::MAX);
    assert_eq!(
        std::fs::read_to_string(s.path("plain.txt")).unwrap(),
        want_book
    );
    for policy in ["none", "batch", "every", "batch:1:1"] {
        let _ = std::fs::remove_dir_all(s.path("j"));
        let book = s.path("book.txt");
        let o = s.journal(&["--fsync", policy, "--book-out", book.to_str().unwrap()]);
        assert!(o.status.success(), "{policy}: {}", stderr(&o));
        assert_eq!(o.stdout, plain.stdout, "{policy}: events");
        assert_eq!(std::fs::read_to_string(&book).unwrap(), want_book);
        assert_eq!(field(&stderr(&o), "state_hash"), want_hash, "{policy}");
        let r = s.recover();
        assert!(r.status.success());
        assert_eq!(field(&stdout(&r), "state_hash"), want_hash);
        assert_eq!(field(&stdout(&r), "last_seq"), "12");
        assert_eq!(
            std::fs::read_to_string(s.path("rec.txt")).unwrap(),
            want_book
        );
    }
    // The dump replays to the same book and hash.
    let dump = run(&["journal", "dump"], &[&s.path("j")]);
    assert!(dump.status.success());
    let body: String = stdout(&dump)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let (dump_book, dump_hash) = oracle(&body, usize::MAX);
    assert_eq!(
        (dump_book, dump_hash.clone()),
        (want_book, want_hash.clone())
    );
    assert!(stdout(&dump).contains(&format!("# state_hash={want_hash}")));
}

#[test]
fn recover_from_a_snapshot_gives_the_tail_events_and_the_same_state() {
    let s = Setup::new();
    let o = s.journal(&["--snapshot-every", "5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(s
        .path("j")
        .join("snapshot-00000000000000000010.fms")
        .exists());
    let ev = s.path("tail.txt");
    let r = run(
        &["recover", "--journal"],
        &[&s.path("j"), Path::new("--events"), &ev],
    );
    assert!(r.status.success(), "{}", stderr(&r));
    let out = stdout(&r);
    assert_eq!(field(&out, "snapshot_seq"), "10");
    assert_eq!(field(&out, "tail_commands"), "2");
    assert_eq!(field(&out, "state_hash"), oracle(STREAM, 12).1);
    // The tail's events are the original replay's lines 11 and 12.
    let tail: String = stdout(&o)
        .lines()
        .filter(|l| l.starts_with("11,") || l.starts_with("12,"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!tail.is_empty());
    assert_eq!(std::fs::read_to_string(&ev).unwrap(), tail);
    let v = run(&["journal", "verify"], &[&s.path("j")]);
    assert!(v.status.success());
    assert_eq!(field(&stdout(&v), "snapshots"), "2");
}

#[test]
fn a_flipped_byte_mid_journal_exits_2_with_its_offset() {
    let s = Setup::new();
    assert!(s.journal(&[]).status.success());
    let mut bytes = std::fs::read(s.segment()).unwrap();
    let at = record_offset(STREAM, 5); // record of command 6 (R,3,100,9)
    bytes[at as usize + 16 + 3] ^= 0x40;
    std::fs::write(s.segment(), bytes).unwrap();
    let v = run(&["journal", "verify"], &[&s.path("j")]);
    assert_eq!(v.status.code(), Some(2), "{}", stderr(&v));
    let msg = stderr(&v);
    assert!(msg.contains(&format!("byte offset {at}")), "{msg}");
    assert!(msg.contains("00000000000000000000.fmj"), "{msg}");
    let r = s.recover();
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains(&format!("byte offset {at}")));
    // A resumed replay refuses it too, before touching anything.
    let o = s.journal(&["--resume"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Recovery checks the records before the snapshot while it rebuilds the snapshot's
/// book (at the same time, on two threads): damage there must still stop it, naming
/// the segment and offset, with nothing written; and when the snapshot is refused as
/// well, the refusal is what it reports, as when the checks ran one after the other.
#[test]
fn a_flipped_byte_before_the_snapshot_stops_recovery_with_its_offset() {
    let s = Setup::new();
    assert!(s.journal(&["--snapshot-every", "10"]).status.success());
    let snapshot = s.path("j").join("snapshot-00000000000000000010.fms");
    assert!(snapshot.exists());
    let good = std::fs::read(s.segment()).unwrap();
    for k in [0, 4, 9] {
        let mut bytes = good.clone();
        let at = record_offset(STREAM, k);
        bytes[at as usize + 16 + 1] ^= 0x08; // in the payload: the CRC no longer holds
        std::fs::write(s.segment(), &bytes).unwrap();
        let ev = s.path("ev.txt");
        let r = s.recover_with_events(&ev);
        let msg = stderr(&r);
        assert_eq!(r.status.code(), Some(2), "record {k}: {msg}");
        assert!(msg.contains(&format!("byte offset {at}")), "{msg}");
        assert!(msg.contains("00000000000000000000.fmj"), "{msg}");
        assert!(stdout(&r).is_empty(), "no state printed: {}", stdout(&r));
        assert!(!s.path("rec.txt").exists(), "no book written");
        assert_eq!(std::fs::read(&ev).unwrap(), b"", "no events written");
    }
    // The same damage with a snapshot whose orders were edited (CRC recomputed, so it
    // is read and rebuilt, then refused for its hash): the refusal is reported.
    let mut bytes = good.clone();
    bytes[record_offset(STREAM, 4) as usize + 16 + 1] ^= 0x08;
    std::fs::write(s.segment(), &bytes).unwrap();
    let mut b = std::fs::read(&snapshot).unwrap();
    let settings_len = u32::from_le_bytes(b[20..24].try_into().unwrap()) as usize;
    b[24 + settings_len + 16 + 21] ^= 1; // the first order's open_qty (see below)
    let body = b.len() - 4;
    let crc = crc32c(&b[..body]);
    b[body..].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&snapshot, b).unwrap();
    let r = s.recover();
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("refused"), "{}", stderr(&r));
    // The journal made whole again, the refused snapshot still refuses.
    std::fs::write(s.segment(), &good).unwrap();
    assert_eq!(s.recover().status.code(), Some(2));
}

#[test]
fn a_truncated_last_record_recovers_to_the_last_whole_one_with_a_warning() {
    let s = Setup::new();
    assert!(s.journal(&[]).status.success());
    let end = record_offset(STREAM, 12);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(s.segment())
        .unwrap();
    assert_eq!(f.metadata().unwrap().len(), end, "the documented layout");
    f.set_len(end - 7).unwrap();
    drop(f);
    let r = s.recover();
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(stderr(&r).contains("warning"), "{}", stderr(&r));
    assert_eq!(field(&stdout(&r), "last_seq"), "11");
    let (book, hash) = oracle(STREAM, 11);
    assert_eq!(field(&stdout(&r), "state_hash"), hash);
    assert_eq!(std::fs::read_to_string(s.path("rec.txt")).unwrap(), book);
    // Resuming truncates the torn record and re-journals command 12.
    let o = s.journal(&["--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("12,"), "{}", stdout(&o));
    let r = s.recover();
    assert!(!stderr(&r).contains("warning"));
    assert_eq!(field(&stdout(&r), "state_hash"), oracle(STREAM, 12).1);
}

#[test]
fn a_snapshot_that_does_not_match_the_journal_is_refused() {
    // (a) From another journal (same settings, other commands), at a sequence this one has.
    let s = Setup::new();
    assert!(s.journal(&["--snapshot-every", "5"]).status.success());
    let other = tempfile::tempdir().unwrap();
    let other_in = other.path().join("in.txt");
    std::fs::write(
        &other_in,
        STREAM.replace("N,4,4,B,L,101,4", "N,4,4,B,L,100,4"),
    )
    .unwrap();
    let oj = other.path().join("j");
    let o = run(
        &["replay", "--snapshot-every", "5", "--input"],
        &[&other_in, Path::new("--journal"), &oj],
    );
    assert!(o.status.success());
    let name = "snapshot-00000000000000000010.fms";
    std::fs::copy(oj.join(name), s.path("j").join(name)).unwrap();
    let r = s.recover();
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("refused"), "{}", stderr(&r));
    assert_eq!(
        run(&["journal", "verify"], &[&s.path("j")]).status.code(),
        Some(2)
    );

    // (b) Beyond the journal's end: the journal cut back to 8 whole records.
    let s = Setup::new();
    assert!(s.journal(&["--snapshot-every", "10"]).status.success());
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(s.segment())
        .unwrap();
    f.set_len(record_offset(STREAM, 8)).unwrap();
    drop(f);
    let r = s.recover();
    assert_eq!(r.status.code(), Some(2));
    assert!(
        stderr(&r).contains("beyond the journal's end"),
        "{}",
        stderr(&r)
    );

    // (c) Its orders edited (CRC recomputed): the recorded hash no longer matches.
    let s = Setup::new();
    assert!(s.journal(&["--snapshot-every", "10"]).status.success());
    let p = s.path("j").join(name);
    let mut b = std::fs::read(&p).unwrap();
    let settings_len = u32::from_le_bytes(b[20..24].try_into().unwrap()) as usize;
    // First order's open_qty: magic 8, seq 8, chain 4, len 4, settings, books 4, key 4,
    // count 8, then side 1 price 8 id 8 account 4 open_qty 8.
    let qty_at = 24 + settings_len + 16 + 21;
    b[qty_at] ^= 1;
    let body = b.len() - 4;
    let crc = crc32c(&b[..body]);
    b[body..].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&p, b).unwrap();
    let r = s.recover();
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("refused"), "{}", stderr(&r));
}

/// CRC32C (Castagnoli), bitwise, independent of the crate under test.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn bad_options_are_refused_by_name_before_any_work() {
    let s = Setup::new();
    for (args, needle) in [
        (vec!["--snapshot-every", "0"], "--snapshot-every"),
        (vec!["--snapshot-every", "-5"], "--snapshot-every"),
        (
            vec!["--snapshot-every", "99999999999999999999"],
            "--snapshot-every",
        ),
        (vec!["--fsync", "bogus"], "--fsync"),
        (vec!["--fsync", "batch:0"], "--fsync"),
    ] {
        let o = s.journal(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!s.path("j").exists(), "{args:?} created the journal");
    }
    // A file where a directory is expected.
    let o = run(
        &["replay", "--input"],
        &[&s.path("in.txt"), Path::new("--journal"), &s.path("in.txt")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--journal"), "{}", stderr(&o));
    // The input inside the journal directory.
    let inside = s.path("jdir");
    std::fs::create_dir(&inside).unwrap();
    std::fs::write(inside.join("in.txt"), STREAM).unwrap();
    let o = run(
        &["replay", "--input"],
        &[&inside.join("in.txt"), Path::new("--journal"), &inside],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("holds --input"), "{}", stderr(&o));
    // Journal options without --journal.
    let o = run(
        &["replay", "--fsync", "none", "--input"],
        &[&s.path("in.txt")],
    );
    assert_eq!(o.status.code(), Some(2));
    // recover / verify on a file.
    let o = run(&["recover", "--journal"], &[&s.path("in.txt")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--journal"));
    let o = run(&["journal", "verify"], &[&s.path("in.txt")]);
    assert_eq!(o.status.code(), Some(2));
    // A journal already there: refused without --resume, and left as it was.
    assert!(s.journal(&[]).status.success());
    let before = std::fs::read(s.segment()).unwrap();
    let o = s.journal(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));
    assert_eq!(std::fs::read(s.segment()).unwrap(), before);
    // Resumed with other settings: refused.
    let o = s.journal(&["--resume", "--policy", "pro-rata"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("settings"), "{}", stderr(&o));
    // Resumed on another input: refused.
    std::fs::write(s.path("in.txt"), STREAM.replace("C,2", "C,1")).unwrap();
    let o = s.journal(&["--resume"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 5"), "{}", stderr(&o));
}

/// The commands of `tests/scenarios/stop.scn` (hand-checked there): after command 10,
/// buy stop 10, buy stop-limit 11 and sell stop 12 are pending (stop 13 was cancelled);
/// commands 11 and 13 trigger all three.
const STOPS_STREAM: &str = "\
N,1,1,S,L,101,5
N,2,1,S,L,102,5
N,3,1,S,L,104,5
N,4,1,B,L,95,5
N,10,2,B,S101,,5
N,11,3,B,T102,103,4,GTC,CT
N,12,2,S,S96,,2
N,13,4,B,S200,,1
N,10,5,B,L,90,1
C,13
N,20,5,B,L,101,2
R,12,97,1
N,21,6,S,M,,6
N,30,1,B,S100,,1,GTC
";

/// What [`recovery_matches_the_uninterrupted_run`] leaves for a test's own checks.
struct Recovered {
    /// The snapshot recovery started from.
    snap: flowmatch_harness::journaled::Snapshot,
    /// The uninterrupted replay's event lines of the commands after it.
    tail: String,
    /// `journal verify`'s report.
    verify: String,
}

/// The recovery check shared by the stop, iceberg and midpoint-peg tests, against the
/// uninterrupted run: `stream` replayed plainly and with `--journal` plus `journal_opts`
/// (the same events), then `recover` from the snapshot at `snap_seq`, the newest, must
/// print the plain replay's events of the tail, the reference book's dump and state hash
/// after the whole stream; the snapshot's recorded hash must be the reference book's
/// after `snap_seq` commands, and `journal verify` (which replays from the start and
/// checks every snapshot's hash) must pass.
fn recovery_matches_the_uninterrupted_run(
    s: &Setup,
    stream: &str,
    journal_opts: &[&str],
    snap_seq: usize,
) -> Recovered {
    std::fs::write(s.path("in.txt"), stream).unwrap();
    let plain = run(&["replay", "--input"], &[&s.path("in.txt")]);
    assert!(plain.status.success(), "{}", stderr(&plain));
    let _ = std::fs::remove_dir_all(s.path("j"));
    let o = s.journal(journal_opts);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(o.stdout, plain.stdout);
    let ev = s.path("tail.txt");
    let r = s.recover_with_events(&ev);
    assert!(r.status.success(), "{}", stderr(&r));
    let out = stdout(&r);
    let n = stream.lines().count();
    assert_eq!(field(&out, "snapshot_seq"), snap_seq.to_string());
    assert_eq!(field(&out, "tail_commands"), (n - snap_seq).to_string());
    let (want_book, want_hash) = oracle(stream, n);
    assert_eq!(field(&out, "state_hash"), want_hash);
    assert_eq!(
        std::fs::read_to_string(s.path("rec.txt")).unwrap(),
        want_book
    );
    let tail: String = stdout(&plain)
        .lines()
        .filter(|l| {
            l.split(',')
                .next()
                .and_then(|seq| seq.parse::<usize>().ok())
                .is_some_and(|seq| seq > snap_seq)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(std::fs::read_to_string(&ev).unwrap(), tail);
    let name = format!("snapshot-{snap_seq:020}.fms");
    let bytes = std::fs::read(s.path("j").join(name)).unwrap();
    let snap = flowmatch_harness::journaled::decode_snapshot(&bytes).unwrap();
    assert_eq!(snap.hash.to_string(), oracle(stream, snap_seq).1);
    let v = run(&["journal", "verify"], &[&s.path("j")]);
    assert!(v.status.success(), "{}", stderr(&v));
    Recovered {
        snap,
        tail,
        verify: stdout(&v),
    }
}

/// A snapshot taken while stops are pending carries them: recovery from the snapshot at
/// 10 plus the tail gives the uninterrupted replay's tail events (which hold the three
/// triggers: a stop lost by the snapshot would not fire) and the reference book's state
/// hash after the whole stream; `journal verify` re-checks the snapshots' hashes, which
/// cover the pending stops, by replaying from the start.
#[test]
fn recover_from_a_snapshot_with_pending_stops_gives_the_uninterrupted_run() {
    let s = Setup::new();
    for policy in ["none", "batch"] {
        let opts = ["--snapshot-every", "5", "--fsync", policy];
        let got = recovery_matches_the_uninterrupted_run(&s, STOPS_STREAM, &opts, 10);
        for trigger in ["11,ACK,10\n", "11,ACK,11\n", "13,ACK,12\n"] {
            assert!(got.tail.contains(trigger), "{trigger} in {}", got.tail);
        }
        // The snapshot lists the three stops in arrival order.
        let ids: Vec<u64> = got.snap.books[0].stops.iter().map(|o| o.id).collect();
        assert_eq!(ids, [10, 11, 12]);
        assert_eq!(field(&got.verify, "snapshots"), "2");
    }
}

/// Icebergs caught by a snapshot part-way through their shown parts: after command 5 bid
/// iceberg 6 (display 3) shows 2 with 4 in reserve and ask iceberg 1 (display 5) shows 1
/// with 7 in reserve (worked by hand from docs/SEMANTICS.md, "Iceberg orders", as in
/// `tests/scenarios/iceberg.scn`). The tail trades through both reserves, replaces and
/// cancels one, so a snapshot that lost a reserve or a display would give other tail
/// events.
const ICEBERG_STREAM: &str = "\
N,1,1,S,I5,100,12
N,2,2,S,L,100,3
N,3,3,B,L,100,4
N,6,1,B,I3,99,10
N,7,2,S,L,99,4
N,8,3,B,L,100,7
N,9,4,S,L,99,7
R,1,100,6
";

/// Recovery from a snapshot holding icebergs gives the uninterrupted run: the snapshot
/// records each iceberg's display and reserve (in dump order: bids, then asks), its hash
/// is the reference book's after 5 commands, and the recovered tail events, book and
/// state hash are the uninterrupted replay's and the reference book's.
#[test]
fn recover_from_a_snapshot_with_icebergs_gives_the_uninterrupted_run() {
    let s = Setup::new();
    let opts = ["--snapshot-every", "5"];
    let snap = recovery_matches_the_uninterrupted_run(&s, ICEBERG_STREAM, &opts, 5).snap;
    let hidden: Vec<(u64, u64, u64)> = snap.books[0]
        .icebergs
        .iter()
        .map(|r| (r.id, r.display, r.reserve))
        .collect();
    assert_eq!(hidden, [(6, 3, 4), (1, 5, 7)]);
    let shown: Vec<(u64, u64)> = snap.books[0]
        .orders
        .iter()
        .map(|o| (o.id, o.open_qty))
        .collect();
    assert_eq!(shown, [(6, 2), (1, 1), (2, 3)]);
    // A state hash that left the reserves out would not tell these apart: the same
    // shown book with another reserve hashes differently.
    let iceberg = |qty: u64| {
        let mut book = ReferenceBook::new(BookConfig::default());
        let line = format!("N,1,1,S,I5,100,{qty}");
        book.apply(
            &text::parse_command(&line, 1).unwrap().unwrap(),
            &mut Vec::new(),
        );
        book
    };
    let (a, b) = (iceberg(10), iceberg(11));
    assert_eq!(a.snapshot(), b.snapshot());
    assert_ne!(
        flowmatch_journal::state_hash(&a),
        flowmatch_journal::state_hash(&b)
    );
}

/// Midpoint pegs caught by a snapshot (worked by hand from docs/SEMANTICS.md, "Midpoint
/// peg orders"): after command 5 the touch is 98/104 (midpoint 101) and three pegs rest
/// in arrival order: sell 3 (cap 103), buy 4 (no cap, STP CB) and sell 5 (cap 102, STP DC,
/// account 4 like buy 4), none admitting the midpoint together. In the tail, bid 102
/// moves the midpoint to 103: buy 4 crosses sell 3 as the taker (it arrived later: a
/// rebuild that put buys before sells would make 3 the taker), then sell 5 meets its own
/// owner's buy 4 as the taker and its DC mode cancels 1 of each; the replace re-enters
/// peg 5 with cap 101, a new buy peg waits with cap 101 below the midpoint, and a market
/// sell takes bid 102, so the midpoint falls to 101 and the two pegs cross there.
const PEG_STREAM: &str = "\
N,1,1,B,L,98,10
N,2,2,S,L,104,10
N,3,3,S,P,103,5
N,4,4,B,P,,6,GTC,CB
N,5,4,S,P,102,3,GTC,DC
N,6,5,B,L,102,1
R,5,101,4
N,8,7,B,P,101,2
N,7,6,S,M,,1
";

/// Recovery from a snapshot holding midpoint pegs gives the uninterrupted run: the
/// snapshot records each peg (side, cap, open quantity, STP mode) in arrival order across
/// both sides, and the recovered tail events (which show the later arrival as taker, the
/// restored STP mode and caps at work), book and state hash are the uninterrupted
/// replay's and the reference book's.
#[test]
fn recover_from_a_snapshot_with_midpoint_pegs_gives_the_uninterrupted_run() {
    use flowmatch_core::{Side, Stp};
    let s = Setup::new();
    let opts = ["--snapshot-every", "5"];
    let got = recovery_matches_the_uninterrupted_run(&s, PEG_STREAM, &opts, 5);
    let pegs: Vec<_> = got.snap.books[0]
        .pegs
        .iter()
        .map(|p| (p.id, p.side, p.cap, p.open_qty, p.stp))
        .collect();
    assert_eq!(
        pegs,
        [
            (3, Side::Sell, Some(103), 5, Stp::None),
            (4, Side::Buy, None, 6, Stp::CancelBoth),
            (5, Side::Sell, Some(102), 3, Stp::DecrementCancel),
        ]
    );
    for line in [
        "6,TRD,4,3,103,5\n",
        "6,CXL,4,1,STP,B,\n",
        "6,CXL,5,1,STP,S,102\n",
        "9,TRD,8,5,101,2\n",
    ] {
        assert!(got.tail.contains(line), "{line} in {}", got.tail);
    }
    // The peg still resting at the end is in the recovered dump (the oracle's).
    assert!(std::fs::read_to_string(s.path("rec.txt"))
        .unwrap()
        .contains("S,MID,5,2,101\n"));
}
