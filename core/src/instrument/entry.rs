//! One instrument's 8-byte entry in the multi-book (which tier holds its orders, and its
//! configuration class) and the key that groups instruments into classes.

use crate::types::{BookConfig, MatchPolicy, ReplacePriority};

/// Where an instrument's orders are: nothing, a cold book, or a full book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tier {
    Empty,
    Cold(usize),
    Full(usize),
}

pub(super) const FULL_TAG: u32 = 1 << 31;

/// One instrument: its tier (0 empty, `1 + i` cold book `i`, `FULL_TAG | i` full book
/// `i`) and its configuration class (an index into `MultiBook::classes`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Entry {
    pub(super) slot: u32,
    pub(super) class: u32,
}

impl Entry {
    #[inline]
    pub(super) fn tier(self) -> Tier {
        match self.slot {
            0 => Tier::Empty,
            s if s & FULL_TAG != 0 => Tier::Full((s & !FULL_TAG) as usize),
            s => Tier::Cold(s as usize - 1),
        }
    }
}

/// The fields of a spec a book depends on, as a map key.
pub(super) type ClassKey = (u64, i64, i64, MatchPolicy, ReplacePriority, i64, u64);

pub(super) fn class_key(c: &BookConfig) -> ClassKey {
    (
        c.max_order_qty,
        c.min_price,
        c.max_price,
        c.policy,
        c.replace_priority,
        c.tick,
        c.lot,
    )
}
