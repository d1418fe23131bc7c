//! Unit tests of the allocation's interface: names, parameter validation and refused
//! input. The allocations themselves are checked against the published examples and the
//! reference in `crate::book::reference::allocation`'s tests.

use super::*;

fn order(id: u64, open: Qty, top: bool) -> LevelOrder {
    LevelOrder {
        id,
        open,
        account: 1,
        top,
    }
}

#[test]
fn names_round_trip_and_bad_names_are_refused() {
    for a in Algorithm::ALL {
        assert_eq!(a.to_string().parse::<Algorithm>(), Ok(a));
    }
    assert_eq!("cme:K".parse::<Algorithm>(), Ok(Algorithm::K));
    for bad in [
        "", "cme:", "cme:B", "cme:a", "cme:AA", "A", "CME:A", "cme:A ",
    ] {
        let e = bad.parse::<Algorithm>().unwrap_err();
        assert!(e.to_string().starts_with("algorithm:"), "{e}");
    }
}

#[test]
fn every_algorithm_ends_with_fifo() {
    for a in Algorithm::ALL {
        assert_eq!(a.steps().last(), Some(&Step::Fifo), "{a}");
    }
}

/// A way to put one parameter out of range.
type Spoil = fn(&mut AllocationParams);

#[test]
fn out_of_range_parameters_name_their_field() {
    let cases: [(&str, Spoil); 7] = [
        ("pro_rata_min", |p| p.pro_rata_min = 0),
        ("top_min", |p| p.top_min = MAX_PARAM_QTY + 1),
        ("top_max", |p| p.top_max = MAX_PARAM_QTY + 1),
        ("split_fifo_percent", |p| p.split_fifo_percent = 101),
        ("lmms.percent", |p| {
            p.push_lmm(Lmm {
                account: 1,
                percent: 0,
            })
            .unwrap()
        }),
        ("lmms.account", |p| {
            p.push_lmm(Lmm {
                account: 1,
                percent: 10,
            })
            .unwrap();
            p.push_lmm(Lmm {
                account: 1,
                percent: 10,
            })
            .unwrap();
        }),
        ("lmms (total percent)", |p| {
            p.push_lmm(Lmm {
                account: 1,
                percent: 30,
            })
            .unwrap();
            p.push_lmm(Lmm {
                account: 2,
                percent: 21,
            })
            .unwrap();
        }),
    ];
    for (field, spoil) in cases {
        let mut p = AllocationParams::default();
        spoil(&mut p);
        let e = p.validate().unwrap_err();
        assert_eq!(e.field, field);
        assert!(e.to_string().starts_with(field), "{e}");
        // allocate refuses before writing anything.
        let mut fills = [7; 1];
        let got = allocate(&[order(1, 5, false)], 3, Algorithm::K, &p, &mut fills);
        assert_eq!(got, Err(AllocationError::Params(e)));
        assert_eq!(fills, [7]);
    }
    let p = AllocationParams {
        lmm_count: MAX_LMMS + 1,
        ..AllocationParams::default()
    };
    assert_eq!(p.validate().unwrap_err().field, "lmm_count");
    let mut p = AllocationParams::default();
    for a in 0..MAX_LMMS as u32 {
        p.push_lmm(Lmm {
            account: a,
            percent: 1,
        })
        .unwrap();
    }
    assert_eq!(
        p.push_lmm(Lmm {
            account: 99,
            percent: 1
        })
        .unwrap_err()
        .field,
        "lmm_count"
    );
    assert_eq!(p.validate(), Ok(()));
}

#[test]
fn bad_levels_are_refused_without_writing() {
    let p = AllocationParams::default();
    let mut short = [9; 1];
    let level = [order(1, 5, false), order(2, 5, false)];
    assert_eq!(
        allocate(&level, 3, Algorithm::C, &p, &mut short),
        Err(AllocationError::FillsTooShort { needed: 2, got: 1 })
    );
    assert_eq!(short, [9]);
    let two_tops = [order(1, 5, true), order(2, 5, true)];
    let mut fills = [9; 2];
    let e = allocate(&two_tops, 3, Algorithm::A, &p, &mut fills).unwrap_err();
    assert_eq!(
        e,
        AllocationError::SeveralTopOrders {
            first: 0,
            second: 1
        }
    );
    assert!(e.to_string().starts_with("orders:"));
    assert_eq!(fills, [9, 9]);
}

#[test]
fn empty_level_and_zero_incoming_fill_nothing() {
    let p = AllocationParams::default();
    for a in Algorithm::ALL {
        assert_eq!(allocate(&[], 10, a, &p, &mut []), Ok(0));
        let mut fills = [9; 3];
        let level = [order(1, 5, true), order(2, 5, false)];
        assert_eq!(allocate(&level, 0, a, &p, &mut fills), Ok(0));
        // Only the level's entries are written.
        assert_eq!(fills, [0, 0, 9]);
    }
}

/// The steps page's Pro Rata example, the Pro Rata step alone: six orders (5, 9, 57, 4, 28,
/// 300), 50 lots, minimum 2; published "allocated lots" 0, 0, 7, 0, 3, 37 (9's 1.11 rounds
/// to 1, below the minimum). Source: "CME Globex Matching Algorithm Steps", Pro Rata
/// Example, <https://cmegroupclientsite.atlassian.net/wiki/spaces/EPICSANDBOX/pages/457218521>.
#[test]
fn pro_rata_step_alone_matches_the_published_step_table() {
    let level: Vec<LevelOrder> = [5, 9, 57, 4, 28, 300]
        .iter()
        .enumerate()
        .map(|(i, &open)| order(i as u64 + 1, open, false))
        .collect();
    let mut fills = [0; 6];
    let allocated = pro_rata::allocate(&level, &mut fills, 50, 2);
    assert_eq!(fills, [0, 0, 7, 0, 3, 37]);
    assert_eq!(allocated, 47);
}
