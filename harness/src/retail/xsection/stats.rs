//! What a cross-section day measures, as plain sums (shares, dollars x shares) that are
//! merged in instrument order, so the figures are a deterministic function of the day:
//! Rule 605 cells by order type and notional size bucket (2024 amendments), by size class
//! (fractional, odd lot, round lot), markouts and realized spreads by horizon, stock bucket
//! and venue, Rule 606-style PFOF per broker, routing reasons, and the wholesaler's P&L
//! terms (which add up to its net, see [`Pnl::net`]).

/// Rule 605 order types.
pub const ORDER_TYPES: [&str; 4] = [
    "market",
    "marketable limit",
    "marketable IOC",
    "non-marketable limit",
];
/// Upper edges of the Rule 605 (2024) notional size buckets, dollars; the last bucket is
/// everything from $200,000.
pub const NOTIONAL_EDGES: [f64; 6] = [250.0, 1_000.0, 5_000.0, 20_000.0, 50_000.0, 200_000.0];
/// Labels of the notional buckets.
pub const NOTIONAL_LABELS: [&str; 7] = [
    "< $250",
    "$250-1k",
    "$1k-5k",
    "$5k-20k",
    "$20k-50k",
    "$50k-200k",
    ">= $200k",
];
/// Size classes.
pub const SIZE_CLASSES: [&str; 3] = ["fractional", "odd lot", "round lot"];
/// Markout horizons, seconds (Rule 605 as amended uses 15 s and 1 min for realized spread).
pub const HORIZONS: [usize; 4] = [1, 15, 60, 300];
/// Venues of the markout table.
pub const VENUES: [&str; 2] = ["wholesaler", "exchange"];

/// Notional bucket of an order.
pub fn notional_bucket(usd: f64) -> usize {
    NOTIONAL_EDGES.iter().take_while(|&&e| usd >= e).count()
}

/// One Rule 605 cell.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Cell {
    pub orders: u64,
    /// Covered shares.
    pub shares: f64,
    /// Executed by the wholesaler / routed and executed on the exchange / a non-marketable
    /// limit executed resting.
    pub exec_wholesaler: f64,
    pub exec_routed: f64,
    pub exec_resting: f64,
    /// Sums over executed marketable shares: quoted spread, effective spread, price
    /// improvement (dollars x shares) and shares at or better than the quote.
    pub quoted: f64,
    pub effective: f64,
    pub improvement: f64,
    pub at_or_better: f64,
    /// Realized spread at each of [`HORIZONS`], dollars x shares.
    pub realized: [f64; 4],
}

impl Cell {
    fn add(&mut self, o: &Cell) {
        self.orders += o.orders;
        self.shares += o.shares;
        self.exec_wholesaler += o.exec_wholesaler;
        self.exec_routed += o.exec_routed;
        self.exec_resting += o.exec_resting;
        self.quoted += o.quoted;
        self.effective += o.effective;
        self.improvement += o.improvement;
        self.at_or_better += o.at_or_better;
        for (a, b) in self.realized.iter_mut().zip(o.realized) {
            *a += b;
        }
    }
    /// Executed marketable shares.
    pub fn exec_marketable(&self) -> f64 {
        self.exec_wholesaler + self.exec_routed
    }
    /// Records `sh` shares executed at `px` against quote midpoint `qm`, quoted spread
    /// `spread`, for a customer on side `s` (+1 buy), with the later midpoints `later`.
    pub fn fill(&mut self, s: f64, sh: f64, px: f64, qm: f64, spread: f64, later: &[f64; 4]) {
        self.quoted += spread * sh;
        let eff = 2.0 * s * (px - qm);
        self.effective += eff * sh;
        let pi = spread / 2.0 - s * (px - qm);
        self.improvement += pi * sh;
        if pi >= -1e-12 {
            self.at_or_better += sh;
        }
        for (r, m) in self.realized.iter_mut().zip(later) {
            *r += 2.0 * s * (px - m) * sh;
        }
    }
}

/// Markouts of one stock bucket at one venue.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Markout {
    pub shares: f64,
    /// Quoted spread, dollars x shares.
    pub quoted: f64,
    /// Effective spread, dollars x shares, and in bps of the midpoint x shares.
    pub effective: f64,
    pub effective_bps: f64,
    /// Realized spread at each horizon, dollars x shares and bps x shares.
    pub realized: [f64; 4],
    pub realized_bps: [f64; 4],
}

impl Markout {
    fn add(&mut self, o: &Markout) {
        self.shares += o.shares;
        self.quoted += o.quoted;
        self.effective += o.effective;
        self.effective_bps += o.effective_bps;
        for h in 0..4 {
            self.realized[h] += o.realized[h];
            self.realized_bps[h] += o.realized_bps[h];
        }
    }
    /// Records a fill (see [`Cell::fill`]).
    pub fn fill(&mut self, s: f64, sh: f64, px: f64, qm: f64, spread: f64, later: &[f64; 4]) {
        self.shares += sh;
        self.quoted += spread * sh;
        let e = 2.0 * s * (px - qm);
        self.effective += e * sh;
        self.effective_bps += e / qm * 1e4 * sh;
        for (h, m) in later.iter().enumerate() {
            let r = 2.0 * s * (px - m);
            self.realized[h] += r * sh;
            self.realized_bps[h] += r / qm * 1e4 * sh;
        }
    }
}

/// One broker's 606 line.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BrokerLine {
    /// Marketable shares it sent, and of them executed by the wholesaler.
    pub sent: f64,
    pub wholesaler: f64,
    /// PFOF paid, dollars.
    pub pfof_usd: f64,
}

/// The wholesaler's P&L terms, dollars.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pnl {
    /// Sum over its customer fills of (price - midpoint) on the side it took: what it
    /// earns against the midpoint at execution.
    pub spread_capture: f64,
    /// Sum over its fills of its signed quantity x (closing midpoint - midpoint at the
    /// fill): adverse selection plus inventory drift.
    pub position: f64,
    /// Flattening the closing inventory at the closing bid/offer (half the spread).
    pub closeout_spread: f64,
    /// PFOF paid to brokers.
    pub pfof: f64,
    /// Access fees on routed customer shares and on the close-out.
    pub fees_routed: f64,
    pub fees_closeout: f64,
}

impl Pnl {
    /// Net P&L: capture + position + close-out spread - PFOF - fees.
    pub fn net(&self) -> f64 {
        self.spread_capture + self.position + self.closeout_spread
            - self.pfof
            - self.fees_routed
            - self.fees_closeout
    }
    fn add(&mut self, o: &Pnl) {
        self.spread_capture += o.spread_capture;
        self.position += o.position;
        self.closeout_spread += o.closeout_spread;
        self.pfof += o.pfof;
        self.fees_routed += o.fees_routed;
        self.fees_closeout += o.fees_closeout;
    }
}

/// Everything one regime's day measures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DayStats {
    pub by_type: [[Cell; 7]; 4],
    /// Marketable orders by size class.
    pub by_class: [Cell; 3],
    /// `[bucket][venue]`.
    pub markouts: [[Markout; 2]; 4],
    pub brokers: Vec<BrokerLine>,
    /// Routed whole shares by reason (desk order).
    pub routed_why: [f64; 3],
    pub pnl: Pnl,
    pub orders: u64,
    pub odd_lot_orders: u64,
    pub fractional_orders: u64,
    /// Routed quantity that was not whole shares, micro-shares (must stay 0).
    pub fractional_routed_micro: u64,
    /// Fractional micro-shares the wholesaler filled.
    pub fractional_filled_micro: u64,
    /// Marketable shares not executed (routed past the limit or the depth).
    pub unfilled_marketable: f64,
    pub tick_constrained: u64,
    pub instruments: u64,
    /// Time-weighted quoted spread summed over instruments, cents (for the mean).
    pub mean_spread_cents_sum: f64,
}

impl DayStats {
    /// Empty statistics for `brokers` brokers.
    pub fn new(brokers: usize) -> DayStats {
        DayStats {
            brokers: vec![BrokerLine::default(); brokers],
            ..Default::default()
        }
    }
    /// Adds `o` (same brokers).
    pub fn add(&mut self, o: &DayStats) {
        for t in 0..4 {
            for b in 0..7 {
                self.by_type[t][b].add(&o.by_type[t][b]);
            }
        }
        for c in 0..3 {
            self.by_class[c].add(&o.by_class[c]);
        }
        for b in 0..4 {
            for v in 0..2 {
                self.markouts[b][v].add(&o.markouts[b][v]);
            }
        }
        for (a, b) in self.brokers.iter_mut().zip(&o.brokers) {
            a.sent += b.sent;
            a.wholesaler += b.wholesaler;
            a.pfof_usd += b.pfof_usd;
        }
        for r in 0..3 {
            self.routed_why[r] += o.routed_why[r];
        }
        self.pnl.add(&o.pnl);
        self.orders += o.orders;
        self.odd_lot_orders += o.odd_lot_orders;
        self.fractional_orders += o.fractional_orders;
        self.fractional_routed_micro += o.fractional_routed_micro;
        self.fractional_filled_micro += o.fractional_filled_micro;
        self.unfilled_marketable += o.unfilled_marketable;
        self.tick_constrained += o.tick_constrained;
        self.instruments += o.instruments;
        self.mean_spread_cents_sum += o.mean_spread_cents_sum;
    }

    /// All marketable order types together.
    pub fn marketable(&self) -> Cell {
        let mut c = Cell::default();
        for t in 0..3 {
            for b in &self.by_type[t] {
                c.add(b);
            }
        }
        c
    }

    /// The wholesaler's own executions, all buckets.
    pub fn wholesaler(&self) -> Markout {
        let mut m = Markout::default();
        for b in &self.markouts {
            m.add(&b[0]);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notional_buckets_follow_the_rule_edges() {
        assert_eq!(notional_bucket(0.5), 0);
        assert_eq!(notional_bucket(249.99), 0);
        assert_eq!(notional_bucket(250.0), 1);
        assert_eq!(notional_bucket(4_999.0), 2);
        assert_eq!(notional_bucket(199_999.0), 5);
        assert_eq!(notional_bucket(1e7), 6);
    }

    #[test]
    fn a_fill_at_the_mid_has_eq_zero_and_half_spread_improvement() {
        let mut c = Cell::default();
        // Buy 10 at 10.005 on a 10.00 x 10.01 quote.
        c.fill(1.0, 10.0, 10.005, 10.005, 0.01, &[10.005; 4]);
        assert!(c.effective.abs() < 1e-12);
        assert!((c.improvement - 0.05).abs() < 1e-12);
        assert_eq!(c.at_or_better, 10.0);
    }
}
