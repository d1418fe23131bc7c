//! The Leveling step (algorithm K, when enabled): the pro-rata rounding residue is spread
//! one lot at a time.
//!
//! Source: the Leveling section of "CME Globex Matching Algorithm Steps"
//! (<https://cmegroupclientsite.atlassian.net/wiki/spaces/EPICSANDBOX/pages/457218521>),
//! whose matrix places Leveling after Pro Rata and before the final FIFO in K and says it
//! can be switched on or off per product. The stored copies of that page available to this
//! work gave the section heading and the matrix but not the section's text or its example,
//! so the rule below is this project's reading, recorded as a choice in
//! `docs/ALLOCATION.md`: one pass in time priority giving one lot to each order that still
//! has open quantity after the Pro Rata step, until the residue runs out; anything left
//! goes to the final FIFO step.

use super::{open_left, LevelOrder};
use crate::types::Qty;

/// One lot to each order with open quantity, in time order, up to `quantity` lots.
/// Returns the total allocated.
pub(super) fn allocate(orders: &[LevelOrder], fills: &mut [Qty], quantity: Qty) -> Qty {
    let mut left = quantity;
    for i in 0..orders.len() {
        if left == 0 {
            break;
        }
        if open_left(orders, fills, i) > 0 {
            fills[i] += 1;
            left -= 1;
        }
    }
    quantity - left
}
