//! What goes in and out of the multi-book: [`InstrumentCommand`] and [`InstrumentEvent`],
//! and the sinks that tag a book's events with their instrument or drop them.

use super::spec::InstrumentId;
use crate::command::{Command, Event, Sink};

/// A command for one instrument's book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstrumentCommand {
    /// The instrument.
    pub instrument: InstrumentId,
    /// The command, as a single book takes it.
    pub cmd: Command,
}

/// An event of one instrument's book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstrumentEvent {
    /// The instrument whose command caused it.
    pub instrument: InstrumentId,
    /// The event, as a single book emits it.
    pub event: Event,
}

/// Drops the events of re-inserted orders.
pub(super) struct Discard;

impl Sink<Event> for Discard {
    #[inline]
    fn event(&mut self, _: Event) {}
}

/// Delivers a book's events as the instrument's events.
pub(super) struct Tag<'a, S> {
    pub(super) instrument: InstrumentId,
    pub(super) sink: &'a mut S,
}

impl<S: Sink<InstrumentEvent>> Sink<Event> for Tag<'_, S> {
    #[inline]
    fn event(&mut self, event: Event) {
        self.sink.event(InstrumentEvent {
            instrument: self.instrument,
            event,
        });
    }
}
