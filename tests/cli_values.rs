//! Black-box tests of option values through the real `flowmatch` binary: a negative number
//! given to any numeric option is refused with an error naming the option and its accepted
//! range (exit 2, nothing run), not clap's "unexpected argument"; an `--input` that is a
//! directory is named as one.
//!
//! The binary is located (and built if needed) by `tests/common/flowmatch_bin.rs`.

#[path = "common/flowmatch_bin.rs"]
mod flowmatch_bin;
use flowmatch_bin::flowmatch_bin;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `flowmatch ARGS` in `dir`; panics if it is still running after 20 s (the value was
/// accepted and work started).
fn flowmatch_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut child = Command::new(flowmatch_bin())
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run flowmatch");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{args:?} was accepted: the command started working");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// `(arguments, what stderr must say)`: each names the option and its accepted range.
const NEGATIVE: &[(&[&str], &str)] = &[
    (
        &["latency", "--rate", "-5"],
        "--rate -5 is out of range: a rate must be at least 1 and at most 1e9",
    ),
    (
        &["latency", "--rate", "250k,-5"],
        "--rate -5 is out of range: a rate must be at least 1 and at most 1e9",
    ),
    (
        &["latency", "--duration", "-1"],
        "--duration -1 is out of range: it must be more than 0 and at most 3600",
    ),
    (
        &["latency", "--warmup", "-1"],
        "--warmup -1 is out of range: it must be at least 0 and at most 3600",
    ),
    (
        &["latency", "--probe", "-1"],
        "--probe -1 is out of range: it must be at least 0 (no probe) and at most 600",
    ),
    (
        &["latency", "--batch", "-1"],
        "--batch must be between 1 and 65536, got -1",
    ),
    (
        &["latency", "--producers", "-2"],
        "--producers must be between 1 and 64, got -2",
    ),
    (
        &["latency", "--capacity", "-1024"],
        "--capacity must be between 1 and 1048576, got -1024",
    ),
    (
        &["latency", "--stream-len", "-1"],
        "--stream-len must be between 1 and 10000000, got -1",
    ),
    (
        &["latency", "--seed", "-1"],
        "--seed must be between 0 and 18446744073709551615, got -1",
    ),
    (
        &["run", "--seed", "-1"],
        "--seed must be between 0 and 18446744073709551615, got -1",
    ),
    (
        &["run", "--orders", "-5"],
        "--orders must be between 1 and 5000000, got -5",
    ),
    (
        &["run", "--rate", "-5"],
        "--rate must be within 1..=1000000000 messages per second (got -5)",
    ),
    (
        &["run", "--scenario", "retail", "--duration", "-1"],
        "day_seconds",
    ),
    (&["run", "--duration", "-1"], "day_seconds"),
    (
        &[
            "surveil",
            "--commands",
            "in.txt",
            "--events",
            "in.txt",
            "--window",
            "-1",
        ],
        "--window must be between 0 and 18446744073709551615, got -1",
    ),
    (
        &["run", "--instruments", "-5"],
        "--instruments must be between 1 and 10000, got -5",
    ),
    (
        &["run", "--instruments", "0"],
        "--instruments must be within 1..=10000 (got 0)",
    ),
    (
        &["run", "--scenario", "crude-2020", "--orders", "0"],
        "--orders must be within 1..=2000000 (got 0)",
    ),
    (
        &["run", "--scenario", "wash-327", "--orders", "5"],
        "--orders does not apply to --scenario wash-327",
    ),
    (
        &["compare", "--seed", "-1"],
        "--seed must be between 0 and 18446744073709551615, got -1",
    ),
    (
        &["compare", "--commands", "-1"],
        "--commands must be between 1 and 2000000, got -1",
    ),
    (
        &["compare", "--reps", "-1"],
        "--reps must be between 1 and 100, got -1",
    ),
    (
        &["compare", "--cross-commands", "-1"],
        "--cross-commands must be between 1 and 2000000, got -1",
    ),
    (
        &["compare", "--latency-commands", "-1"],
        "--latency-commands must be between 1 and 2000000, got -1",
    ),
    (
        &["compare", "--stall-ms", "-1"],
        "--stall-ms must be between 100 and 600000, got -1",
    ),
    (
        &["compare", "--budget-ms", "-1"],
        "--budget-ms must be between 100 and 3600000, got -1",
    ),
    (
        &["replay", "--input", "in.txt", "--max-qty", "-3"],
        "--max-qty must be between 1 and 18446744073709551615, got -3",
    ),
    (
        &["stress", "--commands", "-5"],
        "--commands must be between 1000 and 10000000000, got -5",
    ),
    (
        &["stress", "--duration", "-1"],
        "--duration must be between 1 and 604800, got -1",
    ),
    (
        &["stress", "--producers", "-2"],
        "--producers must be between 1 and 16, got -2",
    ),
    (
        &["stress", "--seed", "-1"],
        "--seed must be between 0 and 18446744073709551615, got -1",
    ),
    (
        &["bench", "--commands", "-3"],
        "--commands must be between 1000 and 1000000, got -3",
    ),
    (
        &[
            "replay",
            "--input",
            "in.txt",
            "--journal",
            "j",
            "--snapshot-every",
            "-5",
        ],
        "--snapshot-every must be between 1 and 1099511627776, got -5",
    ),
];

#[test]
fn a_negative_number_to_a_numeric_option_names_the_option_and_its_range() {
    let scratch = tempfile::tempdir().expect("temporary directory");
    std::fs::write(scratch.path().join("in.txt"), "N,1,1,B,L,100,5\n").unwrap();
    let mut failures = Vec::new();
    for &(args, want) in NEGATIVE {
        let o = flowmatch_in(scratch.path(), args);
        let err = String::from_utf8_lossy(&o.stderr);
        if o.status.code() != Some(2) || !err.contains(want) || err.contains("unexpected argument")
        {
            failures.push(format!(
                "{args:?}: exit {:?}, stderr:\n{err}\n(wanted {want:?})",
                o.status.code()
            ));
        }
    }
    // Nothing was written by any refused command.
    let left: Vec<_> = std::fs::read_dir(scratch.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["in.txt"], "a refused command wrote something");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_number_past_the_options_type_names_the_option_and_its_range() {
    let scratch = tempfile::tempdir().expect("temporary directory");
    let o = flowmatch_in(
        scratch.path(),
        &["compare", "--seed", "18446744073709551616"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--seed must be between 0 and 18446744073709551615, got 18446744073709551616"),
        "{err}"
    );
}

#[test]
fn replay_input_that_is_a_directory_says_so_naming_the_path() {
    let scratch = tempfile::tempdir().expect("temporary directory");
    std::fs::create_dir(scratch.path().join("cmds")).unwrap();
    for input in [".", "cmds"] {
        let o = flowmatch_in(scratch.path(), &["replay", "--input", input]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{input}: {err}");
        assert!(
            err.contains(&format!("--input {input} is a directory")),
            "{input}: {err}"
        );
        assert!(o.stdout.is_empty(), "{input}: events were printed");
    }
}
