//! Self-trade prevention: what the taker's STP mode does when it meets a resting order of
//! its own account (or, with account groups set, of its own group), per
//! `docs/SEMANTICS.md`. Shared by both matching policies and the fill-or-kill check.
//!
//! Group STP costs the walk nothing when it is off or the taker has no STP mode: the
//! taker's owner key is computed once per walk, only for a taker with a mode and only
//! when groups are set, and a maker's group is looked up only when its account differs
//! from the taker's.

use super::execute::Taker;
use super::slots::{Level, Slot};
use super::FastBook;
use crate::book::pool::Ix;
use crate::command::{Event, EventSink};
use crate::types::{Account, CancelReason, Qty, Stp};

/// What a level walk does after [`FastBook::stp_over_level`].
pub(super) enum AfterStp {
    /// Share the level out among the orders left.
    Share,
    /// The level emptied or is no longer the best: look for the best level again.
    NextLevel,
    /// The taker's STP mode stopped it.
    Stopped,
}

impl FastBook {
    /// The owner key of a taker of `account` with mode `stp`, for [`FastBook::same_owner`]
    /// (0, never read, when the mode is none or groups are off).
    #[inline(always)]
    pub(super) fn taker_owner(&self, account: Account, stp: Stp) -> u64 {
        if stp != Stp::None && !self.groups.is_empty() {
            self.groups.owner(account)
        } else {
            0
        }
    }

    /// Does a maker of account `maker` belong to the taker of account `taker` (owner key
    /// `taker_owner` from [`FastBook::taker_owner`])? The same account always does; with
    /// groups set, so does any account of the same group.
    #[inline(always)]
    pub(super) fn same_owner(&self, maker: Account, taker: Account, taker_owner: u64) -> bool {
        maker == taker || (!self.groups.is_empty() && self.groups.owner(maker) == taker_owner)
    }

    /// Self-trade prevention over a whole level before any of it is shared out (pro-rata
    /// and the CME family both do this): every order of level `li` that belongs to the
    /// taker's owner (`owner` from [`FastBook::taker_owner`]) meets the taker's STP mode,
    /// in time order, reducing `rem`. Says what the walk does next.
    pub(super) fn stp_over_level<S: EventSink>(
        &mut self,
        t: &Taker,
        owner: u64,
        rem: &mut Qty,
        li: Ix<Level>,
        sink: &mut S,
    ) -> AfterStp {
        if t.stp == Stp::None {
            return AfterStp::Share;
        }
        // Up to the level's tail as it is now: an iceberg that `DC` empties shows its next
        // part behind it, and meets the taker again only in the level's next round.
        let last = self.levels[li].tail;
        let mut cur = self.levels[li].head;
        while let Some(si) = cur.get() {
            cur = self.slots[si].next;
            if self.same_owner(self.slots[si].account, t.account, owner) {
                let (maker, shown, before) = (self.slots[si].id, self.slots[si].qty, *rem);
                let (r, stopped) = self.self_trade(t, *rem, si, sink);
                // A `DC` that empties the CME TOP order's shown part ends its TOP: the
                // order left, or (an iceberg) shows a new part with new time priority.
                // (`top` is never set outside CME, so pro-rata only pays the compare.)
                let top = &mut self.top[t.side.opposite() as usize];
                if t.stp == Stp::DecrementCancel && before - r >= shown && *top == Some(maker) {
                    *top = None;
                }
                *rem = r;
                if stopped {
                    return AfterStp::Stopped;
                }
            }
            if last.get() == Some(si) {
                break;
            }
        }
        // The level may have emptied (and left the ladder): start over at the best.
        if self.levels[li].count == 0 || self.best_level(t.side.opposite()) != Some(li) {
            AfterStp::NextLevel
        } else {
            AfterStp::Share
        }
    }

    /// Apply the taker's STP mode to a same-account maker `si`, the taker having `rem`
    /// left. Returns the taker's new remaining quantity and whether the taker stopped.
    #[inline]
    pub(super) fn self_trade<S: EventSink>(
        &mut self,
        t: &Taker,
        mut rem: Qty,
        si: Ix<Slot>,
        sink: &mut S,
    ) -> (Qty, bool) {
        let m = self.slots[si];
        let maker_price = Some(self.levels[m.level()].price);
        let maker_side = t.side.opposite();
        let cancel_maker = |sink: &mut S, qty| {
            sink.event(Event::Cancel {
                id: m.id,
                qty,
                reason: CancelReason::Stp,
                side: maker_side,
                price: maker_price,
            })
        };
        let cancel_taker = |sink: &mut S, qty| {
            sink.event(Event::Cancel {
                id: t.id,
                qty,
                reason: CancelReason::Stp,
                side: t.side,
                price: t.limit,
            })
        };
        match t.stp {
            Stp::None => unreachable!("STP none is an ordinary trade"),
            Stp::CancelTaker => {
                cancel_taker(sink, rem);
                (0, true)
            }
            Stp::CancelMaker => {
                cancel_maker(sink, self.leaving_qty(si));
                self.remove(si);
                (rem, false)
            }
            Stp::CancelBoth => {
                cancel_maker(sink, self.leaving_qty(si));
                self.remove(si);
                cancel_taker(sink, rem);
                (0, true)
            }
            Stp::DecrementCancel => {
                let d = rem.min(m.qty);
                cancel_maker(sink, d);
                cancel_taker(sink, d);
                self.take(si, d);
                rem -= d;
                // A taker decremented to zero is done: nothing more to report.
                (rem, rem == 0)
            }
        }
    }
}
