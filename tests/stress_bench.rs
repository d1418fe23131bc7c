//! `flowmatch bench` through the binary: a baseline written by a run passes a re-run of
//! the same build, and a baseline 10% better than this build (as if this commit added 10%
//! instructions to every workload) fails it, printing the table. Uses Callgrind where
//! valgrind is installed (deterministic counts), else the throughput ratio (then the
//! doctored baseline is 50% better, beyond that metric's noise).
//! (The binary is located by `tests/common/flowmatch_bin.rs`.)

#[path = "common/flowmatch_bin.rs"]
mod flowmatch_bin;

use flowmatch_bin::flowmatch_bin;
use std::process::Command;

fn bench(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(flowmatch_bin())
        .arg("bench")
        .args(["--commands", "2000"])
        .args(args)
        .output()
        .expect("run flowmatch");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn the_gate_passes_its_own_baseline_and_fails_ten_percent_more_instructions() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("baseline.txt");
    let base_s = base.to_str().unwrap();
    let (code, out) = bench(&["--write-baseline", base_s]);
    assert_eq!(code, Some(0), "{out}");
    let text = std::fs::read_to_string(&base).unwrap();
    let instructions = text.contains(",instructions_per_command,");
    let (tolerance, doctor) = if instructions {
        ("2", 1.0 / 1.10) // now = baseline * 1.10: 10% more instructions
    } else {
        ("25", 1.5) // the ratio 1/1.5 of the baseline's: 33% worse
    };
    let (code, out) = bench(&["--baseline", base_s, "--tolerance", tolerance]);
    assert_eq!(
        code,
        Some(0),
        "the same build must pass its own baseline:\n{out}"
    );
    assert!(!out.contains("REGRESSED"), "{out}");
    // The table says which build it measured (these tests run the dev binary).
    assert!(
        out.contains("measured build: dev (debug assertions on)"),
        "{out}"
    );
    assert!(text.contains("# build: dev"), "{text}");

    // The same baseline claiming the other build is refused before any measuring; without
    // the build line (a file older than it) it is a dev build's and compares.
    let other = dir.path().join("release-baseline.txt");
    std::fs::write(&other, text.replace("# build: dev", "# build: release")).unwrap();
    let (code, out) = bench(&[
        "--baseline",
        other.to_str().unwrap(),
        "--tolerance",
        tolerance,
    ]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("written by a release build; this binary is a dev build"),
        "{out}"
    );
    let old = dir.path().join("old-baseline.txt");
    let no_build: String = text
        .lines()
        .filter(|l| !l.starts_with("# build:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&old, no_build).unwrap();
    let (code, out) = bench(&[
        "--baseline",
        old.to_str().unwrap(),
        "--tolerance",
        tolerance,
    ]);
    assert_eq!(code, Some(0), "an old baseline is a dev build's:\n{out}");

    let doctored: String = text
        .lines()
        .map(|l| {
            if l.starts_with('#') {
                return format!("{l}\n");
            }
            let f: Vec<&str> = l.split(',').collect();
            let v: f64 = f[2].parse().unwrap();
            format!("{},{},{:.3}\n", f[0], f[1], v * doctor)
        })
        .collect();
    let worse = dir.path().join("better-baseline.txt");
    std::fs::write(&worse, doctored).unwrap();
    let (code, out) = bench(&[
        "--baseline",
        worse.to_str().unwrap(),
        "--tolerance",
        tolerance,
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("REGRESSED") && out.contains("equity-mixed"),
        "{out}"
    );
    if instructions {
        assert!(out.contains("+10.0"), "{out}");
    }
}

#[test]
fn bad_options_and_baselines_are_usage_errors_naming_the_option() {
    for (args, needle) in [
        (&["--tolerance", "-1"][..], "--tolerance"),
        (&["--tolerance", "101"][..], "--tolerance"),
        (&["--baseline", "/nonexistent/b.txt"][..], "--baseline"),
    ] {
        let (code, out) = bench(args);
        assert_eq!(code, Some(2), "{args:?}: {out}");
        assert!(out.contains(needle), "{args:?}: {out}");
    }
    let (code, out) = bench(&["--commands", "5"]);
    assert_eq!((code, out.contains("--commands")), (Some(2), true), "{out}");
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b.txt");
    std::fs::write(&b, "equity-mixed,instructions_per_command,abc\n").unwrap();
    let (code, out) = bench(&["--baseline", b.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(out.contains("line 1"), "{out}");
    // Writing the baseline over the one being read is refused.
    std::fs::write(&b, "equity-mixed,instructions_per_command,800\n").unwrap();
    let bs = b.to_str().unwrap();
    let (code, out) = bench(&["--baseline", bs, "--write-baseline", bs]);
    assert_eq!(code, Some(2), "{out}");
}
