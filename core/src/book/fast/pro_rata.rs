//! Pro-rata matching, per `docs/SEMANTICS.md`: per level, self-trade prevention first (in
//! time order), then the optional top order FIFO, then proportional allocation with
//! largest-remainder rounding (ties to the earlier arrival); fills printed in time order.
//! With icebergs a level is shared in rounds over shown parts (`docs/SEMANTICS.md`,
//! "Icebergs under pro-rata and CME"): one pass of the walk's loop is one round, a refill
//! goes to the back of the level, and the round only reaches the orders it started with
//! (a refilled top order is left out of its allocation by count, as the level's tail).
//!
//! Products are computed in 128 bits (a taker's quantity times a maker's needs up to
//! 128). A remainder is below the level's total, so it fits in 64 bits unless the total
//! does not: the leftovers are ranked on 64-bit remainders when the total fits (always,
//! short of quantities near `u64::MAX`) and on 128-bit ones otherwise. One generic
//! allocation serves both; ranking every level in 128 bits cost the `pro_rata_10_takers`
//! benchmark about 48% more instructions.

use super::execute::{Outcome, Taker};
use super::slots::Level;
use super::stp::AfterStp;
use super::FastBook;
use crate::book::pool::Ix;
use crate::command::EventSink;
use crate::types::Qty;

/// A pro-rata remainder, ranked to hand out the units left after the floors.
pub(super) trait Remainder: Copy + Ord {
    /// `r`, known to fit.
    fn narrow(r: u128) -> Self;
}

impl Remainder for u64 {
    #[inline(always)]
    fn narrow(r: u128) -> u64 {
        r as u64
    }
}

impl Remainder for u128 {
    #[inline(always)]
    fn narrow(r: u128) -> u128 {
        r
    }
}

impl FastBook {
    /// Match `t` against the opposite side, one level at a time, pro-rata.
    pub(super) fn match_pro_rata<S: EventSink>(
        &mut self,
        t: &Taker,
        top_order: bool,
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
            // 2. Top order, FIFO. Filled completely, it left the level, or (an iceberg)
            // showed its next part at the back: that part waits for the level's next round.
            let (mut n, mut total) = (self.levels[li].count, self.levels[li].total);
            if top_order {
                let Some(si) = self.levels[li].head.get() else {
                    continue;
                };
                let q = rem.min(self.slots[si].qty);
                self.fill(id, si, price, q, sink);
                rem -= q;
                let level = &self.levels[li];
                if level.count == 0 {
                    continue; // the level emptied and was popped
                }
                if rem == 0 {
                    break;
                }
                (n, total) = (level.count, level.total);
                if level.tail.get() == Some(si) {
                    n -= 1;
                    total -= self.slots[si].qty as u128;
                    if n == 0 {
                        continue;
                    }
                }
            }
            // 3. Allocation among the level's first `n` orders (this round's).
            if rem as u128 >= total {
                // Everyone fills completely, in time order. Each leaves the level, or shows
                // its next part at the back for the next round.
                for _ in 0..n {
                    let Some(si) = self.levels[li].head.get() else {
                        unreachable!("a round's orders are in the level");
                    };
                    let q = self.slots[si].qty;
                    self.fill(id, si, price, q, sink);
                    rem -= q;
                }
                continue;
            }
            if total <= u64::MAX as u128 {
                let mut ranking = std::mem::take(&mut self.ranking);
                self.allocate(li, n, rem, total, &mut ranking);
                self.ranking = ranking;
            } else {
                let mut ranking = std::mem::take(&mut self.wide_ranking);
                self.allocate(li, n, rem, total, &mut ranking);
                self.wide_ranking = ranking;
            }
            // 4. Print fills in time order.
            for k in 0..self.scratch.len() {
                let (si, a) = self.scratch[k];
                if a == 0 {
                    continue;
                }
                self.fill(id, si, price, a, sink);
                rem -= a;
            }
            debug_assert_eq!(rem, 0);
        }
        Outcome {
            remaining: rem,
            stopped: false,
        }
    }

    /// Fill `scratch` with each of the first `n` orders' share of `rem` (< `total`, their
    /// open quantity) at level `li`, in time order: the floor of `rem * qty / total`, plus
    /// one for each of the `rem - floors` largest remainders, ties to the earlier arrival.
    #[inline(always)]
    fn allocate<R: Remainder>(
        &mut self,
        li: Ix<Level>,
        n: u32,
        rem: Qty,
        total: u128,
        ranking: &mut Vec<(R, u32)>,
    ) {
        self.scratch.clear();
        ranking.clear();
        let q_all = rem as u128;
        let mut allocated: Qty = 0;
        let mut cur = self.levels[li].head;
        let mut pos = 0u32;
        while pos < n {
            let Some(si) = cur.get() else {
                break;
            };
            let s = &self.slots[si];
            let share = q_all * s.qty as u128;
            // Below `s.qty`, because `rem < total`.
            let a = (share / total) as Qty;
            allocated += a;
            self.scratch.push((si, a));
            // Below `total`, which `R` holds (the caller chose it so).
            ranking.push((R::narrow(share % total), pos));
            pos += 1;
            cur = s.next;
        }
        // The `left` units go one each to the largest remainders, ties to the earlier
        // arrival. Keys are unique (the position breaks ties), so a selection (O(n), no
        // allocation) picks exactly the same participants a full sort would.
        let left = (rem - allocated) as usize;
        if left > 0 {
            let key = |e: &(R, u32)| (std::cmp::Reverse(e.0), e.1);
            if left < ranking.len() {
                ranking.select_nth_unstable_by_key(left - 1, key);
            }
            for &(_, p) in &ranking[..left] {
                self.scratch[p as usize].1 += 1;
            }
        }
    }
}
