//! The CME allocation checked against its oracles: every scenario in `tests/data/cme/`
//! (published CME examples and hand-worked ones, each naming its source) against both the
//! fast allocation and the reference, and a seeded differential run fast-vs-reference over
//! random levels and parameters with conservation checks.

use super::allocate as reference_allocate;
use crate::allocation::{self, Algorithm, AllocationParams, LevelOrder, Lmm};
use crate::types::Qty;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Every scenario file, by name. A new file must be added here (the count is asserted
/// against the directory listing in `scenario_list_is_complete`).
const SCENARIOS: &[(&str, &str)] = &[
    (
        "cme_eurodollar_notice_020705.txt",
        include_str!("../../../../../tests/data/cme/cme_eurodollar_notice_020705.txt"),
    ),
    (
        "cme_steps_pro_rata_example.txt",
        include_str!("../../../../../tests/data/cme/cme_steps_pro_rata_example.txt"),
    ),
    (
        "cme_complex_match_gez9.txt",
        include_str!("../../../../../tests/data/cme/cme_complex_match_gez9.txt"),
    ),
    (
        "cme_complex_match_sofr.txt",
        include_str!("../../../../../tests/data/cme/cme_complex_match_sofr.txt"),
    ),
    (
        "worked_fifo_exception.txt",
        include_str!("../../../../../tests/data/cme/worked_fifo_exception.txt"),
    ),
    (
        "worked_fifo.txt",
        include_str!("../../../../../tests/data/cme/worked_fifo.txt"),
    ),
    (
        "worked_lmm_t.txt",
        include_str!("../../../../../tests/data/cme/worked_lmm_t.txt"),
    ),
    (
        "worked_lmm_s_top_is_lmm.txt",
        include_str!("../../../../../tests/data/cme/worked_lmm_s_top_is_lmm.txt"),
    ),
    (
        "worked_lmm_s_capped_top.txt",
        include_str!("../../../../../tests/data/cme/worked_lmm_s_capped_top.txt"),
    ),
    (
        "worked_threshold_q.txt",
        include_str!("../../../../../tests/data/cme/worked_threshold_q.txt"),
    ),
    (
        "worked_threshold_o_below_min.txt",
        include_str!("../../../../../tests/data/cme/worked_threshold_o_below_min.txt"),
    ),
    (
        "worked_split_k_leveling.txt",
        include_str!("../../../../../tests/data/cme/worked_split_k_leveling.txt"),
    ),
    (
        "worked_split_k_no_leveling.txt",
        include_str!("../../../../../tests/data/cme/worked_split_k_no_leveling.txt"),
    ),
];

/// One parsed scenario.
struct Scenario {
    algorithm: Algorithm,
    params: AllocationParams,
    incoming: Qty,
    orders: Vec<LevelOrder>,
    expected: Vec<Qty>,
    has_source: bool,
}

fn parse(name: &str, text: &str) -> Scenario {
    let mut algorithm = None;
    let mut params = AllocationParams::default();
    let mut incoming = None;
    let mut orders = Vec::new();
    let mut expected = Vec::new();
    let mut has_source = false;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with("# source:") {
            has_source = true;
        }
        let line = line.split('#').next().unwrap().trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| -> u64 {
            words
                .get(i)
                .and_then(|w| w.parse().ok())
                .unwrap_or_else(|| panic!("{name}:{}: expected a number in {line:?}", n + 1))
        };
        match words[0] {
            "algorithm" => algorithm = Some(words[1].parse::<Algorithm>().unwrap()),
            "incoming" => incoming = Some(num(1)),
            "lmm" => params
                .push_lmm(Lmm {
                    account: num(1) as u32,
                    percent: num(2) as u8,
                })
                .unwrap(),
            "param" => match words[1] {
                "top_min" => params.top_min = num(2),
                "top_max" => params.top_max = num(2),
                "pro_rata_min" => params.pro_rata_min = num(2),
                "split_fifo_percent" => params.split_fifo_percent = num(2) as u8,
                "leveling" => params.leveling = words[2] == "on",
                other => panic!("{name}:{}: unknown param {other}", n + 1),
            },
            "order" => {
                orders.push(LevelOrder {
                    id: num(1),
                    open: num(2),
                    account: num(3) as u32,
                    top: words[4] == "top",
                });
                expected.push(num(5));
            }
            other => panic!("{name}:{}: unknown line kind {other}", n + 1),
        }
    }
    Scenario {
        algorithm: algorithm.unwrap_or_else(|| panic!("{name}: no algorithm line")),
        params,
        incoming: incoming.unwrap_or_else(|| panic!("{name}: no incoming line")),
        orders,
        expected,
        has_source,
    }
}

fn fast(orders: &[LevelOrder], incoming: Qty, alg: Algorithm, p: &AllocationParams) -> Vec<Qty> {
    let mut fills = vec![Qty::MAX; orders.len()];
    let total = allocation::allocate(orders, incoming, alg, p, &mut fills).unwrap();
    assert_eq!(
        total,
        fills.iter().sum::<Qty>(),
        "returned total != sum of fills"
    );
    fills
}

/// Sum of fills = min(incoming, level total); no order over its open quantity.
fn assert_conserves(orders: &[LevelOrder], incoming: Qty, fills: &[Qty], what: &str) {
    let level: Qty = orders.iter().map(|o| o.open).sum();
    assert_eq!(
        fills.iter().sum::<Qty>(),
        incoming.min(level),
        "{what}: conservation"
    );
    for (o, f) in orders.iter().zip(fills) {
        assert!(
            *f <= o.open,
            "{what}: order {} over-filled ({f} > {})",
            o.id,
            o.open
        );
    }
}

#[test]
fn every_scenario_matches_fast_and_reference() {
    for (name, text) in SCENARIOS {
        let s = parse(name, text);
        assert!(s.has_source, "{name}: names no source");
        assert!(!s.orders.is_empty(), "{name}: no orders");
        let by_fast = fast(&s.orders, s.incoming, s.algorithm, &s.params);
        let by_reference = reference_allocate(&s.orders, s.incoming, s.algorithm, &s.params);
        assert_eq!(
            by_fast, s.expected,
            "{name}: fast allocation differs from the example"
        );
        assert_eq!(
            by_reference, s.expected,
            "{name}: reference differs from the example"
        );
        assert_conserves(&s.orders, s.incoming, &by_fast, name);
    }
}

#[test]
fn scenario_list_is_complete() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/cme");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = SCENARIOS.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "tests/data/cme/*.txt and SCENARIOS differ");
}

/// A random level and parameters: up to 40 orders, sizes from 1 lot to thousands, some
/// owned by LMM accounts, usually a TOP order (mostly the earliest), every parameter over
/// its range, incoming from 1 lot to more than the level.
fn random_case(rng: &mut ChaCha8Rng) -> (Vec<LevelOrder>, Qty, Algorithm, AllocationParams) {
    let algorithm = Algorithm::ALL[rng.random_range(0..Algorithm::ALL.len())];
    let mut params = AllocationParams {
        top_min: if rng.random_bool(0.5) {
            0
        } else {
            rng.random_range(1..20)
        },
        top_max: if rng.random_bool(0.5) {
            0
        } else {
            rng.random_range(1..60)
        },
        pro_rata_min: rng.random_range(1..4),
        split_fifo_percent: rng.random_range(0..=100),
        leveling: rng.random_bool(0.5),
        ..AllocationParams::default()
    };
    let lmm_accounts = rng.random_range(0..=3u32);
    let mut budget = 50u8;
    for a in 0..lmm_accounts {
        if budget == 0 {
            break;
        }
        let percent = rng.random_range(1..=budget.min(40));
        budget -= percent;
        params
            .push_lmm(Lmm {
                account: 100 + a,
                percent,
            })
            .unwrap();
    }
    let n = rng.random_range(1..=40usize);
    let top_at = match rng.random_range(0..10) {
        0..=5 => Some(0),
        6 => Some(rng.random_range(0..n)),
        _ => None,
    };
    let big = rng.random_bool(0.2);
    let orders: Vec<LevelOrder> = (0..n)
        .map(|i| LevelOrder {
            id: i as u64 + 1,
            open: if big {
                rng.random_range(1..5_000)
            } else {
                rng.random_range(1..40)
            },
            account: if rng.random_bool(0.3) {
                100 + rng.random_range(0..4)
            } else {
                rng.random_range(0..10)
            },
            top: top_at == Some(i),
        })
        .collect();
    let level: Qty = orders.iter().map(|o| o.open).sum();
    let incoming = rng.random_range(1..=level + level / 4 + 1);
    (orders, incoming, algorithm, params)
}

#[test]
fn fast_equals_reference_on_random_levels() {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let mut per_algorithm = [0usize; 8];
    let mut below_level = 0usize;
    for case in 0..40_000 {
        let (orders, incoming, algorithm, params) = random_case(&mut rng);
        let by_fast = fast(&orders, incoming, algorithm, &params);
        let by_reference = reference_allocate(&orders, incoming, algorithm, &params);
        assert_eq!(
            by_fast, by_reference,
            "case {case}: {algorithm} incoming {incoming} params {params:?} orders {orders:?}"
        );
        assert_conserves(&orders, incoming, &by_fast, &format!("case {case}"));
        per_algorithm[Algorithm::ALL.iter().position(|a| *a == algorithm).unwrap()] += 1;
        if incoming < orders.iter().map(|o| o.open).sum() {
            below_level += 1;
        }
    }
    // The run exercised every algorithm, mostly below the FIFO exception.
    assert!(
        per_algorithm.iter().all(|&n| n > 1_000),
        "{per_algorithm:?}"
    );
    assert!(below_level > 25_000, "{below_level}");
}

#[test]
fn huge_quantities_do_not_overflow() {
    let orders = [
        LevelOrder {
            id: 1,
            open: u64::MAX / 2,
            account: 1,
            top: false,
        },
        LevelOrder {
            id: 2,
            open: u64::MAX / 2,
            account: 2,
            top: false,
        },
    ];
    for algorithm in Algorithm::ALL {
        for incoming in [u64::MAX - 1, u64::MAX / 3, 3] {
            let params = AllocationParams::default();
            let by_fast = fast(&orders, incoming, algorithm, &params);
            let by_reference = reference_allocate(&orders, incoming, algorithm, &params);
            assert_eq!(by_fast, by_reference);
            assert_conserves(&orders, incoming, &by_fast, "huge");
        }
    }
}

/// The reference's Pro Rata step alone on the steps page's Pro Rata example (see the same
/// check of the fast step in `crate::allocation`'s tests): allocated 0, 0, 7, 0, 3, 37 and
/// 3 lots left for the next step.
#[test]
fn reference_pro_rata_step_matches_the_published_step_table() {
    let mut state = super::Allocation {
        orders: [5, 9, 57, 4, 28, 300]
            .iter()
            .map(|&open| super::Resting {
                account: 1,
                top: false,
                open,
                filled: 0,
            })
            .collect(),
        aggressor_left: 50,
        top_was_filled: None,
    };
    state.pro_rata_step(50, 2);
    let filled: Vec<Qty> = state.orders.iter().map(|o| o.filled).collect();
    assert_eq!(filled, [0, 0, 7, 0, 3, 37]);
    assert_eq!(state.aggressor_left, 3);
}
