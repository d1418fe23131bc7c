//! Black-box test of `flowmatch compare`: the real binary on small streams writes every
//! report file, lists every matcher, reports matchcore's trade-through and nanobook's hang
//! (both known defects of those crates, see peers/README.md), and lobster's agreement.
//!
//! The binary is located (and built if needed) by `tests/common/flowmatch_bin.rs`.

#[path = "common/flowmatch_bin.rs"]
mod flowmatch_bin;
use flowmatch_bin::flowmatch_bin;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Texts of every `<text>` element of an SVG.
fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

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
    // Every workload compare knows (all registered ones, and retail) is run by default and
    // reported: a row in report.json's streams and throughput, in report.md and on the
    // console.
    let report_json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for w in flowmatch::harness::compare::Workload::all() {
        let name = w.name();
        assert!(
            report_json["workloads"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["name"] == name),
            "report.json lacks workload {name}"
        );
        assert!(
            report_json["throughput"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["workload"] == name && c["matcher"] == "fast"),
            "report.json has no fast throughput on {name}"
        );
        assert!(
            md.contains(&format!("| {name} |")),
            "report.md lacks {name}"
        );
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("{name} "))),
            "console lacks {name}:\n{stdout}"
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
        stdout
            .lines()
            .any(|l| l.contains("lobster") && l.contains("equity-mixed ") && l.contains("agree")),
        "{stdout}"
    );
    // Provenance: the house block, with the commit, in both report files.
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let prov = &report["provenance"];
    for key in ["tool", "commit", "dirty", "command", "cpu", "timestamp_utc"] {
        assert!(
            !prov[key].is_null(),
            "report.json provenance lacks {key}: {prov}"
        );
    }
    assert!(
        prov["command"]
            .as_str()
            .unwrap()
            .contains("--stall-ms 1000"),
        "{prov}"
    );
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.contains("## Provenance") && md.contains("| commit |"),
        "{md}"
    );

    // The fill chart plots what its title says, with the report's numbers: the share of
    // each class's resting orders that got any fill, per policy, on adversarial.
    let fill_svg = svg_texts(&std::fs::read_to_string(dir.join("fill-distribution.svg")).unwrap());
    let adversarial = report["fill_distribution"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["workload"] == "adversarial")
        .expect("adversarial fill distribution");
    assert!(
        fill_svg
            .iter()
            .any(|t| t == "Resting orders that got any fill, % by size class (adversarial)"),
        "{fill_svg:?}"
    );
    let mut plotted = 0;
    for p in adversarial["policies"].as_array().unwrap() {
        for c in p["classes"].as_array().unwrap() {
            let want = format!("{:.1}", c["orders_filled_pct"].as_f64().unwrap());
            assert!(fill_svg.contains(&want), "{want} not plotted: {fill_svg:?}");
            plotted += 1;
        }
    }
    assert_eq!(plotted, 6, "3 policies x 2 classes");

    // Throughput: every measured cell is labelled with its median; a hung peer is marked.
    let tp_svg = svg_texts(&std::fs::read_to_string(dir.join("throughput.svg")).unwrap());
    for c in report["throughput"].as_array().unwrap() {
        match c["hung_at"].as_array() {
            Some(h) => {
                let want = format!("hung at {}", h[0]);
                assert!(tp_svg.contains(&want), "{want} missing: {tp_svg:?}");
            }
            None => {
                let m = c["median_mcps"].as_f64().unwrap();
                let want = if m < 10.0 {
                    format!("{m:.2}")
                } else {
                    format!("{m:.1}")
                };
                assert!(tp_svg.contains(&want), "{want} missing: {tp_svg:?}");
            }
        }
    }

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

/// Runs `flowmatch compare ARGS`; a run still going after `limit` is killed and reported as
/// `None` (the option was accepted and work started).
fn compare_within(args: &[&str], limit: Duration) -> Option<std::process::Output> {
    let mut child = Command::new(flowmatch_bin())
        .arg("compare")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run flowmatch compare");
    let start = Instant::now();
    while start.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    None
}

#[test]
fn every_option_is_checked_before_any_work_with_its_range() {
    let scratch = tempfile::tempdir().expect("temporary directory");
    let out = scratch.path().join("out");
    let a_file = scratch.path().join("a-file");
    std::fs::write(&a_file, "not a directory").unwrap();
    let out_s = out.to_str().unwrap();
    let cases: &[(&[&str], &str, &str)] = &[
        (&["--stall-ms", "0"], "--stall-ms", "between 100 and 600000"),
        (
            &["--stall-ms", "99"],
            "--stall-ms",
            "between 100 and 600000",
        ),
        (
            &["--stall-ms", "600001"],
            "--stall-ms",
            "between 100 and 600000",
        ),
        (
            &["--cross-commands", "0"],
            "--cross-commands",
            "between 1 and 2000000",
        ),
        (
            &["--latency-commands", "0"],
            "--latency-commands",
            "between 1 and 2000000",
        ),
        (&["--commands", "0"], "--commands", "between 1 and 2000000"),
        (
            &["--commands", "2000001"],
            "--commands",
            "between 1 and 2000000",
        ),
        (&["--reps", "0"], "--reps", "between 1 and 100"),
        (
            &["--budget-ms", "99"],
            "--budget-ms",
            "between 100 and 3600000",
        ),
        (
            &["--budget-ms", "3600001"],
            "--budget-ms",
            "between 100 and 3600000",
        ),
        (&["--reps", "101"], "--reps", "between 1 and 100"),
    ];
    for &(bad, option, range) in cases {
        // Small and quick if it were accepted; the option under test given once.
        let mut args = vec!["--out", out_s];
        for (flag, small) in [("--commands", "2000"), ("--reps", "1")] {
            if bad[0] != flag {
                args.extend([flag, small]);
            }
        }
        args.extend_from_slice(bad);
        let o = compare_within(&args, Duration::from_secs(20))
            .unwrap_or_else(|| panic!("{bad:?} was accepted: the comparison started"));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {err}");
        assert!(
            err.contains(option) && err.contains(range),
            "{bad:?}: {err}"
        );
        assert!(!out.exists(), "{bad:?}: something was written");
    }
    // An --out that is a file, and a report file that is a directory.
    let o = compare_within(
        &["--commands", "2000", "--out", a_file.to_str().unwrap()],
        Duration::from_secs(20),
    )
    .expect("--out naming a file was accepted");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a directory"));
    std::fs::create_dir_all(out.join("report.md")).unwrap();
    let o = compare_within(
        &["--commands", "2000", "--out", out_s],
        Duration::from_secs(20),
    )
    .expect("a report file that is a directory was accepted");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is a directory"));
}

/// `--workloads` runs exactly the named workloads, in the order given; an unknown name is
/// refused before any work, listing every accepted name.
#[test]
fn workloads_option_selects_each_workload_by_name() {
    let names: Vec<&str> = flowmatch::harness::compare::Workload::all()
        .into_iter()
        .map(|w| w.name())
        .collect();
    let scratch = tempfile::tempdir().expect("temporary directory");
    let dir = scratch.path().join("out");
    let picked = ["deep-ladder", "retail", "cancel-storm"];
    let o = compare_within(
        &[
            "--workloads",
            &picked.join(","),
            "--commands",
            "3000",
            "--reps",
            "1",
            "--cross-commands",
            "1000",
            "--latency-commands",
            "500",
            "--stall-ms",
            "1000",
            "--out",
            dir.to_str().unwrap(),
        ],
        Duration::from_secs(300),
    )
    .expect("a three-workload compare finishes");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let ran: Vec<&str> = report["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(ran, picked);

    let o = compare_within(
        &[
            "--workloads",
            "equity-mixed,nope",
            "--out",
            dir.to_str().unwrap(),
        ],
        Duration::from_secs(20),
    )
    .expect("an unknown workload was accepted");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--workloads") && err.contains("nope"), "{err}");
    for n in names {
        assert!(err.contains(n), "{n} not listed: {err}");
    }
}

/// A peer that stops moving is hung even when the stream budget runs out before the stall
/// time does (nanobook never returns from command 1763 of equity-mixed, see
/// peers/README.md); a peer that keeps moving past the budget is too slow.
#[test]
fn a_hung_peer_is_reported_hung_not_too_slow_whatever_the_budget() {
    let scratch = tempfile::tempdir().expect("temporary directory");
    let dir = scratch.path().join("out");
    let o = compare_within(
        &[
            "--workloads",
            "equity-mixed",
            "--commands",
            "4000",
            "--reps",
            "1",
            "--cross-commands",
            "4000",
            "--latency-commands",
            "500",
            "--stall-ms",
            "2000",
            "--budget-ms",
            "300",
            "--out",
            dir.to_str().unwrap(),
        ],
        Duration::from_secs(300),
    )
    .expect("a one-workload compare finishes");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let nanobook = report["throughput"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["matcher"] == "nanobook")
        .expect("a nanobook cell");
    assert_eq!(nanobook["hung_at"][0], 1763, "{nanobook}");
    assert!(nanobook["too_slow"].is_null(), "{nanobook}");
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("nanobook") && l.contains("HUNG")),
        "{stdout}"
    );
}

/// A screening child runs a peer that never returns (nanobook hangs on this stream, see
/// peers/README.md). When the `compare` that started it dies, the child must die too
/// instead of spinning on a core for good. Here the parent is a shell that starts the
/// child in the background and exits at once.
#[test]
fn a_screening_child_exits_when_its_parent_dies() {
    let spec = "nanobook:equity-mixed:own:42:200000:50000";
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "FLOWMATCH_SCREEN_PARENT=$$ '{}' compare --screen {spec} >/dev/null 2>&1 & echo $!",
            flowmatch_bin().display()
        ))
        .output()
        .expect("sh runs");
    let pid: u32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("the shell printed the child's pid");
    let proc_dir = std::path::PathBuf::from(format!("/proc/{pid}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    // A zombie has no command line left: count it as gone.
    let alive = || std::fs::read(proc_dir.join("cmdline")).is_ok_and(|c| !c.is_empty());
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let still = alive();
    if still {
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    }
    assert!(
        !still,
        "the screening child {pid} outlived its parent by 20 s"
    );
}
