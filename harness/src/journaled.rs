//! The state a journal directory holds besides its segments, and how it comes back:
//! the book settings the journal was written under, snapshots of the whole book, and
//! recovery (latest valid snapshot + journal tail). Used by `replay --journal`,
//! `recover` and `journal verify|dump`.
//!
//! # A journal directory
//! - `NNNNNNNNNNNNNNNNNNNN.fmj`: the segments ([`flowmatch_journal::format`]); record
//!   payloads are `Command`s (codec `cmd1`), sequence number = the command's position in
//!   the replayed stream (1-based), which is also the number its event lines carry.
//! - `settings`: the book the journal's commands were applied to, as text (written once,
//!   atomically, before the first record): `flowmatch-journal-settings 1`, then `key=value`
//!   lines `book`, `policy`, `replace-priority`, `max-qty`, `min-price`, `max-price`
//!   (the `replay` options' spellings). Recovery builds the book from it.
//! - `instruments.csv` (instrument journals only, `replay --journal --instruments FILE`):
//!   the table file's bytes, written once, atomically, before the first record. Record
//!   payloads are then [`InstrumentRecord`]s (codec `icm1`: the line's symbol, then the
//!   command), so `journal dump` prints the `SYM:` prefixes and recovery re-applies the
//!   records through the prefixed replay (`cmd::replay_instruments`), which gives every
//!   instrument the id it had. The state hash has one section per book that appeared,
//!   in order of first appearance: key 0 the default book (unprefixed lines), key `id + 1`
//!   instrument `id` (its 0-based table row). Instrument journals have snapshots too,
//!   one section per book (`journaled::instruments`, [`Instruments`]).
//! - `snapshot-SSSSSSSSSSSSSSSSSSSS.fms`: the state after command `S` (format below),
//!   written atomically: a temporary `.snapshot.tmp`, `fsync`, `rename`, `fsync` of the
//!   directory. A crash leaves at most a stray temporary file, never half a snapshot.
//!
//! # Snapshot format, version 1 (all integers little-endian)
//! | bytes | field |
//! | --- | --- |
//! | 8 | magic `FMSNAP01` |
//! | 8 | `seq`: last command applied |
//! | 4 | `chain`: CRC32C chained over every journal record `1..=seq` (see below) |
//! | 4 + n | settings text length, then the `settings` file's bytes |
//! | 4 | number of books (a single-book journal: 1) |
//! | | per book, in the state hash's order: |
//! | 4 + 8 | key (single book: 0), number of resting orders, bit 63 set when stops are pending, bit 62 when icebergs rest, bit 61 when midpoint pegs rest (the state hash's count field) |
//! | 31 each | the orders in priority order: the state hash's canonical 29 bytes, then `tif` (u8: 0 GTC, 3 POST) and `stp` (u8: 0 NONE, 1 CT, 2 CM, 3 CB, 4 DC) |
//! | 8 | number of price levels |
//! | 33 each | per level: side (u8), price (i64), open quantity (u128), order count (u64) |
//! | 8 | only with bit 63 set: number of pending stops (at least 1) |
//! | 42 each | only with bit 63 set: the pending stops in arrival order, each its `Command::New` journal payload (codec tag 4; the state hash's canonical stop) |
//! | 8 | only with bit 62 set: number of resting icebergs (at least 1) |
//! | 24 each | only with bit 62 set: each resting iceberg's hidden part in dump order: id, display, reserve (u64 each; the state hash's canonical iceberg) |
//! | 8 | only with bit 61 set: number of resting midpoint pegs (at least 1) |
//! | 34 each | only with bit 61 set: the resting pegs in arrival order, both sides together, each the `Command::New` journal payload (codec tag 1, `ord_type` 6) of a GTC peg of its open quantity with its cap and STP mode (the state hash's canonical peg) |
//! | | (end of the per-book part) |
//! | 32 | the state hash (SHA-256, [`flowmatch_journal::state_hash`]) |
//! | 4 | CRC32C of every byte before it |
//!
//! `chain` ties a snapshot to one journal: `chain(0) = 0`, `chain(s) = crc32c_append(
//! chain(s-1), seq_le_bytes ++ payload)` over the records' encoded payloads. A snapshot
//! from another journal (or the same directory after different commands) fails it.
//!
//! A resting order's time in force and STP mode are state too: a replace that loses
//! priority re-enters the order with them (docs/SEMANTICS.md), so a book rebuilt without
//! them diverges later. Every book reports them with its resting orders
//! ([`RestingOrder::tif`], [`RestingOrder::stp`]), so the snapshot takes them from the
//! book. The state hash's canonical form (version 1) does not include them.
//!
//! Pending stops and stop-limits (`docs/SEMANTICS.md`, "Stop orders") are state as well:
//! each is recorded whole (its journal payload) in arrival order, which is the order they
//! trigger in. A book without pending stops writes exactly the bytes it wrote before stops
//! existed (bit 63 clear, no stop list), so every snapshot of that time still loads.
//! So are resting icebergs' hidden parts (`docs/SEMANTICS.md`, "Iceberg orders"): each
//! iceberg is re-added as an iceberg showing exactly its recorded shown part with its
//! reserve behind it, then given back its recorded display
//! ([`OrderBook::restore_iceberg`]); a book without icebergs writes the bytes it wrote
//! before them (bit 62 clear). And so are resting midpoint pegs (`docs/SEMANTICS.md`,
//! "Midpoint peg orders"): each is recorded as the GTC peg that rests it again, in arrival
//! order across both sides, since the later of two crossing pegs is the taker; a book
//! without pegs writes the bytes it wrote before them (bit 61 clear).
//!
//! # How long a snapshot stops the replay (measured)
//! The replay is single-threaded: it stops while the snapshot is serialized, written,
//! synced and renamed; the report on stderr gives the longest stop and its parts, and
//! `bench-results/journal/` the measured figures. Until 2026-12-02 the replay kept every
//! accepted order's time in force and STP mode in a hash map (an insert per accepted
//! order), pruned and looked up again at each snapshot: 580 ms of serializing for
//! 28 MB (~0.9 M resting orders; 22da06e, `scripts/bench-journal.sh 10000000`). The book
//! reports them now: serializing is one walk of the book in priority order.
//!
//! # Loading a snapshot
//! The book is rebuilt by re-adding the resting orders as GTC limit orders in priority
//! order (resting orders never cross, so each must rest untouched: any other event is a
//! refusal), then the resting pegs as GTC pegs in arrival order (no two resting pegs both
//! admit the midpoint the lit orders make, so each is only acknowledged and joins the back
//! of its side's queue, which gives back each side's time priority and which of two pegs
//! arrived first), then the pending stops as they arrived, in arrival order (with no trade
//! printed, each is only acknowledged and waits again); then the book's own level aggregates are compared with the recorded ones
//! and the rebuilt book's state hash with the recorded hash. A snapshot whose CRC fails
//! is skipped with a warning (an older one, or the journal from its start, is used: the
//! journal keeps every record). A snapshot that does not match its journal is refused
//! (exit 2): its sequence beyond the journal's end, its chain different from the
//! journal's at that sequence, other settings, or aggregates or hash that disagree.
//! `journal verify` goes further: it replays the journal from the start and checks every
//! snapshot's hash at its sequence.

use crate::instrument_text::split_prefix;
use crate::policy::{PolicyArg, ReplacePriorityArg};
use crate::replay_loop::BookKind;
use crate::text::{self, SyntaxError};
use clap::ValueEnum;
use flowmatch_core::{
    BookConfig, Command, Event, FastBook, NewOrder, OrdType, OrderBook, OrderId, Price, Qty,
    ReferenceBook, RestingOrder, RestingPeg, Side, Sink, Stp, Tif,
};
use flowmatch_journal::codec::{side_byte, stp_byte, tif_byte};
use flowmatch_journal::state_hash::{
    canonical_iceberg, canonical_order, canonical_peg, canonical_stop, icebergs_of,
    order_count_field, order_count_of, peg_of_order, peg_order, pegs_of, Hidden, IcebergRecord,
    ICEBERGS_FOLLOW, ICEBERG_BYTES, ORDER_BYTES, PEGS_FOLLOW, PEG_BYTES, STOPS_FOLLOW, STOP_BYTES,
};
use flowmatch_journal::{state_hash, Codec, InstrumentRecord, StateHash};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Name of the settings file in a journal directory.
pub const SETTINGS_FILE: &str = "settings";
const SETTINGS_HEADER: &str = "flowmatch-journal-settings 1";
const SNAPSHOT_MAGIC: [u8; 8] = *b"FMSNAP01";
const SNAPSHOT_TMP: &str = ".snapshot.tmp";

/// The book a journal's commands are applied to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Book implementation.
    pub book: BookKind,
    /// Matching policy.
    pub policy: PolicyArg,
    /// Replace priority mode.
    pub replace_priority: ReplacePriorityArg,
    /// Largest accepted quantity.
    pub max_qty: Qty,
    /// Lowest accepted price.
    pub min_price: Price,
    /// Highest accepted price.
    pub max_price: Price,
}

fn value_name<V: ValueEnum>(v: &V) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}

impl Settings {
    /// The settings of a book configured as `cfg` (policy and replace priority named by
    /// the arguments that produced it).
    pub fn new(
        book: BookKind,
        policy: PolicyArg,
        replace_priority: ReplacePriorityArg,
        cfg: &BookConfig,
    ) -> Self {
        Settings {
            book,
            policy,
            replace_priority,
            max_qty: cfg.max_order_qty,
            min_price: cfg.min_price,
            max_price: cfg.max_price,
        }
    }

    /// The book configuration (the same construction as `replay`'s).
    pub fn config(&self) -> BookConfig {
        BookConfig {
            policy: self.policy.policy(),
            replace_priority: self.replace_priority.mode(),
            max_order_qty: self.max_qty,
            min_price: self.min_price,
            max_price: self.max_price,
            ..BookConfig::default()
        }
    }

    /// The `settings` file's text.
    pub fn to_text(&self) -> String {
        format!(
            "{SETTINGS_HEADER}\nbook={}\npolicy={}\nreplace-priority={}\nmax-qty={}\nmin-price={}\nmax-price={}\n",
            value_name(&self.book),
            value_name(&self.policy),
            value_name(&self.replace_priority),
            self.max_qty,
            self.min_price,
            self.max_price
        )
    }

    /// Parses a `settings` file's text strictly (every key once, nothing else).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text.lines();
        if lines.next() != Some(SETTINGS_HEADER) {
            return Err(format!("first line is not `{SETTINGS_HEADER}`"));
        }
        let mut fields: [Option<&str>; 6] = [None; 6];
        const KEYS: [&str; 6] = [
            "book",
            "policy",
            "replace-priority",
            "max-qty",
            "min-price",
            "max-price",
        ];
        for line in lines {
            let (k, v) = line
                .split_once('=')
                .ok_or_else(|| format!("line `{line}` is not key=value"))?;
            let i = KEYS
                .iter()
                .position(|&key| key == k)
                .ok_or_else(|| format!("unknown key `{k}`"))?;
            if fields[i].replace(v).is_some() {
                return Err(format!("key `{k}` given twice"));
            }
        }
        let get = |i: usize| fields[i].ok_or_else(|| format!("key `{}` missing", KEYS[i]));
        let num = |i: usize| -> Result<i128, String> {
            get(i)?
                .parse::<i128>()
                .map_err(|_| format!("`{}` is not an integer", KEYS[i]))
        };
        let s = Settings {
            book: BookKind::from_str(get(0)?, false).map_err(|e| format!("book: {e}"))?,
            policy: PolicyArg::from_str(get(1)?, false).map_err(|e| format!("policy: {e}"))?,
            replace_priority: ReplacePriorityArg::from_str(get(2)?, false)
                .map_err(|e| format!("replace-priority: {e}"))?,
            max_qty: Qty::try_from(num(3)?).map_err(|_| "max-qty out of range".to_string())?,
            min_price: Price::try_from(num(4)?)
                .map_err(|_| "min-price out of range".to_string())?,
            max_price: Price::try_from(num(5)?)
                .map_err(|_| "max-price out of range".to_string())?,
        };
        if s.max_qty == 0 || s.min_price > s.max_price {
            return Err("max-qty is 0 or min-price is above max-price".into());
        }
        Ok(s)
    }

    /// Reads `DIR/settings`.
    pub fn read(dir: &Path) -> Result<Self, Failure> {
        let path = dir.join(SETTINGS_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Failure::corrupt(format!(
                "{} is not a journal directory (it has no {SETTINGS_FILE} file)",
                dir.display()
            )),
            _ => Failure::corrupt(format!("{}: cannot read: {e}", path.display())),
        })?;
        Settings::parse(&text).map_err(|e| Failure::corrupt(format!("{}: {e}", path.display())))
    }

    /// Writes `DIR/settings` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), Failure> {
        write_atomically(dir, SETTINGS_FILE, self.to_text().as_bytes())
    }
}

/// Why a journal operation stopped, with the exit status the command line uses.
#[derive(Debug)]
pub struct Failure {
    /// 2: corruption, a refused snapshot or journal, a usage problem; 1: an I/O failure.
    pub code: u8,
    /// The message (names the file and offset for corruption).
    pub message: String,
}

impl Failure {
    /// Exit status 2.
    pub fn corrupt(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }

    /// Exit status 1.
    pub fn io(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
        }
    }

    /// A journal error: corruption exits 2, anything else 1.
    pub fn journal(e: flowmatch_journal::JournalError) -> Self {
        Failure {
            code: if e.is_corruption() { 2 } else { 1 },
            message: e.to_string(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Writes `dir/name` via a temporary file, `fsync`, `rename` and an `fsync` of `dir`.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), Failure> {
    let tmp = dir.join(SNAPSHOT_TMP);
    let dest = dir.join(name);
    let io = |what: &str, p: &Path, e: std::io::Error| {
        Failure::io(format!("cannot {what} {}: {e}", p.display()))
    };
    let mut f = File::create(&tmp).map_err(|e| io("create", &tmp, e))?;
    f.write_all(bytes).map_err(|e| io("write", &tmp, e))?;
    f.sync_all().map_err(|e| io("fsync", &tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, &dest).map_err(|e| io("rename to", &dest, e))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("fsync directory", dir, e))
}

/// A book the journal tools can build from its configuration.
pub trait NewBook: OrderBook + Send {
    /// An empty book.
    fn with_config(cfg: BookConfig) -> Self;
    /// Room for `orders` resting orders, made at once (a snapshot's rebuild knows how
    /// many it re-adds; [`FastBook::reserve`]). No effect on the book; the default does
    /// nothing.
    fn reserve(&mut self, _orders: usize) {}
    /// A hint from a caller that knows the orders ahead (a snapshot's rebuild, the
    /// journal tail's replay): order `id` comes in a few commands (see
    /// [`FastBook::prefetch_id`]). No effect on the book; the default does nothing.
    #[inline]
    fn prefetch_id(&self, _id: OrderId) {}
    /// The same, a command or two closer (see [`FastBook::prefetch_order`]).
    #[inline]
    fn prefetch_order(&self, _id: OrderId) {}
}

impl NewBook for FastBook {
    fn with_config(cfg: BookConfig) -> Self {
        FastBook::new(cfg)
    }
    fn reserve(&mut self, orders: usize) {
        FastBook::reserve(self, orders);
    }
    #[inline]
    fn prefetch_id(&self, id: OrderId) {
        FastBook::prefetch_id(self, id);
    }
    #[inline]
    fn prefetch_order(&self, id: OrderId) {
        FastBook::prefetch_order(self, id);
    }
}

impl NewBook for ReferenceBook {
    fn with_config(cfg: BookConfig) -> Self {
        ReferenceBook::new(cfg)
    }
}

/// The running chain CRC over journal records (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Chain(pub u32);

impl Chain {
    /// Adds record `seq` carrying `record`.
    pub fn add<C: Codec>(&mut self, seq: u64, record: &C) {
        const { assert!(<InstrumentRecord as Codec>::MAX_LEN <= 64) };
        assert!(
            C::MAX_LEN <= 64,
            "a record payload longer than the chain's buffer"
        );
        let mut payload = [0u8; 64];
        let n = record.encode(&mut payload);
        self.add_payload(seq, &payload[..n]);
    }

    /// Adds record `seq` whose encoded payload is `payload` (as read from the journal):
    /// `crc32c_append(chain, seq_le ‖ payload)`, streamed without a copy
    /// ([`flowmatch_journal::short_crc`]).
    pub fn add_payload(&mut self, seq: u64, payload: &[u8]) {
        self.0 = flowmatch_journal::short_crc::chain_append(self.0, seq, payload);
    }
}

/// One price level as a snapshot records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelRecord {
    /// Side.
    pub side: Side,
    /// Price.
    pub price: Price,
    /// Open quantity (the book's aggregate).
    pub qty: u128,
    /// Orders.
    pub orders: u64,
}

impl LevelRecord {
    /// The level aggregates of `orders` given in dump order (bids best first, then asks
    /// best first, each level's orders together): one record per run of one side and
    /// price. What a snapshot's loader checks the book it rebuilt against.
    pub fn from_orders(orders: &[RestingOrder]) -> Vec<LevelRecord> {
        let mut levels: Vec<LevelRecord> = Vec::new();
        for o in orders {
            match levels.last_mut() {
                Some(l) if l.side == o.side && l.price == o.price => {
                    l.qty += o.open_qty as u128;
                    l.orders += 1;
                }
                _ => levels.push(LevelRecord {
                    side: o.side,
                    price: o.price,
                    qty: o.open_qty as u128,
                    orders: 1,
                }),
            }
        }
        levels
    }
}

fn levels_of(book: &impl OrderBook) -> Vec<LevelRecord> {
    let mut levels = Vec::new();
    for side in [Side::Buy, Side::Sell] {
        book.for_each_level(side, &mut |l| {
            levels.push(LevelRecord {
                side,
                price: l.price,
                qty: l.total_qty,
                orders: l.orders as u64,
            })
        });
    }
    levels
}

/// One book's section of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookSection {
    /// The book's key (the state hash's: 0 the default book, `id + 1` instrument `id`).
    pub key: u32,
    /// Resting orders in priority order, with their time in force and STP mode.
    pub orders: Vec<RestingOrder>,
    /// The recorded level aggregates.
    pub levels: Vec<LevelRecord>,
    /// Pending stops and stop-limits in arrival order, as they arrived.
    pub stops: Vec<NewOrder>,
    /// The hidden part of every resting iceberg, in dump order.
    pub icebergs: Vec<IcebergRecord>,
    /// Resting midpoint pegs, in arrival order (both sides together).
    pub pegs: Vec<RestingPeg>,
}

impl BookSection {
    /// Its icebergs' hidden parts and its pegs, as the hash and the snapshot take them.
    pub fn hidden(&self) -> Hidden<'_> {
        Hidden {
            icebergs: &self.icebergs,
            pegs: &self.pegs,
        }
    }

    /// Nothing rests or waits in it: a book that only appeared.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty() && self.stops.is_empty() && self.pegs.is_empty()
    }

    /// Each order paired with its iceberg record, if it is one (both lists are in dump
    /// order); an error names a record whose order is not in the section.
    pub fn paired(&self) -> Result<Vec<(&RestingOrder, Option<&IcebergRecord>)>, String> {
        let mut hidden = self.icebergs.iter().peekable();
        let paired: Vec<_> = self
            .orders
            .iter()
            .map(|o| (o, hidden.next_if(|r| r.id == o.id)))
            .collect();
        match hidden.next() {
            Some(r) => Err(format!(
                "book {}: iceberg {} is not among its resting orders in order",
                self.key, r.id
            )),
            None => Ok(paired),
        }
    }
}

/// The command that rests a snapshot's order again as it was: a limit order of its open
/// quantity at its price, with its time in force and STP mode (loading a snapshot replays
/// these in priority order, so priority comes back as recorded). An iceberg comes back as
/// an iceberg showing exactly its recorded shown part, with its reserve behind it; the
/// loader then gives it back its recorded display ([`OrderBook::restore_iceberg`]).
pub fn rest_again(o: &RestingOrder, iceberg: Option<&IcebergRecord>) -> Command {
    let (ord_type, qty) = match iceberg {
        None => (OrdType::Limit, o.open_qty),
        Some(r) => (
            OrdType::Iceberg {
                display: o.open_qty,
            },
            o.open_qty.saturating_add(r.reserve),
        ),
    };
    Command::New(NewOrder {
        id: o.id,
        account: o.account,
        side: o.side,
        ord_type,
        price: Some(o.price),
        qty,
        tif: o.tif,
        stp: o.stp,
    })
}

/// A decoded snapshot.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Last command applied.
    pub seq: u64,
    /// Journal chain at `seq`.
    pub chain: Chain,
    /// The settings text.
    pub settings: String,
    /// The books, in the state hash's order.
    pub books: Vec<BookSection>,
    /// The recorded state hash.
    pub hash: StateHash,
}

/// What writing a snapshot cost the replay.
#[derive(Clone, Copy, Debug, Default)]
pub struct SnapshotCost {
    /// Bytes of the file.
    pub bytes: usize,
    /// Serializing the book into memory, µs.
    pub serialize_us: u64,
    /// Writing, `fsync`, `rename`, directory `fsync`, µs.
    pub write_us: u64,
}

/// The snapshot file name for `seq`.
pub fn snapshot_file_name(seq: u64) -> String {
    format!("snapshot-{seq:020}.fms")
}

fn parse_snapshot_name(name: &str) -> Option<u64> {
    let d = name.strip_prefix("snapshot-")?.strip_suffix(".fms")?;
    (d.len() == 20 && d.bytes().all(|b| b.is_ascii_digit()))
        .then(|| d.parse().ok())
        .flatten()
}

/// The snapshots in `dir`, newest (highest sequence) first.
pub fn list_snapshots(dir: &Path) -> Result<Vec<(u64, PathBuf)>, Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::io(format!("cannot read {}: {e}", dir.display())))?;
    let mut out = Vec::new();
    for e in entries.flatten() {
        if let Some(seq) = e.file_name().to_str().and_then(parse_snapshot_name) {
            out.push((seq, e.path()));
        }
    }
    out.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
    Ok(out)
}

/// Builds a snapshot file's bytes book by book (see the module docs for the layout).
pub struct SnapshotBytes {
    b: Vec<u8>,
    books_at: usize,
    books: u32,
}

impl SnapshotBytes {
    /// The header of the snapshot after command `seq`; `capacity` is a size hint.
    pub fn new(seq: u64, chain: Chain, settings: &str, capacity: usize) -> Self {
        let mut b = Vec::with_capacity(64 + settings.len() + capacity);
        b.extend_from_slice(&SNAPSHOT_MAGIC);
        b.extend_from_slice(&seq.to_le_bytes());
        b.extend_from_slice(&chain.0.to_le_bytes());
        b.extend_from_slice(&(settings.len() as u32).to_le_bytes());
        b.extend_from_slice(settings.as_bytes());
        let books_at = b.len();
        b.extend_from_slice(&0u32.to_le_bytes());
        SnapshotBytes {
            b,
            books_at,
            books: 0,
        }
    }

    /// Adds one book's section: its `len` orders as `each` lists them (dump order), each
    /// with its time in force and STP mode, then `levels`, then its pending `stops` in
    /// arrival order, then its resting icebergs' hidden parts in dump order and its resting
    /// pegs in arrival order (`hidden`).
    pub fn book(
        &mut self,
        key: u32,
        len: usize,
        each: impl FnOnce(&mut dyn FnMut(&RestingOrder)),
        levels: &[LevelRecord],
        stops: &[NewOrder],
        hidden: Hidden<'_>,
    ) {
        let b = &mut self.b;
        b.reserve(12 + len * (ORDER_BYTES + 2) + 8 + levels.len() * 33 + 8);
        b.extend_from_slice(&key.to_le_bytes());
        b.extend_from_slice(&order_count_field(len, stops.len(), hidden).to_le_bytes());
        each(&mut |o| {
            b.extend_from_slice(&canonical_order(o));
            b.push(tif_byte(o.tif));
            b.push(stp_byte(o.stp));
        });
        b.extend_from_slice(&(levels.len() as u64).to_le_bytes());
        for l in levels {
            b.push(side_byte(l.side));
            b.extend_from_slice(&l.price.to_le_bytes());
            b.extend_from_slice(&l.qty.to_le_bytes());
            b.extend_from_slice(&l.orders.to_le_bytes());
        }
        if !stops.is_empty() {
            b.extend_from_slice(&(stops.len() as u64).to_le_bytes());
            for o in stops {
                b.extend_from_slice(&canonical_stop(o));
            }
        }
        if !hidden.icebergs.is_empty() {
            b.extend_from_slice(&(hidden.icebergs.len() as u64).to_le_bytes());
            for r in hidden.icebergs {
                b.extend_from_slice(&canonical_iceberg(r));
            }
        }
        if !hidden.pegs.is_empty() {
            b.extend_from_slice(&(hidden.pegs.len() as u64).to_le_bytes());
            for p in hidden.pegs {
                b.extend_from_slice(&canonical_peg(p));
            }
        }
        self.books += 1;
    }

    /// The file's bytes: the book count patched in, the state hash and the CRC appended.
    pub fn finish(mut self, hash: StateHash) -> Vec<u8> {
        self.b[self.books_at..self.books_at + 4].copy_from_slice(&self.books.to_le_bytes());
        self.b.extend_from_slice(&hash.0);
        let crc = crc32c::crc32c(&self.b);
        self.b.extend_from_slice(&crc.to_le_bytes());
        self.b
    }
}

/// A book's pending stops in arrival order (none: no allocation).
pub fn pending_stops_of(book: &impl OrderBook) -> Vec<NewOrder> {
    let mut v = Vec::with_capacity(book.pending_stops());
    book.for_each_pending_stop(&mut |o| v.push(*o));
    v
}

/// Serializes `book` after command `seq` (see the module docs for the layout).
pub fn encode_snapshot(seq: u64, chain: Chain, settings: &str, book: &impl OrderBook) -> Vec<u8> {
    let levels = levels_of(book);
    let mut b = SnapshotBytes::new(
        seq,
        chain,
        settings,
        12 + book.len() * (ORDER_BYTES + 2) + levels.len() * 33,
    );
    b.book(
        0,
        book.len(),
        |f| book.for_each_order(f),
        &levels,
        &pending_stops_of(book),
        Hidden {
            icebergs: &icebergs_of(book),
            pegs: &pegs_of(book),
        },
    );
    b.finish(state_hash(book))
}

/// Writes the snapshot of `book` after command `seq` into `dir` atomically.
pub fn write_snapshot(
    dir: &Path,
    seq: u64,
    chain: Chain,
    settings: &str,
    book: &impl OrderBook,
) -> Result<SnapshotCost, Failure> {
    let t0 = Instant::now();
    let bytes = encode_snapshot(seq, chain, settings, book);
    store_snapshot(dir, seq, &bytes, t0)
}

/// Writes the encoded snapshot `bytes` of `seq` into `dir` atomically, and reports the
/// stop it cost: serializing from `started` (when the engine stopped) to this call, then
/// writing. Both journaled states (single book, instruments) end their snapshots here.
pub(crate) fn store_snapshot(
    dir: &Path,
    seq: u64,
    bytes: &[u8],
    started: Instant,
) -> Result<SnapshotCost, Failure> {
    let encoded = Instant::now();
    write_atomically(dir, &snapshot_file_name(seq), bytes)?;
    Ok(SnapshotCost {
        bytes: bytes.len(),
        serialize_us: (encoded - started).as_micros() as u64,
        write_us: encoded.elapsed().as_micros() as u64,
    })
}

/// A bounds-checked cursor over snapshot bytes.
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len());
        let end = end.ok_or_else(|| format!("ends inside a field at offset {}", self.at))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    fn side(&mut self) -> Result<Side, String> {
        match self.take(1)?[0] {
            0 => Ok(Side::Buy),
            1 => Ok(Side::Sell),
            v => Err(format!("side byte {v} at offset {}", self.at - 1)),
        }
    }
    /// A count of items of `size` bytes each that must fit in what is left.
    fn count(&mut self, size: usize) -> Result<usize, String> {
        let n = self.u64()?;
        self.counted(n, size)
    }
    /// [`Cursor::count`] for a count `n` already read (its 8 bytes just before).
    fn counted(&mut self, n: u64, size: usize) -> Result<usize, String> {
        let left = (self.b.len() - self.at) / size;
        if n > left as u64 {
            return Err(format!(
                "count {n} at offset {} exceeds the file",
                self.at - 8
            ));
        }
        Ok(n as usize)
    }
}

/// Decodes a snapshot file's bytes; the CRC is checked first.
pub fn decode_snapshot(bytes: &[u8]) -> Result<Snapshot, String> {
    if bytes.len() < SNAPSHOT_MAGIC.len() + 4 {
        return Err("too short".into());
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    let want = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if crc32c::crc32c(body) != want {
        return Err(format!("CRC mismatch (checksum at offset {})", body.len()));
    }
    let mut c = Cursor { b: body, at: 0 };
    if c.array::<8>()? != SNAPSHOT_MAGIC {
        return Err("not a version 1 snapshot (magic)".into());
    }
    let seq = c.u64()?;
    let chain = Chain(c.u32()?);
    let n = c.u32()? as usize;
    let settings = std::str::from_utf8(c.take(n)?)
        .map_err(|_| "settings are not UTF-8".to_string())?
        .to_string();
    let n_books = c.u32()?;
    let mut books: Vec<BookSection> = Vec::new();
    for _ in 0..n_books {
        let key = c.u32()?;
        if books.iter().any(|b| b.key == key) {
            return Err(format!("book key {key} twice"));
        }
        let field = c.u64()?;
        let n = c.counted(order_count_of(field), ORDER_BYTES + 2)?;
        let mut orders = Vec::with_capacity(n);
        for _ in 0..n {
            let (side, price, id, account, open_qty) =
                (c.side()?, c.i64()?, c.u64()?, c.u32()?, c.u64()?);
            let tif = match c.take(1)?[0] {
                0 => Tif::Gtc,
                3 => Tif::Post,
                v => return Err(format!("resting order {id} has time in force byte {v}")),
            };
            let stp = match c.take(1)?[0] {
                0 => Stp::None,
                1 => Stp::CancelTaker,
                2 => Stp::CancelMaker,
                3 => Stp::CancelBoth,
                4 => Stp::DecrementCancel,
                v => return Err(format!("resting order {id} has STP byte {v}")),
            };
            orders.push(RestingOrder {
                side,
                price,
                id,
                account,
                open_qty,
                tif,
                stp,
            });
        }
        let n = c.count(33)?;
        let mut levels = Vec::with_capacity(n);
        for _ in 0..n {
            levels.push(LevelRecord {
                side: c.side()?,
                price: c.i64()?,
                qty: u128::from_le_bytes(c.array()?),
                orders: c.u64()?,
            });
        }
        let mut stops = Vec::new();
        if field & STOPS_FOLLOW != 0 {
            let n = c.count(STOP_BYTES)?;
            if n == 0 {
                return Err(format!("book {key} flags pending stops but lists none"));
            }
            stops.reserve(n);
            for _ in 0..n {
                let at = c.at;
                let stop = match Command::decode(c.take(STOP_BYTES)?) {
                    Ok(Command::New(o)) if o.ord_type.trigger().is_some() => o,
                    Ok(other) => {
                        return Err(format!(
                            "pending stop at offset {at} is not a stop: {other:?}"
                        ))
                    }
                    Err(e) => return Err(format!("pending stop at offset {at}: {e}")),
                };
                stops.push(stop);
            }
        }
        let mut icebergs = Vec::new();
        if field & ICEBERGS_FOLLOW != 0 {
            let n = c.count(ICEBERG_BYTES)?;
            if n == 0 {
                return Err(format!("book {key} flags resting icebergs but lists none"));
            }
            icebergs.reserve(n);
            for _ in 0..n {
                icebergs.push(IcebergRecord {
                    id: c.u64()?,
                    display: c.u64()?,
                    reserve: c.u64()?,
                });
            }
        }
        let mut pegs = Vec::new();
        if field & PEGS_FOLLOW != 0 {
            let n = c.count(PEG_BYTES)?;
            if n == 0 {
                return Err(format!("book {key} flags resting pegs but lists none"));
            }
            pegs.reserve(n);
            for _ in 0..n {
                let at = c.at;
                let peg = match Command::decode(c.take(PEG_BYTES)?) {
                    Ok(Command::New(o)) => peg_of_order(&o),
                    Ok(_) => None,
                    Err(e) => return Err(format!("resting peg at offset {at}: {e}")),
                };
                pegs.push(peg.ok_or_else(|| {
                    format!("resting peg at offset {at} is not a GTC midpoint peg")
                })?);
            }
        }
        books.push(BookSection {
            key,
            orders,
            levels,
            stops,
            icebergs,
            pegs,
        });
    }
    let hash = StateHash(c.array()?);
    if c.at != body.len() {
        return Err(format!("{} bytes after the hash", body.len() - c.at));
    }
    Ok(Snapshot {
        seq,
        chain,
        settings,
        books,
        hash,
    })
}

/// Counts events other than the acknowledgement of a re-added order.
struct RestCheck {
    unexpected: Option<Event>,
}

impl Sink<Event> for RestCheck {
    fn event(&mut self, e: Event) {
        if !matches!(e, Event::Ack { .. }) && self.unexpected.is_none() {
            self.unexpected = Some(e);
        }
    }
}

/// How many orders ahead a snapshot's rebuild, and the journal tail's replay, tell the
/// book which id comes ([`NewBook::prefetch_id`]): far enough for the id index's cache
/// miss (most of an insert's time in a large book: `perf` on `recover`, ~87% of
/// `new_order`'s samples on the first bucket load) to overlap the orders in between.
/// Recover of 10 M commands, CPU seconds, medians of 8 alternating runs on the loaded
/// machine: 1.31 without the hints, 1.245 at 16, 1.36 at 8, 1.35 at 32.
pub const PREFETCH_AHEAD: usize = 16;

/// Rebuilds the book a snapshot holds and checks it (see the module docs).
pub fn rebuild<B: NewBook>(snap: &Snapshot, cfg: BookConfig, name: &Path) -> Result<B, Failure> {
    let refuse =
        |what: String| Failure::corrupt(format!("snapshot {} refused: {what}", name.display()));
    let section = match snap.books.as_slice() {
        [one] if one.key == 0 => one,
        _ => {
            return Err(refuse(format!(
                "{} books; a single-book journal's snapshot holds one, key 0",
                snap.books.len()
            )))
        }
    };
    let mut book = B::with_config(cfg);
    book.reserve(section.orders.len());
    let paired = section.paired().map_err(refuse)?;
    for (i, &(o, iceberg)) in paired.iter().enumerate() {
        if let Some(ahead) = section.orders.get(i + PREFETCH_AHEAD) {
            book.prefetch_id(ahead.id);
        }
        let cmd = rest_again(o, iceberg);
        let mut check = RestCheck { unexpected: None };
        book.apply(&cmd, &mut check);
        if let Some(e) = check.unexpected {
            return Err(refuse(format!(
                "order {} did not rest as recorded: {e:?}",
                o.id
            )));
        }
        if let Some(r) = iceberg {
            if !book.restore_iceberg(r.id, r.display, r.reserve) {
                return Err(refuse(format!(
                    "iceberg {} did not come back as recorded (display {}, reserve {})",
                    r.id, r.display, r.reserve
                )));
            }
        }
    }
    let pegs = section.pegs.iter().map(|p| (peg_order(p), "resting peg"));
    let stops = section.stops.iter().map(|o| (*o, "pending stop"));
    for (o, what) in pegs.chain(stops) {
        let mut check = RestCheck { unexpected: None };
        book.apply(&Command::New(o), &mut check);
        if let Some(e) = check.unexpected {
            return Err(refuse(format!(
                "{what} {} did not wait again as recorded: {e:?}",
                o.id
            )));
        }
    }
    if levels_of(&book) != section.levels {
        return Err(refuse(
            "the level aggregates differ from the orders'".into(),
        ));
    }
    let hash = state_hash(&book);
    if hash != snap.hash {
        return Err(refuse(format!(
            "state hash {hash} of its orders is not the recorded {}",
            snap.hash
        )));
    }
    Ok(book)
}

/// Drops every event (a re-applied command whose events nobody reads).
struct NullSink;

impl Sink<Event> for NullSink {
    #[inline]
    fn event(&mut self, _: Event) {}
}

/// Formats events of re-applied commands as event lines.
pub struct LineSink<'a> {
    /// Where the lines go.
    pub buf: &'a mut String,
    /// The command's sequence number.
    pub seq: u64,
}

impl<'a> LineSink<'a> {
    /// A sink for command `seq`.
    pub fn new(buf: &'a mut String, seq: u64) -> Self {
        LineSink { buf, seq }
    }
}

impl Sink<Event> for LineSink<'_> {
    fn event(&mut self, e: Event) {
        let _ = text::write_event(self.buf, self.seq, &e);
    }
}

/// The state a journal's records are applied to: one book ([`SingleBook`], records are
/// `Command`s, codec `cmd1`) or the default book and instruments of a prefixed replay
/// ([`Instruments`], records are [`InstrumentRecord`]s, codec `icm1`; the journal
/// directory holds the instrument table as [`INSTRUMENTS_FILE`]). `replay --journal`,
/// `recover` and `journal verify|dump` are written once over it.
pub trait JournaledState: Sized + Send {
    /// What one record holds.
    type Record: Codec + Copy + PartialEq + Send + 'static;
    /// One input line (`Ok(None)`: blank or comment).
    fn parse(line: &str, line_no: usize) -> Result<Option<Self::Record>, SyntaxError>;
    /// Applies record `seq`, appending its event lines to `buf`.
    fn apply(&mut self, seq: u64, record: &Self::Record, buf: &mut String);
    /// Applies record `seq` without its event text (recovery without `--events`). The
    /// default formats into `scratch` and drops it; a state that can skip the text does.
    fn apply_quiet(&mut self, seq: u64, record: &Self::Record, scratch: &mut String) {
        self.apply(seq, record, scratch);
        scratch.clear();
    }
    /// A hint from recovery, which reads the journal tail a few records ahead of what it
    /// applies: `record` comes in [`PREFETCH_AHEAD`] records ([`NewBook::prefetch_id`]).
    /// No effect on the state; the default does nothing.
    #[inline]
    fn prefetch_far(&self, _record: &Self::Record) {}
    /// The same, half as far ahead ([`NewBook::prefetch_order`]).
    #[inline]
    fn prefetch_near(&self, _record: &Self::Record) {}
    /// The state hash ([`flowmatch_journal::state_hash`]; one section per book).
    fn state_hash(&self) -> StateHash;
    /// The book dump in `replay --book-out`'s format.
    fn book_dump(&self) -> String;
    /// Appends the record as one line of the replay text format.
    fn write_record(out: &mut String, record: &Self::Record);
    /// Writes the snapshot of the state after `seq` into `dir`.
    fn write_snapshot(
        &mut self,
        dir: &Path,
        seq: u64,
        chain: Chain,
        settings: &str,
    ) -> Result<SnapshotCost, Failure>;
    /// Replaces this (fresh) state by the one `snap` (read from `path`) holds, checked.
    fn load_snapshot(&mut self, snap: &Snapshot, path: &Path) -> Result<(), Failure>;
    /// The settings text this state's snapshots record, given the journal's `settings`
    /// file text (an instrument journal adds its table's checksum).
    fn snapshot_settings(&self, settings: &str) -> String {
        settings.to_string()
    }
}

/// One book.
pub struct SingleBook<B> {
    /// The book.
    pub book: B,
    cfg: BookConfig,
}

impl<B: NewBook> SingleBook<B> {
    /// An empty book configured as `cfg`.
    pub fn new(cfg: BookConfig) -> Self {
        SingleBook {
            book: B::with_config(cfg),
            cfg,
        }
    }
}

impl<B: NewBook> JournaledState for SingleBook<B> {
    type Record = Command;

    /// A prefixed line is refused by name: a single-book journal records no symbols.
    fn parse(line: &str, line_no: usize) -> Result<Option<Command>, SyntaxError> {
        if let (Some(sym), _) = split_prefix(line, line_no)? {
            return Err(SyntaxError {
                line: line_no,
                field: "symbol",
                text: sym.to_string(),
                expected: "no prefix: journaling prefixed lines needs --instruments FILE"
                    .to_string(),
            });
        }
        text::parse_command(line, line_no)
    }

    fn apply(&mut self, seq: u64, cmd: &Command, buf: &mut String) {
        self.book.apply(cmd, &mut LineSink::new(buf, seq));
    }

    fn apply_quiet(&mut self, _seq: u64, cmd: &Command, _scratch: &mut String) {
        self.book.apply(cmd, &mut NullSink);
    }

    #[inline]
    fn prefetch_far(&self, cmd: &Command) {
        self.book.prefetch_id(cmd.id());
    }

    #[inline]
    fn prefetch_near(&self, cmd: &Command) {
        if !matches!(cmd, Command::New(_)) {
            self.book.prefetch_order(cmd.id());
        }
    }

    fn state_hash(&self) -> StateHash {
        state_hash(&self.book)
    }

    fn book_dump(&self) -> String {
        text::book_dump(&self.book)
    }

    fn write_record(out: &mut String, cmd: &Command) {
        let _ = text::write_command(out, cmd);
    }

    fn write_snapshot(
        &mut self,
        dir: &Path,
        seq: u64,
        chain: Chain,
        settings: &str,
    ) -> Result<SnapshotCost, Failure> {
        write_snapshot(dir, seq, chain, settings, &self.book)
    }

    fn load_snapshot(&mut self, snap: &Snapshot, path: &Path) -> Result<(), Failure> {
        self.book = rebuild::<B>(snap, self.cfg, path)?;
        Ok(())
    }
}

/// Name of the instrument table in an instrument journal's directory: the bytes of the
/// `--instruments` CSV file the journal was written with (written once, atomically,
/// before the first record). Its presence makes the journal an instrument journal.
pub const INSTRUMENTS_FILE: &str = "instruments.csv";

/// The instrument table text of `dir` (`None`: a single-book journal).
pub fn instrument_table_text(dir: &Path) -> Result<Option<String>, Failure> {
    let path = dir.join(INSTRUMENTS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Failure::corrupt(format!(
            "{}: cannot read: {e}",
            path.display()
        ))),
    }
}

/// Writes `dir/instruments.csv` atomically.
pub fn write_instrument_table(dir: &Path, text: &str) -> Result<(), Failure> {
    write_atomically(dir, INSTRUMENTS_FILE, text.as_bytes())
}

mod instruments;
pub use instruments::{instrument_state, view_icebergs, view_pegs, Instruments};

mod recovery;
pub use recovery::{recover, Recovered, RecoveryTiming};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_strict_parse() {
        let s = Settings::new(
            BookKind::Reference,
            PolicyArg::ProRataTop,
            ReplacePriorityArg::AlwaysRequeue,
            &BookConfig {
                max_order_qty: 77,
                min_price: -5,
                max_price: 9,
                ..BookConfig::default()
            },
        );
        assert_eq!(Settings::parse(&s.to_text()).unwrap(), s);
        assert!(Settings::parse(&(s.to_text() + "book=fast\n")).is_err());
        assert!(Settings::parse(&s.to_text().replace("max-qty=77", "max-qty=0")).is_err());
        assert!(Settings::parse("nonsense").is_err());
    }

    /// A hand-built book: the snapshot round-trips, rebuilds to the same dump, and a
    /// flipped byte anywhere is caught by the CRC (never a panic).
    #[test]
    fn snapshot_round_trip_and_damage() {
        let mut book = FastBook::new(BookConfig::default());
        for line in [
            "N,1,1,B,L,100,5",
            "N,2,2,B,L,100,7,POST,CT",
            "N,3,1,S,L,105,3,GTC,DC",
            "N,4,3,B,L,99,1",
        ] {
            let cmd = text::parse_command(line, 1).unwrap().unwrap();
            book.apply(&cmd, &mut RestCheck { unexpected: None });
        }
        let settings = Settings::new(
            BookKind::Fast,
            PolicyArg::PriceTime,
            ReplacePriorityArg::KeepIfReduced,
            &BookConfig::default(),
        )
        .to_text();
        let bytes = encode_snapshot(4, Chain(7), &settings, &book);
        let snap = decode_snapshot(&bytes).unwrap();
        assert_eq!(snap.seq, 4);
        let modes: Vec<(u64, Tif, Stp)> = snap.books[0]
            .orders
            .iter()
            .map(|o| (o.id, o.tif, o.stp))
            .collect();
        assert_eq!(
            modes,
            vec![
                (1, Tif::Gtc, Stp::None),
                (2, Tif::Post, Stp::CancelTaker),
                (4, Tif::Gtc, Stp::None),
                (3, Tif::Gtc, Stp::DecrementCancel),
            ]
        );
        assert_eq!(
            snap.books[0].levels,
            vec![
                LevelRecord {
                    side: Side::Buy,
                    price: 100,
                    qty: 12,
                    orders: 2
                },
                LevelRecord {
                    side: Side::Buy,
                    price: 99,
                    qty: 1,
                    orders: 1
                },
                LevelRecord {
                    side: Side::Sell,
                    price: 105,
                    qty: 3,
                    orders: 1
                },
            ]
        );
        let rebuilt: ReferenceBook = rebuild(&snap, BookConfig::default(), Path::new("t")).unwrap();
        assert_eq!(
            text::book_dump(&rebuilt),
            "B,100,1,5\nB,100,2,7\nB,99,4,1\nS,105,3,3\n"
        );
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            assert!(decode_snapshot(&bad).is_err(), "byte {i}");
        }
        for n in 0..bytes.len() {
            assert!(decode_snapshot(&bytes[..n]).is_err());
        }
    }
}
