//! Instruments: many independent books in one engine thread.
//!
//! - [`spec`]: what an instrument is ([`InstrumentId`], [`Symbol`], [`InstrumentSpec`]),
//!   plain data a journal or snapshot can write as it is.
//! - [`table`]: the [`InstrumentTable`], built in code or loaded from a CSV file (format in
//!   the module docs).
//! - [`multi_book`]: the [`MultiBook`] processor, which routes each
//!   [`InstrumentCommand`] to its instrument's book, keeps books cold or full by how many
//!   orders they hold and bounds its memory by configuration ([`config`]).
//! - [`cold`]: the cold tier, a book of a few orders in a shared slab.
//! - [`storage`]: what a full book type provides ([`BookStorage`]) and the view of one
//!   instrument's book in either tier ([`BookView`]).
//!
//! Order ids are unique per instrument: the same id may be live in two instruments.

pub mod cme_columns;
pub mod cold;
pub mod config;
mod entry;
pub mod message;
pub mod multi_book;
pub mod spec;
pub mod storage;
pub mod table;

pub use multi_book::{
    BookStorage, BookView, InstrumentCommand, InstrumentEvent, MultiBook, MultiBookConfig,
    MultiBookConfigError, TierMoves,
};
pub use spec::{InstrumentId, InstrumentSpec, SpecError, Symbol, SymbolError};
pub use table::{CsvError, InstrumentTable, TableError};
