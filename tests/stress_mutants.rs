//! `flowmatch stress` through the binary: every mutant is caught with a small reproducer
//! that replays to a divergence (the ingress mutant: the report names the seed and the
//! producer schedule, and re-running loses a command again); the unmutated quick profile
//! passes and writes valid JUnit XML; bad options are refused before any work.
//! (The binary is located by `tests/common/flowmatch_bin.rs`.)

#[path = "common/flowmatch_bin.rs"]
mod flowmatch_bin;

use flowmatch_bin::flowmatch_bin;
use std::path::Path;
use std::process::{Command, Output};

fn flowmatch(args: &[&str]) -> Output {
    Command::new(flowmatch_bin())
        .args(args)
        .output()
        .expect("run flowmatch")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn mutants() -> Vec<String> {
    let out = flowmatch(&["stress", "--list-mutants"]);
    assert!(out.status.success());
    text(&out.stdout).lines().map(str::to_string).collect()
}

/// The book flags the reproducer was found under (`--policy P --replace-priority M`, and
/// any CME parameters), from its first `# reproduce: flowmatch replay --input FILE …` line.
fn flags_of(repro: &str) -> Vec<String> {
    let line = repro
        .lines()
        .find_map(|l| l.strip_prefix("# reproduce: flowmatch replay --input "))
        .expect("the reproducer names its replay command");
    let line = line.split('#').next().unwrap();
    line.split_whitespace()
        .skip(1)
        .take_while(|t| *t != "--mutant")
        .map(str::to_string)
        .collect()
}

fn replay(file: &Path, flags: &[String], mutant: Option<&str>) -> String {
    let f = file.to_str().unwrap();
    let mut args = vec!["replay", "--input", f];
    args.extend(flags.iter().map(String::as_str));
    if let Some(m) = mutant {
        args.extend(["--mutant", m]);
    }
    let out = flowmatch(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn every_mutant_is_caught_with_a_small_reproducer_that_replays_to_a_divergence() {
    let names = mutants();
    assert!(names.len() >= 5, "{names:?}");
    for name in &names {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let out = flowmatch(&["stress", "--profile", "quick", "--mutant", name, "--out", d]);
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name} was not caught:\n{stdout}"
        );
        let file = dir.path().join("stress-repro-seed1.txt");
        let repro = std::fs::read_to_string(&file).expect("a reproducer is written");
        let commands = repro
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .count();
        assert!(
            (1..=30).contains(&commands),
            "{name}: {commands} commands\n{repro}"
        );
        assert!(stdout.contains("flowmatch replay --input"), "{stdout}");
        let policy = flags_of(&repro);
        assert!(policy.iter().any(|f| f == "--replace-priority"), "{repro}");
        if name == "ingress-drop-when-full" {
            assert!(
                stdout.contains("producer schedule: seed 1, producer"),
                "{stdout}"
            );
            // Re-running with the same seed and producers loses a command again.
            let again = flowmatch(&["stress", "--profile", "quick", "--mutant", name, "--out", d]);
            assert_eq!(again.status.code(), Some(1));
            let again_out = text(&again.stdout);
            assert!(
                again_out.contains("never")
                    && again_out.contains("producer schedule: seed 1, producer"),
                "{again_out}"
            );
            // The reproducer itself is a valid command file.
            replay(&file, &policy, None);
        } else {
            assert_ne!(
                replay(&file, &policy, Some(name)),
                replay(&file, &policy, None),
                "{name}: the reproducer does not replay to a divergence\n{repro}"
            );
        }
    }
}

#[test]
fn the_quick_profile_passes_and_writes_valid_junit_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("stress.xml");
    let json = dir.path().join("stress.json");
    let out = flowmatch(&[
        "stress",
        "--profile",
        "quick",
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for rule in [
        "tif/gtc",
        "tif/ioc",
        "tif/fok",
        "tif/post",
        "stp/cancel-taker",
        "stp/cancel-maker",
        "stp/cancel-both",
        "stp/decrement-cancel",
        "policy/price-time",
        "replace-mode/keep-if-reduced",
        "stp-groups/off",
        "replace/kept-priority",
        "replace/requeued",
        "ingress/full-pushes",
    ] {
        assert!(stdout.contains(rule), "{rule} not exercised:\n{stdout}");
    }
    // Each round's axes (policy, replace mode, account groups; `stress/rounds.rs`) show in
    // the summary for the rounds the time cap let run (all 42 combinations: the harness's
    // `every_policy_replace_mode_and_group_setting_runs_and_passes`).
    const POLICIES: [&str; 7] = [
        "price-time",
        "pro-rata",
        "pro-rata-top",
        "cme:A",
        "cme:K",
        "cme:Q",
        "cme:S",
    ];
    let rounds: usize = stdout
        .split(" rounds")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the summary names its rounds");
    for r in 0..rounds.min(7) {
        let mode = ["keep-if-reduced", "always-requeue"][r % 2];
        let groups = if r % 3 == 2 { "on" } else { "off" };
        for rule in [
            format!("policy/{}", POLICIES[r]),
            format!("replace-mode/{mode}"),
            format!("stp-groups/{groups}"),
        ] {
            assert!(
                stdout.contains(&rule),
                "round {r}: {rule} missing:\n{stdout}"
            );
        }
    }
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("valid XML");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 7);
    assert!(cases
        .iter()
        .any(|c| c.attribute("name") == Some("journal-recovery-equals-live")));
    assert!(cases
        .iter()
        .all(|c| c.children().all(|ch| !ch.has_tag_name("failure"))));
    for c in &cases {
        let checks: u64 = c.attribute("assertions").unwrap().parse().unwrap();
        assert!(checks > 0, "{:?} made no checks", c.attribute("name"));
    }
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(j["passed"], true);
    assert!(j["commands"].as_u64().unwrap() >= 6_000);
    assert!(!dir.path().join("stress-repro-seed1.txt").exists());
}

#[test]
fn a_failure_is_junit_with_the_first_divergence() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("stress.xml");
    let out = flowmatch(&[
        "stress",
        "--mutant",
        "stp-cancel-maker-ignored",
        "--junit",
        junit.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("valid XML");
    let failed: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert_eq!(failed.len(), 1, "{xml}");
    assert!(failed[0]
        .attribute("message")
        .unwrap()
        .contains("the reference ["));
    assert_eq!(
        failed[0].parent().unwrap().attribute("name"),
        Some("fast-equals-reference")
    );
}

#[test]
fn bad_options_are_refused_before_any_work_naming_the_option() {
    for (args, option) in [
        (&["--producers", "0"][..], "--producers"),
        (&["--producers", "17"][..], "--producers"),
        (&["--commands", "10"][..], "--commands"),
        (&["--duration", "0"][..], "--duration"),
        (&["--mutant", "nope"][..], "--mutant"),
        (&["--shards", "0"][..], "--shards"),
        (&["--shards", "9"][..], "--shards"),
        (&["--shards", "-1"][..], "--shards"),
        (
            &["--shards", "2", "--mutant", "fok-partial-fill"][..],
            "--shards",
        ),
    ] {
        let mut a = vec!["stress"];
        a.extend_from_slice(args);
        let out = flowmatch(&a);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(option), "{args:?}: {err}");
    }
    // --junit and --json naming one file.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x");
    let f = f.to_str().unwrap();
    let out = flowmatch(&["stress", "--junit", f, "--json", f]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--json"));
}
