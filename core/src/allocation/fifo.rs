//! The FIFO step: time priority.
//!
//! Source: the FIFO section of "CME Globex Matching Algorithm Steps"
//! (<https://cmegroupclientsite.atlassian.net/wiki/spaces/EPICSANDBOX/pages/457218521>):
//! resting orders are matched in timestamp order only, earliest first. Every algorithm ends
//! with this step, which takes whatever earlier steps left (rounding residue, capped TOP or
//! LMM shares); the Split step's FIFO share uses it too.

use super::{open_left, LevelOrder};
use crate::types::Qty;

/// Allocate up to `quantity` to orders in time order, each up to what it has left. Returns
/// the total allocated.
pub(super) fn allocate(orders: &[LevelOrder], fills: &mut [Qty], quantity: Qty) -> Qty {
    let mut left = quantity;
    for i in 0..orders.len() {
        if left == 0 {
            break;
        }
        let take = open_left(orders, fills, i).min(left);
        fills[i] += take;
        left -= take;
    }
    quantity - left
}
