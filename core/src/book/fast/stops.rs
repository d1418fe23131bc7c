//! Stops and stop-limits (`docs/SEMANTICS.md`, "Stop orders"): held out of the book, in
//! arrival order, until a trade reaches their trigger.
//!
//! The plain path pays nothing for them: a stop type fails the plain checks
//! ([`validate::check_plain_on`]) and is judged here on the error path; pending stops set
//! the book's `slow` flag, which a new order already tests in place of the price-grid
//! flag; a cancel looks here only when the id is not resting and stops are pending; a replace that trades tests
//! the list's length. Only while stops are pending does a trading order run through a sink
//! that writes down the lowest and highest price it printed, and then the cascade.
//!
//! The list is a vector pre-sized to `min(capacity, 64)` stops; past that it grows (an
//! allocation on the command that needs it) and never shrinks. Removal shifts the rest (it
//! keeps arrival order; O(pending stops), like the scan for a fired stop).

use super::execute::Taker;
use super::slots::Slot;
use super::FastBook;
use crate::book::id_index::Vacancy;
use crate::book::pool::Ix;
use crate::book::validate;
use crate::command::{Command, Event, EventSink, NewOrder, Sink};
use crate::types::{CancelReason, OrdType, OrderId, Price, RejectReason, Side};

/// Stops the list is pre-sized for (at most; `capacity` if smaller).
pub(super) const STOPS_START: usize = 64;

/// A stop waiting for its trigger.
#[derive(Clone, Copy, Debug)]
pub(super) struct PendingStop {
    /// The order as it arrived (type `Stop` or `StopLimit`).
    order: NewOrder,
    trigger: Price,
    /// A trade at or through the trigger has printed since it arrived.
    fired: bool,
}

/// Passes events on, keeping the lowest and highest trade price among them.
pub(super) struct Prints<'a, S> {
    inner: &'a mut S,
    pub(super) range: Option<(Price, Price)>,
}

impl<'a, S: EventSink> Prints<'a, S> {
    pub(super) fn new(inner: &'a mut S) -> Self {
        Prints { inner, range: None }
    }
}

impl<S: EventSink> Sink<Event> for Prints<'_, S> {
    #[inline]
    fn event(&mut self, e: Event) {
        if let Event::Trade { price, .. } = e {
            self.range = Some(match self.range {
                None => (price, price),
                Some((lo, hi)) => (lo.min(price), hi.max(price)),
            });
        }
        self.inner.event(e);
    }
}

impl FastBook {
    /// Each pending stop as it arrived, in arrival order.
    pub(super) fn for_each_stop(&self, f: &mut dyn FnMut(&NewOrder)) {
        self.stops.iter().for_each(|s| f(&s.order));
    }

    /// Where a pending stop with this id is in the list.
    pub(super) fn stop_position(&self, id: OrderId) -> Option<usize> {
        self.stops.iter().position(|s| s.order.id == id)
    }

    /// The checks of an order the plain checks turned away (a stop type or an iceberg):
    /// all the stateless ones ([`validate::check_new_on`]), then a live or pending
    /// duplicate id. An accepted order gets back where its id would be indexed.
    /// Inlined into both callers (measured: as a call, 16 instructions more per iceberg).
    #[inline(always)]
    pub(super) fn validate_turned_away(&self, o: &NewOrder) -> Result<Vacancy, RejectReason> {
        validate::check_new_on(&self.cfg, self.grid, o)?;
        match self.index.lookup_for_insert(o.id) {
            Err(vacancy) if self.stop_position(o.id).is_none() => Ok(vacancy),
            _ => Err(RejectReason::DuplicateId),
        }
    }

    /// `walk` (an order meeting the book, its events through a [`Prints`]), then the
    /// cascade its prints set off.
    #[inline(always)]
    pub(super) fn then_cascade<S: EventSink>(
        &mut self,
        sink: &mut S,
        walk: impl FnOnce(&mut Self, &mut Prints<'_, S>),
    ) {
        let mut p = Prints::new(sink);
        walk(self, &mut p);
        let range = p.range;
        self.cascade(range, sink);
    }

    /// A stop or stop-limit: all the checks of a new order, then `ACK` and into the list.
    #[cold]
    #[inline(never)]
    pub(super) fn new_stop<S: EventSink>(&mut self, o: &NewOrder, sink: &mut S) {
        if let Err(reason) = self.validate_turned_away(o) {
            sink.event(Event::Reject { id: o.id, reason });
            return;
        }
        let trigger = o.ord_type.trigger().expect("new_stop takes stops only");
        sink.event(Event::Ack { id: o.id });
        self.pend_stop(o, trigger);
    }

    /// Hold an accepted stop or stop-limit (its `ACK` given) until its trigger.
    pub(super) fn pend_stop(&mut self, o: &NewOrder, trigger: Price) {
        self.stops.push(PendingStop {
            order: *o,
            trigger,
            fired: false,
        });
        self.refresh_modes();
    }

    /// A cancel of an id that is not resting: a pending stop leaves (reported with its
    /// side and limit, `None` for a stop), anything else is unknown.
    #[cold]
    #[inline(never)]
    pub(super) fn cancel_not_resting<S: EventSink>(&mut self, id: OrderId, sink: &mut S) {
        match self.stop_position(id) {
            Some(pos) => {
                let o = self.stops.remove(pos).order;
                self.refresh_modes();
                sink.event(Event::Cancel {
                    id,
                    qty: o.qty,
                    reason: CancelReason::User,
                    side: o.side,
                    price: o.price,
                });
            }
            None => sink.event(Event::Reject {
                id,
                reason: RejectReason::UnknownId,
            }),
        }
    }

    /// A new order that meets the other side while stops are pending: matched as ever,
    /// then the cascade its trades set off.
    #[cold]
    #[inline(never)]
    pub(super) fn match_then_trigger<S: EventSink>(&mut self, o: &NewOrder, sink: &mut S) {
        self.then_cascade(sink, |book, p| book.match_new(o, p));
    }

    /// A replace that lost priority and meets the other side while stops are pending.
    #[cold]
    #[inline(never)]
    pub(super) fn replace_then_trigger<S: EventSink>(
        &mut self,
        si: Ix<Slot>,
        t: &Taker,
        sink: &mut S,
    ) {
        self.then_cascade(sink, |book, p| {
            let left = book.execute(t, p);
            book.settle(si, t.id, t.side, left);
        });
    }

    /// The cascade: mark the stops the last order's prints reached, enter the earliest
    /// fired one as the order it becomes (its `ACK` is the trigger's mark in the event
    /// stream), mark what its prints reach, and so on until no fired stop is left. Each
    /// stop fires once and leaves the list when it does, and no stop joins the list
    /// during a cascade, so a command triggers at most the stops pending when it began.
    pub(super) fn cascade<S: EventSink>(
        &mut self,
        mut range: Option<(Price, Price)>,
        sink: &mut S,
    ) {
        loop {
            if let Some((lo, hi)) = range {
                for s in &mut self.stops {
                    s.fired |= match s.order.side {
                        Side::Buy => hi >= s.trigger,
                        Side::Sell => lo <= s.trigger,
                    };
                }
            }
            let Some(pos) = self.stops.iter().position(|s| s.fired) else {
                return;
            };
            let mut o = self.stops.remove(pos).order;
            self.refresh_modes();
            o.ord_type = match o.ord_type {
                OrdType::Stop { .. } => OrdType::Market,
                _ => OrdType::Limit,
            };
            let mut p = Prints::new(sink);
            let grid = self.grid;
            if self.pegs.any() {
                // The pegs met first, then their cross ([`super::peg`]).
                self.peg_command(&Command::New(o), &mut p);
            } else if self.admit::<false, _>(&o, grid, true, &mut p) {
                self.match_new(&o, &mut p);
            }
            range = p.range;
        }
    }
}
