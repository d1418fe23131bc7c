//! `flowmatch run --scenario wash-327`: one firm trading with itself through many linked
//! accounts, planted in a day of normal flow, and what surveillance and group
//! self-trade prevention make of it.
//!
//! The day (seeded, deterministic): a fair price walks; ordinary accounts (unlisted, plus a
//! few benign two-account groups) post limit orders around it, cancel some and cross the
//! spread with IOC orders. Firm 327 (group 327, accounts 327000..327049) plants:
//! - **wash pairs**: one of its accounts offers inside the spread, another lifts exactly
//!   that offer at once (then the first cancels whatever is left);
//! - **layering**: a large bid at the touch, a sale from another firm account, the bid
//!   cancelled a few commands later;
//! - **marking the close**: in the last `CLOSE_WINDOW` commands, aggressive buys from its
//!   accounts lift the offers, and its wash pairs print at rising prices.
//!
//! The firm's orders carry STP cancel-taker (a broker default); without the account table
//! the book compares single accounts and the firm's accounts trade with each other, with it
//! they cannot. The labels of what was planted are kept by the generator (order ids), never
//! derived from the surveillance output, and the report scores surveillance against them.

use super::detect::{self, Flag, Owner, Params};
use super::tape::{self, Step};
use flowmatch_core::book::AccountGroups;
use flowmatch_core::{
    Account, BookConfig, Command, Event, FastBook, NewOrder, OrderBook, OrderId, Price, Side, Stp,
    Tif,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::collections::BTreeSet;

/// The scenario's name on the command line.
pub const NAME: &str = "wash-327";
/// The firm's group id.
pub const FIRM: u32 = 327;
/// Commands in the pre-close window the firm marks (also surveillance's `--window`).
pub const CLOSE_WINDOW: u64 = 300;
/// Default seed.
pub const SEED: u64 = 327;

/// A generated day: the commands, the account table and what was planted.
pub struct Day {
    /// Every command of the day, in order.
    pub commands: Vec<Command>,
    /// Which commands are the firm's (same length as `commands`).
    pub firm: Vec<bool>,
    /// The account table.
    pub groups: AccountGroups,
    /// Planted wash pairs: (taker order, maker order).
    pub wash: BTreeSet<(OrderId, OrderId)>,
    /// Planted layering orders.
    pub layering: BTreeSet<OrderId>,
}

fn firm_account(rng: &mut ChaCha8Rng) -> Account {
    FIRM * 1000 + rng.random_range(0..50)
}

/// Generate the day: `normal` ordinary commands plus the firm's, from `seed`.
pub fn generate(seed: u64, normal: usize) -> Day {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pairs: Vec<(Account, u32)> = (0..50).map(|i| (FIRM * 1000 + i, FIRM)).collect();
    // Benign groups: five two-account firms among the ordinary accounts.
    for g in 0..5u32 {
        pairs.push((100 + 2 * g, 10 + g));
        pairs.push((101 + 2 * g, 10 + g));
    }
    let groups = AccountGroups::from_pairs(pairs).expect("distinct accounts");
    let mut book = FastBook::new(BookConfig::default());
    let mut day = Day {
        commands: Vec::new(),
        firm: Vec::new(),
        groups,
        wash: BTreeSet::new(),
        layering: BTreeSet::new(),
    };
    let mut next_id: OrderId = 1;
    let mut live: Vec<OrderId> = Vec::new();
    let mut fair: Price = 10_000;
    let mut ev = Vec::new();
    let mut push = |day: &mut Day, book: &mut FastBook, c: Command, firm: bool| {
        ev.clear();
        book.apply(&c, &mut ev);
        day.commands.push(c);
        day.firm.push(firm);
    };
    let close_from = normal.saturating_sub(CLOSE_WINDOW as usize * 9 / 10);
    for step in 0..normal {
        if rng.random_bool(0.3) {
            fair += if rng.random_bool(0.5) { 1 } else { -1 };
        }
        let id = next_id;
        next_id += 1;
        let account = rng.random_range(100..600);
        let side = if rng.random_bool(0.5) {
            Side::Buy
        } else {
            Side::Sell
        };
        let r = rng.random_range(0..100);
        let c = if r < 55 {
            let off = rng.random_range(1..=6);
            let price = match side {
                Side::Buy => fair - off,
                Side::Sell => fair + off,
            };
            let qty = if rng.random_bool(0.01) {
                rng.random_range(1_000..3_000)
            } else {
                rng.random_range(1..=10) * 10
            };
            live.push(id);
            Command::New(NewOrder::limit(id, account, side, price, qty))
        } else if r < 80 && !live.is_empty() {
            let k = rng.random_range(0..live.len());
            Command::Cancel {
                id: live.swap_remove(k),
            }
        } else {
            let price = match side {
                Side::Buy => fair + 2,
                Side::Sell => fair - 2,
            };
            let qty = rng.random_range(1..=8) * 10;
            Command::New(NewOrder::limit(id, account, side, price, qty).with_tif(Tif::Ioc))
        };
        push(&mut day, &mut book, c, false);

        let closing = step >= close_from;
        // Marking the close: every 8 commands of the window an aggressive buy lifts the
        // offers, and a wash pair prints just under the new offer.
        let marking = closing && step % 8 == 0;
        if marking {
            if let Some(ask) = book.best_ask() {
                let id = next_id;
                next_id += 1;
                let buy = NewOrder::limit(
                    id,
                    firm_account(&mut rng),
                    Side::Buy,
                    ask + 3,
                    rng.random_range(20..=40) * 10,
                )
                .with_tif(Tif::Ioc)
                .with_stp(Stp::CancelTaker);
                push(&mut day, &mut book, Command::New(buy), true);
                fair = fair.max(ask + 1);
            }
        }
        // Wash pairs: every 150 commands during the day, after each lift in the close.
        if marking || (!closing && step % 150 == 75) {
            if let (Some(bid), Some(ask)) = (book.best_bid(), book.best_ask()) {
                if ask - bid >= 2 {
                    let p = if closing { ask - 1 } else { bid + 1 };
                    let qty = rng.random_range(5..=20) * 10;
                    let (seller, mut buyer) = (firm_account(&mut rng), firm_account(&mut rng));
                    while buyer == seller {
                        buyer = firm_account(&mut rng);
                    }
                    let (s_id, b_id) = (next_id, next_id + 1);
                    next_id += 2;
                    let sell = NewOrder::limit(s_id, seller, Side::Sell, p, qty)
                        .with_stp(Stp::CancelTaker);
                    let buy = NewOrder::limit(b_id, buyer, Side::Buy, p, qty)
                        .with_tif(Tif::Ioc)
                        .with_stp(Stp::CancelTaker);
                    push(&mut day, &mut book, Command::New(sell), true);
                    push(&mut day, &mut book, Command::New(buy), true);
                    push(&mut day, &mut book, Command::Cancel { id: s_id }, true);
                    day.wash.insert((b_id, s_id));
                }
            }
        }
        // Layering, ten times a day, away from the close.
        if !closing && step % (normal / 10).max(1) == 40 {
            if let Some(bid) = book.best_bid() {
                let big = next_id;
                let sale = next_id + 1;
                next_id += 2;
                let bid_acct = firm_account(&mut rng);
                let b = NewOrder::limit(big, bid_acct, Side::Buy, bid, 5_000)
                    .with_stp(Stp::CancelTaker);
                let s = NewOrder::limit(
                    sale,
                    firm_account(&mut rng),
                    Side::Sell,
                    bid,
                    rng.random_range(5..=15) * 10,
                )
                .with_tif(Tif::Ioc)
                .with_stp(Stp::CancelTaker);
                push(&mut day, &mut book, Command::New(b), true);
                push(&mut day, &mut book, Command::New(s), true);
                push(&mut day, &mut book, Command::Cancel { id: big }, true);
                day.layering.insert(big);
            }
        }
    }
    day
}

/// The surveillance parameters the scenario scores with.
pub fn params() -> Params {
    Params {
        window: CLOSE_WINDOW,
        ..Params::default()
    }
}

fn close_price(steps: &[Step]) -> Option<Price> {
    steps.iter().rev().find_map(|s| {
        s.events.iter().rev().find_map(|e| match e {
            Event::Trade { price, .. } => Some(*price),
            _ => None,
        })
    })
}

/// Volume of trades between two different accounts of one group.
fn linked_volume(steps: &[Step], groups: &AccountGroups) -> u128 {
    detect::detect(steps, groups, &Params::default())
        .iter()
        .map(|f| match f {
            Flag::Wash {
                taker, maker, qty, ..
            } if taker.1 != maker.1 => *qty as u128,
            _ => 0,
        })
        .sum()
}

/// One scored run of the scenario.
pub struct Outcome {
    /// The report as text.
    pub text: String,
    /// The report as JSON.
    pub json: serde_json::Value,
    /// The flags on the run without group STP.
    pub flags: Vec<Flag>,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// Run the day with group STP off and on, survey the first, and score it.
pub fn run(day: &Day) -> Outcome {
    let cfg = BookConfig::default();
    let off = tape::replay(&day.commands, cfg);
    let mut on_book = FastBook::new(cfg);
    on_book.set_account_groups(day.groups.clone());
    let on: Vec<Step> = day
        .commands
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut events = Vec::new();
            on_book.apply(c, &mut events);
            Step {
                t: i as u64 + 1,
                cmd: *c,
                events,
            }
        })
        .collect();
    let without: Vec<Command> = day
        .commands
        .iter()
        .zip(&day.firm)
        .filter(|(_, f)| !**f)
        .map(|(c, _)| *c)
        .collect();
    let baseline = tape::replay(&without, cfg);
    let p = params();
    let flags = detect::detect(&off, &day.groups, &p);
    let flags_on = detect::detect(&on, &day.groups, &p);

    // Wash: which planted pairs traded (in the run without group STP), which were flagged.
    let traded: BTreeSet<(OrderId, OrderId)> = off
        .iter()
        .flat_map(|s| s.events.iter())
        .filter_map(|e| match e {
            Event::Trade { taker, maker, .. } if day.wash.contains(&(*taker, *maker)) => {
                Some((*taker, *maker))
            }
            _ => None,
        })
        .collect();
    let wash_flags: Vec<(OrderId, OrderId)> = flags
        .iter()
        .filter_map(|f| match f {
            Flag::Wash { taker, maker, .. } => Some((taker.0, maker.0)),
            _ => None,
        })
        .collect();
    let wash_hits = wash_flags.iter().filter(|x| day.wash.contains(x)).count();
    let wash_false: Vec<_> = wash_flags
        .iter()
        .filter(|x| !day.wash.contains(x))
        .collect();
    let wash_found: BTreeSet<_> = wash_flags.iter().filter(|x| day.wash.contains(x)).collect();
    // Close: the firm is the planted owner.
    let close_owners: Vec<Owner> = flags
        .iter()
        .filter(|f| f.kind() == "marking-the-close")
        .map(|f| f.owner())
        .collect();
    let close_hit = close_owners.contains(&Owner::Group(FIRM));
    let close_false = close_owners
        .iter()
        .filter(|o| **o != Owner::Group(FIRM))
        .count();
    // Layering.
    let lay: Vec<OrderId> = flags
        .iter()
        .filter_map(|f| match f {
            Flag::Layering { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    let lay_hits = lay.iter().filter(|i| day.layering.contains(i)).count();
    let lay_false = lay.len() - lay_hits;

    let (c_off, c_on, c_base) = (close_price(&off), close_price(&on), close_price(&baseline));
    let impact = |c: Option<Price>| match (c, c_base) {
        (Some(a), Some(b)) => Some(a - b),
        _ => None,
    };
    let (v_off, v_on) = (
        linked_volume(&off, &day.groups),
        linked_volume(&on, &day.groups),
    );
    let firm_wash_on = flags_on
        .iter()
        .filter(|f| f.kind() == "wash" && f.owner() == Owner::Group(FIRM))
        .count();
    let fmt_px = |c: Option<Price>| c.map_or("none".to_string(), |p| p.to_string());
    let fmt_imp = |c: Option<i64>| c.map_or("n/a".to_string(), |p| format!("{p:+}"));
    let text = format!(
        "wash-327: {} commands ({} of firm 327, {} accounts in its group), time = command \
         sequence number, close at t={}, window {} commands\n\
         \n\
         surveillance (group STP off) against what was planted:\n\
         \x20 wash trades:       planted {} (traded {}), flagged {}, found {} -> recall {:.1}%, \
         precision {:.1}%, false flags {} (unplanted trades between linked accounts)\n\
         \x20 marking the close: planted group {FIRM}, flagged {} owner(s): firm {} -> recall \
         {:.0}%, false flags {}\n\
         \x20 layering:          planted {}, flagged {}, found {} -> recall {:.1}%, precision \
         {:.1}%, false flags {}\n\
         \n\
         group STP (the firm's orders carry STP cancel-taker):\n\
         \x20 volume between linked accounts: off {v_off}, on {v_on}\n\
         \x20 firm 327 wash flags:            off {}, on {firm_wash_on}\n\
         \x20 closing price:                  without the firm {}, off {} ({}), on {} ({})\n",
        day.commands.len(),
        day.firm.iter().filter(|f| **f).count(),
        50,
        off.len(),
        CLOSE_WINDOW,
        day.wash.len(),
        traded.len(),
        wash_flags.len(),
        wash_found.len(),
        100.0 * ratio(wash_found.len(), day.wash.len()),
        100.0 * ratio(wash_hits, wash_flags.len()),
        wash_false.len(),
        close_owners.len(),
        if close_hit { "flagged" } else { "MISSED" },
        if close_hit { 100.0 } else { 0.0 },
        close_false,
        day.layering.len(),
        lay.len(),
        lay_hits,
        100.0 * ratio(lay_hits, day.layering.len()),
        100.0 * ratio(lay_hits, lay.len()),
        lay_false,
        wash_hits,
        fmt_px(c_base),
        fmt_px(c_off),
        fmt_imp(impact(c_off)),
        fmt_px(c_on),
        fmt_imp(impact(c_on)),
    );
    let json = json!({
        "scenario": NAME,
        "time": "command sequence number (1 = first command)",
        "commands": day.commands.len(),
        "firm_commands": day.firm.iter().filter(|f| **f).count(),
        "close": off.len(),
        "window": CLOSE_WINDOW,
        "wash": {
            "planted": day.wash.len(), "traded": traded.len(), "flagged": wash_flags.len(),
            "found": wash_found.len(),
            "recall": ratio(wash_found.len(), day.wash.len()),
            "precision": ratio(wash_hits, wash_flags.len()),
            "false_flags": wash_false.len(),
        },
        "marking_the_close": {
            "planted_owner": { "group": FIRM }, "flagged_owners": close_owners.len(),
            "recall": if close_hit { 1.0 } else { 0.0 }, "false_flags": close_false,
        },
        "layering": {
            "planted": day.layering.len(), "flagged": lay.len(), "found": lay_hits,
            "recall": ratio(lay_hits, day.layering.len()),
            "precision": ratio(lay_hits, lay.len()), "false_flags": lay_false,
        },
        "group_stp": {
            "linked_volume_off": v_off as u64, "linked_volume_on": v_on as u64,
            "firm_wash_flags_off": wash_hits, "firm_wash_flags_on": firm_wash_on,
            "close_without_firm": c_base, "close_off": c_off, "close_on": c_on,
            "close_impact_off": impact(c_off), "close_impact_on": impact(c_on),
        },
    });
    Outcome { text, json, flags }
}
