//! `flowmatch stress --shards K` through the binary: the sharded engine (routers, shards of
//! multi-books, instrument-prefixed commands) passes every check, the JUnit report carries
//! the shard count and one test case per invariant, the summary shows every shard and
//! instrument took commands and that the journal recoveries ran per instrument.
//! (The binary is located by `tests/common/flowmatch_bin.rs`.)

#[path = "common/flowmatch_bin.rs"]
mod flowmatch_bin;

use flowmatch_bin::flowmatch_bin;
use std::process::Command;

#[test]
fn three_shards_pass_every_check_with_junit() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("stress.xml");
    let out = Command::new(flowmatch_bin())
        .args([
            "stress",
            "--shards",
            "3",
            "--commands",
            "12000",
            "--seed",
            "5",
        ])
        .args(["--junit", junit.to_str().unwrap()])
        .args(["--out", dir.path().to_str().unwrap()])
        .output()
        .expect("run flowmatch");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("3 shards of 6 instruments"), "{stdout}");
    for rule in (0..3)
        .map(|s| format!("shard/{s} "))
        .chain((0..6).map(|i| format!("instrument/{i} ")))
    {
        assert!(stdout.contains(&rule), "{rule} took no commands:\n{stdout}");
    }
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("valid XML");
    assert!(doc
        .descendants()
        .any(|n| n.attribute("name") == Some("shards") && n.attribute("value") == Some("3")));
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 7);
    for c in &cases {
        assert!(c.children().all(|ch| !ch.has_tag_name("failure")), "{xml}");
        let checks: u64 = c.attribute("assertions").unwrap().parse().unwrap();
        assert!(checks > 0, "{:?} made no checks", c.attribute("name"));
    }
    // 12,000 commands in rounds of 6,000: 2 rounds, 6 instruments, 3 recoveries each.
    let recoveries = cases
        .iter()
        .find(|c| c.attribute("name") == Some("journal-recovery-equals-live"))
        .and_then(|c| c.attribute("assertions"))
        .unwrap();
    assert_eq!(recoveries, "36");
}
