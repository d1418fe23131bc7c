//! Runs the hand-checked scenario files in `tests/scenarios/*.scn` through both books.
//!
//! A scenario file is the spec worked out by hand: commands, the exact events they must
//! produce and the exact book they must leave. The books are the things under test, so
//! nothing here derives an expectation from either of them.
//!
//! ```text
//! # what this scenario checks (required)
//! [config]            (optional)  policy = pro-rata | pro-rata-top | price-time
//! max_qty = N                     min_price = P          max_price = P
//! replace_priority = keep-if-reduced | always-requeue
//! [commands]          command lines in the `flowmatch replay` input format
//! [events]            expected event lines, `seq,...`
//! [book]              expected book dump lines (may be empty: an empty book)
//! ```
//!
//! Blank lines and `#` comments are ignored in every section. Besides events and the
//! final book, every command is followed by structural checks: the book is not crossed,
//! each level's reported aggregate equals the sum of its orders, `depth_at` agrees with
//! those sums at every resting price and next to it (0 where nothing rests), and a level
//! walk told to stop after two levels visits no more.

use flowmatch::core::{
    BookConfig, Event, FastBook, MatchPolicy, OrderBook, ReferenceBook, ReplacePriority, Side, Sink,
};
use flowmatch::harness::text;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

struct Scenario {
    path: PathBuf,
    cfg: BookConfig,
    /// (line number in the file, command)
    commands: Vec<(usize, flowmatch::core::Command)>,
    events: Vec<String>,
    book: Vec<String>,
}

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios")
}

fn load_all() -> Vec<Scenario> {
    let dir = scenario_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no .scn scenario files in {}",
        dir.display()
    );
    paths
        .iter()
        .map(|p| parse_scenario(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

#[derive(PartialEq, Clone, Copy)]
enum Section {
    Header,
    Config,
    Commands,
    Events,
    Book,
}

fn parse_scenario(path: &Path) -> Result<Scenario, String> {
    let src = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut cfg = BookConfig::default();
    let mut commands = Vec::new();
    let mut events = Vec::new();
    let mut book = Vec::new();
    let mut section = Section::Header;
    let mut seen: Vec<&str> = Vec::new();
    let mut has_comment = false;

    for (i, raw) in src.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.starts_with('#') {
            if section == Section::Header {
                has_comment = true;
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            let name = line.trim_start_matches('[').trim_end_matches(']');
            if seen.contains(&name) {
                return Err(format!("line {line_no}: section [{name}] repeated"));
            }
            section = match name {
                "config" if seen.is_empty() => Section::Config,
                "commands" => Section::Commands,
                "events" if seen.contains(&"commands") => Section::Events,
                "book" if seen.contains(&"events") => Section::Book,
                _ => return Err(format!("line {line_no}: unexpected section {line}")),
            };
            seen.push(name);
            continue;
        }
        match section {
            Section::Header => {
                return Err(format!("line {line_no}: text before the first section"))
            }
            Section::Config => {
                let (k, v) = line
                    .split_once('=')
                    .ok_or_else(|| format!("line {line_no}: expected key = value"))?;
                let (k, v) = (k.trim(), v.trim());
                let bad = |what: &str| format!("line {line_no}: bad {what}: {v:?}");
                match k {
                    "policy" => {
                        cfg.policy = match v {
                            "price-time" => MatchPolicy::PriceTime,
                            "pro-rata" => MatchPolicy::ProRata { top_order: false },
                            "pro-rata-top" => MatchPolicy::ProRata { top_order: true },
                            _ => return Err(bad("policy")),
                        }
                    }
                    "replace_priority" => {
                        cfg.replace_priority = match v {
                            "keep-if-reduced" => ReplacePriority::KeepIfReduced,
                            "always-requeue" => ReplacePriority::AlwaysRequeue,
                            _ => return Err(bad("replace_priority")),
                        }
                    }
                    "max_qty" => cfg.max_order_qty = v.parse().map_err(|_| bad("max_qty"))?,
                    "min_price" => cfg.min_price = v.parse().map_err(|_| bad("min_price"))?,
                    "max_price" => cfg.max_price = v.parse().map_err(|_| bad("max_price"))?,
                    _ => return Err(format!("line {line_no}: unknown config key {k:?}")),
                }
            }
            Section::Commands => match text::parse_command(line, line_no) {
                Ok(Some(c)) => commands.push((line_no, c)),
                Ok(None) => {}
                Err(e) => return Err(e.to_string()),
            },
            Section::Events => events.push(line.to_string()),
            Section::Book => book.push(line.to_string()),
        }
    }
    if !has_comment {
        return Err("missing the leading # comment saying what the scenario checks".into());
    }
    for required in ["commands", "events", "book"] {
        if !seen.contains(&required) {
            return Err(format!("missing [{required}] section"));
        }
    }
    if commands.is_empty() || events.is_empty() {
        return Err("a scenario needs commands and expected events".into());
    }
    Ok(Scenario {
        path: path.to_path_buf(),
        cfg,
        commands,
        events,
        book,
    })
}

/// Collects event lines as text, tagged with the current command index.
struct Lines {
    seq: u64,
    out: Vec<String>,
}

impl Sink<Event> for Lines {
    fn event(&mut self, e: Event) {
        self.out.push(text::event_line(self.seq, &e));
    }
}

/// Book not crossed; per-level aggregate equals the sum of that level's orders.
fn check_structure<B: OrderBook>(book: &B) -> Result<(), String> {
    if let (Some(b), Some(a)) = (book.best_bid(), book.best_ask()) {
        if b >= a {
            return Err(format!("book crossed: best bid {b} >= best ask {a}"));
        }
    }
    let orders = book.snapshot();
    if orders.len() != book.len() {
        return Err(format!(
            "len() = {} but the dump has {} orders",
            book.len(),
            orders.len()
        ));
    }
    // Midpoint pegs are in no level and not in len(); pegs() counts what for_each_peg
    // (the dump's MID lines) lists.
    let mut pegs = 0;
    book.for_each_peg(&mut |_| pegs += 1);
    if pegs != book.pegs() {
        return Err(format!(
            "pegs() = {} but {pegs} pegs are listed",
            book.pegs()
        ));
    }
    for side in [Side::Buy, Side::Sell] {
        let mut levels = Vec::new();
        book.for_each_level(side, &mut |l| levels.push(*l));
        let mut expected: Vec<(i64, u128, usize)> = Vec::new();
        for o in orders.iter().filter(|o| o.side == side) {
            match expected.last_mut() {
                Some(last) if last.0 == o.price => {
                    last.1 += o.open_qty as u128;
                    last.2 += 1;
                }
                _ => expected.push((o.price, o.open_qty as u128, 1)),
            }
        }
        let got: Vec<(i64, u128, usize)> = levels
            .iter()
            .map(|l| (l.price, l.total_qty, l.orders))
            .collect();
        if got != expected {
            return Err(format!(
                "{side:?} levels {got:?} disagree with the orders {expected:?}"
            ));
        }
        let mut visited = 0;
        book.for_each_level_while(side, &mut |_| {
            visited += 1;
            visited < 2
        });
        if visited != levels.len().min(2) {
            return Err(format!(
                "{side:?}: a level walk stopping at the second level visited {visited} of {}",
                levels.len()
            ));
        }
    }
    // depth_at against the sums of the dumped orders, at every resting price and its
    // neighbours, on both sides (a price with nothing resting on that side is 0).
    let mut depth: BTreeMap<(bool, i64), u128> = BTreeMap::new();
    for o in &orders {
        *depth.entry((o.side == Side::Buy, o.price)).or_default() += o.open_qty as u128;
    }
    for &(_, price) in depth.keys() {
        let around = [price.checked_sub(1), Some(price), price.checked_add(1)];
        for p in around.into_iter().flatten() {
            for side in [Side::Buy, Side::Sell] {
                let want = depth.get(&(side == Side::Buy, p)).copied().unwrap_or(0);
                let got = book.depth_at(side, p);
                if got != want {
                    return Err(format!(
                        "depth_at({side:?}, {p}) = {got}, orders say {want}"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// First difference between expected and actual lines, described for a person.
fn first_diff(what: &str, expected: &[String], actual: &[String]) -> Option<String> {
    let n = expected.len().max(actual.len());
    for i in 0..n {
        let (e, a) = (expected.get(i), actual.get(i));
        if e != a {
            return Some(format!(
                "{what} line {}: expected {}, got {}\n    expected {what}:\n      {}\n    actual {what}:\n      {}",
                i + 1,
                e.map_or("<nothing>".to_string(), |s| format!("{s:?}")),
                a.map_or("<nothing>".to_string(), |s| format!("{s:?}")),
                expected.join("\n      "),
                actual.join("\n      "),
            ));
        }
    }
    None
}

fn run_one<B: OrderBook>(sc: &Scenario, mut book: B) -> Result<(), String> {
    let mut sink = Lines {
        seq: 0,
        out: Vec::new(),
    };
    for (i, (line_no, cmd)) in sc.commands.iter().enumerate() {
        sink.seq = i as u64 + 1;
        book.apply(cmd, &mut sink);
        check_structure(&book)
            .map_err(|e| format!("after command {} (file line {line_no}): {e}", i + 1))?;
    }
    if let Some(d) = first_diff("events", &sc.events, &sink.out) {
        return Err(d);
    }
    let dump: Vec<String> = text::book_dump(&book).lines().map(String::from).collect();
    if let Some(d) = first_diff("book", &sc.book, &dump) {
        return Err(d);
    }
    Ok(())
}

fn run_all<B: OrderBook>(name: &str, make: impl Fn(BookConfig) -> B) {
    let scenarios = load_all();
    let mut failures = Vec::new();
    for sc in &scenarios {
        if let Err(e) = run_one(sc, make(sc.cfg)) {
            failures.push(format!("{}: {e}", sc.path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{name} book failed {} of {} scenarios:\n\n{}",
        failures.len(),
        scenarios.len(),
        failures.join("\n\n")
    );
}

#[test]
fn reference_book_passes_every_scenario() {
    run_all("reference", ReferenceBook::new);
}

#[test]
fn fast_book_passes_every_scenario() {
    run_all("fast", FastBook::new);
}

/// The runner itself must refuse malformed scenario files rather than pass them vacuously.
#[test]
fn runner_rejects_incomplete_scenarios() {
    let scratch = tempfile::tempdir().expect("temporary directory");
    let dir = scratch.path();
    let cases = [
        ("no_events", "# c\n[commands]\nC,1\n[book]\n"),
        (
            "no_book",
            "# c\n[commands]\nC,1\n[events]\n1,REJ,1,UNKNOWN_ID\n",
        ),
        (
            "no_comment",
            "[commands]\nC,1\n[events]\n1,REJ,1,UNKNOWN_ID\n[book]\n",
        ),
        ("empty_events", "# c\n[commands]\nC,1\n[events]\n[book]\n"),
        (
            "bad_command",
            "# c\n[commands]\nC,x\n[events]\n1,REJ,1,UNKNOWN_ID\n[book]\n",
        ),
        (
            "bad_config",
            "# c\n[config]\npolicy = lifo\n[commands]\nC,1\n[events]\n1,REJ,1,UNKNOWN_ID\n[book]\n",
        ),
    ];
    for (name, body) in cases {
        let p = dir.join(format!("{name}.scn"));
        std::fs::write(&p, body).unwrap();
        assert!(parse_scenario(&p).is_err(), "{name} was accepted");
    }
    let ok = dir.join("ok.scn");
    std::fs::write(
        &ok,
        "# c\n[commands]\nC,1\n[events]\n1,REJ,1,UNKNOWN_ID\n[book]\n",
    )
    .unwrap();
    let sc = parse_scenario(&ok).unwrap();
    run_one(&sc, ReferenceBook::new(sc.cfg)).unwrap();
    // A wrong expectation must fail.
    std::fs::write(
        &ok,
        "# c\n[commands]\nC,1\n[events]\n1,REJ,1,BAD_QTY\n[book]\n",
    )
    .unwrap();
    let sc = parse_scenario(&ok).unwrap();
    assert!(run_one(&sc, ReferenceBook::new(sc.cfg)).is_err());
}
