//! The project's text formats: command lines in, event lines and book-dump lines out.
//!
//! ```text
//! commands:  N,id,account,side(B|S),type(L|M|P|S<t>|T<t>|I<d>),price(empty for M; cap or empty for P),qty[,tif[,stp]]
//!            C,id
//!            R,id,price,qty
//! events:    seq,ACK,id | seq,RPL,id | seq,TRD,taker,maker,price,qty
//!            seq,CXL,id,qty,USER|IOC|FOK|STP,side(B|S),price(empty for M) | seq,REJ,id,REASON
//! book:      side(B|S),price,id,open_qty
//!            side(B|S),MID,id,open_qty,cap(empty: none)   (midpoint pegs, after the lit lines)
//! ```
//!
//! The grammar (README "Formats", docs/SEMANTICS.md "Text format") is exact, and this
//! parser accepts that and nothing more:
//! - a line ends with `\n` or `\r\n` (the last line may have neither); a *blank* line holds
//!   only spaces and tabs; a *comment* is optional spaces/tabs, then `#`, then anything;
//! - fields are separated by `,`; ASCII spaces and tabs around a field are ignored, and no
//!   other character is (no U+00A0, no other Unicode space, no lone `\r`);
//! - `id` and `qty` are 1 or more ASCII digits with a value in `0..=u64::MAX`, `account`
//!   digits in `0..=u32::MAX`, `price` an optional `-` then digits in the `i64` range
//!   (in `N`, empty means no price); no `+`, no separators, no decimal point, no exponent;
//!   leading zeros are allowed;
//! - the tokens (`N C R`, `B S`, `L M P`, `GTC IOC FOK POST`, `NONE CT CM CB DC`) are
//!   upper-case and exact; an empty `tif`/`stp` means the default.
//!
//! The parser separates *syntax* from *semantics* on purpose: a line is a syntax error when
//! it does not follow the grammar (unknown op, wrong field count, text that is not a value
//! of the field's type). Anything the grammar can express — a limit without a price, a
//! market with one, a quantity of 0 or above the book's maximum — is handed to the book,
//! whose validation rejects it with a reason (`BAD_PRICE`, `BAD_QTY`, ...). That keeps all
//! semantic validation in one place (the book) and lets scenario files exercise every
//! reject. So `N,1,1,B,L,100,0` is `REJ,1,BAD_QTY`, while `N,1,1,B,L,100,-5` (a negative
//! quantity is not a `qty`) is a syntax error, as is a quantity above `u64::MAX`.
//!
//! `:` appears in no field of any valid line, so an instrument prefix (`SYMBOL:N,...`) can
//! be added later without changing the meaning of any file that parses today.
//!
//! A `CXL` line names the cancelled order's side and limit price (where a resting order
//! rests; an incoming order's own limit; empty for a market order) *after* the reason:
//! the fields were appended at the end, so a reader of the first five fields of the older
//! `seq,CXL,id,qty,REASON` lines reads these unchanged.
//!
//! The writers format into any [`std::fmt::Write`], so a replay loop can reuse one `String`
//! buffer for every event instead of allocating per line.

use flowmatch_core::{
    CancelReason, Command, Event, NewOrder, OrdType, OrderBook, RejectReason, RestingOrder,
    RestingPeg, Side, Stp, Tif,
};
use std::fmt;
use std::io::BufRead;

/// A line that cannot be represented as a command. Names the 1-based line number, the
/// field and the offending text, so a person can fix the file without guessing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line number in the input.
    pub line: usize,
    /// Which field was wrong (`op`, `fields`, `id`, `account`, `side`, `type`, `price`,
    /// `qty`, `tif`, `stp`).
    pub field: &'static str,
    /// The offending text (the whole line for a field-count error).
    pub text: String,
    /// What was expected.
    pub expected: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: bad {}: {:?} (expected {})",
            self.line, self.field, self.text, self.expected
        )
    }
}

impl std::error::Error for SyntaxError {}

/// Why a [`CommandReader`] stopped.
#[derive(Debug)]
pub enum ReadError {
    /// A malformed line.
    Syntax(SyntaxError),
    /// The input could not be read (including a line that is not UTF-8).
    Io {
        /// 1-based number of the line being read when it failed.
        line: usize,
        source: std::io::Error,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Syntax(e) => e.fmt(f),
            ReadError::Io { line, source } => write!(f, "line {line}: read error: {source}"),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Syntax(e) => Some(e),
            ReadError::Io { source, .. } => Some(source),
        }
    }
}

/// The separators-around-fields the grammar allows: ASCII space and tab, nothing else.
fn is_field_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// `line` without its line ending (`\n` or `\r\n`, at most one).
fn strip_line_end(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

/// True for lines the command format skips: only spaces and tabs (blank), or spaces and
/// tabs then `#` (comment).
pub fn is_skipped(line: &str) -> bool {
    let t = strip_line_end(line).trim_start_matches(is_field_space);
    t.is_empty() || t.starts_with('#')
}

/// Parse one command line. `Ok(None)` for a blank or comment line. `line_no` is only used
/// to label errors.
pub fn parse_command(line: &str, line_no: usize) -> Result<Option<Command>, SyntaxError> {
    if is_skipped(line) {
        return Ok(None);
    }
    let line = strip_line_end(line);
    let err = |field: &'static str, text: &str, expected: &str| SyntaxError {
        line: line_no,
        field,
        text: text.to_string(),
        expected: expected.to_string(),
    };

    // At most 9 fields are ever valid; collect into a fixed array (no allocation).
    let mut f: [&str; 9] = [""; 9];
    let mut n = 0usize;
    for part in line.split(',') {
        if n == f.len() {
            n += 1; // too many: reported below
            break;
        }
        f[n] = part.trim_matches(is_field_space);
        n += 1;
    }
    let count_err = |expected: &str| err("fields", line.trim_matches(is_field_space), expected);
    let id = |text: &str| {
        parse_unsigned(text).ok_or_else(|| err("id", text, "digits 0 to 18446744073709551615"))
    };
    let qty = |text: &str| {
        parse_unsigned(text).ok_or_else(|| err("qty", text, "digits 0 to 18446744073709551615"))
    };

    match f[0] {
        "N" => {
            if !(7..=9).contains(&n) {
                return Err(count_err(
                    "N,id,account,side,type,price,qty[,tif[,stp]] (7 to 9 fields)",
                ));
            }
            let id = id(f[1])?;
            let account = parse_unsigned(f[2])
                .and_then(|a| u32::try_from(a).ok())
                .ok_or_else(|| err("account", f[2], "digits 0 to 4294967295"))?;
            let side = match f[3] {
                "B" => Side::Buy,
                "S" => Side::Sell,
                t => return Err(err("side", t, "B or S")),
            };
            let ord_type = match f[4] {
                "L" => OrdType::Limit,
                "M" => OrdType::Market,
                "P" => OrdType::MidPeg,
                t => match numbered_type(t) {
                    Some(ord_type) => ord_type,
                    None => {
                        return Err(err(
                            "type",
                            t,
                            "L, M, P, S<trigger>, T<trigger> or I<display> (I20)",
                        ))
                    }
                },
            };
            let price = if f[5].is_empty() {
                None
            } else {
                Some(parse_signed(f[5]).ok_or_else(|| {
                    err(
                        "price",
                        f[5],
                        "empty, or an optional - and digits, -9223372036854775808 to 9223372036854775807",
                    )
                })?)
            };
            let qty = qty(f[6])?;
            let tif = if n >= 8 && !f[7].is_empty() {
                match f[7] {
                    "GTC" => Tif::Gtc,
                    "IOC" => Tif::Ioc,
                    "FOK" => Tif::Fok,
                    "POST" => Tif::Post,
                    t => return Err(err("tif", t, "GTC, IOC, FOK, POST or empty")),
                }
            } else {
                match ord_type {
                    OrdType::Limit
                    | OrdType::StopLimit { .. }
                    | OrdType::Iceberg { .. }
                    | OrdType::MidPeg => Tif::Gtc,
                    OrdType::Market | OrdType::Stop { .. } => Tif::Ioc,
                }
            };
            let stp = if n == 9 && !f[8].is_empty() {
                match f[8] {
                    "NONE" => Stp::None,
                    "CT" => Stp::CancelTaker,
                    "CM" => Stp::CancelMaker,
                    "CB" => Stp::CancelBoth,
                    "DC" => Stp::DecrementCancel,
                    t => return Err(err("stp", t, "NONE, CT, CM, CB, DC or empty")),
                }
            } else {
                Stp::None
            };
            Ok(Some(Command::New(NewOrder {
                id,
                account,
                side,
                ord_type,
                price,
                qty,
                tif,
                stp,
            })))
        }
        "C" => {
            if n != 2 {
                return Err(count_err("C,id (2 fields)"));
            }
            Ok(Some(Command::Cancel { id: id(f[1])? }))
        }
        "R" => {
            if n != 4 {
                return Err(count_err("R,id,price,qty (4 fields)"));
            }
            let id = id(f[1])?;
            let price = parse_signed(f[2]).ok_or_else(|| {
                err(
                    "price",
                    f[2],
                    "an optional - and digits, -9223372036854775808 to 9223372036854775807",
                )
            })?;
            let qty = qty(f[3])?;
            Ok(Some(Command::Replace { id, price, qty }))
        }
        op => Err(err("op", op, "N, C or R")),
    }
}

/// One or more ASCII digits with a value that fits `u64`; nothing else (no sign).
fn parse_unsigned(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u64>().ok() // digits only: fails only on overflow
}

/// An optional `-`, then one or more ASCII digits, with a value that fits `i64`.
fn parse_signed(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok() // `-`? digits: fails only on overflow
}

/// Reads parsed lines from any buffered reader, skipping the lines its parser skips
/// (blank and comment lines), yielding `(line_no, item)` with the 1-based line number.
/// Stops (yields `None`) after the first error. Reuses one line buffer for the whole
/// input. One reader serves every line grammar (plain commands, instrument-prefixed
/// commands), so I/O errors, line numbering and stop-after-error live in one place.
pub struct ParsedLines<R, T> {
    inner: R,
    line_no: usize,
    buf: String,
    failed: bool,
    parse: LineParser<T>,
}

/// A line grammar: `Ok(None)` for a line to skip.
pub type LineParser<T> = fn(&str, usize) -> Result<Option<T>, SyntaxError>;

/// Reads commands in the replay text format (see [`ParsedLines`]).
pub type CommandReader<R> = ParsedLines<R, Command>;

impl<R: BufRead> CommandReader<R> {
    /// Commands in the replay text format.
    pub fn new(inner: R) -> Self {
        ParsedLines::with_parser(inner, parse_command)
    }
}

impl<R: BufRead, T> ParsedLines<R, T> {
    /// Lines of `inner`, each read by `parse`.
    pub fn with_parser(inner: R, parse: LineParser<T>) -> Self {
        ParsedLines {
            inner,
            line_no: 0,
            buf: String::with_capacity(128),
            failed: false,
            parse,
        }
    }
}

impl<R: BufRead, T> Iterator for ParsedLines<R, T> {
    type Item = Result<(usize, T), ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            self.buf.clear();
            self.line_no += 1;
            match self.inner.read_line(&mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(source) => {
                    self.failed = true;
                    return Some(Err(ReadError::Io {
                        line: self.line_no,
                        source,
                    }));
                }
            }
            match (self.parse)(&self.buf, self.line_no) {
                Ok(None) => continue,
                Ok(Some(cmd)) => return Some(Ok((self.line_no, cmd))),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(ReadError::Syntax(e)));
                }
            }
        }
    }
}

/// `B` or `S`.
pub fn side_token(s: Side) -> &'static str {
    match s {
        Side::Buy => "B",
        Side::Sell => "S",
    }
}

pub fn tif_token(t: Tif) -> &'static str {
    match t {
        Tif::Gtc => "GTC",
        Tif::Ioc => "IOC",
        Tif::Fok => "FOK",
        Tif::Post => "POST",
    }
}

pub fn stp_token(s: Stp) -> &'static str {
    match s {
        Stp::None => "NONE",
        Stp::CancelTaker => "CT",
        Stp::CancelMaker => "CM",
        Stp::CancelBoth => "CB",
        Stp::DecrementCancel => "DC",
    }
}

pub fn cancel_reason_token(r: CancelReason) -> &'static str {
    match r {
        CancelReason::User => "USER",
        CancelReason::Ioc => "IOC",
        CancelReason::Fok => "FOK",
        CancelReason::Stp => "STP",
    }
}

pub fn reject_reason_token(r: RejectReason) -> &'static str {
    match r {
        RejectReason::BadQty => "BAD_QTY",
        RejectReason::BadPrice => "BAD_PRICE",
        RejectReason::BadTif => "BAD_TIF",
        RejectReason::DuplicateId => "DUPLICATE_ID",
        RejectReason::WouldCross => "WOULD_CROSS",
        RejectReason::UnknownId => "UNKNOWN_ID",
        RejectReason::BadTick => "BAD_TICK",
        RejectReason::BadLot => "BAD_LOT",
        RejectReason::UnknownInstrument => "UNKNOWN_INSTRUMENT",
        RejectReason::CapacityExceeded => "CAPACITY_EXCEEDED",
        RejectReason::Unsupported => "UNSUPPORTED",
    }
}

/// Append one event line (with trailing newline), `seq` being the 1-based index of the
/// command that caused it.
pub fn write_event<W: fmt::Write + ?Sized>(w: &mut W, seq: u64, e: &Event) -> fmt::Result {
    match *e {
        Event::Ack { id } => writeln!(w, "{seq},ACK,{id}"),
        Event::Replaced { id } => writeln!(w, "{seq},RPL,{id}"),
        Event::Trade {
            taker,
            maker,
            price,
            qty,
        } => writeln!(w, "{seq},TRD,{taker},{maker},{price},{qty}"),
        Event::Cancel {
            id,
            qty,
            reason,
            side,
            price,
        } => {
            let (reason, side) = (cancel_reason_token(reason), side_token(side));
            match price {
                Some(p) => writeln!(w, "{seq},CXL,{id},{qty},{reason},{side},{p}"),
                // A market order has no limit: the field is empty, as in a command.
                None => writeln!(w, "{seq},CXL,{id},{qty},{reason},{side},"),
            }
        }
        Event::Reject { id, reason } => {
            writeln!(w, "{seq},REJ,{id},{}", reject_reason_token(reason))
        }
    }
}

/// Append one book-dump line (with trailing newline): `side,price,id,open_qty`.
pub fn write_book_line<W: fmt::Write + ?Sized>(w: &mut W, o: &RestingOrder) -> fmt::Result {
    writeln!(
        w,
        "{},{},{},{}",
        side_token(o.side),
        o.price,
        o.id,
        o.open_qty
    )
}

/// Append the whole book dump: bids best to worst, then asks best to worst, each level in
/// time priority (the order [`OrderBook::for_each_order`] visits them); then the midpoint
/// pegs, buys then sells, each in time priority, as `side,MID,id,open_qty,cap` (cap empty
/// when there is none). A book without pegs dumps exactly as before.
pub fn write_book<W: fmt::Write + ?Sized, B: OrderBook + ?Sized>(
    w: &mut W,
    book: &B,
) -> fmt::Result {
    let mut result = Ok(());
    book.for_each_order(&mut |o| {
        if result.is_ok() {
            result = write_book_line(w, o);
        }
    });
    result?;
    write_peg_lines(w, "", &|f| book.for_each_peg(f))
}

/// Lists a book's pegs in arrival order to the function it is given (`|f| book.for_each_peg(f)`).
pub type EachPeg<'a> = &'a dyn Fn(&mut dyn FnMut(&RestingPeg));

/// Append the dump lines of the pegs `each` lists in arrival order (as
/// [`OrderBook::for_each_peg`] does), each after `prefix` (a prefixed replay's `SYM:`):
/// buys then sells, each side in time priority. One grouping for every book's dump.
pub fn write_peg_lines<W: fmt::Write + ?Sized>(
    w: &mut W,
    prefix: &str,
    each: EachPeg<'_>,
) -> fmt::Result {
    let mut result = Ok(());
    for side in [Side::Buy, Side::Sell] {
        each(&mut |p| {
            if result.is_ok() && p.side == side {
                result = w.write_str(prefix).and_then(|()| write_peg_line(w, p));
            }
        });
    }
    result
}

/// Append one midpoint peg's dump line (with trailing newline): `side,MID,id,open_qty,cap`.
pub fn write_peg_line<W: fmt::Write + ?Sized>(w: &mut W, p: &RestingPeg) -> fmt::Result {
    write!(w, "{},MID,{},{},", side_token(p.side), p.id, p.open_qty)?;
    if let Some(c) = p.cap {
        write!(w, "{c}")?;
    }
    writeln!(w)
}

/// The book dump as a `String` (tests and tools).
pub fn book_dump<B: OrderBook + ?Sized>(book: &B) -> String {
    let mut s = String::new();
    write_book(&mut s, book).expect("writing to a String cannot fail");
    s
}

/// The order types of an `N` line's type field that carry a number: `S<trigger>` a stop,
/// `T<trigger>` a stop-limit (the trigger an optional `-` and digits like a price), and
/// `I<display>` an iceberg (digits like a quantity).
fn numbered_type(t: &str) -> Option<OrdType> {
    let (kind, rest) = (t.get(..1)?, t.get(1..)?);
    match kind {
        "S" => Some(OrdType::Stop {
            trigger: parse_signed(rest)?,
        }),
        "T" => Some(OrdType::StopLimit {
            trigger: parse_signed(rest)?,
        }),
        "I" => Some(OrdType::Iceberg {
            display: parse_unsigned(rest)?,
        }),
        _ => None,
    }
}

/// Append a command in the input format (with trailing newline); parsing the result with
/// [`parse_command`] gives the same command back. Used by generators and to print failing
/// cases of randomized tests in a form `flowmatch replay` accepts.
pub fn write_command<W: fmt::Write + ?Sized>(w: &mut W, cmd: &Command) -> fmt::Result {
    match *cmd {
        Command::New(o) => {
            write!(w, "N,{},{},{},", o.id, o.account, side_token(o.side))?;
            // The type field: its letter, then a stop's trigger or an iceberg's display
            // (`S95`, `T95`, `I20`).
            match o.ord_type {
                OrdType::Limit => write!(w, "L,")?,
                OrdType::Market => write!(w, "M,")?,
                OrdType::MidPeg => write!(w, "P,")?,
                OrdType::Stop { trigger } => write!(w, "S{trigger},")?,
                OrdType::StopLimit { trigger } => write!(w, "T{trigger},")?,
                OrdType::Iceberg { display } => write!(w, "I{display},")?,
            }
            if let Some(p) = o.price {
                write!(w, "{p}")?;
            }
            writeln!(w, ",{},{},{}", o.qty, tif_token(o.tif), stp_token(o.stp))
        }
        Command::Cancel { id } => writeln!(w, "C,{id}"),
        Command::Replace { id, price, qty } => writeln!(w, "R,{id},{price},{qty}"),
    }
}

/// One event as a line without the trailing newline (tests; allocates).
pub fn event_line(seq: u64, e: &Event) -> String {
    let mut s = String::new();
    write_event(&mut s, seq, e).expect("writing to a String cannot fail");
    s.pop();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Command {
        parse_command(line, 1).unwrap().unwrap()
    }

    fn syntax(line: &str) -> SyntaxError {
        parse_command(line, 7).unwrap_err()
    }

    #[test]
    fn parses_every_command_shape() {
        assert_eq!(
            parse("N,1,2,S,L,100,5"),
            Command::New(NewOrder::limit(1, 2, Side::Sell, 100, 5))
        );
        assert_eq!(
            parse(" N , 3 , 2 , B , L , -101 , 8 , IOC , CB "),
            Command::New(
                NewOrder::limit(3, 2, Side::Buy, -101, 8)
                    .with_tif(Tif::Ioc)
                    .with_stp(Stp::CancelBoth)
            )
        );
        assert_eq!(
            parse("N,4,0,B,M,,10"),
            Command::New(NewOrder::market(4, 0, Side::Buy, 10))
        );
        // Empty tif / stp mean the defaults.
        assert_eq!(
            parse("N,4,0,B,M,,10,,"),
            Command::New(NewOrder::market(4, 0, Side::Buy, 10))
        );
        assert_eq!(
            parse("N,5,1,S,L,7,1,POST,DC"),
            Command::New(
                NewOrder::limit(5, 1, Side::Sell, 7, 1)
                    .with_tif(Tif::Post)
                    .with_stp(Stp::DecrementCancel)
            )
        );
        assert_eq!(
            parse("C,18446744073709551615"),
            Command::Cancel { id: u64::MAX }
        );
        assert_eq!(
            parse("R,9,-9223372036854775808,3"),
            Command::Replace {
                id: 9,
                price: i64::MIN,
                qty: 3
            }
        );
    }

    #[test]
    fn skips_blank_and_comment_lines() {
        for l in ["", "   ", "\n", "\r\n", "# x", "   # indented"] {
            assert_eq!(parse_command(l, 1), Ok(None), "{l:?}");
        }
    }

    #[test]
    fn semantic_problems_parse_for_the_book_to_reject() {
        let Command::New(o) = parse("N,1,1,B,L,,5") else {
            panic!()
        };
        assert_eq!((o.ord_type, o.price), (OrdType::Limit, None));
        let Command::New(o) = parse("N,1,1,B,M,100,5") else {
            panic!()
        };
        assert_eq!((o.ord_type, o.price), (OrdType::Market, Some(100)));
        let Command::New(o) = parse("N,1,1,B,M,,5,GTC") else {
            panic!()
        };
        assert_eq!(o.tif, Tif::Gtc);
        // Zero and quantities above any configured maximum are quantities: the book
        // rejects them (`BAD_QTY`). Negative or beyond `u64` is not a quantity (a syntax
        // error, see `syntax_errors_name_line_field_and_text`).
        for (q, want) in [
            ("0", 0),
            ("000", 0),
            ("0007", 7),
            ("18446744073709551615", u64::MAX),
        ] {
            let Command::New(o) = parse(&format!("N,1,1,B,L,1,{q}")) else {
                panic!()
            };
            assert_eq!(o.qty, want, "{q}");
            assert_eq!(
                parse(&format!("R,1,1,{q}")),
                Command::Replace {
                    id: 1,
                    price: 1,
                    qty: want
                }
            );
        }
    }

    #[test]
    fn syntax_errors_name_line_field_and_text() {
        let cases: &[(&str, &str, &str)] = &[
            ("X,1", "op", "X"),
            ("n,1,1,B,L,1,1", "op", "n"),
            ("N,1,1,B,L,1", "fields", "N,1,1,B,L,1"),
            (
                "N,1,1,B,L,1,1,GTC,NONE,extra",
                "fields",
                "N,1,1,B,L,1,1,GTC,NONE,extra",
            ),
            ("C", "fields", "C"),
            ("C,1,2", "fields", "C,1,2"),
            ("R,1,2", "fields", "R,1,2"),
            ("N,-1,1,B,L,1,1", "id", "-1"),
            (
                "N,18446744073709551616,1,B,L,1,1",
                "id",
                "18446744073709551616",
            ),
            ("N,abc,1,B,L,1,1", "id", "abc"),
            ("C,", "id", ""),
            ("N,1,4294967296,B,L,1,1", "account", "4294967296"),
            ("N,1,x,B,L,1,1", "account", "x"),
            ("N,1,1,X,L,1,1", "side", "X"),
            ("N,1,1,B,Q,1,1", "type", "Q"),
            ("N,1,1,B,L,1.5,1", "price", "1.5"),
            (
                "N,1,1,B,L,9223372036854775808,1",
                "price",
                "9223372036854775808",
            ),
            ("R,1,,1", "price", ""),
            ("N,1,1,B,L,1,x", "qty", "x"),
            ("N,1,1,B,L,1,", "qty", ""),
            ("N,1,1,B,L,1,-", "qty", "-"),
            ("N,1,1,B,L,1,1.0", "qty", "1.0"),
            ("N,1,1,B,L,1,-5", "qty", "-5"),
            ("N,1,1,B,L,1,-0", "qty", "-0"),
            ("N,1,1,B,L,1,+7", "qty", "+7"),
            (
                "N,1,1,B,L,1,18446744073709551616",
                "qty",
                "18446744073709551616",
            ),
            ("R,1,1,-1", "qty", "-1"),
            ("C,+5", "id", "+5"),
            ("R,2,+5,100", "price", "+5"),
            ("N,1,+1,B,L,1,1", "account", "+1"),
            ("N,1,1,B,L,-,1", "price", "-"),
            ("N,1,1,B,L,--1,1", "price", "--1"),
            ("N,1,1,B,L,1\u{a0},1", "price", "1\u{a0}"),
            ("C,\u{2003}1", "id", "\u{2003}1"),
            ("N,1,1,B,L,1,1\r\r", "qty", "1\r"),
            ("R,1,1,abc", "qty", "abc"),
            ("N,1,1,B,L,1,1,DAY", "tif", "DAY"),
            ("N,1,1,B,L,1,1,GTC,XX", "stp", "XX"),
        ];
        for &(line, field, text) in cases {
            let e = syntax(line);
            assert_eq!(
                (e.line, e.field, e.text.as_str()),
                (7, field, text),
                "{line}"
            );
            let msg = e.to_string();
            assert!(msg.starts_with("line 7: bad "), "{msg}");
            assert!(msg.contains(field), "{msg}");
        }
    }

    #[test]
    fn reader_numbers_lines_and_stops_at_first_error() {
        let input = "# header\nN,1,1,S,L,100,5\n\nC,1\nbogus\nC,2\n";
        let mut r = CommandReader::new(input.as_bytes());
        assert_eq!(r.next().unwrap().unwrap().0, 2);
        assert_eq!(r.next().unwrap().unwrap(), (4, Command::Cancel { id: 1 }));
        match r.next().unwrap() {
            Err(ReadError::Syntax(e)) => assert_eq!((e.line, e.field), (5, "op")),
            other => panic!("{other:?}"),
        }
        assert!(r.next().is_none());
    }

    #[test]
    fn reader_reports_invalid_utf8_with_line() {
        let input: &[u8] = b"C,1\nC,\xff\n";
        let mut r = CommandReader::new(input);
        assert!(r.next().unwrap().is_ok());
        match r.next().unwrap() {
            Err(ReadError::Io { line, .. }) => assert_eq!(line, 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn formats_events() {
        let cases = [
            (Event::Ack { id: 3 }, "4,ACK,3"),
            (Event::Replaced { id: 3 }, "4,RPL,3"),
            (
                Event::Trade {
                    taker: 3,
                    maker: 1,
                    price: -100,
                    qty: 5,
                },
                "4,TRD,3,1,-100,5",
            ),
            (
                Event::Cancel {
                    id: 3,
                    qty: 2,
                    reason: CancelReason::Stp,
                    side: Side::Sell,
                    price: Some(i64::MIN),
                },
                "4,CXL,3,2,STP,S,-9223372036854775808",
            ),
            (
                Event::Cancel {
                    id: 3,
                    qty: 2,
                    reason: CancelReason::Ioc,
                    side: Side::Buy,
                    price: None,
                },
                "4,CXL,3,2,IOC,B,",
            ),
            (
                Event::Reject {
                    id: u64::MAX,
                    reason: RejectReason::WouldCross,
                },
                "4,REJ,18446744073709551615,WOULD_CROSS",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(event_line(4, &e), want);
        }
    }

    #[test]
    fn command_writer_round_trips() {
        for line in [
            "N,1,2,S,L,100,5,GTC,NONE",
            "N,3,2,B,M,,8,FOK,DC",
            "N,3,2,B,L,-9223372036854775808,8,POST,CM",
            "C,5",
            "R,5,9223372036854775807,1",
        ] {
            let cmd = parse(line);
            let mut s = String::new();
            write_command(&mut s, &cmd).unwrap();
            assert_eq!(s.trim_end(), line);
            assert_eq!(parse(&s), cmd);
        }
    }
}
