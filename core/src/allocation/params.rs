//! Per-instrument allocation parameters and their validation.
//!
//! Which step reads which field: TOP reads `top_min` and `top_max`; LMM reads `lmms`; Pro
//! Rata reads `pro_rata_min`; Split reads `split_fifo_percent`; Leveling reads `leveling`.
//! A step an algorithm does not run ignores its fields. Ranges follow what the sources
//! describe: the LMM page says the total guarantee to LMMs per trade does not exceed 50%
//! (<http://www.cme.com/trading/get/abt/functionality/lmm.html>); the pro-rata minimum is
//! one or two lots in every published example, and quantities are capped at
//! [`MAX_PARAM_QTY`] so that every range is one a real run can satisfy.

use crate::types::{Account, Qty};
use std::fmt;

/// Most Lead Market Makers one instrument can list.
pub const MAX_LMMS: usize = 8;

/// Largest quantity a quantity parameter may take (one billion lots).
pub const MAX_PARAM_QTY: Qty = 1_000_000_000;

/// The total LMM percentage allowed per trade.
const MAX_TOTAL_LMM_PERCENT: u32 = 50;

/// A Lead Market Maker: an account and the percentage of the quantity entering the LMM step
/// it is guaranteed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Lmm {
    /// The LMM's account.
    pub account: Account,
    /// Its allocation percentage, 1..=50.
    pub percent: u8,
}

/// The parameters of one instrument's algorithm. Build with [`AllocationParams::default`]
/// and set fields; [`AllocationParams::validate`] (also run by [`super::allocate`]) checks
/// the ranges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AllocationParams {
    /// TOP: the TOP order is only given priority if its open quantity is at least this
    /// (0 = any size). Range 0..=[`MAX_PARAM_QTY`].
    pub top_min: Qty,
    /// TOP: most the TOP step allocates to the TOP order (0 = no cap). Range
    /// 0..=[`MAX_PARAM_QTY`].
    pub top_max: Qty,
    /// Pro Rata: an order whose rounded-down share is below this gets nothing in the step.
    /// Range 1..=[`MAX_PARAM_QTY`].
    pub pro_rata_min: Qty,
    /// LMM: the first `lmm_count` entries are the instrument's LMMs, in the order the LMM
    /// step serves them.
    pub lmms: [Lmm; MAX_LMMS],
    /// How many entries of `lmms` are used, 0..=[`MAX_LMMS`].
    pub lmm_count: usize,
    /// Split: the FIFO percentage of the quantity entering the split (the rest is pro
    /// rata), 0..=100.
    pub split_fifo_percent: u8,
    /// Leveling on or off (K only).
    pub leveling: bool,
}

impl Default for AllocationParams {
    /// No TOP minimum or cap, pro-rata minimum 1, no LMMs, split all pro rata, leveling off.
    fn default() -> Self {
        AllocationParams {
            top_min: 0,
            top_max: 0,
            pro_rata_min: 1,
            lmms: [Lmm::default(); MAX_LMMS],
            lmm_count: 0,
            split_fifo_percent: 0,
            leveling: false,
        }
    }
}

/// A parameter out of range: the field, what it was given and what is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamError {
    /// The field's name.
    pub field: &'static str,
    /// The value given.
    pub value: u64,
    /// The allowed range, in words.
    pub range: &'static str,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} is out of range ({})",
            self.field, self.value, self.range
        )
    }
}

impl std::error::Error for ParamError {}

impl AllocationParams {
    /// The LMMs in use.
    pub fn lmms(&self) -> &[Lmm] {
        &self.lmms[..self.lmm_count.min(MAX_LMMS)]
    }

    /// Add an LMM (fails when [`MAX_LMMS`] are already listed).
    pub fn push_lmm(&mut self, lmm: Lmm) -> Result<(), ParamError> {
        if self.lmm_count >= MAX_LMMS {
            return Err(ParamError {
                field: "lmm_count",
                value: self.lmm_count as u64 + 1,
                range: "0..=8",
            });
        }
        self.lmms[self.lmm_count] = lmm;
        self.lmm_count += 1;
        Ok(())
    }

    /// Check every field against its range.
    pub fn validate(&self) -> Result<(), ParamError> {
        let qty = |field, value: Qty, low: Qty, range| {
            if value < low || value > MAX_PARAM_QTY {
                Err(ParamError {
                    field,
                    value,
                    range,
                })
            } else {
                Ok(())
            }
        };
        qty("top_min", self.top_min, 0, "0..=1000000000")?;
        qty("top_max", self.top_max, 0, "0..=1000000000 (0 = no cap)")?;
        qty("pro_rata_min", self.pro_rata_min, 1, "1..=1000000000")?;
        if self.split_fifo_percent > 100 {
            return Err(ParamError {
                field: "split_fifo_percent",
                value: u64::from(self.split_fifo_percent),
                range: "0..=100",
            });
        }
        if self.lmm_count > MAX_LMMS {
            return Err(ParamError {
                field: "lmm_count",
                value: self.lmm_count as u64,
                range: "0..=8",
            });
        }
        let mut total = 0u32;
        for (i, lmm) in self.lmms().iter().enumerate() {
            if lmm.percent == 0 || u32::from(lmm.percent) > MAX_TOTAL_LMM_PERCENT {
                return Err(ParamError {
                    field: "lmms.percent",
                    value: u64::from(lmm.percent),
                    range: "1..=50",
                });
            }
            if self.lmms()[..i].iter().any(|l| l.account == lmm.account) {
                return Err(ParamError {
                    field: "lmms.account",
                    value: u64::from(lmm.account),
                    range: "each LMM account listed once",
                });
            }
            total += u32::from(lmm.percent);
        }
        if total > MAX_TOTAL_LMM_PERCENT {
            return Err(ParamError {
                field: "lmms (total percent)",
                value: u64::from(total),
                range: "0..=50",
            });
        }
        Ok(())
    }
}
