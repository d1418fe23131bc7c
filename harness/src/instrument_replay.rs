//! The replay of a command file whose lines may carry instrument prefixes: unprefixed
//! lines go to the default book the command line configures, prefixed ones to the
//! instruments of a `MultiBook` (from `--instruments FILE`, or made on first sight);
//! the rules are in `instrument_text`'s module docs and `docs/SEMANTICS.md`.

use crate::instrument_text::{parse_line, write_event};
use crate::replay_loop::{replay_lines, OnClosedOutput, ReplayError, Replayed};
use crate::text::{self, ParsedLines};
use flowmatch_core::instrument::{BookStorage, BookView, InstrumentSpec, MultiBookConfig};
use flowmatch_core::{
    Command, Event, InstrumentCommand, InstrumentEvent, InstrumentId, InstrumentTable, MultiBook,
    OrderId, Qty, RejectReason, Sink, Symbol,
};
use std::fmt::Write as _;
use std::io::{BufRead, Write};

/// Where an instrument of the replay lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    /// The unprefixed lines' book.
    Default,
    /// An instrument of the multi-book.
    Instrument(InstrumentId),
}

/// A replay over the default book and any prefixed instruments.
pub struct InstrumentReplay<B> {
    /// The default instrument's book (configured by the command line).
    pub default_book: B,
    multi: MultiBook<B>,
    /// A table was given: unknown symbols are rejected, not added.
    fixed: bool,
    /// Settings of an instrument added without a table.
    default_spec: InstrumentSpec,
    /// Instruments in order of first appearance.
    appearance: Vec<Which>,
    seen_default: bool,
    seen: Vec<bool>,
    /// Some line had a prefix.
    any_prefix: bool,
}

struct TextSink<'a> {
    buf: &'a mut String,
    symbol: Option<Symbol>,
    seq: u64,
}

impl Sink<Event> for TextSink<'_> {
    fn event(&mut self, e: Event) {
        let _ = write_event(self.buf, self.symbol.as_ref(), self.seq, &e);
    }
}

impl Sink<InstrumentEvent> for TextSink<'_> {
    fn event(&mut self, e: InstrumentEvent) {
        let _ = write_event(self.buf, self.symbol.as_ref(), self.seq, &e.event);
    }
}

impl<B: BookStorage> InstrumentReplay<B> {
    /// A replay whose unprefixed lines go to `default_book`; prefixed lines go to the
    /// instruments of `table` (`Some`: only those) or to instruments made on first sight
    /// with `default_book`'s limits and policy (`None`).
    pub fn new(default_book: B, table: Option<InstrumentTable>) -> Result<Self, String> {
        let cfg = *default_book.config();
        let mut default_spec =
            InstrumentSpec::new(Symbol::new("DEFAULT").map_err(|e| e.to_string())?);
        default_spec.max_order_qty = cfg.max_order_qty;
        default_spec.min_price = cfg.min_price;
        default_spec.max_price = cfg.max_price;
        default_spec.policy = cfg.policy;
        default_spec.replace = cfg.replace_priority;
        default_spec.tick = cfg.tick.max(1);
        default_spec.lot = cfg.lot.max(1);
        let fixed = table.is_some();
        let table = table.unwrap_or_default();
        let seen = vec![false; table.len()];
        let multi = MultiBook::new(table, MultiBookConfig::default()).map_err(|e| e.to_string())?;
        Ok(InstrumentReplay {
            default_book,
            multi,
            fixed,
            default_spec,
            appearance: Vec::new(),
            seen_default: false,
            seen,
            any_prefix: false,
        })
    }

    /// Applies command `seq` (prefix `symbol`), appending its event lines to `buf`.
    pub fn apply(&mut self, seq: u64, symbol: Option<Symbol>, cmd: &Command, buf: &mut String) {
        let mut sink = TextSink { buf, symbol, seq };
        let Some(sym) = symbol else {
            if !self.seen_default {
                self.seen_default = true;
                self.appearance.push(Which::Default);
            }
            self.default_book.apply(cmd, &mut sink);
            return;
        };
        self.any_prefix = true;
        let id = match self.multi.table().lookup(&sym) {
            Some(id) => Some(id),
            None if self.fixed => None,
            None => {
                let spec = InstrumentSpec {
                    symbol: sym,
                    ..self.default_spec
                };
                // The spec is the command line's, already checked; a full table is the
                // only failure left, answered like an unknown instrument.
                self.multi.add_instrument(spec).ok()
            }
        };
        let Some(id) = id else {
            sink.event(Event::Reject {
                id: cmd.id(),
                reason: RejectReason::UnknownInstrument,
            });
            return;
        };
        if self.seen.len() <= id.index() {
            self.seen.resize(id.index() + 1, false);
        }
        if !self.seen[id.index()] {
            self.seen[id.index()] = true;
            self.appearance.push(Which::Instrument(id));
        }
        self.multi.apply(
            &InstrumentCommand {
                instrument: id,
                cmd: *cmd,
            },
            &mut sink,
        );
    }

    /// For a snapshot's rebuild only: resting order `id` of `symbol`'s book (`None`: the
    /// default book), re-added as an iceberg, gets its recorded `display` and `reserve`
    /// ([`OrderBook::restore_iceberg`]). False when no such order rests.
    pub fn restore_iceberg(
        &mut self,
        symbol: Option<Symbol>,
        id: OrderId,
        display: Qty,
        reserve: Qty,
    ) -> bool {
        match symbol {
            None => self.default_book.restore_iceberg(id, display, reserve),
            Some(sym) => match self.multi.table().lookup(&sym) {
                Some(inst) => self.multi.restore_iceberg(inst, id, display, reserve),
                None => false,
            },
        }
    }

    /// Every book that appeared, in order of first appearance, with its key (0: the
    /// default book; `id + 1`: instrument `id`), as a [`BookView`] (an instrument's book
    /// may be a cold record), or `None` for an instrument whose book is empty and was
    /// handed back to the multi-book (it still appeared: the state hash gives it an empty
    /// section). The journal's state hash walks this.
    pub fn for_each_book(&self, f: &mut dyn FnMut(u32, Option<BookView<'_, B>>)) {
        for which in &self.appearance {
            match *which {
                Which::Default => f(0, Some(BookView::Full(&self.default_book))),
                Which::Instrument(id) => f(id.index() as u32 + 1, self.multi.book(id)),
            }
        }
    }

    /// The final book dump (see the module docs).
    pub fn book_dump(&self) -> String {
        let mut dump = String::new();
        if !self.any_prefix {
            let _ = text::write_book(&mut dump, &self.default_book);
            return dump;
        }
        for which in &self.appearance {
            match *which {
                Which::Default => {
                    let _ = text::write_book(&mut dump, &self.default_book);
                }
                Which::Instrument(id) => {
                    let (Some(book), Some(spec)) =
                        (self.multi.book(id), self.multi.table().get(id))
                    else {
                        continue;
                    };
                    book.for_each_order(&mut |o| {
                        let _ = write!(dump, "{}:", spec.symbol);
                        let _ = text::write_book_line(&mut dump, o);
                    });
                    let prefix = format!("{}:", spec.symbol);
                    let _ = text::write_peg_lines(&mut dump, &prefix, &|f| book.for_each_peg(f));
                }
            }
        }
        dump
    }
}

/// Replays every command of `input` (prefixed or not) through `session`, writing event
/// lines to `out`; the same loop and contract as [`crate::replay_loop::replay`] on errors
/// and closed pipes.
pub fn replay<B: BookStorage, R: BufRead, W: Write>(
    session: &mut InstrumentReplay<B>,
    input: R,
    out: &mut W,
    on_closed: OnClosedOutput,
) -> Result<Replayed, ReplayError> {
    let lines = ParsedLines::with_parser(input, parse_line);
    replay_lines(lines, out, on_closed, |seq, (symbol, cmd), buf| {
        session.apply(seq, symbol, &cmd, buf)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmatch_core::{BookConfig, FastBook, ReferenceBook};

    fn run(input: &str, table: Option<&str>) -> (String, String) {
        let table = table.map(|t| InstrumentTable::from_csv(t).unwrap());
        let mut s = InstrumentReplay::new(FastBook::new(BookConfig::default()), table).unwrap();
        let mut out = Vec::new();
        replay(&mut s, input.as_bytes(), &mut out, OnClosedOutput::Finish).unwrap();
        (String::from_utf8(out).unwrap(), s.book_dump())
    }

    /// Hand-checked: two instruments with the same ids, a default line, a dump in order
    /// of first appearance.
    #[test]
    fn prefixes_route_tag_and_dump() {
        let input = "MSFT:N,1,1,S,L,300,5\nAAPL:N,1,1,S,L,100,5\nN,9,1,B,L,50,1\n  AAPL:N,2,2,B,L,100,3\nMSFT:C,1\nAAPL:R,1,101,5\n";
        let (events, dump) = run(input, None);
        assert_eq!(
            events,
            "MSFT:1,ACK,1\nAAPL:2,ACK,1\n3,ACK,9\nAAPL:4,ACK,2\nAAPL:4,TRD,2,1,100,3\nMSFT:5,CXL,1,5,USER,S,300\nAAPL:6,RPL,1\n"
        );
        assert_eq!(dump, "AAPL:S,101,1,5\nB,50,9,1\n");
    }

    #[test]
    fn without_prefixes_output_is_the_single_book_s() {
        let input = "N,1,1,S,L,100,5\n# c\nN,2,2,B,L,100,3\nC,7\n";
        let (events, dump) = run(input, None);
        let mut book = ReferenceBook::new(BookConfig::default());
        let mut want = Vec::new();
        crate::replay_loop::replay(
            &mut book,
            input.as_bytes(),
            &mut want,
            OnClosedOutput::Finish,
        )
        .unwrap();
        assert_eq!(events, String::from_utf8(want).unwrap());
        assert_eq!(dump, text::book_dump(&book));
    }

    #[test]
    fn table_rejects_unknown_symbols_and_applies_specs() {
        let table = "symbol,tick,lot,min_price,max_price,max_order_qty,policy,replace_priority\nAAPL,5,100,1,1000,10000,price-time,keep-if-reduced\n";
        let (events, dump) = run("AAPL:N,1,1,B,L,100,100\nAAPL:N,2,1,B,L,101,100\nAAPL:N,3,1,B,L,100,150\nIBM:N,1,1,B,L,100,5\n", Some(table));
        assert_eq!(
            events,
            "AAPL:1,ACK,1\nAAPL:2,REJ,2,BAD_TICK\nAAPL:3,REJ,3,BAD_LOT\nIBM:4,REJ,1,UNKNOWN_INSTRUMENT\n"
        );
        assert_eq!(dump, "AAPL:B,100,1,100\n");
    }
}
