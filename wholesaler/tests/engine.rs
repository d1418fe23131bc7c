//! The internalizer on the engine publishes its own events as they are. The oracle is the
//! same messages handled directly on this thread (`on_message`), without the engine; the
//! ids are chosen at the top of the `u64` range, which the old encoding into the book's
//! events (sentinel maker ids) decoded as other events.

use flowmatch_core::engine::{Engine, EngineConfig, Output, Stamped};
use flowmatch_core::ingress::{ingress, spsc, QueueKind};
use flowmatch_core::{BookConfig, FastBook, NewOrder, Price, Qty, Side};
use flowmatch_wholesaler::{Config, Event, FillKind, Internalizer, Msg, Quote, Venue};

/// An exchange with no liquidity: nothing routed fills.
struct Empty;
impl Venue for Empty {
    fn on_quote(&mut self, _q: &Quote) {}
    fn execute<F: FnMut(Price, Qty)>(&mut self, _: Side, _: Qty, _: Option<Price>, _: F) -> Qty {
        0
    }
    fn displayed(&self, _: Side, _: Option<Price>) -> Qty {
        0
    }
}

#[test]
fn internalizer_events_travel_through_the_engine_as_themselves() {
    const RESTING: u64 = u64::MAX - 3; // the old `M_CXL_REPLACED` sentinel
    const TAKER: u64 = (1 << 63) | 7; // had the old agency-maker bit set
    let msgs = [
        Msg::Quote(Quote {
            bid: 100_000,
            ask: 100_100,
            bid_size: 100,
            ask_size: 100,
        }),
        // Rests inside the NBBO, then is crossed by a market buy (agency cross).
        Msg::Order(NewOrder::limit(RESTING, 1, Side::Sell, 100_050, 40)),
        Msg::Order(NewOrder::market(TAKER, 2, Side::Buy, 100)),
        Msg::Cancel { id: RESTING },
    ];
    let new_ix = || {
        Internalizer::new(
            Config::default(),
            FastBook::new(BookConfig::default()),
            Empty,
        )
    };

    let mut direct = new_ix();
    let mut want: Vec<(u64, Event)> = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let mut v = Vec::new();
        direct.on_message(m, &mut v);
        want.extend(v.into_iter().map(|e| (i as u64 + 1, e)));
    }
    assert!(
        want.contains(&(
            3,
            Event::Fill {
                id: TAKER,
                kind: FillKind::AgencyTaker,
                price: 100_050,
                qty: 40,
                contra: RESTING,
            }
        )),
        "the scenario crosses the two orders: {want:?}"
    );

    let (mut tx, rx) = ingress::<Stamped<Msg>>(QueueKind::Spsc, 1, 16).unwrap();
    let (out_tx, mut out_rx) = spsc::channel::<Output<Event>>(64);
    let mut eng = Engine::new(rx, out_tx, new_ix(), || 0u64, EngineConfig::default());
    for m in msgs {
        tx[0].try_push(Stamped::bare(m)).unwrap();
    }
    while eng.step() > 0 {}
    let mut got = Vec::new();
    while let Some(o) = out_rx.pop() {
        got.push((o.seq, o.event));
    }
    assert_eq!(got, want);
}
