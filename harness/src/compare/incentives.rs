//! The incentives study: what each CME allocation algorithm rewards, measured on one
//! stream run through our fast book under every algorithm ([`super::cme::policy`]).
//!
//! Every resting order entry is tracked from its trades: when a new limit order is acked
//! and is still in the book after its command, it has *rested*; its resting size is its
//! open quantity then, and its *arrival rank* is its place at the level when it joined
//! (the level's order count right after, since a new order joins at the back: 1 = it made
//! the level). Each trade names its maker, so the maker's entry collects the fill. An entry
//! ends when its order leaves the book (filled, cancelled, cleared by STP); a replaced
//! order that is still resting starts a new entry in the *re-entered* rank bucket (whether
//! it kept its priority is the book's business, not visible in the events), sized by its new
//! open quantity.
//!
//! Reported per algorithm:
//! - fill share and fill ratio (filled / rested quantity) by resting-size class (1–9,
//!   10–99, 100–999, 1000+) and by arrival rank (1st … 10th, 11th+, re-entered);
//! - the value of queue position: mean fill of the 1st versus the 10th order to join a
//!   level;
//! - the oversizing incentive: fill per displayed (resting) share against displayed size,
//!   i.e. the fill ratio by size class (under FIFO size does not buy fills; under pro rata
//!   a larger order is allocated in proportion, and the rounding-down of every share costs
//!   the small ones most).
//!
//! Totals reconcile: the fills collected by the entries plus any fill whose maker is not
//! tracked (`untracked_fill_qty`, zero unless a maker rested in a way this module does not
//! see) equal the traded quantity of the trade events.

use super::cme;
use super::driver::book_config;
use flowmatch_core::allocation::Algorithm;
use flowmatch_core::{Command, Event, FastBook, MatchPolicy, OrderBook, OrderId, Price, Qty, Side};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;

/// Resting-size classes: `(label, smallest, largest)`, inclusive.
pub const SIZE_CLASSES: [(&str, Qty, Qty); 4] = [
    ("1-9", 1, 9),
    ("10-99", 10, 99),
    ("100-999", 100, 999),
    ("1000+", 1000, Qty::MAX),
];

/// Arrival ranks reported one by one (1 … `RANKS`); later arrivals share one bucket.
pub const RANKS: usize = 10;

/// Index of the re-entered bucket (after a replace) in [`AlgorithmStudy::by_rank`].
pub const REENTERED: usize = RANKS + 1;

/// One bucket of resting-order entries.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Bucket {
    pub label: String,
    /// Entries that rested in this bucket.
    pub orders: u64,
    /// Their resting quantity, summed.
    pub rested_qty: u64,
    /// Quantity they were filled as makers, and in how many trades.
    pub filled_qty: u64,
    pub fills: u64,
    /// Entries with at least one fill.
    pub orders_filled: u64,
    /// `filled_qty` / all maker fills of the run, in percent.
    pub share_pct: f64,
    /// `filled_qty` / `rested_qty`, in percent: fill per displayed share.
    pub fill_ratio_pct: f64,
    /// `filled_qty` / `orders`: the expected fill of an entry in this bucket, in lots.
    pub mean_fill: f64,
}

/// The value of queue position under one algorithm.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct QueueValue {
    /// Mean fill (lots) of the first and of the tenth order to join a level.
    pub first_mean_fill: f64,
    pub tenth_mean_fill: f64,
    /// Their fill ratios, in percent.
    pub first_fill_ratio_pct: f64,
    pub tenth_fill_ratio_pct: f64,
    /// `first_fill_ratio_pct / tenth_fill_ratio_pct` (0 when the tenth got nothing).
    pub first_over_tenth_fill_ratio: f64,
}

/// The study under one algorithm.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AlgorithmStudy {
    pub algorithm: &'static str,
    /// Traded quantity of the run's trade events.
    pub traded_qty: u64,
    pub trades: u64,
    /// Maker fills no tracked entry collected (0 unless a maker's resting went unseen).
    pub untracked_fill_qty: u64,
    pub by_size: Vec<Bucket>,
    /// 1st … 10th, 11th+, re-entered.
    pub by_rank: Vec<Bucket>,
    pub queue_value: QueueValue,
}

/// The study on one stream, every algorithm.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Study {
    pub workload: String,
    pub commands: usize,
    pub algorithms: Vec<AlgorithmStudy>,
}

#[derive(Clone, Copy)]
struct Entry {
    size: Qty,
    rank: usize,
    filled: u64,
    fills: u64,
}

fn size_class(q: Qty) -> usize {
    SIZE_CLASSES
        .iter()
        .position(|&(_, lo, hi)| q >= lo && q <= hi)
        .unwrap_or(0)
}

/// The rank an entry re-entered after a replace carries.
const REENTERED_RANK: usize = usize::MAX;

fn rank_bucket(rank: usize) -> usize {
    if rank == REENTERED_RANK {
        REENTERED
    } else {
        rank.clamp(1, RANKS + 1) - 1
    }
}

/// Orders resting at `price` on `side` (0 when there is no such level).
fn level_orders<B: OrderBook>(book: &B, side: Side, price: Price) -> usize {
    let mut n = 0;
    book.for_each_level_while(side, &mut |l| {
        if l.price == price {
            n = l.orders;
            return false;
        }
        // Levels come best first: keep going while the wanted price is further out.
        match side {
            Side::Buy => l.price > price,
            Side::Sell => l.price < price,
        }
    });
    n
}

fn finish(label: String, b: &mut Bucket, total: u64) {
    b.label = label;
    b.share_pct = 100.0 * b.filled_qty as f64 / total.max(1) as f64;
    b.fill_ratio_pct = 100.0 * b.filled_qty as f64 / b.rested_qty.max(1) as f64;
    b.mean_fill = b.filled_qty as f64 / b.orders.max(1) as f64;
}

/// The study of `cmds` through a fresh fast book under `policy`, reported as `name`.
pub fn study_policy(name: &'static str, policy: MatchPolicy, cmds: &[Command]) -> AlgorithmStudy {
    let mut book = FastBook::new(book_config(policy));
    let mut entries: Vec<Entry> = Vec::new();
    let mut live: HashMap<OrderId, usize> = HashMap::new();
    let mut ev: Vec<Event> = Vec::with_capacity(256);
    let mut gone: Vec<OrderId> = Vec::new();
    let mut out = AlgorithmStudy {
        algorithm: name,
        ..AlgorithmStudy::default()
    };
    for cmd in cmds {
        ev.clear();
        gone.clear();
        book.apply(cmd, &mut ev);
        let mut acked = false;
        let mut replaced = false;
        for e in &ev {
            match *e {
                Event::Trade { maker, qty, .. } => {
                    out.traded_qty += qty;
                    out.trades += 1;
                    match live.get(&maker) {
                        Some(&ix) => {
                            entries[ix].filled += qty;
                            entries[ix].fills += 1;
                        }
                        None => out.untracked_fill_qty += qty,
                    }
                    gone.push(maker);
                }
                Event::Cancel { id, .. } => gone.push(id),
                Event::Ack { id } if id == cmd.id() => acked = true,
                Event::Replaced { id } if id == cmd.id() => replaced = true,
                _ => {}
            }
        }
        for id in &gone {
            if book.order(*id).is_none() {
                live.remove(id);
            }
        }
        let rank = match cmd {
            Command::New(o) if acked && o.price.is_some() => book
                .order(o.id)
                .map(|r| (r, level_orders(&book, r.side, r.price))),
            Command::Replace { id, .. } if replaced => {
                live.remove(id);
                book.order(*id).map(|r| (r, REENTERED_RANK))
            }
            _ => None,
        };
        if let Some((r, rank)) = rank {
            live.insert(r.id, entries.len());
            entries.push(Entry {
                size: r.open_qty,
                rank,
                filled: 0,
                fills: 0,
            });
        }
    }
    let mut by_size = vec![Bucket::default(); SIZE_CLASSES.len()];
    let mut by_rank = vec![Bucket::default(); REENTERED + 1];
    for e in &entries {
        for b in [
            &mut by_size[size_class(e.size)],
            &mut by_rank[rank_bucket(e.rank)],
        ] {
            b.orders += 1;
            b.rested_qty += e.size;
            b.filled_qty += e.filled;
            b.fills += e.fills;
            b.orders_filled += u64::from(e.filled > 0);
        }
    }
    let maker_total: u64 = by_size.iter().map(|b| b.filled_qty).sum();
    for (k, b) in by_size.iter_mut().enumerate() {
        finish(SIZE_CLASSES[k].0.to_string(), b, maker_total);
    }
    for (k, b) in by_rank.iter_mut().enumerate() {
        let label = match k {
            k if k < RANKS => format!("{}", k + 1),
            RANKS => format!("{}+", RANKS + 1),
            _ => "re-entered".to_string(),
        };
        finish(label, b, maker_total);
    }
    let (first, tenth) = (&by_rank[0], &by_rank[RANKS - 1]);
    out.queue_value = QueueValue {
        first_mean_fill: first.mean_fill,
        tenth_mean_fill: tenth.mean_fill,
        first_fill_ratio_pct: first.fill_ratio_pct,
        tenth_fill_ratio_pct: tenth.fill_ratio_pct,
        first_over_tenth_fill_ratio: if tenth.fill_ratio_pct > 0.0 {
            first.fill_ratio_pct / tenth.fill_ratio_pct
        } else {
            0.0
        },
    };
    out.by_size = by_size;
    out.by_rank = by_rank;
    out
}

/// The study of `cmds` under all eight CME algorithms, in letter order.
pub fn study(workload: &str, cmds: &[Command]) -> Study {
    Study {
        workload: workload.to_string(),
        commands: cmds.len(),
        algorithms: Algorithm::ALL
            .into_iter()
            .map(|a| study_policy(cme::name(a), cme::policy(a), cmds))
            .collect(),
    }
}

fn pct(v: f64) -> String {
    format!("{v:.1}")
}

impl Study {
    /// The markdown section.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        if self.algorithms.is_empty() {
            return s;
        }
        let _ = writeln!(
            s,
            "\n## Incentives study: what each CME algorithm rewards ({}, {} commands)\n",
            self.workload, self.commands
        );
        let _ = writeln!(s, "Every resting order is tracked from its trades: its resting size (open quantity when it rested), and its arrival rank at the level (1 = it made the level). Same stream, fast book, each algorithm with the parameters of the CME table above.\n");
        let _ = writeln!(
            s,
            "### Fill share and fill per displayed share, by resting size\n"
        );
        let _ = writeln!(s, "Share of all maker fills / fill ratio (filled ÷ rested quantity). Rising fill ratio with size = an incentive to oversize.\n");
        let heads: Vec<&str> = SIZE_CLASSES.iter().map(|c| c.0).collect();
        let _ = writeln!(
            s,
            "| algorithm | {} | traded | untracked |",
            heads.join(" | ")
        );
        let _ = writeln!(s, "|---|{}---|---|", "---|".repeat(heads.len()));
        for a in &self.algorithms {
            let row: Vec<String> = a
                .by_size
                .iter()
                .map(|b| format!("{:.1}% / {:.2}%", b.share_pct, b.fill_ratio_pct))
                .collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                a.algorithm,
                row.join(" | "),
                a.traded_qty,
                a.untracked_fill_qty
            );
        }
        if let Some(a) = self.algorithms.first() {
            let counts: Vec<String> = a
                .by_size
                .iter()
                .map(|b| format!("{} ({} orders)", b.label, b.orders))
                .collect();
            let _ = writeln!(
                s,
                "\nEntries per class under {}: {}.",
                a.algorithm,
                counts.join(", ")
            );
        }
        let _ = writeln!(
            s,
            "\n![fill per displayed share by size](incentives-size.svg)\n"
        );
        let _ = writeln!(s, "### Fill by arrival rank at the level\n");
        let _ = writeln!(s, "Fill ratio (filled ÷ rested quantity) by the order's place when it joined its level.\n");
        let _ = writeln!(s, "Not conditioned on the level trading: rank 1 counts every order that opened a level, most of them away from the touch and never reached, while a 10th order exists only at a busy level near it, so a higher ratio at rank 10 than at rank 1 is selection, not priority (docs/ALLOCATION.md).\n");
        let labels: Vec<String> = self.algorithms[0]
            .by_rank
            .iter()
            .map(|b| b.label.clone())
            .collect();
        let _ = writeln!(s, "| algorithm | {} |", labels.join(" | "));
        let _ = writeln!(s, "|---|{}", "---|".repeat(labels.len()));
        for a in &self.algorithms {
            let row: Vec<String> = a
                .by_rank
                .iter()
                .map(|b| format!("{:.2}%", b.fill_ratio_pct))
                .collect();
            let _ = writeln!(s, "| {} | {} |", a.algorithm, row.join(" | "));
        }
        let counts: Vec<String> = self.algorithms[0]
            .by_rank
            .iter()
            .map(|b| format!("{}: {}", b.label, b.orders))
            .collect();
        let _ = writeln!(
            s,
            "\nEntries per rank under {}: {}.",
            self.algorithms[0].algorithm,
            counts.join(", ")
        );
        let _ = writeln!(s, "\n![fill by arrival rank](incentives-rank.svg)\n");
        let _ = writeln!(
            s,
            "### The value of queue position: the 1st against the 10th order at a level\n"
        );
        let _ = writeln!(s, "| algorithm | 1st: mean fill (lots) | 10th: mean fill (lots) | 1st: fill ratio | 10th: fill ratio | 1st ÷ 10th fill ratio |");
        let _ = writeln!(s, "|---|---|---|---|---|---|");
        for a in &self.algorithms {
            let q = &a.queue_value;
            let _ = writeln!(
                s,
                "| {} | {:.2} | {:.2} | {:.2}% | {:.2}% | {:.2} |",
                a.algorithm,
                q.first_mean_fill,
                q.tenth_mean_fill,
                q.first_fill_ratio_pct,
                q.tenth_fill_ratio_pct,
                q.first_over_tenth_fill_ratio
            );
        }
        s
    }

    fn chart(&self, title: &str, x_label: &str, y_label: &str, rank: bool) -> String {
        let first = match self.algorithms.first() {
            Some(a) => a,
            None => return String::new(),
        };
        let pick = |a: &AlgorithmStudy| -> Vec<f64> {
            if rank {
                a.by_rank.iter().map(|b| b.fill_ratio_pct).collect()
            } else {
                a.by_size.iter().map(|b| b.fill_ratio_pct).collect()
            }
        };
        let groups: Vec<String> = if rank {
            first.by_rank.iter().map(|b| b.label.clone()).collect()
        } else {
            first.by_size.iter().map(|b| b.label.clone()).collect()
        };
        let series: Vec<(String, Vec<f64>)> = self
            .algorithms
            .iter()
            .map(|a| (a.algorithm.to_string(), pick(a)))
            .collect();
        crate::chart::BarChart {
            title,
            x_label,
            y_label,
            groups: &groups,
            series: &series,
            value_labels: if rank { None } else { Some(pct) },
            ..Default::default()
        }
        .svg()
    }

    /// Fill per displayed share against displayed size, one bar per algorithm.
    pub fn size_svg(&self) -> String {
        self.chart(
            &format!(
                "Fill per displayed share (filled ÷ rested, %) by resting size ({})",
                self.workload
            ),
            "resting size (lots)",
            "% of rested quantity filled",
            false,
        )
    }

    /// Fill ratio by arrival rank at the level, one bar per algorithm.
    pub fn rank_svg(&self) -> String {
        self.chart(
            &format!(
                "Fill ratio (%) by arrival rank at the level ({})",
                self.workload
            ),
            "arrival rank at the level (1 = made the level)",
            "% of rested quantity filled",
            true,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmatch_core::{NewOrder, ReferenceBook, Tif};

    fn sell(id: u64, account: u32, price: i64, qty: u64) -> Command {
        Command::New(NewOrder::limit(id, account, Side::Sell, price, qty))
    }

    /// Sells 5, 50, 500 at 100 (ids 1–3, distinct accounts, id 1 made the level), 20 at
    /// 101, 2000 at 102, a bid of 7 at 99; an IOC buy of 110 at 100; then a sell of 3 at
    /// 100 (id 6).
    ///
    /// By hand:
    /// - cme:F (FIFO): 1 gets 5, 2 gets 50, 3 gets 55. After: 3 alone at 100 with 445, so
    ///   id 6 is 2nd at its level.
    /// - cme:C (Pro Rata min 1, then FIFO): total 555; 5·110/555 = 0.99 → 0,
    ///   50·110/555 = 9.9 → 9, 500·110/555 = 99.1 → 99; 108 placed, the 2 left go FIFO to
    ///   id 1. So 1 gets 2, 2 gets 9, 3 gets 99; all three still rest, id 6 is 4th.
    /// - cme:A (TOP, Pro Rata min 2, FIFO): TOP (id 1) takes its 5; 105 over 550:
    ///   50·105/550 = 9.5 → 9, 500·105/550 = 95.5 → 95; 104 placed, the 1 left goes FIFO to
    ///   id 2. So 1 gets 5, 2 gets 10, 3 gets 95; id 6 is 3rd (2 and 3 rest).
    fn tiny() -> Vec<Command> {
        vec![
            sell(1, 10, 100, 5),
            sell(2, 11, 100, 50),
            sell(3, 12, 100, 500),
            sell(4, 13, 101, 20),
            sell(7, 15, 102, 2000),
            Command::New(NewOrder::limit(5, 14, Side::Buy, 99, 7)),
            Command::New(NewOrder::limit(10, 20, Side::Buy, 100, 110).with_tif(Tif::Ioc)),
            sell(6, 16, 100, 3),
        ]
    }

    /// `(orders, rested, filled, orders filled)` of each bucket.
    fn shape(b: &[Bucket]) -> Vec<(u64, u64, u64, u64)> {
        b.iter()
            .map(|b| (b.orders, b.rested_qty, b.filled_qty, b.orders_filled))
            .collect()
    }

    fn run(a: Algorithm) -> AlgorithmStudy {
        study_policy(cme::name(a), cme::policy(a), &tiny())
    }

    #[test]
    fn hand_checked_tiny_stream_fifo() {
        let s = run(Algorithm::F);
        assert_eq!((s.traded_qty, s.trades, s.untracked_fill_qty), (110, 3, 0));
        // Classes: 1-9 = ids 1, 5, 6 (5 + 7 + 3); 10-99 = ids 2, 4; 100-999 = id 3; 1000+ = 7.
        assert_eq!(
            shape(&s.by_size),
            vec![
                (3, 15, 5, 1),
                (2, 70, 50, 1),
                (1, 500, 55, 1),
                (1, 2000, 0, 0)
            ]
        );
        // Ranks: 1st = ids 1, 4, 7, 5; 2nd = ids 2 and 6; 3rd = id 3.
        let mut want = vec![(0, 0, 0, 0); REENTERED + 1];
        want[0] = (4, 2032, 5, 1);
        want[1] = (2, 53, 50, 1);
        want[2] = (1, 500, 55, 1);
        assert_eq!(shape(&s.by_rank), want);
        assert_eq!(s.by_size[2].fill_ratio_pct, 11.0);
        assert_eq!(s.by_size[1].share_pct, 100.0 * 50.0 / 110.0);
        assert_eq!(s.queue_value.first_mean_fill, 5.0 / 4.0);
        assert_eq!(s.queue_value.tenth_mean_fill, 0.0);
    }

    #[test]
    fn hand_checked_tiny_stream_pro_rata() {
        let s = run(Algorithm::C);
        assert_eq!((s.traded_qty, s.untracked_fill_qty), (110, 0));
        assert_eq!(
            shape(&s.by_size),
            vec![
                (3, 15, 2, 1),
                (2, 70, 9, 1),
                (1, 500, 99, 1),
                (1, 2000, 0, 0)
            ]
        );
        let mut want = vec![(0, 0, 0, 0); REENTERED + 1];
        want[0] = (4, 2032, 2, 1);
        want[1] = (1, 50, 9, 1);
        want[2] = (1, 500, 99, 1);
        want[3] = (1, 3, 0, 0);
        assert_eq!(shape(&s.by_rank), want);
        // Fill per displayed share: 2 of 15, 9 of 70, 99 of 500 (against FIFO's 5, 50, 55).
        assert_eq!(s.by_size[0].fill_ratio_pct, 100.0 * 2.0 / 15.0);
        assert_eq!(s.by_size[1].fill_ratio_pct, 100.0 * 9.0 / 70.0);
        assert_eq!(s.by_size[2].fill_ratio_pct, 100.0 * 99.0 / 500.0);
    }

    #[test]
    fn hand_checked_tiny_stream_allocation_with_top() {
        let s = run(Algorithm::A);
        assert_eq!(
            shape(&s.by_size),
            vec![
                (3, 15, 5, 1),
                (2, 70, 10, 1),
                (1, 500, 95, 1),
                (1, 2000, 0, 0)
            ]
        );
        let mut want = vec![(0, 0, 0, 0); REENTERED + 1];
        want[0] = (4, 2032, 5, 1);
        want[1] = (1, 50, 10, 1);
        want[2] = (2, 503, 95, 1);
        assert_eq!(shape(&s.by_rank), want);
    }

    #[test]
    fn a_replaced_resting_order_is_re_entered_with_its_new_size() {
        let mut cmds = tiny();
        cmds.push(Command::Replace {
            id: 7,
            price: 102,
            qty: 40,
        });
        let s = study_policy("cme:F", cme::policy(Algorithm::F), &cmds);
        assert_eq!(s.by_rank[REENTERED].orders, 1);
        assert_eq!(s.by_rank[REENTERED].rested_qty, 40);
        assert_eq!(s.by_size[1].orders, 3);
    }

    /// Totals reconcile with the trades of an independent run: the reference book, same
    /// policy, same stream; every maker fill is collected by a tracked entry.
    #[test]
    fn totals_reconcile_with_the_reference_books_trades() {
        let cmds = crate::workload::Workload::EquityCalm.generate(3, 20_000);
        for a in Algorithm::ALL {
            let s = study_policy(cme::name(a), cme::policy(a), &cmds);
            let mut book = ReferenceBook::new(book_config(cme::policy(a)));
            let mut ev = Vec::new();
            for c in &cmds {
                book.apply(c, &mut ev);
            }
            let (mut qty, mut n) = (0u64, 0u64);
            for e in &ev {
                if let Event::Trade { qty: q, .. } = e {
                    qty += q;
                    n += 1;
                }
            }
            assert!(qty > 0, "{a:?}: the stream trades");
            assert_eq!((s.traded_qty, s.trades), (qty, n), "{a:?}");
            assert_eq!(s.untracked_fill_qty, 0, "{a:?}");
            let by_size: u64 = s.by_size.iter().map(|b| b.filled_qty).sum();
            let by_rank: u64 = s.by_rank.iter().map(|b| b.filled_qty).sum();
            assert_eq!((by_size, by_rank), (qty, qty), "{a:?}");
            let orders: u64 = s.by_size.iter().map(|b| b.orders).sum();
            assert_eq!(orders, s.by_rank.iter().map(|b| b.orders).sum::<u64>());
        }
    }

    #[test]
    fn same_stream_same_study() {
        let cmds = crate::workload::Workload::EquityCalm.generate(5, 5_000);
        let a = study("equity-mixed", &cmds);
        let b = study("equity-mixed", &cmds);
        assert_eq!(a, b);
        assert_eq!(a.markdown(), b.markdown());
        assert_eq!(a.size_svg(), b.size_svg());
        assert_eq!(a.rank_svg(), b.rank_svg());
    }
}
