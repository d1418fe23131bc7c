//! `flowmatch run --scenario crude-2020` (or a TOML file with `kind = "netting-desk"`):
//! the netting-desk month under the late and the early roll schedule, written as one
//! report. [`dispatch`] is the single hook `cmd/run.rs` calls first; it answers `None`
//! for any other scenario, which the retail run then handles.
//!
//! Options honoured: `--seed`, `--orders` (client orders over the month), `--out`
//! (default `flowmatch-out/run-crude-2020/`), `--print-scenario`. Retail-only options
//! (`--duration`, `--policy`) are refused by name. Everything is checked before any
//! work; exit 2 on a bad option or scenario, 1 on an I/O failure.

use super::report::{self, Report, Summary};
use super::scenario::{DeskScenario, PRESET};
use super::sim;
use crate::output;
use crate::provenance::Provenance;
use std::path::{Path, PathBuf};

/// The options `dispatch` reads from `flowmatch run`.
#[derive(Clone, Debug, Default)]
pub struct DeskArgs<'a> {
    /// `--scenario`.
    pub scenario: &'a str,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--orders`.
    pub orders: Option<usize>,
    /// `--out`.
    pub out: Option<&'a Path>,
    /// `--print-scenario`.
    pub print_scenario: bool,
    /// Retail-only options that were given, by flag name (refused).
    pub retail_only: Vec<&'static str>,
}

/// Whether `scenario` names the netting desk: the preset, or a TOML file whose `kind` is
/// `netting-desk`.
pub fn is_desk(scenario: &str) -> bool {
    scenario == PRESET
        || (scenario.ends_with(".toml")
            && std::fs::read_to_string(scenario)
                .map(|t| DeskScenario::is_desk_toml(&t))
                .unwrap_or(false))
}

/// Resolve the scenario and the overrides; every check before any work.
pub fn load(a: &DeskArgs) -> Result<(DeskScenario, PathBuf), String> {
    if let Some(flag) = a.retail_only.first() {
        return Err(format!(
            "{flag} does not apply to a netting-desk scenario ({})",
            a.scenario
        ));
    }
    let mut s = if a.scenario == PRESET {
        DeskScenario::crude_2020()
    } else {
        let text = std::fs::read_to_string(a.scenario)
            .map_err(|e| format!("cannot read scenario file {}: {e}", a.scenario))?;
        DeskScenario::parse_toml(&text).map_err(|e| format!("{}: {e}", a.scenario))?
    };
    if let Some(seed) = a.seed {
        s.seed = seed;
    }
    if let Some(n) = a.orders {
        if !(1..=2_000_000).contains(&n) {
            return Err(format!("--orders must be within 1..=2000000 (got {n})"));
        }
        s.orders = n;
    }
    s.validate().map_err(|e| {
        if a.scenario == PRESET {
            e
        } else {
            format!("{}: {e}", a.scenario)
        }
    })?;
    let dir = a
        .out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("flowmatch-out").join(format!("run-{}", s.name)));
    output::check_output_dir("--out", &dir)?;
    if a.scenario != PRESET {
        let targets: Vec<PathBuf> = report::FILES.iter().map(|f| dir.join(f)).collect();
        let outs: Vec<(&str, &Path)> = targets.iter().map(|t| ("--out", t.as_path())).collect();
        output::refuse_overwriting_inputs(&outs, &[("--scenario", Path::new(a.scenario))])?;
    }
    Ok((s, dir))
}

/// Both schedules' runs, summarized (what `report.json` holds).
pub fn build(s: &DeskScenario) -> Report {
    let late = sim::run(s, s.roll_days_before);
    let early = sim::run(s, s.early_roll_days_before);
    Report {
        scenario: s.clone(),
        sources: report::SOURCES.to_vec(),
        late: Summary::of(s, "late", late),
        early: Summary::of(s, "early", early),
    }
}

/// The hook for `flowmatch run`: `None` when the scenario is not a netting desk, else
/// the exit code.
pub fn dispatch(a: &DeskArgs) -> Option<u8> {
    if !is_desk(a.scenario) {
        return None;
    }
    Some(run(a))
}

fn run(a: &DeskArgs) -> u8 {
    let (s, dir) = match load(a) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if a.print_scenario {
        return match toml::to_string(&s) {
            Ok(t) => {
                print!("{t}");
                0
            }
            Err(e) => {
                eprintln!("error: cannot print the scenario: {e}");
                1
            }
        };
    }
    let started = std::time::Instant::now();
    let r = build(&s);
    let provenance = Provenance::capture();
    let written = report::write_all(&dir, &r).and_then(|mut files| {
        let p = serde_json::to_string_pretty(&provenance).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("provenance.json"), p + "\n")?;
        files.push("provenance.json".into());
        Ok(files)
    });
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    for x in [&r.late, &r.early] {
        let _ = writeln!(
            out,
            "{} roll {}: {} client orders, desk traded {} contracts for {:.1} client \
             contract-equivalents, {} accounts below zero owing {}, P&L conserved ({} cents)",
            x.schedule,
            x.run.roll_date,
            x.run.client_fills,
            x.run.hedge_contracts_flow + x.run.hedge_contracts_roll,
            x.client_contract_equivalents + x.client_roll_contract_equivalents,
            x.run.accounts_below_zero,
            report::dollars(x.run.owed),
            x.run.conservation_total
        );
    }
    match written {
        Ok(files) => {
            let _ = writeln!(
                out,
                "wrote {} in {}/ ({:.1} s)",
                files.join(", "),
                dir.display(),
                started.elapsed().as_secs_f64()
            );
            0
        }
        Err(e) => {
            eprintln!("error: writing the report to {}: {e}", dir.display());
            1
        }
    }
}
