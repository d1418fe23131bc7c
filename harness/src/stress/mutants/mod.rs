//! Deliberately broken variants that `flowmatch stress --mutant NAME` (and
//! `flowmatch replay --mutant NAME`) run instead of the product, to show that the gate
//! catches real bugs: each breaks exactly one rule of `docs/SEMANTICS.md` or of the
//! ingress contract.
//!
//! - Book mutants live in [`MutantBook`], a copy of the reference book with one switch per
//!   broken rule (the core's books are never touched).
//! - The ingress mutant is a producer that drops the command it could not push into a
//!   full ring (see `stress::threaded`).
//!
//! [`BookUnderTest`] is what the engine runs: the fast book, or a mutant book.

mod book;
mod matching;
mod trait_impl;

pub use book::MutantBook;

use flowmatch_core::book::AccountGroups;
use flowmatch_core::{BookConfig, Command, EventSink, FastBook, LevelView, OrderBook, Price};
use flowmatch_core::{OrderId, RestingOrder, Side};

/// A rule one mutant book breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BookMutant {
    /// A partial fill of a maker does not reduce its level's aggregate.
    LevelAggregateStale,
    /// The STP mode `CM` (cancel maker) is ignored: the orders trade.
    StpCancelMakerIgnored,
    /// A replace that raises the quantity at the same price keeps its time priority.
    ReplaceKeepsPriority,
    /// Fill-or-kill is executed as an IOC: it may partially fill.
    FokPartialFill,
    /// A user cancel reports one unit less than it removed (quantity is lost).
    CancelUnderReported,
    /// A post-only order rests at its price without checking the other side (the book
    /// crosses).
    PostOnlyRestsCrossed,
}

/// Every mutant the gate knows, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutant {
    /// One broken book rule.
    Book(BookMutant),
    /// A producer drops the command it finds the ingress full for.
    IngressDropWhenFull,
}

impl Mutant {
    /// Every mutant, in the order `--list-mutants` prints them.
    pub const ALL: [Mutant; 7] = [
        Mutant::Book(BookMutant::LevelAggregateStale),
        Mutant::Book(BookMutant::StpCancelMakerIgnored),
        Mutant::Book(BookMutant::ReplaceKeepsPriority),
        Mutant::Book(BookMutant::FokPartialFill),
        Mutant::Book(BookMutant::CancelUnderReported),
        Mutant::Book(BookMutant::PostOnlyRestsCrossed),
        Mutant::IngressDropWhenFull,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Mutant::Book(BookMutant::LevelAggregateStale) => "level-aggregate-stale",
            Mutant::Book(BookMutant::StpCancelMakerIgnored) => "stp-cancel-maker-ignored",
            Mutant::Book(BookMutant::ReplaceKeepsPriority) => "replace-keeps-priority",
            Mutant::Book(BookMutant::FokPartialFill) => "fok-partial-fill",
            Mutant::Book(BookMutant::CancelUnderReported) => "cancel-under-reported",
            Mutant::Book(BookMutant::PostOnlyRestsCrossed) => "post-only-rests-crossed",
            Mutant::IngressDropWhenFull => "ingress-drop-when-full",
        }
    }

    /// What the mutant breaks, one line.
    pub fn describe(self) -> &'static str {
        match self {
            Mutant::Book(BookMutant::LevelAggregateStale) => {
                "a partial fill does not reduce the level aggregate"
            }
            Mutant::Book(BookMutant::StpCancelMakerIgnored) => {
                "STP mode CM (cancel maker) is ignored: the orders trade"
            }
            Mutant::Book(BookMutant::ReplaceKeepsPriority) => {
                "a replace raising the quantity at the same price keeps time priority"
            }
            Mutant::Book(BookMutant::FokPartialFill) => "a fill-or-kill order may partially fill",
            Mutant::Book(BookMutant::CancelUnderReported) => {
                "a user cancel reports one unit less than it removed"
            }
            Mutant::Book(BookMutant::PostOnlyRestsCrossed) => {
                "a post-only order rests without checking the other side"
            }
            Mutant::IngressDropWhenFull => "a producer drops a command the full ingress refused",
        }
    }

    /// The mutant with this name, or an error listing the names.
    pub fn from_name(name: &str) -> Result<Mutant, String> {
        Mutant::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Mutant::ALL.iter().map(|m| m.name()).collect();
                format!(
                    "unknown mutant {name:?} (expected one of: {})",
                    names.join(", ")
                )
            })
    }

    /// The book rule this mutant breaks, if it is a book mutant.
    pub fn book(self) -> Option<BookMutant> {
        match self {
            Mutant::Book(b) => Some(b),
            Mutant::IngressDropWhenFull => None,
        }
    }
}

/// The book the engine runs: the product, or a mutant book. One lives per round, moved
/// once into the engine thread, so the variants' size difference costs nothing (boxing
/// the fast book would add an indirection to every command).
#[allow(clippy::large_enum_variant)]
pub enum BookUnderTest {
    /// The fast book (the product).
    Fast(FastBook),
    /// A deliberately broken copy of the reference book.
    Mutant(MutantBook),
}

impl BookUnderTest {
    /// The fast book, or the mutant book breaking `mutant`.
    pub fn new(cfg: BookConfig, mutant: Option<BookMutant>) -> Self {
        match mutant {
            None => BookUnderTest::Fast(FastBook::new(cfg)),
            Some(m) => BookUnderTest::Mutant(MutantBook::new(cfg, Some(m))),
        }
    }

    /// Lets the fast book's STP compare beneficial owners (`groups`; empty: accounts).
    /// The mutant book compares accounts only, so the stress rounds give it no groups
    /// (`stress::rounds`): a non-empty table here is refused with `false`.
    pub fn set_account_groups(&mut self, groups: &AccountGroups) -> bool {
        match self {
            BookUnderTest::Fast(b) => {
                b.set_account_groups(groups.clone());
                true
            }
            BookUnderTest::Mutant(_) => groups.is_empty(),
        }
    }
}

/// Forwards one trait method to whichever book this is.
macro_rules! either {
    ($self:ident, $b:ident => $e:expr) => {
        match $self {
            BookUnderTest::Fast($b) => $e,
            BookUnderTest::Mutant($b) => $e,
        }
    };
}

impl OrderBook for BookUnderTest {
    fn name(&self) -> &'static str {
        either!(self, b => b.name())
    }
    fn config(&self) -> &BookConfig {
        either!(self, b => b.config())
    }
    fn apply<S: EventSink>(&mut self, cmd: &Command, sink: &mut S) {
        either!(self, b => b.apply(cmd, sink))
    }
    fn clear(&mut self) {
        either!(self, b => b.clear())
    }
    fn best_bid(&self) -> Option<Price> {
        either!(self, b => b.best_bid())
    }
    fn best_ask(&self) -> Option<Price> {
        either!(self, b => b.best_ask())
    }
    fn order(&self, id: OrderId) -> Option<RestingOrder> {
        either!(self, b => b.order(id))
    }
    fn len(&self) -> usize {
        either!(self, b => b.len())
    }
    fn for_each_order(&self, f: &mut dyn FnMut(&RestingOrder)) {
        either!(self, b => b.for_each_order(f))
    }
    fn for_each_order_of(&self, side: Side, f: &mut dyn FnMut(&RestingOrder) -> bool) {
        either!(self, b => b.for_each_order_of(side, f))
    }
    fn for_each_level(&self, side: Side, f: &mut dyn FnMut(&LevelView)) {
        either!(self, b => b.for_each_level(side, f))
    }
    fn for_each_level_while(&self, side: Side, f: &mut dyn FnMut(&LevelView) -> bool) {
        either!(self, b => b.for_each_level_while(side, f))
    }
    fn depth_at(&self, side: Side, price: Price) -> u128 {
        either!(self, b => b.depth_at(side, price))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::write_event;
    use flowmatch_core::{MatchPolicy, ReferenceBook};

    /// With no switch set, the copy is the reference: same events and books on the stress
    /// streams under every policy (so every divergence a mutant shows is its switch's).
    #[test]
    fn the_copy_without_a_switch_is_the_reference() {
        for policy in [
            MatchPolicy::PriceTime,
            MatchPolicy::ProRata { top_order: false },
            MatchPolicy::ProRata { top_order: true },
        ] {
            let cfg = BookConfig {
                policy,
                ..BookConfig::default()
            };
            let stream = crate::stress::stream::round_stream(
                7,
                0,
                2,
                3_000,
                crate::stress::Profile::Adversarial,
            );
            let mut copy = MutantBook::new(cfg, None);
            let mut reference = ReferenceBook::new(cfg);
            let (mut a, mut b) = (String::new(), String::new());
            for (i, c) in stream.iter().enumerate() {
                let (mut ea, mut eb) = (Vec::new(), Vec::new());
                copy.apply(c, &mut ea);
                reference.apply(c, &mut eb);
                for e in &ea {
                    write_event(&mut a, i as u64, e).unwrap();
                }
                for e in &eb {
                    write_event(&mut b, i as u64, e).unwrap();
                }
            }
            assert_eq!(a, b, "{policy:?}");
            assert_eq!(copy.snapshot(), reference.snapshot());
            for side in [Side::Buy, Side::Sell] {
                let (mut la, mut lb) = (Vec::new(), Vec::new());
                copy.for_each_level(side, &mut |l| la.push(*l));
                reference.for_each_level(side, &mut |l| lb.push(*l));
                assert_eq!(la, lb);
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for m in Mutant::ALL {
            assert_eq!(Mutant::from_name(m.name()), Ok(m));
        }
        assert!(Mutant::from_name("nope")
            .unwrap_err()
            .contains("fok-partial-fill"));
    }
}
