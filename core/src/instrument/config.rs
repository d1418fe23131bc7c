//! The multi-book's limits ([`MultiBookConfig`]) and their ranges.

use super::cold::COLD_ORDERS;
use std::fmt;

/// How many books the multi-book may create and how they start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultiBookConfig {
    /// Resting orders a new full book pre-allocates room for (`1..=1 << 24`; default 16).
    pub book_capacity: usize,
    /// Most full books at once, in use or pooled (`1..=u32::MAX`; default 1,000,000).
    /// Cold books are bounded by the instruments and `max_live_orders` instead.
    pub max_books: usize,
    /// Most resting orders over all books (`1..=1 << 32`; default 16,777,216).
    pub max_live_orders: usize,
    /// Demotion hysteresis: a full book that empties after at least this many commands
    /// since it was taken (or last emptied) stays with its instrument, empty, instead of
    /// going back to its pool; it is handed over only when a promotion of its class finds
    /// no pooled book at the `max_books` bound. A book that empties sooner is demoted at
    /// once. `1..=u32::MAX` (`u32::MAX`: nearly always demote); default 64.
    pub keep_busy: u32,
    /// Orders a price-time instrument's cold book holds before a new order that could rest
    /// promotes it to a full book (`1..=COLD_ORDERS`, 16; default 16).
    pub cold_orders: usize,
}

impl Default for MultiBookConfig {
    fn default() -> Self {
        MultiBookConfig {
            book_capacity: 16,
            max_books: 1_000_000,
            max_live_orders: 1 << 24,
            keep_busy: 64,
            cold_orders: COLD_ORDERS,
        }
    }
}

/// A configuration field out of its range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiBookConfigError {
    /// The field.
    pub field: &'static str,
    /// Its range and the value given.
    pub message: String,
}

impl fmt::Display for MultiBookConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for MultiBookConfigError {}

impl MultiBookConfig {
    /// Checks every field against its range.
    pub fn validate(&self) -> Result<(), MultiBookConfigError> {
        let check = |field, v: usize, max: usize| {
            if (1..=max).contains(&v) {
                Ok(())
            } else {
                Err(MultiBookConfigError {
                    field,
                    message: format!("must be between 1 and {max}, got {v}"),
                })
            }
        };
        check("book_capacity", self.book_capacity, 1 << 24)?;
        check("max_books", self.max_books, u32::MAX as usize)?;
        check("max_live_orders", self.max_live_orders, 1 << 32)?;
        check("keep_busy", self.keep_busy as usize, u32::MAX as usize)?;
        check("cold_orders", self.cold_orders, COLD_ORDERS)
    }
}
