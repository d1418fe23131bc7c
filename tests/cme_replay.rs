//! The CME allocation scenarios of `tests/data/cme/` (CME's published examples and the
//! hand-worked ones; grammar in its README) replayed through both books with the real
//! `flowmatch replay --policy cme:X` and its parameter flags: each file's level is built
//! from orders on an empty bid side, one sell IOC of the file's incoming quantity
//! arrives, and the trades printed must be exactly the file's expected fills, one trade
//! per order with a non-zero fill, in time order.
//!
//! The book decides the TOP order itself (the order that set the best price): the first
//! order resting on an empty side is TOP. A file whose first order is not TOP gets its level
//! built under a better bid that is cancelled before the aggressor arrives, so no order
//! of the level is TOP. A TOP order that is not the first cannot arise in a book (it set
//! the level's price); such a file is only replayable under an algorithm without a TOP
//! step, and the test says so if that ever changes.

#[path = "common/flowmatch_bin.rs"]
mod flowmatch_bin;
use flowmatch_bin::flowmatch_bin;
use std::path::Path;
use std::process::Command;

struct Scenario {
    algorithm: String,
    flags: Vec<String>,
    incoming: u64,
    /// (id, open, account, top, expected fill), in time order.
    orders: Vec<(u64, u64, u32, bool, u64)>,
}

fn parse(text: &str, name: &str) -> Scenario {
    let mut s = Scenario {
        algorithm: String::new(),
        flags: Vec::new(),
        incoming: 0,
        orders: Vec::new(),
    };
    for raw in text.lines() {
        let line = raw.split('#').next().unwrap().trim();
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            [] => {}
            ["algorithm", a] => s.algorithm = a.to_string(),
            ["param", "leveling", "on"] => s.flags.push("--leveling".into()),
            ["param", "leveling", "off"] => {}
            ["param", k, v] => {
                s.flags.push(format!("--{}", k.replace('_', "-")));
                s.flags.push(v.to_string());
            }
            ["lmm", a, p] => {
                s.flags.push("--lmm".into());
                s.flags.push(format!("{a}:{p}"));
            }
            ["incoming", q] => s.incoming = q.parse().unwrap(),
            ["order", id, open, acct, top, fill] => s.orders.push((
                id.parse().unwrap(),
                open.parse().unwrap(),
                acct.parse().unwrap(),
                *top == "top",
                fill.parse().unwrap(),
            )),
            _ => panic!("{name}: unreadable line {raw:?}"),
        }
    }
    s
}

/// The command file: the level (bids at 100), then the aggressor (a sell IOC at 100).
fn commands(s: &Scenario, name: &str) -> String {
    let uses_top = matches!(
        s.algorithm.as_str(),
        "cme:A" | "cme:K" | "cme:O" | "cme:Q" | "cme:S"
    );
    let top_at = s.orders.iter().position(|o| o.3);
    let mut out = String::new();
    let (blocker, aggressor) = (1_000_000u64, 1_000_001u64);
    match top_at {
        Some(0) => {}
        Some(_) => assert!(
            !uses_top,
            "{name}: a TOP order after the first cannot be built in a book"
        ),
        None => out.push_str(&format!("N,{blocker},900,B,L,101,1\n")),
    }
    for &(id, open, acct, _, _) in &s.orders {
        out.push_str(&format!("N,{id},{acct},B,L,100,{open}\n"));
    }
    if top_at != Some(0) {
        out.push_str(&format!("C,{blocker}\n"));
    }
    out.push_str(&format!("N,{aggressor},901,S,L,100,{},IOC\n", s.incoming));
    out
}

#[test]
fn cme_scenarios_replay_through_both_books() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cme");
    let scratch = tempfile::tempdir().unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 13, "every scenario file");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let s = parse(&std::fs::read_to_string(&path).unwrap(), &name);
        let input = scratch.path().join(format!("{name}.cmds"));
        std::fs::write(&input, commands(&s, &name)).unwrap();
        let expected: Vec<String> = s
            .orders
            .iter()
            .filter(|o| o.4 > 0)
            .map(|o| format!("TRD,1000001,{},100,{}", o.0, o.4))
            .collect();
        for book in ["fast", "reference"] {
            let o = Command::new(flowmatch_bin())
                .args([
                    "replay",
                    "--book",
                    book,
                    "--policy",
                    &s.algorithm,
                    "--input",
                ])
                .arg(&input)
                .args(&s.flags)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(0), "{name} {book}: {stderr}");
            let trades: Vec<String> = String::from_utf8(o.stdout)
                .unwrap()
                .lines()
                .filter(|l| l.contains(",TRD,"))
                // Drop the command number (the aggressor's line in the file).
                .map(|l| l.split_once(',').unwrap().1.to_string())
                .collect();
            assert_eq!(trades, expected, "{name} on the {book} book");
        }
    }
}

/// The flags are range-checked by name before any work, and CME flags without a CME
/// policy are refused.
#[test]
fn cme_flags_are_checked() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("c.txt");
    std::fs::write(&input, "N,1,1,B,L,100,5\n").unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(flowmatch_bin())
            .arg("replay")
            .arg("--input")
            .arg(&input)
            .args(args)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    for (args, needle) in [
        (
            &["--policy", "cme:A", "--pro-rata-min", "0"][..],
            "--pro-rata-min",
        ),
        (&["--policy", "cme:Q", "--lmm", "7:60"][..], "--lmm"),
        (
            &["--policy", "cme:Q", "--lmm", "7:30", "--lmm", "7:10"][..],
            "--lmm",
        ),
        (
            &["--policy", "cme:K", "--split-fifo-percent", "101"][..],
            "--split-fifo-percent",
        ),
        (&["--policy", "cme:O", "--top-max", "-1"][..], "--top-max"),
        (&["--policy", "pro-rata", "--top-min", "3"][..], "cme:"),
        (&["--policy", "cme:X"][..], "cme:X"),
        (
            &["--policy", "cme:A", "--journal", "/nonexistent-dir-cme"][..],
            "--journal",
        ),
    ] {
        let (code, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert_eq!(
        run(&["--policy", "cme:K", "--leveling", "--lmm", "7:20"]).0,
        Some(0)
    );
}

/// The instrument table's CME columns reach the books: the 2005 Eurodollar notice's level
/// (`cme_eurodollar_notice_020705.txt`: A, pro-rata minimum 2) under a `cme:A` row, and the
/// same commands under a price-time row of the same table, which fills FIFO.
#[test]
fn instrument_table_cme_columns_select_the_algorithm() {
    let scratch = tempfile::tempdir().unwrap();
    let table = scratch.path().join("t.csv");
    std::fs::write(
        &table,
        "symbol,tick,lot,min_price,max_price,max_order_qty,policy,replace_priority,top_min,top_max,pro_rata_min,lmms,split_fifo_percent,leveling\n\
         GE,1,1,1,1000,1000,cme:A,keep-if-reduced,,,2,,,\n\
         AAPL,1,1,1,1000,1000,price-time,keep-if-reduced,,,,,,\n",
    )
    .unwrap();
    let mut cmds = String::new();
    for sym in ["GE", "AAPL"] {
        for (id, qty) in [(1, 10), (2, 5), (3, 20), (4, 50), (5, 75)] {
            cmds.push_str(&format!("{sym}:N,{id},{id},B,L,100,{qty}\n"));
        }
        cmds.push_str(&format!("{sym}:N,9,9,S,L,100,60,IOC\n"));
    }
    let input = scratch.path().join("c.txt");
    std::fs::write(&input, cmds).unwrap();
    for book in ["fast", "reference"] {
        let o = Command::new(flowmatch_bin())
            .args(["replay", "--book", book, "--instruments"])
            .arg(&table)
            .arg("--input")
            .arg(&input)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let trades: Vec<String> = String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .filter(|l| l.contains(",TRD,"))
            .map(str::to_string)
            .collect();
        let expected = [
            "GE:6,TRD,9,1,100,10",
            "GE:6,TRD,9,2,100,3",
            "GE:6,TRD,9,3,100,6",
            "GE:6,TRD,9,4,100,16",
            "GE:6,TRD,9,5,100,25",
            "AAPL:12,TRD,9,1,100,10",
            "AAPL:12,TRD,9,2,100,5",
            "AAPL:12,TRD,9,3,100,20",
            "AAPL:12,TRD,9,4,100,25",
        ];
        assert_eq!(trades, expected, "{book}");
    }
}
