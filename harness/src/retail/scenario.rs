//! Scenarios: the presets behind `flowmatch run --scenario NAME` and the TOML files behind
//! `--scenario FILE.toml`.
//!
//! A scenario file has optional top-level `name` and `seed`, and optional `[retail]`,
//! `[market]` and `[wholesaler]` tables; anything left out takes the default (the
//! `retail` preset). Unknown fields are errors (so a misspelt field is never silently
//! ignored), and every value is validated; errors name the field.

use super::field::{f64_in, int_in, FieldError};
use super::RetailConfig;
use crate::market::MarketConfig;
use flowmatch_wholesaler::{self as wholesaler, TICKS_PER_CENT};
use serde::{Deserialize, Serialize};

/// Largest share count a wholesaler limit may name (a trillion shares: far beyond any
/// day, well inside the internalizer's integer ranges).
pub const MAX_SHARES: u64 = 1_000_000_000_000;

/// The wholesaler's policy and risk limits, in scenario-file units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WholesalerConfig {
    /// Price improvement on principal fills as a fraction of the quoted spread (0..=0.5).
    pub improvement_fraction: f64,
    /// Largest order (shares) filled as principal; larger ones are routed.
    pub max_autoex_qty: u64,
    /// Price collar (cents): no customer fill more than this beyond the NBBO at receipt
    /// (a buy never above offer + collar, a sell never below bid − collar). Routed orders
    /// go to the exchange limited at the collar; what it stops is cancelled (`Collar`).
    pub collar_cents: f64,
    /// Wide-quote rule: orders arriving while the quoted spread (cents) is wider than this
    /// are routed (`wide_quote`) instead of filled as principal.
    pub max_autoex_spread_cents: f64,
    /// Largest absolute inventory (shares).
    pub max_inventory: u64,
    /// Absolute inventory past which the excess is hedged on the exchange.
    pub hedge_threshold: u64,
    /// Absolute inventory a hedge brings the position back to.
    pub hedge_target: u64,
    /// Matching policy of the internal book: `price-time`, `pro-rata` or `pro-rata-top`.
    pub matching: crate::policy::PolicyArg,
}

impl Default for WholesalerConfig {
    fn default() -> Self {
        // Calibrated so that the `retail` day lands on the published anchors (see
        // harness/scenarios/retail.toml for the reasons, one per knob).
        WholesalerConfig {
            // 45% of the spread: with a 1.9-cent mean spread, about 0.85 cents on principal
            // fills and ~0.55 cents/share over all marketable shares (Rule 605: 0.5-0.6).
            improvement_fraction: 0.45,
            // Orders above one round lot are routed (after crossing resting customer orders at
            // the NBBO): with inventory-driven routing this sends about a quarter of the
            // marketable shares out, as the 28.6% of Battalio et al. (2025). A stand-in: real
            // auto-execution sizes are larger, but the generated orders stop at 1,000 shares.
            max_autoex_qty: 100,
            // A price collar: no customer fill more than 5 cents (0.1% of $50) beyond the NBBO.
            collar_cents: 5.0,
            // Wholesalers like wide spreads; only an abnormal quote (over 10 cents on a
            // 1-4 cent stock) stops auto-execution.
            max_autoex_spread_cents: 10.0,
            // The wholesaler manages risk by routing the side it is already positioned on
            // instead of hedging: a hedge pays half the spread and the access fee (~1.3
            // cents/share) against a principal capture of 0.05 x spread (~0.1 cent/share).
            max_inventory: 300,
            hedge_threshold: 300,
            hedge_target: 300,
            matching: crate::policy::PolicyArg::PriceTime,
        }
    }
}

impl WholesalerConfig {
    pub fn to_config(&self) -> wholesaler::Config {
        wholesaler::Config {
            account: u32::MAX,
            improvement_permille: (self.improvement_fraction * 1000.0).round() as u32,
            max_autoex_qty: self.max_autoex_qty,
            collar_ticks: (self.collar_cents * TICKS_PER_CENT as f64).round() as i64,
            max_autoex_spread_ticks: (self.max_autoex_spread_cents * TICKS_PER_CENT as f64).round()
                as i64,
            max_inventory: self.max_inventory,
            hedge_threshold: self.hedge_threshold,
            hedge_target: self.hedge_target,
        }
    }

    /// Checks each field against the range a real run can satisfy; returns `(field, why)`.
    pub fn validate(&self) -> Result<(), FieldError> {
        f64_in(
            "improvement_fraction",
            self.improvement_fraction,
            0.0,
            0.5,
            "of the spread (no improvement past the midpoint)",
        )?;
        int_in(
            "max_autoex_qty",
            self.max_autoex_qty,
            0,
            MAX_SHARES,
            "shares",
        )?;
        f64_in(
            "collar_cents",
            self.collar_cents,
            0.0,
            1e6,
            "cents beyond the NBBO",
        )?;
        f64_in(
            "max_autoex_spread_cents",
            self.max_autoex_spread_cents,
            0.01,
            1e6,
            "cents",
        )?;
        int_in("max_inventory", self.max_inventory, 0, MAX_SHARES, "shares")?;
        int_in(
            "hedge_threshold",
            self.hedge_threshold,
            0,
            MAX_SHARES,
            "shares",
        )?;
        int_in("hedge_target", self.hedge_target, 0, MAX_SHARES, "shares")?;
        self.to_config().validate().map_err(|(f, why)| {
            let f = match f {
                "improvement_permille" => "improvement_fraction",
                "collar_ticks" => "collar_cents",
                "max_autoex_spread_ticks" => "max_autoex_spread_cents",
                other => other,
            };
            (f, why.to_string())
        })
    }
}

/// A whole scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    pub name: String,
    pub seed: u64,
    pub retail: RetailConfig,
    pub market: MarketConfig,
    pub wholesaler: WholesalerConfig,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: "retail".into(),
            seed: 1,
            retail: RetailConfig::default(),
            market: MarketConfig::default(),
            wholesaler: WholesalerConfig::default(),
        }
    }
}

/// Preset names, in the order `--help` lists them.
pub const PRESETS: [&str; 4] = ["retail", "meme-squeeze", "negative-price", "wash"];

/// An error in a scenario, naming the field.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError(pub String);

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ScenarioError {}

impl Scenario {
    /// A preset by name.
    pub fn preset(name: &str) -> Option<Scenario> {
        let mut s = Scenario {
            name: name.to_string(),
            ..Default::default()
        };
        match name {
            "retail" => {}
            "meme-squeeze" => {
                // A January-2021-style day: ten times the orders, heavy one-sided buying,
                // wide and jumpy quotes, a price that runs up. The wholesaler holds a larger
                // book and hedges past 3,000 shares; quotes wider than 6 cents are not
                // auto-executed; routed orders may walk at most 2 cents past the NBBO.
                s.wholesaler.max_inventory = 5_000;
                s.wholesaler.hedge_threshold = 3_000;
                s.wholesaler.hedge_target = 1_000;
                s.wholesaler.max_autoex_spread_cents = 6.0;
                s.wholesaler.collar_cents = 2.0;
                s.retail.orders *= 10;
                s.retail.buy_bias = 0.2;
                s.retail.imbalance_sigma = 0.15;
                s.retail.hawkes_branching = 0.8;
                s.market.start_price = 40.0;
                s.market.daily_vol_cents = 1_500.0;
                s.market.drift_cents = 4_000.0;
                s.market.jump_prob = 0.2;
                s.market.jump_mean_cents = 4.0;
                s.market.spread_weights =
                    vec![0.05, 0.10, 0.15, 0.15, 0.15, 0.15, 0.10, 0.10, 0.05];
                s.market.spread_change_prob = 0.5;
                s.market.quote_interval_ms = 100.0;
                s.market.top_size = 300;
                s.market.depth_size = 600;
            }
            "negative-price" => {
                // The reference price falls through zero, as WTI did on 20 April 2020.
                s.market.start_price = 3.0;
                s.market.drift_cents = -600.0;
                s.market.daily_vol_cents = 150.0;
                s.market.jump_prob = 0.05;
                s.market.jump_mean_cents = 3.0;
            }
            "wash" => {
                // Few accounts per broker and explicit wash attempts: self-trade prevention
                // has work to do.
                for b in &mut s.retail.brokers {
                    b.accounts = 3;
                }
                s.retail.wash_frac = 0.05;
            }
            _ => return None,
        }
        Some(s)
    }

    /// Parse a TOML scenario file's text. Unknown fields, wrong types and invalid values
    /// are errors naming the field.
    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        let s = Scenario::parse_toml(text)?;
        s.validate()?;
        Ok(s)
    }

    /// Parse a TOML scenario file's text without checking the values (unknown fields and
    /// wrong types are still errors): for a caller that overrides fields before it calls
    /// [`validate`](Self::validate), as `flowmatch run --orders N` does.
    pub fn parse_toml(text: &str) -> Result<Scenario, ScenarioError> {
        toml::from_str(text)
            .map_err(|e| ScenarioError(format!("scenario file: {}", e.to_string().trim_end())))
    }

    /// Check every table; the error names `table.field`.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let err = |table: &str, (f, why): (&str, String)| {
            ScenarioError(format!("scenario field `{table}.{f}`: {why}"))
        };
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ScenarioError(
                "scenario field `name`: must be non-empty, letters, digits, '-' or '_' (it names the output directory)".into(),
            ));
        }
        self.retail.validate().map_err(|e| err("retail", e))?;
        self.market.validate().map_err(|e| err("market", e))?;
        self.market
            .validate_for_day(self.retail.day_seconds)
            .map_err(|e| err("market", e))?;
        self.wholesaler
            .validate()
            .map_err(|e| err("wholesaler", e))?;
        // Cross-table consistency.
        let max_spread = self.market.spread_weights.len() as f64;
        if self.wholesaler.max_autoex_spread_cents < 1.0 && max_spread >= 1.0 {
            return Err(ScenarioError(format!(
                "scenario field `wholesaler.max_autoex_spread_cents`: {} is below the narrowest possible spread (1 cent): the wholesaler could never trade",
                self.wholesaler.max_autoex_spread_cents
            )));
        }
        // What the run would allocate, estimated from the scenario before any work.
        super::budget::Footprint::of(self).check()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate() {
        for p in PRESETS {
            let s = Scenario::preset(p).unwrap();
            s.validate().unwrap_or_else(|e| panic!("{p}: {e}"));
        }
        assert!(Scenario::preset("nope").is_none());
    }
}
