//! `flowmatch surveil`: flag wash trades, marking the close and layering over what a book
//! did (a journal directory, or a command file with the event file its replay printed),
//! with the account table that links accounts to their beneficial owner. Also runs the
//! `wash-327` scenario for `flowmatch run --scenario wash-327` ([`run_scenario`]).
//!
//! Exit codes: 0 done (flags or not), 2 a usage or input error (the message names the
//! option, or the file, line and field), 1 an output failure.

use super::numeric::unsigned;
use crate::journaled::{Settings, INSTRUMENTS_FILE};
use crate::surveil::{self, accounts, detect, scenario, tape};
use flowmatch_core::book::AccountGroups;
use flowmatch_core::Command;
use flowmatch_journal::Reader;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// Output format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One head line per flag, evidence indented below.
    Text,
    /// One JSON document.
    Json,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A journal directory (`flowmatch replay --journal`), replayed whole through the book
    /// its settings name.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["commands", "events"])]
    pub journal: Option<PathBuf>,
    /// A command file (the replay format).
    #[arg(long, value_name = "FILE", requires = "events")]
    pub commands: Option<PathBuf>,
    /// The event file `flowmatch replay` printed for `--commands`.
    #[arg(long, value_name = "FILE", requires = "commands")]
    pub events: Option<PathBuf>,
    /// Account table (CSV `account,group`); without it every account is its own owner.
    #[arg(long, value_name = "FILE")]
    pub accounts: Option<PathBuf>,
    /// Time of the close (a command sequence number; default the last command).
    #[arg(long, allow_negative_numbers = true, value_parser = unsigned(0u64, u64::MAX))]
    pub close: Option<u64>,
    /// Commands before the close that marking the close looks at, at least 1.
    #[arg(long, default_value_t = 200, allow_negative_numbers = true, value_parser = unsigned(0u64, u64::MAX))]
    pub window: u64,
    /// Least share (0 < share <= 1) of the window's volume for a close-marking flag.
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    pub close_share: f64,
    /// Least price move (ticks, 0 or more) an owner's aggressive trades caused in the window.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub close_move: i64,
    /// Least quantity of a layering order, at least 1.
    #[arg(long, default_value_t = 1_000, allow_negative_numbers = true, value_parser = unsigned(0u64, u64::MAX))]
    pub large_qty: u64,
    /// Most commands between a layering order's entry and its cancel.
    #[arg(long, default_value_t = 50, allow_negative_numbers = true, value_parser = unsigned(0u64, u64::MAX))]
    pub cancel_within: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the flags here instead of standard output (never one of the inputs).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

fn readable(opt: &str, p: &Path) -> Result<(), String> {
    match std::fs::metadata(p) {
        Err(e) => Err(format!("cannot read {opt} {}: {e}", p.display())),
        Ok(m) if m.is_dir() => Err(format!("{opt} {} is a directory; give a file", p.display())),
        Ok(_) => Ok(()),
    }
}

/// The tape of a journal directory: every record replayed through its book.
fn from_journal(dir: &Path) -> Result<Vec<tape::Step>, String> {
    if !dir.is_dir() {
        return Err(format!(
            "--journal {} is not a directory (give the journal directory)",
            dir.display()
        ));
    }
    if dir.join(INSTRUMENTS_FILE).exists() {
        return Err(format!(
            "--journal {}: a multi-instrument journal; surveillance reads single-instrument ones",
            dir.display()
        ));
    }
    let settings = Settings::read(dir).map_err(|f| f.to_string())?;
    let mut reader = Reader::<Command>::open(dir).map_err(|e| format!("--journal: {e}"))?;
    let mut cmds = Vec::new();
    while let Some(r) = reader
        .next_record()
        .map_err(|e| format!("--journal: {e}"))?
    {
        if cmds.is_empty() && r.seq != 1 {
            return Err(format!(
                "--journal {}: it starts at record {} (older segments pruned); surveillance \
                 needs the whole stream",
                dir.display(),
                r.seq
            ));
        }
        cmds.push(r.value);
    }
    Ok(tape::replay(&cmds, settings.config()))
}

/// Load everything and flag; `Err` is a message for a usage or input error.
pub fn survey(a: &Args) -> Result<Vec<detect::Flag>, String> {
    let p = detect::Params {
        close: a.close,
        window: a.window,
        close_share: a.close_share,
        close_move: a.close_move,
        large_qty: a.large_qty,
        cancel_within: a.cancel_within,
    };
    p.check()?;
    let mut inputs: Vec<(&str, &Path)> = Vec::new();
    for (opt, path) in [
        ("--commands", &a.commands),
        ("--events", &a.events),
        ("--accounts", &a.accounts),
    ] {
        if let Some(path) = path {
            readable(opt, path)?;
            inputs.push((opt, path));
        }
    }
    if let Some(out) = &a.out {
        crate::output::refuse_overwriting_inputs(&[("--out", out)], &inputs)?;
    }
    let groups = match &a.accounts {
        Some(path) => accounts::load(path)?,
        None => AccountGroups::new(),
    };
    let steps = match (&a.journal, &a.commands, &a.events) {
        (Some(dir), _, _) => from_journal(dir)?,
        (None, Some(c), Some(e)) => {
            let f = std::fs::File::open(c)
                .map_err(|err| format!("cannot read --commands {}: {err}", c.display()))?;
            let cmds = tape::read_commands(BufReader::new(f))
                .map_err(|err| format!("--commands {}: {err}", c.display()))?;
            let ev = std::fs::read_to_string(e)
                .map_err(|err| format!("cannot read --events {}: {err}", e.display()))?;
            tape::pair(&cmds, &ev).map_err(|err| format!("--events {}: {err}", e.display()))?
        }
        _ => return Err("give --journal DIR, or --commands FILE with --events FILE".into()),
    };
    if let Some(c) = a.close {
        if c > steps.len() as u64 {
            return Err(format!(
                "--close {c}: the stream has only {} commands",
                steps.len()
            ));
        }
    }
    Ok(detect::detect(&steps, &groups, &p))
}

/// Entry point: returns the process exit code.
pub fn run(a: Args) -> u8 {
    let flags = match survey(&a) {
        Ok(f) => f,
        Err(msg) => {
            eprintln!("flowmatch surveil: {msg}");
            return 2;
        }
    };
    let body = match a.format {
        Format::Text => surveil::flags_text(&flags),
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&surveil::flags_json(&flags)).expect("JSON")
        ),
    };
    match &a.out {
        Some(p) => match std::fs::write(p, body) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("flowmatch surveil: cannot write --out {}: {e}", p.display());
                1
            }
        },
        None => {
            use std::io::Write as _;
            let _ = std::io::stdout().lock().write_all(body.as_bytes());
            0
        }
    }
}

/// Ordinary commands in the `wash-327` day.
pub const WASH_327_COMMANDS: usize = 20_000;

/// `flowmatch run --scenario wash-327`: generate, run with group STP off and on, score,
/// print the report and write `report.txt`, `report.json`, `commands.txt`, `events.txt`
/// and `accounts.csv` (the inputs `flowmatch surveil` takes) into `out` (default
/// `flowmatch-out/run-wash-327/`).
pub fn run_scenario(seed: Option<u64>, out: Option<&Path>) -> u8 {
    let dir = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("flowmatch-out").join("run-wash-327"));
    if dir.is_file() {
        eprintln!("error: --out {} is a file; give a directory", dir.display());
        return 2;
    }
    let seed = seed.unwrap_or(scenario::SEED);
    let day = scenario::generate(seed, WASH_327_COMMANDS);
    let o = scenario::run(&day);
    let steps = tape::replay(&day.commands, Default::default());
    let (cmds, events) = tape::to_text(&steps);
    let files = [
        ("report.txt", o.text.clone()),
        (
            "report.json",
            format!("{}\n", serde_json::to_string_pretty(&o.json).expect("JSON")),
        ),
        ("commands.txt", cmds),
        ("events.txt", events),
        ("accounts.csv", accounts::to_text(&day.groups)),
    ];
    print!("seed {seed}\n{}", o.text);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return 1;
    }
    for (name, body) in files {
        if let Err(e) = std::fs::write(dir.join(name), body) {
            eprintln!("error: writing {}: {e}", dir.join(name).display());
            return 1;
        }
    }
    println!(
        "wrote report.txt, report.json, commands.txt, events.txt, accounts.csv in {}/",
        dir.display()
    );
    0
}
