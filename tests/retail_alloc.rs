//! The internalizer performs no heap allocation per message once warmed up: a whole day of
//! retail flow (orders, cancels, replaces, quotes with sweeps, routing and hedging through
//! the simulated exchange) runs on the fast book with a counting global allocator watching.
//! Its own test binary because a global allocator is per binary.

use flowmatch_core::{BookConfig, FastBook, Sink};
use flowmatch_harness::market::SimExchange;
use flowmatch_harness::retail::generate;
use flowmatch_harness::retail::scenario::Scenario;
use flowmatch_wholesaler::{Event, Internalizer};
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations_in, assert_counter_counts};

/// Counts events without storing them.
#[derive(Default)]
struct Count(u64);
impl Sink<Event> for Count {
    fn event(&mut self, _e: Event) {
        self.0 += 1;
    }
}

#[test]
fn internalizer_does_not_allocate_after_warm_up() {
    for preset in ["retail", "meme-squeeze", "wash"] {
        let mut s = Scenario::preset(preset).unwrap();
        s.retail.orders = 60_000;
        let flow = generate(&s.retail, &s.market, 4);
        let book = FastBook::new(BookConfig {
            capacity: 1 << 16,
            ..Default::default()
        });
        let mut ix = Internalizer::new(s.wholesaler.to_config(), book, SimExchange::new(&s.market));
        let mut sink = Count::default();
        let warm = flow.stream.len() / 5;
        for m in &flow.stream[..warm] {
            ix.on_message(&m.msg, &mut sink);
        }
        let ((), n) = allocations_in(|| {
            for m in &flow.stream[warm..] {
                ix.on_message(&m.msg, &mut sink);
            }
        });
        assert!(sink.0 > 100_000, "{preset}: only {} events", sink.0);
        assert_eq!(n, 0, "{preset}: {n} allocations after warm-up");
        assert_counter_counts();
    }
}
