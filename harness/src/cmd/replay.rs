//! `flowmatch replay`: run a command file through a book, print the events, optionally
//! dump the final book.
//!
//! Exit status: 0 on success; 2 for a usage problem (including an output that is one of
//! the inputs, see [`crate::output`]), an unreadable input or a malformed line; 1 if the
//! output could not be written. Events are streamed: when a malformed line stops the
//! replay, the events of the commands before it have already been written (and flushed) —
//! the error names the line, so the output is an exact prefix of what a corrected file
//! would give.
//!
//! `--input -` reads standard input. A reader that closes the event pipe early
//! (`flowmatch replay ... | head`) is a normal end: exit 0, nothing on stderr. The replay
//! then stops, unless `--book-out` asks for the final book, in which case the remaining
//! commands are still applied (their events discarded) so the book is the whole file's.
//!
//! The loop formats every event into one reused `String` and hands it to a buffered
//! writer in large chunks, so replaying allocates nothing per command or per event.

use super::journaled::Settings;
use super::numeric::unsigned;
use super::replay_journaled::{self, JournalOptions};
use super::PolicyArg;
use crate::cmd::replay_instruments as instrument_text;
use crate::output;
use crate::policy::ReplacePriorityArg;
pub use crate::replay_loop::{
    replay, replay_lines, BookKind, OnClosedOutput, ReplayError, Replayed,
};
use crate::stress::mutants::{Mutant, MutantBook};
use flowmatch_core::instrument::BookStorage;
use flowmatch_core::{BookConfig, FastBook, InstrumentTable, Price, Qty, ReferenceBook};
use flowmatch_journal::FsyncPolicy;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Command file (`N,...` / `C,id` / `R,id,price,qty` lines; `#` comments); `-` reads
    /// standard input.
    #[arg(long, value_name = "CMDS")]
    pub input: PathBuf,
    /// Write events to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Write the final book (`side,price,id,open_qty` lines, then any resting midpoint pegs as
    /// `side,MID,id,open_qty,cap`) to this file.
    #[arg(long, value_name = "FILE")]
    pub book_out: Option<PathBuf>,
    /// Book implementation.
    #[arg(long, value_enum, default_value_t = BookKind::Fast)]
    pub book: BookKind,
    /// Matching policy within a price level.
    #[arg(long, value_enum, default_value_t = PolicyArg::PriceTime)]
    pub policy: PolicyArg,
    /// Whether a replace that keeps its price and does not add quantity keeps its time
    /// priority (`keep-if-reduced`) or every accepted replace loses it (`always-requeue`).
    #[arg(long, value_enum, default_value_t = ReplacePriorityArg::KeepIfReduced)]
    pub replace_priority: ReplacePriorityArg,
    /// Largest accepted order quantity, 1 to 18446744073709551615 (default 4294967295).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = unsigned(1, Qty::MAX))]
    pub max_qty: Option<Qty>,
    /// Lowest accepted limit price (default i64::MIN).
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub min_price: Option<Price>,
    /// Highest accepted limit price (default i64::MAX).
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub max_price: Option<Price>,
    /// Instrument table (CSV, see `flowmatch_core::instrument::table`): `SYM:` prefixes
    /// must name its instruments. Without it any symbol is an instrument with the settings
    /// above.
    #[arg(long, value_name = "FILE")]
    pub instruments: Option<PathBuf>,
    /// Replay through a deliberately broken book instead (`flowmatch stress
    /// --list-mutants`; book mutants only): shows a stress reproducer's divergence. The
    /// mutant is the default instrument's book (unprefixed lines, as reproducers are); it
    /// follows `--replace-priority`.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["book", "instruments", "journal"])]
    pub mutant: Option<String>,
    /// Journal every command into this directory before releasing its events (see
    /// `flowmatch recover` and `flowmatch journal`); unprefixed input only.
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
    /// When journal records are forced to disk: `none`, `every`, `batch` (4,096 records or
    /// 1000 µs), `batch:RECORDS` or `batch:RECORDS:MICROS`.
    #[arg(long, value_name = "POLICY", requires = "journal", default_value = "batch", value_parser = parse_fsync)]
    pub fsync: FsyncPolicy,
    /// Write a snapshot of the book after every N commands, 1 to 1099511627776.
    #[arg(long, value_name = "N", requires = "journal", allow_negative_numbers = true,
          value_parser = unsigned(1, replay_journaled::MAX_SNAPSHOT_EVERY))]
    pub snapshot_every: Option<u64>,
    /// Continue the journal in `--journal DIR`: recover it, skip the input's commands it
    /// already holds (checked against it), journal and apply the rest.
    #[arg(long, requires = "journal")]
    pub resume: bool,
    /// Account table (CSV `account,group`, see `flowmatch_harness::surveil::accounts`):
    /// self-trade prevention then acts on each account's group (`docs/SEMANTICS.md`,
    /// "Account groups"). Single-instrument replays only.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["instruments", "mutant", "journal"])]
    pub accounts: Option<PathBuf>,
    /// CME allocation parameters (with `--policy cme:A` … `cme:T`).
    #[command(flatten)]
    pub cme: super::cme_args::CmeArgs,
}

fn parse_fsync(s: &str) -> Result<FsyncPolicy, String> {
    s.parse::<FsyncPolicy>().map_err(|e| {
        format!("{e} (expected none, every, batch, batch:RECORDS or batch:RECORDS:MICROS)")
    })
}

impl Args {
    /// The book configuration these arguments describe, or a usage error.
    pub fn config(&self) -> Result<BookConfig, String> {
        let params = self.cme.params()?;
        if self.policy.algorithm().is_some() && self.journal.is_some() {
            // The journal's settings file names the policy, not its parameters.
            return Err(format!(
                "--journal does not record CME parameters; replay --policy {} without --journal",
                self.policy.name()
            ));
        }
        let mut cfg = BookConfig {
            policy: self.policy.policy_with(params)?,
            replace_priority: self.replace_priority.mode(),
            ..BookConfig::default()
        };
        if let Some(q) = self.max_qty {
            if q == 0 {
                return Err(format!("--max-qty must be between 1 and {}", Qty::MAX));
            }
            cfg.max_order_qty = q;
        }
        if let Some(p) = self.min_price {
            cfg.min_price = p;
        }
        if let Some(p) = self.max_price {
            cfg.max_price = p;
        }
        if cfg.min_price > cfg.max_price {
            return Err(format!(
                "--min-price {} is above --max-price {}: the accepted band must hold at least one price",
                cfg.min_price, cfg.max_price
            ));
        }
        Ok(cfg)
    }
}

/// Entry point: returns the process exit code.
pub fn run(a: Args) -> u8 {
    let cfg = match a.config() {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("flowmatch replay: {msg}");
            return 2;
        }
    };
    let table = match &a.instruments {
        None => None,
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| InstrumentTable::from_csv(&t).map_err(|e| e.to_string()))
        {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("flowmatch replay: --instruments {}: {e}", path.display());
                return 2;
            }
        },
    };
    if let Some(n) = a.snapshot_every {
        if !(1..=replay_journaled::MAX_SNAPSHOT_EVERY).contains(&n) {
            eprintln!(
                "flowmatch replay: --snapshot-every must be between 1 and {}, got {n}",
                replay_journaled::MAX_SNAPSHOT_EVERY
            );
            return 2;
        }
    }
    if let Some(dir) = &a.journal {
        if let Err(msg) = replay_journaled::check_dir(dir, &a.input) {
            eprintln!("flowmatch replay: {msg}");
            return 2;
        }
    }
    if let Some(name) = &a.mutant {
        let book = Mutant::from_name(name).and_then(|m| {
            m.book().ok_or_else(|| {
                format!("{name} is not a book mutant; rerun `flowmatch stress --mutant {name}`")
            })
        });
        return match book {
            Ok(m) => run_with(MutantBook::new(cfg, Some(m)), table, &a),
            Err(msg) => {
                eprintln!("flowmatch replay: --mutant: {msg}");
                2
            }
        };
    }
    let groups = match a.accounts.as_deref().map(crate::surveil::accounts::load) {
        None => Default::default(),
        Some(Ok(g)) => g,
        Some(Err(msg)) => {
            eprintln!("flowmatch replay: {msg}");
            return 2;
        }
    };
    match a.book {
        BookKind::Fast => {
            let mut b = FastBook::new(cfg);
            b.set_account_groups(groups);
            run_with(b, table, &a)
        }
        BookKind::Reference => {
            let mut b = ReferenceBook::new(cfg);
            b.set_account_groups(&groups);
            run_with(b, table, &a)
        }
    }
}

fn run_with<B: BookStorage>(book: B, table: Option<InstrumentTable>, a: &Args) -> u8 {
    let mut session = match instrument_text::InstrumentReplay::new(book, table) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("flowmatch replay: {msg}");
            return 2;
        }
    };
    let mut outputs: Vec<(&str, &Path)> = Vec::with_capacity(2);
    if let Some(p) = &a.events {
        outputs.push(("--events", p));
    }
    if let Some(p) = &a.book_out {
        outputs.push(("--book-out", p));
    }
    let mut inputs: Vec<(&str, &Path)> = vec![("--input", &a.input)];
    if let Some(p) = &a.accounts {
        inputs.push(("--accounts", p));
    }
    if let Err(msg) = output::refuse_overwriting_inputs(&outputs, &inputs) {
        eprintln!("flowmatch replay: {msg}");
        return 2;
    }
    let from_stdin = a.input.as_os_str() == "-";
    let input: Box<dyn BufRead> = if from_stdin {
        Box::new(io::stdin().lock())
    } else {
        match File::open(&a.input) {
            // Opening a directory succeeds on Unix; reading it then fails as "line 1: read
            // error", which does not say what is wrong.
            Ok(f) if f.metadata().is_ok_and(|m| m.is_dir()) => {
                eprintln!(
                    "flowmatch replay: --input {} is a directory, not a command file",
                    a.input.display()
                );
                return 2;
            }
            Ok(f) => Box::new(BufReader::with_capacity(1 << 16, f)),
            Err(e) => {
                eprintln!(
                    "flowmatch replay: cannot open input {}: {e}",
                    a.input.display()
                );
                return 2;
            }
        }
    };
    let mut out: Box<dyn Write> = match &a.events {
        Some(path) => match File::create(path) {
            Ok(f) => Box::new(BufWriter::with_capacity(1 << 16, f)),
            Err(e) => {
                eprintln!(
                    "flowmatch replay: cannot create events file {}: {e}",
                    path.display()
                );
                return 2;
            }
        },
        None => Box::new(BufWriter::with_capacity(1 << 16, io::stdout().lock())),
    };

    if let Some(dir) = &a.journal {
        let cfg = *session.default_book.config();
        let settings = Settings::new(a.book, a.policy, a.replace_priority, &cfg);
        let opts = JournalOptions {
            dir,
            fsync: a.fsync,
            snapshot_every: a.snapshot_every,
            resume: a.resume,
        };
        return match a.book {
            BookKind::Fast => {
                replay_journaled::run::<FastBook>(a, settings, &opts, input, &mut out)
            }
            BookKind::Reference => {
                replay_journaled::run::<ReferenceBook>(a, settings, &opts, input, &mut out)
            }
        };
    }
    let on_closed = if a.book_out.is_some() {
        OnClosedOutput::Finish
    } else {
        OnClosedOutput::Stop
    };
    let replayed = instrument_text::replay(&mut session, input, &mut out, on_closed);
    drop(out);
    match replayed {
        Ok(_) => {}
        Err(ReplayError::Input(e)) => {
            let name = if from_stdin {
                "standard input".to_string()
            } else {
                a.input.display().to_string()
            };
            eprintln!("flowmatch replay: {name}: {e}");
            return 2;
        }
        Err(e @ ReplayError::Output(_)) => {
            eprintln!("flowmatch replay: {e}");
            return 1;
        }
    }

    if let Some(path) = &a.book_out {
        let dump = session.book_dump();
        if let Err(e) = std::fs::write(path, dump) {
            eprintln!(
                "flowmatch replay: cannot write book to {}: {e}",
                path.display()
            );
            return 1;
        }
    }
    0
}
