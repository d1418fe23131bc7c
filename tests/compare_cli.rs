//! Black-box test of `flowmatch compare`: the real binary on small streams writes every
//! report file, lists every matcher, reports matchcore's trade-through and nanobook's hang
//! (both known defects of those crates, see peers/README.md), and lobster's agreement.
//!
//! The root package does not own the binary, so (as in `cli_replay.rs`) the test builds
//! it with the same cargo and profile, or uses `FLOWMATCH_BIN` if set.

use std::path::{Path, PathBuf};
use std::process::Command;

fn flowmatch_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("FLOWMATCH_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target layout");
    let target_dir = profile_dir.parent().expect("target layout");
    let profile_args: Vec<&str> = match profile_dir.file_name().and_then(|s| s.to_str()) {
        Some("debug") => vec!["--profile", "test"],
        Some("release") => vec!["--release"],
        Some(other) => vec!["--profile", other],
        None => panic!("unexpected target layout {}", exe.display()),
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "flowmatch-harness",
            "--bin",
            "flowmatch",
        ])
        .args(&profile_args)
        .arg("--target-dir")
        .arg(target_dir)
        .output()
        .expect("run cargo build for the flowmatch binary");
    assert!(
        out.status.success(),
        "building flowmatch failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    profile_dir.join("flowmatch")
}

#[test]
fn compare_writes_its_report_and_names_every_peer_finding() {
    let dir = std::env::temp_dir().join(format!("flowmatch-compare-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
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
    let _ = std::fs::remove_dir_all(&dir);
}
