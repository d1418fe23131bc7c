//! The Split step (algorithm K): the quantity is cut into a FIFO part and a pro-rata part.
//!
//! Source: the Split section of "CME Globex Matching Algorithm Steps"
//! (<https://cmegroupclientsite.atlassian.net/wiki/spaces/EPICSANDBOX/pages/457218521>)
//! and the algorithm matrix's note: the FIFO and Pro Rata percentages are set by CME per
//! product and computed during Split; the FIFO part is then allocated by the FIFO step and
//! the pro-rata part by the Pro Rata step (see also the K description relayed at
//! <https://support.edgeclear.com/portal/en/kb/articles/fifo-vs-lifo>: "a set percentage
//! FIFO, and a set percentage Pro-Rata").
//!
//! Choice where the text is silent: the FIFO part is the percentage of the quantity
//! entering the split, rounded down; the pro-rata part is the rest (so the two always add
//! up to the whole and no lot is lost to rounding here).

use crate::types::Qty;

/// The FIFO part of `quantity` for a split with `fifo_percent` (0..=100) FIFO.
pub(super) fn fifo_share(quantity: Qty, fifo_percent: u8) -> Qty {
    // <= quantity since fifo_percent <= 100.
    (u128::from(quantity) * u128::from(fifo_percent) / 100) as Qty
}
