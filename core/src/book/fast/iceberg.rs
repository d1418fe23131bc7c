//! Iceberg (reserve) orders in the fast book (`docs/SEMANTICS.md`, "Iceberg orders"): the
//! hidden reserve of each resting iceberg, kept in a side table by slot, and the refill that
//! shows the next part at the back of its level's queue.
//!
//! # Why a side table, and what the plain path pays
//! The hot record (a 32-byte [`Slot`]) has no room left and its tag bits are all taken, and
//! a plain limit order must not pay for icebergs. A slot's `qty` is always the *shown*
//! quantity, so level totals, depth queries, the fill-or-kill pre-check and the book dump
//! see only what is displayed, with no change to the matching walk. The table is consulted
//! only while it holds a live iceberg (one compare of a count the book keeps): where a
//! maker's shown quantity reaches zero, on a user or STP cancel, and on a replace. A new
//! iceberg fails the plain checks and is entered here from the error path, as stops are,
//! so a new plain order pays nothing at all.
//!
//! The table is a vector indexed by slot, empty until the first iceberg rests; it grows to
//! the power of two above the highest slot an iceberg has used (at least 64 slots; an
//! allocation on the command that needs it, as the order pool's own growth past its
//! capacity) and never shrinks.

use super::execute::Taker;
use super::slots::Slot;
use super::FastBook;
use crate::book::id_index::Vacancy;
use crate::book::pool::{Ix, Link};
use crate::command::{Event, EventSink, NewOrder, Sink};
use crate::types::{OrderId, Price, Qty, Tif};

/// What a resting iceberg keeps off the book: its display size and its hidden reserve.
/// `display == 0` marks a slot that holds no iceberg.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct IceState {
    pub(super) display: Qty,
    pub(super) reserve: Qty,
}

/// Per slot index, the iceberg state of the order in that slot.
#[derive(Debug, Default)]
pub(super) struct Icebergs {
    state: Vec<IceState>,
    /// Slots holding an iceberg: zero on a book that holds none, which is all the plain
    /// paths check.
    live: usize,
}

impl Icebergs {
    /// Does any resting order have iceberg state?
    #[inline(always)]
    pub(super) fn any(&self) -> bool {
        self.live != 0
    }

    /// Resting icebergs.
    pub(super) fn len(&self) -> usize {
        self.live
    }

    /// The iceberg state of slot `si`, if it holds an iceberg.
    #[inline]
    pub(super) fn get(&self, si: Ix<Slot>) -> Option<IceState> {
        self.state
            .get(si.raw() as usize)
            .copied()
            .filter(|s| s.display != 0)
    }

    #[inline]
    fn set(&mut self, si: Ix<Slot>, st: IceState) {
        debug_assert!(st.display != 0);
        let i = si.raw() as usize;
        if i >= self.state.len() {
            self.grow(i);
        }
        if self.state[i].display == 0 {
            self.live += 1;
        }
        self.state[i] = st;
    }

    /// Room for slot `i` and every slot up to the next power of two: a book whose icebergs
    /// reach new slots one by one grows the table a few times, not once per slot. Out of
    /// line, so that the refill's `set` stays small enough to inline (measured: inline,
    /// it cost 45 instructions a refill more).
    #[cold]
    #[inline(never)]
    fn grow(&mut self, i: usize) {
        let len = (i + 1).next_power_of_two().max(64);
        self.state.resize(len, IceState::default());
    }

    /// Forget slot `si`'s state (its order is leaving); its reserve, 0 if it held none.
    #[inline]
    pub(super) fn forget(&mut self, si: Ix<Slot>) -> Qty {
        match self.state.get_mut(si.raw() as usize) {
            Some(s) if s.display != 0 => {
                let reserve = s.reserve;
                *s = IceState::default();
                self.live -= 1;
                reserve
            }
            _ => 0,
        }
    }

    /// Forget every slot's state, keeping the storage.
    pub(super) fn clear(&mut self) {
        self.state.fill(IceState::default());
        self.live = 0;
    }

    /// Heap bytes held.
    pub(super) fn heap_bytes(&self) -> usize {
        self.state.capacity() * std::mem::size_of::<IceState>()
    }
}

impl FastBook {
    /// A new iceberg, which the plain checks turned away: all the checks of a new order
    /// (the iceberg's own among them), `ACK`, the walk for its whole quantity, and what is
    /// left rests showing `min(display, left)`. While stops are pending its prints set off
    /// the cascade, as any order's.
    #[cold]
    #[inline(never)]
    pub(super) fn new_iceberg<S: EventSink>(&mut self, o: &NewOrder, sink: &mut S) {
        // One probe of the id index serves the duplicate check and, if the iceberg meets
        // nothing, its insert (as for a plain order).
        let vacancy = match self.validate_turned_away(o) {
            Ok(v) => v,
            Err(reason) => {
                sink.event(Event::Reject { id: o.id, reason });
                return;
            }
        };
        sink.event(Event::Ack { id: o.id });
        if self.stops.is_empty() {
            self.enter_iceberg(o, vacancy, sink);
        } else {
            // Through a trait object: the cascade's own orders reach this function again
            // (as far as the types know), and a generic sink would nest `Prints` without end.
            let mut sink: &mut dyn Sink<Event> = sink;
            self.enter_iceberg_then_trigger(o, vacancy, &mut sink);
        }
    }

    /// [`Self::enter_iceberg`] while stops are pending: then the cascade its prints set off.
    fn enter_iceberg_then_trigger(
        &mut self,
        o: &NewOrder,
        vacancy: Vacancy,
        sink: &mut &mut dyn Sink<Event>,
    ) {
        self.then_cascade(sink, |book, p| book.enter_iceberg(o, vacancy, p));
    }

    /// An accepted iceberg from its walk to resting; `vacancy` is where the duplicate check
    /// left its id, used when nothing was matched (the index is then untouched).
    pub(super) fn enter_iceberg<S: EventSink>(
        &mut self,
        o: &NewOrder,
        vacancy: Vacancy,
        sink: &mut S,
    ) {
        let (Some(display), Some(price)) = (o.ord_type.display(), o.price) else {
            unreachable!("validation lets through only icebergs with a limit price")
        };
        let (left, at) = if self.eligible_level(o.side, o.price).is_none() {
            (Some((price, o.qty)), Some(vacancy))
        } else {
            let t = Taker {
                tif: Tif::Gtc,
                ..Taker::of_new(o)
            };
            // Fills may have moved ids: the rest probes again from the home.
            (self.execute(&t, sink), None)
        };
        if let Some((price, qty)) = left {
            let shown = qty.min(display);
            // Under CME an iceberg that betters its side's best is TOP like any order (a
            // CME book is `slow`; the plain one skips the hook's policy test).
            let si = if self.slow {
                self.rest(o, price, shown, at, true)
            } else {
                self.rest(o, price, shown, at, false)
            };
            self.exotic = true;
            self.icebergs.set(
                si,
                IceState {
                    display,
                    reserve: qty - shown,
                },
            );
        }
    }

    /// A cancel while icebergs rest: as the plain one, with any reserve in the `CXL`
    /// quantity of a resting order.
    #[cold]
    #[inline(never)]
    pub(super) fn cancel_with_icebergs<S: EventSink>(&mut self, id: OrderId, sink: &mut S) {
        let Some((bucket, si)) = self.index.lookup_for_remove(id) else {
            return self.cancel_not_resting(id, sink);
        };
        let qty = self.leaving_qty(si);
        self.cancel_found(id, bucket, si, qty, sink);
    }

    /// Slot `si` is leaving the book (a user or STP cancel): its whole open quantity,
    /// shown plus any reserve, which it forgets.
    #[inline(always)]
    pub(super) fn leaving_qty(&mut self, si: Ix<Slot>) -> Qty {
        let shown = self.slots[si].qty;
        if self.icebergs.any() {
            shown + self.icebergs.forget(si)
        } else {
            shown
        }
    }

    /// Slot `si`'s shown quantity has just reached zero (a fill or an STP decrement), its
    /// level's total already reduced. An iceberg with a reserve shows the next
    /// `min(display, reserve)` at the back of its level's queue (new time priority) and
    /// this returns true; otherwise its state (if any) is forgotten and this returns false,
    /// leaving the slot to be removed.
    #[cold]
    #[inline(never)]
    pub(super) fn refill_iceberg(&mut self, si: Ix<Slot>) -> bool {
        let Some(mut st) = self.icebergs.get(si) else {
            return false;
        };
        if st.reserve == 0 {
            self.icebergs.forget(si);
            return false;
        }
        let shown = st.reserve.min(st.display);
        st.reserve -= shown;
        self.icebergs.set(si, st);
        let s = self.slots[si];
        let li = s.level();
        // Move to the tail unless already there; the level's count is unchanged.
        if let Some(n) = s.next.get() {
            match s.prev.get() {
                Some(p) => self.slots[p].next = s.next,
                None => self.levels[li].head = s.next,
            }
            self.slots[n].prev = s.prev;
            let tail = self.levels[li].tail;
            if let Some(t) = tail.get() {
                self.slots[t].next = si.into();
            }
            let m = &mut self.slots[si];
            m.prev = tail;
            m.next = Link::NIL;
            self.levels[li].tail = si.into();
        }
        self.slots[si].qty = shown;
        self.levels[li].total += shown as u128;
        // A new part has new time priority, so under CME it is no longer the side's TOP
        // order. The two CME steps that can empty the TOP order's shown part clear TOP
        // themselves (its fill in `allocation.rs`, an STP `DC` in `stp.rs`), so that
        // price-time refills pay nothing for it here (a check here cost them +3%).
        true
    }

    /// A replace of the resting iceberg in slot `si` (already validated and `REPLACED`
    /// reported): it always loses priority, re-enters as a taker for its whole new `qty`,
    /// and any remainder rests again as an iceberg of the same display, in the same slot
    /// under the same index entry, `display` its display. While stops are pending its
    /// prints set off the cascade.
    #[cold]
    #[inline(never)]
    pub(super) fn replace_iceberg<S: EventSink>(
        &mut self,
        si: Ix<Slot>,
        id: OrderId,
        price: Price,
        qty: Qty,
        display: Qty,
        sink: &mut S,
    ) {
        if self.stops.is_empty() {
            self.requeue_iceberg(si, id, price, qty, display, sink);
        } else {
            self.then_cascade(sink, |book, p| {
                book.requeue_iceberg(si, id, price, qty, display, p)
            });
        }
    }

    fn requeue_iceberg<S: EventSink>(
        &mut self,
        si: Ix<Slot>,
        id: OrderId,
        price: Price,
        qty: Qty,
        display: Qty,
        sink: &mut S,
    ) {
        let s = self.slots[si];
        let side = self.levels[s.level()].side;
        self.unlink(si);
        let t = Taker {
            tif: Tif::Gtc,
            ..Taker::requeued(&s, id, side, price, qty)
        };
        self.requeue_unlinked_iceberg(si, &t, display, sink);
    }

    /// The replaced iceberg in slot `si`, already out of its level, meets the other side
    /// as `t` (limit its new price, quantity what it has left), and what remains rests
    /// again as an iceberg of `display`; with nothing left it leaves.
    pub(super) fn requeue_unlinked_iceberg<S: EventSink>(
        &mut self,
        si: Ix<Slot>,
        t: &Taker,
        display: Qty,
        sink: &mut S,
    ) {
        let (id, side, price, qty) = (t.id, t.side, t.limit.expect("a replace's price"), t.qty);
        let left = if self.eligible_level(side, Some(price)).is_none() {
            Some((price, qty))
        } else {
            self.execute(t, sink)
        };
        match left {
            Some((price, qty)) => {
                let shown = qty.min(display);
                self.link_tail(si, side, price, shown);
                self.icebergs.set(
                    si,
                    IceState {
                        display,
                        reserve: qty - shown,
                    },
                );
            }
            None => {
                self.icebergs.forget(si);
                self.index.remove(id);
                self.free_slot(si);
            }
        }
    }

    /// [`crate::book::OrderBook::restore_iceberg`].
    pub(super) fn restore_iceberg_state(
        &mut self,
        id: OrderId,
        display: Qty,
        reserve: Qty,
    ) -> bool {
        match self.index.get(id) {
            Some(si) if display != 0 => {
                self.exotic = true;
                self.icebergs.set(si, IceState { display, reserve });
                true
            }
            _ => false,
        }
    }

    /// The display size and reserve of resting order `id`, if it is an iceberg.
    pub(super) fn iceberg_of(&self, id: OrderId) -> Option<(Qty, Qty)> {
        if !self.icebergs.any() {
            return None;
        }
        let si = self.index.get(id)?;
        self.icebergs.get(si).map(|st| (st.display, st.reserve))
    }
}
