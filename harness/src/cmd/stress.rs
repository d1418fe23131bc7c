//! `flowmatch stress`: parses and validates the options, runs [`crate::stress`], prints
//! the summary and writes the requested files. All the work lives in `crate::stress`.
//!
//! Exit status: 0 when every invariant held; 1 when one did not (the shrunk reproducer
//! is written under `--out` and the command that replays it printed) or a file could not
//! be written; 2 for a usage problem (an option out of range, outputs that collide).

use super::numeric::unsigned;
use crate::output;
use crate::stress::mutants::Mutant;
use crate::stress::{self, reproducer, Length, Outcome, Profile, StressConfig};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Producers accepted (the ingress has one ring each; more than this only time-slices).
pub const PRODUCERS: std::ops::RangeInclusive<usize> = 1..=16;
/// Commands accepted for `--commands`.
pub const COMMANDS: std::ops::RangeInclusive<u64> = 1_000..=10_000_000_000;
/// Shards accepted for `--shards` (each an engine thread; this machine has 2 cores).
pub const SHARDS: std::ops::RangeInclusive<usize> = 1..=8;
/// Seconds accepted for `--duration`.
pub const DURATION_S: std::ops::RangeInclusive<u64> = 1..=7 * 24 * 3600;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Run for this many seconds (1 to 604800), whole rounds.
    #[arg(long, value_name = "S", conflicts_with = "commands", allow_negative_numbers = true,
          value_parser = unsigned(*DURATION_S.start(), *DURATION_S.end()))]
    pub duration: Option<u64>,
    /// Run until this many commands were checked (1000 to 10^10), whole rounds.
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = unsigned(*COMMANDS.start(), *COMMANDS.end()))]
    pub commands: Option<u64>,
    /// Seed of every stream.
    #[arg(long, value_name = "S", default_value_t = 1, allow_negative_numbers = true,
          value_parser = unsigned(0, u64::MAX))]
    pub seed: u64,
    /// Producer threads on the multi-producer ingress (1 to 16).
    #[arg(long, value_name = "P", default_value_t = 3, allow_negative_numbers = true,
          value_parser = unsigned(*PRODUCERS.start(), *PRODUCERS.end()))]
    pub producers: usize,
    /// Run sharded: this many engine threads (1 to 8), each a multi-book of 2 instruments,
    /// commands routed by instrument (instead of the single engine and book).
    #[arg(long, value_name = "K", allow_negative_numbers = true,
          value_parser = unsigned(*SHARDS.start() as u64, *SHARDS.end() as u64))]
    pub shards: Option<u64>,
    /// Preset: quick (the CI gate: 250k commands or 20 s), soak (10 minutes), adversarial
    /// (500k commands or 60 s).
    #[arg(long, value_enum, default_value_t = Profile::Quick)]
    pub profile: Profile,
    /// Write a JUnit XML report (one test case per invariant) to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Directory the reproducer of a failure is written into.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// Run a deliberately broken variant instead of the product (see --list-mutants).
    #[arg(long, value_name = "NAME")]
    pub mutant: Option<String>,
    /// Print the mutants' names, one per line, and exit.
    #[arg(long)]
    pub list_mutants: bool,
}

fn in_range<T: PartialOrd + std::fmt::Display>(
    option: &str,
    v: T,
    r: &std::ops::RangeInclusive<T>,
) -> Result<T, String> {
    if r.contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "{option} {v} is out of range: it must be between {} and {}",
            r.start(),
            r.end()
        ))
    }
}

impl Args {
    /// The run these options describe, or a usage error naming the option.
    pub fn config(&self) -> Result<StressConfig, String> {
        let mut cfg = StressConfig::for_profile(self.profile);
        cfg.seed = self.seed;
        cfg.producers = in_range("--producers", self.producers, &PRODUCERS)?;
        if self.commands.is_some() || self.duration.is_some() {
            cfg.time_cap = None;
        }
        if let Some(n) = self.commands {
            cfg.length = Length::Commands(in_range("--commands", n, &COMMANDS)?);
        }
        if let Some(s) = self.duration {
            cfg.length =
                Length::Duration(Duration::from_secs(in_range("--duration", s, &DURATION_S)?));
        }
        if let Some(m) = &self.mutant {
            cfg.mutant = Some(Mutant::from_name(m).map_err(|e| format!("--mutant: {e}"))?);
        }
        if let Some(k) = self.shards {
            cfg.shards = Some(in_range("--shards", k as usize, &SHARDS)?);
            if cfg.mutant.is_some() {
                return Err(
                    "--mutant runs the single engine (the mutants are single books); it does not combine with --shards".into(),
                );
            }
        }
        Ok(cfg)
    }
}

/// Entry point: returns the process exit code.
pub fn run(a: Args) -> u8 {
    if a.list_mutants {
        for m in Mutant::ALL {
            println!("{}", m.name());
        }
        return 0;
    }
    let cfg = match a.config() {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("flowmatch stress: {msg}");
            return 2;
        }
    };
    let repro = reproducer::path(&a.out, cfg.seed);
    let accounts = reproducer::accounts_path(&repro);
    let mut outputs: Vec<(&str, &Path)> = vec![
        ("the reproducer", &repro),
        ("the reproducer's account table", &accounts),
    ];
    if let Some(p) = &a.junit {
        outputs.push(("--junit", p));
    }
    if let Some(p) = &a.json {
        outputs.push(("--json", p));
    }
    if let Err(msg) = output::check_output_dir("--out", &a.out)
        .and_then(|()| output::refuse_overwriting_inputs(&outputs, &[]))
    {
        eprintln!("flowmatch stress: {msg}");
        return 2;
    }
    let outcome = match stress::run(&cfg) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("flowmatch stress: cannot start a thread: {e}");
            return 1;
        }
    };
    let mut text = String::new();
    print_summary(&mut text, &cfg, &outcome);
    let mut code = if outcome.failure.is_some() { 1 } else { 0 };
    let mut written: Option<String> = None;
    if let Some(f) = &outcome.failure {
        if let Err(e) = std::fs::create_dir_all(&a.out)
            .and_then(|()| std::fs::write(&repro, reproducer::file_text(&cfg, f, &repro)))
            .and_then(|()| match f.setup.accounts_csv() {
                Some(csv) => std::fs::write(&accounts, csv),
                None => Ok(()),
            })
        {
            eprintln!("flowmatch stress: cannot write {}: {e}", repro.display());
        } else {
            written = Some(repro.display().to_string());
            print_failure(&mut text, &cfg, &outcome, &repro);
        }
    }
    // A reader that closed the pipe early is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    if let Some(p) = &a.junit {
        if let Err(e) = std::fs::write(p, stress::formats::junit(&cfg, &outcome)) {
            eprintln!(
                "flowmatch stress: cannot write --junit {}: {e}",
                p.display()
            );
            code = 1;
        }
    }
    if let Some(p) = &a.json {
        let doc = stress::formats::json(&cfg, &outcome, written.as_deref());
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
        if let Err(e) = std::fs::write(p, text) {
            eprintln!("flowmatch stress: cannot write --json {}: {e}", p.display());
            code = 1;
        }
    }
    code
}

fn print_summary(s: &mut String, cfg: &StressConfig, o: &Outcome) {
    let _ = writeln!(
        s,
        "flowmatch stress: profile {}, seed {}, {} producers, {}, mutant {}",
        cfg.profile.name(),
        cfg.seed,
        cfg.producers,
        match cfg.shards {
            None => "single engine".to_string(),
            Some(k) => format!(
                "{k} shards of {} instruments",
                stress::sharded::instruments(k)
            ),
        },
        cfg.mutant.map_or("none", |m| m.name())
    );
    let _ = writeln!(s,
        "{} commands in {} rounds, {:.1} s ({:.0} commands/s checked; threaded runs {:.1} s, {:.0} commands/s)",
        o.commands,
        o.rounds,
        o.elapsed.as_secs_f64(),
        o.commands_per_sec(),
        o.threaded.as_secs_f64(),
        o.commands as f64 / o.threaded.as_secs_f64().max(1e-9)
    );
    if o.stopped_by_time_cap {
        let _ = writeln!(
            s,
            "stopped by the profile's time cap before its command count (give --commands N for a run of fixed length)"
        );
    }
    let _ = writeln!(s, "checks:");
    for inv in stress::checks::Invariant::ALL {
        let failed = o
            .failure
            .as_ref()
            .is_some_and(|f| f.violations.iter().any(|v| v.invariant == inv));
        let _ = writeln!(
            s,
            "  {:<36} {:>12}  {}",
            inv.name(),
            o.checks.get(&inv).copied().unwrap_or(0),
            if failed { "FAILED" } else { "ok" }
        );
    }
    let _ = writeln!(s, "rules exercised:");
    for (rule, n) in &o.coverage.counts {
        let _ = writeln!(s, "  {rule:<36} {n:>12}");
    }
    let _ = writeln!(s, "back-pressure (varies with the thread schedule):");
    for (rule, n) in &o.schedule.counts {
        let _ = writeln!(s, "  {rule:<36} {n:>12}");
    }
}

fn print_failure(s: &mut String, cfg: &StressConfig, o: &Outcome, repro: &Path) {
    let Some(f) = &o.failure else { return };
    let _ = writeln!(
        s,
        "FAILED in round {} (policy {}, replace priority {}, account groups {}):",
        f.round,
        f.setup.policy,
        f.setup.replace,
        f.setup.groups_label()
    );
    if let Some((i, shard)) = f.instrument {
        let _ = writeln!(
            s,
            "  on instrument I{i} (shard {shard}); the reproducer is that instrument's stream, in its shard's order"
        );
    }
    for v in &f.violations {
        let _ = writeln!(s, "  {}: {}", v.invariant.name(), v.detail);
    }
    for l in &f.lost {
        let _ = writeln!(s,
            "  producer schedule: seed {}, producer {} lost its command {} at its full push number {}",
            cfg.seed, l.producer, l.index, l.full_pushes
        );
    }
    let _ = writeln!(
        s,
        "reproducer ({} commands, shrunk from {}): {}",
        f.reproducer.len(),
        f.original_len,
        repro.display()
    );
    for c in reproducer::replay_commands(cfg, f, repro) {
        let _ = writeln!(s, "  {c}");
    }
}

/// Kept here, not beside the rounds: nothing below `cmd/` imports from it.
#[cfg(test)]
mod round_flags_tests {
    use crate::stress::rounds::RoundSetup;
    use flowmatch_core::BookConfig;
    use std::path::Path;

    /// The flags parse back, through `flowmatch replay`'s own argument parser, into the
    /// same book configuration.
    #[test]
    fn the_replay_flags_rebuild_the_configuration() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Wrap {
            #[command(flatten)]
            replay: super::super::replay::Args,
        }
        for r in 0..42 {
            let s = RoundSetup::of(r, false);
            let line = format!("x --input f.txt {}", s.replay_flags(Path::new("a.csv")));
            let w = Wrap::try_parse_from(line.split(' ')).expect("flags parse");
            let mut want = s.book;
            want.capacity = BookConfig::default().capacity;
            assert_eq!(w.replay.config().expect("valid"), want, "round {r}");
            assert_eq!(w.replay.accounts.is_some(), !s.groups.is_empty());
            if let Some(csv) = s.accounts_csv() {
                assert_eq!(crate::surveil::accounts::parse(&csv), Ok(s.groups.clone()));
            }
        }
    }
}
