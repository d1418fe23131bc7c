//! What a run will allocate, estimated from the scenario alone, and the bound it must stay
//! within: checked by [`Scenario::validate`](super::scenario::Scenario::validate), so that a
//! scenario which would exhaust memory is refused before any work, with the fields to blame.
//!
//! The estimate counts the large per-run buffers, each from the number of elements it holds
//! and the element's size: the quote path and the merged message stream (quote updates,
//! orders and their cancels), the order register, the outcome of each order, the fills and
//! wholesaler trades (reserved at two and one per order), the id index and the internal
//! book's storage. The number of quote updates is the quote path's expected count (its
//! rates are computed by the same [`WalkRates`] the generator uses); a Poisson count with a
//! mean in the millions stays within a fraction of a percent of it.

use super::scenario::Scenario;
use super::{OrderInfo, Timed};
use crate::market::{QuoteAt, WalkRates};
use crate::metrics::{FillRec, OrderOutcome, WTrade};
use std::mem::size_of;

/// The most a run may allocate (estimated), bytes: 4 GiB, a fifth of this 23 GiB machine
/// and well within any machine the lab runs on.
pub const MAX_RUN_BYTES: f64 = 4.0 * 1024.0 * 1024.0 * 1024.0;

/// Bytes the internal book keeps per order slot (order record, links and index; an
/// over-estimate), and the most slots a book is given (`metrics::book_config`).
const BOOK_BYTES_PER_SLOT: f64 = 128.0;
const BOOK_MAX_SLOTS: f64 = (1u64 << 20) as f64;

/// The size of a run, estimated from its scenario.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Footprint {
    /// Expected quote updates over the day.
    pub quotes: f64,
    /// Order arrivals.
    pub orders: f64,
    /// Messages in the merged stream, at most: every quote, every order and one cancel
    /// per order.
    pub messages: f64,
    /// Bytes of the quote path and its messages.
    pub quote_bytes: f64,
    /// Bytes of everything kept per order.
    pub order_bytes: f64,
}

impl Footprint {
    /// Estimate from the scenario (which must have passed its per-field checks).
    pub fn of(s: &Scenario) -> Footprint {
        let day_s = s.retail.day_seconds;
        let quotes = WalkRates::of(&s.market, day_s).expected_quotes(day_s);
        let orders = s.retail.orders as f64;
        let per_quote = (size_of::<QuoteAt>() + size_of::<Timed>()) as f64;
        let per_order = (2 * size_of::<Timed>() // the order and its cancel in the stream
            + size_of::<f64>() // its arrival time
            + size_of::<OrderInfo>() * 9 / 8 // the register (reserved an eighth over)
            + size_of::<OrderOutcome>()
            + 2 * size_of::<FillRec>()
            + size_of::<WTrade>()
            + 4 * size_of::<u64>()) as f64; // the id index: key, value, load-factor slack
        let book_slots = (orders / 2.0).clamp(1024.0, BOOK_MAX_SLOTS);
        Footprint {
            quotes,
            orders,
            messages: quotes + 2.0 * orders,
            quote_bytes: quotes * per_quote,
            order_bytes: orders * per_order + book_slots * BOOK_BYTES_PER_SLOT,
        }
    }

    /// Estimated bytes in all.
    pub fn bytes(&self) -> f64 {
        self.quote_bytes + self.order_bytes
    }

    /// Refuse a run whose estimate exceeds [`MAX_RUN_BYTES`], naming the fields that drive
    /// the larger part.
    pub fn check(&self) -> Result<(), super::scenario::ScenarioError> {
        if self.bytes() <= MAX_RUN_BYTES {
            return Ok(());
        }
        let fields = if self.quote_bytes >= self.order_bytes {
            "`market.quote_interval_ms`, `market.daily_vol_cents` or `retail.day_seconds`"
        } else {
            "`retail.orders`"
        };
        Err(super::scenario::ScenarioError(format!(
            "scenario fields {fields}: the run would hold about {:.0} quote updates and {:.0} orders, \
             about {:.1} GiB, above the {:.0} GiB a run may allocate; make the day shorter, \
             the quotes sparser or the orders fewer",
            self.quotes,
            self.orders,
            self.bytes() / GIB,
            MAX_RUN_BYTES / GIB
        )))
    }
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
