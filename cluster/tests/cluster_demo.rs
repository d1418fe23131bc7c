//! The cluster demo as a test: `scripts/cluster-demo.sh` (3 NATS servers, two engine
//! nodes, a gateway; one server and the primary node killed mid-stream) must end with
//! events identical to `flowmatch replay` of the same input, lost 0, duplicated 0. The
//! oracle is the single-process replay, not the cluster code. Bounded to 120 s.
//!
//! Needs `nats-server` (`.ci/run` installs it with apt-get). When it is missing the test
//! fails under `CI=true`, unless `.ci/run` could not install it and said so by setting
//! `FLOWMATCH_NATS_UNAVAILABLE=1`; outside CI it is skipped. A skip is written straight to
//! the process's stderr (not the test harness's captured output), so it is seen.

#[path = "../../tests/common/flowmatch_bin.rs"]
mod flowmatch_bin;

use std::io::Write;
use std::path::Path;
use std::process::Command;

fn nats_server_present() -> bool {
    Command::new("nats-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn cluster_survives_losing_a_nats_server_and_the_primary_node() {
    if !nats_server_present() {
        let ci = std::env::var("CI").as_deref() == Ok("true");
        let unavailable = std::env::var("FLOWMATCH_NATS_UNAVAILABLE").as_deref() == Ok("1");
        assert!(
            !ci || unavailable,
            "nats-server is not installed and CI=true: .ci/run installs it (apt-get install -y nats-server)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED cluster_survives_losing_a_nats_server_and_the_primary_node: \
             nats-server is not installed (apt-get install -y nats-server) ***\n"
        );
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let out = Command::new("timeout")
        .arg("120")
        .arg("bash")
        .arg(root.join("scripts/cluster-demo.sh"))
        .env("FLOWMATCH", flowmatch_bin::flowmatch_bin())
        .env("FLOWMATCH_CLUSTER", env!("CARGO_BIN_EXE_flowmatch-cluster"))
        .env("COMMANDS", "12000")
        .env("RATE", "2000")
        .output()
        .expect("run scripts/cluster-demo.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or("");
    assert_eq!(
        last,
        "commands 12000; events identical to single-process replay: yes; lost 0; duplicated 0",
        "\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "the demo must exit 0 when identical, lost 0, duplicated 0"
    );
}
