//! The fill-or-kill pre-check: a read-only walk that decides whether an order would fill
//! completely at once, so that a FOK that cannot is cancelled before anything trades.
//!
//! It follows the matching rules without matching: price-time stops as soon as enough is
//! found; pro-rata counts whole levels, because each level's STP pass happens before any
//! fill. Sums are in 128 bits (two makers of 2^63 already exceed 64).

use super::FastBook;
use crate::types::{Account, MatchPolicy, Price, Qty, Side, Stp};

impl FastBook {
    /// Would an IOC with this limit and STP mode fill `qty` completely?
    pub(super) fn fok_fills(
        &self,
        side: Side,
        account: Account,
        limit: Option<Price>,
        qty: Qty,
        stp: Stp,
    ) -> bool {
        let ladder = self.ladder(side.opposite());
        // CME allocation, like pro-rata, runs STP over the whole level before any fill and
        // then always fills `min(taker, rest of the level)`.
        let pro_rata = matches!(
            self.cfg.policy,
            MatchPolicy::ProRata { .. } | MatchPolicy::Cme(_)
        );
        let owner = self.taker_owner(account, stp);
        let mut need = qty as u128;
        for li in ladder.best_first() {
            let lvl = &self.levels[li];
            if lvl.count == 0 {
                continue;
            }
            if let Some(l) = limit {
                if !side.accepts(l, lvl.price) {
                    return false;
                }
            }
            let mut cur = lvl.head;
            let mut level_qty: u128 = 0;
            while let Some(si) = cur.get() {
                let m = &self.slots[si];
                if stp != Stp::None && self.same_owner(m.account, account, owner) {
                    match stp {
                        // CM only removes the maker; the others cut the taker short.
                        Stp::CancelMaker => {}
                        _ => return false,
                    }
                } else {
                    level_qty += m.qty as u128;
                    // Under price-time the walk ends as soon as the taker is filled; under
                    // pro-rata the whole level's STP pass happens before any fill.
                    if !pro_rata && level_qty >= need {
                        return true;
                    }
                }
                cur = m.next;
            }
            if level_qty >= need {
                return true;
            }
            need -= level_qty;
        }
        false
    }
}
