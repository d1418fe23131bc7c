//! The retail stream through the threaded engine (lock-free ingress, engine thread running
//! the internalizer, output ring) gives exactly the events of the single-threaded run, in
//! the same order, whatever the queue kind and the thread timing. Runs each kind twice at an
//! offered rate far above what the machine sustains, so the queues fill up and back-pressure
//! is exercised too.

use flowmatch_core::ingress::QueueKind;
use flowmatch_harness::metrics::simulate;
use flowmatch_harness::metrics::threaded::run_threaded;
use flowmatch_harness::retail::generate;
use flowmatch_harness::retail::scenario::Scenario;

#[test]
fn engine_events_equal_single_threaded_for_every_queue_kind() {
    for preset in ["retail", "wash"] {
        let mut s = Scenario::preset(preset).unwrap();
        s.retail.orders = 15_000;
        let flow = generate(&s.retail, &s.market, 21);
        let (rec, _) = simulate(&s, &flow, true, |_| {});
        let single: Vec<_> = rec
            .events
            .as_ref()
            .unwrap()
            .iter()
            .map(|(_, e)| *e)
            .collect();
        assert!(single.len() > 10_000);
        for kind in [QueueKind::Spsc, QueueKind::Multi, QueueKind::ArrayQueue] {
            for _ in 0..2 {
                let t = run_threaded(&s, &flow, kind, 50_000_000.0, true, &mut |_| {}).unwrap();
                let ev = t.events.as_ref().unwrap();
                // Sequence numbers never go back, and the last one is the last message.
                assert!(ev.windows(2).all(|w| w[0].0 <= w[1].0), "{kind:?}");
                let threaded: Vec<_> = ev.iter().map(|(_, e)| *e).collect();
                assert_eq!(threaded.len(), single.len(), "{preset} {kind:?}");
                if let Some(i) = (0..single.len()).find(|&i| single[i] != threaded[i]) {
                    panic!(
                        "{preset} {kind:?}: event {i} differs: {:?} vs {:?}",
                        single[i], threaded[i]
                    );
                }
                assert_eq!(t.event_count, rec.event_count);
                assert_eq!(t.event_digest, rec.event_digest);
                assert_eq!(t.final_inventory, rec.final_inventory);
                assert_eq!(t.stats.messages, flow.stream.len() as u64);
            }
        }
    }
}

#[test]
fn bad_rate_is_an_error_not_a_hang() {
    let mut s = Scenario::preset("retail").unwrap();
    s.retail.orders = 100;
    let flow = generate(&s.retail, &s.market, 1);
    for r in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(
            run_threaded(&s, &flow, QueueKind::Spsc, r, false, &mut |_| {}).is_err(),
            "{r}"
        );
    }
}
