//! The instrument table: every instrument's [`InstrumentSpec`] by dense id, and the ids by
//! symbol.
//!
//! Built in code ([`InstrumentTable::push`]) or loaded from CSV
//! ([`InstrumentTable::from_csv`]).
//!
//! # CSV format
//! The first line that is not blank or a `#` comment is the header, exactly
//!
//! ```text
//! symbol,tick,lot,min_price,max_price,max_order_qty,policy,replace_priority
//! ```
//!
//! and every further such line is one instrument, its id the count of instruments before
//! it (the first is 0). Fields may be padded with spaces or tabs. `symbol`: 1–16 characters
//! of `A-Z a-z 0-9 . _ -`, unique in the table. `tick`, `lot`, `max_order_qty`: integers
//! of at least 1 (`tick` up to `i64::MAX`, the others up to `u64::MAX`). `min_price`,
//! `max_price`: integers (`i64`), `min_price <= max_price`. `policy`: `price-time`,
//! `pro-rata`, `pro-rata-top` or a CME Globex algorithm `cme:A` … `cme:T`, whose parameters
//! come from six optional columns after these ([`super::cme_columns`]). `replace_priority`: `keep-if-reduced` (the default) or
//! `always-requeue` ([`BookConfig::replace_priority`](crate::BookConfig)). Any other line
//! is an error naming its line number and field.

use super::cme_columns::{row_policy, CSV_CME_FIELDS};
use super::spec::{InstrumentId, InstrumentSpec, SpecError, Symbol};
use crate::types::{MatchPolicy, ReplacePriority};
use std::collections::HashMap;
use std::fmt;

/// The CSV header, field by field.
pub const CSV_FIELDS: [&str; 8] = [
    "symbol",
    "tick",
    "lot",
    "min_price",
    "max_price",
    "max_order_qty",
    "policy",
    "replace_priority",
];

/// Every instrument, by dense id and by symbol.
#[derive(Clone, Debug, Default)]
pub struct InstrumentTable {
    specs: Vec<InstrumentSpec>,
    by_symbol: HashMap<Symbol, InstrumentId>,
}

/// Why an instrument cannot join a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableError {
    /// The symbol is already in the table (under this id).
    DuplicateSymbol(Symbol, InstrumentId),
    /// A field is out of its range.
    BadSpec(SpecError),
    /// The table already holds `u32::MAX` instruments.
    Full,
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableError::DuplicateSymbol(s, id) => {
                write!(f, "symbol: {s} is already instrument {}", id.0)
            }
            TableError::BadSpec(e) => e.fmt(f),
            TableError::Full => write!(f, "the table holds {} instruments already", u32::MAX),
        }
    }
}

impl std::error::Error for TableError {}

/// A CSV table that cannot be loaded: the line (1-based), the field and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvError {
    /// 1-based line number.
    pub line: usize,
    /// The field, as the header names it (`header` for the header line itself).
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: field {}: {}",
            self.line, self.field, self.message
        )
    }
}

impl std::error::Error for CsvError {}

impl InstrumentTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an instrument after checking its spec, returning its id (the number of
    /// instruments before it).
    pub fn push(&mut self, spec: InstrumentSpec) -> Result<InstrumentId, TableError> {
        spec.validate().map_err(TableError::BadSpec)?;
        if let Some(&id) = self.by_symbol.get(&spec.symbol) {
            return Err(TableError::DuplicateSymbol(spec.symbol, id));
        }
        let id = u32::try_from(self.specs.len())
            .ok()
            .filter(|&n| n < u32::MAX)
            .ok_or(TableError::Full)?;
        let id = InstrumentId(id);
        self.specs.push(spec);
        self.by_symbol.insert(spec.symbol, id);
        Ok(id)
    }

    /// The id of `symbol`, adding it with `spec_for(symbol)` if it is new.
    pub fn intern(
        &mut self,
        symbol: Symbol,
        spec_for: impl FnOnce(Symbol) -> InstrumentSpec,
    ) -> Result<InstrumentId, TableError> {
        match self.by_symbol.get(&symbol) {
            Some(&id) => Ok(id),
            None => self.push(spec_for(symbol)),
        }
    }

    /// The instrument with this symbol.
    pub fn lookup(&self, symbol: &Symbol) -> Option<InstrumentId> {
        self.by_symbol.get(symbol).copied()
    }

    /// The spec of instrument `id`.
    #[inline]
    pub fn get(&self, id: InstrumentId) -> Option<&InstrumentSpec> {
        self.specs.get(id.index())
    }

    /// Every spec, by id.
    pub fn specs(&self) -> &[InstrumentSpec] {
        &self.specs
    }

    /// Number of instruments.
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// No instruments.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// Bytes the table occupies: its spec vector's capacity and its symbol map's buckets
    /// (each a key, a value and one control byte), for memory reports.
    pub fn memory_bytes(&self) -> usize {
        self.specs.capacity() * std::mem::size_of::<InstrumentSpec>()
            + self.by_symbol.capacity() * (std::mem::size_of::<(Symbol, InstrumentId)>() + 1)
    }

    /// A table from CSV text (format in the module docs).
    pub fn from_csv(text: &str) -> Result<Self, CsvError> {
        let mut table = InstrumentTable::new();
        let mut header_seen = false;
        let mut cme_columns = false;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim_matches(|c| c == ' ' || c == '\t' || c == '\r');
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = trimmed
                .split(',')
                .map(|f| f.trim_matches(|c| c == ' ' || c == '\t'))
                .collect();
            if !header_seen {
                cme_columns = fields.len() == CSV_FIELDS.len() + CSV_CME_FIELDS.len()
                    && fields[CSV_FIELDS.len()..] == CSV_CME_FIELDS;
                if fields[..fields.len().min(CSV_FIELDS.len())] != CSV_FIELDS
                    || (fields.len() != CSV_FIELDS.len() && !cme_columns)
                {
                    return Err(CsvError {
                        line,
                        field: "header",
                        message: format!(
                            "expected `{}` (optionally followed by `,{}`), got `{trimmed}`",
                            CSV_FIELDS.join(","),
                            CSV_CME_FIELDS.join(",")
                        ),
                    });
                }
                header_seen = true;
                continue;
            }
            let spec = parse_row(&fields, line, cme_columns)?;
            table.push(spec).map_err(|e| match e {
                TableError::BadSpec(s) => CsvError {
                    line,
                    field: s.field,
                    message: s.message,
                },
                TableError::DuplicateSymbol(s, id) => CsvError {
                    line,
                    field: "symbol",
                    message: format!("duplicate symbol {s} (already instrument {})", id.0),
                },
                TableError::Full => CsvError {
                    line,
                    field: "symbol",
                    message: e.to_string(),
                },
            })?;
        }
        if !header_seen {
            return Err(CsvError {
                line: 1,
                field: "header",
                message: format!("no header line `{}`", CSV_FIELDS.join(",")),
            });
        }
        Ok(table)
    }
}

/// One data line's fields as a spec (ranges are checked by `push`).
fn parse_row(fields: &[&str], line: usize, cme: bool) -> Result<InstrumentSpec, CsvError> {
    let expected = CSV_FIELDS.len() + if cme { CSV_CME_FIELDS.len() } else { 0 };
    if fields.len() != expected {
        let field = CSV_FIELDS
            .iter()
            .chain(CSV_CME_FIELDS.iter().take(if cme { 6 } else { 0 }))
            .nth(fields.len())
            .copied()
            .unwrap_or(if cme { "leveling" } else { "replace_priority" });
        return Err(CsvError {
            line,
            field,
            message: format!("expected {expected} fields, got {}", fields.len()),
        });
    }
    let bad = |field: &'static str, what: &str| CsvError {
        line,
        field,
        message: format!("expected {what}, got `{}`", fields[field_ix(field)]),
    };
    let symbol = Symbol::new(fields[0]).map_err(|e| CsvError {
        line,
        field: "symbol",
        message: e.to_string(),
    })?;
    let int = |field: &'static str| -> Result<i64, CsvError> {
        fields[field_ix(field)]
            .parse::<i64>()
            .map_err(|_| bad(field, "an integer (i64)"))
    };
    let uint = |field: &'static str| -> Result<u64, CsvError> {
        fields[field_ix(field)]
            .parse::<u64>()
            .map_err(|_| bad(field, "an unsigned integer (u64)"))
    };
    let policy = match fields[6] {
        "price-time" => MatchPolicy::PriceTime,
        "pro-rata" => MatchPolicy::ProRata { top_order: false },
        "pro-rata-top" => MatchPolicy::ProRata { top_order: true },
        other => match row_policy(other, &fields[CSV_FIELDS.len()..], line)? {
            Some(cme) => cme,
            None => {
                return Err(bad(
                    "policy",
                    "price-time, pro-rata, pro-rata-top or cme:A|C|F|K|O|Q|S|T",
                ))
            }
        },
    };
    if !matches!(policy, MatchPolicy::Cme(_)) {
        // The CME columns, if any, must be empty for a policy that is not CME.
        row_policy(fields[6], &fields[CSV_FIELDS.len()..], line)?;
    }
    let replace = match fields[7] {
        "keep-if-reduced" => ReplacePriority::KeepIfReduced,
        "always-requeue" => ReplacePriority::AlwaysRequeue,
        _ => return Err(bad("replace_priority", "keep-if-reduced or always-requeue")),
    };
    Ok(InstrumentSpec {
        symbol,
        tick: int("tick")?,
        lot: uint("lot")?,
        min_price: int("min_price")?,
        max_price: int("max_price")?,
        max_order_qty: uint("max_order_qty")?,
        policy,
        replace,
    })
}

fn field_ix(field: &str) -> usize {
    CSV_FIELDS.iter().position(|f| *f == field).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "symbol,tick,lot,min_price,max_price,max_order_qty,policy,replace_priority\n";

    fn err(body: &str) -> CsvError {
        InstrumentTable::from_csv(&format!("{HEADER}{body}")).unwrap_err()
    }

    #[test]
    fn loads_a_table_in_order() {
        let t = InstrumentTable::from_csv(&format!(
            "# two instruments\n{HEADER}\nAAPL, 1, 1, 1, 100000, 1000000, price-time, keep-if-reduced\nES_Z6,25,1,-500,500000,5000,pro-rata-top,always-requeue\n"
        ))
        .unwrap();
        assert_eq!(t.len(), 2);
        let es = t.lookup(&Symbol::new("ES_Z6").unwrap()).unwrap();
        assert_eq!(es, InstrumentId(1));
        let s = t.get(es).unwrap();
        assert_eq!(
            (s.tick, s.lot, s.min_price, s.max_price, s.max_order_qty),
            (25, 1, -500, 500_000, 5000)
        );
        assert_eq!(s.policy, MatchPolicy::ProRata { top_order: true });
        assert_eq!(s.replace, ReplacePriority::AlwaysRequeue);
        assert_eq!(t.lookup(&Symbol::new("MSFT").unwrap()), None);
    }

    #[test]
    fn errors_name_line_and_field() {
        let e = err("AAPL,1,1,1,100,10,price-time,keep-if-reduced\nAAPL,1,1,1,100,10,price-time,keep-if-reduced\n");
        assert_eq!((e.line, e.field), (3, "symbol"));
        assert!(e.message.contains("duplicate"), "{e}");
        let cases = [
            ("A B,1,1,1,100,10,price-time,keep-if-reduced", "symbol"),
            (
                "ABCDEFGHIJKLMNOPQ,1,1,1,100,10,price-time,keep-if-reduced",
                "symbol",
            ),
            (",1,1,1,100,10,price-time,keep-if-reduced", "symbol"),
            ("X,one,1,1,100,10,price-time,keep-if-reduced", "tick"),
            ("X,0,1,1,100,10,price-time,keep-if-reduced", "tick"),
            ("X,1,-1,1,100,10,price-time,keep-if-reduced", "lot"),
            ("X,1,0,1,100,10,price-time,keep-if-reduced", "lot"),
            ("X,1,1,1.5,100,10,price-time,keep-if-reduced", "min_price"),
            ("X,1,1,101,100,10,price-time,keep-if-reduced", "max_price"),
            ("X,1,1,1,100,0,price-time,keep-if-reduced", "max_order_qty"),
            ("X,1,1,1,100,10,fifo,keep-if-reduced", "policy"),
            ("X,1,1,1,100,10,price-time,never", "replace_priority"),
            ("X,1,1,1,100,10,price-time", "replace_priority"),
            ("X,1,1", "min_price"),
        ];
        for (line, field) in cases {
            let e = err(line);
            assert_eq!((e.line, e.field), (2, field), "{line}: {e}");
        }
        let e = InstrumentTable::from_csv("symbol,tick\nX,1\n").unwrap_err();
        assert_eq!((e.line, e.field), (1, "header"));
        let e = InstrumentTable::from_csv("\n# nothing\n").unwrap_err();
        assert_eq!(e.field, "header");
    }

    #[test]
    fn push_and_intern() {
        let mut t = InstrumentTable::new();
        let a = Symbol::new("A").unwrap();
        assert_eq!(t.push(InstrumentSpec::new(a)), Ok(InstrumentId(0)));
        assert_eq!(
            t.push(InstrumentSpec::new(a)),
            Err(TableError::DuplicateSymbol(a, InstrumentId(0)))
        );
        let b = Symbol::new("B").unwrap();
        assert_eq!(t.intern(b, InstrumentSpec::new), Ok(InstrumentId(1)));
        assert_eq!(t.intern(a, InstrumentSpec::new), Ok(InstrumentId(0)));
        assert_eq!(t.len(), 2);
    }
}
