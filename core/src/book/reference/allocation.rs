//! The reference (oracle) CME Globex allocation: a plain, step-by-step transcription of
//! the published step rules, written separately from `crate::allocation` and sharing none
//! of its logic (only its plain data types: the level's orders, the parameters and the
//! algorithm's name). The fast allocation is checked against it on every published
//! example and on random levels.
//!
//! Each algorithm is spelled out here as its own list of steps, read off the matrix of
//! "CME Globex Matching Algorithm Steps"
//! (<https://cmegroupclientsite.atlassian.net/wiki/spaces/EPICSANDBOX/pages/457218521>).
//! The choices where that text is silent are the ones `docs/ALLOCATION.md` records. Speed
//! and allocation do not matter here; being obviously right next to the text does.

use crate::allocation::{Algorithm, AllocationParams, LevelOrder};
use crate::types::Qty;

/// One resting order as the reference tracks it while allocating.
#[derive(Clone, Debug)]
struct Resting {
    account: crate::types::Account,
    top: bool,
    /// What is still open.
    open: Qty,
    /// What has been allocated so far.
    filled: Qty,
}

/// The state of one allocation: the level and what the aggressor still has.
struct Allocation {
    orders: Vec<Resting>,
    aggressor_left: Qty,
    /// Index of the TOP order if the TOP step filled some of it.
    top_was_filled: Option<usize>,
}

impl Allocation {
    fn give(&mut self, i: usize, qty: Qty) {
        assert!(qty <= self.orders[i].open, "reference over-filled an order");
        assert!(
            qty <= self.aggressor_left,
            "reference allocated more than the aggressor has"
        );
        self.orders[i].open -= qty;
        self.orders[i].filled += qty;
        self.aggressor_left -= qty;
    }

    /// TOP: the TOP order (if it is at least `top_min`) takes what it can, capped at
    /// `top_max` when that is set.
    fn top_step(&mut self, params: &AllocationParams) {
        let found = self.orders.iter().position(|o| o.top);
        if let Some(i) = found {
            if self.orders[i].open < params.top_min {
                return;
            }
            let mut qty = std::cmp::min(self.orders[i].open, self.aggressor_left);
            if params.top_max > 0 && qty > params.top_max {
                qty = params.top_max;
            }
            if qty > 0 {
                self.give(i, qty);
                self.top_was_filled = Some(i);
            }
        }
    }

    /// LMM: each LMM gets its percent of what enters the step, over its own orders (not the
    /// TOP order it may own) in time order.
    fn lmm_step(&mut self, params: &AllocationParams) {
        let entering = self.aggressor_left;
        for lmm in params.lmms() {
            let mut owed = (entering as u128 * lmm.percent as u128 / 100) as Qty;
            for i in 0..self.orders.len() {
                if owed == 0 {
                    break;
                }
                if self.orders[i].account == lmm.account && self.top_was_filled != Some(i) {
                    let qty = std::cmp::min(owed, self.orders[i].open);
                    self.give(i, qty);
                    owed -= qty;
                }
            }
        }
    }

    /// FIFO over `qty` of the aggressor: earliest order first.
    fn fifo_step(&mut self, qty: Qty) {
        let mut to_give = qty;
        for i in 0..self.orders.len() {
            let qty = std::cmp::min(to_give, self.orders[i].open);
            if qty > 0 {
                self.give(i, qty);
                to_give -= qty;
            }
        }
    }

    /// Pro rata over `qty`: shares computed for everybody first (open / total * qty,
    /// rounded down), then the ones at or above the minimum are given.
    fn pro_rata_step(&mut self, qty: Qty, minimum: Qty) {
        let total: u128 = self.orders.iter().map(|o| o.open as u128).sum();
        if total == 0 {
            return;
        }
        let shares: Vec<Qty> = self
            .orders
            .iter()
            .map(|o| (o.open as u128 * qty as u128 / total) as Qty)
            .collect();
        for (i, share) in shares.into_iter().enumerate() {
            if share >= minimum && share > 0 {
                self.give(i, share);
            }
        }
    }

    /// Leveling: one pass, one lot each to orders still open, in time order.
    fn leveling_step(&mut self) {
        for i in 0..self.orders.len() {
            if self.aggressor_left == 0 {
                break;
            }
            if self.orders[i].open > 0 {
                self.give(i, 1);
            }
        }
    }
}

/// Allocate `incoming` over `orders` by `algorithm`: the fill of each order, in order.
/// Panics on input the fast allocation would reject (parameters out of range; the
/// reference book only passes a [`crate::allocation::CmePolicy`]'s validated ones).
pub(crate) fn allocate(
    orders: &[LevelOrder],
    incoming: Qty,
    algorithm: Algorithm,
    params: &AllocationParams,
) -> Vec<Qty> {
    let mut state = Allocation {
        orders: orders
            .iter()
            .map(|o| Resting {
                account: o.account,
                top: o.top,
                open: o.open,
                filled: 0,
            })
            .collect(),
        aggressor_left: incoming,
        top_was_filled: None,
    };
    let level_total: u128 = orders.iter().map(|o| o.open as u128).sum();

    if incoming as u128 >= level_total {
        // FIFO exception: the aggressor takes the whole level, in time order.
        state.fifo_step(incoming);
    } else {
        match algorithm {
            Algorithm::F => {
                state.fifo_step(state.aggressor_left);
            }
            Algorithm::A | Algorithm::O => {
                state.top_step(params);
                state.pro_rata_step(state.aggressor_left, params.pro_rata_min);
                state.fifo_step(state.aggressor_left);
            }
            Algorithm::C => {
                state.pro_rata_step(state.aggressor_left, params.pro_rata_min);
                state.fifo_step(state.aggressor_left);
            }
            Algorithm::K => {
                state.top_step(params);
                state.lmm_step(params);
                let entering_split = state.aggressor_left;
                let fifo_part =
                    (entering_split as u128 * params.split_fifo_percent as u128 / 100) as Qty;
                let pro_rata_part = entering_split - fifo_part;
                state.fifo_step(fifo_part);
                state.pro_rata_step(pro_rata_part, params.pro_rata_min);
                if params.leveling {
                    state.leveling_step();
                }
                state.fifo_step(state.aggressor_left);
            }
            Algorithm::Q => {
                state.top_step(params);
                state.lmm_step(params);
                state.pro_rata_step(state.aggressor_left, params.pro_rata_min);
                state.fifo_step(state.aggressor_left);
            }
            Algorithm::S => {
                state.top_step(params);
                state.lmm_step(params);
                state.fifo_step(state.aggressor_left);
            }
            Algorithm::T => {
                state.lmm_step(params);
                state.fifo_step(state.aggressor_left);
            }
        }
    }
    state.orders.iter().map(|o| o.filled).collect()
}

#[cfg(test)]
mod tests;
