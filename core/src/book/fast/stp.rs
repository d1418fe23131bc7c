//! Self-trade prevention: what the taker's STP mode does when it meets a resting order of
//! its own account, per `docs/SEMANTICS.md`. Shared by both matching policies.

use super::execute::Taker;
use super::slots::Slot;
use super::FastBook;
use crate::book::pool::Ix;
use crate::command::{Event, EventSink};
use crate::types::{CancelReason, Qty, Stp};

impl FastBook {
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
                cancel_maker(sink, m.qty);
                self.remove(si);
                (rem, false)
            }
            Stp::CancelBoth => {
                cancel_maker(sink, m.qty);
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
