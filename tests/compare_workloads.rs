//! The `compare` workloads: every registered workload is one of them (and has its gungraun
//! benches), each is deterministic in its seed, the adversarial stream really contains the
//! shapes it promises, and our two books agree on it under every policy.

use flowmatch::core::{
    BookConfig, Command, Event, FastBook, MatchPolicy, OrderBook, ReferenceBook,
};
use flowmatch::harness::compare::Workload;
use flowmatch::harness::workload::adversarial::{self, AdversarialConfig};
use flowmatch::harness::workload::Workload as Registered;
use std::collections::HashMap;

#[test]
fn every_registered_workload_is_a_compare_workload_under_its_name() {
    let compare: Vec<&str> = Workload::all().into_iter().map(Workload::name).collect();
    for w in Registered::ALL {
        assert!(compare.contains(&w.name()), "{} not in compare", w.name());
        assert_eq!(Workload::from_name(w.name()), Some(Workload::Book(w)));
    }
    assert!(compare.contains(&"retail"));
    assert_eq!(compare.len(), Registered::ALL.len() + 1, "{compare:?}");
}

/// Instruction counts per command for every workload (issue 11's bar): the gungraun file
/// has a bench for each registered workload in both the fast and the reference group.
#[test]
fn every_registered_workload_has_its_gungraun_benches() {
    let src = include_str!("../harness/benches/instructions.rs");
    for setup in ["fast_setup", "reference_setup"] {
        for w in Registered::ALL {
            let id = w.name().replace('-', "_");
            let variant = format!("{w:?}");
            let want = format!("#[bench::{id}(args = (");
            let line = src.lines().find(|l| {
                l.starts_with(&want)
                    && l.contains(&format!(", Workload::{variant}), setup = {setup})]"))
            });
            assert!(line.is_some(), "no {setup} bench for {variant}");
        }
    }
}

#[test]
fn every_workload_is_deterministic_in_its_seed() {
    for w in Workload::all() {
        let a = w.generate(11, 5_000);
        assert_eq!(a.len(), 5_000, "{}", w.name());
        assert_eq!(a, w.generate(11, 5_000), "{} not deterministic", w.name());
        assert_ne!(a, w.generate(12, 5_000), "{} ignores its seed", w.name());
    }
}

#[test]
fn adversarial_stream_has_deep_levels_extreme_prices_and_id_reuse() {
    let cfg = AdversarialConfig::default();
    let s = adversarial::generate(3, 40_000);
    let mut per_price: HashMap<i64, usize> = HashMap::new();
    let mut news_per_id: HashMap<u64, usize> = HashMap::new();
    for c in &s {
        if let Command::New(o) = c {
            if let Some(p) = o.price {
                *per_price.entry(p).or_default() += 1;
            }
            *news_per_id.entry(o.id).or_default() += 1;
        }
    }
    assert!(
        per_price.values().any(|&n| n >= cfg.fifo_depth),
        "no deep level"
    );
    for p in [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX] {
        assert!(per_price.contains_key(&p), "no order at {p}");
    }
    assert!(news_per_id.values().any(|&n| n >= 20), "no id reuse");
    // Long sweeps: many distinct price levels.
    assert!(per_price.len() > 2 * cfg.sweep_levels);
}

fn run<B: OrderBook>(mut b: B, cmds: &[Command]) -> (Vec<Event>, usize) {
    let mut ev = Vec::new();
    for c in cmds {
        b.apply(c, &mut ev);
    }
    (ev, b.len())
}

#[test]
fn fast_and_reference_books_agree_on_the_adversarial_stream_under_every_policy() {
    let s = adversarial::generate(5, 60_000);
    for policy in [
        MatchPolicy::PriceTime,
        MatchPolicy::ProRata { top_order: false },
        MatchPolicy::ProRata { top_order: true },
    ] {
        let cfg = BookConfig {
            policy,
            ..BookConfig::default()
        };
        let (fe, fl) = run(FastBook::new(cfg), &s);
        let (re, rl) = run(ReferenceBook::new(cfg), &s);
        assert_eq!(fl, rl, "{policy:?}");
        assert!(
            fe.iter()
                .filter(|e| matches!(e, Event::Trade { .. }))
                .count()
                > 1_000
        );
        if let Some(i) = (0..fe.len().min(re.len())).find(|&i| fe[i] != re[i]) {
            panic!(
                "{policy:?}: event {i} differs: fast {:?} vs reference {:?}",
                fe[i], re[i]
            );
        }
        assert_eq!(fe.len(), re.len(), "{policy:?}");
    }
}
