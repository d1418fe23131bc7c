//! Real-data check: the LOBSTER AAPL sample (NASDAQ, 2012-06-21, the first 999 messages of
//! the level-10 files) replayed through `FastBook` and `ReferenceBook`, with NASDAQ's own
//! book — the orderbook file — as the oracle after every message.
//!
//! What can be checked, and why not everything:
//! - The orderbook file shows 10 levels per side. The message file only records events
//!   that touch those 10 levels, so whatever happens deeper is invisible. A price that has
//!   once been beyond the 10th level (the row's *horizon*) may have changed out of sight;
//!   the data proves it (message 13: the ask level 5876500 × 1160 of the first row, pushed
//!   out by new asks, is gone when it comes back into view, with no message about it).
//! - So a price is *known* only while it has stayed within every horizon since we last
//!   learned it. Two replays use that rule:
//!   - `strict`: the only knowledge is the seed (row 1 with message 1 undone); the known
//!     region per side is everything no worse than the shallowest horizon seen so far. No
//!     oracle data ever flows into the books after the seed.
//!   - `resync`: after each row has been checked, levels that just came into view from
//!     beyond the previous horizon are set to the row's sizes (a synthetic order grows or
//!     shrinks; see `Converter::resync_level`), so the next rows can be checked on all
//!     levels but the ones that newly come into view.
//! - Within the known region, every level (price and aggregate size) must equal the row;
//!   the two books must emit identical events and hold identical books; every command must
//!   be accepted, and nothing may trade (the file holds no aggressors).

use flowmatch::core::*;
use flowmatch::harness::lobster::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const MESSAGES: &str = "AAPL_2012-06-21_34200000_57600000_message_10.csv";
const ORDERBOOK: &str = "AAPL_2012-06-21_34200000_57600000_orderbook_10.csv";

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/lobster")
}

/// Loads the sample. A missing file fails the test: CI has the data at this path.
fn load() -> (Vec<Message>, Vec<BookRow>) {
    let dir = data_dir();
    let msgs = read_messages(&dir.join(MESSAGES))
        .unwrap_or_else(|e| panic!("LOBSTER sample must be present (CI has it): {e}"));
    let rows = read_orderbook(&dir.join(ORDERBOOK))
        .unwrap_or_else(|e| panic!("LOBSTER sample must be present (CI has it): {e}"));
    // 999 lines; the last has no trailing newline (so `wc -l` says 998).
    assert_eq!(msgs.len(), 999, "message count of the sample");
    assert_eq!(rows.len(), msgs.len(), "one orderbook row per message");
    (msgs, rows)
}

/// `a` no worse than `b` for a resting order of `side` (`None` = unbounded depth).
fn within(side: Side, price: Price, bound: Option<Price>) -> bool {
    match bound {
        None => true,
        Some(b) => !side.better(b, price),
    }
}

/// The shallower of two depth bounds.
fn shallower(side: Side, a: Option<Price>, b: Option<Price>) -> Option<Price> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(if side.better(a, b) { a } else { b }),
    }
}

/// Level aggregates are `u128` in the book's view (sums of `u64` quantities).
fn levels<B: OrderBook>(book: &B, side: Side, bound: Option<Price>) -> Vec<(Price, u128)> {
    let mut v = Vec::new();
    book.for_each_level(side, &mut |l| {
        if within(side, l.price, bound) {
            v.push((l.price, l.total_qty));
        }
    });
    v
}

#[derive(Default, Debug)]
struct Stats {
    commands: usize,
    rejects: usize,
    trades: usize,
    /// Messages the converter could not apply, with the message line.
    inconsistent: Vec<(usize, Inconsistency, bool)>,
    /// Rows whose every occupied level lay in the known region and was compared.
    fully_checked: usize,
    levels_compared: usize,
    levels_shown: usize,
    mismatches: Vec<String>,
    resync_levels: usize,
    resync_touched: HashSet<OrderId>,
}

struct Replay {
    fast: FastBook,
    reference: ReferenceBook,
    conv: Converter,
    stats: Stats,
    ev_fast: Vec<Event>,
    ev_ref: Vec<Event>,
}

impl Replay {
    fn new() -> Self {
        let cfg = BookConfig {
            capacity: 4096,
            ..Default::default()
        };
        Replay {
            fast: FastBook::new(cfg),
            reference: ReferenceBook::new(cfg),
            conv: Converter::new(),
            stats: Stats::default(),
            ev_fast: Vec::new(),
            ev_ref: Vec::new(),
        }
    }

    fn send(&mut self, cmd: &Command, line: usize) {
        self.ev_fast.clear();
        self.ev_ref.clear();
        self.fast.apply(cmd, &mut self.ev_fast);
        self.reference.apply(cmd, &mut self.ev_ref);
        assert_eq!(
            self.ev_fast, self.ev_ref,
            "message line {line}: {cmd:?}: events differ"
        );
        self.stats.commands += 1;
        for e in &self.ev_fast {
            match e {
                Event::Reject { .. } => self.stats.rejects += 1,
                Event::Trade { .. } => self.stats.trades += 1,
                _ => {}
            }
        }
    }
}

/// Replays the whole sample. `resync` selects the mode described in the module docs.
fn replay(resync: bool) -> Stats {
    let (msgs, rows) = load();
    let dir = data_dir();
    let pre = book_before_first(&rows[0], &msgs[0], &dir.join(MESSAGES))
        .expect("message 1 agrees with row 1");
    let mut r = Replay::new();
    for cmd in r.conv.seed(&pre) {
        r.send(&cmd, 0);
    }
    // What the seed can vouch for: row 1's horizon (undoing an add may have removed a
    // level, and the level that then was 10th before message 1 is not in the data).
    let mut known = [Side::Buy, Side::Sell].map(|s| rows[0].horizon(s));
    for (m, row) in msgs.iter().zip(&rows) {
        match r.conv.convert(m) {
            Mapping::Apply(cmd) => r.send(&cmd, m.line),
            Mapping::NoBookChange => {}
            Mapping::Inconsistent(why) => {
                let in_known = within(m.side, m.price, known[side_ix(m.side)]);
                r.stats.inconsistent.push((m.line, why, in_known));
            }
        }
        assert_eq!(
            r.fast.snapshot(),
            r.reference.snapshot(),
            "message line {}: books differ",
            m.line
        );

        let mut full = true;
        for side in [Side::Buy, Side::Sell] {
            let k = side_ix(side);
            // Everything deeper than this row's horizon may change out of sight from now on.
            let bound = shallower(side, known[k], row.horizon(side));
            let ours = levels(&r.fast, side, bound);
            let theirs: Vec<(Price, u128)> = row
                .side(side)
                .iter()
                .filter(|l| within(side, l.0, bound))
                .map(|&(price, qty)| (price, qty as u128))
                .collect();
            r.stats.levels_compared += theirs.len();
            r.stats.levels_shown += row.side(side).len();
            full &= theirs.len() == row.side(side).len();
            if ours != theirs {
                r.stats.mismatches.push(format!(
                    "message line {} {side:?} (known to {bound:?}): ours {ours:?} vs NASDAQ {theirs:?}",
                    m.line
                ));
            }
            if resync {
                // Learn the levels that came into view: those beyond the old bound and
                // within this row's horizon, plus any we hold there that the row lacks.
                let fresh =
                    |p: Price| !within(side, p, known[k]) && within(side, p, row.horizon(side));
                let mut prices: Vec<Price> = row
                    .side(side)
                    .iter()
                    .map(|l| l.0)
                    .filter(|&p| fresh(p))
                    .collect();
                prices.extend(r.conv.level_prices(side).into_iter().filter(|&p| fresh(p)));
                prices.sort_unstable();
                prices.dedup();
                for p in prices {
                    let target = row.side(side).iter().find(|l| l.0 == p).map_or(0, |l| l.1);
                    let (cmds, touched) = r.conv.resync_level(side, p, target);
                    r.stats.resync_levels += usize::from(!cmds.is_empty());
                    r.stats.resync_touched.extend(touched);
                    for c in cmds {
                        r.send(&c, m.line);
                    }
                }
                known[k] = row.horizon(side);
            } else {
                known[k] = bound;
            }
        }
        r.stats.fully_checked += usize::from(full);
    }
    r.stats
}

fn side_ix(s: Side) -> usize {
    match s {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

/// Messages of type 2/3/4 naming an id the file never added before them: the only ones
/// that can lack liquidity to act on (an upper bound for inconsistencies), computed from
/// the message file alone.
fn never_added_refs(msgs: &[Message]) -> usize {
    let mut added = HashSet::new();
    let mut n = 0;
    for m in msgs {
        match m.kind {
            EventType::Add => {
                added.insert(m.order_id);
            }
            EventType::PartialCancel | EventType::Delete | EventType::Execute => {
                n += usize::from(!added.contains(&m.order_id));
            }
            _ => {}
        }
    }
    n
}

fn summary(name: &str, s: &Stats) -> String {
    format!(
        "{name}: {} commands, {} REJ, {} TRD, {} inconsistent {:?}, {}/999 messages fully checked, \
         {}/{} shown levels compared ({:.1}%), {} levels resynced, mismatches {}: {:?}",
        s.commands,
        s.rejects,
        s.trades,
        s.inconsistent.len(),
        s.inconsistent,
        s.fully_checked,
        s.levels_compared,
        s.levels_shown,
        100.0 * s.levels_compared as f64 / s.levels_shown as f64,
        s.resync_levels,
        s.mismatches.len(),
        s.mismatches.iter().take(5).collect::<Vec<_>>(),
    )
}

#[test]
fn strict_replay_matches_nasdaq_within_the_seeded_region() {
    let s = replay(false);
    let report = summary("strict", &s);
    eprintln!("{report}");
    assert!(s.mismatches.is_empty(), "{report}");
    assert_eq!((s.rejects, s.trades), (0, 0), "{report}");
    // Pre-existing liquidity that the seed cannot know: every message we could not apply
    // must be at a price outside the known region at that moment, and there can be no more
    // of them than messages naming ids the file never added.
    let (msgs, _) = load();
    let bound = never_added_refs(&msgs);
    assert!(s.inconsistent.len() <= bound, "{report} (bound {bound})");
    assert!(
        s.inconsistent.iter().all(|&(_, _, in_known)| !in_known),
        "{report}"
    );
    // Without learning, the known region only shrinks (to the densest book of the
    // morning), so coverage is partial; it must still be substantial.
    assert!(s.levels_compared >= 5_000, "{report}");
    assert!(s.fully_checked >= 15, "{report}");
}

#[test]
fn resync_replay_matches_nasdaq_on_almost_every_level() {
    let s = replay(true);
    let report = summary("resync", &s);
    eprintln!("{report}");
    assert!(s.mismatches.is_empty(), "{report}");
    assert_eq!((s.rejects, s.trades), (0, 0), "{report}");
    // With every visible level learned, an unknown id can only lack liquidity if a resync
    // took it away (its deletion happened out of sight before it was named).
    let (msgs, _) = load();
    assert!(
        s.inconsistent
            .iter()
            .all(|&(line, _, _)| s.resync_touched.contains(&msgs[line - 1].order_id)),
        "{report}"
    );
    assert!(s.inconsistent.len() <= s.resync_touched.len(), "{report}");
    // Levels learned from the oracle are few: they are only the ones that came back into
    // view after changing out of sight.
    assert!(s.resync_levels <= 40, "{report}");
    assert!(s.levels_compared * 100 >= s.levels_shown * 95, "{report}");
    assert!(s.fully_checked * 100 >= 999 * 60, "{report}");
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("flowmatch-lobster-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Copies `file` with line `line` (1-based) rewritten by `edit`.
fn corrupt(file: &str, line: usize, name: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let text =
        std::fs::read_to_string(data_dir().join(file)).expect("LOBSTER sample must be present");
    let out: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line {
                edit(l)
            } else {
                l.to_string()
            }
        })
        .collect();
    let path = temp_dir(name).join(file);
    std::fs::write(&path, out.join("\n") + "\n").unwrap();
    path
}

fn field_error(e: LobsterError) -> (usize, &'static str, String) {
    let shown = e.to_string();
    match e {
        LobsterError::Field { line, field, .. } => (line, field, shown),
        other => panic!("expected a field error, got {other}"),
    }
}

#[test]
fn corrupted_message_line_names_file_line_and_field() {
    // Line 500 of the sample, its price field (5th) made non-numeric.
    let path = corrupt(MESSAGES, 500, "price", |l| {
        let mut f: Vec<&str> = l.split(',').collect();
        f[4] = "58x3800";
        f.join(",")
    });
    let (line, field, shown) = field_error(read_messages(&path).unwrap_err());
    assert_eq!((line, field), (500, "price"), "{shown}");
    assert!(
        shown.contains(MESSAGES) && shown.contains("line 500") && shown.contains("58x3800"),
        "{shown}"
    );

    let path = corrupt(MESSAGES, 7, "type", |l| l.replacen(",1,", ",6,", 1));
    let (line, field, _) = field_error(read_messages(&path).unwrap_err());
    assert_eq!((line, field), (7, "type"));
    let path = corrupt(MESSAGES, 3, "direction", |l| {
        format!("{},0", l.rsplit_once(',').unwrap().0)
    });
    assert_eq!(
        field_error(read_messages(&path).unwrap_err()).1,
        "direction"
    );
    let path = corrupt(MESSAGES, 998, "fields", |l| format!("{l},9"));
    let (line, field, _) = field_error(read_messages(&path).unwrap_err());
    assert_eq!((line, field), (998, "fields"));

    let path = corrupt(ORDERBOOK, 42, "book", |l| l.replacen(",", ",-", 1));
    let (line, field, shown) = field_error(read_orderbook(&path).unwrap_err());
    assert_eq!((line, field), (42, "ask_size"), "{shown}");
    let path = corrupt(ORDERBOOK, 10, "bookw", |l| {
        l.rsplit_once(',').unwrap().0.to_string()
    });
    assert_eq!(field_error(read_orderbook(&path).unwrap_err()).0, 10);

    match read_messages(&temp_dir("missing").join("nope.csv")) {
        Err(LobsterError::Io { file, .. }) => assert!(file.ends_with("nope.csv")),
        other => panic!("missing file must be an I/O error, got {other:?}"),
    }
}
