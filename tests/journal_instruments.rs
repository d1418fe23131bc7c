//! Black-box tests of instrument journals (`replay --journal --instruments`): the real
//! binary on prefixed streams. Oracles: hand-checked event lines and dumps for a small
//! stream, and for the long one a router written here (one `ReferenceBook` per symbol,
//! unknown symbols rejected) with the state hash's canonical form built section by
//! section (`StateHasher`, keys as documented in `cmd::journaled`), never the journal
//! code under test. Snapshots of instrument journals are checked the same way: recovery
//! from the newest snapshot plus the tail against the router, a snapshot of another
//! journal or table refused, and a crash loop with snapshots on.
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
use flowmatch_journal::StateHasher;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::process::{Command as Process, Output, Stdio};

/// Two instruments, the settings of `BookConfig::default()` where the streams go.
const TABLE: &str = "symbol,tick,lot,min_price,max_price,max_order_qty,policy,replace_priority\n\
AAPL,1,1,1,1000000,1000000,price-time,keep-if-reduced\n\
MSFT,1,1,1,1000000,1000000,price-time,keep-if-reduced\n";

/// Hand-checked (the same ids in two instruments, a default line, an unknown symbol).
const SMALL: &str = "MSFT:N,1,1,S,L,300,5\nAAPL:N,1,1,S,L,100,5\nN,9,1,B,L,50,1\n  AAPL:N,2,2,B,L,100,3\nMSFT:C,1\nAAPL:R,1,101,5\nIBM:N,5,1,B,L,10,1\n";
const SMALL_EVENTS: &str = "MSFT:1,ACK,1\nAAPL:2,ACK,1\n3,ACK,9\nAAPL:4,ACK,2\nAAPL:4,TRD,2,1,100,3\nMSFT:5,CXL,1,5,USER,S,300\nAAPL:6,RPL,1\nIBM:7,REJ,5,UNKNOWN_INSTRUMENT\n";
/// Instruments in order of first appearance: MSFT (empty), AAPL, the default book.
const SMALL_BOOK: &str = "AAPL:S,101,1,5\nB,50,9,1\n";

fn flowmatch(args: &[&std::ffi::OsStr]) -> Output {
    Process::new(flowmatch_bin()).args(args).output().unwrap()
}

fn os<P: AsRef<std::ffi::OsStr> + ?Sized>(p: &P) -> &std::ffi::OsStr {
    p.as_ref()
}

fn text_of(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

fn field(out: &str, key: &str) -> String {
    out.split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in {out}"))
        .to_string()
}

/// `recover --book-out`: (last_seq, state_hash, book dump).
fn recover(journal: &Path, book_out: &Path) -> (usize, String, String) {
    let out = flowmatch(&[
        os("recover"),
        os("--journal"),
        os(journal),
        os("--book-out"),
        os(book_out),
    ]);
    let stdout = text_of(&out.stdout);
    assert!(
        out.status.success(),
        "recover failed: {}\n{stdout}",
        text_of(&out.stderr)
    );
    (
        field(&stdout, "last_seq").parse().unwrap(),
        field(&stdout, "state_hash"),
        std::fs::read_to_string(book_out).unwrap(),
    )
}

#[test]
fn journaled_prefixed_replay_recovers_dumps_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let table = dir.path().join("table.csv");
    std::fs::write(&input, SMALL).unwrap();
    std::fs::write(&table, TABLE).unwrap();
    let journal = dir.path().join("j");
    let events = dir.path().join("events.txt");
    let book = dir.path().join("book.txt");
    for fsync in ["none", "batch", "every"] {
        let _ = std::fs::remove_dir_all(&journal);
        let out = flowmatch(&[
            os("replay"),
            os("--input"),
            os(&input),
            os("--instruments"),
            os(&table),
            os("--journal"),
            os(&journal),
            os("--fsync"),
            os(fsync),
            os("--events"),
            os(&events),
            os("--book-out"),
            os(&book),
        ]);
        assert!(out.status.success(), "{fsync}: {}", text_of(&out.stderr));
        assert_eq!(std::fs::read_to_string(&events).unwrap(), SMALL_EVENTS);
        assert_eq!(std::fs::read_to_string(&book).unwrap(), SMALL_BOOK);
        let replay_hash = field(&text_of(&out.stderr), "state_hash");

        let (last, hash, dump) = recover(&journal, &dir.path().join("rbook.txt"));
        assert_eq!((last, dump.as_str()), (7, SMALL_BOOK), "{fsync}");
        assert_eq!(hash, replay_hash);
        assert_eq!(hash, small_hash(), "state hash from the canonical form");
    }

    // The dump is the stream with its prefixes; replayed with the table it gives the
    // same events and book.
    let out = flowmatch(&[os("journal"), os("dump"), os(&journal)]);
    assert!(out.status.success(), "{}", text_of(&out.stderr));
    let dumped = text_of(&out.stdout);
    let commands: Vec<&str> = dumped.lines().filter(|l| !l.starts_with('#')).collect();
    // The dump spells every field (time in force and STP of new orders too).
    let want = [
        "MSFT:N,1,1,S,L,300,5,GTC,NONE",
        "AAPL:N,1,1,S,L,100,5,GTC,NONE",
        "N,9,1,B,L,50,1,GTC,NONE",
        "AAPL:N,2,2,B,L,100,3,GTC,NONE",
        "MSFT:C,1",
        "AAPL:R,1,101,5",
        "IBM:N,5,1,B,L,10,1,GTC,NONE",
    ];
    assert_eq!(commands, want);
    assert!(dumped.contains("--instruments"), "{dumped}");
    let dump_file = dir.path().join("dump.txt");
    std::fs::write(&dump_file, &dumped).unwrap();
    let out = flowmatch(&[
        os("replay"),
        os("--input"),
        os(&dump_file),
        os("--instruments"),
        os(&journal.join("instruments.csv")),
        os("--book-out"),
        os(&book),
    ]);
    assert!(out.status.success(), "{}", text_of(&out.stderr));
    assert_eq!(text_of(&out.stdout), SMALL_EVENTS);
    assert_eq!(std::fs::read_to_string(&book).unwrap(), SMALL_BOOK);

    let out = flowmatch(&[os("journal"), os("verify"), os(&journal)]);
    assert!(out.status.success(), "{}", text_of(&out.stderr));
    assert_eq!(field(&text_of(&out.stdout), "state_hash"), small_hash());

    // A snapshot after command 6 holds MSFT appeared and empty (its order cancelled at
    // 5), AAPL and the default book: recovery from it keeps the three sections in order.
    let snapped = dir.path().join("js");
    let out = flowmatch(&[
        os("replay"),
        os("--input"),
        os(&input),
        os("--instruments"),
        os(&table),
        os("--journal"),
        os(&snapped),
        os("--snapshot-every"),
        os("6"),
    ]);
    assert!(out.status.success(), "{}", text_of(&out.stderr));
    assert!(snapped.join("snapshot-00000000000000000006.fms").exists());
    let out = flowmatch(&[
        os("recover"),
        os("--journal"),
        os(&snapped),
        os("--book-out"),
        os(&book),
    ]);
    let stdout = text_of(&out.stdout);
    assert!(out.status.success(), "{}", text_of(&out.stderr));
    assert_eq!(field(&stdout, "snapshot_seq"), "6", "{stdout}");
    assert_eq!(field(&stdout, "state_hash"), small_hash());
    assert_eq!(std::fs::read_to_string(&book).unwrap(), SMALL_BOOK);
}

/// The small stream's state hash, built here from the canonical form: sections in order
/// of first appearance, MSFT (key 2, empty), AAPL (key 1), the default book (key 0).
fn small_hash() -> String {
    let mut aapl = ReferenceBook::new(BookConfig::default());
    let mut default = ReferenceBook::new(BookConfig::default());
    let mut sink: Vec<Event> = Vec::new();
    aapl.apply(
        &text::parse_command("N,1,1,S,L,101,5", 1).unwrap().unwrap(),
        &mut sink,
    );
    default.apply(
        &text::parse_command("N,9,1,B,L,50,1", 1).unwrap().unwrap(),
        &mut sink,
    );
    let mut h = StateHasher::new();
    h.add_book(2, &ReferenceBook::new(BookConfig::default()));
    h.add_book(1, &aapl);
    h.add_book(0, &default);
    h.finish().to_string()
}

#[test]
fn refusals_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let table = dir.path().join("table.csv");
    std::fs::write(&input, SMALL).unwrap();
    std::fs::write(&table, TABLE).unwrap();
    let journal = dir.path().join("j");
    // Prefixed lines without a table: refused at the line, naming --instruments.
    let out = flowmatch(&[
        os("replay"),
        os("--input"),
        os(&input),
        os("--journal"),
        os(&journal),
    ]);
    let err = text_of(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("line 1") && err.contains("--instruments"),
        "{err}"
    );
    // A directory that is not a journal.
    let out = flowmatch(&[os("journal"), os("verify"), os(dir.path())]);
    let err = text_of(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is not a journal directory"), "{err}");
}

/// Where a command goes in the long stream.
#[derive(Clone, Copy, PartialEq)]
enum Route {
    Default,
    Aapl,
    Msft,
    Unknown,
}

impl Route {
    fn prefix(self) -> &'static str {
        match self {
            Route::Default => "",
            Route::Aapl => "AAPL:",
            Route::Msft => "MSFT:",
            Route::Unknown => "IBM:",
        }
    }
}

fn long_stream(seed: u64, n: usize) -> Vec<(Route, Command)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut live: Vec<(Route, u64)> = Vec::new();
    let mut out = Vec::with_capacity(n);
    for i in 1..=n as u64 {
        let x: f64 = rng.random();
        let route = match rng.random_range(0..20) {
            0..=7 => Route::Aapl,
            8..=15 => Route::Msft,
            16..=18 => Route::Default,
            _ => Route::Unknown,
        };
        if x < 0.6 || live.len() < 10 {
            let side = if rng.random_bool(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            let off: i64 = rng.random_range(-8..=12);
            let price = match side {
                Side::Buy => 1000 - off,
                Side::Sell => 1000 + off,
            };
            // Some icebergs and midpoint pegs: their reserves, and the pegs (with caps, in
            // arrival order across sides), are state a snapshot must carry.
            let qty = rng.random_range(1..=100);
            let iceberg = rng.random_bool(0.15);
            let peg = !iceberg && rng.random_bool(0.08);
            let ord_type = if iceberg {
                OrdType::Iceberg {
                    display: rng.random_range(1..=qty),
                }
            } else if peg {
                OrdType::MidPeg
            } else {
                OrdType::Limit
            };
            let price = (!peg || rng.random_bool(0.7)).then_some(price);
            out.push((
                route,
                Command::New(NewOrder {
                    id: i,
                    account: rng.random_range(1..=40),
                    side,
                    ord_type,
                    price,
                    qty,
                    tif: if !iceberg && rng.random_bool(0.05) {
                        Tif::Ioc
                    } else {
                        Tif::Gtc
                    },
                    stp: if rng.random_bool(0.1) {
                        Stp::CancelTaker
                    } else {
                        Stp::None
                    },
                }),
            ));
            if route != Route::Unknown {
                live.push((route, i));
            }
        } else if x < 0.85 {
            let (route, id) = live.swap_remove(rng.random_range(0..live.len()));
            out.push((route, Command::Cancel { id }));
        } else {
            let (route, id) = live[rng.random_range(0..live.len())];
            out.push((
                route,
                Command::Replace {
                    id,
                    price: 1000 + rng.random_range(-10..=10),
                    qty: rng.random_range(1..=100),
                },
            ));
        }
    }
    out
}

/// The router oracle: a reference book per instrument, first-appearance order.
struct Oracle {
    books: Vec<(Route, ReferenceBook)>,
    applied: usize,
    events: Vec<String>,
}

impl Oracle {
    fn advance(&mut self, cmds: &[(Route, Command)], n: usize) {
        assert!(n >= self.applied, "the journal shrank");
        while self.applied < n {
            let (route, cmd) = cmds[self.applied];
            self.applied += 1;
            let mut ev: Vec<Event> = Vec::new();
            if route == Route::Unknown {
                ev.push(Event::Reject {
                    id: cmd.id(),
                    reason: flowmatch_core::RejectReason::UnknownInstrument,
                });
            } else {
                if !self.books.iter().any(|b| b.0 == route) {
                    self.books
                        .push((route, ReferenceBook::new(BookConfig::default())));
                }
                let book = &mut self.books.iter_mut().find(|b| b.0 == route).unwrap().1;
                book.apply(&cmd, &mut ev);
            }
            let mut s = String::new();
            for e in &ev {
                s.push_str(route.prefix());
                text::write_event(&mut s, self.applied as u64, e).unwrap();
            }
            self.events.push(s);
        }
    }

    fn hash(&self) -> String {
        let mut h = StateHasher::new();
        for (route, book) in &self.books {
            let key = match route {
                Route::Default => 0,
                Route::Aapl => 1,
                Route::Msft => 2,
                Route::Unknown => unreachable!(),
            };
            h.add_book(key, book);
        }
        h.finish().to_string()
    }

    fn dump(&self) -> String {
        let mut s = String::new();
        for (route, book) in &self.books {
            book.for_each_order(&mut |o| {
                s.push_str(route.prefix());
                text::write_book_line(&mut s, o).unwrap();
            });
            // Then the book's pegs, buys then sells, each in time priority.
            text::write_peg_lines(&mut s, route.prefix(), &|f| book.for_each_peg(f)).unwrap();
        }
        s
    }
}

/// SIGKILLs at random points of a journaled prefixed replay under `batch`; after each,
/// `recover` holds every acknowledged command and the router's state at its last record;
/// `--resume` continues; the last run's events are the rest of the uninterrupted run's.
/// A round whose runs get far between kills finishes early; another starts on a fresh
/// journal until there were 12 kills.
#[test]
fn sigkilled_instrument_replay_recovers_every_acknowledged_command() {
    const N: usize = 100_000;
    const KILLS: usize = 12;
    let cmds = long_stream(13, N);
    let mut input = String::with_capacity(N * 36);
    for (route, cmd) in &cmds {
        input.push_str(route.prefix());
        text::write_command(&mut input, cmd).unwrap();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (mut kills, mut rounds) = (0, 0);
    while kills < KILLS {
        rounds += 1;
        assert!(rounds <= 6, "only {kills} kills in {rounds} rounds");
        let dir = tempfile::tempdir().unwrap();
        kills += round(dir.path(), &cmds, &input, &mut rng, KILLS - kills, None);
    }
}

/// The crash loop with snapshots every 2,500 commands: recovery starts from the newest
/// snapshot before each kill point, and must still give the router's state.
#[test]
fn sigkilled_instrument_replay_with_snapshots_recovers() {
    const N: usize = 40_000;
    const KILLS: usize = 8;
    let cmds = long_stream(17, N);
    let input = input_of(&cmds);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (mut kills, mut rounds) = (0, 0);
    while kills < KILLS {
        rounds += 1;
        assert!(rounds <= 6, "only {kills} kills in {rounds} rounds");
        let dir = tempfile::tempdir().unwrap();
        kills += round(
            dir.path(),
            &cmds,
            &input,
            &mut rng,
            KILLS - kills,
            Some("2500"),
        );
    }
}

fn input_of(cmds: &[(Route, Command)]) -> String {
    let mut input = String::with_capacity(cmds.len() * 36);
    for (route, cmd) in cmds {
        input.push_str(route.prefix());
        text::write_command(&mut input, cmd).unwrap();
    }
    input
}

/// `replay --journal --instruments --snapshot-every` into `journal` (fsync `none`).
fn journal_with_snapshots(dir: &Path, journal: &Path, input: &str, table: &str, every: &str) {
    let input_path = dir.join("in.txt");
    let table_path = dir.join("table.csv");
    std::fs::write(&input_path, input).unwrap();
    std::fs::write(&table_path, table).unwrap();
    let out = flowmatch(&[
        os("replay"),
        os("--input"),
        os(&input_path),
        os("--instruments"),
        os(&table_path),
        os("--journal"),
        os(journal),
        os("--fsync"),
        os("none"),
        os("--snapshot-every"),
        os(every),
        os("--events"),
        os(&dir.join("events.txt")),
    ]);
    assert!(out.status.success(), "{}", text_of(&out.stderr));
}

/// Snapshots of an instrument journal: recovery from the newest one plus the tail gives
/// the router oracle's state hash and book (the uninterrupted run's), and says which
/// snapshot it used; `journal verify` checks every snapshot against a replay from the
/// start.
#[test]
fn instrument_snapshots_recover_to_the_uninterrupted_state() {
    const N: usize = 20_000;
    let cmds = long_stream(21, N);
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j");
    journal_with_snapshots(dir.path(), &journal, &input_of(&cmds), TABLE, "3000");
    let mut oracle = Oracle {
        books: Vec::new(),
        applied: 0,
        events: Vec::new(),
    };
    oracle.advance(&cmds, N);
    let out = flowmatch(&[
        os("recover"),
        os("--journal"),
        os(&journal),
        os("--book-out"),
        os(&dir.path().join("book.txt")),
    ]);
    let stdout = text_of(&out.stdout);
    assert!(out.status.success(), "{}", text_of(&out.stderr));
    assert_eq!(field(&stdout, "snapshot_seq"), "18000", "{stdout}");
    assert_eq!(field(&stdout, "tail_commands"), "2000", "{stdout}");
    // The snapshot recovered from holds icebergs' reserves (so the state above depends
    // on them coming back).
    let bytes = std::fs::read(journal.join("snapshot-00000000000000018000.fms")).unwrap();
    let snap = flowmatch_harness::journaled::decode_snapshot(&bytes).unwrap();
    let icebergs: usize = snap.books.iter().map(|b| b.icebergs.len()).sum();
    assert!(icebergs >= 10, "only {icebergs} icebergs in the snapshot");
    let pegs: usize = snap.books.iter().map(|b| b.pegs.len()).sum();
    assert!(pegs >= 3, "only {pegs} midpoint pegs in the snapshot");
    assert_eq!(field(&stdout, "last_seq"), N.to_string());
    assert_eq!(field(&stdout, "state_hash"), oracle.hash());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("book.txt")).unwrap(),
        oracle.dump()
    );
    // The tail's events are the uninterrupted run's for commands 18001..=20000.
    let events = dir.path().join("tail.txt");
    let out = flowmatch(&[
        os("recover"),
        os("--journal"),
        os(&journal),
        os("--events"),
        os(&events),
    ]);
    assert!(out.status.success(), "{}", text_of(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&events).unwrap(),
        oracle.events[18_000..].concat()
    );
    let out = flowmatch(&[os("journal"), os("verify"), os(&journal)]);
    let stdout = text_of(&out.stdout);
    assert!(out.status.success(), "{}", text_of(&out.stderr));
    assert_eq!(field(&stdout, "snapshots"), "6", "{stdout}");
    assert_eq!(field(&stdout, "state_hash"), oracle.hash());
}

/// A snapshot that is not its journal's is refused (exit 2, naming the snapshot): one
/// from a journal of another stream (the record chain differs), one from a journal of
/// the same stream under another instrument table (the table's checksum differs).
#[test]
fn instrument_snapshot_not_matching_its_journal_is_refused() {
    const N: usize = 4_000;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    let stream = input_of(&long_stream(31, N));
    journal_with_snapshots(dir.path(), &a, &stream, TABLE, "1000");
    journal_with_snapshots(
        dir.path(),
        &b,
        &input_of(&long_stream(32, N)),
        TABLE,
        "1000",
    );
    let table2 = format!("{TABLE}GOOG,1,1,1,1000000,1000000,price-time,keep-if-reduced\n");
    journal_with_snapshots(dir.path(), &c, &stream, &table2, "1000");
    let name = "snapshot-00000000000000004000.fms";
    let original = std::fs::read(a.join(name)).unwrap();
    for (from, why) in [
        (&b, "not taken from this journal"),
        (&c, "instrument table"),
    ] {
        std::fs::copy(from.join(name), a.join(name)).unwrap();
        let out = flowmatch(&[os("recover"), os("--journal"), os(&a)]);
        let err = text_of(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("refused") && err.contains(name), "{err}");
        assert!(err.contains(why), "{why}: {err}");
    }
    std::fs::write(a.join(name), original).unwrap();
    let out = flowmatch(&[os("recover"), os("--journal"), os(&a)]);
    assert!(out.status.success(), "{}", text_of(&out.stderr));
}

/// One journal: kills until `max_kills` or the stream's end; returns the kills.
fn round(
    dir: &Path,
    cmds: &[(Route, Command)],
    input: &str,
    rng: &mut ChaCha8Rng,
    max_kills: usize,
    snapshot_every: Option<&str>,
) -> usize {
    let input_path = dir.join("stream.txt");
    let table = dir.join("table.csv");
    std::fs::write(&input_path, input).unwrap();
    std::fs::write(&table, TABLE).unwrap();
    let journal = dir.join("journal");
    let book_out = dir.join("book.txt");
    let final_book = dir.join("final.txt");
    let mut oracle = Oracle {
        books: Vec::new(),
        applied: 0,
        events: Vec::new(),
    };
    let (mut kills, mut recovered, mut runs) = (0, 0usize, 0);
    loop {
        runs += 1;
        assert!(runs <= max_kills + 5, "the stream never finished");
        let last_run = kills >= max_kills;
        let mut child = Process::new(flowmatch_bin())
            .args(["replay", "--input"])
            .arg(&input_path)
            .arg("--instruments")
            .arg(&table)
            .arg("--journal")
            .arg(&journal)
            .args(["--fsync", "batch", "--resume", "--book-out"])
            .arg(&final_book)
            .args(snapshot_every.map_or(vec![], |n| vec!["--snapshot-every", n]))
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
            "run {runs}: {acked} acknowledged, journal ends at {last}"
        );
        oracle.advance(cmds, last);
        assert_eq!(hash, oracle.hash(), "run {runs}: state hash after {last}");
        assert_eq!(dump, oracle.dump(), "run {runs}: book after {last}");
        if !status.success() {
            kills += 1;
            recovered = last;
            continue;
        }
        assert_eq!(last, cmds.len());
        assert_eq!(
            seen,
            oracle.events[recovered..].concat(),
            "last run's events"
        );
        assert_eq!(std::fs::read_to_string(&final_book).unwrap(), oracle.dump());
        return kills;
    }
}
