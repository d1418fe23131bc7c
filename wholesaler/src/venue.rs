//! The exchange the wholesaler routes to and hedges on, as the internalizer sees it: told
//! every quote, executing immediate-or-cancel orders against its displayed liquidity. The
//! lab's simulated exchange implements it; so would a real router.

use crate::quote::Quote;
use flowmatch_core::{Price, Qty, Side};

/// The exchange the internalizer routes to and hedges on. It is told every quote, and
/// executes immediate-or-cancel orders against its displayed liquidity, reporting each
/// fill through `fill(price, qty)`. Implementations must be deterministic functions of the
/// quotes and orders they have been given.
pub trait Venue {
    /// A new NBBO is in force (the exchange's displayed book follows it).
    fn on_quote(&mut self, q: &Quote);
    /// Execute up to `qty` on `side` no worse than `limit` (`None`: any displayed price).
    /// Returns the quantity filled.
    fn execute<F: FnMut(Price, Qty)>(
        &mut self,
        side: Side,
        qty: Qty,
        limit: Option<Price>,
        fill: F,
    ) -> Qty;
    /// Displayed quantity a taker of `side` could still take no worse than `limit`
    /// (`None`: any displayed price), without taking it.
    fn displayed(&self, side: Side, limit: Option<Price>) -> Qty;
}
