//! Who gets filled: the same stream through our fast book under price-time, pro-rata and
//! pro-rata with a top order, with every fill attributed to the size of the resting order
//! it hit.
//!
//! Resting orders are put in three size classes by the terciles of the limit-order sizes
//! in the stream itself (so the classes mean the same thing under every policy). For each
//! class and policy the report gives the share of all traded quantity and the fill ratio
//! (traded quantity / quantity entered by orders of that class). Under price-time, size
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

/// Tercile cut points of limit-order sizes (new orders and replaces).
fn cuts(cmds: &[Command]) -> (Qty, Qty) {
    let mut q: Vec<Qty> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::New(o) if o.price.is_some() => Some(o.qty),
            Command::Replace { qty, .. } => Some(*qty),
            _ => None,
        })
        .collect();
    if q.is_empty() {
        return (0, 0);
    }
    q.sort_unstable();
    (q[q.len() / 3], q[2 * q.len() / 3])
}

fn class_of(q: Qty, (a, b): (Qty, Qty)) -> usize {
    if q <= a {
        0
    } else if q <= b {
        1
    } else {
        2
    }
}

/// Fills by resting-order size class, under each policy, for one stream.
pub fn fill_distribution(workload: &str, cmds: &[Command]) -> FillDistribution {
    let c = cuts(cmds);
    let bounds = [(1, c.0), (c.0 + 1, c.1), (c.1 + 1, Qty::MAX)];
    let names = ["small", "medium", "large"];
    let mut policies = Vec::new();
    for (pname, policy) in POLICIES {
        let mut book = FastBook::new(book_config(policy));
        // Entered size of each live order (new order, or the new size of a replace).
        let mut size: HashMap<OrderId, Qty> = HashMap::new();
        let mut entered = [0u64; 3];
        let mut fills = [0u64; 3];
        let mut traded = [0u64; 3];
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
                    }
                }
            }
        }
        let total: u64 = traded.iter().sum();
        let classes = (0..3)
            .map(|k| ClassShare {
                class: names[k],
                min_qty: bounds[k].0,
                max_qty: bounds[k].1,
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
