//! # flowmatch-core
//!
//! The matching core of flowmatch: integer-tick order books behind one trait, the
//! command/event vocabulary, the lock-free ingress, the internalizer and the engine loop.
//! No I/O and no clock of its own: time is whatever the engine is handed.

pub mod book;
pub mod command;
pub mod engine;
pub mod ingress;
pub mod internalizer;
pub mod types;

pub use book::{FastBook, LevelView, OrderBook, ReferenceBook, RestingOrder};
pub use command::{Command, CountingSink, Event, EventSink, NewOrder, Sink};
pub use types::*;
