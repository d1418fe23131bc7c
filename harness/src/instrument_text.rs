//! The text format's instrument prefix (`AAPL:N,1,1,B,L,100,5`): parsing it and printing
//! prefixed events. The replay of a file that uses it (routing, unknown symbols, the dump)
//! is `cmd::replay_instruments`.
//!
//! # Rules (`docs/SEMANTICS.md`, "Text format: instruments")
//! - A command line may start with a symbol and a colon (a colon before the line's first
//!   comma); spaces and tabs before the symbol are allowed, none between it and the colon. The symbol is 1–16 characters of
//!   `A-Z a-z 0-9 . _ -`; anything else is a syntax error naming the line and the field
//!   `symbol`. The rest of the line is a command exactly as without a prefix.
//! - A line without a prefix belongs to the default instrument, whose book is the one the
//!   command line configures: a file without prefixes replays exactly as before.
//! - Each event line carries its command's prefix (`AAPL:3,TRD,3,1,100,5`; the number is
//!   still the 1-based command index over the whole file); events of unprefixed commands
//!   carry none.
//! - With a table (`--instruments FILE`, CSV as `flowmatch_core::instrument::table`), a
//!   symbol not in it is answered `SYM:seq,REJ,id,UNKNOWN_INSTRUMENT`; without one, every
//!   symbol is an instrument with the command line's settings.
//! - The book dump, when the input used a prefix: instruments in order of first
//!   appearance (the default instrument too, if it appeared), each instrument's orders as
//!   `SYM:side,price,id,open_qty` (the default instrument's without a prefix), bids then
//!   asks. Without prefixes it is the single book's dump.

use crate::text::{self, SyntaxError};
use flowmatch_core::instrument::SymbolError;
use flowmatch_core::{Command, Event, Symbol};

/// Splits a command line into its prefix, if any, and the rest. Blank and comment lines
/// have no prefix.
pub fn split_prefix(line: &str, line_no: usize) -> Result<(Option<Symbol>, &str), SyntaxError> {
    if text::is_skipped(line) {
        return Ok((None, line));
    }
    // A colon after the first comma is inside a field: no prefix, and the command parser
    // reports that field exactly as it did before prefixes existed.
    let Some(colon) = line.find(':').filter(|&c| !line[..c].contains(',')) else {
        return Ok((None, line));
    };
    let raw = line[..colon].trim_start_matches([' ', '\t']);
    match Symbol::new(raw) {
        Ok(sym) => Ok((Some(sym), &line[colon + 1..])),
        Err(e) => Err(SyntaxError {
            line: line_no,
            field: "symbol",
            text: raw.to_string(),
            expected: match e {
                SymbolError::BadChar(_) | SymbolError::Empty | SymbolError::TooLong(_) => {
                    "1 to 16 characters of A-Z a-z 0-9 . _ -".to_string()
                }
            },
        }),
    }
}

/// One line: `Ok(None)` for a blank or comment line, else its prefix and command.
pub fn parse_line(
    line: &str,
    line_no: usize,
) -> Result<Option<(Option<Symbol>, Command)>, SyntaxError> {
    let (sym, rest) = split_prefix(line, line_no)?;
    Ok(text::parse_command(rest, line_no)?.map(|c| (sym, c)))
}

/// Appends `SYM:` (or nothing for the default instrument) and the event line.
pub fn write_event<W: std::fmt::Write + ?Sized>(
    w: &mut W,
    symbol: Option<&Symbol>,
    seq: u64,
    e: &Event,
) -> std::fmt::Result {
    if let Some(s) = symbol {
        write!(w, "{s}:")?;
    }
    text::write_event(w, seq, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_errors_name_line_and_field() {
        for (line, text) in [
            ("AA PL:C,1", "AA PL"),
            (":C,1", ""),
            ("ABCDEFGHIJKLMNOPQ:C,1", "ABCDEFGHIJKLMNOPQ"),
            ("A$:C,1", "A$"),
            ("AAPL :C,1", "AAPL "),
        ] {
            let e = parse_line(line, 7).unwrap_err();
            assert_eq!(
                (e.line, e.field, e.text.as_str()),
                (7, "symbol", text),
                "{line}"
            );
        }
        // A colon inside a field is that field's error, as before prefixes existed.
        let e = parse_line("N,1:2,1,B,L,100,5", 2).unwrap_err();
        assert_eq!(e, text::parse_command("N,1:2,1,B,L,100,5", 2).unwrap_err());
        assert_eq!(e.field, "id");
        // The command after a good prefix is checked as without one.
        let e = parse_line("AAPL:X,1", 3).unwrap_err();
        assert_eq!((e.line, e.field), (3, "op"));
        assert_eq!(parse_line("  # AAPL:C,1", 1).unwrap(), None);
        assert_eq!(
            parse_line("BRK.B:C,4", 1).unwrap(),
            Some((
                Some(Symbol::new("BRK.B").unwrap()),
                Command::Cancel { id: 4 }
            ))
        );
    }
}
