//! `flowmatch latency --shards N --instruments M` through the binary: a short sharded run
//! prints a line per shard and writes its files, every command sent is applied by exactly
//! one shard (the per-shard message counts add up to the commands sent, and each equals
//! the count of the stream's commands whose instrument hashes to that shard, recomputed
//! here from the stream), and out-of-range values exit non-zero naming the option before
//! any work. `flowmatch compare --workloads zipf-instruments` is accepted and reported.
//! (The binary is located by `tests/common/flowmatch_bin.rs`.)

#[path = "common/flowmatch_bin.rs"]
mod flowmatch_bin;
use flowmatch_bin::flowmatch_bin;
use flowmatch_core::engine::shards::KeyHash;
use flowmatch_harness::latency::Cycle;
use flowmatch_harness::workload::zipf_instruments::{generate, ZipfConfig};
use std::process::Command;

fn latency(args: &[&str], out: &std::path::Path) -> (i32, String, String) {
    let o = Command::new(flowmatch_bin())
        .arg("latency")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn two_shards_over_100_instruments_answer_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lat");
    let (code, stdout, stderr) = latency(
        &[
            "--shards",
            "2",
            "--instruments",
            "100",
            "--rate",
            "20k",
            "--duration",
            "0.1",
            "--warmup",
            "0.05",
            "--no-closed",
            "--no-pin",
            "--stream-len",
            "2000",
            "--seed",
            "7",
        ],
        &out,
    );
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    for needle in [
        "shard 0: messages",
        "shard 1: messages",
        "router:",
        "e2e p50",
        "shard 0: unpinned",
    ] {
        assert!(
            stdout.contains(needle),
            "{needle:?} missing from:\n{stdout}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("shards-summary.json")).unwrap())
            .unwrap();
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "one open-loop rate, no closed run");
    let run = &runs[0];
    assert_eq!(run["label"], "shards2-instruments100-open-20000");
    // 20k/s over 0.15 s: 3,000 slots, every one sent and answered.
    assert_eq!(run["sent"], 3_000);
    assert_eq!(run["completed"], 3_000);
    assert_eq!(run["recorded"], 2_000, "the 0.1 s measured window");
    let per_shard = run["per_shard"].as_array().unwrap();
    assert_eq!(per_shard.len(), 2);
    let messages: Vec<u64> = per_shard
        .iter()
        .map(|s| s["messages"].as_u64().unwrap())
        .collect();
    assert_eq!(messages.iter().sum::<u64>(), 3_000);
    // Independently: route the same stream (same generator, seed and cycle) by hand.
    let cmds = generate(
        &ZipfConfig {
            instruments: 100,
            zipf_s: 1.0,
        },
        7,
        2_000,
    )
    .unwrap();
    let stream = Cycle::new(&cmds).unwrap();
    let hash = KeyHash::new(2).unwrap();
    let mut expected = [0u64; 2];
    for i in 0..3_000 {
        expected[hash.shard(stream.get(i).instrument.0)] += 1;
    }
    assert_eq!(messages, expected);
    assert!(
        expected.iter().all(|&n| n > 0),
        "both shards got work: {expected:?}"
    );
    for f in run["hgrm_files"].as_array().unwrap() {
        let text = std::fs::read_to_string(out.join(f.as_str().unwrap())).unwrap();
        assert!(text.starts_with("# tool: flowmatch "), "{f}");
        assert!(text.contains("#[Max"), "{f}");
    }
    assert_eq!(run["hgrm_files"].as_array().unwrap().len(), 3);
}

#[test]
fn out_of_range_shards_and_instruments_exit_nonzero_naming_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never-written");
    let cases: [(&[&str], &str); 6] = [
        (&["--shards", "0", "--instruments", "10"], "--shards"),
        (&["--shards", "1000", "--instruments", "10"], "--shards"),
        (&["--instruments", "0"], "--instruments"),
        (&["--instruments", "-1"], "--instruments"),
        (&["--instruments", "2000000"], "--instruments"),
        (&["--shards", "2"], "--instruments"),
    ];
    for (args, option) in cases {
        let (code, stdout, stderr) = latency(args, &out);
        assert_ne!(code, 0, "{args:?} was accepted:\n{stdout}");
        assert!(
            stderr.contains(option),
            "{args:?}: {option} not named in: {stderr}"
        );
    }
    assert!(!out.exists(), "nothing is run or written");
}

#[test]
fn compare_accepts_the_multi_instrument_workload_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    let o = Command::new(flowmatch_bin())
        .args([
            "compare",
            "--workloads",
            "zipf-instruments",
            "--commands",
            "3000",
            "--reps",
            "1",
            "--cross-commands",
            "1000",
            "--latency-commands",
            "1000",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let multi = &json["multi_instrument"];
    let cells = multi["cells"].as_array().unwrap();
    let matchers: Vec<&str> = cells
        .iter()
        .map(|c| c["matcher"].as_str().unwrap())
        .collect();
    assert_eq!(matchers, ["fast", "reference"]);
    for c in cells {
        assert_eq!(c["workload"], "zipf-instruments");
        assert_eq!(c["commands"], 3000);
        assert!(c["median_mcps"].as_f64().unwrap() > 0.0);
    }
    // The reference multi-book is the oracle: the fast one emits the same events.
    assert_eq!(cells[0]["events"], cells[1]["events"]);
    assert_eq!(multi["events_agree"][0][0], "zipf-instruments");
    assert_eq!(multi["events_agree"][0][1], true);
    let na: Vec<&str> = multi["not_applicable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["matcher"].as_str().unwrap())
        .collect();
    assert_eq!(na, ["matchcore", "nanobook", "lobster"]);
    assert!(stdout.contains("zipf-instruments fast"), "{stdout}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| zipf-instruments | fast |"), "{md}");
}
