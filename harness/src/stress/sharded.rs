//! The sharded round of `flowmatch stress --shards K`: the producers' commands carry an
//! instrument, each producer holds a [`Router`] that sends every command to its
//! instrument's shard (instrument `i` lives on shard `i mod K`), and each shard is an
//! engine thread running a [`MultiBook`] of fast books (one book per instrument, policies
//! mixed across instruments). The shards' outputs are read through [`ShardOutputs`].
//!
//! Checked here, as outputs are read ([`Invariant::AnsweredOnce`]): each shard numbers its
//! commands 1, 2, 3, … with event indices 0, 1, … within each; within a shard, every
//! producer's commands are answered in that producer's order; every event names the
//! instrument of its command; across all shards every command of every producer is
//! answered exactly once (none twice, none missing). The result is, per instrument, the
//! commands in the order its shard applied them and the events each got: a single-book
//! stream the per-command checks (fast = reference, conservation, not crossed, level
//! aggregates, threaded = replay) and the journal recovery take as they are, one checker
//! per instrument (`stress::run`).
//!
//! Routing and the instrument of each command are deterministic (a function of the
//! command's id), so the commands each shard and each instrument receive are the same on
//! every run with the seed; only their interleaving across producers within a shard is the
//! schedule's.
//!
//! [`Router`]: flowmatch_core::engine::shards::Router
//! [`ShardOutputs`]: flowmatch_core::engine::shards::ShardOutputs

use super::checks::Invariant;
use super::producer::send_in_bursts;
use super::rounds::{RoundSetup, REPLACE_MODES};
use super::threaded::Queues;
use super::POLICIES;
use flowmatch_core::engine::shards::{self, Placement, ShardOutput, ShardsConfig};
use flowmatch_core::engine::{EngineConfig, Idle};
use flowmatch_core::{
    Command, Event, FastBook, InstrumentCommand, InstrumentEvent, InstrumentId, InstrumentSpec,
    InstrumentTable, MultiBook, MultiBookConfig, OrderId, Symbol,
};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Instruments per shard.
pub const INSTRUMENTS_PER_SHARD: usize = 2;
/// Resting orders each instrument's book pre-allocates.
const BOOK_CAPACITY: usize = 1 << 8;

/// Instruments of a run with `shards` shards.
pub fn instruments(shards: usize) -> usize {
    shards * INSTRUMENTS_PER_SHARD
}

/// The shard that owns instrument `i`.
pub fn shard_of(i: InstrumentId, shards: usize) -> usize {
    i.index() % shards
}

/// The instrument of a command naming `id` (a function of the id, so a cancel or replace
/// goes to the book its order was entered in).
pub fn instrument_of(id: OrderId, instruments: usize) -> InstrumentId {
    let local = id & ((1 << 40) - 1);
    InstrumentId((((id >> 40) + local) % instruments as u64) as u32)
}

/// Instrument `i`'s spec in `round`: the policies rotate over instruments and rounds; the
/// replace priority mode is the round's, as in the single-engine rounds.
pub fn spec(i: usize, round: usize) -> InstrumentSpec {
    let symbol = Symbol::new(&format!("I{i}")).expect("I followed by digits is a symbol");
    InstrumentSpec {
        policy: POLICIES[(i + round) % POLICIES.len()].1,
        replace: REPLACE_MODES[round % REPLACE_MODES.len()].1,
        ..InstrumentSpec::new(symbol)
    }
}

/// Instrument `i`'s rules in `round` (its book configuration, policy and replace mode
/// names; no account groups).
pub fn setup(i: usize, round: usize) -> RoundSetup {
    RoundSetup {
        book: spec(i, round).book_config(BOOK_CAPACITY),
        policy: POLICIES[(i + round) % POLICIES.len()].0,
        replace: REPLACE_MODES[round % REPLACE_MODES.len()].0,
        groups: Default::default(),
    }
}

fn table(instruments: usize, round: usize) -> InstrumentTable {
    let mut t = InstrumentTable::new();
    for i in 0..instruments {
        t.push(spec(i, round))
            .expect("distinct symbols and valid specs");
    }
    t
}

/// One instrument's commands in the order its shard applied them, with their events.
#[derive(Default)]
pub struct InstrumentRun {
    /// `(producer, index)` of each command, in the shard's order.
    pub sequenced: Vec<(usize, usize)>,
    /// The events of command `n` are `events[starts[n]..starts[n + 1]]`.
    pub events: Vec<Event>,
    /// See `events`.
    pub starts: Vec<usize>,
}

impl InstrumentRun {
    /// The events of the instrument's `n`-th command.
    pub fn events_of(&self, n: usize) -> &[Event] {
        &self.events[self.starts[n]..self.starts[n + 1]]
    }
}

/// What one sharded round gave.
pub struct Sharded {
    /// Per instrument.
    pub instruments: Vec<InstrumentRun>,
    /// Each shard's multi-book as its engine left it.
    pub books: Vec<MultiBook<FastBook>>,
    /// Commands each shard applied.
    pub per_shard: Vec<u64>,
    /// Pushes that found a ring full.
    pub full_pushes: u64,
    /// The first violation of `Invariant::AnsweredOnce`: `(position, detail)`.
    pub answered: Option<(u64, String)>,
}

/// Reads the shards' outputs and checks the answers (see the module docs).
struct Answers<'a> {
    streams: &'a [Vec<InstrumentCommand>],
    /// Per shard: commands taken so far (its last sequence number).
    shard_seq: Vec<u64>,
    /// Per shard, per producer: the next index allowed (indices must increase).
    next_in_shard: Vec<Vec<usize>>,
    /// Per producer, per command: answered.
    answered: Vec<Vec<bool>>,
    /// Per shard: the instrument of the command whose events are arriving.
    current: Vec<Option<usize>>,
    runs: Vec<InstrumentRun>,
    failure: Option<(u64, String)>,
}

impl<'a> Answers<'a> {
    fn new(streams: &'a [Vec<InstrumentCommand>], shards: usize, instruments: usize) -> Self {
        Answers {
            streams,
            shard_seq: vec![0; shards],
            next_in_shard: vec![vec![0; streams.len()]; shards],
            answered: streams.iter().map(|s| vec![false; s.len()]).collect(),
            current: vec![None; shards],
            runs: (0..instruments).map(|_| InstrumentRun::default()).collect(),
            failure: None,
        }
    }

    fn fail(&mut self, pos: u64, detail: String) {
        if self.failure.is_none() {
            self.failure = Some((pos, detail));
        }
    }

    fn take(&mut self, so: ShardOutput<InstrumentEvent>) {
        let s = so.shard as usize;
        let o = so.output;
        if o.index == 0 {
            self.current[s] = None;
            if o.seq != self.shard_seq[s] + 1 {
                self.fail(
                    o.seq,
                    format!(
                        "shard {s}: sequence number {} followed {}",
                        o.seq, self.shard_seq[s]
                    ),
                );
            }
            self.shard_seq[s] = o.seq;
            let (p, k) = (o.source as usize, o.t_intended as usize);
            let Some(cmd) = self.streams.get(p).and_then(|st| st.get(k)) else {
                return self.fail(
                    o.seq,
                    format!("shard {s}: an answer names producer {p}'s command {k}, which does not exist"),
                );
            };
            if std::mem::replace(&mut self.answered[p][k], true) {
                self.fail(
                    o.seq,
                    format!("producer {p}: command {k} was answered twice (again by shard {s}, sequence {})", o.seq),
                );
            }
            if k < self.next_in_shard[s][p] {
                self.fail(
                    o.seq,
                    format!(
                        "shard {s}: producer {p}'s command {k} was answered after its command {}",
                        self.next_in_shard[s][p] - 1
                    ),
                );
            }
            self.next_in_shard[s][p] = k + 1;
            let i = cmd.instrument.index();
            if shard_of(cmd.instrument, self.shard_seq.len()) != s {
                self.fail(
                    o.seq,
                    format!("shard {s} answered a command of instrument {i}, which is not its own"),
                );
            }
            let run = &mut self.runs[i];
            run.starts.push(run.events.len());
            run.sequenced.push((p, k));
            self.current[s] = Some(i);
        }
        match self.current[s] {
            Some(i) if o.event.instrument.index() == i => self.runs[i].events.push(o.event.event),
            Some(i) => self.fail(
                o.seq,
                format!(
                    "shard {s}, sequence {}: an event names instrument {}, its command's is {i}",
                    o.seq,
                    o.event.instrument.index()
                ),
            ),
            None => self.fail(
                o.seq,
                format!(
                    "shard {s}: event {} of sequence {} arrived without its first",
                    o.index, o.seq
                ),
            ),
        }
    }

    fn finish(&mut self) {
        for run in &mut self.runs {
            run.starts.push(run.events.len());
        }
        for (p, a) in self.answered.iter().enumerate() {
            if let Some(k) = a.iter().position(|&x| !x) {
                let missing = a.iter().filter(|&&x| !x).count();
                let pos = self.shard_seq.iter().sum();
                self.failure.get_or_insert((
                    pos,
                    format!("producer {p}: {missing} commands never answered, the first its command {k}"),
                ));
            }
        }
    }
}

/// The producers' streams with an instrument on every command.
pub fn with_instruments(
    streams: &[Vec<Command>],
    instruments: usize,
) -> Vec<Vec<InstrumentCommand>> {
    streams
        .iter()
        .map(|s| {
            s.iter()
                .map(|&cmd| InstrumentCommand {
                    instrument: instrument_of(cmd.id(), instruments),
                    cmd,
                })
                .collect()
        })
        .collect()
}

/// Runs one round on `shards` shards. `burst_seed` draws the burst sizes.
pub fn run(
    streams: &[Vec<InstrumentCommand>],
    shards: usize,
    round: usize,
    queues: Queues,
    burst_seed: u64,
) -> std::io::Result<Sharded> {
    let producers = streams.len();
    let n_instruments = instruments(shards);
    let processors = (0..shards)
        .map(|_| {
            MultiBook::<FastBook>::new(
                table(n_instruments, round),
                MultiBookConfig {
                    book_capacity: BOOK_CAPACITY,
                    ..MultiBookConfig::default()
                },
            )
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(std::io::Error::other)?;
    let cfg = ShardsConfig {
        shards,
        producers,
        capacity: queues.ingress,
        out_capacity: queues.output,
        engine: EngineConfig {
            batch: queues.batch,
            // More threads than cores: a busy-polling engine would hold a core a producer needs.
            idle: Idle::Yield,
        },
    };
    let route = move |m: &InstrumentCommand| shard_of(m.instrument, shards);
    let (handle, routers, mut outputs) =
        shards::start(&cfg, processors, || 0u64, route, &Placement::Unpinned)
            .map_err(std::io::Error::other)?;
    let mut answers = Answers::new(streams, shards, n_instruments);
    let finished = AtomicUsize::new(0);
    let mut full_pushes = 0u64;
    std::thread::scope(|scope| {
        let mut joins = Vec::with_capacity(producers);
        for (p, (mut router, stream)) in routers.into_iter().zip(streams).enumerate() {
            let finished = &finished;
            joins.push(scope.spawn(move || {
                let full = send_in_bursts(
                    stream,
                    burst_seed ^ p as u64,
                    |burst| router.send_slice(burst),
                    |_, _| false,
                );
                finished.fetch_add(1, Ordering::Release);
                full
            }));
        }
        while finished.load(Ordering::Acquire) < producers {
            if outputs.poll(256, |o| answers.take(o)) == 0 {
                std::thread::yield_now();
            }
        }
        for j in joins {
            full_pushes += j.join().expect("a producer thread panicked");
        }
    });
    let reports = handle
        .shutdown(&mut outputs, |o| answers.take(o))
        .map_err(std::io::Error::other)?;
    answers.finish();
    let per_shard = reports.iter().map(|r| r.stats.messages).collect();
    Ok(Sharded {
        instruments: answers.runs,
        books: reports.into_iter().map(|r| r.processor).collect(),
        per_shard,
        full_pushes,
        answered: answers.failure,
    })
}

/// The invariant the output checks above are counted under.
pub const INVARIANT: Invariant = Invariant::AnsweredOnce;

#[cfg(test)]
mod tests {
    use super::*;
    use flowmatch_core::engine::Output;
    use flowmatch_core::{NewOrder, Side};

    fn out(
        shard: u32,
        seq: u64,
        p: u32,
        k: u64,
        index: u32,
        i: u32,
    ) -> ShardOutput<InstrumentEvent> {
        ShardOutput {
            shard,
            output: Output {
                seq,
                source: p,
                index,
                event: InstrumentEvent {
                    instrument: InstrumentId(i),
                    event: Event::Ack { id: 1 },
                },
                t_intended: k,
                t_enqueue: 0,
                t_dequeue: 0,
                t_publish: 0,
            },
        }
    }

    /// Two producers, two commands each, on instruments 0 (shard 0) and 1 (shard 1).
    fn streams() -> Vec<Vec<InstrumentCommand>> {
        let on = |i: u32, id| InstrumentCommand {
            instrument: InstrumentId(i),
            cmd: Command::New(NewOrder::limit(id, 1, Side::Buy, 100, 1)),
        };
        vec![vec![on(0, 1), on(1, 2)], vec![on(0, 3), on(0, 4)]]
    }

    fn answer(outputs: &[ShardOutput<InstrumentEvent>]) -> Option<(u64, String)> {
        let s = streams();
        let mut a = Answers::new(&s, 2, 4);
        for o in outputs {
            a.take(*o);
        }
        a.finish();
        a.failure
    }

    /// A hand-written correct answer passes; each way of breaking it is named: a skipped
    /// shard sequence number, a producer's commands out of order, a command answered
    /// twice, one never answered, an event naming another instrument, a command on the
    /// wrong shard.
    #[test]
    fn every_broken_answer_is_caught() {
        let good = [
            out(0, 1, 1, 0, 0, 0),
            out(0, 2, 0, 0, 0, 0),
            out(0, 3, 1, 1, 0, 0),
            out(1, 1, 0, 1, 0, 1),
            out(1, 1, 0, 1, 1, 1),
        ];
        assert_eq!(answer(&good), None);
        let cases: [(&[ShardOutput<InstrumentEvent>], &str); 6] = [
            (
                &[
                    out(0, 1, 1, 0, 0, 0),
                    out(0, 3, 0, 0, 0, 0),
                    out(0, 4, 1, 1, 0, 0),
                    out(1, 1, 0, 1, 0, 1),
                ],
                "sequence number 3 followed 1",
            ),
            (
                &[
                    out(0, 1, 1, 1, 0, 0),
                    out(0, 2, 0, 0, 0, 0),
                    out(0, 3, 1, 0, 0, 0),
                    out(1, 1, 0, 1, 0, 1),
                ],
                "producer 1's command 0 was answered after its command 1",
            ),
            (
                &[
                    out(0, 1, 1, 0, 0, 0),
                    out(0, 2, 0, 0, 0, 0),
                    out(0, 3, 1, 1, 0, 0),
                    out(1, 1, 0, 1, 0, 1),
                    out(1, 2, 0, 1, 0, 1),
                ],
                "command 1 was answered twice",
            ),
            (
                &[
                    out(0, 1, 1, 0, 0, 0),
                    out(0, 2, 0, 0, 0, 0),
                    out(1, 1, 0, 1, 0, 1),
                ],
                "producer 1: 1 commands never answered, the first its command 1",
            ),
            (
                &[
                    out(0, 1, 1, 0, 0, 0),
                    out(0, 2, 0, 0, 0, 2),
                    out(0, 3, 1, 1, 0, 0),
                    out(1, 1, 0, 1, 0, 1),
                ],
                "an event names instrument 2, its command's is 0",
            ),
            (
                &[
                    out(0, 1, 1, 0, 0, 0),
                    out(0, 2, 0, 0, 0, 0),
                    out(0, 3, 1, 1, 0, 0),
                    out(0, 4, 0, 1, 0, 1),
                ],
                "shard 0 answered a command of instrument 1",
            ),
        ];
        for (outputs, needle) in cases {
            let (_, detail) = answer(outputs).unwrap_or_else(|| panic!("not caught: {needle}"));
            assert!(detail.contains(needle), "{detail} (wanted {needle})");
        }
    }

    #[test]
    fn an_id_always_names_the_same_instrument_and_instruments_spread_over_shards() {
        let base = crate::stress::stream::id_base(2);
        for id in base..base + 50 {
            assert_eq!(instrument_of(id, 6), instrument_of(id, 6));
            assert!(instrument_of(id, 6).index() < 6);
        }
        let shards: std::collections::BTreeSet<usize> =
            (0..6).map(|i| shard_of(InstrumentId(i), 3)).collect();
        assert_eq!(shards.len(), 3);
    }
}
