//! Black-box test of `flowmatch compare`: the real binary on small streams writes every
//! report file, lists every matcher, reports matchcore's trade-through and nanobook's hang
//! (both known defects of those crates, see peers/README.md), and lobster's agreement.
//!
//! The binary is located (and built if needed) by `tests/common/flowmatch_bin.rs`.

#[path = "common/flowmatch_bin.rs"]
mod flowmatch_bin;
use flowmatch_bin::flowmatch_bin;
use std::process::Command;

#[test]
fn compare_writes_its_report_and_names_every_peer_finding() {
    let scratch = tempfile::tempdir().expect("temporary directory");
    let dir = scratch.path().join("out");
    let out = Command::new(flowmatch_bin())
        .args([
            "compare",
            "--commands",
            "4000",
            "--reps",
            "1",
            "--cross-commands",
            "4000",
            "--latency-commands",
            "1000",
            "--stall-ms",
            "1000",
            "--out",
        ])
        .arg(&dir)
        .output()
        .expect("run flowmatch compare");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "report.json",
        "report.md",
        "throughput.svg",
        "latency.svg",
        "fill-distribution.svg",
    ] {
        let p = dir.join(f);
        assert!(
            std::fs::metadata(&p)
                .map(|m| m.len() > 100)
                .unwrap_or(false),
            "{f} missing"
        );
    }
    let json = std::fs::read_to_string(dir.join("report.json")).unwrap();
    for key in [
        "\"throughput\"",
        "\"worst_case\"",
        "\"bar\"",
        "\"latency\"",
        "\"cross_checks\"",
        "\"fill_distribution\"",
    ] {
        assert!(json.contains(key), "report.json lacks {key}");
    }
    for m in [
        "fast",
        "fast-pro-rata",
        "reference",
        "matchcore",
        "nanobook",
        "lobster",
    ] {
        assert!(
            json.contains(&format!("\"{m}\"")),
            "report.json lacks matcher {m}"
        );
    }
    // The console names matchcore's trade-through and nanobook's hang; lobster agrees.
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("matchcore") && l.contains("trade-through")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("nanobook") && l.contains("HUNG")),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.contains("lobster")
            && l.contains("equity-mixed/calm")
            && l.contains("agree")),
        "{stdout}"
    );
    let svg = std::fs::read_to_string(dir.join("throughput.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    // Title and one legend entry per matcher, as text.
    for w in [
        "Throughput, M commands/s",
        "fast",
        "reference",
        "matchcore",
        "nanobook",
        "lobster",
    ] {
        assert!(
            svg.contains(&format!("\n{w}")),
            "throughput.svg lacks {w:?}"
        );
    }
}
