//! The threaded run of one round: several producer threads push their streams into the
//! multi-producer ingress (`flowmatch_core::ingress`, one deliberately tiny ring each, so
//! back-pressure is constant), in bursts of random size; the engine
//! (`flowmatch_core::engine::spawn`) runs the book under test on its own thread and
//! publishes into a tiny output ring; this thread drains it.
//!
//! Each command carries its producer-local index in the `t_intended` stamp, so the output
//! says which command of which producer every sequence number is. Reading the output is
//! where `Invariant::AnsweredOnce` is checked: sequence numbers run 1, 2, 3, … with
//! event indices 0, 1, … within each; per producer the indices answered are 0, 1, 2, …
//! with none skipped or repeated, and at the end every command of every producer has its
//! answer. The result is the sequenced stream (who was taken when) and the events per
//! sequence number, which the checker replays single-threaded.
//!
//! The ingress mutant lives here: a producer that drops the command a full ring refused.
//! [`stepped_ingress`] is its deterministic twin for shrinking: one producer, the engine
//! stepped on this thread only when the ring is full.

use super::mutants::BookUnderTest;
use super::producer::send_in_bursts;
use flowmatch_core::engine::{self, Engine, EngineConfig, EngineStats, Output, Stamped};
use flowmatch_core::ingress::{self, spsc, QueueKind};
use flowmatch_core::{BookConfig, Command, Event};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Queue sizes of a threaded round.
#[derive(Clone, Copy, Debug)]
pub struct Queues {
    /// Slots per producer ring (rounded up to a power of two by the ring).
    pub ingress: usize,
    /// Slots of the output ring.
    pub output: usize,
    /// Most messages the engine takes per poll.
    pub batch: usize,
}

/// A command a producer lost: who, which, and how many full pushes it had met by then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lost {
    /// The producer.
    pub producer: usize,
    /// Its command's index in its stream (0-based).
    pub index: usize,
    /// Full pushes that producer had met, including the one that lost it.
    pub full_pushes: u64,
}

/// What one threaded round gave.
pub struct Threaded {
    /// `(producer, index)` of each sequence number, in sequence order.
    pub sequenced: Vec<(usize, usize)>,
    /// The events of sequence number `s` are `events[starts[s]..starts[s + 1]]`.
    pub events: Vec<Event>,
    /// See `events`.
    pub starts: Vec<usize>,
    /// The book as the engine left it.
    pub book: BookUnderTest,
    /// The engine's counters.
    pub stats: EngineStats,
    /// Pushes that found a ring full (back-pressure), over all producers.
    pub full_pushes: u64,
    /// Commands the ingress mutant dropped.
    pub lost: Vec<Lost>,
    /// The first violation of `Invariant::AnsweredOnce`, if any: `(position, detail)`.
    pub answered: Option<(u64, String)>,
}

impl Threaded {
    /// The events published for sequence number `s` (0-based).
    pub fn events_of(&self, s: usize) -> &[Event] {
        &self.events[self.starts[s]..self.starts[s + 1]]
    }
}

/// Reads the output ring and checks that every command is answered exactly once.
struct Answers {
    next_index: Vec<usize>,
    sequenced: Vec<(usize, usize)>,
    events: Vec<Event>,
    starts: Vec<usize>,
    answered: Option<(u64, String)>,
}

impl Answers {
    fn new(producers: usize, total: usize) -> Self {
        Answers {
            next_index: vec![0; producers],
            sequenced: Vec::with_capacity(total),
            events: Vec::with_capacity(total * 3),
            starts: Vec::with_capacity(total + 1),
            answered: None,
        }
    }

    fn fail(&mut self, pos: u64, detail: String) {
        if self.answered.is_none() {
            self.answered = Some((pos, detail));
        }
    }

    fn take(&mut self, o: Output<Event>) {
        let seq = self.sequenced.len() as u64;
        if o.index == 0 {
            if o.seq != seq + 1 {
                self.fail(seq + 1, format!("sequence number {} followed {seq}", o.seq));
            }
            let (p, k) = (o.source as usize, o.t_intended as usize);
            match self.next_index.get(p).copied() {
                Some(want) if want == k => self.next_index[p] += 1,
                Some(want) => {
                    self.fail(
                        o.seq,
                        format!(
                            "producer {p}: command {k} was answered (sequence {}) but command {want} never was",
                            o.seq
                        ),
                    );
                    self.next_index[p] = k + 1;
                }
                None => self.fail(
                    o.seq,
                    format!("an answer names producer {p}, which does not exist"),
                ),
            }
            self.starts.push(self.events.len());
            self.sequenced.push((p, k));
        } else if o.seq != seq {
            self.fail(
                seq,
                format!(
                    "event {} of sequence {} arrived during sequence {seq}",
                    o.index, o.seq
                ),
            );
        }
        self.events.push(o.event);
    }

    fn finish(&mut self, streams: &[Vec<Command>]) {
        self.starts.push(self.events.len());
        for (p, s) in streams.iter().enumerate() {
            if self.next_index[p] < s.len() {
                let pos = self.sequenced.len() as u64;
                self.fail(
                    pos,
                    format!(
                        "producer {p}: commands {} to {} of {} were never answered",
                        self.next_index[p],
                        s.len() - 1,
                        s.len()
                    ),
                );
            }
        }
    }
}

/// Runs one round threaded. `drop_when_full` is the ingress mutant; `burst_seed` draws
/// the burst sizes.
pub fn run(
    streams: &[Vec<Command>],
    book: BookUnderTest,
    queues: Queues,
    drop_when_full: bool,
    burst_seed: u64,
) -> std::io::Result<Threaded> {
    let producers = streams.len();
    let total: usize = streams.iter().map(Vec::len).sum();
    let (senders, rx) =
        ingress::ingress::<Stamped<Command>>(QueueKind::Multi, producers, queues.ingress)
            .map_err(std::io::Error::other)?;
    let (out_tx, mut out_rx) = spsc::channel::<Output<Event>>(queues.output);
    let eng = Engine::new(
        rx,
        out_tx,
        book,
        || 0u64,
        EngineConfig {
            batch: queues.batch,
            ..EngineConfig::default()
        },
    );
    let handle = engine::spawn(eng, None)?;
    let mut answers = Answers::new(producers, total);
    let finished = AtomicUsize::new(0);
    let mut per_producer: Vec<(u64, Vec<Lost>)> = Vec::new();
    std::thread::scope(|scope| {
        let mut joins = Vec::with_capacity(producers);
        for (p, (mut tx, stream)) in senders.into_iter().zip(streams).enumerate() {
            let finished = &finished;
            joins.push(scope.spawn(move || {
                let mut lost = Vec::new();
                let full = send_in_bursts(
                    stream,
                    burst_seed ^ p as u64,
                    |burst| tx.push_slice(burst),
                    |index, full_pushes| {
                        if drop_when_full {
                            lost.push(Lost {
                                producer: p,
                                index,
                                full_pushes,
                            });
                        }
                        drop_when_full
                    },
                );
                finished.fetch_add(1, Ordering::Release);
                (full, lost)
            }));
        }
        loop {
            let mut got = 0;
            while let Some(o) = out_rx.pop() {
                answers.take(o);
                got += 1;
            }
            if finished.load(Ordering::Acquire) == producers {
                break;
            }
            if got == 0 {
                std::thread::yield_now();
            }
        }
        for j in joins {
            per_producer.push(j.join().expect("a producer thread panicked"));
        }
    });
    handle.stop();
    while !handle.is_finished() {
        while let Some(o) = out_rx.pop() {
            answers.take(o);
        }
        std::thread::yield_now();
    }
    let (book, stats) = handle
        .join()
        .map_err(|_| std::io::Error::other("the engine thread panicked"))?;
    while let Some(o) = out_rx.pop() {
        answers.take(o);
    }
    answers.finish(streams);
    Ok(Threaded {
        sequenced: answers.sequenced,
        events: answers.events,
        starts: answers.starts,
        book,
        stats,
        full_pushes: per_producer.iter().map(|p| p.0).sum(),
        lost: per_producer.into_iter().flat_map(|p| p.1).collect(),
        answered: answers.answered,
    })
}

/// The deterministic schedule of the ingress mutant: one producer pushes `cmds` one by one
/// into a ring of `capacity` slots; when the ring is full the (mutant) producer drops the
/// command, and the engine is stepped, on this thread, only then and at the end. Returns
/// the `Invariant::AnsweredOnce` violation, if any: the predicate shrinking uses.
pub fn stepped_ingress(cmds: &[Command], cfg: BookConfig, capacity: usize) -> Option<String> {
    let streams = [cmds.to_vec()];
    let (mut senders, rx) =
        ingress::ingress::<Stamped<Command>>(QueueKind::Multi, 1, capacity).ok()?;
    let (out_tx, mut out_rx) = spsc::channel::<Output<Event>>(1 << 12);
    let mut eng = Engine::new(
        rx,
        out_tx,
        BookUnderTest::new(cfg, None),
        || 0u64,
        EngineConfig::default(),
    );
    let mut answers = Answers::new(1, cmds.len());
    let mut drain = |eng: &mut Engine<_, _, _>, answers: &mut Answers| {
        while eng.step() > 0 {
            while let Some(o) = out_rx.pop() {
                answers.take(o);
            }
        }
    };
    for (k, c) in cmds.iter().enumerate() {
        let m = Stamped {
            msg: *c,
            t_intended: k as u64,
            t_enqueue: 0,
        };
        if senders[0].try_push(m).is_err() {
            // The mutant: the refused command is dropped; then the engine catches up.
            drain(&mut eng, &mut answers);
        }
    }
    drain(&mut eng, &mut answers);
    answers.finish(&streams);
    answers.answered.map(|(_, d)| d)
}
