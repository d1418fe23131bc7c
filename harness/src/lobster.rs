//! Real NASDAQ data in the LOBSTER format (<https://lobsterdata.com>), read and turned into
//! flowmatch [`Command`]s, so that our books can be replayed against NASDAQ's own book.
//!
//! A LOBSTER sample is two CSV files without headers:
//! - the *message* file, one event per line: `time,type,order_id,size,price,direction`
//!   (time in seconds after midnight, price in dollars × 10,000, direction 1 = buy,
//!   -1 = sell);
//! - the *orderbook* file, line `i` = the book *after* message `i`: for each of `L` levels
//!   `ask_price,ask_size,bid_price,bid_size`; missing levels hold ±9,999,999,999 with size 0.
//!
//! # How LOBSTER events map onto commands (and why)
//! The file records the *resting* side of the market only: aggressive orders are never
//! named, just the resting orders they hit. So the replay never sends a taker; it edits the
//! resting book directly, and a correct replay must never trade.
//!
//! | type | meaning | command | why |
//! |---|---|---|---|
//! | 1 | new limit order | `New` GTC limit, LOBSTER id, account [`REAL_ACCOUNT`] | it rests at its price like any GTC order |
//! | 2 | partial cancel | `Replace` same price, open − size | same price and a smaller quantity keeps time priority, as at NASDAQ |
//! | 3 | full delete | `Cancel` | the order leaves the book |
//! | 4 | visible execution | `Replace` to open − size, or `Cancel` at zero | the taker is not in the data, so the fill is applied to the named maker as a reduction that keeps its priority |
//! | 5 | hidden execution | nothing | hidden orders are never in the visible book |
//! | 7 | trading halt | nothing | the book is unchanged; LOBSTER repeats the previous row |
//!
//! Orders that rested before the first message are not in the message file, only in the
//! aggregate sizes of the first orderbook row. They are seeded as one *synthetic* order per
//! price level ([`Converter::seed`]), with ids at and above [`SYNTHETIC_ID_BASE`] (the high
//! bit set, which LOBSTER's order reference numbers never reach). A type 2/3/4 event naming
//! an order the file never added is such a pre-existing order: its size is taken off the
//! synthetic order at that side and price, with a priority-keeping `Replace`, or a `Cancel`
//! when it reaches zero. If there is no synthetic order there, or too little of it, the data
//! is inconsistent with what we know and the event is reported, not guessed at
//! ([`Mapping::Inconsistent`]).
//!
//! The first orderbook row already includes message 1, so the seed must be the book
//! *before* it: [`book_before_first`] undoes message 1 from row 1, and message 1 is then
//! replayed like every other.
//!
//! Malformed input never panics: every reader error names the file, the 1-based line and
//! the field ([`LobsterError`]).

use flowmatch_core::{Command, NewOrder, OrderId, Price, Qty, Side};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// First id of the synthetic orders that stand for liquidity resting before the first
/// message. LOBSTER order ids are NASDAQ order reference numbers (below 2^63 in practice;
/// the reader rejects larger ones), so these can never collide with a real id.
pub const SYNTHETIC_ID_BASE: OrderId = 1 << 63;
/// Account of the orders named in the message file.
pub const REAL_ACCOUNT: u32 = 1;
/// Account of the synthetic orders.
pub const SYNTHETIC_ACCOUNT: u32 = 0;
/// Size LOBSTER writes for an unoccupied level (its price is ±9,999,999,999).
const EMPTY_LEVEL_SIZE: Qty = 0;

/// LOBSTER event type (column 2 of the message file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// 1: submission of a new limit order.
    Add,
    /// 2: cancellation (partial deletion) of a limit order.
    PartialCancel,
    /// 3: deletion (total) of a limit order.
    Delete,
    /// 4: execution of a visible limit order.
    Execute,
    /// 5: execution of a hidden limit order.
    HiddenExecute,
    /// 7: trading halt indicator.
    Halt,
}

impl EventType {
    fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            1 => EventType::Add,
            2 => EventType::PartialCancel,
            3 => EventType::Delete,
            4 => EventType::Execute,
            5 => EventType::HiddenExecute,
            7 => EventType::Halt,
            _ => return None,
        })
    }
}

/// One line of a message file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Message {
    /// 1-based line number in the file (for reports).
    pub line: usize,
    /// Seconds after midnight. Informational only: nothing is computed from it.
    pub time: f64,
    pub kind: EventType,
    pub order_id: OrderId,
    pub size: Qty,
    /// Dollars × 10,000, used directly as integer ticks.
    pub price: Price,
    /// Side of the *resting* order the message is about. For halts (direction -1 by
    /// convention) this is `Sell` and meaningless.
    pub side: Side,
}

/// One line of an orderbook file: the occupied levels of each side, best first.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BookRow {
    /// 1-based line number in the file.
    pub line: usize,
    /// Number of levels per side the file carries (`L` in `orderbook_L.csv`).
    pub depth: usize,
    pub bids: Vec<(Price, Qty)>,
    pub asks: Vec<(Price, Qty)>,
}

impl BookRow {
    pub fn side(&self, side: Side) -> &[(Price, Qty)] {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    /// The worst price this row shows on `side` when all `depth` levels are occupied:
    /// beyond it the real book may hold orders we cannot see. `None` when the side has
    /// fewer occupied levels than `depth`, i.e. the row shows that side completely.
    pub fn horizon(&self, side: Side) -> Option<Price> {
        let lv = self.side(side);
        if lv.len() >= self.depth {
            lv.last().map(|l| l.0)
        } else {
            None
        }
    }
}

/// Why a LOBSTER file could not be read.
#[derive(Debug)]
pub enum LobsterError {
    /// The file could not be opened or read.
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    /// A malformed line: the field that was wrong, its text and what was expected.
    Field {
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        field: &'static str,
        text: String,
        expected: String,
    },
    /// The data is well-formed but cannot be used (e.g. message 1 contradicts row 1).
    Data {
        file: PathBuf,
        line: usize,
        what: String,
    },
}

impl fmt::Display for LobsterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LobsterError::Io { file, source } => write!(f, "{}: {source}", file.display()),
            LobsterError::Field {
                file,
                line,
                field,
                text,
                expected,
            } => write!(
                f,
                "{}: line {line}: bad {field}: {text:?} (expected {expected})",
                file.display()
            ),
            LobsterError::Data { file, line, what } => {
                write!(f, "{}: line {line}: {what}", file.display())
            }
        }
    }
}

impl std::error::Error for LobsterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LobsterError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Reads all records of a headerless CSV file, calling `row` with the 1-based line number
/// and the fields. `csv` is asked for *flexible* records so that a wrong field count comes
/// back to us as data and gets the same file/line/field report as any other error.
fn read_records<T>(
    path: &Path,
    mut row: impl FnMut(usize, &csv::StringRecord) -> Result<T, LobsterError>,
) -> Result<Vec<T>, LobsterError> {
    let file = std::fs::File::open(path).map_err(|source| LobsterError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::new(file));
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                return Err(LobsterError::Field {
                    file: path.to_path_buf(),
                    line,
                    field: "record",
                    text: e.to_string(),
                    expected: "UTF-8 comma-separated values".into(),
                });
            }
        }
        let line = rec.position().map_or(out.len() + 1, |p| p.line() as usize);
        out.push(row(line, &rec)?);
    }
    Ok(out)
}

fn field_err(
    path: &Path,
    line: usize,
    field: &'static str,
    text: &str,
    expected: &str,
) -> LobsterError {
    LobsterError::Field {
        file: path.to_path_buf(),
        line,
        field,
        text: text.to_string(),
        expected: expected.to_string(),
    }
}

fn parse_int(
    path: &Path,
    line: usize,
    field: &'static str,
    text: &str,
) -> Result<i64, LobsterError> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| field_err(path, line, field, text, "an integer"))
}

/// Reads a LOBSTER message file.
pub fn read_messages(path: &Path) -> Result<Vec<Message>, LobsterError> {
    read_records(path, |line, rec| {
        if rec.len() != 6 {
            return Err(field_err(
                path,
                line,
                "fields",
                &rec.iter().collect::<Vec<_>>().join(","),
                &format!(
                    "6 fields (time,type,order_id,size,price,direction), found {}",
                    rec.len()
                ),
            ));
        }
        let time_text = &rec[0];
        let time = time_text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|t| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| field_err(path, line, "time", time_text, "seconds after midnight"))?;
        let code = parse_int(path, line, "type", &rec[1])?;
        let kind = EventType::from_code(code)
            .ok_or_else(|| field_err(path, line, "type", &rec[1], "one of 1, 2, 3, 4, 5, 7"))?;
        let id = parse_int(path, line, "order_id", &rec[2])?;
        if id < 0 {
            return Err(field_err(
                path,
                line,
                "order_id",
                &rec[2],
                "a non-negative integer",
            ));
        }
        let size = parse_int(path, line, "size", &rec[3])?;
        if size < 0 {
            return Err(field_err(
                path,
                line,
                "size",
                &rec[3],
                "a non-negative integer",
            ));
        }
        let price = parse_int(path, line, "price", &rec[4])?;
        let side = match parse_int(path, line, "direction", &rec[5])? {
            1 => Side::Buy,
            -1 => Side::Sell,
            _ => return Err(field_err(path, line, "direction", &rec[5], "1 or -1")),
        };
        Ok(Message {
            line,
            time,
            kind,
            order_id: id as OrderId,
            size: size as Qty,
            price,
            side,
        })
    })
}

/// Reads a LOBSTER orderbook file. The depth is taken from the first line (its field
/// count / 4); every line must have the same width.
pub fn read_orderbook(path: &Path) -> Result<Vec<BookRow>, LobsterError> {
    let mut width = None;
    read_records(path, |line, rec| {
        let w = *width.get_or_insert(rec.len());
        if rec.len() != w || w == 0 || w % 4 != 0 {
            return Err(field_err(
                path,
                line,
                "fields",
                &rec.iter().collect::<Vec<_>>().join(","),
                &format!(
                    "a positive multiple of 4 fields, the same on every line ({w} on the first)"
                ),
            ));
        }
        let mut row = BookRow {
            line,
            depth: w / 4,
            ..Default::default()
        };
        const NAMES: [&str; 4] = ["ask_price", "ask_size", "bid_price", "bid_size"];
        for lvl in 0..w / 4 {
            let mut v = [0i64; 4];
            for (k, slot) in v.iter_mut().enumerate() {
                *slot = parse_int(path, line, NAMES[k], &rec[4 * lvl + k])?;
            }
            for (k, (price, size)) in [(0usize, (v[0], v[1])), (2, (v[2], v[3]))] {
                if size < 0 {
                    return Err(field_err(
                        path,
                        line,
                        NAMES[k + 1],
                        &rec[4 * lvl + k + 1],
                        "a non-negative size",
                    ));
                }
                if size as Qty == EMPTY_LEVEL_SIZE {
                    continue;
                }
                let lv = if k == 0 { &mut row.asks } else { &mut row.bids };
                lv.push((price, size as Qty));
            }
        }
        // Occupied levels must be strictly ordered best-first; anything else is not a book.
        let ordered = row.asks.windows(2).all(|p| p[0].0 < p[1].0)
            && row.bids.windows(2).all(|p| p[0].0 > p[1].0);
        if !ordered {
            return Err(LobsterError::Data {
                file: path.to_path_buf(),
                line,
                what: "price levels are not strictly ordered best-first".into(),
            });
        }
        Ok(row)
    })
}

/// The book just before message 1, derived from orderbook row 1 (which already includes
/// message 1) by undoing message 1: an add is taken off its level, a cancel, delete or
/// visible execution is put back; hidden executions and halts change nothing.
///
/// The returned row keeps row 1's `depth`; note that undoing an add can leave a side with
/// `depth - 1` levels whose true `depth`-th level is unknown, so callers must bound what
/// they trust by row 1's [`BookRow::horizon`], not by the result's.
pub fn book_before_first(
    row1: &BookRow,
    msg1: &Message,
    file: &Path,
) -> Result<BookRow, LobsterError> {
    let mut pre = row1.clone();
    pre.line = 0;
    let side = msg1.side;
    let levels = match side {
        Side::Buy => &mut pre.bids,
        Side::Sell => &mut pre.asks,
    };
    let data_err = |what: String| LobsterError::Data {
        file: file.to_path_buf(),
        line: msg1.line,
        what,
    };
    let pos = levels.iter().position(|l| l.0 == msg1.price);
    match msg1.kind {
        EventType::Add => {
            let i = pos.ok_or_else(|| {
                data_err(format!(
                    "message 1 adds at {} but row 1 has no such level",
                    msg1.price
                ))
            })?;
            if levels[i].1 < msg1.size {
                return Err(data_err(format!(
                    "message 1 adds {} at {} but row 1 holds only {} there",
                    msg1.size, msg1.price, levels[i].1
                )));
            }
            levels[i].1 -= msg1.size;
            if levels[i].1 == 0 {
                levels.remove(i);
            }
        }
        EventType::PartialCancel | EventType::Delete | EventType::Execute => match pos {
            Some(i) => levels[i].1 += msg1.size,
            None => {
                let at = levels
                    .iter()
                    .position(|l| side.better(msg1.price, l.0))
                    .unwrap_or(levels.len());
                levels.insert(at, (msg1.price, msg1.size));
            }
        },
        EventType::HiddenExecute | EventType::Halt => {}
    }
    Ok(pre)
}

/// What one LOBSTER message does to the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mapping {
    /// Apply this command.
    Apply(Command),
    /// The message does not change the visible book (hidden execution, halt).
    NoBookChange,
    /// The message cannot be applied consistently with what we know; nothing is sent.
    Inconsistent(Inconsistency),
}

/// A message that contradicts the book we hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inconsistency {
    /// An add names an id that is still live.
    DuplicateAdd,
    /// A partial cancel or execution larger than the order's open quantity (or a partial
    /// cancel equal to it, which would leave an order of zero).
    SizeAboveOpen { open: Qty },
    /// The message's side or price differs from the order it names.
    WrongPriceOrSide { side: Side, price: Price },
    /// An id never added (so a pre-existing order), with no or too little synthetic
    /// liquidity at its side and price: `available` is what the synthetic order holds.
    UnknownOrder { available: Qty },
    /// An id ≥ [`SYNTHETIC_ID_BASE`], which would collide with a synthetic order.
    IdOutOfRange,
    /// A message (other than a halt or hidden execution) with size zero.
    ZeroSize,
}

/// A resting order as the converter tracks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tracked {
    side: Side,
    price: Price,
    open: Qty,
}

/// Turns LOBSTER messages into commands, keeping its own ledger of every resting order
/// (real and synthetic). The ledger is what decides between a reducing `Replace` and a
/// `Cancel`; it is independent of any book, so the books under test cannot steer their
/// own input.
#[derive(Debug, Default)]
pub struct Converter {
    live: HashMap<OrderId, Tracked>,
    /// Synthetic order per (side, price), if any is live there.
    synthetic: HashMap<(Side, Price), OrderId>,
    next_synthetic: OrderId,
}

impl Converter {
    pub fn new() -> Self {
        Converter {
            next_synthetic: SYNTHETIC_ID_BASE,
            ..Default::default()
        }
    }

    fn new_synthetic(&mut self, side: Side, price: Price, qty: Qty) -> Command {
        let id = self.next_synthetic;
        self.next_synthetic += 1;
        self.live.insert(
            id,
            Tracked {
                side,
                price,
                open: qty,
            },
        );
        self.synthetic.insert((side, price), id);
        Command::New(NewOrder::limit(id, SYNTHETIC_ACCOUNT, side, price, qty))
    }

    /// One synthetic GTC order per occupied level of `book` (bids then asks, best first),
    /// standing for the pre-existing orders whose individual sizes the data does not give.
    pub fn seed(&mut self, book: &BookRow) -> Vec<Command> {
        let mut out = Vec::new();
        for side in [Side::Buy, Side::Sell] {
            for &(price, qty) in book.side(side) {
                out.push(self.new_synthetic(side, price, qty));
            }
        }
        out
    }

    /// Takes `size` off a tracked order: `Replace` at the same price (a reduction, so time
    /// priority is kept) or `Cancel` when nothing remains.
    fn reduce(&mut self, id: OrderId, size: Qty) -> Command {
        let t = self
            .live
            .get_mut(&id)
            .expect("reduce is only called on live ids");
        t.open -= size;
        if t.open == 0 {
            let t = self.live.remove(&id).expect("present");
            if self.synthetic.get(&(t.side, t.price)) == Some(&id) {
                self.synthetic.remove(&(t.side, t.price));
            }
            Command::Cancel { id }
        } else {
            Command::Replace {
                id,
                price: t.price,
                qty: t.open,
            }
        }
    }

    /// The command for one message, per the table in the module documentation. The ledger
    /// is updated only when a command is returned.
    pub fn convert(&mut self, m: &Message) -> Mapping {
        use EventType::*;
        match m.kind {
            HiddenExecute | Halt => return Mapping::NoBookChange,
            _ => {}
        }
        if m.order_id >= SYNTHETIC_ID_BASE {
            return Mapping::Inconsistent(Inconsistency::IdOutOfRange);
        }
        if m.size == 0 {
            return Mapping::Inconsistent(Inconsistency::ZeroSize);
        }
        if m.kind == Add {
            if self.live.contains_key(&m.order_id) {
                return Mapping::Inconsistent(Inconsistency::DuplicateAdd);
            }
            self.live.insert(
                m.order_id,
                Tracked {
                    side: m.side,
                    price: m.price,
                    open: m.size,
                },
            );
            return Mapping::Apply(Command::New(NewOrder::limit(
                m.order_id,
                REAL_ACCOUNT,
                m.side,
                m.price,
                m.size,
            )));
        }
        match self.live.get(&m.order_id).copied() {
            Some(t) => {
                if t.side != m.side || t.price != m.price {
                    return Mapping::Inconsistent(Inconsistency::WrongPriceOrSide {
                        side: t.side,
                        price: t.price,
                    });
                }
                match m.kind {
                    // A delete removes the order whatever size it states.
                    Delete => {
                        self.live.remove(&m.order_id);
                        Mapping::Apply(Command::Cancel { id: m.order_id })
                    }
                    PartialCancel if m.size >= t.open => {
                        Mapping::Inconsistent(Inconsistency::SizeAboveOpen { open: t.open })
                    }
                    _ if m.size > t.open => {
                        Mapping::Inconsistent(Inconsistency::SizeAboveOpen { open: t.open })
                    }
                    _ => Mapping::Apply(self.reduce(m.order_id, m.size)),
                }
            }
            None => {
                // A pre-existing order: its share of the synthetic order at its level.
                let syn = self.synthetic.get(&(m.side, m.price)).copied();
                let available = syn.map_or(0, |id| self.live[&id].open);
                match syn {
                    Some(id) if available >= m.size => Mapping::Apply(self.reduce(id, m.size)),
                    _ => Mapping::Inconsistent(Inconsistency::UnknownOrder { available }),
                }
            }
        }
    }

    /// Aggregate open quantity the ledger holds at one level.
    pub fn level_qty(&self, side: Side, price: Price) -> Qty {
        self.live
            .values()
            .filter(|t| t.side == side && t.price == price)
            .map(|t| t.open)
            .sum()
    }

    /// Prices of every level the ledger holds on `side`, unordered.
    pub fn level_prices(&self, side: Side) -> Vec<Price> {
        let mut v: Vec<Price> = self
            .live
            .values()
            .filter(|t| t.side == side)
            .map(|t| t.price)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Brings the level at `side`/`price` to `target` aggregate quantity, for levels whose
    /// history the data does not show (they were beyond the file's visible depth while
    /// orders came and went there). Growth goes to the level's synthetic order (a new one,
    /// or a replace upward, which is allowed to lose priority: it stands for unknown orders
    /// anyway); shrinkage comes from the synthetic order first and then from real orders,
    /// newest id first (their deletion happened out of sight). Returns the commands and the
    /// ids of real orders it reduced, which later messages may then contradict.
    pub fn resync_level(
        &mut self,
        side: Side,
        price: Price,
        target: Qty,
    ) -> (Vec<Command>, Vec<OrderId>) {
        let have = self.level_qty(side, price);
        let mut cmds = Vec::new();
        let mut touched = Vec::new();
        if target > have {
            let add = target - have;
            match self.synthetic.get(&(side, price)).copied() {
                Some(id) => {
                    let t = self.live.get_mut(&id).expect("synthetic ids are live");
                    t.open += add;
                    cmds.push(Command::Replace {
                        id,
                        price,
                        qty: t.open,
                    });
                }
                None => cmds.push(self.new_synthetic(side, price, add)),
            }
        } else if target < have {
            let mut cut = have - target;
            let mut order: Vec<OrderId> = self
                .live
                .iter()
                .filter(|(_, t)| t.side == side && t.price == price)
                .map(|(&id, _)| id)
                .collect();
            // Synthetic ids sort highest, so descending order takes the synthetic first,
            // then real orders newest first.
            order.sort_unstable_by(|a, b| b.cmp(a));
            for id in order {
                if cut == 0 {
                    break;
                }
                let take = cut.min(self.live[&id].open);
                cut -= take;
                if id < SYNTHETIC_ID_BASE {
                    touched.push(id);
                }
                cmds.push(self.reduce(id, take));
            }
        }
        (cmds, touched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(kind: EventType, id: OrderId, size: Qty, price: Price, side: Side) -> Message {
        Message {
            line: 1,
            time: 0.0,
            kind,
            order_id: id,
            size,
            price,
            side,
        }
    }

    #[test]
    fn undo_first_message_per_type() {
        let row = BookRow {
            line: 1,
            depth: 2,
            bids: vec![(100, 5), (99, 7)],
            asks: vec![(101, 3)],
        };
        let p = Path::new("x");
        let pre = book_before_first(&row, &msg(EventType::Add, 1, 5, 100, Side::Buy), p).unwrap();
        assert_eq!(pre.bids, vec![(99, 7)]);
        let pre = book_before_first(&row, &msg(EventType::Add, 1, 2, 100, Side::Buy), p).unwrap();
        assert_eq!(pre.bids, vec![(100, 3), (99, 7)]);
        let pre =
            book_before_first(&row, &msg(EventType::Delete, 1, 4, 102, Side::Sell), p).unwrap();
        assert_eq!(pre.asks, vec![(101, 3), (102, 4)]);
        let pre =
            book_before_first(&row, &msg(EventType::Execute, 1, 4, 100, Side::Buy), p).unwrap();
        assert_eq!(pre.bids, vec![(100, 9), (99, 7)]);
        let pre =
            book_before_first(&row, &msg(EventType::Execute, 1, 4, 100, Side::Sell), p).unwrap();
        assert_eq!(pre.asks, vec![(100, 4), (101, 3)]);
        assert_eq!(
            book_before_first(&row, &msg(EventType::Halt, 0, 0, -1, Side::Sell), p)
                .unwrap()
                .asks,
            row.asks
        );
        assert!(book_before_first(&row, &msg(EventType::Add, 1, 6, 100, Side::Buy), p).is_err());
        assert!(book_before_first(&row, &msg(EventType::Add, 1, 1, 98, Side::Buy), p).is_err());
    }

    #[test]
    fn converter_maps_each_type() {
        let mut c = Converter::new();
        let seed = c.seed(&BookRow {
            line: 0,
            depth: 10,
            bids: vec![(100, 50)],
            asks: vec![],
        });
        let s = SYNTHETIC_ID_BASE;
        assert_eq!(
            seed,
            vec![Command::New(NewOrder::limit(
                s,
                SYNTHETIC_ACCOUNT,
                Side::Buy,
                100,
                50
            ))]
        );
        use EventType::*;
        let b = Side::Buy;
        assert_eq!(
            c.convert(&msg(Add, 7, 10, 100, b)),
            Mapping::Apply(Command::New(NewOrder::limit(7, REAL_ACCOUNT, b, 100, 10)))
        );
        assert_eq!(
            c.convert(&msg(Add, 7, 10, 100, b)),
            Mapping::Inconsistent(Inconsistency::DuplicateAdd)
        );
        assert_eq!(
            c.convert(&msg(PartialCancel, 7, 3, 100, b)),
            Mapping::Apply(Command::Replace {
                id: 7,
                price: 100,
                qty: 7
            })
        );
        assert_eq!(
            c.convert(&msg(PartialCancel, 7, 7, 100, b)),
            Mapping::Inconsistent(Inconsistency::SizeAboveOpen { open: 7 })
        );
        assert_eq!(
            c.convert(&msg(Execute, 7, 2, 101, b)),
            Mapping::Inconsistent(Inconsistency::WrongPriceOrSide {
                side: b,
                price: 100
            })
        );
        assert_eq!(
            c.convert(&msg(Execute, 7, 2, 100, b)),
            Mapping::Apply(Command::Replace {
                id: 7,
                price: 100,
                qty: 5
            })
        );
        assert_eq!(
            c.convert(&msg(Execute, 7, 5, 100, b)),
            Mapping::Apply(Command::Cancel { id: 7 })
        );
        assert_eq!(
            c.convert(&msg(HiddenExecute, 9, 5, 100, b)),
            Mapping::NoBookChange
        );
        // Pre-existing orders come off the synthetic order.
        assert_eq!(
            c.convert(&msg(Delete, 3, 20, 100, b)),
            Mapping::Apply(Command::Replace {
                id: s,
                price: 100,
                qty: 30
            })
        );
        assert_eq!(
            c.convert(&msg(Delete, 4, 31, 100, b)),
            Mapping::Inconsistent(Inconsistency::UnknownOrder { available: 30 })
        );
        assert_eq!(
            c.convert(&msg(Execute, 4, 30, 100, b)),
            Mapping::Apply(Command::Cancel { id: s })
        );
        assert_eq!(
            c.convert(&msg(Delete, 5, 1, 100, b)),
            Mapping::Inconsistent(Inconsistency::UnknownOrder { available: 0 })
        );
        assert_eq!(
            c.convert(&msg(Add, SYNTHETIC_ID_BASE, 1, 100, b)),
            Mapping::Inconsistent(Inconsistency::IdOutOfRange)
        );
    }

    #[test]
    fn resync_takes_synthetic_then_newest_real() {
        let mut c = Converter::new();
        let b = Side::Buy;
        c.convert(&msg(EventType::Add, 1, 10, 100, b));
        c.convert(&msg(EventType::Add, 2, 10, 100, b));
        let (cmds, touched) = c.resync_level(b, 100, 25);
        assert_eq!(
            cmds,
            vec![Command::New(NewOrder::limit(
                SYNTHETIC_ID_BASE,
                SYNTHETIC_ACCOUNT,
                b,
                100,
                5
            ))]
        );
        assert!(touched.is_empty());
        let (cmds, touched) = c.resync_level(b, 100, 8);
        assert_eq!(
            cmds,
            vec![
                Command::Cancel {
                    id: SYNTHETIC_ID_BASE
                },
                Command::Cancel { id: 2 },
                Command::Replace {
                    id: 1,
                    price: 100,
                    qty: 8
                }
            ]
        );
        assert_eq!(touched, vec![2, 1]);
        assert_eq!(c.level_qty(b, 100), 8);
    }
}
