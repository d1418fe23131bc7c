//! Record payloads: the [`Codec`] trait that turns one journaled value into bytes and
//! back, and its implementation for [`flowmatch_core::Command`].
//!
//! The framing (length, CRC, sequence number, segments) knows nothing of what it carries;
//! a payload type says how it is written, how long it can be, and which four-byte codec
//! id every segment header records, so a reader refuses a journal written with another
//! payload format instead of misreading it.
//!
//! # Byte layout of a `Command` payload (codec id `b"cmd1"`)
//!
//! Every field is fixed width and little-endian; each variant has its own fixed length,
//! told apart by the tag in byte 0 (0 is never a tag, so a zero-filled region never
//! decodes). Enumerations are one byte, numbered in declaration order.
//!
//! | variant | offset | width | field |
//! | --- | --- | --- | --- |
//! | all | 0 | 1 | tag: 1 = New, 2 = Cancel, 3 = Replace, 4 = New with a parameter |
//! | New (34 bytes) | 1 | 8 | `id` (u64) |
//! | | 9 | 4 | `account` (u32) |
//! | | 13 | 1 | `side`: 0 Buy, 1 Sell |
//! | | 14 | 1 | `ord_type`: 0 Limit, 1 Market, 6 MidPeg (3-5 are tag 4's: one numbering serves both tags) |
//! | | 15 | 1 | `tif`: 0 Gtc, 1 Ioc, 2 Fok, 3 Post |
//! | | 16 | 1 | `stp`: 0 None, 1 CancelTaker, 2 CancelMaker, 3 CancelBoth, 4 DecrementCancel |
//! | | 17 | 1 | price present: 0 (`None`) or 1 (`Some`) |
//! | | 18 | 8 | `price` (i64; 0 when absent) |
//! | | 26 | 8 | `qty` (u64) |
//! | New with a parameter (42 bytes) | 1 | 33 | as New, `ord_type` 3 Stop, 4 StopLimit, 5 Iceberg |
//! | | 34 | 8 | the parameter: a stop's `trigger` (i64), an iceberg's `display` (u64) |
//! | Cancel (9 bytes) | 1 | 8 | `id` (u64) |
//! | Replace (25 bytes) | 1 | 8 | `id` (u64) |
//! | | 9 | 8 | `price` (i64) |
//! | | 17 | 8 | `qty` (u64) |
//!
//! The journal records what came in, not what is valid: a limit order without a price or
//! a market order with one (both rejected by the book) round-trip like any other. Decoding
//! is strict: a wrong length for the tag, an unknown enum value, a presence byte other
//! than 0/1 or a non-zero absent price is an error, never a guess.

use flowmatch_core::instrument::spec::SYMBOL_MAX;
use flowmatch_core::{Command, NewOrder, OrdType, Side, Stp, Symbol, Tif};
use std::fmt;

/// Why a payload did not decode. The CRC already matched, so this means the payload was
/// written by another codec or another version of this one (or by a bug).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The payload is empty.
    Empty,
    /// Byte 0 names no variant.
    UnknownTag(u8),
    /// The payload's length is not the one its tag defines.
    BadLength {
        /// The tag.
        tag: u8,
        /// Bytes present.
        len: usize,
        /// Bytes the tag's layout has.
        expected: usize,
    },
    /// A one-byte enumeration or flag holds a value outside its range.
    BadField {
        /// The field's name.
        field: &'static str,
        /// The byte found.
        value: u8,
    },
    /// The price-present flag is 0 but the price bytes are not zero.
    AbsentPriceNotZero,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Empty => write!(f, "empty payload"),
            DecodeError::UnknownTag(t) => write!(f, "unknown command tag {t}"),
            DecodeError::BadLength { tag, len, expected } => {
                write!(
                    f,
                    "command tag {tag} has {len} payload bytes, its layout has {expected}"
                )
            }
            DecodeError::BadField { field, value } => {
                write!(f, "field {field} holds {value}, outside its range")
            }
            DecodeError::AbsentPriceNotZero => {
                write!(f, "price flagged absent but its bytes are not zero")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// How a journaled value is written as a record payload.
///
/// Implementations must be deterministic (equal values, equal bytes) and must round-trip:
/// `decode(encode(v)) == v` for every value. Composite payloads (an instrument id and a
/// command, say) are built by writing their parts one after the other with the parts'
/// own codecs; they then need their own [`Codec::ID`].
pub trait Codec: Sized {
    /// Four bytes naming the payload format and its version; recorded in every segment
    /// header and checked on read.
    const ID: [u8; 4];
    /// Fewest payload bytes a value encodes to (at least 1).
    const MIN_LEN: usize;
    /// Most payload bytes a value encodes to; the framing refuses longer records as
    /// corruption, so a damaged length field never makes a reader skip ahead.
    const MAX_LEN: usize;

    /// Writes the value at the start of `out` (at least [`Codec::MAX_LEN`] bytes long) and
    /// returns how many bytes it wrote, between `MIN_LEN` and `MAX_LEN`.
    fn encode(&self, out: &mut [u8]) -> usize;

    /// Reads a value from exactly the bytes of one payload.
    fn decode(payload: &[u8]) -> Result<Self, DecodeError>;
}

const TAG_NEW: u8 = 1;
const TAG_CANCEL: u8 = 2;
const TAG_REPLACE: u8 = 3;
const TAG_NEW_PARAM: u8 = 4;
/// Payload length of a `Command::New`.
pub const NEW_LEN: usize = 34;
/// Payload length of a `Command::New` whose order type carries a parameter (a stop's
/// trigger): the New layout and 8 bytes.
pub const NEW_PARAM_LEN: usize = NEW_LEN + 8;
/// Payload length of a `Command::Cancel`.
pub const CANCEL_LEN: usize = 9;
/// Payload length of a `Command::Replace`.
pub const REPLACE_LEN: usize = 25;

fn put_u64(out: &mut [u8], at: usize, v: u64) {
    out[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn get_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// The journal's byte for a side (the layout table above); snapshots use it too.
pub fn side_byte(s: Side) -> u8 {
    match s {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

fn ord_type_byte(t: OrdType) -> u8 {
    match t {
        OrdType::Limit => 0,
        OrdType::Market => 1,
        OrdType::Stop { .. } => 3,
        OrdType::StopLimit { .. } => 4,
        OrdType::Iceberg { .. } => 5,
        // A peg has no parameter (its cap is the price field): a plain tag-1 New.
        OrdType::MidPeg => 6,
    }
}

/// The journal's byte for a time in force (the layout table above).
pub fn tif_byte(t: Tif) -> u8 {
    match t {
        Tif::Gtc => 0,
        Tif::Ioc => 1,
        Tif::Fok => 2,
        Tif::Post => 3,
    }
}

/// The journal's byte for an STP mode (the layout table above).
pub fn stp_byte(s: Stp) -> u8 {
    match s {
        Stp::None => 0,
        Stp::CancelTaker => 1,
        Stp::CancelMaker => 2,
        Stp::CancelBoth => 3,
        Stp::DecrementCancel => 4,
    }
}

fn bad(field: &'static str, value: u8) -> DecodeError {
    DecodeError::BadField { field, value }
}

fn side_of(b: u8) -> Result<Side, DecodeError> {
    match b {
        0 => Ok(Side::Buy),
        1 => Ok(Side::Sell),
        v => Err(bad("side", v)),
    }
}

fn ord_type_of(b: u8) -> Result<OrdType, DecodeError> {
    match b {
        0 => Ok(OrdType::Limit),
        1 => Ok(OrdType::Market),
        6 => Ok(OrdType::MidPeg),
        v => Err(bad("ord_type", v)),
    }
}

/// The order types of tag 4, each with its 8-byte parameter.
fn param_ord_type_of(b: u8, param: u64) -> Result<OrdType, DecodeError> {
    match b {
        3 => Ok(OrdType::Stop {
            trigger: param as i64,
        }),
        4 => Ok(OrdType::StopLimit {
            trigger: param as i64,
        }),
        5 => Ok(OrdType::Iceberg { display: param }),
        v => Err(bad("ord_type", v)),
    }
}

fn tif_of(b: u8) -> Result<Tif, DecodeError> {
    match b {
        0 => Ok(Tif::Gtc),
        1 => Ok(Tif::Ioc),
        2 => Ok(Tif::Fok),
        3 => Ok(Tif::Post),
        v => Err(bad("tif", v)),
    }
}

fn stp_of(b: u8) -> Result<Stp, DecodeError> {
    match b {
        0 => Ok(Stp::None),
        1 => Ok(Stp::CancelTaker),
        2 => Ok(Stp::CancelMaker),
        3 => Ok(Stp::CancelBoth),
        4 => Ok(Stp::DecrementCancel),
        v => Err(bad("stp", v)),
    }
}

impl Codec for Command {
    const ID: [u8; 4] = *b"cmd1";
    const MIN_LEN: usize = CANCEL_LEN;
    const MAX_LEN: usize = NEW_PARAM_LEN;

    fn encode(&self, out: &mut [u8]) -> usize {
        match *self {
            Command::New(o) => {
                out[0] = TAG_NEW;
                put_u64(out, 1, o.id);
                out[9..13].copy_from_slice(&o.account.to_le_bytes());
                out[13] = side_byte(o.side);
                out[14] = ord_type_byte(o.ord_type);
                out[15] = tif_byte(o.tif);
                out[16] = stp_byte(o.stp);
                out[17] = u8::from(o.price.is_some());
                put_u64(out, 18, o.price.unwrap_or(0) as u64);
                put_u64(out, 26, o.qty);
                let param = match o.ord_type {
                    OrdType::Stop { trigger } | OrdType::StopLimit { trigger } => {
                        Some(trigger as u64)
                    }
                    OrdType::Iceberg { display } => Some(display),
                    OrdType::Limit | OrdType::Market | OrdType::MidPeg => None,
                };
                match param {
                    Some(param) => {
                        out[0] = TAG_NEW_PARAM;
                        put_u64(out, NEW_LEN, param);
                        NEW_PARAM_LEN
                    }
                    None => NEW_LEN,
                }
            }
            Command::Cancel { id } => {
                out[0] = TAG_CANCEL;
                put_u64(out, 1, id);
                CANCEL_LEN
            }
            Command::Replace { id, price, qty } => {
                out[0] = TAG_REPLACE;
                put_u64(out, 1, id);
                put_u64(out, 9, price as u64);
                put_u64(out, 17, qty);
                REPLACE_LEN
            }
        }
    }

    fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let tag = *b.first().ok_or(DecodeError::Empty)?;
        let expected = match tag {
            TAG_NEW => NEW_LEN,
            TAG_NEW_PARAM => NEW_PARAM_LEN,
            TAG_CANCEL => CANCEL_LEN,
            TAG_REPLACE => REPLACE_LEN,
            t => return Err(DecodeError::UnknownTag(t)),
        };
        if b.len() != expected {
            return Err(DecodeError::BadLength {
                tag,
                len: b.len(),
                expected,
            });
        }
        Ok(match tag {
            TAG_NEW | TAG_NEW_PARAM => {
                let price_bits = get_u64(b, 18);
                let price = match b[17] {
                    0 if price_bits == 0 => None,
                    0 => return Err(DecodeError::AbsentPriceNotZero),
                    1 => Some(price_bits as i64),
                    v => return Err(bad("price_present", v)),
                };
                let mut account = [0u8; 4];
                account.copy_from_slice(&b[9..13]);
                Command::New(NewOrder {
                    id: get_u64(b, 1),
                    account: u32::from_le_bytes(account),
                    side: side_of(b[13])?,
                    ord_type: if tag == TAG_NEW {
                        ord_type_of(b[14])?
                    } else {
                        param_ord_type_of(b[14], get_u64(b, NEW_LEN))?
                    },
                    tif: tif_of(b[15])?,
                    stp: stp_of(b[16])?,
                    price,
                    qty: get_u64(b, 26),
                })
            }
            TAG_CANCEL => Command::Cancel { id: get_u64(b, 1) },
            _ => Command::Replace {
                id: get_u64(b, 1),
                price: get_u64(b, 9) as i64,
                qty: get_u64(b, 17),
            },
        })
    }
}

/// A command and the instrument it is for, as an instrument journal records it (codec id
/// `b"icm1"`): the symbol of the line's `SYM:` prefix (`None`: the default instrument, an
/// unprefixed line), then the command.
///
/// # Byte layout
/// | offset | width | field |
/// | --- | --- | --- |
/// | 0 | 1 | `n`: symbol length, 0 (no prefix) to 16 |
/// | 1 | `n` | the symbol's ASCII bytes (`A-Z a-z 0-9 . _ -`) |
/// | 1 + `n` | 9 to 42 | the command, exactly as codec `cmd1` writes it |
///
/// The symbol is written, not an instrument id: a journal replayed without a table makes
/// instruments on first sight, and a symbol outside the table is a command too (answered
/// `UNKNOWN_INSTRUMENT`); re-applying the records in order gives every instrument the id
/// it had. Decoding refuses a length above 16, a symbol byte outside its alphabet, and a
/// command that `cmd1` refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstrumentRecord {
    /// The line's prefix, if any.
    pub symbol: Option<Symbol>,
    /// The command.
    pub cmd: Command,
}

impl Codec for InstrumentRecord {
    const ID: [u8; 4] = *b"icm1";
    const MIN_LEN: usize = 1 + CANCEL_LEN;
    const MAX_LEN: usize = 1 + SYMBOL_MAX + NEW_PARAM_LEN;

    fn encode(&self, out: &mut [u8]) -> usize {
        let sym = self
            .symbol
            .as_ref()
            .map_or(&[][..], |s| s.as_str().as_bytes());
        out[0] = sym.len() as u8;
        out[1..1 + sym.len()].copy_from_slice(sym);
        1 + sym.len() + self.cmd.encode(&mut out[1 + sym.len()..])
    }

    fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let n = *b.first().ok_or(DecodeError::Empty)? as usize;
        if n > SYMBOL_MAX || b.len() < 1 + n {
            return Err(bad("symbol_len", n as u8));
        }
        let symbol = match n {
            0 => None,
            _ => {
                let raw = &b[1..1 + n];
                let bad_byte = raw.iter().find(|&&c| !Symbol::is_symbol_byte(c));
                if let Some(&c) = bad_byte {
                    return Err(bad("symbol", c));
                }
                let text = std::str::from_utf8(raw).map_err(|_| bad("symbol", raw[0]))?;
                Some(Symbol::new(text).map_err(|_| bad("symbol", raw[0]))?)
            }
        };
        Ok(InstrumentRecord {
            symbol,
            cmd: Command::decode(&b[1 + n..])?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(c: Command) -> usize {
        let mut buf = [0xAAu8; Command::MAX_LEN];
        let n = c.encode(&mut buf);
        assert!((Command::MIN_LEN..=Command::MAX_LEN).contains(&n));
        assert_eq!(Command::decode(&buf[..n]), Ok(c), "{c:?}");
        n
    }

    const SIDES: [Side; 2] = [Side::Buy, Side::Sell];
    const TYPES: [OrdType; 3] = [OrdType::Limit, OrdType::Market, OrdType::MidPeg];
    const TIFS: [Tif; 4] = [Tif::Gtc, Tif::Ioc, Tif::Fok, Tif::Post];
    const STPS: [Stp; 5] = [
        Stp::None,
        Stp::CancelTaker,
        Stp::CancelMaker,
        Stp::CancelBoth,
        Stp::DecrementCancel,
    ];

    #[test]
    fn every_variant_and_every_extreme_round_trips() {
        let ids = [0, 1, u64::MAX];
        let accounts = [0, 1, u32::MAX];
        let prices = [
            None,
            Some(i64::MIN),
            Some(-1),
            Some(0),
            Some(1),
            Some(i64::MAX),
        ];
        let qtys = [0, 1, u64::MAX];
        let mut news = 0;
        for &id in &ids {
            for &account in &accounts {
                for side in SIDES {
                    for ord_type in TYPES {
                        for tif in TIFS {
                            for stp in STPS {
                                for price in prices {
                                    for &qty in &qtys {
                                        let o = NewOrder {
                                            id,
                                            account,
                                            side,
                                            ord_type,
                                            price,
                                            qty,
                                            tif,
                                            stp,
                                        };
                                        assert_eq!(round_trip(Command::New(o)), NEW_LEN);
                                        news += 1;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(news, 3 * 3 * 2 * 3 * 4 * 5 * 6 * 3);
        for &id in &ids {
            assert_eq!(round_trip(Command::Cancel { id }), CANCEL_LEN);
            for price in [i64::MIN, -1, 0, 1, i64::MAX] {
                for &qty in &qtys {
                    assert_eq!(round_trip(Command::Replace { id, price, qty }), REPLACE_LEN);
                }
            }
        }
    }

    /// An iceberg is tag 4 with `ord_type` 5 and its display as the parameter, written by
    /// hand from the table; every extreme round-trips in 42 bytes; a tag-1 record whose
    /// `ord_type` byte is 5 is refused (tag 1 holds limit, market and peg orders only), and
    /// a tag-4 record whose `ord_type` is 6 (a peg, which has no parameter) likewise.
    #[test]
    fn iceberg_layout_round_trip_and_refusals() {
        let o = NewOrder {
            ord_type: OrdType::Iceberg { display: 3 },
            ..NewOrder::limit(0x0102, 7, Side::Buy, 10, 9)
        };
        let mut want = vec![4u8, 2, 1, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 5, 0, 0, 1];
        want.extend_from_slice(&[10, 0, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(&[9, 0, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0]);
        let mut buf = [0u8; Command::MAX_LEN];
        let n = Command::New(o).encode(&mut buf);
        assert_eq!(&buf[..n], &want[..]);
        assert_eq!(Command::decode(&want), Ok(Command::New(o)));
        for display in [0, 1, u64::MAX] {
            for price in [None, Some(i64::MIN), Some(i64::MAX)] {
                let o = NewOrder {
                    ord_type: OrdType::Iceberg { display },
                    price,
                    ..NewOrder::limit(u64::MAX, u32::MAX, Side::Sell, 0, u64::MAX)
                };
                assert_eq!(round_trip(Command::New(o)), NEW_PARAM_LEN);
            }
        }
        let mut b = want[..NEW_LEN].to_vec();
        b[0] = 1;
        assert_eq!(
            Command::decode(&b),
            Err(DecodeError::BadField {
                field: "ord_type",
                value: 5
            })
        );
        let mut b = want.clone();
        b[14] = 6;
        assert_eq!(
            Command::decode(&b),
            Err(DecodeError::BadField {
                field: "ord_type",
                value: 6
            })
        );
    }

    /// A midpoint peg is a plain tag-1 New with `ord_type` 6, written by hand from the
    /// table; here without a cap (presence 0, price bytes 0), then with one.
    #[test]
    fn midpoint_peg_layout_round_trip() {
        let peg = NewOrder {
            ord_type: OrdType::MidPeg,
            price: None,
            ..NewOrder::limit(0x0102, 7, Side::Sell, 0, 9)
        };
        let mut want = vec![1u8, 2, 1, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, 6, 0, 0, 0];
        want.extend_from_slice(&[0; 8]);
        want.extend_from_slice(&[9, 0, 0, 0, 0, 0, 0, 0]);
        let mut buf = [0u8; Command::MAX_LEN];
        let n = Command::New(peg).encode(&mut buf);
        assert_eq!(&buf[..n], &want[..]);
        assert_eq!(Command::decode(&want), Ok(Command::New(peg)));
        let capped = NewOrder {
            price: Some(-5),
            tif: Tif::Ioc,
            ..peg
        };
        assert_eq!(round_trip(Command::New(capped)), NEW_LEN);
    }

    #[test]
    fn layout_matches_the_documented_table() {
        // Hand-written bytes from the table in the module doc, not from `encode`.
        let o = NewOrder {
            id: 0x0102_0304_0506_0708,
            account: 0x0A0B_0C0D,
            side: Side::Sell,
            ord_type: OrdType::Limit,
            price: Some(-2),
            qty: 5,
            tif: Tif::Post,
            stp: Stp::DecrementCancel,
        };
        let mut want = vec![
            1u8, 8, 7, 6, 5, 4, 3, 2, 1, 0x0D, 0x0C, 0x0B, 0x0A, 1, 0, 3, 4, 1,
        ];
        want.extend_from_slice(&[0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        want.extend_from_slice(&[5, 0, 0, 0, 0, 0, 0, 0]);
        let mut buf = [0u8; Command::MAX_LEN];
        let n = Command::New(o).encode(&mut buf);
        assert_eq!(&buf[..n], &want[..]);

        let n = Command::Cancel { id: 258 }.encode(&mut buf);
        assert_eq!(&buf[..n], &[2, 2, 1, 0, 0, 0, 0, 0, 0]);

        let n = Command::Replace {
            id: 1,
            price: i64::MIN,
            qty: u64::MAX,
        }
        .encode(&mut buf);
        let mut want = vec![3u8, 1, 0, 0, 0, 0, 0, 0, 0];
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0x80]);
        want.extend_from_slice(&[0xFF; 8]);
        assert_eq!(&buf[..n], &want[..]);
    }

    #[test]
    fn malformed_payloads_are_refused_with_the_reason() {
        assert_eq!(Command::decode(&[]), Err(DecodeError::Empty));
        assert_eq!(Command::decode(&[0; 9]), Err(DecodeError::UnknownTag(0)));
        assert_eq!(Command::decode(&[5; 9]), Err(DecodeError::UnknownTag(5)));
        assert_eq!(
            Command::decode(&[2; 10]),
            Err(DecodeError::BadLength {
                tag: 2,
                len: 10,
                expected: 9
            })
        );
        let mut buf = [0u8; Command::MAX_LEN];
        let n = Command::New(NewOrder::market(1, 1, Side::Buy, 1)).encode(&mut buf);
        for (at, field, value) in [
            (13, "side", 2),
            (14, "ord_type", 2),
            (15, "tif", 4),
            (16, "stp", 5),
            (17, "price_present", 2),
        ] {
            let mut b = buf;
            b[at] = value;
            assert_eq!(
                Command::decode(&b[..n]),
                Err(DecodeError::BadField { field, value })
            );
        }
        let mut b = buf;
        b[20] = 1;
        assert_eq!(
            Command::decode(&b[..n]),
            Err(DecodeError::AbsentPriceNotZero)
        );
    }

    /// Stops and stop-limits (tag 4): every side, time in force and STP mode with extreme
    /// triggers, ids, quantities and prices round-trip in 42 bytes; the bytes of one are
    /// the table's, written by hand; a damaged one is refused with its field.
    #[test]
    fn stops_round_trip_in_tag_4_and_match_the_table() {
        let triggers = [i64::MIN, -1, 0, 1, i64::MAX];
        let mut n = 0;
        for trigger in triggers {
            for (ord_type, prices) in [
                (OrdType::Stop { trigger }, [None, None, None]),
                (
                    OrdType::StopLimit { trigger },
                    [Some(i64::MIN), Some(0), Some(i64::MAX)],
                ),
            ] {
                for price in prices {
                    for side in SIDES {
                        for tif in TIFS {
                            for stp in STPS {
                                for (id, qty) in [(0, 0), (u64::MAX, u64::MAX)] {
                                    let o = NewOrder {
                                        id,
                                        account: u32::MAX,
                                        side,
                                        ord_type,
                                        price,
                                        qty,
                                        tif,
                                        stp,
                                    };
                                    assert_eq!(round_trip(Command::New(o)), NEW_PARAM_LEN);
                                    n += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(n, 5 * 2 * 3 * 2 * 4 * 5 * 2);

        // Sell stop-limit id 258, account 3, limit 97, qty 4, FOK, CB, trigger -2.
        let o = NewOrder {
            id: 258,
            account: 3,
            side: Side::Sell,
            ord_type: OrdType::StopLimit { trigger: -2 },
            price: Some(97),
            qty: 4,
            tif: Tif::Fok,
            stp: Stp::CancelBoth,
        };
        let mut want = vec![4u8, 2, 1, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 4, 2, 3, 1];
        want.extend_from_slice(&[97, 0, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(&[4, 0, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(&[0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        let mut buf = [0u8; Command::MAX_LEN];
        let len = Command::New(o).encode(&mut buf);
        assert_eq!(&buf[..len], &want[..]);
        // A stop (type 3) is the same bytes with type 3 and no price.
        want[14] = 3;
        want[17] = 0;
        want[18..26].fill(0);
        let stop = NewOrder {
            ord_type: OrdType::Stop { trigger: -2 },
            price: None,
            ..o
        };
        assert_eq!(Command::decode(&want), Ok(Command::New(stop)));

        // Tag 4 with a type that carries no parameter, or with tag 1's length, or a
        // parameterised type under tag 1: each refused, never guessed.
        for bad_type in [0u8, 1, 2, 6, 255] {
            let mut b = want.clone();
            b[14] = bad_type;
            assert_eq!(
                Command::decode(&b),
                Err(DecodeError::BadField {
                    field: "ord_type",
                    value: bad_type
                })
            );
        }
        assert_eq!(
            Command::decode(&want[..NEW_LEN]),
            Err(DecodeError::BadLength {
                tag: 4,
                len: NEW_LEN,
                expected: NEW_PARAM_LEN
            })
        );
        let mut b = want.clone();
        b[0] = 1;
        assert_eq!(
            Command::decode(&b[..NEW_LEN]),
            Err(DecodeError::BadField {
                field: "ord_type",
                value: 3
            })
        );
    }

    #[test]
    fn instrument_records_round_trip_and_match_the_table() {
        let sym = Symbol::new("AAPL.X").unwrap();
        for symbol in [
            None,
            Some(sym),
            Some(Symbol::new("ABCDEFGHIJKLMNOP").unwrap()),
        ] {
            for cmd in [
                Command::Cancel { id: 3 },
                Command::New(NewOrder::market(1, 2, Side::Sell, 9)),
                // The longest payloads: a stop-limit and an iceberg (42 bytes each).
                Command::New(NewOrder {
                    ord_type: OrdType::StopLimit { trigger: -7 },
                    ..NewOrder::limit(u64::MAX, 2, Side::Buy, i64::MIN, u64::MAX)
                }),
                Command::New(NewOrder {
                    ord_type: OrdType::Iceberg { display: 4 },
                    ..NewOrder::limit(5, 2, Side::Sell, 100, 9)
                }),
            ] {
                let r = InstrumentRecord { symbol, cmd };
                let mut buf = [0x55u8; InstrumentRecord::MAX_LEN];
                let n = r.encode(&mut buf);
                assert!((InstrumentRecord::MIN_LEN..=InstrumentRecord::MAX_LEN).contains(&n));
                assert_eq!(InstrumentRecord::decode(&buf[..n]), Ok(r));
            }
        }
        // Hand-written from the table: "AB", then Cancel 258.
        let r = InstrumentRecord {
            symbol: Some(Symbol::new("AB").unwrap()),
            cmd: Command::Cancel { id: 258 },
        };
        let mut buf = [0u8; InstrumentRecord::MAX_LEN];
        let n = r.encode(&mut buf);
        assert_eq!(&buf[..n], &[2, b'A', b'B', 2, 2, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            InstrumentRecord::decode(&[17, 2, 2, 1, 0, 0, 0, 0, 0, 0]),
            Err(DecodeError::BadField {
                field: "symbol_len",
                value: 17
            })
        );
        assert_eq!(
            InstrumentRecord::decode(&[2, b'A', b':', 2, 2, 1, 0, 0, 0, 0, 0, 0]),
            Err(DecodeError::BadField {
                field: "symbol",
                value: b':'
            })
        );
        assert_eq!(
            InstrumentRecord::decode(&[0, 9, 1, 0, 0, 0, 0, 0, 0, 0]),
            Err(DecodeError::UnknownTag(9))
        );
        assert_eq!(
            InstrumentRecord::decode(&[5, b'A']),
            Err(DecodeError::BadField {
                field: "symbol_len",
                value: 5
            })
        );
    }
}
