//! `flowmatch stress`: the stress gate a user points their CI at. It drives the threaded
//! engine with several producers on deliberately tiny queues, checks every command
//! against the invariants of [`checks`], and on a failure hands over a shrunk reproducer
//! in the replay format.
//!
//! One idea per file:
//! - [`stream`]: the seeded command streams (rule-dense generator, adversarial slices, id
//!   reuse), one per producer per round;
//! - [`threaded`]: the threaded round (producers, ingress, engine, output) and the
//!   answered-exactly-once check;
//! - [`checks`]: the single-threaded replay of the sequenced stream and the invariants;
//! - [`coverage`]: which rules were exercised, how often;
//! - [`shrink`]: delta debugging of a failing stream;
//! - [`reproducer`]: the files a failure leaves behind;
//! - [`formats`]: JUnit XML and JSON;
//! - [`mutants`]: the deliberately broken books and producer that prove the gate bites;
//! - [`recovery`]: kill-and-recover from the round's journal, checked against the live
//!   state hash;
//! - [`sharded`]: the `--shards` round (routers, shards of multi-books, instruments);
//! - [`producer`]: one producer's seeded bursts and back-pressure, for both rounds.
//!
//! # What a run's counts depend on
//! Same seed, same options:
//! - with one producer (`--producers 1`) every count of the summary, JSON and JUnit
//!   (checks per invariant, rules exercised) is the same on every run: the sequenced
//!   stream is the producer's stream;
//! - with several producers the engine's interleaving of their commands is the thread
//!   schedule's. Still fixed by the seed: the commands and rounds, the per-policy,
//!   per-shard and per-instrument command counts, and every check count except
//!   `conservation-per-order` (one check per order a command touched, which depends on what
//!   the other producers' commands left in the book). Varying with the interleaving:
//!   that count and the *rules exercised* (whether a FOK filled, an STP mode fired, a
//!   replace traded depends on what rested when it arrived). Every invariant holds for
//!   every interleaving, so the verdict does not vary;
//! - the back-pressure counters (`ingress/full-pushes`, `engine/output-full-waits`) are
//!   printed apart: they measure the schedule itself;
//! - `--profile quick` and `adversarial` also stop at a time cap (20 s, 60 s) on a slow or
//!   loaded machine: then the number of rounds is the machine's, and the summary says the
//!   cap stopped the run. `--commands N` removes the cap;
//! - the threaded runs' wall time and commands/s are timing.
//!
//! `stress::tests::counts_the_seed_decides_do_not_vary_between_runs` checks the fixed part.
//!
//! A run is a sequence of *rounds*. Each round starts fresh books under one set of rules
//! ([`rounds`]: the matching policy, cycling through price-time, pro-rata, pro-rata with
//! top order and CME A, K, Q and S with TOP limits, LMMs and a pro-rata minimum; the
//! replace priority mode; account-group STP every third round), generates one stream per
//! producer, runs them threaded, then replays the sequence the engine chose through the
//! checker. The first failing round stops the run. With `--shards K` a round runs on K
//! shards of multi-books instead ([`sharded`]: the three non-CME policies rotate over the
//! instruments, the replace mode is the round's); the checker then replays each
//! instrument's commands in the order its shard applied them.
//!
//! The journal recovery check runs on the rounds whose rules the journal's settings file
//! can state: not the CME rounds (it names the policy, not its parameters) nor the group
//! rounds (it has no account table).

pub mod checks;
pub mod coverage;
pub mod formats;
pub mod mutants;
pub mod producer;
pub mod recovery;
pub mod reproducer;
pub mod rounds;
pub mod sharded;
pub mod shrink;
pub mod stream;
pub mod threaded;

use checks::{Checker, Invariant, Violation};
use coverage::Coverage;
use flowmatch_core::{BookConfig, Command, MatchPolicy};
use mutants::{BookUnderTest, Mutant};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use threaded::{Lost, Queues};

/// A preset of the run's length and mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// The CI gate: 250k commands, or 20 s on a loaded machine, whichever comes first.
    Quick,
    /// Long: ten minutes unless `--duration`/`--commands` say otherwise.
    Soak,
    /// Mostly the adversarial workloads' shapes: 500k commands or 60 s.
    Adversarial,
}

impl Profile {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Quick => "quick",
            Profile::Soak => "soak",
            Profile::Adversarial => "adversarial",
        }
    }
}

/// How long a run lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// Rounds until this many commands have been checked.
    Commands(u64),
    /// Rounds until this much time has passed.
    Duration(Duration),
}

/// Everything a stress run needs (validated by the command line before any work).
#[derive(Clone, Debug)]
pub struct StressConfig {
    /// The preset.
    pub profile: Profile,
    /// How long.
    pub length: Length,
    /// The run also stops after this long (whole rounds), if set: the presets' bound on a
    /// loaded machine. An explicit `--commands` or `--duration` clears it.
    pub time_cap: Option<Duration>,
    /// Seed of every stream.
    pub seed: u64,
    /// Producer threads.
    pub producers: usize,
    /// Commands per round, over all producers.
    pub round_commands: usize,
    /// Queue sizes.
    pub queues: Queues,
    /// Level aggregates are walked every this many commands.
    pub aggregate_every: u64,
    /// Most predicate evaluations a shrink may make.
    pub shrink_budget: usize,
    /// The mutant to run instead of the product, if any.
    pub mutant: Option<Mutant>,
    /// Shards of multi-books (`--shards`), if set; else the single engine.
    pub shards: Option<usize>,
}

impl StressConfig {
    /// The defaults of `profile`.
    pub fn for_profile(profile: Profile) -> Self {
        let length = match profile {
            Profile::Quick => Length::Commands(250_000),
            Profile::Soak => Length::Duration(Duration::from_secs(600)),
            Profile::Adversarial => Length::Commands(500_000),
        };
        let time_cap = match profile {
            Profile::Quick => Some(Duration::from_secs(20)),
            Profile::Soak => None,
            Profile::Adversarial => Some(Duration::from_secs(60)),
        };
        StressConfig {
            profile,
            length,
            time_cap,
            seed: 1,
            producers: 3,
            round_commands: 6_000,
            queues: Queues {
                ingress: 4,
                output: 1 << 14,
                batch: 8,
            },
            aggregate_every: 8,
            shrink_budget: 4_000,
            mutant: None,
            shards: None,
        }
    }
}

/// The policies the sharded rounds rotate over the instruments (the single-engine rounds'
/// are [`rounds::POLICY_NAMES`]).
pub const POLICIES: [(&str, MatchPolicy); 3] = [
    ("price-time", MatchPolicy::PriceTime),
    ("pro-rata", MatchPolicy::ProRata { top_order: false }),
    ("pro-rata-top", MatchPolicy::ProRata { top_order: true }),
];

/// A failed run: what failed, where, and the shrunk reproducer.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The round that failed (0-based).
    pub round: usize,
    /// Its rules (policy, replace mode, account groups).
    pub setup: rounds::RoundSetup,
    /// The first violation of each invariant that failed, earliest first.
    pub violations: Vec<Violation>,
    /// The invariant the reproducer reproduces.
    pub target: Invariant,
    /// The shrunk stream.
    pub reproducer: Vec<Command>,
    /// Commands of the round's sequenced stream (before shrinking).
    pub original_len: usize,
    /// Predicate evaluations the shrink made, and whether it reached a 1-minimal stream.
    pub shrink_tests: usize,
    /// See `shrink_tests`.
    pub minimal: bool,
    /// Commands the ingress mutant lost, if any (first few).
    pub lost: Vec<Lost>,
    /// With `--shards`: the instrument whose stream failed, and its shard.
    pub instrument: Option<(usize, usize)>,
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Rounds run.
    pub rounds: usize,
    /// Commands run threaded and checked.
    pub commands: u64,
    /// Wall time of the whole run (threaded runs, checks, shrinking).
    pub elapsed: Duration,
    /// Of which in the threaded runs.
    pub threaded: Duration,
    /// Checks made per invariant.
    pub checks: BTreeMap<Invariant, u64>,
    /// Rules exercised.
    pub coverage: Coverage,
    /// Back-pressure counters: these depend on the thread schedule, not only the seed.
    pub schedule: Coverage,
    /// The run stopped at the profile's time cap before its command count.
    pub stopped_by_time_cap: bool,
    /// The first failure, if any.
    pub failure: Option<Failure>,
}

impl Outcome {
    /// Commands per second over the whole run.
    pub fn commands_per_sec(&self) -> f64 {
        self.commands as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs the gate. `Err` only when a thread or a round's journal cannot be started.
pub fn run(cfg: &StressConfig) -> std::io::Result<Outcome> {
    let start = Instant::now();
    let mut out = Outcome::default();
    let per_producer = (cfg.round_commands / cfg.producers).max(1);
    for round in 0.. {
        let done = match cfg.length {
            Length::Commands(n) => out.commands >= n,
            Length::Duration(d) => start.elapsed() >= d,
        };
        let capped = cfg.time_cap.is_some_and(|cap| start.elapsed() >= cap);
        if done || capped {
            out.stopped_by_time_cap = capped && !done;
            break;
        }
        let streams: Vec<Vec<Command>> = (0..cfg.producers)
            .map(|p| stream::round_stream(cfg.seed, round, p, per_producer, cfg.profile))
            .collect();
        let failure = match cfg.shards {
            None => single_engine_round(cfg, round, &streams, &mut out)?,
            Some(shards) => sharded_round(cfg, round, shards, &streams, &mut out)?,
        };
        out.rounds += 1;
        if failure.is_some() {
            out.failure = failure;
            break;
        }
    }
    out.elapsed = start.elapsed();
    Ok(out)
}

/// Adds one checker's counts to the run's.
fn merge_checker(out: &mut Outcome, checker: &Checker, setup: &rounds::RoundSetup, commands: u64) {
    for (k, v) in &checker.checks {
        *out.checks.entry(*k).or_default() += v;
    }
    out.coverage.merge(&checker.coverage);
    out.coverage
        .add(&format!("policy/{}", setup.policy), commands);
    out.coverage
        .add(&format!("replace-mode/{}", setup.replace), commands);
    out.coverage.add(setup.groups_rule(), commands);
}

/// Runs the round's journal beside `checker` over `sequenced` (whose events the engine
/// published are `events(n)`), then compares the end with the engine's book. `journal`
/// false skips the recovery checks: a recovery rebuilds the product's book, so under a
/// book mutant it would only repeat that the mutant is not the product.
fn check_round<B: flowmatch_core::OrderBook>(
    checker: &mut Checker,
    book_cfg: BookConfig,
    sequenced: &[Command],
    events: impl Fn(usize) -> Vec<flowmatch_core::Event>,
    engine_book: &B,
    journal: bool,
) -> std::io::Result<()> {
    let mut journal = match journal {
        true => Some(
            recovery::RoundJournal::new(book_cfg, sequenced.len() as u64)
                .map_err(std::io::Error::other)?,
        ),
        false => None,
    };
    for (n, cmd) in sequenced.iter().enumerate() {
        let published = events(n);
        checker.step(cmd, Some(&published));
        if let Some(j) = journal.as_mut() {
            j.step(cmd, checker.book());
        }
    }
    checker.finish(Some(engine_book));
    if let Some(mut j) = journal {
        j.finish(engine_book);
        checker.count_many(Invariant::RecoveredEqualsLive, j.checks);
        if let Some((pos, detail)) = j.failure.take() {
            checker.fail(Invariant::RecoveredEqualsLive, pos, detail);
        }
    }
    Ok(())
}

/// One round on the single engine (the book under test, or a mutant).
fn single_engine_round(
    cfg: &StressConfig,
    round: usize,
    streams: &[Vec<Command>],
    out: &mut Outcome,
) -> std::io::Result<Option<Failure>> {
    let book_mutant = cfg.mutant.and_then(Mutant::book);
    let drop_when_full = drop_when_full(cfg);
    let setup = rounds::RoundSetup::of(round, book_mutant.is_some());
    let book_cfg = setup.book;
    let mut engine_book = BookUnderTest::new(book_cfg, book_mutant);
    engine_book.set_account_groups(&setup.groups);
    let t0 = Instant::now();
    let th = threaded::run(
        streams,
        engine_book,
        cfg.queues,
        drop_when_full,
        cfg.seed ^ round as u64,
    )?;
    out.threaded += t0.elapsed();
    let sequenced: Vec<Command> = th.sequenced.iter().map(|&(p, k)| streams[p][k]).collect();
    let mut checker = Checker::new(book_cfg, book_mutant, cfg.aggregate_every);
    checker.set_account_groups(&setup.groups);
    checker.count_many(
        Invariant::AnsweredOnce,
        streams.iter().map(|s| s.len() as u64).sum::<u64>(),
    );
    if let Some((pos, detail)) = &th.answered {
        checker.fail(Invariant::AnsweredOnce, *pos, detail.clone());
    }
    check_round(
        &mut checker,
        book_cfg,
        &sequenced,
        |n| th.events_of(n).to_vec(),
        &th.book,
        book_mutant.is_none() && setup.journal_can_state(),
    )?;
    out.commands += sequenced.len() as u64;
    merge_checker(out, &checker, &setup, sequenced.len() as u64);
    out.schedule.add("ingress/full-pushes", th.full_pushes);
    out.schedule
        .add("engine/output-full-waits", th.stats.output_full_waits);
    if checker.violations.is_empty() {
        return Ok(None);
    }
    let mut violations = checker.violations.clone();
    violations.sort_by_key(|v| (v.position, v.invariant));
    Ok(Some(shrink_failure(
        cfg, round, setup, streams, &sequenced, violations, &th.lost,
    )))
}

/// One round on `shards` shards of multi-books (see [`sharded`]): the answers are checked
/// as they are read, then every instrument's stream by its own checker and journal.
fn sharded_round(
    cfg: &StressConfig,
    round: usize,
    shards: usize,
    streams: &[Vec<Command>],
    out: &mut Outcome,
) -> std::io::Result<Option<Failure>> {
    let n_instruments = sharded::instruments(shards);
    let tagged = sharded::with_instruments(streams, n_instruments);
    let t0 = Instant::now();
    let sh = sharded::run(&tagged, shards, round, cfg.queues, cfg.seed ^ round as u64)?;
    out.threaded += t0.elapsed();
    let total: u64 = streams.iter().map(|s| s.len() as u64).sum();
    *out.checks.entry(Invariant::AnsweredOnce).or_default() += total;
    out.schedule.add("ingress/full-pushes", sh.full_pushes);
    for (s, n) in sh.per_shard.iter().enumerate() {
        out.coverage.add(&format!("shard/{s}"), *n);
    }
    out.commands += total;
    if let Some((pos, detail)) = sh.answered {
        return Ok(Some(Failure {
            round,
            setup: sharded::setup(0, round),
            violations: vec![Violation {
                invariant: Invariant::AnsweredOnce,
                position: pos,
                detail,
            }],
            target: Invariant::AnsweredOnce,
            reproducer: Vec::new(),
            original_len: total as usize,
            shrink_tests: 0,
            minimal: false,
            lost: Vec::new(),
            instrument: None,
        }));
    }
    for i in 0..n_instruments {
        let run = &sh.instruments[i];
        let id = flowmatch_core::InstrumentId(i as u32);
        let setup = sharded::setup(i, round);
        let book_cfg = setup.book;
        let sequenced: Vec<Command> = run.sequenced.iter().map(|&(p, k)| streams[p][k]).collect();
        out.coverage
            .add(&format!("instrument/{i}"), sequenced.len() as u64);
        let mut checker = Checker::new(book_cfg, None, cfg.aggregate_every);
        // A cold instrument's book is a few orders in a record, not a book: rebuilt here
        // as a fast book (its orders re-entered in dump order keep their priority, with
        // their time in force and STP mode, which the comparison includes).
        let mut rebuilt = flowmatch_core::FastBook::new(book_cfg);
        let shard = sharded::shard_of(id, shards);
        let engine_book = match sh.books[shard].book(id) {
            Some(flowmatch_core::instrument::BookView::Full(b)) => b,
            Some(view) => {
                let mut sink = Vec::new();
                view.for_each_order(&mut |o| {
                    let order = flowmatch_core::NewOrder::limit(
                        o.id, o.account, o.side, o.price, o.open_qty,
                    )
                    .with_tif(o.tif)
                    .with_stp(o.stp);
                    flowmatch_core::OrderBook::apply(&mut rebuilt, &Command::New(order), &mut sink);
                });
                &rebuilt
            }
            None => &rebuilt,
        };
        check_round(
            &mut checker,
            book_cfg,
            &sequenced,
            |n| run.events_of(n).to_vec(),
            engine_book,
            true,
        )?;
        merge_checker(out, &checker, &setup, sequenced.len() as u64);
        if !checker.violations.is_empty() {
            let mut violations = checker.violations.clone();
            violations.sort_by_key(|v| (v.position, v.invariant));
            let mut f = shrink_failure(cfg, round, setup, streams, &sequenced, violations, &[]);
            f.instrument = Some((i, shard));
            return Ok(Some(f));
        }
    }
    Ok(None)
}

/// Picks what to reproduce and shrinks the round's stream to it. A divergence from the
/// reference is preferred (it replays to different events); then the earliest violation.
#[allow(clippy::too_many_arguments)]
fn shrink_failure(
    cfg: &StressConfig,
    round: usize,
    setup: rounds::RoundSetup,
    streams: &[Vec<Command>],
    sequenced: &[Command],
    violations: Vec<Violation>,
    lost: &[Lost],
) -> Failure {
    let book_mutant = cfg.mutant.and_then(Mutant::book);
    let book_cfg = setup.book;
    let groups = &setup.groups;
    let has = |i: Invariant| violations.iter().any(|v| v.invariant == i);
    let target = if has(Invariant::FastEqualsReference) {
        Invariant::FastEqualsReference
    } else {
        violations[0].invariant
    };
    let (input, result): (Vec<Command>, Option<shrink::Shrunk<Command>>) = match target {
        Invariant::AnsweredOnce => {
            // The losing producer's own stream, through the deterministic schedule.
            let p = lost.first().map_or(0, |l| l.producer);
            let s = &streams[p];
            let cap = cfg.queues.ingress;
            if threaded::stepped_ingress(s, book_cfg, cap).is_some() && drop_when_full(cfg) {
                let r = shrink::ddmin(s, cfg.shrink_budget, |c| {
                    threaded::stepped_ingress(c, book_cfg, cap).is_some()
                });
                (s.clone(), Some(r))
            } else {
                (s.clone(), None)
            }
        }
        Invariant::ThreadedEqualsReplay => (sequenced.to_vec(), None),
        Invariant::RecoveredEqualsLive => {
            let r = shrink::ddmin(sequenced, cfg.shrink_budget.min(400), |c| {
                recovery::check_stream(c, book_cfg, book_mutant).is_some()
            });
            (sequenced.to_vec(), Some(r))
        }
        inv => {
            // A divergence in the events replays visibly; one only in the final book needs
            // the book dump. Aim at the kind the run found.
            let in_events = |v: &Violation| !v.detail.starts_with(checks::FINAL_BOOK);
            let want_events = violations
                .iter()
                .any(|v| v.invariant == inv && in_events(v));
            let r = shrink::ddmin(sequenced, cfg.shrink_budget, |c| {
                checks::check_stream_grouped(c, book_cfg, groups, book_mutant)
                    .violation(inv)
                    .is_some_and(|v| !want_events || in_events(v))
            });
            (sequenced.to_vec(), Some(r))
        }
    };
    let (reproducer, shrink_tests, minimal) = match result {
        Some(r) => (r.items, r.tests, r.minimal),
        None => (input.clone(), 0, false),
    };
    Failure {
        round,
        setup,
        violations,
        target,
        reproducer,
        original_len: input.len(),
        shrink_tests,
        minimal,
        lost: lost.iter().take(8).copied().collect(),
        instrument: None,
    }
}

fn drop_when_full(cfg: &StressConfig) -> bool {
    cfg.mutant == Some(Mutant::IngressDropWhenFull)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(producers: usize, shards: Option<usize>) -> Outcome {
        let mut cfg = StressConfig::for_profile(Profile::Quick);
        cfg.length = Length::Commands(6_000);
        cfg.time_cap = None;
        cfg.producers = producers;
        cfg.shards = shards;
        cfg.round_commands = 2_000;
        let o = run(&cfg).expect("threads start");
        assert!(o.failure.is_none(), "{:?}", o.failure);
        o
    }

    /// 42 small rounds run every combination of policy (CME A, K, Q, S with their TOP
    /// limits, LMMs and pro-rata minimum included), replace mode and account groups through
    /// the threaded engine, the fast book agreeing with the reference and the replay under
    /// each; coverage names every axis, and account-group STP fires between accounts 1 and
    /// 2 (which only the groups make one owner).
    #[test]
    fn every_policy_replace_mode_and_group_setting_runs_and_passes() {
        let mut cfg = StressConfig::for_profile(Profile::Quick);
        cfg.round_commands = 600;
        cfg.length = Length::Commands(42 * 600);
        cfg.time_cap = None;
        cfg.producers = 1;
        let o = run(&cfg).expect("threads start");
        assert!(o.failure.is_none(), "{:?}", o.failure);
        assert_eq!(o.rounds, 42);
        for p in rounds::POLICY_NAMES {
            assert_eq!(o.coverage.get(&format!("policy/{p}")), 6 * 600, "{p}");
        }
        for (m, _) in rounds::REPLACE_MODES {
            assert_eq!(
                o.coverage.get(&format!("replace-mode/{m}")),
                21 * 600,
                "{m}"
            );
        }
        assert_eq!(o.coverage.get("stp-groups/on"), 14 * 600);
        assert_eq!(o.coverage.get("stp-groups/off"), 28 * 600);
        assert!(o.coverage.get("replace/kept-priority") > 0);
        assert!(o.coverage.get("replace/requeued") > 0);
        assert!(o.coverage.get("stp/cancel-maker") > 0);
        // Threaded-equals-replay and fast-equals-reference ran on every command.
        assert!(o.checks[&Invariant::FastEqualsReference] >= 42 * 600);
        assert!(o.checks[&Invariant::ThreadedEqualsReplay] >= 42 * 600);
    }

    /// Under a book mutant the rounds stay on the rules the mutant book implements (no
    /// CME, no groups; the replace modes still cycle, see `rounds`);
    /// `replace-keeps-priority` is caught, also under always-requeue.
    #[test]
    fn a_mutant_run_stays_on_the_mutant_books_rules_and_is_caught() {
        let mut cfg = StressConfig::for_profile(Profile::Quick);
        cfg.round_commands = 2_000;
        cfg.length = Length::Commands(6 * 2_000);
        cfg.time_cap = None;
        cfg.producers = 1;
        cfg.mutant = Some(Mutant::Book(mutants::BookMutant::ReplaceKeepsPriority));
        let f = run(&cfg).expect("threads start").failure.expect("caught");
        assert!(!matches!(f.setup.book.policy, MatchPolicy::Cme(_)));
        assert!(f.setup.groups.is_empty());
        // A hand-checked always-requeue case: 1 is reduced in place by its replace, so the
        // reference requeues it behind 2 and the buy fills 2; the mutant keeps 1 first.
        use flowmatch_core::{NewOrder, ReplacePriority, Side};
        let s = [
            Command::New(NewOrder::limit(1, 1, Side::Sell, 100, 5)),
            Command::New(NewOrder::limit(2, 2, Side::Sell, 100, 5)),
            Command::Replace {
                id: 1,
                price: 100,
                qty: 3,
            },
            Command::New(NewOrder::limit(3, 3, Side::Buy, 100, 3)),
        ];
        let book = BookConfig {
            replace_priority: ReplacePriority::AlwaysRequeue,
            ..BookConfig::default()
        };
        let c = checks::check_stream(&s, book, Some(mutants::BookMutant::ReplaceKeepsPriority));
        let v = c.violation(Invariant::FastEqualsReference).expect("caught");
        assert_eq!(v.position, 4, "{}", v.detail);
        assert!(checks::check_stream(&s, book, None).violations.is_empty());
    }

    /// What the seed decides: with one producer every count of the summary (checks and
    /// rules exercised) is the same on every run; with several, the commands, rounds, the
    /// per-policy, per-shard and per-instrument counts and every check count but
    /// conservation are (the rest follows the interleaving: see "What a run's counts
    /// depend on" in the module docs).
    #[test]
    fn counts_the_seed_decides_do_not_vary_between_runs() {
        let (a, b) = (fixed(1, None), fixed(1, None));
        assert_eq!(a.checks, b.checks);
        assert_eq!(a.coverage, b.coverage);
        assert_eq!((a.commands, a.rounds), (6_000, 3));
        for shards in [None, Some(2)] {
            let (a, b) = (fixed(3, shards), fixed(3, shards));
            assert_eq!((a.commands, a.rounds), (b.commands, b.rounds));
            let seeded = |o: &Outcome| {
                let mut checks = o.checks.clone();
                checks.remove(&Invariant::Conservation);
                let counts: BTreeMap<String, u64> = o
                    .coverage
                    .counts
                    .iter()
                    .filter(|(k, _)| {
                        ["policy/", "shard/", "instrument/"]
                            .iter()
                            .any(|p| k.starts_with(p))
                    })
                    .map(|(k, v)| (k.clone(), *v))
                    .collect();
                (checks, counts)
            };
            assert_eq!(seeded(&a), seeded(&b), "shards {shards:?}");
            // Three recoveries per journaled round: every sharded instrument's, and the
            // single-engine rounds whose rules the journal can state (not CME, no groups).
            let journaled = match shards {
                Some(k) => a.rounds * sharded::instruments(k),
                None => (0..a.rounds)
                    .filter(|&r| rounds::RoundSetup::of(r, false).journal_can_state())
                    .count(),
            };
            assert_eq!(
                a.checks[&Invariant::RecoveredEqualsLive],
                3 * journaled as u64
            );
        }
    }
}
