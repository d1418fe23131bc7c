//! The state hash: SHA-256 of a defined canonical form of the resting orders, computed
//! through the [`OrderBook`] trait alone, so two independent books (and any other tool
//! that can list a book's orders) agree on it exactly when they hold the same state.
//!
//! # Canonical form, version 1
//! A byte stream, all integers little-endian and fixed width:
//! 1. the 8 ASCII bytes `FMSTATE1`;
//! 2. for each book, in the order the caller adds them (a single book: one section with
//!    key 0), a section:
//!    - `key` (u32): the book's key (an instrument id, say);
//!    - `orders` (u64): the number of resting orders in the section, with bit 63
//!      ([`STOPS_FOLLOW`]) set when stops are pending in the book (a count never reaches
//!      2^63, so the bit is free);
//!    - each resting order, bids first from the best (highest) price to the worst, each
//!      price level in time priority, then asks from the best (lowest) price likewise; per
//!      order 29 bytes: `side` (u8: 0 Buy, 1 Sell), `price` (i64), `id` (u64), `account`
//!      (u32), `open_qty` (u64);
//!    - only when bit 63 of `orders` is set: `stops` (u64, at least 1), the number of
//!      pending stops and stop-limits (`docs/SEMANTICS.md`, "Stop orders"), then each in
//!      arrival order as the 42 bytes of its `Command::New` journal payload (codec tag 4,
//!      [`crate::codec`]: id, account, side, type, time in force, STP mode, limit price,
//!      quantity, trigger), [`STOP_BYTES`];
//!    - only when bit 62 of `orders` ([`ICEBERGS_FOLLOW`]) is set: `icebergs` (u64, at
//!      least 1), the number of resting icebergs (`docs/SEMANTICS.md`, "Iceberg orders"),
//!      then each in dump order (the orders' order above) as 24 bytes: `id` (u64),
//!      `display` (u64), `reserve` (u64), [`ICEBERG_BYTES`]. Their shown part is in the
//!      order list like any order's; this is the hidden part, which no query shows.
//!    - only when bit 61 of `orders` ([`PEGS_FOLLOW`]) is set: `pegs` (u64, at least 1),
//!      the number of resting midpoint pegs (`docs/SEMANTICS.md`, "Midpoint peg orders"),
//!      then each in arrival order, both sides together ([`OrderBook::for_each_peg`]: which
//!      of two crossing pegs arrived later decides the taker, so this order is state), as
//!      the 34 bytes of the `Command::New` journal payload (codec tag 1, `ord_type` 6) of a
//!      GTC peg with its id, account, side, STP mode, cap as price and open quantity as
//!      quantity, [`PEG_BYTES`]. `orders` does not count them.
//!
//! A book with no pending stop, no iceberg and no peg (every book before them existed) has
//! exactly the stream it had before: bits 63, 62 and 61 clear and nothing after its
//! orders, so every hash recorded before them still holds.
//! The hash is SHA-256 of that stream: `printf 'FMSTATE1...' | sha256sum` reproduces it.
//! Printed as 64 lowercase hex digits. Level aggregates are not part of the form (they
//! follow from the orders; a snapshot loader recomputes and checks them).

use flowmatch_core::{
    Command, NewOrder, OrdType, OrderBook, OrderId, Qty, RestingOrder, RestingPeg, Side, Tif,
};
use sha2::{Digest, Sha256};
use std::fmt;

/// The 32-byte state digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateHash(pub [u8; 32]);

impl StateHash {
    /// The first 8 bytes as a little-endian u64, for a compact line in a report.
    pub fn short(&self) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&self.0[..8]);
        u64::from_le_bytes(a)
    }
}

impl fmt::Display for StateHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for StateHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateHash({self})")
    }
}

/// Magic and version at the start of the canonical stream.
pub const STATE_MAGIC: [u8; 8] = *b"FMSTATE1";
/// Bytes of one order in the canonical form.
pub const ORDER_BYTES: usize = 29;

/// Set in a section's order count when a stop list follows its orders.
pub const STOPS_FOLLOW: u64 = 1 << 63;
/// Bytes of one pending stop in the canonical form: its journal payload (codec tag 4).
pub const STOP_BYTES: usize = crate::codec::NEW_PARAM_LEN;

/// The canonical bytes of one pending stop or stop-limit: its `Command::New` payload,
/// written by the journal's own codec (one layout serves the journal, the snapshot and
/// the hash). Takes stop types only.
pub fn canonical_stop(o: &NewOrder) -> [u8; STOP_BYTES] {
    debug_assert!(o.ord_type.trigger().is_some(), "a pending stop");
    let mut b = [0u8; STOP_BYTES];
    let n = crate::Codec::encode(&Command::New(*o), &mut b);
    debug_assert_eq!(n, STOP_BYTES);
    b
}

/// Set in a section's order count when a midpoint-peg list follows its icebergs.
pub const PEGS_FOLLOW: u64 = 1 << 61;
/// Bytes of one resting peg in the canonical form: a tag-1 `Command::New` payload.
pub const PEG_BYTES: usize = crate::codec::NEW_LEN;

/// The order that rests `p` again as it is: a GTC peg of its open quantity with its cap
/// and STP mode. Its payload is the canonical form (and the snapshot's record) of `p`, and
/// a snapshot's loader re-adds it as this order, so one mapping serves both.
pub fn peg_order(p: &RestingPeg) -> NewOrder {
    NewOrder {
        id: p.id,
        account: p.account,
        side: p.side,
        ord_type: OrdType::MidPeg,
        price: p.cap,
        qty: p.open_qty,
        tif: Tif::Gtc,
        stp: p.stp,
    }
}

/// The resting peg a [`peg_order`] describes, if `o` is one (a GTC peg): what a snapshot's
/// decoder makes of a recorded peg's payload. `None` for any other order.
pub fn peg_of_order(o: &NewOrder) -> Option<RestingPeg> {
    (o.ord_type == OrdType::MidPeg && o.tif == Tif::Gtc).then_some(RestingPeg {
        side: o.side,
        id: o.id,
        account: o.account,
        open_qty: o.qty,
        cap: o.price,
        stp: o.stp,
    })
}

/// The canonical bytes of one resting midpoint peg: the journal payload of its
/// [`peg_order`] (one layout serves the journal, the snapshot and the hash).
pub fn canonical_peg(p: &RestingPeg) -> [u8; PEG_BYTES] {
    let mut b = [0u8; PEG_BYTES];
    let n = crate::Codec::encode(&Command::New(peg_order(p)), &mut b);
    debug_assert_eq!(n, PEG_BYTES);
    b
}

/// A book's resting pegs in arrival order (none: no allocation).
pub fn pegs_of(book: &impl OrderBook) -> Vec<RestingPeg> {
    collect_pegs(book.pegs(), |f| book.for_each_peg(f))
}

/// The `len` pegs `each` lists (in arrival order, as [`OrderBook::for_each_peg`] does),
/// for a book held in some other form (a multi-book's view of one instrument). None: no
/// allocation.
pub fn collect_pegs(len: usize, each: impl FnOnce(&mut dyn FnMut(&RestingPeg))) -> Vec<RestingPeg> {
    let mut v = Vec::with_capacity(len);
    each(&mut |p| v.push(*p));
    v
}

/// What a section holds besides its orders and pending stops, which no order walk shows:
/// its resting icebergs' hidden parts in dump order and its resting pegs in arrival order.
/// One value for the hash's and the snapshot's writers, so a third kind adds a field here.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hidden<'a> {
    /// Resting icebergs' hidden parts, in dump order.
    pub icebergs: &'a [IcebergRecord],
    /// Resting midpoint pegs, in arrival order.
    pub pegs: &'a [RestingPeg],
}

/// Set in a section's order count when an iceberg list follows its stops.
pub const ICEBERGS_FOLLOW: u64 = 1 << 62;
/// Bytes of one iceberg's hidden part in the canonical form.
pub const ICEBERG_BYTES: usize = 24;

/// The hidden part of one resting iceberg ([`OrderBook::for_each_iceberg`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcebergRecord {
    /// The resting order's id.
    pub id: OrderId,
    /// Most units it shows at once.
    pub display: Qty,
    /// Units hidden behind its shown part.
    pub reserve: Qty,
}

/// The 24 canonical bytes of one iceberg's hidden part.
pub fn canonical_iceberg(r: &IcebergRecord) -> [u8; ICEBERG_BYTES] {
    let mut b = [0u8; ICEBERG_BYTES];
    b[0..8].copy_from_slice(&r.id.to_le_bytes());
    b[8..16].copy_from_slice(&r.display.to_le_bytes());
    b[16..24].copy_from_slice(&r.reserve.to_le_bytes());
    b
}

/// A book's resting icebergs in dump order (none: no allocation).
pub fn icebergs_of(book: &impl OrderBook) -> Vec<IcebergRecord> {
    collect_icebergs(book.icebergs(), |f| book.for_each_iceberg(f))
}

/// The `len` icebergs `each` lists (`(id, display, reserve)`, as
/// [`OrderBook::for_each_iceberg`] does), as records, for a book held in some other form
/// (a multi-book's view of one instrument). None: no allocation.
pub fn collect_icebergs(
    len: usize,
    each: impl FnOnce(&mut dyn FnMut(OrderId, Qty, Qty)),
) -> Vec<IcebergRecord> {
    let mut v = Vec::with_capacity(len);
    each(&mut |id, display, reserve| {
        v.push(IcebergRecord {
            id,
            display,
            reserve,
        })
    });
    v
}

/// A section's order count as the canonical form writes it: [`STOPS_FOLLOW`] set when
/// `stops` are pending, [`ICEBERGS_FOLLOW`] when icebergs rest, [`PEGS_FOLLOW`] when pegs
/// rest.
pub fn order_count_field(orders: usize, stops: usize, hidden: Hidden<'_>) -> u64 {
    orders as u64
        | if stops > 0 { STOPS_FOLLOW } else { 0 }
        | if hidden.icebergs.is_empty() {
            0
        } else {
            ICEBERGS_FOLLOW
        }
        | if hidden.pegs.is_empty() {
            0
        } else {
            PEGS_FOLLOW
        }
}

/// The order count of a section's `field`, its three flags cleared.
pub fn order_count_of(field: u64) -> u64 {
    field & !(STOPS_FOLLOW | ICEBERGS_FOLLOW | PEGS_FOLLOW)
}

/// Builds the canonical stream of one or more books and hashes it.
pub struct StateHasher {
    sha: Sha256,
}

impl Default for StateHasher {
    fn default() -> Self {
        Self::new()
    }
}

/// The 29 canonical bytes of one resting order.
pub fn canonical_order(o: &RestingOrder) -> [u8; ORDER_BYTES] {
    let mut b = [0u8; ORDER_BYTES];
    b[0] = match o.side {
        Side::Buy => 0,
        Side::Sell => 1,
    };
    b[1..9].copy_from_slice(&o.price.to_le_bytes());
    b[9..17].copy_from_slice(&o.id.to_le_bytes());
    b[17..21].copy_from_slice(&o.account.to_le_bytes());
    b[21..29].copy_from_slice(&o.open_qty.to_le_bytes());
    b
}

/// Orders' canonical bytes gathered into one buffer and hashed a buffer at a time: the
/// same stream as one `update` per order, without the hasher's per-call bookkeeping on
/// every 29 bytes (`perf` on `recover` of 10 M commands: the hash's own time, besides the
/// SHA-256 blocks, was the larger part).
struct Batch<'a> {
    sha: &'a mut Sha256,
    buf: [u8; ORDER_BYTES * Batch::ORDERS],
    len: usize,
}

impl<'a> Batch<'a> {
    const ORDERS: usize = 128;

    fn new(sha: &'a mut Sha256) -> Self {
        Batch {
            sha,
            buf: [0; ORDER_BYTES * Batch::ORDERS],
            len: 0,
        }
    }

    #[inline]
    fn push(&mut self, o: &flowmatch_core::RestingOrder) {
        if self.len == self.buf.len() {
            self.flush();
        }
        self.buf[self.len..self.len + ORDER_BYTES].copy_from_slice(&canonical_order(o));
        self.len += ORDER_BYTES;
    }

    fn flush(&mut self) {
        self.sha.update(&self.buf[..self.len]);
        self.len = 0;
    }
}

impl StateHasher {
    /// A stream holding only the magic.
    pub fn new() -> Self {
        let mut sha = Sha256::new();
        sha.update(STATE_MAGIC);
        StateHasher { sha }
    }

    /// Adds a section for `book` under `key`.
    pub fn add_book(&mut self, key: u32, book: &impl OrderBook) -> &mut Self {
        self.sha.update(key.to_le_bytes());
        let stops = book.pending_stops();
        let (icebergs, pegs) = (icebergs_of(book), pegs_of(book));
        let hidden = Hidden {
            icebergs: &icebergs,
            pegs: &pegs,
        };
        self.sha
            .update(order_count_field(book.len(), stops, hidden).to_le_bytes());
        let mut batch = Batch::new(&mut self.sha);
        for side in [Side::Buy, Side::Sell] {
            book.for_each_order_of(side, &mut |o| {
                batch.push(o);
                true
            });
        }
        batch.flush();
        self.add_stops(stops, |f| book.for_each_pending_stop(f))
            .add_hidden(hidden)
    }

    /// The iceberg list, then the peg list, closing a section whose order count carried
    /// [`ICEBERGS_FOLLOW`] and [`PEGS_FOLLOW`] as `hidden` has them: nothing for an empty
    /// list.
    fn add_hidden(&mut self, hidden: Hidden<'_>) -> &mut Self {
        if !hidden.icebergs.is_empty() {
            self.sha
                .update((hidden.icebergs.len() as u64).to_le_bytes());
            for r in hidden.icebergs {
                self.sha.update(canonical_iceberg(r));
            }
        }
        if !hidden.pegs.is_empty() {
            self.sha.update((hidden.pegs.len() as u64).to_le_bytes());
            for p in hidden.pegs {
                self.sha.update(canonical_peg(p));
            }
        }
        self
    }

    /// The stop list closing a section whose order count carried [`STOPS_FOLLOW`]:
    /// nothing when `stops` is 0.
    fn add_stops(
        &mut self,
        stops: usize,
        each: impl FnOnce(&mut dyn FnMut(&NewOrder)),
    ) -> &mut Self {
        if stops > 0 {
            self.sha.update((stops as u64).to_le_bytes());
            each(&mut |o| self.sha.update(canonical_stop(o)));
        }
        self
    }

    /// The same section as [`StateHasher::add_book`] for a book given as its `len`
    /// resting orders in dump order (bids best first, then asks best first, time
    /// priority within a price: [`OrderBook::for_each_order`]'s order), for a book held
    /// in some other form (a multi-book's cold record).
    pub fn add_orders(
        &mut self,
        key: u32,
        len: usize,
        each: impl FnOnce(&mut dyn FnMut(&flowmatch_core::RestingOrder)),
    ) -> &mut Self {
        self.add_section(key, len, each, 0, |_| {}, Hidden::default())
    }

    /// [`StateHasher::add_orders`] with the book's `stops` pending stops as `each_stop`
    /// lists them (arrival order, [`OrderBook::for_each_pending_stop`]'s order), its
    /// resting icebergs in dump order and its resting pegs in arrival order (`hidden`):
    /// the section [`StateHasher::add_book`] gives the same book.
    pub fn add_section(
        &mut self,
        key: u32,
        len: usize,
        each: impl FnOnce(&mut dyn FnMut(&flowmatch_core::RestingOrder)),
        stops: usize,
        each_stop: impl FnOnce(&mut dyn FnMut(&NewOrder)),
        hidden: Hidden<'_>,
    ) -> &mut Self {
        self.sha.update(key.to_le_bytes());
        self.sha
            .update(order_count_field(len, stops, hidden).to_le_bytes());
        let mut batch = Batch::new(&mut self.sha);
        each(&mut |o| batch.push(o));
        batch.flush();
        self.add_stops(stops, each_stop).add_hidden(hidden)
    }

    /// The digest of everything added.
    pub fn finish(self) -> StateHash {
        StateHash(self.sha.finalize().into())
    }
}

/// The state hash of one book (one section, key 0).
pub fn state_hash(book: &impl OrderBook) -> StateHash {
    let mut h = StateHasher::new();
    h.add_book(0, book);
    h.finish()
}
