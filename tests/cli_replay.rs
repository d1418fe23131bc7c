//! Black-box tests of `flowmatch replay`: the real binary, real files, exit codes and
//! messages.
//! (The binary is located by `tests/common/flowmatch_bin.rs`.)

#[path = "common/flowmatch_bin.rs"]
mod flowmatch_bin;
use flowmatch_bin::flowmatch_bin;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A per-test scratch directory (a self-cleaning `tempfile` directory).
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new(name: &str) -> Self {
        let d = tempfile::Builder::new()
            .prefix(&format!("flowmatch-cli-{name}-"))
            .tempdir()
            .expect("temporary directory");
        Scratch(d)
    }
    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).unwrap();
        p
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

fn replay(args: &[&str]) -> Output {
    Command::new(flowmatch_bin())
        .arg("replay")
        .args(args)
        .output()
        .expect("run flowmatch")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

const ISSUE_EXAMPLE: &str = "N,1,1,S,L,100,5\nN,2,1,S,L,101,5\nN,3,2,B,L,101,8,IOC\n";
const ISSUE_EVENTS: &str = "1,ACK,1\n2,ACK,2\n3,ACK,3\n3,TRD,3,1,100,5\n3,TRD,3,2,101,3\n";

#[test]
fn issue_example_end_to_end_on_both_books() {
    let s = Scratch::new("example");
    let input = s.file("cmds.txt", ISSUE_EXAMPLE);
    for book in ["fast", "reference"] {
        let book_out = s.path(&format!("book-{book}.txt"));
        let o = replay(&[
            "--input",
            input.to_str().unwrap(),
            "--book-out",
            book_out.to_str().unwrap(),
            "--book",
            book,
        ]);
        assert_eq!(o.status.code(), Some(0), "{book}: {}", stderr(&o));
        assert_eq!(stdout(&o), ISSUE_EVENTS, "{book}");
        assert_eq!(stderr(&o), "", "{book}");
        assert_eq!(std::fs::read_to_string(&book_out).unwrap(), "S,101,2,2\n");
    }
    // The default book is the fast one and gives the same output.
    let o = replay(&["--input", input.to_str().unwrap()]);
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(0), ISSUE_EVENTS.into())
    );
}

#[test]
fn events_file_instead_of_stdout_and_comments_do_not_count() {
    let s = Scratch::new("events-file");
    let input = s.file(
        "cmds.txt",
        "# header comment\n\nN,1,1,S,L,100,5\n   # indented comment\n  N , 2 , 1 , S , L , 101 , 5  \nN,3,2,B,L,101,8,IOC\nC,2\nC,1\n",
    );
    let events = s.path("events.txt");
    let book = s.path("book.txt");
    let o = replay(&[
        "--input",
        input.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--book-out",
        book.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(
        std::fs::read_to_string(&events).unwrap(),
        format!("{ISSUE_EVENTS}4,CXL,2,2,USER,S,101\n5,REJ,1,UNKNOWN_ID\n")
    );
    assert_eq!(std::fs::read_to_string(&book).unwrap(), "");
}

/// `--replace-priority`: the default keeps a replace that changes nothing in place, so
/// order 1 still trades first; `always-requeue` sends it behind order 2 (expected events
/// worked out by hand from `docs/SEMANTICS.md`, "Replace"). A mode that does not exist is a
/// usage error.
#[test]
fn replace_priority_flag_chooses_the_mode_on_both_books() {
    let s = Scratch::new("replace-priority");
    let input = s.file(
        "cmds.txt",
        "N,1,1,S,L,100,5\nN,2,2,S,L,100,5\nR,1,100,5\nN,3,3,B,L,100,5\n",
    );
    let head = "1,ACK,1\n2,ACK,2\n3,RPL,1\n4,ACK,3\n";
    for book in ["fast", "reference"] {
        for (mode, maker, rests) in [
            (None, 1, 2),
            (Some("keep-if-reduced"), 1, 2),
            (Some("always-requeue"), 2, 1),
        ] {
            let book_out = s.path("book.txt");
            let mut args = vec![
                "--input",
                input.to_str().unwrap(),
                "--book",
                book,
                "--book-out",
                book_out.to_str().unwrap(),
            ];
            if let Some(m) = mode {
                args.extend(["--replace-priority", m]);
            }
            let o = replay(&args);
            assert_eq!(o.status.code(), Some(0), "{book} {mode:?}: {}", stderr(&o));
            assert_eq!(
                stdout(&o),
                format!("{head}4,TRD,3,{maker},100,5\n"),
                "{book} {mode:?}"
            );
            assert_eq!(
                std::fs::read_to_string(&book_out).unwrap(),
                format!("S,100,{rests},5\n"),
                "{book} {mode:?}"
            );
        }
    }
    let o = replay(&[
        "--input",
        input.to_str().unwrap(),
        "--replace-priority",
        "never",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--replace-priority"), "{}", stderr(&o));
}

#[test]
fn empty_input_is_success_with_no_output() {
    let s = Scratch::new("empty");
    let input = s.file("cmds.txt", "# nothing here\n\n");
    let book = s.path("book.txt");
    let o = replay(&[
        "--input",
        input.to_str().unwrap(),
        "--book-out",
        book.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(std::fs::read_to_string(&book).unwrap(), "");
}

#[test]
fn malformed_lines_exit_2_naming_line_and_field() {
    // Each bad line is placed on file line 4, after a comment, a good command and a blank
    // line; the good command's events must already be on stdout (documented behaviour).
    let cases: &[(&str, &str)] = &[
        ("X,1", "op"),
        ("N,1,1,B,L,100", "fields"),
        ("C,1,2", "fields"),
        ("R,1,100", "fields"),
        ("N,1,1,B,L,100,5,GTC,NONE,9", "fields"),
        ("N,abc,1,B,L,100,5", "id"),
        ("N,-1,1,B,L,100,5", "id"),
        ("C,18446744073709551616", "id"),
        ("N,2,4294967296,B,L,100,5", "account"),
        ("N,2,1,Q,L,100,5", "side"),
        ("N,2,1,B,X,100,5", "type"),
        ("N,2,1,B,L,1e3,5", "price"),
        ("R,2,9223372036854775808,5", "price"),
        ("N,2,1,B,L,100,five", "qty"),
        ("N,2,1,B,L,100,-5", "qty"),
        ("N,2,1,B,L,100,18446744073709551616", "qty"),
        ("C,+5", "id"),
        ("R,2,+5,100", "price"),
        ("N,2,1,B,L,100,5\u{a0}", "qty"),
        ("N,2,1,B,L,100,5,DAY", "tif"),
        ("N,2,1,B,L,100,5,GTC,ZZ", "stp"),
    ];
    let s = Scratch::new("malformed");
    for (i, &(bad, field)) in cases.iter().enumerate() {
        let input = s.file(
            &format!("bad{i}.txt"),
            &format!("# c\nN,9,1,S,L,100,5\n\n{bad}\nN,10,1,S,L,100,5\n"),
        );
        let o = replay(&["--input", input.to_str().unwrap(), "--book", "reference"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("line 4"), "{bad}: {err}");
        assert!(err.contains(&format!("bad {field}")), "{bad}: {err}");
        assert!(!err.contains("panicked"), "{bad}: {err}");
        assert_eq!(stdout(&o), "1,ACK,9\n", "{bad}");
    }
}

#[test]
fn missing_or_unreadable_input_is_a_clear_error() {
    let s = Scratch::new("missing");
    let missing = s.path("does-not-exist.txt");
    let o = replay(&["--input", missing.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot open input"), "{err}");
    assert!(err.contains("does-not-exist.txt"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(stdout(&o), "");

    // A directory is not a readable command file either.
    let o = replay(&["--input", s.0.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));

    // Non-UTF-8 content is reported with its line.
    let bad = s.path("latin1.txt");
    std::fs::write(&bad, b"N,1,1,S,L,100,5\nN,2,1,S,L,\xe9,5\n").unwrap();
    let o = replay(&["--input", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("line 2"), "{}", stderr(&o));
}

#[test]
fn usage_errors_exit_2() {
    let s = Scratch::new("usage");
    let input = s.file("cmds.txt", ISSUE_EXAMPLE);
    let input = input.to_str().unwrap();
    for args in [
        vec!["--input", input, "--min-price", "10", "--max-price", "-10"],
        vec!["--input", input, "--max-qty", "0"],
        vec!["--input", input, "--book", "turbo"],
        vec!["--input", input, "--policy", "lifo"],
        vec![],
    ] {
        let o = replay(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty(), "{args:?}");
        assert!(!stderr(&o).contains("panicked"), "{args:?}");
    }
}

#[test]
fn config_flags_reach_the_book() {
    let s = Scratch::new("flags");
    let input = s.file(
        "cmds.txt",
        "N,1,1,B,L,-11,5\nN,2,1,B,L,-10,5\nN,3,1,B,L,10,5\nN,4,1,B,L,11,5\nN,5,1,B,L,0,6\n",
    );
    let o = replay(&[
        "--input",
        input.to_str().unwrap(),
        "--min-price",
        "-10",
        "--max-price",
        "10",
        "--max-qty",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "1,REJ,1,BAD_PRICE\n2,ACK,2\n3,ACK,3\n4,REJ,4,BAD_PRICE\n5,REJ,5,BAD_QTY\n"
    );
}

/// Splits a scenario file into its replay flags, command text and expected events.
fn scenario_parts(src: &str) -> (Vec<String>, String, String) {
    let mut flags = Vec::new();
    let (mut cmds, mut events) = (String::new(), String::new());
    let mut section = "";
    for line in src.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            section = t;
            continue;
        }
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        match section {
            "[config]" => {
                let (k, v) = t.split_once('=').expect("key = value");
                let (k, v) = (k.trim(), v.trim());
                let flag = match k {
                    "policy" => "--policy",
                    "replace_priority" => "--replace-priority",
                    "max_qty" => "--max-qty",
                    "min_price" => "--min-price",
                    "max_price" => "--max-price",
                    _ => panic!("unknown config key {k}"),
                };
                flags.push(flag.to_string());
                flags.push(v.to_string());
            }
            "[commands]" => {
                cmds.push_str(t);
                cmds.push('\n');
            }
            "[events]" => {
                events.push_str(t);
                events.push('\n');
            }
            _ => {}
        }
    }
    (flags, cmds, events)
}

#[test]
fn reference_and_fast_books_give_identical_output_on_every_scenario() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let s = Scratch::new("scenarios");
    for f in &files {
        let (flags, cmds, expected) = scenario_parts(&std::fs::read_to_string(f).unwrap());
        let input = s.file("cmds.txt", &cmds);
        let mut outputs = Vec::new();
        for book in ["reference", "fast"] {
            let book_out = s.path(&format!("book-{book}.txt"));
            let mut args = vec![
                "--input".to_string(),
                input.to_str().unwrap().to_string(),
                "--book".to_string(),
                book.to_string(),
                "--book-out".to_string(),
                book_out.to_str().unwrap().to_string(),
            ];
            args.extend(flags.iter().cloned());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = replay(&args);
            assert_eq!(o.status.code(), Some(0), "{}: {}", f.display(), stderr(&o));
            outputs.push((stdout(&o), std::fs::read_to_string(&book_out).unwrap()));
        }
        assert_eq!(
            outputs[0].0,
            expected,
            "{}: reference events differ from the hand-checked ones",
            f.display()
        );
        assert!(
            outputs[0] == outputs[1],
            "{}: fast and reference books differ through the CLI",
            f.display()
        );
    }
}

/// Runs `flowmatch replay` with `args` and the given standard input.
fn replay_with_stdin(args: &[&str], stdin: Stdio) -> Output {
    Command::new(flowmatch_bin())
        .arg("replay")
        .args(args)
        .stdin(stdin)
        .output()
        .expect("run flowmatch")
}

#[test]
fn an_output_that_is_an_input_is_refused_and_the_input_survives() {
    let s = Scratch::new("same-file");
    let input = s.file("same.txt", ISSUE_EXAMPLE);
    let sym = s.path("link.txt");
    std::os::unix::fs::symlink(&input, &sym).unwrap();
    let hard = s.path("hard.txt");
    std::fs::hard_link(&input, &hard).unwrap();
    let dotted = s.0.path().join(".").join("same.txt");
    let other = s.path("other.txt");
    let inp = input.to_str().unwrap();
    for (flag, out) in [
        ("--events", &input),
        ("--events", &sym),
        ("--events", &hard),
        ("--events", &dotted),
        ("--book-out", &input),
        ("--book-out", &hard),
    ] {
        let o = replay(&["--input", inp, flag, out.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{flag} {}: {err}", out.display());
        assert!(
            err.contains("same file as --input") && err.contains(flag),
            "{err}"
        );
        assert_eq!(stdout(&o), "");
        assert_eq!(std::fs::read_to_string(&input).unwrap(), ISSUE_EXAMPLE);
    }
    // The input reached through standard input is caught too.
    let o = replay_with_stdin(
        &["--input", "-", "--events", inp],
        Stdio::from(std::fs::File::open(&input).unwrap()),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&input).unwrap(), ISSUE_EXAMPLE);
    // Both outputs naming one file, and an output that is a directory.
    let o = replay(&[
        "--input",
        inp,
        "--events",
        other.to_str().unwrap(),
        "--book-out",
        other.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("same file"), "{}", stderr(&o));
    assert!(!other.exists(), "nothing may be written before the check");
    for flag in ["--events", "--book-out"] {
        let o = replay(&["--input", inp, flag, s.0.path().to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
    }
    // Distinct files still work.
    let o = replay(&["--input", inp, "--events", other.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&other).unwrap(), ISSUE_EVENTS);
}

#[test]
fn input_dash_reads_standard_input() {
    let s = Scratch::new("stdin");
    let book = s.path("book.txt");
    let mut child = Command::new(flowmatch_bin())
        .args([
            "replay",
            "--input",
            "-",
            "--book-out",
            book.to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run flowmatch");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ISSUE_EXAMPLE.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), ISSUE_EVENTS);
    assert_eq!(std::fs::read_to_string(&book).unwrap(), "S,101,2,2\n");
    // A malformed line on standard input names it so.
    let o = replay_with_stdin(
        &["--input", "-"],
        Stdio::from(std::fs::File::open(s.file("bad.txt", "C,x\n")).unwrap()),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("standard input: line 1"),
        "{}",
        stderr(&o)
    );
}

/// Many resting sells: about 1 MB of events, far more than a pipe holds.
fn many_orders(n: u64) -> String {
    (1..=n)
        .map(|i| format!("N,{i},1,S,L,{},1\n", 100 + i % 50))
        .collect()
}

/// Reads two event lines from a running replay, closes the pipe and waits.
fn read_two_lines_then_close(args: &[&str]) -> (Output, Vec<String>) {
    let mut child = Command::new(flowmatch_bin())
        .arg("replay")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run flowmatch");
    let mut lines = Vec::new();
    {
        let mut r = BufReader::new(child.stdout.take().unwrap());
        for _ in 0..2 {
            let mut l = String::new();
            r.read_line(&mut l).unwrap();
            lines.push(l);
        }
    } // the read end is closed here, like `head -2` exiting
    (child.wait_with_output().unwrap(), lines)
}

#[test]
fn a_reader_closing_the_pipe_is_a_normal_end() {
    let s = Scratch::new("pipe");
    let input = s.file("many.txt", &many_orders(60_000));
    let inp = input.to_str().unwrap();
    let (o, lines) = read_two_lines_then_close(&["--input", inp]);
    assert_eq!(lines, ["1,ACK,1\n", "2,ACK,2\n"]);
    assert_eq!(stderr(&o), "", "a closed pipe must end quietly");
    assert_eq!(o.status.code(), Some(0));

    // With --book-out the book is still the whole file's.
    let book = s.path("book.txt");
    let (o, _) = read_two_lines_then_close(&["--input", inp, "--book-out", book.to_str().unwrap()]);
    assert_eq!((o.status.code(), stderr(&o)), (Some(0), String::new()));
    let dump = std::fs::read_to_string(&book).unwrap();
    assert_eq!(dump.lines().count(), 60_000);
    // Asks best (lowest) first: price 100 holds ids 50, 100, ... in time order.
    assert_eq!(dump.lines().next(), Some("S,100,50,1"));
}

#[test]
fn top_level_help_says_what_flowmatch_is_and_lists_the_commands() {
    for flag in ["--help", "-h"] {
        let o = Command::new(flowmatch_bin())
            .arg(flag)
            .output()
            .expect("run flowmatch");
        assert_eq!(o.status.code(), Some(0));
        let help = stdout(&o);
        assert!(
            help.starts_with("flowmatch: a low-latency order-matching core"),
            "{help}"
        );
        // Not the cargo crate description.
        assert!(!help.contains("flowmatch lab: flow generators"), "{help}");
        for cmd in ["replay", "run", "latency", "compare"] {
            assert!(
                help.lines().any(|l| l.trim_start().starts_with(cmd)),
                "{cmd} missing: {help}"
            );
        }
    }
}
