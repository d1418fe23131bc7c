//! # flowmatch-core
//!
//! The matching core of flowmatch: integer-tick order books behind one trait, the
//! command/event vocabulary, the lock-free ingress and the engine loop. No I/O and no
//! clock of its own: time is whatever the engine is handed.
//!
//! The ingress and the engine (and their dependencies, `crossbeam` and `core_affinity`)
//! are behind the default `engine` feature; a book-only user turns it off. The wholesaler
//! that runs on the engine is its own crate, `flowmatch-wholesaler`.

#![deny(missing_docs)]

pub mod allocation;
pub mod book;
pub mod command;
#[cfg(feature = "engine")]
pub mod engine;
#[cfg(feature = "engine")]
pub mod ingress;
pub mod instrument;
pub mod types;

pub use book::{FastBook, LevelView, OrderBook, ReferenceBook, RestingOrder, RestingPeg};
pub use command::{Command, CountingSink, Event, EventSink, NewOrder, Sink};
pub use instrument::{
    InstrumentCommand, InstrumentEvent, InstrumentId, InstrumentSpec, InstrumentTable, MultiBook,
    MultiBookConfig, Symbol,
};
pub use types::{
    Account, BookConfig, CancelReason, MatchPolicy, OrdType, OrderId, Price, Qty, RejectReason,
    ReplacePriority, Side, Stp, Tif,
};
