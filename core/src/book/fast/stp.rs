//! Self-trade prevention: what the taker's STP mode does when it meets a resting order of
//! its own account, per `docs/SEMANTICS.md`. Shared by both matching policies.

use super::slots::Slot;
use super::FastBook;
use crate::book::pool::Ix;
use crate::command::{Event, EventSink};
use crate::types::{CancelReason, OrderId, Qty, Stp};

impl FastBook {
    /// Apply the taker's STP mode to a same-account maker `si`. Returns the taker's new
    /// remaining quantity and whether the taker stopped.
    #[inline]
    pub(super) fn self_trade<S: EventSink>(
        &mut self,
        taker: OrderId,
        mut rem: Qty,
        stp: Stp,
        si: Ix<Slot>,
        sink: &mut S,
    ) -> (Qty, bool) {
        let m = self.slots[si];
        match stp {
            Stp::None => unreachable!("STP none is an ordinary trade"),
            Stp::CancelTaker => {
                sink.event(Event::Cancel {
                    id: taker,
                    qty: rem,
                    reason: CancelReason::Stp,
                });
                (0, true)
            }
            Stp::CancelMaker => {
                sink.event(Event::Cancel {
                    id: m.id,
                    qty: m.qty,
                    reason: CancelReason::Stp,
                });
                self.remove(si);
                (rem, false)
            }
            Stp::CancelBoth => {
                sink.event(Event::Cancel {
                    id: m.id,
                    qty: m.qty,
                    reason: CancelReason::Stp,
                });
                self.remove(si);
                sink.event(Event::Cancel {
                    id: taker,
                    qty: rem,
                    reason: CancelReason::Stp,
                });
                (0, true)
            }
            Stp::DecrementCancel => {
                let d = rem.min(m.qty);
                sink.event(Event::Cancel {
                    id: m.id,
                    qty: d,
                    reason: CancelReason::Stp,
                });
                sink.event(Event::Cancel {
                    id: taker,
                    qty: d,
                    reason: CancelReason::Stp,
                });
                self.take(si, d);
                rem -= d;
                // A taker decremented to zero is done: nothing more to report.
                (rem, rem == 0)
            }
        }
    }
}
