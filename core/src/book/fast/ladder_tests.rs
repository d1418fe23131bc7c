//! The ladder's tests: lookups across both tiers and sweeps through empties and refills,
//! against the reference book and a plain binary search.

use super::*;
use crate::book::OrderBook;
use crate::command::{Command, NewOrder};
use crate::types::{BookConfig, Tif};

/// `find` against the book's own level walk (each level's price): on a ladder deeper
/// than the window (so most levels are far), with holes cancelled in both tiers, every
/// price finds its level and every other price finds nothing.
#[test]
fn find_sees_near_and_far_levels() {
    let mut b = FastBook::new(BookConfig::default());
    let mut sink = crate::command::CountingSink::default();
    let depth = 3 * NEAR_MAX as i64;
    for i in 0..depth {
        let order = NewOrder::limit(i as u64 + 1, 1, Side::Buy, 1_000_000 - 2 * i, 1);
        b.apply(&Command::New(order), &mut sink);
    }
    for i in (0..depth).step_by(7) {
        b.apply(&Command::Cancel { id: i as u64 + 1 }, &mut sink);
    }
    let mut live = std::collections::BTreeSet::new();
    b.for_each_level(Side::Buy, &mut |l| {
        live.insert(l.price);
    });
    assert!(
        !b.ladder(Side::Buy).far.is_empty(),
        "the test needs a far tier"
    );
    let ladder = b.ladder(Side::Buy);
    for price in (1_000_000 - 2 * depth - 3)..=1_000_003 {
        let found = ladder.find(ladder.key(price));
        let live_found = found.filter(|&li| b.levels[li].count > 0);
        assert_eq!(live_found.is_some(), live.contains(&price), "price {price}");
        if let Some(li) = found {
            assert_eq!(b.levels[li].price, price);
        }
    }
    assert!(b.ladder(Side::Sell).find(0).is_none());
}

/// The pop at the touch against the reference book: a bid ladder deeper than the window
/// (so the window refills from the far tier several times), with every third level
/// just below each swept block cancelled first (lazily emptied levels the pop must skip),
/// swept by IOC sells of 37 levels' worth and one for the rest. Events and the book left
/// must be the reference book's, and the window's empties count must stay exact.
#[test]
fn sweeping_through_empties_and_refills_matches_reference() {
    let mut fast = FastBook::new(BookConfig::default());
    let mut reference = crate::book::reference::ReferenceBook::new(BookConfig::default());
    let (mut ef, mut er) = (Vec::new(), Vec::new());
    let depth = 2 * NEAR_MAX as u64 + 300;
    let mut cmds = Vec::new();
    for i in 0..depth {
        let price = 1_000_000 - i as i64;
        cmds.push(Command::New(NewOrder::limit(i + 1, 1, Side::Buy, price, 1)));
    }
    for i in (1..depth).step_by(3) {
        cmds.push(Command::Cancel { id: i + 1 });
    }
    let mut id = depth + 1;
    for _ in 0..40 {
        let sell = NewOrder::limit(id, 2, Side::Sell, 0, 37).with_tif(Tif::Ioc);
        cmds.push(Command::New(sell));
        id += 1;
    }
    let last = NewOrder::limit(id, 2, Side::Sell, 0, depth).with_tif(Tif::Ioc);
    cmds.push(Command::New(last));
    for (k, c) in cmds.iter().enumerate() {
        fast.apply(c, &mut ef);
        reference.apply(c, &mut er);
        if k % 97 == 0 || k + 1 == cmds.len() {
            let l = fast.ladder(Side::Buy);
            let empties = l.levels.iter().filter(|&&li| fast.levels[li].count == 0);
            assert_eq!(empties.count(), l.empties, "empties count at command {k}");
            assert!(l.levels.last().is_none_or(|&li| fast.levels[li].count > 0));
        }
    }
    let reject = ef
        .iter()
        .find(|e| matches!(e, crate::command::Event::Reject { .. }));
    assert_eq!(reject, None, "every command is accepted");
    assert_eq!(ef, er);
    assert_eq!(fast.snapshot(), reference.snapshot());
    assert!(fast.snapshot().is_empty(), "the last sell takes everything");
}

/// The ladder's top-eight fast path against a plain binary search over every key, for
/// ladders of every size around the fast path's edge, keys present and absent.
#[test]
fn ladder_search_matches_binary_search() {
    for n in 0..24i64 {
        let mut l = Ladder::new(Side::Buy);
        l.keys = (0..n).map(|k| k * 2).collect();
        for key in -2..(2 * n + 2) {
            assert_eq!(l.search(key), l.keys.binary_search(&key), "n {n} key {key}");
        }
    }
}
