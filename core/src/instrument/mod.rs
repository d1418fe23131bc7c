//! Instruments: many independent books in one engine thread.
//!
//! - [`spec`]: what an instrument is ([`InstrumentId`], [`Symbol`], [`InstrumentSpec`]),
//!   plain data a journal or snapshot can write as it is.
//! - [`table`]: the [`InstrumentTable`], built in code or loaded from a CSV file (format in
//!   the module docs).
//! - [`multi_book`]: the [`MultiBook`] processor, which routes each
//!   [`InstrumentCommand`] to its instrument's book, creates books on first order and
//!   bounds its memory by configuration.
//!
//! Order ids are unique per instrument: the same id may be live in two instruments.

pub mod multi_book;
pub mod spec;
pub mod table;

pub use multi_book::{
    BookStorage, InstrumentCommand, InstrumentEvent, MultiBook, MultiBookConfig,
    MultiBookConfigError,
};
pub use spec::{InstrumentId, InstrumentSpec, SpecError, Symbol, SymbolError};
pub use table::{CsvError, InstrumentTable, TableError};
