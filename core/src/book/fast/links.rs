//! The FIFO of each level: putting a slot at its level's tail, taking it out, and taking
//! quantity off it, with the level's count and total kept in step. Every operation is
//! O(1): slots are doubly linked, and a level that empties is handed to the ladder upkeep.

use super::slots::{Level, Slot};
use super::FastBook;
use crate::book::id_index::Vacancy;
use crate::book::pool::{Ix, Link};
use crate::command::NewOrder;
use crate::types::{Price, Qty, Side};

impl FastBook {
    /// A new resting order: a fresh slot at the tail of its level, and its id indexed:
    /// from where the duplicate-id check stopped (`Some`, only when nothing has touched the
    /// index since), else from the id's home (`None`, after a match). Inlined at both
    /// calls, so the choice is made at compile time.
    #[inline(always)]
    pub(super) fn rest(
        &mut self,
        o: &NewOrder,
        price: Price,
        qty: Qty,
        at: Option<Vacancy>,
        note_top: bool,
    ) -> Ix<Slot> {
        let NewOrder {
            id,
            account,
            side,
            tif,
            stp,
            ..
        } = *o;
        if note_top {
            self.note_top(side, price, id);
        }
        let li = self.level_for(side, price);
        let tail = self.levels[li].tail;
        // The slot is written once, already linked after the level's tail.
        let si = self.slots.alloc(Slot {
            id,
            qty,
            next: Link::NIL,
            prev: tail,
            level_flags: Slot::pack(li, tif, stp),
            account,
        });
        self.append(li, si, tail, qty);
        match at {
            Some(at) => self.index.insert_unchanged(id, si, at),
            None => self.index.insert(id, si),
        }
        self.live += 1;
        si
    }

    /// Make slot `si`, whose `prev` is already `tail`, the new tail of level `li`.
    #[inline(always)]
    fn append(&mut self, li: Ix<Level>, si: Ix<Slot>, tail: Link<Slot>, qty: Qty) {
        match tail.get() {
            None => self.levels[li].head = si.into(),
            Some(t) => self.slots[t].next = si.into(),
        }
        let lvl = &mut self.levels[li];
        lvl.tail = si.into();
        lvl.count += 1;
        lvl.total += qty as u128;
    }

    /// Put slot `si` (not linked anywhere) at the tail of the `side` level at `price`,
    /// with `qty` open.
    #[inline(always)]
    pub(super) fn link_tail(&mut self, si: Ix<Slot>, side: Side, price: Price, qty: Qty) {
        self.note_top(side, price, self.slots[si].id);
        let li = self.level_for(side, price);
        let tail = self.levels[li].tail;
        let s = &mut self.slots[si];
        s.qty = qty;
        s.set_level(li);
        s.prev = tail;
        s.next = Link::NIL;
        self.append(li, si, tail, qty);
    }

    /// Take a resting order out of the book: unindex, unlink and free it (the caller
    /// emits any event).
    pub(super) fn remove(&mut self, si: Ix<Slot>) {
        self.index.remove(self.slots[si].id);
        self.unlink(si);
        self.free_slot(si);
    }

    /// Return an unlinked, unindexed slot to the pool.
    #[inline(always)]
    pub(super) fn free_slot(&mut self, si: Ix<Slot>) {
        self.slots.release(si);
        self.live -= 1;
    }

    /// Unlink slot `si` from its level's FIFO (the slot and its id stay as they are).
    #[inline(always)]
    pub(super) fn unlink(&mut self, si: Ix<Slot>) {
        let s = self.slots[si];
        let li = s.level();
        match s.prev.get() {
            Some(p) => self.slots[p].next = s.next,
            None => self.levels[li].head = s.next,
        }
        match s.next.get() {
            Some(n) => self.slots[n].prev = s.prev,
            None => self.levels[li].tail = s.prev,
        }
        let lvl = &mut self.levels[li];
        lvl.count -= 1;
        lvl.total -= s.qty as u128;
        if self.levels[li].count == 0 {
            self.level_emptied(li);
        }
    }

    /// [`FastBook::take`] for the head of level `li`, which is the only maker price-time
    /// matching ever fills: at zero the order leaves without the general unlink's test of
    /// a previous slot, and inline, without a call's register saves (callgrind, `sweep`
    /// and `match_one`: the call and the test were about 20 instructions a fill).
    #[inline(always)]
    pub(super) fn take_head<const ICEBERGS: bool>(&mut self, li: Ix<Level>, si: Ix<Slot>, q: Qty) {
        debug_assert!(self.levels[li].head.get() == Some(si));
        let s = &mut self.slots[si];
        s.qty -= q;
        let (left, id, next) = (s.qty, s.id, s.next);
        self.levels[li].total -= q as u128;
        if left != 0 {
            return;
        }
        // An iceberg with a reserve refills instead of leaving ([`super::iceberg`]).
        if ICEBERGS && self.refill_iceberg(si) {
            return;
        }
        self.index.remove(id);
        match next.get() {
            Some(n) => self.slots[n].prev = Link::NIL,
            None => self.levels[li].tail = Link::NIL,
        }
        let lvl = &mut self.levels[li];
        lvl.head = next;
        lvl.count -= 1;
        if lvl.count == 0 {
            self.level_emptied(li);
        }
        self.free_slot(si);
    }

    /// Take `q` off a resting order (a fill or a decrement); removes it at zero.
    /// Returns true if the order left the book.
    #[inline]
    pub(super) fn take(&mut self, si: Ix<Slot>, q: Qty) -> bool {
        let s = &mut self.slots[si];
        s.qty -= q;
        let li = s.level();
        // `remove` subtracts the (then zero) open quantity; subtract the taken part here.
        self.levels[li].total -= q as u128;
        if s.qty == 0 {
            // An iceberg with a reserve refills instead of leaving ([`super::iceberg`]).
            if self.icebergs.any() && self.refill_iceberg(si) {
                return false;
            }
            self.remove(si);
            true
        } else {
            false
        }
    }
}
