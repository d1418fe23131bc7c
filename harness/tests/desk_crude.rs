//! The `crude-2020` netting-desk scenario end to end: P&L conserved to the cent between
//! clients, desk, liquidity providers and exchange (several seeds), the desk's side of
//! client trades exactly the clients' P&L reversed, a byte-identical report from two
//! runs, the negative settlement carried with its sign, and every bad parameter refused
//! by name. The netting arithmetic itself is checked against a hand-worked case in
//! `wholesaler/tests/desk_netting.rs`.

use flowmatch_harness::desk::cli::build;
use flowmatch_harness::desk::report;
use flowmatch_harness::desk::scenario::{DeskScenario, EXPIRY_SETTLE, NEGATIVE_SETTLE};
use flowmatch_harness::desk::sim;
use std::process::Command;

fn small() -> DeskScenario {
    let mut s = DeskScenario::crude_2020();
    s.clients = 200;
    s.orders = 3000;
    s
}

#[test]
fn pnl_is_conserved_to_the_cent() {
    for seed in [1u64, 2, 3, 2020] {
        let mut s = small();
        s.seed = seed;
        s.validate().unwrap();
        for roll in [s.roll_days_before, s.early_roll_days_before] {
            let r = sim::run(&s, roll);
            assert_eq!(r.conservation_total, 0, "seed {seed} roll {roll}");
            let clients: i64 = r.client_pnl.iter().sum();
            assert_eq!(
                clients + r.desk_pnl + r.makers_pnl + r.exchange_fees,
                0,
                "seed {seed} roll {roll}"
            );
            // The desk is the counterparty of every client trade.
            assert_eq!(r.desk_client_side_pnl, -clients, "seed {seed} roll {roll}");
            // Fees leave the desk and arrive at the exchange, nowhere else.
            assert_eq!(r.desk_fees, r.exchange_fees);
            assert!(r.client_fills > 0);
        }
    }
}

#[test]
fn report_is_byte_identical_across_runs() {
    let s = small();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    report::write_all(a.path(), &build(&s)).unwrap();
    report::write_all(b.path(), &build(&s)).unwrap();
    for f in report::FILES {
        let x = std::fs::read(a.path().join(f)).unwrap();
        let y = std::fs::read(b.path().join(f)).unwrap();
        assert!(!x.is_empty(), "{f}");
        assert!(x == y, "{f} differs between two runs of one seed");
    }
    // A different seed gives a different report (the seed is used).
    let mut t = small();
    t.seed += 1;
    let c = tempfile::tempdir().unwrap();
    report::write_all(c.path(), &build(&t)).unwrap();
    assert_ne!(
        std::fs::read(a.path().join("report.json")).unwrap(),
        std::fs::read(c.path().join("report.json")).unwrap()
    );
}

#[test]
fn negative_settlement_is_carried_with_its_sign() {
    let s = small();
    let late = sim::run(&s, s.roll_days_before);
    let early = sim::run(&s, s.early_roll_days_before);
    assert_eq!(late.roll_date, "2020-04-20");
    assert_eq!(late.roll_front_settle, NEGATIVE_SETTLE);
    let last = late.days.last().unwrap();
    assert_eq!(
        (last.date.as_str(), last.front_settle),
        ("2020-04-21", EXPIRY_SETTLE)
    );
    // Longs rolled out below zero lose more than their deposits: accounts go below zero
    // and what they owe is exactly the sum of the negative balances the run counted.
    assert!(late.accounts_below_zero > 0);
    assert!(late.owed > 0);
    assert!(late.clients_closed_out > 0);
    // The day of the negative settlement is when they went below zero.
    let before = &late.days[late.days.len() - 3];
    let on = &late.days[late.days.len() - 2];
    assert_eq!(before.accounts_below_zero, 0);
    assert_eq!(on.accounts_below_zero, late.accounts_below_zero);
    // Rolled five days earlier, at a positive price, no account goes below zero.
    assert_eq!(early.roll_date, "2020-04-14");
    assert!(early.roll_front_settle > 0);
    assert_eq!(early.accounts_below_zero, 0);
    assert_eq!(early.owed, 0);
    // Netting: the desk's exchange volume is below the clients' gross volume.
    let gross = (late.client_barrels + late.client_roll_barrels) / s.contract_size as u64;
    assert!(late.hedge_contracts_flow + late.hedge_contracts_roll < gross);
}

#[test]
fn bad_parameters_are_refused_by_name() {
    type Spoil = fn(&mut DeskScenario);
    let cases: [(&str, Spoil); 9] = [
        ("clients", |s| s.clients = 0),
        ("orders", |s| s.orders = 0),
        ("roll_days_before", |s| s.roll_days_before = 0),
        ("early_roll_days_before", |s| s.early_roll_days_before = 1),
        ("roll_steps", |s| s.roll_steps = 99),
        ("margin_pct", |s| s.margin_pct = 0),
        ("contract_size", |s| s.contract_size = -1),
        ("front_settle_cents", |s| {
            s.front_settle_cents.pop();
        }),
        ("deposit_max_dollars", |s| s.deposit_max_dollars = 1),
    ];
    for (field, spoil) in cases {
        let mut s = DeskScenario::crude_2020();
        spoil(&mut s);
        let e = s.validate().unwrap_err();
        assert!(e.starts_with(field), "{field}: {e}");
    }
}

fn flowmatch(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flowmatch"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_refuses_bad_options_by_flag_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let (code, err) = flowmatch(&[
        "run",
        "--scenario",
        "crude-2020",
        "--duration",
        "5",
        "--out",
        out,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--duration"), "{err}");
    let (code, err) = flowmatch(&[
        "run",
        "--scenario",
        "crude-2020",
        "--orders",
        "0",
        "--out",
        out,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--orders"), "{err}");
    let mut s = small();
    s.clients = 0;
    let file = dir.path().join("desk.toml");
    std::fs::write(&file, toml::to_string(&s).unwrap()).unwrap();
    let (code, err) = flowmatch(&["run", "--scenario", file.to_str().unwrap(), "--out", out]);
    assert_eq!(code, 2);
    assert!(err.contains("clients must be within"), "{err}");
    assert!(
        !std::path::Path::new(out).exists(),
        "nothing written on a refused run"
    );
    // A good file runs and writes the report.
    s.clients = 50;
    s.orders = 500;
    std::fs::write(&file, toml::to_string(&s).unwrap()).unwrap();
    let (code, err) = flowmatch(&["run", "--scenario", file.to_str().unwrap(), "--out", out]);
    assert_eq!(code, 0, "{err}");
    for f in report::FILES {
        assert!(dir.path().join("out").join(f).exists(), "{f}");
    }
}

/// The committed `bench-results/crude-2020` report is what the code makes from the preset
/// (regenerate with `flowmatch run --scenario crude-2020 --out bench-results/crude-2020`).
#[test]
fn committed_report_matches_the_code() {
    let dir = tempfile::tempdir().unwrap();
    report::write_all(dir.path(), &build(&DeskScenario::crude_2020())).unwrap();
    let committed =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench-results/crude-2020");
    for f in report::FILES {
        let now = std::fs::read(dir.path().join(f)).unwrap();
        let then = std::fs::read(committed.join(f)).unwrap();
        assert!(now == then, "bench-results/crude-2020/{f} is stale");
    }
}
