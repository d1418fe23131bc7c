//! The Pro Rata step: shares proportional to size, rounded down, with a minimum.
//!
//! Source: the Pro Rata section and example of "CME Globex Matching Algorithm Steps"
//! (<https://cmegroupclientsite.atlassian.net/wiki/spaces/EPICSANDBOX/pages/457218521>;
//! also the older copy at cmegroup.com/confluence, page 101286569) and the Allocation
//! algorithm text of "Matching Algorithms": each order's share is its working quantity
//! over the total working quantity at the level, times the quantity entering the step;
//! the result is rounded down; a share below the instrument's pro-rata minimum (two lots
//! for the Eurodollar/SOFR A algorithm) becomes zero; what rounding leaves is not handed
//! out here but passes to the next step (FIFO, or Leveling in K).
//!
//! "Working quantity" is each order's quantity still open when the step runs (after TOP,
//! LMM and a split's FIFO share), the way the steps page's example tabulates "working
//! quantity before step". A TOP order capped by `top_max` takes part with what it has left.

use super::{open_left, LevelOrder};
use crate::types::Qty;

/// Allocate `quantity` pro rata over the orders' open quantities, rounding down and
/// dropping shares below `minimum`. Returns the total allocated (at most `quantity`).
pub(super) fn allocate(
    orders: &[LevelOrder],
    fills: &mut [Qty],
    quantity: Qty,
    minimum: Qty,
) -> Qty {
    let mut total: u128 = 0;
    for i in 0..orders.len() {
        total += u128::from(open_left(orders, fills, i));
    }
    if total == 0 || quantity == 0 {
        return 0;
    }
    let quantity_wide = u128::from(quantity);
    let mut allocated: Qty = 0;
    for i in 0..orders.len() {
        let open = open_left(orders, fills, i);
        // open * quantity / total <= quantity: fits a Qty.
        let share = (u128::from(open) * quantity_wide / total) as Qty;
        let share = share.min(open);
        if share >= minimum {
            fills[i] += share;
            allocated += share;
        }
    }
    allocated
}
