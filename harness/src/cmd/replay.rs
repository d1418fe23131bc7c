//! `flowmatch replay`: run a command file through a book, print the events, optionally
//! dump the final book.
//!
//! Exit status: 0 on success; 2 for a usage problem, an unreadable input or a malformed
//! line; 1 if the output could not be written. Events are streamed: when a malformed line
//! stops the replay, the events of the commands before it have already been written
//! (and flushed) — the error names the line, so the output is an exact prefix of what a
//! corrected file would give.
//!
//! The loop formats every event into one reused `String` and hands it to a buffered
//! writer in large chunks, so replaying allocates nothing per command or per event.

use super::PolicyArg;
use crate::text::{self, CommandReader, ReadError};
use flowmatch_core::{BookConfig, Event, FastBook, OrderBook, Price, Qty, ReferenceBook, Sink};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

/// Which book implementation to replay through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BookKind {
    /// The product: the fast book.
    Fast,
    /// The plain reference book (test oracle).
    Reference,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Command file (`N,...` / `C,id` / `R,id,price,qty` lines; `#` comments).
    #[arg(long, value_name = "CMDS")]
    pub input: PathBuf,
    /// Write events to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Write the final book (`side,price,id,open_qty` lines) to this file.
    #[arg(long, value_name = "FILE")]
    pub book_out: Option<PathBuf>,
    /// Book implementation.
    #[arg(long, value_enum, default_value_t = BookKind::Fast)]
    pub book: BookKind,
    /// Matching policy within a price level.
    #[arg(long, value_enum, default_value_t = PolicyArg::PriceTime)]
    pub policy: PolicyArg,
    /// Largest accepted order quantity (default 4294967295).
    #[arg(long, value_name = "N")]
    pub max_qty: Option<Qty>,
    /// Lowest accepted limit price (default i64::MIN).
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub min_price: Option<Price>,
    /// Highest accepted limit price (default i64::MAX).
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub max_price: Option<Price>,
}

impl Args {
    /// The book configuration these arguments describe, or a usage error.
    pub fn config(&self) -> Result<BookConfig, String> {
        let mut cfg = BookConfig {
            policy: self.policy.policy(),
            ..BookConfig::default()
        };
        if let Some(q) = self.max_qty {
            if q == 0 {
                return Err("--max-qty must be at least 1".into());
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
                "--min-price {} is above --max-price {}",
                cfg.min_price, cfg.max_price
            ));
        }
        Ok(cfg)
    }
}

/// Why a replay stopped early.
#[derive(Debug)]
pub enum ReplayError {
    /// The input was malformed or unreadable (exit 2).
    Input(ReadError),
    /// The output could not be written (exit 1).
    Output(io::Error),
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Input(e) => write!(f, "{e}"),
            ReplayError::Output(e) => write!(f, "cannot write events: {e}"),
        }
    }
}

/// Formats events into a reused text buffer, tagged with the current command index.
struct TextSink<'a> {
    buf: &'a mut String,
    seq: u64,
}

impl Sink<Event> for TextSink<'_> {
    #[inline]
    fn event(&mut self, e: Event) {
        // Writing into a String cannot fail.
        let _ = text::write_event(self.buf, self.seq, &e);
    }
}

/// Flush the text buffer to the writer once it holds this much.
const CHUNK: usize = 1 << 16;

/// Replay every command of `input` through `book`, writing event lines to `out`.
/// Returns the number of commands applied. On a malformed line, the events of the
/// earlier commands are written and flushed before the error is returned.
pub fn replay<B: OrderBook, R: BufRead, W: Write>(
    book: &mut B,
    input: R,
    out: &mut W,
) -> Result<u64, ReplayError> {
    let mut buf = String::with_capacity(CHUNK + 4096);
    let mut seq = 0u64;
    let mut result = Ok(());
    for item in CommandReader::new(input) {
        match item {
            Ok((_line, cmd)) => {
                seq += 1;
                book.apply(&cmd, &mut TextSink { buf: &mut buf, seq });
                if buf.len() >= CHUNK {
                    out.write_all(buf.as_bytes()).map_err(ReplayError::Output)?;
                    buf.clear();
                }
            }
            Err(e) => {
                result = Err(ReplayError::Input(e));
                break;
            }
        }
    }
    out.write_all(buf.as_bytes()).map_err(ReplayError::Output)?;
    out.flush().map_err(ReplayError::Output)?;
    result.map(|()| seq)
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
    match a.book {
        BookKind::Fast => run_with(FastBook::new(cfg), &a),
        BookKind::Reference => run_with(ReferenceBook::new(cfg), &a),
    }
}

fn run_with<B: OrderBook>(mut book: B, a: &Args) -> u8 {
    let input = match File::open(&a.input) {
        Ok(f) => BufReader::with_capacity(1 << 16, f),
        Err(e) => {
            eprintln!(
                "flowmatch replay: cannot open input {}: {e}",
                a.input.display()
            );
            return 2;
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

    let replayed = replay(&mut book, input, &mut out);
    drop(out);
    match replayed {
        Ok(_) => {}
        Err(ReplayError::Input(e)) => {
            eprintln!("flowmatch replay: {}: {e}", a.input.display());
            return 2;
        }
        Err(e @ ReplayError::Output(_)) => {
            eprintln!("flowmatch replay: {e}");
            return 1;
        }
    }

    if let Some(path) = &a.book_out {
        let mut dump = String::with_capacity(book.len() * 24);
        // Writing into a String cannot fail.
        let _ = text::write_book(&mut dump, &book);
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
