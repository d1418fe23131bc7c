//! CME Globex allocation in the fast book ([`MatchPolicy::Cme`]): the per-level walk that
//! hands a level to [`crate::allocation::allocate`], and the upkeep of each side's TOP
//! order (`docs/ALLOCATION.md`, "In the books").
//!
//! Per level, as under pro-rata: self-trade prevention first over the level's same-owner
//! orders in time order, then the allocation among what is left, fills printed in time
//! order. The level's orders are copied into scratch vectors the book owns (grown only when
//! a level holds more orders than any before it, so no allocation after warm-up).
//!
//! TOP: per side, the id of the order that last rested at a price strictly better than
//! that side's best (or on an empty side). It is checked lazily: an order at the level
//! being allocated is the TOP order when its id is the side's TOP id. The id outlives the
//! order; the one hook that keeps this exact is [`FastBook::note_top`], run on every rest:
//! an order resting with the TOP id without bettering the best clears it (so a reused id
//! never inherits TOP). A better price resting makes its order the new TOP, so the TOP id
//! is always at the best level or gone.

use super::execute::{Outcome, Taker};
use super::stp::AfterStp;
use super::FastBook;
use crate::allocation::{allocate, CmePolicy, LevelOrder};
use crate::command::EventSink;
use crate::types::{MatchPolicy, OrderId, Price, Side};

impl FastBook {
    /// Record TOP for an order `id` about to rest at `price` on `side` (a no-op unless the
    /// policy is CME). Called before the order is linked, so the best is the old best.
    #[inline(always)]
    pub(super) fn note_top(&mut self, side: Side, price: Price, id: OrderId) {
        if let MatchPolicy::Cme(_) = self.cfg.policy {
            self.note_top_cme(side, price, id);
        }
    }

    #[inline(never)]
    fn note_top_cme(&mut self, side: Side, price: Price, id: OrderId) {
        let betters = match self.best_level(side) {
            Some(li) => {
                let l = &self.levels[li];
                l.count == 0 || side.better(price, l.price)
            }
            None => true,
        };
        let top = &mut self.top[side as usize];
        if betters {
            *top = Some(id);
        } else if *top == Some(id) {
            *top = None;
        }
    }

    /// Match `t` against the opposite side, one level at a time, by the CME algorithm.
    pub(super) fn match_cme<S: EventSink>(
        &mut self,
        t: &Taker,
        policy: &CmePolicy,
        sink: &mut S,
    ) -> Outcome {
        let Taker {
            id,
            account,
            side,
            limit,
            qty,
            stp,
            ..
        } = *t;
        let opp = side.opposite();
        let owner = self.taker_owner(account, stp);
        let mut rem = qty;
        while rem > 0 {
            let Some((li, price)) = self.eligible_level(side, limit) else {
                break;
            };
            // 1. Self-trade prevention, in time order.
            match self.stp_over_level(t, owner, &mut rem, li, sink) {
                AfterStp::Share => {}
                AfterStp::NextLevel => continue,
                AfterStp::Stopped => {
                    return Outcome {
                        remaining: rem,
                        stopped: true,
                    }
                }
            }
            // 2. The level's orders, in time order, with the TOP flag.
            let top = self.top[opp as usize];
            let mut orders = std::mem::take(&mut self.cme_orders);
            let mut slots = std::mem::take(&mut self.cme_slots);
            let mut fills = std::mem::take(&mut self.cme_fills);
            orders.clear();
            slots.clear();
            let mut cur = self.levels[li].head;
            while let Some(si) = cur.get() {
                let s = &self.slots[si];
                orders.push(LevelOrder {
                    id: s.id,
                    open: s.qty,
                    account: s.account,
                    top: top == Some(s.id),
                });
                slots.push(si);
                cur = s.next;
            }
            fills.clear();
            fills.resize(orders.len(), 0);
            // 3. Allocation. The parameters were validated when the policy was built, the
            // buffer fits and at most one order carries the TOP id, so this cannot fail;
            // were it to, the level is filled FIFO (the book must never rest crossed).
            let ok = allocate(
                &orders,
                rem,
                policy.algorithm(),
                policy.params(),
                &mut fills,
            );
            debug_assert!(ok.is_ok(), "allocation refused: {ok:?}");
            if ok.is_err() {
                let mut left = rem;
                for (f, o) in fills.iter_mut().zip(&orders) {
                    *f = o.open.min(left);
                    left -= *f;
                }
            }
            // 4. Fills in time order. A TOP order filled for all it shows has left, or (an
            // iceberg) shown a new part with new time priority: TOP no more either way.
            for (k, &si) in slots.iter().enumerate() {
                let a = fills[k];
                if a > 0 {
                    if orders[k].top && a == orders[k].open {
                        self.top[opp as usize] = None;
                    }
                    self.fill(id, si, price, a, sink);
                    rem -= a;
                }
            }
            self.cme_orders = orders;
            self.cme_slots = slots;
            self.cme_fills = fills;
        }
        Outcome {
            remaining: rem,
            stopped: false,
        }
    }
}
