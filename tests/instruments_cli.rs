//! `flowmatch replay` with instrument prefixes and `--instruments FILE`, through the
//! binary: hand-checked events and dumps, a bad table and a bad symbol exit 2 naming line
//! and field. (The binary is located by `tests/common/flowmatch_bin.rs`.)

#[path = "common/flowmatch_bin.rs"]
mod flowmatch_bin;
use flowmatch_bin::flowmatch_bin;
use std::process::Command;

fn replay(
    dir: &std::path::Path,
    input: &str,
    table: Option<&str>,
) -> (i32, String, String, String) {
    let cmds = dir.join("cmds.txt");
    std::fs::write(&cmds, input).unwrap();
    let book = dir.join("book.txt");
    let _ = std::fs::remove_file(&book);
    let mut c = Command::new(flowmatch_bin());
    c.arg("replay")
        .arg("--input")
        .arg(&cmds)
        .arg("--book-out")
        .arg(&book);
    if let Some(t) = table {
        let p = dir.join("table.csv");
        std::fs::write(&p, t).unwrap();
        c.arg("--instruments").arg(p);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        std::fs::read_to_string(&book).unwrap_or_default(),
    )
}

const TABLE: &str = "symbol,tick,lot,min_price,max_price,max_order_qty,policy,replace_priority\nAAPL,1,1,1,100000,1000000,price-time,keep-if-reduced\nMSFT,5,1,1,100000,1000000,price-time,keep-if-reduced\n";

#[test]
fn prefixed_replay_with_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let input = "MSFT:N,1,1,S,L,300,5\nAAPL:N,1,1,S,L,100,5\nAAPL:N,2,2,B,L,100,3\nIBM:N,1,1,B,L,1,1\nMSFT:N,2,1,B,L,301,1\nN,1,1,B,L,7,1\n";
    let (code, events, err, book) = replay(dir.path(), input, Some(TABLE));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        events,
        "MSFT:1,ACK,1\nAAPL:2,ACK,1\nAAPL:3,ACK,2\nAAPL:3,TRD,2,1,100,3\nIBM:4,REJ,1,UNKNOWN_INSTRUMENT\nMSFT:5,REJ,2,BAD_TICK\n6,ACK,1\n"
    );
    assert_eq!(book, "MSFT:S,300,1,5\nAAPL:S,100,1,2\nB,7,1,1\n");
}

#[test]
fn bad_table_and_bad_symbol_exit_2_naming_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = format!("{TABLE}AAPL,1,1,1,100,10,price-time,keep-if-reduced\n");
    let (code, _, err, _) = replay(dir.path(), "C,1\n", Some(&bad));
    assert_eq!(code, 2);
    assert!(err.contains("line 4") && err.contains("symbol"), "{err}");
    let (code, events, err, _) = replay(dir.path(), "AAPL:C,1\nAA PL:C,1\n", None);
    assert_eq!(code, 2);
    assert_eq!(events, "AAPL:1,REJ,1,UNKNOWN_ID\n");
    assert!(err.contains("line 2") && err.contains("symbol"), "{err}");
}
