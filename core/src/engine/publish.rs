//! How the engine publishes a message's events: the record the client reads ([`Output`])
//! and the sink the processor writes into ([`Publisher`]), a fixed buffer in front of the
//! output ring.
//!
//! Events are buffered so that one clock read stamps a whole chunk and one release store
//! makes it visible: the client never sees half a message unless the message produced
//! more than [`CHUNK`] events (then they go out in chunks, in order). The buffer is sized
//! once, when the engine is built, and never grows.

use super::{Clock, EngineStats};
use crate::command::Sink;
use crate::ingress::{spin_hint, spsc, Full};

/// One event as published by the engine: the processor's event `E`, which message caused
/// it, and the timestamps of that message's path. `E` is whatever the processor publishes
/// (the book's [`Event`](crate::Event), the wholesaler's, an embedder's own record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Output<E> {
    /// Global sequence number of the message (1-based, in the order the engine took them).
    pub seq: u64,
    /// Index of the producer that sent the message (0 for `ArrayQueue`).
    pub source: u32,
    /// Position of this event among the message's events (0 = first).
    pub index: u32,
    /// The event itself.
    pub event: E,
    /// When the message was meant to be sent (copied from its [`Stamped`](super::Stamped)).
    pub t_intended: u64,
    /// When the message was pushed into the ingress (copied from its `Stamped`).
    pub t_enqueue: u64,
    /// When the engine took the message's batch from the ingress.
    pub t_dequeue: u64,
    /// When this event's chunk was published into the output ring (for `index == 0`: the
    /// publication of the message's first event).
    pub t_publish: u64,
}

impl<E> Output<E> {
    /// A record carrying `event` with every number zero: a filler for prefaulting a ring.
    pub fn blank(event: E) -> Self {
        Output {
            seq: 0,
            source: 0,
            index: 0,
            event,
            t_intended: 0,
            t_enqueue: 0,
            t_dequeue: 0,
            t_publish: 0,
        }
    }
}

/// Events buffered per publication. A message with more events is published in chunks.
pub(super) const CHUNK: usize = 32;

/// What every event of one message shares: its sequence, producer and timestamps so far.
#[derive(Clone, Copy)]
pub(super) struct Header {
    pub seq: u64,
    pub source: u32,
    pub t_intended: u64,
    pub t_enqueue: u64,
    pub t_dequeue: u64,
}

/// The sink the processor writes one message's events into.
pub(super) struct Publisher<'a, E, C> {
    pub out: &'a mut spsc::Producer<Output<E>>,
    pub clock: &'a C,
    /// Capacity [`CHUNK`], empty between messages; flushed before it would grow.
    pub buf: &'a mut Vec<E>,
    /// Events of the current message published so far.
    pub emitted: u32,
    pub stats: &'a mut EngineStats,
    pub head: Header,
}

impl<E: Copy + Send, C: Clock> Publisher<'_, E, C> {
    /// Stamps, stages and publishes the buffered events, waiting while the ring is full.
    #[inline]
    pub fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let t = self.clock.now();
        let h = self.head;
        for &event in self.buf.iter() {
            let mut rec = Output {
                seq: h.seq,
                source: h.source,
                index: self.emitted,
                event,
                t_intended: h.t_intended,
                t_enqueue: h.t_enqueue,
                t_dequeue: h.t_dequeue,
                t_publish: t,
            };
            self.emitted += 1;
            loop {
                match self.out.stage(rec) {
                    Ok(()) => break,
                    Err(Full(back)) => {
                        // Let the client see what is staged so it can drain, then wait.
                        self.out.commit();
                        self.stats.output_full_waits += 1;
                        rec = back;
                        spin_hint();
                    }
                }
            }
        }
        self.out.commit();
        self.buf.clear();
    }
}

impl<E: Copy + Send, C: Clock> Sink<E> for Publisher<'_, E, C> {
    #[inline]
    fn event(&mut self, e: E) {
        if self.buf.len() == CHUNK {
            self.flush();
        }
        // Never grows: the buffer was built with capacity CHUNK and was just flushed if full.
        self.buf.push(e);
    }
}
