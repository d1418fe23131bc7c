//! The multi-book against an independent per-instrument model: the stream is split by
//! instrument here, each part fed to its own `ReferenceBook` (the oracle) built straight
//! from the instrument's spec, and every event (tagged with its instrument) and every
//! book dump must equal the `MultiBook<FastBook>`'s. Instruments differ in tick, lot,
//! band, maximum quantity and policy; ids are drawn from a small range per instrument, so
//! the same id is live in several instruments at once; some commands name an instrument
//! the table does not hold.

use flowmatch_core::instrument::{InstrumentSpec, MultiBookConfig, TierMoves};
use flowmatch_core::{
    BookConfig, Command, Event, FastBook, InstrumentCommand, InstrumentEvent, InstrumentId,
    InstrumentTable, MatchPolicy, MultiBook, NewOrder, OrderBook, ReferenceBook, RejectReason,
    Side, Stp, Symbol, Tif,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn table(rng: &mut ChaCha8Rng, n: usize) -> InstrumentTable {
    let mut t = InstrumentTable::new();
    for i in 0..n {
        let mut s = InstrumentSpec::new(Symbol::new(&format!("SYM.{i}")).unwrap());
        s.tick = [1, 1, 5, 25][rng.random_range(0..4)];
        s.lot = [1, 1, 10, 100][rng.random_range(0..4)];
        s.min_price = 900;
        s.max_price = 1_100;
        s.max_order_qty = [1_000, 5_000][rng.random_range(0..2)];
        s.policy = [
            MatchPolicy::PriceTime,
            MatchPolicy::ProRata { top_order: false },
            MatchPolicy::ProRata { top_order: true },
        ][rng.random_range(0..3)];
        t.push(s).unwrap();
    }
    t
}

fn command(rng: &mut ChaCha8Rng) -> Command {
    let id = rng.random_range(1..=40);
    let price = rng.random_range(880..=1_120);
    let qty = rng.random_range(0..=60) * 10 + rng.random_range(0..2) * rng.random_range(0..10);
    match rng.random_range(0..10) {
        0..=5 => {
            let side = if rng.random_bool(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            let mut o = NewOrder::limit(id, rng.random_range(0..4), side, price, qty);
            o.tif = [Tif::Gtc, Tif::Gtc, Tif::Ioc, Tif::Fok, Tif::Post][rng.random_range(0..5)];
            o.stp = [
                Stp::None,
                Stp::None,
                Stp::CancelTaker,
                Stp::CancelMaker,
                Stp::CancelBoth,
                Stp::DecrementCancel,
            ][rng.random_range(0..6)];
            if rng.random_bool(0.05) {
                o = NewOrder::market(id, o.account, side, qty);
            }
            Command::New(o)
        }
        6..=7 => Command::Cancel { id },
        _ => Command::Replace { id, price, qty },
    }
}

/// `deep`: in alternate stretches of 300 commands, half the commands become extra GTC
/// limits (books grow past the cold tier's size and are promoted) or cancels (books drain
/// to empty and are demoted), so instruments cross between tiers many times. The
/// demotion hysteresis (`keep_busy`) goes by the seed: always demote, the default, or keep
/// every book busy for 4 commands; so does the cold books' size (`cold_orders`: the
/// default 16, 8 or 3).
fn run(seed: u64, instruments: usize, commands: usize, deep: bool) -> (usize, usize, TierMoves) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cfg = MultiBookConfig {
        keep_busy: [u32::MAX, MultiBookConfig::default().keep_busy, 4][seed as usize % 3],
        cold_orders: [MultiBookConfig::default().cold_orders, 8, 3][(seed as usize / 3) % 3],
        ..MultiBookConfig::default()
    };
    let t = table(&mut rng, instruments);
    let specs = t.specs().to_vec();
    let batched_table = t.clone();
    let mut multi = MultiBook::<FastBook>::new(t, cfg).unwrap();
    // The model: one reference book per instrument, from its spec, owned here.
    let mut model: Vec<ReferenceBook> = specs
        .iter()
        .map(|s| {
            // Built field by field here, not with the spec's own `book_config`.
            ReferenceBook::new(BookConfig {
                max_order_qty: s.max_order_qty,
                min_price: s.min_price,
                max_price: s.max_price,
                policy: s.policy,
                tick: s.tick,
                lot: s.lot,
                ..BookConfig::default()
            })
        })
        .collect();
    let (mut trades, mut shared_ids) = (0, 0);
    let mut got = Vec::new();
    let mut want = Vec::new();
    // Every command and every event of the one-by-one run, for the batched run below.
    let mut msgs = Vec::with_capacity(commands);
    let mut all_events = Vec::new();
    for k in 0..commands {
        // One in fifty names an instrument past the table.
        let instrument = if rng.random_bool(0.02) {
            rng.random_range(instruments as u32..instruments as u32 + 3)
        } else {
            rng.random_range(0..instruments as u32)
        };
        let filling = (k / 300) % 2 == 0;
        let cmd = match command(&mut rng) {
            // Draining: cancel a live order (found in the model, so the cancel hits).
            _ if deep && !filling && rng.random_bool(0.8) => {
                let live = model
                    .get(instrument as usize)
                    .map(|b| b.snapshot())
                    .unwrap_or_default();
                let id = match live.len() {
                    0 => rng.random_range(1..=40),
                    n => live[rng.random_range(0..n)].id,
                };
                Command::Cancel { id }
            }
            Command::New(o) if deep && filling && o.price.is_some() && rng.random_bool(0.5) => {
                Command::New(o.with_tif(Tif::Gtc))
            }
            Command::Cancel { .. } | Command::Replace { .. }
                if deep && filling && rng.random_bool(0.5) =>
            {
                let side = if rng.random_bool(0.5) {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let price = match side {
                    // On every instrument's tick and inside its band.
                    Side::Buy => 900 + 25 * rng.random_range(0..=3),
                    Side::Sell => 1_025 + 25 * rng.random_range(0..=3),
                };
                let id = rng.random_range(1..=40);
                Command::New(NewOrder::limit(
                    id,
                    rng.random_range(0..4),
                    side,
                    price,
                    100,
                ))
            }
            // Now and then a replace that changes nothing (same price, same quantity) of a
            // live order, found in the model: it keeps priority under keep-if-reduced.
            _ if rng.random_bool(0.04) => {
                let live = model
                    .get(instrument as usize)
                    .map(|b| b.snapshot())
                    .unwrap_or_default();
                match live.len() {
                    0 => Command::Cancel { id: 1 },
                    n => {
                        let o = live[rng.random_range(0..n)];
                        Command::Replace {
                            id: o.id,
                            price: o.price,
                            qty: o.open_qty,
                        }
                    }
                }
            }
            cmd => cmd,
        };
        let msg = InstrumentCommand {
            instrument: InstrumentId(instrument),
            cmd,
        };
        got.clear();
        want.clear();
        multi.apply(&msg, &mut got);
        match model.get_mut(instrument as usize) {
            Some(book) => {
                let mut evs: Vec<Event> = Vec::new();
                book.apply(&cmd, &mut evs);
                want.extend(evs.into_iter().map(|event| InstrumentEvent {
                    instrument: InstrumentId(instrument),
                    event,
                }));
            }
            None => want.push(InstrumentEvent {
                instrument: InstrumentId(instrument),
                event: Event::Reject {
                    id: cmd.id(),
                    reason: RejectReason::UnknownInstrument,
                },
            }),
        }
        assert_eq!(got, want, "seed {seed}, command {k}: {msg:?}");
        msgs.push(msg);
        all_events.extend_from_slice(&got);
        if let (
            Command::New(o),
            Some(InstrumentEvent {
                event: Event::Ack { .. },
                ..
            }),
        ) = (cmd, got.first())
        {
            let elsewhere = model
                .iter()
                .enumerate()
                .any(|(j, b)| j != instrument as usize && b.order(o.id).is_some());
            shared_ids += usize::from(elsewhere);
        }
        trades += got
            .iter()
            .filter(|e| matches!(e.event, Event::Trade { .. }))
            .count();
    }
    for (i, book) in model.iter().enumerate() {
        let id = InstrumentId(i as u32);
        let dump = multi.book(id).map(|b| b.snapshot()).unwrap_or_default();
        assert_eq!(dump, book.snapshot(), "seed {seed}: book of instrument {i}");
    }
    assert_eq!(
        multi.live_orders(),
        model.iter().map(|b| b.len()).sum::<usize>()
    );
    // The same stream through `apply_batch`, in batches of 1 to 80 commands: the events
    // (checked above against the model) and the books are the same, event for event.
    let mut batched = MultiBook::<FastBook>::new(batched_table, cfg).unwrap();
    let mut batched_events = Vec::new();
    let mut rest = &msgs[..];
    while !rest.is_empty() {
        let k = rng.random_range(1..=80).min(rest.len());
        batched.apply_batch(&rest[..k], &mut batched_events);
        rest = &rest[k..];
    }
    assert_eq!(batched_events.len(), all_events.len(), "seed {seed}");
    for (k, (b, a)) in batched_events.iter().zip(&all_events).enumerate() {
        assert_eq!(b, a, "seed {seed}: batched event {k}");
    }
    for (i, book) in model.iter().enumerate() {
        let id = InstrumentId(i as u32);
        let dump = batched.book(id).map(|b| b.snapshot()).unwrap_or_default();
        assert_eq!(
            dump,
            book.snapshot(),
            "seed {seed}: batched book of instrument {i}"
        );
    }
    assert_eq!(batched.tier_moves(), multi.tier_moves(), "seed {seed}");
    (trades, shared_ids, multi.tier_moves())
}

#[test]
fn multi_book_matches_one_reference_book_per_instrument() {
    let mut all = TierMoves::default();
    for seed in 0..12 {
        let (trades, shared, moves) = run(seed, 1 + (seed as usize % 4) * 5, 6_000, seed % 2 == 1);
        assert!(trades > 20, "seed {seed}: only {trades} trades");
        all.promotions += moves.promotions;
        all.demotions += moves.demotions;
        all.scratch_runs += moves.scratch_runs;
        if seed % 4 != 0 {
            assert!(
                shared > 20,
                "seed {seed}: an id new while live elsewhere only {shared} times"
            );
        }
    }
    // Both tiers and the moves between them are exercised: cold books trading on the
    // scratch book, promotions to a full book and full books emptying back to the pool.
    assert!(
        all.promotions > 50 && all.demotions > 50 && all.scratch_runs > 30,
        "{all:?}"
    );
}

/// Tick and lot rejects come out of the multi-book as each instrument's spec says.
#[test]
fn tick_and_lot_per_instrument() {
    let mut t = InstrumentTable::new();
    let mut a = InstrumentSpec::new(Symbol::new("A").unwrap());
    a.tick = 5;
    let mut b = InstrumentSpec::new(Symbol::new("B").unwrap());
    b.lot = 100;
    t.push(a).unwrap();
    t.push(b).unwrap();
    let mut m = MultiBook::<FastBook>::new(t, MultiBookConfig::default()).unwrap();
    let mut out = Vec::new();
    for i in 0..2 {
        for (id, price, qty) in [(1, 10, 100), (2, 12, 100), (3, 10, 150)] {
            m.apply(
                &InstrumentCommand {
                    instrument: InstrumentId(i),
                    cmd: Command::New(NewOrder::limit(id, 1, Side::Buy, price, qty)),
                },
                &mut out,
            );
        }
    }
    let rejects: Vec<(u32, u64, RejectReason)> = out
        .iter()
        .filter_map(|e| match e.event {
            Event::Reject { id, reason } => Some((e.instrument.0, id, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(
        rejects,
        vec![(0, 2, RejectReason::BadTick), (1, 3, RejectReason::BadLot)]
    );
}
