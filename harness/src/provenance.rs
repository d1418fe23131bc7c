//! Where a result came from: one block, written into every result file flowmatch makes
//! (`report.json`/`report.md` of `run` and `compare`, `latency`'s summary, benchmark
//! text files), so that two results can be compared knowing what produced each.
//!
//! # Why one home
//! A figure without its machine, commit, command and load is not evidence: on a shared
//! 2-core VM the same command moves by tens of percent with the load, and a number from a
//! dirty tree cannot be reproduced. Every writer takes its block from here, so the files
//! agree on field names and on how each field is read.
//!
//! # What is read, and how
//! - *version*: the harness crate's version at build time.
//! - *commit* and *dirty*: `git` asked about the source tree the binary was built from
//!   (`CARGO_MANIFEST_DIR` at build time), not the current directory, so running the binary
//!   from elsewhere still names the right commit; empty when git or the tree is absent.
//!   `dirty` is true when tracked files differ from the commit, leaving out
//!   `bench-results/`: results are the outputs of a run, not its source, so a script that
//!   regenerates several of them in turn still records the later ones as clean.
//! - *command*: the process's own argument vector, joined with spaces (arguments holding
//!   spaces are quoted).
//! - *cpu*, *logical_cores*: `/proc/cpuinfo` (model name, processor count). Unlike
//!   `available_parallelism` the count does not shrink once a thread is pinned.
//! - *memory_gib*: `MemTotal` of `/proc/meminfo`, rounded.
//! - *os*: kernel name and release from `/proc/sys/kernel/{ostype,osrelease}`.
//! - *load_average*: the first three fields of `/proc/loadavg` when captured.
//! - *timestamp_utc*: wall-clock time when captured, ISO 8601, seconds.
//!
//! Timing fields (load, timestamp) differ between two runs of the same command; everything
//! a determinism test compares lives outside this block.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// The provenance block of one result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `flowmatch` and the harness version, e.g. `flowmatch 0.1.0`.
    pub tool: String,
    /// Full commit hash of the source tree the binary was built from ("" if unknown).
    pub commit: String,
    /// Tracked files differed from `commit` when the result was made.
    pub dirty: bool,
    /// The command line that produced the result.
    pub command: String,
    /// CPU model name.
    pub cpu: String,
    /// Logical CPUs the machine has.
    pub logical_cores: usize,
    /// Installed memory, GiB (rounded).
    pub memory_gib: u64,
    /// Kernel name and release.
    pub os: String,
    /// `/proc/loadavg`'s 1, 5 and 15 minute averages at capture.
    pub load_average: String,
    /// When the result was made, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub timestamp_utc: String,
}

impl Provenance {
    /// Reads the block for the running process now.
    pub fn capture() -> Provenance {
        Provenance::capture_with_command(command_line())
    }

    /// As [`capture`](Self::capture), with the command given (for results made by a
    /// library call rather than the binary, e.g. a benchmark naming its script).
    pub fn capture_with_command(command: String) -> Provenance {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|m| m.trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let logical_cores = match cpuinfo
            .lines()
            .filter(|l| l.starts_with("processor"))
            .count()
        {
            0 => std::thread::available_parallelism().map_or(0, |n| n.get()),
            n => n,
        };
        let (commit, dirty) = git_state();
        Provenance {
            tool: format!("flowmatch {}", env!("CARGO_PKG_VERSION")),
            commit,
            dirty,
            command,
            cpu,
            logical_cores,
            memory_gib: memory_gib(),
            os: os(),
            load_average: load_average(),
            timestamp_utc: iso8601_utc(SystemTime::now()),
        }
    }

    /// The short commit with ` (dirty)` appended when the tree had changes, or `unknown`.
    pub fn commit_label(&self) -> String {
        let short: String = self.commit.chars().take(7).collect();
        match (short.is_empty(), self.dirty) {
            (true, _) => "unknown".into(),
            (false, false) => short,
            (false, true) => format!("{short} (dirty)"),
        }
    }

    /// The block as a Markdown section (`## Provenance` and a two-column table).
    pub fn markdown(&self) -> String {
        let mut s = String::from("## Provenance\n\n| | |\n|---|---|\n");
        for (k, v) in self.fields() {
            let _ = writeln!(s, "| {k} | {} |", v.replace('|', "\\|"));
        }
        s
    }

    /// The block as `# key: value` comment lines, for text results (`.txt`, `.hgrm`
    /// headers) that tools skip past.
    pub fn comment_lines(&self) -> String {
        let mut s = String::new();
        for (k, v) in self.fields() {
            let _ = writeln!(s, "# {k}: {v}");
        }
        s
    }

    fn fields(&self) -> [(&'static str, String); 9] {
        [
            ("tool", self.tool.clone()),
            ("commit", self.commit_label()),
            ("command", self.command.clone()),
            (
                "machine",
                format!(
                    "{}, {} logical cores, {} GiB",
                    self.cpu, self.logical_cores, self.memory_gib
                ),
            ),
            ("os", self.os.clone()),
            ("load average at start", self.load_average.clone()),
            ("timestamp (UTC)", self.timestamp_utc.clone()),
            ("full commit", self.commit.clone()),
            (
                "tree",
                if self.dirty {
                    "had uncommitted changes".into()
                } else {
                    "clean".into()
                },
            ),
        ]
    }
}

/// `argv` joined by spaces, arguments with spaces or quotes quoted.
pub fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if a.is_empty() || a.contains([' ', '"', '\'', '\t']) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first three fields of `/proc/loadavg` ("" if unreadable).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The 1-minute load average as a number (None if unreadable).
pub fn load_average_1m() -> Option<f64> {
    load_average().split_whitespace().next()?.parse().ok()
}

fn memory_gib() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let kib: u64 = s
                .lines()
                .find(|l| l.starts_with("MemTotal:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((kib + (1 << 19)) >> 20)
        })
        .unwrap_or(0)
}

fn os() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let (name, release) = (
        read("/proc/sys/kernel/ostype"),
        read("/proc/sys/kernel/osrelease"),
    );
    if name.is_empty() {
        std::env::consts::OS.to_string()
    } else {
        format!("{name} {release}")
    }
}

fn git_state() -> (String, bool) {
    let tree = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(tree)
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "HEAD"]) {
        Some(commit) => {
            let dirty = git(&[
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ":(top)",
                ":(top,exclude)bench-results",
            ])
            .is_some_and(|s| !s.is_empty());
            (commit, dirty)
        }
        None => (String::new(), false),
    }
}

/// `t` as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian calendar, UTC).
pub fn iso8601_utc(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day): shift the year to start in March so the
/// leap day is last, then split into 400-year eras of 146,097 days.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_match_hand_checked_dates() {
        let at = |s: u64| iso8601_utc(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        // 2000-02-29 12:34:56 UTC, a leap day in a century year divisible by 400.
        assert_eq!(at(951_827_696), "2000-02-29T12:34:56Z");
        // 2026-12-01 00:00:00 UTC.
        assert_eq!(at(1_796_083_200), "2026-12-01T00:00:00Z");
        // 2100-03-01, after a century year that is not a leap year.
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn capture_fills_every_machine_field() {
        let p = Provenance::capture_with_command("flowmatch test".into());
        assert_eq!(p.command, "flowmatch test");
        assert!(p.tool.starts_with("flowmatch "));
        assert!(p.logical_cores > 0);
        assert!(!p.cpu.is_empty());
        assert_eq!(p.timestamp_utc.len(), 20);
        let md = p.markdown();
        assert!(md.contains("| command | flowmatch test |"), "{md}");
        assert!(p.comment_lines().lines().all(|l| l.starts_with("# ")));
    }

    #[test]
    fn commit_label_marks_dirty_trees() {
        let mut p = Provenance::capture_with_command(String::new());
        p.commit = "0123456789abcdef".into();
        p.dirty = false;
        assert_eq!(p.commit_label(), "0123456");
        p.dirty = true;
        assert_eq!(p.commit_label(), "0123456 (dirty)");
        p.commit.clear();
        assert_eq!(p.commit_label(), "unknown");
    }
}
