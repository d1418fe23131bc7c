//! The TOP step: the order that set the level as the new best price is filled first.
//!
//! Source: the TOP section of "CME Globex Matching Algorithm Steps"
//! (<https://cmegroupclientsite.atlassian.net/wiki/spaces/EPICSANDBOX/pages/457218521>)
//! and the Eurodollar notices (e.g. CME Globex notice 020705-1, 2005): priority goes to the
//! first order that betters the market, one per side at most; it keeps it until a better
//! price arrives; the TOP order is matched first regardless of size, until its quantity is
//! exhausted. Algorithm O adds a minimum (the TOP order only counts if it is at least that
//! size) and a maximum (the TOP allocation is capped), as the "Matching Algorithms" page
//! describes for threshold pro rata.
//!
//! Whether an order holds TOP priority is the book's knowledge; it arrives as
//! [`LevelOrder::top`]. The TOP percentage parameter the steps page mentions is, by that
//! page, unused by CME Globex and is not implemented.

use super::{open_left, AllocationParams, LevelOrder};
use crate::types::Qty;

/// Fill the TOP order (if any, and if at least `top_min`) with up to `remaining`, capped by
/// `top_max` when non-zero. Returns the quantity allocated and the TOP order's index when
/// it was allocated something.
pub(super) fn allocate(
    orders: &[LevelOrder],
    fills: &mut [Qty],
    top_index: Option<usize>,
    remaining: Qty,
    params: &AllocationParams,
) -> (Qty, Option<usize>) {
    let Some(i) = top_index else {
        return (0, None);
    };
    if orders[i].open < params.top_min {
        return (0, None);
    }
    let mut take = open_left(orders, fills, i).min(remaining);
    if params.top_max != 0 {
        take = take.min(params.top_max);
    }
    fills[i] += take;
    (take, (take > 0).then_some(i))
}
