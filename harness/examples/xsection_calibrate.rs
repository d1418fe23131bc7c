//! Calibrating the cross-section day by hand: prints each regime's headline and routing
//! reasons for a day whose knobs come from the environment (`XS_PRESET`, `XS_N`,
//! `XS_ORDERS`, `XS_SEED`, `XS_DEPTH`, `XS_IMB`, `XS_INV`, `XS_INVF`, `XS_NMAX`,
//! `XS_SPREAD`, `XS_INF`; unset ones keep the preset's value).
//!
//! `cargo run --release -p flowmatch-harness --example xsection_calibrate`

use flowmatch_harness::retail::xsection::day::run_day;
use flowmatch_harness::retail::xsection::{Headline, XConfig};
use flowmatch_wholesaler::symbol_desk::Regime;

fn main() {
    let env = |k: &str, d: f64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let mut c = match XConfig::preset(&std::env::var("XS_PRESET").unwrap_or("cross-section".into()))
    {
        Some(c) => c,
        None => {
            eprintln!("XS_PRESET names no cross-section preset");
            std::process::exit(2);
        }
    };
    c.instruments = env("XS_N", c.instruments as f64) as usize;
    c.orders = env("XS_ORDERS", c.orders as f64) as usize;
    c.seed = env("XS_SEED", 1.0) as u64;
    c.routing.depth_permille = env("XS_DEPTH", c.routing.depth_permille as f64) as u64;
    c.routing.imbalance_permille = env("XS_IMB", c.routing.imbalance_permille as f64) as i64;
    c.inventory_frac = env("XS_INV", c.inventory_frac);
    c.inventory_floor_usd = env("XS_INVF", c.inventory_floor_usd);
    c.notional_max = env("XS_NMAX", c.notional_max);
    c.spread_bps_top = env("XS_SPREAD", c.spread_bps_top);
    c.informed_frac = env("XS_INF", c.informed_frac);
    if let Err(e) = c.validate() {
        eprintln!("{e}");
        std::process::exit(2);
    }
    let (_, _, st) = run_day(&c, |_, _| {});
    for (r, s) in Regime::ALL.iter().zip(&st) {
        println!(
            "{} {:?} why {:?}",
            r.name(),
            Headline::of(&c, s),
            s.routed_why
        );
    }
}
