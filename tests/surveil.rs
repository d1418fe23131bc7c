//! Surveillance (issue 18, item 4) on a small planted scenario worked by hand, through the
//! library and the `flowmatch surveil` command line, and its refusals of bad input.
//!
//! The scenario (time = command sequence number; firm 9 owns accounts 1 and 2; accounts
//! 3 and 4 are in no group):
//!
//! ```text
//! t  command                        events                       what it is
//! 1  N,1,3,S,L,101,10               ACK 1                        acct 3 offers 10@101
//! 2  N,2,4,B,L,99,10                ACK 2                        acct 4 bids 10@99
//! 3  N,3,1,S,L,100,5                ACK 3                        firm offers 5@100 ...
//! 4  N,4,2,B,L,100,5,IOC            ACK 4, TRD 4/3 5@100         ... and lifts it: WASH
//! 5  N,5,1,B,L,98,2000              ACK 5                        firm: large bid ...
//! 6  N,6,2,S,L,99,5,IOC             ACK 6, TRD 6/2 5@99          ... sells the other side
//! 7  C,5                            CXL 5 2000 USER              ... cancels: LAYERING
//! 8  N,7,4,B,L,101,4,IOC            ACK 7, TRD 7/1 4@101         acct 4 buys 4
//! 9  N,8,1,B,L,101,6,IOC            ACK 8, TRD 8/1 6@101         firm buys 6
//! 10 N,9,2,S,L,105,1                ACK 9
//! ```
//!
//! Close at 10, window 3 (t = 8..=10): trades 4@101 (acct 4 aggressor) and 6@101 (firm
//! aggressor); the price before the window is 99 (t=6), the close 101: a move of +2. The
//! aggressive buy volume is 10, the firm's 6, so 2 x 6/10 = 1.2 ticks are the firm's (flag:
//! share 6/10 = 0.6 >= 0.2, 1.2 >= 1); acct 4 has 0.8 (< 1, no flag); acct 3 sold all 10
//! (share 1.0) but took no offer (0 ticks, no flag).

#[path = "common/flowmatch_bin.rs"]
mod flowmatch_bin;
use flowmatch::core::book::AccountGroups;
use flowmatch::core::{BookConfig, Side};
use flowmatch::harness::surveil::detect::{detect, Fill, Flag, Owner, Params};
use flowmatch::harness::surveil::{accounts, tape};
use flowmatch_bin::flowmatch_bin;
use std::process::{Command, Output};

const COMMANDS: &str = "\
N,1,3,S,L,101,10
N,2,4,B,L,99,10
N,3,1,S,L,100,5
N,4,2,B,L,100,5,IOC
N,5,1,B,L,98,2000
N,6,2,S,L,99,5,IOC
C,5
N,7,4,B,L,101,4,IOC
N,8,1,B,L,101,6,IOC
N,9,2,S,L,105,1
";

const EVENTS: &str = "\
1,ACK,1
2,ACK,2
3,ACK,3
4,ACK,4
4,TRD,4,3,100,5
5,ACK,5
6,ACK,6
6,TRD,6,2,99,5
7,CXL,5,2000,USER,B,98
8,ACK,7
8,TRD,7,1,101,4
9,ACK,8
9,TRD,8,1,101,6
10,ACK,9
";

const ACCOUNTS: &str = "account,group\n1,9\n2,9\n";

fn params() -> Params {
    Params {
        close: Some(10),
        window: 3,
        ..Params::default()
    }
}

fn expected() -> Vec<Flag> {
    vec![
        Flag::Wash {
            owner: Owner::Group(9),
            t: 4,
            taker: (4, 2),
            maker: (3, 1),
            price: 100,
            qty: 5,
        },
        Flag::MarkingTheClose {
            owner: Owner::Group(9),
            from: 7,
            close: 10,
            open_price: 99,
            close_price: 101,
            share: 0.6,
            moved: 1.2,
            fills: vec![Fill {
                t: 9,
                id: 8,
                account: 1,
                side: Side::Buy,
                price: 101,
                qty: 6,
                aggressor: true,
            }],
        },
        Flag::Layering {
            owner: Owner::Group(9),
            id: 5,
            account: 1,
            side: Side::Buy,
            price: Some(98),
            qty: 2000,
            entered: 5,
            cancelled: 7,
            opposite: vec![Fill {
                t: 6,
                id: 6,
                account: 2,
                side: Side::Sell,
                price: 99,
                qty: 5,
                aggressor: true,
            }],
        },
    ]
}

fn steps() -> Vec<tape::Step> {
    let cmds = tape::read_commands(COMMANDS.as_bytes()).unwrap();
    tape::pair(&cmds, EVENTS).unwrap()
}

#[test]
fn the_hand_written_events_are_what_the_book_prints() {
    let cmds = tape::read_commands(COMMANDS.as_bytes()).unwrap();
    let (_, events) = tape::to_text(&tape::replay(&cmds, BookConfig::default()));
    assert_eq!(events, EVENTS);
}

#[test]
fn flags_the_planted_wash_close_and_layering_with_their_evidence() {
    let groups = accounts::parse(ACCOUNTS).unwrap();
    let flags = detect(&steps(), &groups, &params());
    assert_eq!(flags, expected());
}

#[test]
fn without_the_account_table_the_firm_is_two_strangers() {
    // No wash (accounts 1 and 2 differ), no layering (account 1's bid, account 2's sale);
    // the close is still marked, by account 1 alone (6 of 10, 1.2 ticks).
    let flags = detect(&steps(), &AccountGroups::new(), &params());
    let kinds: Vec<(&str, Owner)> = flags.iter().map(|f| (f.kind(), f.owner())).collect();
    assert_eq!(kinds, [("marking-the-close", Owner::Account(1))]);
}

#[test]
fn thresholds_are_honoured() {
    let groups = accounts::parse(ACCOUNTS).unwrap();
    // A large order must be at least large_qty; the cancel within cancel_within.
    for p in [
        Params {
            large_qty: 2001,
            ..params()
        },
        Params {
            cancel_within: 1,
            ..params()
        },
    ] {
        assert!(!detect(&steps(), &groups, &p)
            .iter()
            .any(|f| f.kind() == "layering"));
    }
    // 1.2 ticks is below a close_move of 2; a share of 0.6 below 0.7.
    for p in [
        Params {
            close_move: 2,
            ..params()
        },
        Params {
            close_share: 0.7,
            ..params()
        },
    ] {
        assert!(!detect(&steps(), &groups, &p)
            .iter()
            .any(|f| f.kind() == "marking-the-close"));
    }
}

fn dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("c.txt"), COMMANDS).unwrap();
    std::fs::write(d.path().join("e.txt"), EVENTS).unwrap();
    std::fs::write(d.path().join("a.csv"), ACCOUNTS).unwrap();
    d
}

fn surveil(d: &tempfile::TempDir, extra: &[&str]) -> Output {
    let p = |n: &str| d.path().join(n).display().to_string();
    let mut args = vec![
        "surveil".to_string(),
        "--commands".into(),
        p("c.txt"),
        "--events".into(),
        p("e.txt"),
        "--accounts".into(),
        p("a.csv"),
    ];
    for (opt, default) in [("--close", "10"), ("--window", "3")] {
        if !extra.contains(&opt) {
            args.extend([opt.to_string(), default.to_string()]);
        }
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    Command::new(flowmatch_bin()).args(&args).output().unwrap()
}

#[test]
fn cli_text_and_json_carry_the_evidence() {
    let d = dir();
    let o = surveil(&d, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        text,
        "surveillance: 1 wash trade(s), 1 marking-the-close, 1 layering (time = command \
         sequence number)\n\
         WASH group 9 t=4: 5@100, taker order 4 (account 2) against maker order 3 (account 1)\n\
         MARKING-THE-CLOSE group 9 window t=8..=10: 60.0% of the volume, price 99 -> 101, \
         +1.20 of it attributed to its aggressive trades\n\
         \x20   t=9 order 8 account 1 B 6@101 (aggressor)\n\
         LAYERING group 9: order 5 (account 1) B 2000@98 entered t=5, cancelled t=7; \
         meanwhile on the other side:\n\
         \x20   t=6 order 6 account 2 S 5@99 (aggressor)\n"
    );
    let o = surveil(&d, &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["counts"]["wash"], 1);
    assert_eq!(v["flags"][0]["taker"]["account"], 2);
    assert_eq!(v["flags"][1]["moved"], 1.2);
    assert_eq!(v["flags"][1]["owner"]["group"], 9);
    assert_eq!(v["flags"][2]["opposite"][0]["price"], 99);
}

#[test]
fn cli_reads_a_journal_too() {
    let d = dir();
    let j = d.path().join("j");
    let o = Command::new(flowmatch_bin())
        .args(["replay", "--input"])
        .arg(d.path().join("c.txt"))
        .arg("--journal")
        .arg(&j)
        .arg("--events")
        .arg(d.path().join("e2.txt"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new(flowmatch_bin())
        .args(["surveil", "--journal"])
        .arg(&j)
        .arg("--accounts")
        .arg(d.path().join("a.csv"))
        .args(["--close", "10", "--window", "3", "--format", "json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["counts"]["wash"], 1);
    assert_eq!(v["counts"]["marking-the-close"], 1);
    assert_eq!(v["counts"]["layering"], 1);
}

fn refused(o: &Output, needle: &str) {
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains(needle), "{e:?} does not contain {needle:?}");
}

#[test]
fn cli_refuses_bad_input_with_a_reason() {
    let d = dir();
    // A malformed account table: the line and the field.
    std::fs::write(d.path().join("a.csv"), "account,group\n1,9\n2,nine\n").unwrap();
    refused(&surveil(&d, &[]), "line 3: bad group: \"nine\"");
    std::fs::write(d.path().join("a.csv"), "1,9\n1,8\n").unwrap();
    refused(&surveil(&d, &[]), "line 2: bad group: account 1");
    // A directory and a missing file.
    std::fs::remove_file(d.path().join("a.csv")).unwrap();
    refused(&surveil(&d, &[]), "cannot read --accounts");
    std::fs::create_dir(d.path().join("a.csv")).unwrap();
    refused(&surveil(&d, &[]), "is a directory");
    std::fs::remove_dir(d.path().join("a.csv")).unwrap();
    std::fs::write(d.path().join("a.csv"), ACCOUNTS).unwrap();
    // The output may not be an input.
    let c = d.path().join("c.txt").display().to_string();
    refused(
        &surveil(&d, &["--out", &c]),
        "refusing to overwrite an input",
    );
    assert_eq!(std::fs::read_to_string(&c).unwrap(), COMMANDS);
    // Out-of-range parameters, before any work.
    refused(&surveil(&d, &["--window", "0"]), "--window 0");
    refused(&surveil(&d, &["--close-share", "1.5"]), "--close-share 1.5");
    refused(&surveil(&d, &["--large-qty", "0"]), "--large-qty 0");
    refused(&surveil(&d, &["--close", "11"]), "--close 11");
    // Events that do not answer the commands.
    std::fs::write(d.path().join("e.txt"), "1,ACK,1\n2,ACK,7\n").unwrap();
    refused(&surveil(&d, &[]), "events line 2: bad id");
    std::fs::write(d.path().join("e.txt"), "1,ACK,1\n2,XYZ,7\n").unwrap();
    refused(&surveil(&d, &[]), "events line 2: bad op");
    // A journal that is not a directory.
    let o = Command::new(flowmatch_bin())
        .args(["surveil", "--journal", &c])
        .output()
        .unwrap();
    refused(&o, "is not a directory");
}

#[test]
fn replay_with_accounts_applies_group_stp() {
    // The firm's lift at t=4 carries STP cancel-taker: with the table it is cancelled.
    let d = dir();
    let cmds = COMMANDS.replace("N,4,2,B,L,100,5,IOC", "N,4,2,B,L,100,5,IOC,CT");
    std::fs::write(d.path().join("c.txt"), cmds).unwrap();
    let run = |with: bool| {
        let mut c = Command::new(flowmatch_bin());
        c.args(["replay", "--input"]).arg(d.path().join("c.txt"));
        if with {
            c.arg("--accounts").arg(d.path().join("a.csv"));
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    assert!(run(false).contains("4,TRD,4,3,100,5\n"));
    let with = run(true);
    assert!(with.contains("4,CXL,4,5,STP,B,100\n"), "{with}");
    assert!(!with.contains("4,TRD"));
    // The account table may not be overwritten by the events.
    let o = Command::new(flowmatch_bin())
        .args(["replay", "--input"])
        .arg(d.path().join("c.txt"))
        .arg("--accounts")
        .arg(d.path().join("a.csv"))
        .arg("--events")
        .arg(d.path().join("a.csv"))
        .output()
        .unwrap();
    refused(&o, "refusing to overwrite an input");
    // A malformed table names line and field.
    std::fs::write(d.path().join("a.csv"), "1,9\nx,9\n").unwrap();
    let o = Command::new(flowmatch_bin())
        .args(["replay", "--input"])
        .arg(d.path().join("c.txt"))
        .arg("--accounts")
        .arg(d.path().join("a.csv"))
        .output()
        .unwrap();
    refused(&o, "line 2: bad account");
}

#[test]
fn wash_327_meets_its_bar() {
    use flowmatch::harness::surveil::scenario;
    let day = scenario::generate(scenario::SEED, 6_000);
    let o = scenario::run(&day);
    let j = &o.json;
    assert!(j["wash"]["planted"].as_u64().unwrap() > 10);
    assert_eq!(j["wash"]["recall"], 1.0, "{}", o.text);
    assert_eq!(j["marking_the_close"]["recall"], 1.0, "{}", o.text);
    assert_eq!(j["layering"]["recall"], 1.0, "{}", o.text);
    assert!(j["group_stp"]["linked_volume_off"].as_u64().unwrap() > 0);
    assert_eq!(j["group_stp"]["linked_volume_on"], 0, "{}", o.text);
    assert_eq!(j["group_stp"]["firm_wash_flags_on"], 0);
    // Deterministic: the same seed gives the same report.
    assert_eq!(
        scenario::run(&scenario::generate(scenario::SEED, 6_000)).text,
        o.text
    );
}
