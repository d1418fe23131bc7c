//! Tests of the reference book on its own: random extreme streams checked for conservation
//! of quantity and an uncrossed book (with fill-or-kill's read-only walk checked against
//! running the real matching on a clone), and the spec's pro-rata example by hand.

use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Counts traded quantity: with a book clone, the obvious FOK simulation.
struct TradedQty(u128);

impl crate::command::Sink<Event> for TradedQty {
    fn event(&mut self, e: Event) {
        if let Event::Trade { qty, .. } = e {
            self.0 += qty as u128;
        }
    }
}

const PRICES: [Price; 9] = [
    i64::MIN,
    i64::MIN + 1,
    -2,
    -1,
    0,
    1,
    2,
    i64::MAX - 1,
    i64::MAX,
];

fn random_command(rng: &mut ChaCha8Rng, huge: bool) -> Command {
    let id = rng.random_range(0..24u64)
        + if rng.random_bool(0.05) {
            u64::MAX - 30
        } else {
            0
        };
    let qty = if huge && rng.random_bool(0.3) {
        u64::MAX - rng.random_range(0..3u64)
    } else {
        rng.random_range(0..12u64)
    };
    let price = PRICES[rng.random_range(0..PRICES.len())];
    match rng.random_range(0..10u32) {
        0..=5 => Command::New(NewOrder {
            id,
            account: rng.random_range(0..3u32),
            side: if rng.random_bool(0.5) {
                Side::Buy
            } else {
                Side::Sell
            },
            ord_type: if rng.random_bool(0.85) {
                OrdType::Limit
            } else {
                OrdType::Market
            },
            price: if rng.random_bool(0.9) {
                Some(price)
            } else {
                None
            },
            qty,
            tif: [Tif::Gtc, Tif::Ioc, Tif::Fok, Tif::Post][rng.random_range(0..4)],
            stp: [
                Stp::None,
                Stp::CancelTaker,
                Stp::CancelMaker,
                Stp::CancelBoth,
                Stp::DecrementCancel,
            ][rng.random_range(0..5)],
        }),
        6..=7 => Command::Cancel { id },
        _ => Command::Replace { id, price, qty },
    }
}

/// Runs the stream and returns how often each kind of event occurred, so the caller
/// can make sure the stream really exercised the rules (no vacuous pass).
fn check_stream(cfg: BookConfig, seed: u64, n: usize, huge: bool) -> HashMap<String, usize> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut book = ReferenceBook::new(cfg);
    // id -> entered - filled - cancelled, since its last ACK or RPL
    let mut ledger: HashMap<OrderId, i128> = HashMap::new();
    let mut events: Vec<Event> = Vec::new();
    for step in 0..n {
        let cmd = random_command(&mut rng, huge);
        if let Command::New(o) = cmd {
            // The read-only FOK walk must agree with running the real matching code on
            // a copy of the book, for every order (not only FOKs).
            let taker = Taker {
                id: o.id,
                account: o.account,
                side: o.side,
                limit: if o.ord_type == OrdType::Market {
                    None
                } else {
                    o.price
                },
                remaining: o.qty.max(1),
                stp: o.stp,
            };
            let mut copy = book.clone();
            let mut traded = TradedQty(0);
            let mut sim_taker = taker;
            copy.walk(&mut sim_taker, &mut traded);
            assert_eq!(book.simulate_fill(&taker), traded.0, "step {step}: {cmd:?}");
        }
        events.clear();
        book.apply(&cmd, &mut events);
        for e in &events {
            let kind = match *e {
                Event::Cancel { reason, .. } => format!("CXL {reason:?}"),
                Event::Reject { reason, .. } => format!("REJ {reason:?}"),
                other => format!("{other:?}").split(' ').next().unwrap().to_string(),
            };
            *seen.entry(kind).or_default() += 1;
            match *e {
                Event::Ack { id } => {
                    let Command::New(o) = cmd else {
                        panic!("ACK for {cmd:?}")
                    };
                    ledger.insert(id, o.qty as i128);
                }
                Event::Replaced { id } => {
                    let Command::Replace { qty, .. } = cmd else {
                        panic!("RPL for {cmd:?}")
                    };
                    ledger.insert(id, qty as i128);
                }
                Event::Trade {
                    taker, maker, qty, ..
                } => {
                    assert!(qty > 0, "step {step}: zero-quantity trade");
                    *ledger.get_mut(&taker).expect("taker known") -= qty as i128;
                    *ledger.get_mut(&maker).expect("maker known") -= qty as i128;
                }
                Event::Cancel { id, qty, .. } => {
                    assert!(qty > 0, "step {step}: zero-quantity cancel");
                    *ledger.get_mut(&id).expect("cancelled order known") -= qty as i128;
                }
                Event::Reject { .. } => {}
            }
        }
        // Quantity is conserved for every order, live or finished.
        ledger.retain(|&id, bal| match book.order(id) {
            Some(o) => {
                assert_eq!(
                    *bal, o.open_qty as i128,
                    "step {step}: order {id} after {cmd:?}"
                );
                true
            }
            None => {
                assert_eq!(*bal, 0, "step {step}: finished order {id} after {cmd:?}");
                false
            }
        });
        assert_eq!(ledger.len(), book.len(), "step {step}");
        if let (Some(b), Some(a)) = (book.best_bid(), book.best_ask()) {
            assert!(b < a, "step {step}: crossed {b} >= {a} after {cmd:?}");
        }
        for side in [Side::Buy, Side::Sell] {
            let mut prev: Option<Price> = None;
            book.for_each_level(side, &mut |l| {
                assert!(l.orders > 0 && l.total_qty > 0);
                if let Some(p) = prev {
                    assert!(side.better(p, l.price), "levels out of order");
                }
                prev = Some(l.price);
            });
        }
        *seen.entry("max book".into()).or_default() =
            seen.get("max book").copied().unwrap_or(0).max(book.len());
    }
    seen
}

fn assert_exercised(seen: &HashMap<String, usize>) {
    for kind in [
        "Ack",
        "Replaced",
        "Trade",
        "CXL User",
        "CXL Ioc",
        "CXL Fok",
        "CXL Stp",
        "REJ BadQty",
        "REJ BadPrice",
        "REJ BadTif",
        "REJ DuplicateId",
        "REJ WouldCross",
        "REJ UnknownId",
    ] {
        assert!(
            seen.get(kind).copied().unwrap_or(0) >= 20,
            "{kind} too rare: {seen:?}"
        );
    }
    assert!(seen["max book"] >= 5, "{seen:?}");
}

#[test]
fn random_extreme_streams_conserve_quantity_and_never_cross() {
    for (i, policy) in [
        MatchPolicy::PriceTime,
        MatchPolicy::ProRata { top_order: false },
        MatchPolicy::ProRata { top_order: true },
    ]
    .into_iter()
    .enumerate()
    {
        let cfg = BookConfig {
            policy,
            ..BookConfig::default()
        };
        assert_exercised(&check_stream(cfg, 1 + i as u64, 30_000, false));
        let huge = BookConfig {
            policy,
            max_order_qty: u64::MAX,
            ..BookConfig::default()
        };
        assert_exercised(&check_stream(huge, 100 + i as u64, 30_000, true));
    }
}

#[test]
fn spec_pro_rata_example() {
    let cfg = BookConfig {
        policy: MatchPolicy::ProRata { top_order: false },
        ..BookConfig::default()
    };
    let mut book = ReferenceBook::new(cfg);
    let mut ev = Vec::new();
    for (id, q) in [(1, 10), (2, 30), (3, 60)] {
        book.apply(
            &Command::New(NewOrder::limit(id, id as u32, Side::Sell, 100, q)),
            &mut ev,
        );
    }
    ev.clear();
    book.apply(
        &Command::New(NewOrder::limit(9, 9, Side::Buy, 100, 25)),
        &mut ev,
    );
    let fills: Vec<(OrderId, Qty)> = ev
        .iter()
        .filter_map(|e| match *e {
            Event::Trade { maker, qty, .. } => Some((maker, qty)),
            _ => None,
        })
        .collect();
    assert_eq!(fills, vec![(1, 3), (2, 7), (3, 15)]);
}
