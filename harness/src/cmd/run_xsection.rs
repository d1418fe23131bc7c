//! `flowmatch run --scenario cross-section[-toxic]`: the cross-section day (hundreds of
//! stocks through the wholesaler's per-symbol desk, under both Regulation NMS regimes)
//! and its report. Registered in [`super::run::scenario_runner`].
//!
//! Options: `--seed`, `--orders`, `--instruments`, `--regime 2023|2025` (the headline's
//! regime; the report compares both), `--out`, `--quiet`. The single-symbol options
//! (`--policy`, `--print-scenario`) are refused; `--duration` sets the session length;
//! the engine options are range-checked and otherwise ignored (this day measures economics, not latency). Exit codes as `run`.

use super::run::Args;
use crate::output;
use crate::provenance::Provenance;
use crate::report::xsection;
use crate::retail::xsection::{day, Headline, XConfig};
use flowmatch_wholesaler::symbol_desk::Regime;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

/// The validated configuration and output directory of a cross-section run.
pub fn load(a: &Args) -> Result<(XConfig, PathBuf), String> {
    let mut c = XConfig::preset(&a.scenario)
        .ok_or_else(|| format!("unknown cross-section scenario {:?}", a.scenario))?;
    if a.policy.is_some() || a.print_scenario {
        return Err(format!(
            "--policy and --print-scenario apply only to single-symbol scenarios, not {}",
            a.scenario
        ));
    }
    let (lo, hi) = super::run::RATE_RANGE;
    if !(a.rate.is_finite() && (lo..=hi).contains(&a.rate)) {
        return Err(format!(
            "--rate must be within {lo}..={hi} messages per second (got {})",
            a.rate
        ));
    }
    if let Some(d) = a.duration {
        c.day_seconds = d;
    }
    if let Some(r) = &a.regime {
        c.regime =
            Regime::parse(r).ok_or_else(|| format!("--regime must be 2023 or 2025 (got {r:?})"))?;
    }
    if let Some(s) = a.seed {
        c.seed = s;
    }
    if let Some(n) = a.orders {
        c.orders = n;
    }
    if let Some(n) = a.instruments {
        c.instruments = n;
    }
    c.validate()?;
    let dir = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("flowmatch-out").join(format!("run-{}-{}", c.name, c.regime.name()))
    });
    output::check_output_dir("--out", &dir)?;
    Ok((c, dir))
}

pub fn run(a: Args) -> u8 {
    let prov = Provenance::capture();
    let (c, dir) = match load(&a) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let started = Instant::now();
    let bar = if a.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(c.instruments as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} instruments ({eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b.set_message(format!("running {}", c.name));
        b
    };
    let (_u, _tc, st) = day::run_day(&c, |i, _| bar.set_position(i as u64));
    bar.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    let mut out = std::io::stdout().lock();
    for (r, s) in Regime::ALL.iter().zip(&st) {
        let h = Headline::of(&c, s);
        let _ = writeln!(
            out,
            "regime {}: {} instruments, {} orders, internalized {:.2}%, wholesaler E/Q {:.4}, PI {:.4} ¢/share, PFOF {:?} ¢/100, net P&L ${:.2}",
            r.name(),
            h.instruments,
            s.orders,
            h.internalized_pct,
            h.wholesaler_eq,
            h.pi_cents_per_share,
            h.pfof_cents_per_100,
            h.net_pnl_usd
        );
    }
    match xsection::write(&dir, &c, &st, &prov) {
        Ok(files) => {
            let _ = writeln!(
                out,
                "wrote {} in {}/ ({wall:.1} s)",
                files.join(", "),
                dir.display()
            );
            0
        }
        Err(e) => {
            eprintln!("error: writing the report to {}: {e}", dir.display());
            1
        }
    }
}
