//! The `flowmatch` binary for black-box tests of the root package.
//!
//! The binary belongs to the `flowmatch-harness` package, a *dependency* of this root
//! package, so cargo does not provide `CARGO_BIN_EXE_flowmatch` here. Instead the first
//! test to need it asks cargo to build it into the same target directory and profile as
//! the test executable (a no-op when it is fresh). Set `FLOWMATCH_BIN` to use a prebuilt
//! binary instead. Included with `#[path]` by each test binary that runs the CLI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Path of the built `flowmatch` binary.
pub fn flowmatch_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("FLOWMATCH_BIN") {
            return PathBuf::from(p);
        }
        // <target>/<profile-dir>/deps/cli_replay-<hash>
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
            .env("CARGO_TARGET_DIR", target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo build for the flowmatch binary");
        assert!(
            out.status.success(),
            "building the flowmatch binary failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bin = profile_dir.join(format!("flowmatch{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.exists(), "{} was not built", bin.display());
        bin
    })
}
