//! The invariants `flowmatch stress` checks, and the single-threaded replay that checks
//! them command by command over a round's sequenced stream.
//!
//! [`Checker`] applies each command, in the engine's sequence order, to a fresh copy of
//! the book the engine ran (the fast book, or a mutant) and to the reference book, and
//! after every command checks:
//! - [`Invariant::Conservation`]: for every order the command touched, entered =
//!   filled + cancelled + open (a replace re-states what was entered);
//! - [`Invariant::NotCrossed`]: best bid < best ask;
//! - [`Invariant::LevelAggregates`]: every level's aggregate and order count equal the sum
//!   over its orders, walked through the `OrderBook` trait (every `aggregate_every`
//!   commands: the walk costs the size of the book);
//! - [`Invariant::FastEqualsReference`]: the command's events equal the reference book's,
//!   and so do the books at the end;
//! - [`Invariant::ThreadedEqualsReplay`]: the events the threaded engine published for
//!   this sequence number equal this replay's, and so do the final books.
//!
//! [`Invariant::AnsweredOnce`] is checked where the engine's output is read
//! (`stress::threaded`). The first violation of each invariant is kept, with the
//! command's position and the first divergence, so shrinking can aim at it.

use super::coverage::Coverage;
use super::mutants::{BookMutant, BookUnderTest};
use crate::text::{event_line, write_command};
use flowmatch_core::book::AccountGroups;
use flowmatch_core::{BookConfig, Command, Event, OrderBook, OrderId, ReferenceBook, Side};
use std::collections::HashMap;

/// How the detail of a violation found only in the final books starts.
pub const FINAL_BOOK: &str = "final book:";

/// One property the gate checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Invariant {
    /// Every command answered exactly once, in per-producer order; nothing dropped.
    AnsweredOnce,
    /// Per order: filled + cancelled + open = entered.
    Conservation,
    /// The best bid is below the best ask.
    NotCrossed,
    /// Each level's aggregate equals the sum of its orders.
    LevelAggregates,
    /// The book under test gives the reference book's events and book.
    FastEqualsReference,
    /// The threaded run's events equal a single-threaded replay of its sequenced stream.
    ThreadedEqualsReplay,
    /// A recovery from the round's journal (snapshot + tail, or the journal alone) has the
    /// live book's state hash (`stress::recovery`).
    RecoveredEqualsLive,
}

impl Invariant {
    /// Every invariant, in report order.
    pub const ALL: [Invariant; 7] = [
        Invariant::AnsweredOnce,
        Invariant::Conservation,
        Invariant::NotCrossed,
        Invariant::LevelAggregates,
        Invariant::FastEqualsReference,
        Invariant::ThreadedEqualsReplay,
        Invariant::RecoveredEqualsLive,
    ];

    /// Stable name (JUnit test case, JSON key).
    pub fn name(self) -> &'static str {
        match self {
            Invariant::AnsweredOnce => "answered-once-in-producer-order",
            Invariant::Conservation => "conservation-per-order",
            Invariant::NotCrossed => "book-not-crossed",
            Invariant::LevelAggregates => "level-aggregate-equals-its-orders",
            Invariant::FastEqualsReference => "fast-equals-reference",
            Invariant::ThreadedEqualsReplay => "threaded-equals-replay",
            Invariant::RecoveredEqualsLive => "journal-recovery-equals-live",
        }
    }
}

/// The first time an invariant did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which.
    pub invariant: Invariant,
    /// 1-based position of the command in the round's sequenced stream (0: at the end).
    pub position: u64,
    /// What differed, in one line.
    pub detail: String,
}

/// Per order: what was entered and what left it so far.
#[derive(Clone, Copy, Default)]
struct Account {
    entered: u128,
    traded: u128,
    cancelled: u128,
}

/// The checker of one round. See the module docs.
pub struct Checker {
    book: BookUnderTest,
    reference: ReferenceBook,
    aggregate_every: u64,
    position: u64,
    accounts: HashMap<OrderId, Account>,
    touched: Vec<OrderId>,
    ours: Vec<Event>,
    theirs: Vec<Event>,
    /// The first violation of each invariant, in the order found.
    pub violations: Vec<Violation>,
    /// How many checks were made, per invariant.
    pub checks: HashMap<Invariant, u64>,
    /// Which rules the commands exercised.
    pub coverage: Coverage,
}

impl Checker {
    /// A checker over fresh books of `cfg`, the book under test breaking `mutant`'s rule
    /// if given; level aggregates are walked every `aggregate_every` commands (≥ 1).
    pub fn new(cfg: BookConfig, mutant: Option<BookMutant>, aggregate_every: u64) -> Self {
        Checker {
            book: BookUnderTest::new(cfg, mutant),
            reference: ReferenceBook::new(cfg),
            aggregate_every: aggregate_every.max(1),
            position: 0,
            accounts: HashMap::new(),
            touched: Vec::new(),
            ours: Vec::new(),
            theirs: Vec::new(),
            violations: Vec::new(),
            checks: HashMap::new(),
            coverage: Coverage::default(),
        }
    }

    /// Lets STP compare beneficial owners in both books (`groups`; empty: accounts), before
    /// the first command. `false` when the book under test cannot (a mutant book).
    pub fn set_account_groups(&mut self, groups: &AccountGroups) -> bool {
        self.reference.set_account_groups(groups);
        self.book.set_account_groups(groups)
    }

    /// The book under test as the commands so far left it.
    pub fn book(&self) -> &BookUnderTest {
        &self.book
    }

    /// The events the book under test gave the last command.
    pub fn last_events(&self) -> &[Event] {
        &self.ours
    }

    /// Adds `n` checks of `inv`.
    pub fn count_many(&mut self, inv: Invariant, n: u64) {
        *self.checks.entry(inv).or_default() += n;
    }

    /// The first violation of `inv`, if any.
    pub fn violation(&self, inv: Invariant) -> Option<&Violation> {
        self.violations.iter().find(|v| v.invariant == inv)
    }

    /// Records a violation (only the first of each invariant is kept).
    pub fn fail(&mut self, invariant: Invariant, position: u64, detail: String) {
        if self.violation(invariant).is_none() {
            self.violations.push(Violation {
                invariant,
                position,
                detail,
            });
        }
    }

    fn count(&mut self, inv: Invariant) {
        *self.checks.entry(inv).or_default() += 1;
    }

    /// Applies the next command of the sequenced stream and checks it; `threaded` is what
    /// the engine published for it, if it ran threaded.
    pub fn step(&mut self, cmd: &Command, threaded: Option<&[Event]>) {
        self.position += 1;
        let pos = self.position;
        let before = self.book.order(cmd.id());
        self.ours.clear();
        self.book.apply(cmd, &mut self.ours);
        let mode = self.reference.config().replace_priority;
        self.coverage.record(cmd, before.as_ref(), mode, &self.ours);

        self.count(Invariant::FastEqualsReference);
        self.theirs.clear();
        self.reference.apply(cmd, &mut self.theirs);
        if self.ours != self.theirs {
            let detail = format!(
                "command {pos} ({}): {} gave [{}], the reference [{}]",
                command_text(cmd),
                self.book.name(),
                events_text(pos, &self.ours),
                events_text(pos, &self.theirs)
            );
            self.fail(Invariant::FastEqualsReference, pos, detail);
        }

        if let Some(published) = threaded {
            self.count(Invariant::ThreadedEqualsReplay);
            if published != self.ours.as_slice() {
                let detail = format!(
                    "command {pos} ({}): the engine published [{}], the replay gave [{}]",
                    command_text(cmd),
                    events_text(pos, published),
                    events_text(pos, &self.ours)
                );
                self.fail(Invariant::ThreadedEqualsReplay, pos, detail);
            }
        }

        self.check_conservation(cmd, pos);
        self.check_not_crossed(pos);
        if pos.is_multiple_of(self.aggregate_every) {
            self.check_level_aggregates(pos);
        }
    }

    /// The end of the round: the books at the end equal the reference's and, if given,
    /// the threaded engine's; the aggregates are walked once more.
    pub fn finish<B: OrderBook>(&mut self, threaded_book: Option<&B>) {
        let pos = self.position;
        self.check_level_aggregates(pos);
        self.count(Invariant::FastEqualsReference);
        if let Some(d) = first_book_difference(&self.book, &self.reference) {
            self.fail(
                Invariant::FastEqualsReference,
                pos,
                format!("{FINAL_BOOK} {d} (book under test, then reference)"),
            );
        }
        if let Some(engine) = threaded_book {
            self.count(Invariant::ThreadedEqualsReplay);
            if let Some(d) = first_book_difference(engine, &self.book) {
                self.fail(
                    Invariant::ThreadedEqualsReplay,
                    pos,
                    format!("{FINAL_BOOK} {d} (engine's, then the replay's)"),
                );
            }
        }
    }

    fn check_conservation(&mut self, cmd: &Command, pos: u64) {
        self.touched.clear();
        for e in &self.ours {
            match *e {
                Event::Ack { id } => {
                    let entered = match cmd {
                        Command::New(o) => o.qty as u128,
                        _ => 0,
                    };
                    self.accounts.insert(
                        id,
                        Account {
                            entered,
                            ..Account::default()
                        },
                    );
                    self.touched.push(id);
                }
                Event::Replaced { id } => {
                    let qty = match cmd {
                        Command::Replace { qty, .. } => *qty as u128,
                        _ => 0,
                    };
                    let a = self.accounts.entry(id).or_default();
                    a.entered = a.traded + a.cancelled + qty;
                    self.touched.push(id);
                }
                Event::Trade {
                    taker, maker, qty, ..
                } => {
                    self.accounts.entry(taker).or_default().traded += qty as u128;
                    self.accounts.entry(maker).or_default().traded += qty as u128;
                    self.touched.push(taker);
                    self.touched.push(maker);
                }
                Event::Cancel { id, qty, .. } => {
                    self.accounts.entry(id).or_default().cancelled += qty as u128;
                    self.touched.push(id);
                }
                Event::Reject { .. } => {}
            }
        }
        self.touched.sort_unstable();
        self.touched.dedup();
        for i in 0..self.touched.len() {
            let id = self.touched[i];
            self.count(Invariant::Conservation);
            let open = self.book.order(id).map_or(0, |o| o.open_qty) as u128;
            let a = self.accounts.get(&id).copied().unwrap_or_default();
            if a.traded + a.cancelled + open != a.entered {
                let detail = format!(
                    "command {pos} ({}): order {id} entered {} but filled {} + cancelled {} + open {open} = {}",
                    command_text(cmd),
                    a.entered,
                    a.traded,
                    a.cancelled,
                    a.traded + a.cancelled + open
                );
                self.fail(Invariant::Conservation, pos, detail);
            }
            if open == 0 {
                self.accounts.remove(&id);
            }
        }
    }

    fn check_not_crossed(&mut self, pos: u64) {
        self.count(Invariant::NotCrossed);
        if let (Some(bid), Some(ask)) = (self.book.best_bid(), self.book.best_ask()) {
            if bid >= ask {
                self.fail(
                    Invariant::NotCrossed,
                    pos,
                    format!("after command {pos}: best bid {bid} >= best ask {ask}"),
                );
            }
        }
    }

    fn check_level_aggregates(&mut self, pos: u64) {
        for side in [Side::Buy, Side::Sell] {
            self.count(Invariant::LevelAggregates);
            // The orders of the side, grouped by price in dump order: (price, sum, count).
            let mut from_orders: Vec<(i64, u128, usize)> = Vec::new();
            self.book.for_each_order_of(side, &mut |o| {
                match from_orders.last_mut() {
                    Some(l) if l.0 == o.price => {
                        l.1 += o.open_qty as u128;
                        l.2 += 1;
                    }
                    _ => from_orders.push((o.price, o.open_qty as u128, 1)),
                }
                true
            });
            let mut levels: Vec<(i64, u128, usize)> = Vec::new();
            self.book
                .for_each_level(side, &mut |l| levels.push((l.price, l.total_qty, l.orders)));
            if levels != from_orders {
                let at = levels
                    .iter()
                    .zip(&from_orders)
                    .find(|(a, b)| a != b)
                    .map(|(l, o)| {
                        format!(
                            "{side:?} level {} reports {} in {} orders; its orders sum to {} in {}",
                            l.0, l.1, l.2, o.1, o.2
                        )
                    })
                    .unwrap_or_else(|| {
                        format!(
                            "{side:?} side has {} levels but orders at {} prices",
                            levels.len(),
                            from_orders.len()
                        )
                    });
                self.fail(
                    Invariant::LevelAggregates,
                    pos,
                    format!("after command {pos}: {at}"),
                );
            }
        }
    }
}

/// A command in the replay format, without the newline.
pub fn command_text(cmd: &Command) -> String {
    let mut s = String::new();
    // Writing into a String cannot fail.
    let _ = write_command(&mut s, cmd);
    s.pop();
    s
}

/// Events as `;`-separated replay-format lines.
pub fn events_text(seq: u64, events: &[Event]) -> String {
    events
        .iter()
        .map(|e| event_line(seq, e))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The first resting order where two books differ, if any.
fn first_book_difference<A: OrderBook, B: OrderBook>(a: &A, b: &B) -> Option<String> {
    let (x, y) = (a.snapshot(), b.snapshot());
    if x == y {
        return None;
    }
    let i = x.iter().zip(&y).take_while(|(p, q)| p == q).count();
    let show = |o: Option<&flowmatch_core::RestingOrder>| {
        o.map_or("nothing".to_string(), |o| {
            format!("{:?} {} id {} open {}", o.side, o.price, o.id, o.open_qty)
        })
    };
    Some(format!(
        "resting order {}: {} vs {}",
        i + 1,
        show(x.get(i)),
        show(y.get(i))
    ))
}

/// Checks a whole stream single-threaded (aggregates after every command): the
/// predicate shrinking uses. Returns the checker, whose `violations` say what failed.
pub fn check_stream(cmds: &[Command], cfg: BookConfig, mutant: Option<BookMutant>) -> Checker {
    check_stream_grouped(cmds, cfg, &AccountGroups::new(), mutant)
}

/// [`check_stream`] with STP comparing the owners of `groups`.
pub fn check_stream_grouped(
    cmds: &[Command],
    cfg: BookConfig,
    groups: &AccountGroups,
    mutant: Option<BookMutant>,
) -> Checker {
    let mut c = Checker::new(cfg, mutant, 1);
    c.set_account_groups(groups);
    for cmd in cmds {
        c.step(cmd, None);
    }
    c.finish::<BookUnderTest>(None);
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmatch_core::{MatchPolicy, NewOrder};

    fn cfg() -> BookConfig {
        BookConfig {
            policy: MatchPolicy::PriceTime,
            ..BookConfig::default()
        }
    }

    #[test]
    fn the_fast_book_passes_every_check_on_a_stress_stream() {
        let s = super::super::stream::round_stream(3, 0, 0, 4_000, super::super::Profile::Quick);
        let c = check_stream(&s, cfg(), None);
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        assert!(c.checks[&Invariant::Conservation] > 1_000);
    }

    /// Hand-checked: a partial fill under the stale-aggregate mutant leaves the level
    /// reporting 10 for an order with 6 open.
    #[test]
    fn a_stale_aggregate_is_found_after_the_partial_fill() {
        let s = [
            Command::New(NewOrder::limit(1, 1, Side::Sell, 100, 10)),
            Command::New(NewOrder::limit(2, 2, Side::Buy, 100, 4)),
        ];
        let c = check_stream(&s, cfg(), Some(BookMutant::LevelAggregateStale));
        let v = c.violation(Invariant::LevelAggregates).expect("caught");
        assert_eq!(v.position, 2);
        assert!(
            v.detail
                .contains("reports 10 in 1 orders; its orders sum to 6"),
            "{}",
            v.detail
        );
        assert!(check_stream(&s, cfg(), None).violations.is_empty());
    }

    /// The threaded comparison bites: events the engine did not give are a divergence,
    /// and so is a final book that is not the replay's.
    #[test]
    fn a_threaded_run_that_differs_from_the_replay_is_caught() {
        let cmds = [
            Command::New(NewOrder::limit(1, 1, Side::Sell, 100, 10)),
            Command::New(NewOrder::limit(2, 2, Side::Buy, 100, 4)),
        ];
        let mut c = Checker::new(cfg(), None, 1);
        c.step(&cmds[0], Some(&[Event::Ack { id: 1 }]));
        assert!(c.violations.is_empty());
        c.step(&cmds[1], Some(&[Event::Ack { id: 2 }]));
        let v = c
            .violation(Invariant::ThreadedEqualsReplay)
            .expect("caught");
        assert_eq!(v.position, 2);
        assert!(
            v.detail.contains("the engine published [2,ACK,2]"),
            "{}",
            v.detail
        );
        let mut other = Checker::new(cfg(), None, 1);
        other.finish(Some(&BookUnderTest::new(cfg(), None)));
        assert!(other.violations.is_empty());
        let mut engine_book = BookUnderTest::new(cfg(), None);
        engine_book.apply(&cmds[0], &mut Vec::new());
        other.finish(Some(&engine_book));
        assert!(other.violation(Invariant::ThreadedEqualsReplay).is_some());
    }

    /// A stress round's stream under `setup`, and a checker whose book under test is
    /// `under_test` (built by the test, so it can be subtly wrong) against the reference
    /// of `setup` (with its groups).
    fn diverging(
        setup: &crate::stress::rounds::RoundSetup,
        under_test: flowmatch_core::FastBook,
    ) -> Checker {
        let s = super::super::stream::round_stream(5, 0, 0, 3_000, super::super::Profile::Quick);
        let mut c = Checker::new(setup.book, None, 8);
        c.reference.set_account_groups(&setup.groups);
        c.book = BookUnderTest::Fast(under_test);
        for cmd in &s {
            c.step(cmd, None);
        }
        c.finish::<BookUnderTest>(None);
        c
    }

    /// Mutant-style: a book that forgets the account groups (STP on accounts only), or
    /// that runs a CME algorithm without the round's TOP limits, LMMs and pro-rata
    /// minimum, is caught as a divergence from the reference on a stress stream; the same
    /// book configured as the round says passes.
    #[test]
    fn a_group_stp_or_cme_parameter_divergence_is_caught() {
        use crate::stress::rounds::RoundSetup;
        use flowmatch_core::allocation::CmePolicy;
        use flowmatch_core::FastBook;
        let grouped = RoundSetup::of(2, false);
        assert!(!grouped.groups.is_empty());
        let c = diverging(&grouped, FastBook::new(grouped.book));
        assert!(c.violation(Invariant::FastEqualsReference).is_some());
        let mut right = FastBook::new(grouped.book);
        right.set_account_groups(grouped.groups.clone());
        assert!(diverging(&grouped, right).violations.is_empty());

        for r in [3, 4, 5, 6] {
            let cme = RoundSetup::of(r, false);
            let MatchPolicy::Cme(p) = cme.book.policy else {
                panic!("round {r} is a CME round")
            };
            let defaults = BookConfig {
                policy: MatchPolicy::Cme(CmePolicy::with_defaults(p.algorithm())),
                ..cme.book
            };
            let mut wrong = FastBook::new(defaults);
            wrong.set_account_groups(cme.groups.clone());
            let c = diverging(&cme, wrong);
            assert!(
                c.violation(Invariant::FastEqualsReference).is_some(),
                "{}: default parameters not caught",
                cme.policy
            );
            let mut right = FastBook::new(cme.book);
            right.set_account_groups(cme.groups.clone());
            let c = diverging(&cme, right);
            assert!(
                c.violations.is_empty(),
                "{}: {:?}",
                cme.policy,
                c.violations
            );
        }
    }

    /// Hand-checked: a cancel that reports 9 of 10 loses a unit (conservation), and a
    /// post-only sell at 100 resting under a bid at 101 crosses the book.
    #[test]
    fn lost_quantity_and_a_crossed_book_are_caught() {
        let lose = [
            Command::New(NewOrder::limit(1, 1, Side::Sell, 100, 10)),
            Command::Cancel { id: 1 },
        ];
        let c = check_stream(&lose, cfg(), Some(BookMutant::CancelUnderReported));
        let v = c.violation(Invariant::Conservation).expect("caught");
        assert!(
            v.detail
                .contains("entered 10 but filled 0 + cancelled 9 + open 0"),
            "{}",
            v.detail
        );
        let cross = [
            Command::New(NewOrder::limit(1, 1, Side::Buy, 101, 5)),
            Command::New(
                NewOrder::limit(2, 2, Side::Sell, 100, 5).with_tif(flowmatch_core::Tif::Post),
            ),
        ];
        let c = check_stream(&cross, cfg(), Some(BookMutant::PostOnlyRestsCrossed));
        let v = c.violation(Invariant::NotCrossed).expect("caught");
        assert!(
            v.detail.contains("best bid 101 >= best ask 100"),
            "{}",
            v.detail
        );
        for s in [&lose[..], &cross[..]] {
            assert!(check_stream(s, cfg(), None).violations.is_empty());
        }
    }
}
