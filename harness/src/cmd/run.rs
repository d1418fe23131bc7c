//! `flowmatch run`: generate a day of retail flow, put it through the internalizer, and
//! report execution quality, internalization and latency.
//!
//! With no arguments it runs the `retail` preset and writes `bench-results/retail/`.
//! Exit codes: 0 success, 2 bad arguments or scenario (the message names the field),
//! 1 an I/O failure writing the report.

use crate::metrics;
use crate::report;
use crate::retail::generate;
use crate::retail::scenario::{Scenario, PRESETS};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A preset (retail, meme-squeeze, negative-price, wash) or a TOML scenario file.
    #[arg(long, default_value = "retail")]
    pub scenario: String,
    /// Seed (overrides the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Number of retail order arrivals (overrides the scenario's).
    #[arg(long)]
    pub orders: Option<usize>,
    /// Length of the simulated session in seconds (overrides the scenario's).
    #[arg(long)]
    pub duration: Option<f64>,
    /// Output directory (default: bench-results/<scenario name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Queue kind for the threaded engine run: spsc, multi or arrayqueue.
    #[arg(long, default_value = "spsc")]
    pub queue: flowmatch_core::ingress::QueueKind,
    /// Offered rate (messages per second) of the open-loop engine run.
    #[arg(long, default_value_t = 500_000.0)]
    pub rate: f64,
    /// Skip the threaded engine run (latency then only from the single-threaded timing).
    #[arg(long)]
    pub no_engine: bool,
    /// Matching policy of the internal book (overrides the scenario's `wholesaler.matching`).
    #[arg(long, value_enum)]
    pub policy: Option<crate::cmd::PolicyArg>,
    /// Print the resolved scenario as TOML (every knob, with its value) and exit: a
    /// starting point for a scenario file.
    #[arg(long)]
    pub print_scenario: bool,
}

/// Resolve `--scenario` and the overrides into a validated scenario.
pub fn load(a: &Args) -> Result<Scenario, String> {
    let mut s = if let Some(p) = Scenario::preset(&a.scenario) {
        p
    } else if a.scenario.ends_with(".toml") || std::path::Path::new(&a.scenario).exists() {
        let text = std::fs::read_to_string(&a.scenario)
            .map_err(|e| format!("cannot read scenario file {}: {e}", a.scenario))?;
        let mut s = Scenario::from_toml(&text).map_err(|e| format!("{}: {e}", a.scenario))?;
        if !text.lines().any(|l| l.trim_start().starts_with("name")) {
            // Name the output after the file when the file does not name itself.
            if let Some(stem) = std::path::Path::new(&a.scenario).file_stem() {
                s.name = stem.to_string_lossy().into_owned();
            }
        }
        s
    } else {
        return Err(format!(
            "unknown scenario {:?}: use one of {} or a .toml file",
            a.scenario,
            PRESETS.join(", ")
        ));
    };
    if let Some(seed) = a.seed {
        s.seed = seed;
    }
    if let Some(n) = a.orders {
        s.retail.orders = n;
    }
    if let Some(d) = a.duration {
        s.retail.day_seconds = d;
    }
    if let Some(p) = a.policy {
        s.wholesaler.matching = p;
    }
    s.validate().map_err(|e| e.to_string())?;
    Ok(s)
}

pub fn run(a: Args) -> u8 {
    let scn = match load(&a) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if a.print_scenario {
        match toml::to_string(&scn) {
            Ok(t) => {
                print!("{t}");
                return 0;
            }
            Err(e) => {
                eprintln!("error: cannot print the scenario: {e}");
                return 1;
            }
        }
    }
    let started = Instant::now();
    let flow = generate(&scn.retail, &scn.market, scn.seed);
    let total = flow.stream.len() as u64;
    let bar = if a.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} messages ({eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b.set_message(format!("running {}", scn.name));
        b
    };
    let (rec, lat) = metrics::simulate(&scn, &flow, false, |n| bar.set_position(n));
    bar.set_position(0);
    bar.set_message(format!("engine run {}", scn.name));
    let ec = metrics::economics(&scn, &flow, &rec);
    let mut ls = report::latency_summary(&lat);
    let engine = if a.no_engine {
        None
    } else {
        match metrics::threaded::run_threaded(&scn, &flow, a.queue, a.rate, false, &mut |n| {
            bar.set_position(n)
        }) {
            Ok(t) => {
                ls.engine = Some(report::engine_latency(&t, &rec));
                Some(t)
            }
            Err(e) => {
                eprintln!("error: engine run: {e}");
                return 2;
            }
        }
    };
    bar.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("bench-results").join(&scn.name));
    // A closed stdout (e.g. piped into `head`) must not panic the run: ignore write errors.
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{}", report::console_summary(&scn, &ec, &ls));
    match report::write_all(&dir, &scn, &ec, &lat, &ls, engine.as_ref(), wall) {
        Ok(files) => {
            let _ = writeln!(
                out,
                "wrote {} in {}/ ({:.1} s)",
                files.join(", "),
                dir.display(),
                wall
            );
            0
        }
        Err(e) => {
            eprintln!("error: writing the report to {}: {e}", dir.display());
            1
        }
    }
}
