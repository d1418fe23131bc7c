//! The LMM step: each Lead Market Maker takes its guaranteed percentage.
//!
//! Source: "Lead Market Maker (LMM) Allocation Algorithm"
//! (<http://www.cme.com/trading/get/abt/functionality/lmm.html>) and the LMM section of
//! "CME Globex Matching Algorithm Steps": each designated LMM is allocated a configurable
//! percentage of the aggressor quantity still to allocate, before the rest goes to the next
//! step; an LMM with several orders at the level has them aggregated and filled in time
//! priority until its percentage is reached; the allocation never exceeds what the LMM has
//! resting; a TOP order that belongs to an LMM is matched in the TOP step and left out of
//! the LMM calculation.
//!
//! Choices where the text is silent: every LMM's percentage is taken of the same base (the
//! quantity entering this step), rounded down; LMMs are served in the order listed.

use super::{open_left, LevelOrder, Lmm};
use crate::types::Qty;

/// Allocate each LMM's share of `remaining` to its orders in time priority, skipping
/// `top_taken` (the TOP order, when the TOP step filled it). Returns the total allocated.
pub(super) fn allocate(
    orders: &[LevelOrder],
    fills: &mut [Qty],
    remaining: Qty,
    top_taken: Option<usize>,
    lmms: &[Lmm],
) -> Qty {
    let base = u128::from(remaining);
    let mut allocated: Qty = 0;
    for lmm in lmms {
        // percent <= 50, so the share is at most half of `remaining`: it fits, and the
        // shares of all LMMs (total <= 50%) never exceed `remaining`.
        let mut share = (base * u128::from(lmm.percent) / 100) as Qty;
        for i in 0..orders.len() {
            if share == 0 {
                break;
            }
            if orders[i].account != lmm.account || Some(i) == top_taken {
                continue;
            }
            let take = open_left(orders, fills, i).min(share);
            fills[i] += take;
            share -= take;
            allocated += take;
        }
    }
    allocated
}
