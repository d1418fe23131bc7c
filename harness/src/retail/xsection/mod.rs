//! The cross-section day behind `flowmatch run --scenario cross-section`: hundreds of
//! stocks ([`universe`]), retail flow allocated to them by dollar volume, put through the
//! wholesaler's per-symbol desk ([`flowmatch_wholesaler::symbol_desk`]) under a Regulation NMS
//! regime, measured as Rule 605 (2024 amendments) and 606 statistics ([`stats`]).
//!
//! Nothing here is calibrated to a target: the wholesaler's E/Q comes from its quoting
//! rule, internalization from its routing rules, PFOF from each broker's rule and the
//! spreads the flow meets, the P&L from all of these against the flow's information.
//!
//! Scenarios are presets ([`XConfig::preset`], names in [`PRESETS`]); the command line
//! overrides the seed, orders, instruments and regime. Each instrument has its own random
//! stream (seed, instrument), so the day is deterministic and independent of the order
//! instruments are processed in.

pub mod day;
pub mod stats;
pub mod universe;

use flowmatch_wholesaler::symbol_desk::{Pfof, Quoting, Regime, Routing};

/// One broker sending flow to the wholesaler.
#[derive(Clone, Debug, PartialEq)]
pub struct XBroker {
    /// Name in the 606 table.
    pub name: &'static str,
    /// Share of the orders.
    pub weight: f64,
    /// Its PFOF rule.
    pub pfof: Pfof,
}

/// A cross-section scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct XConfig {
    /// Preset name (names the output directory).
    pub name: String,
    /// Seed of every random stream.
    pub seed: u64,
    /// Regulation NMS regime of the headline.
    pub regime: Regime,
    /// Number of stocks.
    pub instruments: usize,
    /// Retail orders over the day (all instruments).
    pub orders: usize,
    /// Session length, seconds.
    pub day_seconds: f64,
    /// Zipf exponent of dollar volume by rank.
    pub zipf: f64,
    /// Natural spread of the largest stock, basis points; it grows as
    /// `(rank)^spread_rank_exp`.
    pub spread_bps_top: f64,
    /// Exponent of the natural spread's growth with dollar-volume rank.
    pub spread_rank_exp: f64,
    /// Displayed size at the touch of the largest stock, dollars.
    pub depth_usd_top: f64,
    /// Daily volatility of the largest stock, basis points (grows slowly with rank).
    pub vol_bps_top: f64,
    /// Median retail order notional, dollars, and the log-normal sigma.
    pub notional_median: f64,
    pub notional_sigma: f64,
    /// Largest order notional, dollars (the top of Rule 605's covered sizes).
    pub notional_max: f64,
    /// Fraction of orders entered in dollars (fractional shares).
    pub fractional_frac: f64,
    /// Fraction of share orders of 100 shares or more rounded to a multiple of 100.
    pub round_frac: f64,
    /// Order mix: market, marketable limit, marketable IOC, non-marketable limit.
    pub mix: [f64; 4],
    /// Herding: AR(1) coefficient and innovation sd of the buy probability.
    pub herd_phi: f64,
    pub herd_sigma: f64,
    /// Fraction of orders that know the quote midpoint `informed_horizon_s` ahead.
    pub informed_frac: f64,
    pub informed_horizon_s: f64,
    /// Mean lifetime of a non-marketable limit, seconds.
    pub nml_life_s: f64,
    /// The wholesaler's pricing and routing.
    pub quoting: Quoting,
    pub routing: Routing,
    /// Per-symbol inventory limit as a fraction of the symbol's retail dollar flow
    /// (at least `inventory_floor_usd`).
    pub inventory_frac: f64,
    pub inventory_floor_usd: f64,
    /// Brokers.
    pub brokers: Vec<XBroker>,
}

/// Cross-section preset names.
pub const PRESETS: [&str; 2] = ["cross-section", "cross-section-toxic"];

/// Range of `instruments`.
pub const INSTRUMENTS_RANGE: (usize, usize) = (1, 10_000);
/// Range of `orders`.
pub const ORDERS_RANGE: (usize, usize) = (1, 20_000_000);

impl XConfig {
    /// The default cross-section day.
    pub fn default_day() -> XConfig {
        XConfig {
            name: "cross-section".into(),
            seed: 1,
            regime: Regime::R2025,
            instruments: 600,
            orders: 1_200_000,
            day_seconds: 23_400.0,
            zipf: 1.0,
            spread_bps_top: 3.5,
            spread_rank_exp: 0.55,
            depth_usd_top: 1_500_000.0,
            vol_bps_top: 150.0,
            notional_median: 1_200.0,
            notional_sigma: 1.3,
            notional_max: 200_000.0,
            fractional_frac: 0.12,
            round_frac: 0.4,
            // A large broker's Rule 606 mix: 33% market, 30% marketable limit, 7% IOC,
            // 30% non-marketable limit.
            mix: [0.33, 0.30, 0.07, 0.30],
            herd_phi: 0.8,
            herd_sigma: 0.08,
            informed_frac: 0.02,
            informed_horizon_s: 300.0,
            nml_life_s: 600.0,
            quoting: Quoting {
                fraction_permille: 270,
                floor_ticks: 10,
            },
            routing: Routing {
                depth_permille: 120,
                imbalance_permille: 550,
                imbalance_alpha_permille: 100,
            },
            inventory_frac: 0.02,
            inventory_floor_usd: 25_000.0,
            brokers: vec![
                XBroker {
                    name: "broker-spread",
                    weight: 0.5,
                    pfof: Pfof::SpreadFraction(80),
                },
                XBroker {
                    name: "broker-fixed",
                    weight: 0.3,
                    pfof: Pfof::PerShare(12),
                },
                XBroker {
                    name: "broker-small",
                    weight: 0.2,
                    pfof: Pfof::PerShare(25),
                },
            ],
        }
    }

    /// A preset by name.
    pub fn preset(name: &str) -> Option<XConfig> {
        let mut c = XConfig::default_day();
        match name {
            "cross-section" => {}
            "cross-section-toxic" => {
                // Half the orders know where the midpoint is ten minutes ahead: the same
                // quoting and routing now lose to adverse selection.
                c.name = name.into();
                c.informed_frac = 0.5;
                c.informed_horizon_s = 600.0;
            }
            _ => return None,
        }
        Some(c)
    }

    /// Checks the fields a command line can set; the error names the option.
    pub fn validate(&self) -> Result<(), String> {
        let (lo, hi) = INSTRUMENTS_RANGE;
        if !(lo..=hi).contains(&self.instruments) {
            return Err(format!(
                "--instruments must be within {lo}..={hi} (got {})",
                self.instruments
            ));
        }
        let (lo, hi) = ORDERS_RANGE;
        if !(lo..=hi).contains(&self.orders) {
            return Err(format!(
                "--orders must be within {lo}..={hi} for a cross-section day (got {})",
                self.orders
            ));
        }
        if !(self.day_seconds.is_finite() && (60.0..=86_400.0).contains(&self.day_seconds)) {
            return Err(format!(
                "scenario field `day_seconds` (--duration) must be within 60..=86400 seconds (got {})",
                self.day_seconds
            ));
        }
        Ok(())
    }
}

/// The figures runs are compared by (the `headline` of `report.json`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Headline {
    /// Stocks in the cross-section.
    pub instruments: u64,
    /// Share of executed marketable shares the wholesaler executed itself, percent.
    pub internalized_pct: f64,
    /// E/Q (effective over quoted spread) of the wholesaler's own executions.
    pub wholesaler_eq: f64,
    /// Price improvement over all executed marketable shares, cents per share.
    pub pi_cents_per_share: f64,
    /// PFOF per broker, cents per 100 shares the wholesaler executed for it.
    pub pfof_cents_per_100: std::collections::BTreeMap<String, f64>,
    /// The wholesaler's net P&L, dollars.
    pub net_pnl_usd: f64,
}

/// Rounds to `d` decimals (stable text in the reports).
pub fn round(v: f64, d: i32) -> f64 {
    let m = 10f64.powi(d);
    (v * m).round() / m
}

impl Headline {
    /// The headline of one regime's statistics.
    pub fn of(c: &XConfig, st: &stats::DayStats) -> Headline {
        let m = st.marketable();
        let w = st.wholesaler();
        let div = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        Headline {
            instruments: st.instruments,
            internalized_pct: round(100.0 * div(m.exec_wholesaler, m.exec_marketable()), 3),
            wholesaler_eq: round(div(w.effective, w.quoted), 4),
            pi_cents_per_share: round(100.0 * div(m.improvement, m.exec_marketable()), 4),
            pfof_cents_per_100: c
                .brokers
                .iter()
                .zip(&st.brokers)
                .map(|(b, l)| {
                    (
                        b.name.to_string(),
                        round(100.0 * 100.0 * div(l.pfof_usd, l.wholesaler), 3),
                    )
                })
                .collect(),
            net_pnl_usd: round(st.pnl.net(), 2),
        }
    }
}
