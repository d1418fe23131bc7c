//! The internalizer on flowmatch's engine thread: an engine
//! [`Processor`] over [`Msg`]s that publishes the wholesaler's own [`Event`]s as they are
//! (no re-encoding into the book's events).

use crate::internalizer::Internalizer;
use crate::message::{Event, Msg};
use crate::venue::Venue;
use flowmatch_core::engine::Processor;
use flowmatch_core::{OrderBook, Sink};

/// The engine thread runs the internalizer on [`Msg`]s and publishes its [`Event`]s as
/// they are.
impl<B: OrderBook, V: Venue> Processor<Msg> for Internalizer<B, V> {
    type Event = Event;

    #[inline]
    fn process<S: Sink<Event>>(&mut self, msg: &Msg, sink: &mut S) {
        self.on_message(msg, sink);
    }
}
