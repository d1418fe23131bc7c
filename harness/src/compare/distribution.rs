//! Who gets filled: the same stream through our fast book under price-time, pro-rata and
//! pro-rata with a top order, with every fill attributed to the size of the resting order
//! it hit.
//!
//! Resting orders are put in two size classes split at the median of the limit-order sizes
//! in the stream itself (small: at most the median; large: above it), so the classes mean
//! the same thing under every policy. For each class and policy the report gives the share
//! of all traded quantity (as makers) and the fill ratio (maker-side traded quantity /
//! quantity entered by limit orders of that class, including those that only took). Under price-time, size
//! does not buy priority; under pro-rata a larger order gets a proportionally larger
//! allocation, so the large class's share should rise.

use super::driver::book_config;
use flowmatch_core::{Command, Event, FastBook, MatchPolicy, OrderBook, OrderId, Qty};
use serde::Serialize;
use std::collections::HashMap;

/// One size class under one policy.
#[derive(Clone, Debug, Serialize)]
pub struct ClassShare {
    pub class: &'static str,
    /// Inclusive size range of the class.
    pub min_qty: Qty,
    pub max_qty: Qty,
    /// Resting (limit) orders of this class entered, and how many of them received at
    /// least one fill as a maker, in percent. Price-time fills some orders completely and
    /// others not at all; pro-rata spreads a fill over every order at the level, but its
    /// rounding gives small orders nothing when the taker is small against the level.
    pub orders: u64,
    pub orders_filled_pct: f64,
    pub fills: u64,
    pub traded_qty: u64,
    /// Share of all traded quantity, in percent.
    pub share_pct: f64,
    /// Traded quantity / quantity entered by orders of this class, in percent.
    pub fill_ratio_pct: f64,
}

/// The distribution under one policy.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyDistribution {
    pub policy: &'static str,
    pub classes: Vec<ClassShare>,
}

/// The distribution for one workload under every policy.
#[derive(Clone, Debug, Serialize)]
pub struct FillDistribution {
    pub workload: String,
    pub policies: Vec<PolicyDistribution>,
}

pub const POLICIES: [(&str, MatchPolicy); 3] = [
    ("price-time", MatchPolicy::PriceTime),
    ("pro-rata", MatchPolicy::ProRata { top_order: false }),
    ("pro-rata+top", MatchPolicy::ProRata { top_order: true }),
];

/// Median of limit-order sizes (new orders and replaces).
fn cut(cmds: &[Command]) -> Qty {
    let mut q: Vec<Qty> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::New(o) if o.price.is_some() => Some(o.qty),
            Command::Replace { qty, .. } => Some(*qty),
            _ => None,
        })
        .collect();
    if q.is_empty() {
        return 0;
    }
    q.sort_unstable();
    q[q.len() / 2]
}

fn class_of(q: Qty, median: Qty) -> usize {
    usize::from(q > median)
}

/// Fills by resting-order size class, under each policy, for one stream.
pub fn fill_distribution(workload: &str, cmds: &[Command]) -> FillDistribution {
    let c = cut(cmds);
    let bounds = [(1, c), (c + 1, Qty::MAX)];
    let names = ["small", "large"];
    let mut policies = Vec::new();
    for (pname, policy) in POLICIES {
        let mut book = FastBook::new(book_config(policy));
        // Entered size of each live order (new order, or the new size of a replace).
        let mut size: HashMap<OrderId, Qty> = HashMap::new();
        let mut entered = [0u64; 2];
        let mut orders = [0u64; 2];
        // Class of each order entry that has had a fill (an id reused later is a new entry).
        let mut touched: HashMap<OrderId, bool> = HashMap::new();
        let mut touched_count = [0u64; 2];
        let mut fills = [0u64; 2];
        let mut traded = [0u64; 2];
        let mut ev: Vec<Event> = Vec::with_capacity(256);
        for cmd in cmds {
            ev.clear();
            book.apply(cmd, &mut ev);
            let accepted = !matches!(ev.first(), Some(Event::Reject { .. }));
            if accepted {
                match cmd {
                    Command::New(o) if o.price.is_some() => {
                        size.insert(o.id, o.qty);
                        entered[class_of(o.qty, c)] += o.qty;
                        orders[class_of(o.qty, c)] += 1;
                        touched.insert(o.id, false);
                    }
                    Command::Replace { id, qty, .. } => {
                        size.insert(*id, *qty);
                        entered[class_of(*qty, c)] += *qty;
                    }
                    _ => {}
                }
            }
            for e in &ev {
                if let Event::Trade { maker, qty, .. } = e {
                    if let Some(&s) = size.get(maker) {
                        let k = class_of(s, c);
                        fills[k] += 1;
                        traded[k] += qty;
                        if let Some(t) = touched.get_mut(maker) {
                            if !*t {
                                *t = true;
                                touched_count[k] += 1;
                            }
                        }
                    }
                }
            }
        }
        let total: u64 = traded.iter().sum();
        let classes = (0..2)
            .map(|k| ClassShare {
                class: names[k],
                min_qty: bounds[k].0,
                max_qty: bounds[k].1,
                orders: orders[k],
                orders_filled_pct: 100.0 * touched_count[k] as f64 / orders[k].max(1) as f64,
                fills: fills[k],
                traded_qty: traded[k],
                share_pct: 100.0 * traded[k] as f64 / total.max(1) as f64,
                fill_ratio_pct: 100.0 * traded[k] as f64 / entered[k].max(1) as f64,
            })
            .collect();
        policies.push(PolicyDistribution {
            policy: pname,
            classes,
        });
    }
    FillDistribution {
        workload: workload.to_string(),
        policies,
    }
}
