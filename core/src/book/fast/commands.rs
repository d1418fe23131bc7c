//! The three commands, each from validation to its last event: a new order (checked, then
//! rested at once if it meets nothing, else matched), a cancel and a replace. Each stays
//! out of line (`inline(never)`), as when the committed instruction counts were taken.

use super::execute::{remainder, Taker};
use super::slots::Slot;
use super::FastBook;
use crate::book::id_index::{Bucket, Vacancy};
use crate::book::pool::Ix;
use crate::book::validate;
use crate::command::{Command, Event, EventSink, NewOrder, Sink};
use crate::types::{
    CancelReason, OrdType, OrderId, Price, Qty, RejectReason, ReplacePriority, Side, Tif,
};

impl FastBook {
    #[inline(never)]
    pub(super) fn new_order<S: EventSink>(&mut self, o: &NewOrder, sink: &mut S) {
        // One branch serves a price grid, a CME policy and pending stops: the plain book
        // (none of them) pays for all three what it paid for the grid alone, and rests
        // without the CME TOP hook's policy test.
        if self.slow {
            return self.new_order_slow(o, sink);
        }
        if self.admit::<false, S>(o, false, false, sink) {
            self.match_new(o, sink);
        }
    }

    /// [`Self::new_order`] on a book with a grid, a CME policy or pending stops.
    #[cold]
    #[inline(never)]
    fn new_order_slow<S: EventSink>(&mut self, o: &NewOrder, sink: &mut S) {
        if self.pegs.any() {
            if self.untouched_by_pegs(o) {
                // The plain new order, then the pegs' cross at the midpoint it may move.
                if self.admit::<false, S>(o, self.grid, true, sink) {
                    self.match_new(o, sink);
                }
                self.after_plain_with_pegs(sink);
            } else {
                self.apply_with_pegs(&Command::New(*o), sink);
            }
        } else if self.stops.is_empty() {
            if self.admit::<false, S>(o, self.grid, true, sink) {
                self.match_new(o, sink);
            }
        } else if self.admit::<true, S>(o, self.grid, true, sink) {
            self.match_then_trigger(o, sink);
        }
    }

    /// A new order up to matching: validation, `ACK`, and resting or cancelling an order
    /// that meets nothing. Returns `true` when it meets the other side, for the caller to
    /// match it ([`Self::match_new`], or with the cascade after it while stops are
    /// pending, [`super::stops`]). With `STOPS` an id of a pending
    /// stop is a duplicate. A stop type goes to [`Self::new_stop`] from the error path.
    #[inline(always)]
    pub(super) fn admit<const STOPS: bool, S: EventSink>(
        &mut self,
        o: &NewOrder,
        grid: bool,
        note_top: bool,
        sink: &mut S,
    ) -> bool {
        let vacancy = match self.validate_new::<STOPS>(o, grid) {
            Ok(v) => v,
            Err(reason) => {
                self.refused_or_stop(o, reason, sink);
                return false;
            }
        };
        sink.event(Event::Ack { id: o.id });
        // Most orders meet nothing: rest or cancel them without entering the matching
        // walk (no taker to build, no outcome to unpack).
        if self.eligible_level(o.side, o.price).is_none() {
            // Nothing has touched the index since the duplicate-id check.
            if let Some((price, qty)) = remainder(o.id, o.side, o.tif, o.price, o.qty, sink) {
                self.rest(o, price, qty, Some(vacancy), note_top);
            }
            return false;
        }
        true
    }

    /// A new order the plain checks refused: a stop type goes to [`Self::new_stop`], an
    /// iceberg to [`Self::new_iceberg`], a midpoint peg to [`Self::apply_with_pegs`], any
    /// other gets its `REJ`. One out-of-line call for both (measured: with the `REJ`
    /// inline beside the stop call, `add` cost 2 instructions more per order, from
    /// register pressure in `new_order`).
    #[cold]
    #[inline(never)]
    fn refused_or_stop<S: EventSink>(&mut self, o: &NewOrder, reason: RejectReason, sink: &mut S) {
        if o.ord_type.trigger().is_some() {
            self.new_stop(o, sink);
        } else if o.ord_type.display().is_some() {
            self.new_iceberg(o, sink);
        } else if o.ord_type == OrdType::MidPeg {
            // Through a trait object, as for an iceberg: a cascade's orders reach this
            // function again (as far as the types know), and a generic sink would nest
            // without end.
            let mut sink: &mut dyn Sink<Event> = sink;
            self.apply_with_pegs(&Command::New(*o), &mut sink);
        } else {
            sink.event(Event::Reject { id: o.id, reason });
        }
    }

    /// The matching part of a new order that meets the other side: the fill-or-kill
    /// pre-check, the walk, and resting what is left.
    #[inline(always)]
    pub(super) fn match_new<S: EventSink>(&mut self, o: &NewOrder, sink: &mut S) {
        if o.tif == Tif::Fok && !self.fok_fills(o.side, o.account, o.price, o.qty, o.stp) {
            sink.event(Event::Cancel {
                id: o.id,
                qty: o.qty,
                reason: CancelReason::Fok,
                side: o.side,
                price: o.price,
            });
            return;
        }
        let t = Taker::of_new(o);
        // Fills may have removed makers' ids (and moved others), so the duplicate check's
        // place is stale: the rest probes again from the home.
        if let Some((price, qty)) = self.execute(&t, sink) {
            self.rest(o, price, qty, None, true);
        }
    }

    /// The checks of `docs/SEMANTICS.md`, in order: the stateless ones
    /// ([`validate::check_plain_on`], which turns every stop away for
    /// [`Self::new_stop`] to judge), then a live duplicate id (a pending stop's too, with
    /// `STOPS`) and a post-only order that would cross. An accepted order gets back where
    /// its id would be indexed.
    #[inline(always)]
    fn validate_new<const STOPS: bool>(
        &self,
        o: &NewOrder,
        grid: bool,
    ) -> Result<Vacancy, RejectReason> {
        validate::check_plain_on(&self.cfg, grid, o)?;
        let vacancy = match self.index.lookup_for_insert(o.id) {
            Ok(_) => return Err(RejectReason::DuplicateId),
            Err(v) => v,
        };
        if STOPS && self.stop_position(o.id).is_some() {
            return Err(RejectReason::DuplicateId);
        }
        if o.tif == Tif::Post {
            if let Some(p) = o.price {
                if self.would_cross(o.side, p) {
                    return Err(RejectReason::WouldCross);
                }
            }
        }
        Ok(vacancy)
    }

    /// The rest of a user cancel of resting order `id`, found in slot `si` at `bucket`:
    /// its `CXL` of `qty` (its open quantity; an iceberg's with its reserve), then it
    /// leaves. One probe serves the lookup and the removal.
    #[inline(always)]
    pub(super) fn cancel_found<S: EventSink>(
        &mut self,
        id: OrderId,
        bucket: Bucket,
        si: Ix<Slot>,
        qty: Qty,
        sink: &mut S,
    ) {
        let lvl = &self.levels[self.slots[si].level()];
        sink.event(Event::Cancel {
            id,
            qty,
            reason: CancelReason::User,
            side: lvl.side,
            price: Some(lvl.price),
        });
        self.index.remove_unchanged(id, bucket);
        self.unlink(si);
        self.free_slot(si);
    }

    #[inline(never)]
    pub(super) fn cancel<S: EventSink>(&mut self, id: OrderId, sink: &mut S) {
        match self.index.lookup_for_remove(id) {
            Some((bucket, si)) => {
                let qty = self.slots[si].qty;
                self.cancel_found(id, bucket, si, qty, sink);
            }
            // With no stop pending the miss is answered here, as before stops existed:
            // with only the call below, the hit path paid an instruction per cancel
            // (`self` kept in another register for the call; measured).
            None if self.stops.is_empty() => sink.event(Event::Reject {
                id,
                reason: RejectReason::UnknownId,
            }),
            None => self.cancel_not_resting(id, sink),
        }
    }

    /// A replace while icebergs or pegs rest (the dispatcher's `exotic` test): with pegs
    /// resting, the whole command on the pegs' path; else the iceberg-aware replace. Then
    /// `exotic` recomputed, clearing it once neither rests.
    #[cold]
    #[inline(never)]
    pub(super) fn exotic_replace<S: EventSink>(
        &mut self,
        id: OrderId,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) {
        if self.pegs.any() {
            return self.apply_with_pegs(&Command::Replace { id, price, qty }, sink);
        }
        self.replace::<true, S>(id, price, qty, sink);
        // No peg rests here, and a change to the stops refreshes the modes itself: only
        // the icebergs can have gone (measured: the whole refresh cost an iceberg's cancel
        // 37 instructions).
        self.exotic = self.icebergs.any();
    }

    /// A cancel while icebergs or pegs rest: an iceberg's cancel goes straight to
    /// [`Self::cancel_with_icebergs`] (through one exotic path shared with replaces it cost
    /// 18 instructions more, gungraun `iceberg_cancel`).
    #[inline(never)]
    pub(super) fn exotic_cancel<S: EventSink>(&mut self, id: OrderId, sink: &mut S) {
        if self.pegs.any() {
            return self.cancel_while_pegs_rest(id, sink);
        }
        self.cancel_with_icebergs(id, sink);
        self.exotic = self.icebergs.any();
    }

    /// A cancel while pegs rest (a peg's or a lit order's), then the pegs' cross at the
    /// midpoint it may move: [`Self::apply_with_pegs`], without a cascade to wrap it in
    /// when no stop is pending. Out of line: inlined, it made an iceberg's cancel save
    /// more registers (gungraun `iceberg_cancel` +12 instructions).
    #[inline(never)]
    fn cancel_while_pegs_rest<S: EventSink>(&mut self, id: OrderId, sink: &mut S) {
        if !self.stops.is_empty() {
            return self.apply_with_pegs(&Command::Cancel { id }, sink);
        }
        self.cancel_with_pegs(id, sink);
        self.after_plain_with_pegs(sink);
    }

    /// A replace; with `ICEBERGS` (the exotic path) a resting iceberg's replace goes to
    /// [`Self::replace_iceberg`], without it no iceberg rests.
    #[inline(never)]
    pub(super) fn replace<const ICEBERGS: bool, S: EventSink>(
        &mut self,
        id: OrderId,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) {
        let Some(si) = self.index.get(id) else {
            sink.event(Event::Reject {
                id,
                reason: RejectReason::UnknownId,
            });
            return;
        };
        if let Err(reason) = validate::check_replace_on(&self.cfg, self.grid, price, qty) {
            sink.event(Event::Reject { id, reason });
            return;
        }
        let s = self.slots[si];
        let (tif, li) = (s.tif(), s.level());
        let side = self.levels[li].side;
        if tif == Tif::Post && self.would_cross(side, price) {
            sink.event(Event::Reject {
                id,
                reason: RejectReason::WouldCross,
            });
            return;
        }
        sink.event(Event::Replaced { id });
        if let Some(st) = (ICEBERGS && self.icebergs.any())
            .then(|| self.icebergs.get(si))
            .flatten()
        {
            return self.replace_iceberg(si, id, price, qty, st.display, sink);
        }
        let cur_price = self.levels[li].price;
        if self.cfg.replace_priority == ReplacePriority::KeepIfReduced
            && price == cur_price
            && qty <= s.qty
        {
            return self.reduce_in_place(si, qty);
        }
        // Lose priority: leave the level, re-enter as a taker, and rest again in the same
        // slot under the same index entry (neither is touched unless the order ends).
        self.unlink(si);
        // Resting orders are GTC or post-only, so one that meets nothing simply rests.
        if self.eligible_level(side, Some(price)).is_none() {
            self.link_tail(si, side, price, qty);
            return;
        }
        let t = Taker::requeued(&s, id, side, price, qty);
        if !self.stops.is_empty() {
            return self.replace_then_trigger(si, &t, sink);
        }
        let left = self.execute(&t, sink);
        self.settle(si, id, side, left);
    }

    /// A replace that keeps its place: the order in slot `si` shows `qty` (not more than
    /// it had) at its level.
    #[inline(always)]
    pub(super) fn reduce_in_place(&mut self, si: Ix<Slot>, qty: Qty) {
        let s = &mut self.slots[si];
        let cut = s.qty - qty;
        s.qty = qty;
        let li = s.level();
        self.levels[li].total -= cut as u128;
    }

    /// Where a re-entered (replaced) order ends once it has met the other side: `left`
    /// rests again in slot `si` under its index entry, or, with nothing left, the order
    /// leaves the index and the slot is freed.
    #[inline(always)]
    pub(super) fn settle(
        &mut self,
        si: Ix<Slot>,
        id: OrderId,
        side: Side,
        left: Option<(Price, Qty)>,
    ) {
        match left {
            Some((price, qty)) => self.link_tail(si, side, price, qty),
            None => {
                self.index.remove(id);
                self.free_slot(si);
            }
        }
    }
}
