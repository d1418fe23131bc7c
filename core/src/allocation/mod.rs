//! Allocation at one price level as CME Globex runs it: composable steps (TOP, LMM, Split,
//! FIFO, Pro Rata, Leveling, and the FIFO exception) assembled into the eight published
//! algorithms `cme:A` … `cme:T`.
//!
//! This module owns the *arithmetic* of sharing an incoming quantity among the resting
//! orders of one level; it knows nothing about books, prices or events. A book hands it the
//! level's orders in time priority and gets back, per order, how much it trades. Both books
//! call it under [`MatchPolicy::Cme`](crate::MatchPolicy::Cme) (see `docs/ALLOCATION.md`).
//!
//! Sources followed (paraphrased in each step's file and in `docs/ALLOCATION.md`):
//! - "CME Globex Matching Algorithm Steps",
//!   <https://cmegroupclientsite.atlassian.net/wiki/spaces/EPICSANDBOX/pages/457218521>
//!   (the algorithm matrix and the step rules);
//! - "Matching Algorithms", <http://www.cmegroup.com/confluence/display/EPICSANDBOX/Matching+Algorithms>
//!   (what each lettered algorithm is for).
//!
//! The call is pure and allocation-free: the caller passes the fills buffer, every step is
//! one or a few passes over the level, so the cost is O(orders at the level) (times the
//! number of LMMs, at most [`MAX_LMMS`], for the LMM step). Products are taken in 128 bits,
//! so no quantity a `u64` can hold overflows.

mod algorithm;
mod fifo;
mod leveling;
mod lmm;
mod params;
mod policy;
mod pro_rata;
mod split;
mod text;
mod top;

#[cfg(test)]
mod tests;

pub use algorithm::{Algorithm, ParseAlgorithmError, Step};
pub use params::{AllocationParams, Lmm, ParamError, MAX_LMMS, MAX_PARAM_QTY};
pub use policy::CmePolicy;
pub use text::push_lmm_list;

use crate::types::{Account, OrderId, Qty};

/// One resting order at the level being allocated, as the allocation sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelOrder {
    /// The order's id (carried for the caller; the allocation never looks at it).
    pub id: OrderId,
    /// Open (working) quantity before this allocation.
    pub open: Qty,
    /// The owning account; an account listed in [`AllocationParams::lmms`] is an LMM.
    pub account: Account,
    /// Whether this is the TOP order: the order that set the level as the new best price
    /// and still holds that priority. At most one order of a level may carry it.
    pub top: bool,
}

/// Why [`allocate`] refused to run. Nothing is written to the fills buffer in that case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocationError {
    /// The fills buffer is shorter than the level.
    FillsTooShort {
        /// Orders at the level.
        needed: usize,
        /// Length of the buffer passed.
        got: usize,
    },
    /// More than one order is flagged `top`; a side has at most one TOP order.
    SeveralTopOrders {
        /// Index of the first flagged order.
        first: usize,
        /// Index of the second flagged order.
        second: usize,
    },
    /// The parameters are out of range.
    Params(ParamError),
}

impl std::fmt::Display for AllocationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AllocationError::FillsTooShort { needed, got } => write!(
                f,
                "fills: buffer holds {got} entries but the level has {needed} orders (needs at least {needed})"
            ),
            AllocationError::SeveralTopOrders { first, second } => write!(
                f,
                "orders: at most one order may be the TOP order, orders {first} and {second} both are"
            ),
            AllocationError::Params(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for AllocationError {}

impl From<ParamError> for AllocationError {
    fn from(e: ParamError) -> Self {
        AllocationError::Params(e)
    }
}

/// Quantity order `i` can still take in this allocation.
#[inline(always)]
fn open_left(orders: &[LevelOrder], fills: &[Qty], i: usize) -> Qty {
    orders[i].open - fills[i]
}

/// Share `incoming` among `orders` (the resting orders of one level, earliest first) by
/// `algorithm` with `params`, writing each order's fill to `fills[i]` (entries past the
/// level are left alone) and returning the total filled, which is always
/// `min(incoming, sum of open)`; no order is filled beyond its open quantity.
///
/// Validates everything before writing anything; errors name the offending field.
pub fn allocate(
    orders: &[LevelOrder],
    incoming: Qty,
    algorithm: Algorithm,
    params: &AllocationParams,
    fills: &mut [Qty],
) -> Result<Qty, AllocationError> {
    params.validate()?;
    if fills.len() < orders.len() {
        return Err(AllocationError::FillsTooShort {
            needed: orders.len(),
            got: fills.len(),
        });
    }
    let mut top_index = None;
    let mut level_total: u128 = 0;
    for (i, order) in orders.iter().enumerate() {
        level_total += u128::from(order.open);
        if order.top {
            if let Some(first) = top_index {
                return Err(AllocationError::SeveralTopOrders { first, second: i });
            }
            top_index = Some(i);
        }
    }
    let fills = &mut fills[..orders.len()];
    fills.fill(0);

    // FIFO exception: an aggressor that takes the whole level is filled in time order,
    // whatever the algorithm (every order is filled completely).
    if u128::from(incoming) >= level_total {
        for (fill, order) in fills.iter_mut().zip(orders) {
            *fill = order.open;
        }
        // level_total <= incoming, a u64.
        return Ok(level_total as Qty);
    }

    let mut remaining = incoming;
    let mut top_taken = None;
    for &step in algorithm.steps() {
        if remaining == 0 {
            break;
        }
        let taken = match step {
            Step::Top => {
                let (taken, index) = top::allocate(orders, fills, top_index, remaining, params);
                top_taken = index;
                taken
            }
            Step::Lmm => lmm::allocate(orders, fills, remaining, top_taken, params.lmms()),
            Step::SplitFifo => {
                let share = split::fifo_share(remaining, params.split_fifo_percent);
                fifo::allocate(orders, fills, share)
            }
            Step::ProRata => pro_rata::allocate(orders, fills, remaining, params.pro_rata_min),
            Step::Leveling => {
                if params.leveling {
                    leveling::allocate(orders, fills, remaining)
                } else {
                    0
                }
            }
            Step::Fifo => fifo::allocate(orders, fills, remaining),
        };
        remaining -= taken;
    }
    Ok(incoming - remaining)
}
