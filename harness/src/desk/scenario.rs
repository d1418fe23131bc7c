//! The netting-desk scenario: its knobs (clients, flow, margin, exchange depth, the roll
//! schedules), the price paths of the two contracts, and the `crude-2020` preset.
//!
//! A scenario is a TOML file with `kind = "netting-desk"`; `flowmatch run --scenario
//! crude-2020 --print-scenario` prints the preset as one, every knob with its value.
//! [`DeskScenario::validate`] range-checks every field before any work and names the
//! field it refuses.
//!
//! The preset's dates are the trading days from 2020-03-20 (the settlement the month
//! starts from) to 2020-04-21 (the last trading day of NYMEX WTI May 2020; NYMEX was
//! closed on Good Friday, 2020-04-10). Two front-month settlements are the published
//! ones (-$37.63 on 2020-04-20 and $10.01 at expiry on 2020-04-21, sources in the
//! report); every other price is a synthetic, seeded path drawn toward them, labelled as
//! such, not history.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The scenario's `kind`, which tells a netting-desk TOML from a retail one.
pub const KIND: &str = "netting-desk";
/// The preset's name.
pub const PRESET: &str = "crude-2020";

/// Every knob of a netting-desk run. Money in cents, prices in cents per barrel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskScenario {
    /// Always [`KIND`].
    pub kind: String,
    /// Names the output directory.
    pub name: String,
    /// Seeds the client flow and the exchange depth.
    pub seed: u64,
    /// Client accounts.
    pub clients: usize,
    /// Client orders over the whole month.
    pub orders: usize,
    /// Percent of clients whose view is long (the rest short).
    pub long_bias_pct: u32,
    /// Smallest client deposit, dollars.
    pub deposit_min_dollars: i64,
    /// Largest client deposit, dollars.
    pub deposit_max_dollars: i64,
    /// Time steps per trading day (client orders, depth refreshes and hedges happen per step).
    pub steps_per_day: usize,
    /// The desk's roll schedule: trading days before the front month's last trading day.
    pub roll_days_before: usize,
    /// The schedule run beside it for comparison (earlier: more days before).
    pub early_roll_days_before: usize,
    /// Steps at the end of the roll day over which the desk moves its hedge.
    pub roll_steps: usize,
    /// Barrels per futures contract.
    pub contract_size: i64,
    /// Exchange fee per contract, cents.
    pub exchange_fee_cents: i64,
    /// Client margin, percent of notional.
    pub margin_pct: i64,
    /// Smallest price for the margin's notional, cents per barrel.
    pub margin_floor_cents: i64,
    /// Price levels per side the liquidity providers quote.
    pub maker_levels: usize,
    /// Contracts per level at full liquidity.
    pub maker_depth: u64,
    /// Half the quoted spread at full liquidity, cents.
    pub maker_half_spread_cents: i64,
    /// Cents between levels at full liquidity.
    pub maker_level_gap_cents: i64,
    /// The front month's liquidity falls linearly over its last this many trading days.
    pub thin_days: usize,
    /// Floor of that fall, percent of full liquidity.
    pub min_liquidity_pct: u32,
    /// On the last two days the front month's depth also drains by this percent from the
    /// open to the close.
    pub close_dryup_pct: u32,
    /// Trading dates, the first being the settlement the month starts from.
    pub dates: Vec<String>,
    /// Front-month settlement per date, cents.
    pub front_settle_cents: Vec<i64>,
    /// Next-month settlement per date, cents.
    pub next_settle_cents: Vec<i64>,
}

/// The preset's trading dates.
const DATES: [&str; 22] = [
    "2020-03-20",
    "2020-03-23",
    "2020-03-24",
    "2020-03-25",
    "2020-03-26",
    "2020-03-27",
    "2020-03-30",
    "2020-03-31",
    "2020-04-01",
    "2020-04-02",
    "2020-04-03",
    "2020-04-06",
    "2020-04-07",
    "2020-04-08",
    "2020-04-09",
    "2020-04-13",
    "2020-04-14",
    "2020-04-15",
    "2020-04-16",
    "2020-04-17",
    "2020-04-20",
    "2020-04-21",
];

/// NYMEX WTI May 2020 settlement on 2020-04-20, cents per barrel (published).
pub const NEGATIVE_SETTLE: i64 = -3763;
/// Its final settlement at expiry on 2020-04-21, cents per barrel (published).
pub const EXPIRY_SETTLE: i64 = 1001;

/// The synthetic front-month path: a seeded walk from $24.00 drifting down to about
/// $18 by the Friday before, then the two published settlements.
fn preset_paths() -> (Vec<i64>, Vec<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(20_200_420);
    let n = DATES.len();
    let walk_days = n - 2; // the last two are published
    let (start, end) = (2400i64, 1800i64);
    let mut front = Vec::with_capacity(n);
    for d in 0..walk_days {
        let trend = start + (end - start) * d as i64 / (walk_days - 1) as i64;
        let noise = if d == 0 || d == walk_days - 1 {
            0
        } else {
            rng.random_range(-120..=120)
        };
        front.push(trend + noise);
    }
    front.push(NEGATIVE_SETTLE);
    front.push(EXPIRY_SETTLE);
    // The next month trades at a contango that widens into the front's expiry, then
    // falls with it but far less (synthetic).
    let mut next: Vec<i64> = front[..walk_days]
        .iter()
        .enumerate()
        .map(|(d, f)| f + 250 + 25 * d as i64)
        .collect();
    let before = next[walk_days - 1];
    next.push(before - 400);
    next.push(before - 900);
    (front, next)
}

impl DeskScenario {
    /// The `crude-2020` preset.
    pub fn crude_2020() -> DeskScenario {
        let (front, next) = preset_paths();
        DeskScenario {
            kind: KIND.into(),
            name: PRESET.into(),
            seed: 2020,
            clients: 2000,
            orders: 20_000,
            long_bias_pct: 85,
            deposit_min_dollars: 2_000,
            deposit_max_dollars: 100_000,
            steps_per_day: 8,
            roll_days_before: 1,
            early_roll_days_before: 5,
            roll_steps: 8,
            contract_size: 1000,
            exchange_fee_cents: 150,
            margin_pct: 100,
            margin_floor_cents: 100,
            maker_levels: 5,
            maker_depth: 300,
            maker_half_spread_cents: 1,
            maker_level_gap_cents: 1,
            thin_days: 6,
            min_liquidity_pct: 5,
            close_dryup_pct: 80,
            dates: DATES.iter().map(|d| d.to_string()).collect(),
            front_settle_cents: front,
            next_settle_cents: next,
        }
    }

    /// Parse a TOML scenario (not yet validated).
    pub fn parse_toml(text: &str) -> Result<DeskScenario, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// True when `text` is a TOML document whose `kind` is [`KIND`].
    pub fn is_desk_toml(text: &str) -> bool {
        toml::from_str::<toml::Table>(text)
            .ok()
            .and_then(|t| t.get("kind").and_then(|k| k.as_str().map(|k| k == KIND)))
            .unwrap_or(false)
    }

    /// Trading days simulated (dates after the first).
    pub fn days(&self) -> usize {
        self.dates.len().saturating_sub(1)
    }

    /// Range-check every field; the message names the field and its range.
    pub fn validate(&self) -> Result<(), String> {
        fn range<T: PartialOrd + std::fmt::Display>(
            name: &str,
            v: T,
            lo: T,
            hi: T,
        ) -> Result<(), String> {
            if v < lo || v > hi {
                return Err(format!("{name} must be within {lo}..={hi} (got {v})"));
            }
            Ok(())
        }
        if self.kind != KIND {
            return Err(format!("kind must be {KIND:?} (got {:?})", self.kind));
        }
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "name must be letters, digits, '-' or '_' (got {:?})",
                self.name
            ));
        }
        range("clients", self.clients, 1, 100_000)?;
        range("orders", self.orders, 1, 2_000_000)?;
        range("long_bias_pct", self.long_bias_pct, 0, 100)?;
        range(
            "deposit_min_dollars",
            self.deposit_min_dollars,
            1,
            1_000_000_000,
        )?;
        range(
            "deposit_max_dollars",
            self.deposit_max_dollars,
            self.deposit_min_dollars,
            1_000_000_000,
        )?;
        range("steps_per_day", self.steps_per_day, 2, 96)?;
        let n = self.dates.len();
        range("dates (count)", n, 3, 400)?;
        for (field, v) in [
            ("front_settle_cents", &self.front_settle_cents),
            ("next_settle_cents", &self.next_settle_cents),
        ] {
            if v.len() != n {
                return Err(format!(
                    "{field} must have one price per date ({n}), got {}",
                    v.len()
                ));
            }
            if let Some(p) = v.iter().find(|p| p.abs() > 10_000_000) {
                return Err(format!(
                    "{field} prices must be within -10000000..=10000000 cents (got {p})"
                ));
            }
        }
        let days = self.days();
        range("roll_days_before", self.roll_days_before, 1, days - 1)?;
        range(
            "early_roll_days_before",
            self.early_roll_days_before,
            self.roll_days_before + 1,
            days - 1,
        )?;
        range("roll_steps", self.roll_steps, 1, self.steps_per_day)?;
        range("contract_size", self.contract_size, 1, 1_000_000)?;
        range("exchange_fee_cents", self.exchange_fee_cents, 0, 100_000)?;
        range("margin_pct", self.margin_pct, 1, 1_000)?;
        range("margin_floor_cents", self.margin_floor_cents, 1, 1_000_000)?;
        range("maker_levels", self.maker_levels, 1, 50)?;
        range("maker_depth", self.maker_depth, 1, 1_000_000)?;
        range(
            "maker_half_spread_cents",
            self.maker_half_spread_cents,
            1,
            10_000,
        )?;
        range(
            "maker_level_gap_cents",
            self.maker_level_gap_cents,
            1,
            10_000,
        )?;
        range("thin_days", self.thin_days, 1, days)?;
        range("min_liquidity_pct", self.min_liquidity_pct, 1, 100)?;
        range("close_dryup_pct", self.close_dryup_pct, 0, 99)?;
        Ok(())
    }

    /// The desk's rules from the scenario.
    pub fn desk_config(&self) -> flowmatch_wholesaler::desk::DeskConfig {
        flowmatch_wholesaler::desk::DeskConfig {
            contracts: 2,
            contract_size: self.contract_size,
            exchange_fee: self.exchange_fee_cents,
            margin_pct: self.margin_pct,
            margin_floor: self.margin_floor_cents,
        }
    }
}
