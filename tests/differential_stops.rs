//! Differential test of stops and stop-limits (`docs/SEMANTICS.md`, "Stop orders"):
//! seeded streams through the fast book and the reference book side by side, which must
//! produce identical events, hold identical books, the same pending stops in the same
//! (arrival) order and the same state hash after every command. The generator keeps prices in a narrow band around a moving mid
//! and puts many stops there, so that trades set stops off and triggered stops set off
//! more (cascades), and every time in force, STP mode and policy is drawn; stop ids come
//! from the same small pool as the rest, so duplicates, cancels and replaces of pending
//! stops are frequent. Each run also counts cascades (a command triggering two or more
//! stops) and fails if the streams produced none, so the test cannot pass vacuously.

use flowmatch::core::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn command(rng: &mut ChaCha8Rng, mid: i64) -> Command {
    let id = rng.random_range(1..=60u64);
    let account = rng.random_range(1..=4u32);
    let side = if rng.random_bool(0.5) {
        Side::Buy
    } else {
        Side::Sell
    };
    let px = mid + rng.random_range(-6..=6i64);
    let qty = rng.random_range(1..=12u64);
    let tif = match rng.random_range(0..10) {
        0 => Tif::Ioc,
        1 => Tif::Fok,
        2 => Tif::Post,
        _ => Tif::Gtc,
    };
    let stp = match rng.random_range(0..12) {
        0 => Stp::CancelTaker,
        1 => Stp::CancelMaker,
        2 => Stp::CancelBoth,
        3 => Stp::DecrementCancel,
        _ => Stp::None,
    };
    let trigger = mid + rng.random_range(-5..=5i64);
    let new = |ord_type, price, tif| {
        Command::New(NewOrder {
            id,
            account,
            side,
            ord_type,
            price,
            qty,
            tif,
            stp,
        })
    };
    match rng.random_range(0..100) {
        0..=29 => new(OrdType::Limit, Some(px), tif),
        30..=37 => new(OrdType::Market, None, Tif::Ioc),
        38..=51 => {
            // Mostly valid stops (IOC or FOK), now and then a GTC one (BadTif) or one
            // with a price (BadPrice).
            let (price, tif) = match rng.random_range(0..10) {
                0 => (None, Tif::Gtc),
                1 => (Some(px), Tif::Ioc),
                2 => (None, Tif::Fok),
                _ => (None, Tif::Ioc),
            };
            new(OrdType::Stop { trigger }, price, tif)
        }
        52..=65 => {
            let price = if rng.random_range(0..20) == 0 {
                None
            } else {
                Some(px)
            };
            new(OrdType::StopLimit { trigger }, price, tif)
        }
        66..=85 => Command::Cancel { id },
        _ => Command::Replace { id, price: px, qty },
    }
}

fn policies() -> [MatchPolicy; 3] {
    [
        MatchPolicy::PriceTime,
        MatchPolicy::ProRata { top_order: false },
        MatchPolicy::ProRata { top_order: true },
    ]
}

/// How many stops one command's events triggered: an `ACK` of an id after the command's
/// own first event (the command's own `ACK` comes first, a trigger's after it).
fn triggers(cmd: &Command, events: &[Event]) -> usize {
    let own = usize::from(matches!(cmd, Command::New(_)));
    events
        .iter()
        .filter(|e| matches!(e, Event::Ack { .. }))
        .count()
        .saturating_sub(own)
}

/// The pending stops of a book as it lists them (arrival order), with the
/// [`OrderBook::pending_stops`] count checked against the list.
fn pending(book: &impl OrderBook) -> Vec<NewOrder> {
    let mut v = Vec::new();
    book.for_each_pending_stop(&mut |o| v.push(*o));
    assert_eq!(v.len(), book.pending_stops());
    v
}

#[test]
fn stops_fast_equals_reference() {
    let mut cascades = 0;
    let mut fired = 0;
    let mut max_pending = 0;
    for seed in 0..400u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let policy = policies()[(seed % 3) as usize];
        let cfg = BookConfig {
            policy,
            min_price: -1_000,
            max_price: 1_000,
            tick: if seed % 7 == 0 { 2 } else { 1 },
            capacity: 64,
            ..BookConfig::default()
        };
        let mut fast = FastBook::new(cfg);
        let mut reference = ReferenceBook::new(cfg);
        let mut mid = 0i64;
        for step in 0..400 {
            if rng.random_range(0..20) == 0 {
                mid += rng.random_range(-3..=3i64);
            }
            let cmd = command(&mut rng, mid);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            fast.apply(&cmd, &mut a);
            reference.apply(&cmd, &mut b);
            assert_eq!(
                a, b,
                "seed {seed} step {step} {cmd:?}: fast events differ from the reference"
            );
            assert_eq!(
                fast.snapshot(),
                reference.snapshot(),
                "seed {seed} step {step}"
            );
            assert_eq!(
                pending(&fast),
                pending(&reference),
                "seed {seed} step {step}: pending stops"
            );
            assert_eq!(
                flowmatch_journal::state_hash(&fast),
                flowmatch_journal::state_hash(&reference),
                "seed {seed} step {step}"
            );
            max_pending = max_pending.max(fast.pending_stops());
            let n = triggers(&cmd, &a);
            fired += n;
            cascades += usize::from(n >= 2);
        }
    }
    assert!(fired > 1_000, "only {fired} stops fired");
    assert!(
        max_pending >= 5,
        "at most {max_pending} stops pending at once"
    );
    assert!(cascades > 100, "only {cascades} cascades");
}
