//! What one instrument is: a dense id, a symbol and the rules its book enforces.
//!
//! Everything here is plain `Copy` data (no pointers, no heap), so a journal or a snapshot
//! can write a spec field by field and read it back, and a table of a million of them is
//! one flat vector.

use crate::types::{BookConfig, MatchPolicy, Price, Qty, ReplacePriority};
use std::fmt;

/// An instrument's dense index in its [`InstrumentTable`](super::InstrumentTable): the
/// first instrument is 0, the next 1, and so on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct InstrumentId(pub u32);

impl InstrumentId {
    /// The id as an index into per-instrument vectors.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Longest symbol, in bytes.
pub const SYMBOL_MAX: usize = 16;

/// A symbol: 1 to 16 characters of `A-Z a-z 0-9 . _ -`, stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol {
    len: u8,
    bytes: [u8; SYMBOL_MAX],
}

/// Why a text is not a symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SymbolError {
    /// Empty.
    Empty,
    /// Longer than [`SYMBOL_MAX`] bytes (the length it has).
    TooLong(usize),
    /// A character outside `A-Z a-z 0-9 . _ -` (the first such).
    BadChar(char),
}

impl fmt::Display for SymbolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SymbolError::Empty => write!(
                f,
                "a symbol must have 1 to {SYMBOL_MAX} characters, got none"
            ),
            SymbolError::TooLong(n) => {
                write!(
                    f,
                    "a symbol must have 1 to {SYMBOL_MAX} characters, got {n}"
                )
            }
            SymbolError::BadChar(c) => {
                write!(f, "a symbol may hold only A-Z a-z 0-9 . _ -, got {c:?}")
            }
        }
    }
}

impl std::error::Error for SymbolError {}

impl Symbol {
    /// Whether `b` may appear in a symbol.
    #[inline]
    pub fn is_symbol_byte(b: u8) -> bool {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
    }

    /// `s` as a symbol, or what is wrong with it.
    pub fn new(s: &str) -> Result<Symbol, SymbolError> {
        if let Some(c) = s
            .chars()
            .find(|c| !c.is_ascii() || !Self::is_symbol_byte(*c as u8))
        {
            return Err(SymbolError::BadChar(c));
        }
        if s.is_empty() {
            return Err(SymbolError::Empty);
        }
        if s.len() > SYMBOL_MAX {
            return Err(SymbolError::TooLong(s.len()));
        }
        let mut bytes = [0u8; SYMBOL_MAX];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Ok(Symbol {
            len: s.len() as u8,
            bytes,
        })
    }

    /// The symbol's text.
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored (checked in `new`).
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Symbol({:?})", self.as_str())
    }
}

/// One instrument: its symbol and the rules of its book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstrumentSpec {
    /// Its symbol, unique within a table.
    pub symbol: Symbol,
    /// Price increment (at least 1).
    pub tick: Price,
    /// Quantity increment (at least 1).
    pub lot: Qty,
    /// Lowest acceptable limit price (inclusive).
    pub min_price: Price,
    /// Highest acceptable limit price (inclusive).
    pub max_price: Price,
    /// Largest quantity of a single order (inclusive, at least 1).
    pub max_order_qty: Qty,
    /// How quantity is shared within a price level.
    pub policy: MatchPolicy,
    /// Whether a replace keeps priority.
    pub replace: ReplacePriority,
}

/// Why a spec cannot be used: the field and the range it must be in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// The field, as the CSV header names it.
    pub field: &'static str,
    /// What is wrong, with the range.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for SpecError {}

impl InstrumentSpec {
    /// A spec with the single book's defaults (`BookConfig::default()`): tick and lot 1,
    /// every price, quantities up to `u32::MAX`, price-time.
    pub fn new(symbol: Symbol) -> Self {
        let d = BookConfig::default();
        InstrumentSpec {
            symbol,
            tick: d.tick,
            lot: d.lot,
            min_price: d.min_price,
            max_price: d.max_price,
            max_order_qty: d.max_order_qty,
            policy: d.policy,
            replace: ReplacePriority::default(),
        }
    }

    /// Checks every field against the range a book can honour.
    pub fn validate(&self) -> Result<(), SpecError> {
        let err = |field, message: String| Err(SpecError { field, message });
        if self.tick < 1 {
            return err(
                "tick",
                format!("must be between 1 and {}, got {}", Price::MAX, self.tick),
            );
        }
        if self.lot < 1 {
            return err(
                "lot",
                format!("must be between 1 and {}, got {}", Qty::MAX, self.lot),
            );
        }
        if self.max_order_qty < 1 {
            return err(
                "max_order_qty",
                format!("must be between 1 and {}, got 0", Qty::MAX),
            );
        }
        if self.min_price > self.max_price {
            return err(
                "max_price",
                format!(
                    "must be at least min_price {}, got {}",
                    self.min_price, self.max_price
                ),
            );
        }
        Ok(())
    }

    /// The configuration of this instrument's book, pre-allocating room for `capacity`
    /// resting orders.
    pub fn book_config(&self, capacity: usize) -> BookConfig {
        BookConfig {
            max_order_qty: self.max_order_qty,
            min_price: self.min_price,
            max_price: self.max_price,
            capacity,
            policy: self.policy,
            tick: self.tick,
            lot: self.lot,
            replace_priority: self.replace,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_grammar() {
        for ok in ["A", "AAPL", "BRK.B", "ES_Z6", "x-1", "0123456789abcdef"] {
            assert_eq!(Symbol::new(ok).unwrap().as_str(), ok);
        }
        assert_eq!(Symbol::new(""), Err(SymbolError::Empty));
        assert_eq!(
            Symbol::new("0123456789abcdefg"),
            Err(SymbolError::TooLong(17))
        );
        assert_eq!(Symbol::new("AA PL"), Err(SymbolError::BadChar(' ')));
        assert_eq!(Symbol::new("AA:PL"), Err(SymbolError::BadChar(':')));
        assert_eq!(Symbol::new("Ä"), Err(SymbolError::BadChar('Ä')));
    }

    #[test]
    fn spec_ranges_name_the_field() {
        let base = InstrumentSpec::new(Symbol::new("X").unwrap());
        assert_eq!(base.validate(), Ok(()));
        let field = |s: InstrumentSpec| s.validate().unwrap_err().field;
        assert_eq!(field(InstrumentSpec { tick: 0, ..base }), "tick");
        assert_eq!(field(InstrumentSpec { lot: 0, ..base }), "lot");
        assert_eq!(
            field(InstrumentSpec {
                max_order_qty: 0,
                ..base
            }),
            "max_order_qty"
        );
        assert_eq!(
            field(InstrumentSpec {
                min_price: 5,
                max_price: 4,
                ..base
            }),
            "max_price"
        );
    }
}
