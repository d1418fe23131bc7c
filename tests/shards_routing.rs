//! Shards under stress: several producer threads route through tiny rings (full nearly
//! all the time) to several shard engines, and a clean shutdown drains every shard.
//!
//! The oracles are independent of the code under test:
//! - the echo test's expectation comes from the message definitions alone: key `k` is sent
//!   only by producer `k % P`, numbered 0, 1, 2, ... per key, and asks for a known number
//!   of replies; the processor counts, per key, the messages it applied. Every message
//!   must be answered exactly once with the right replies, and each key's count must equal
//!   the message's number, which holds only if all of a key's messages reached the same
//!   shard, in order, none lost, none twice;
//! - the order-book test replays each shard's commands, in the order that shard applied
//!   them (its sequence numbers, and per producer the order it sent), through
//!   `ReferenceBook` on this thread; the per-shard split is computed here by `id % K`, not
//!   by the router.

use flowmatch_core::engine::shards::{self, Placement, ShardReport};
use flowmatch_core::engine::{
    EngineConfig, Idle, Processor, ShardOutput, ShardSeq, ShardsConfig, Stamped,
};
use flowmatch_core::{BookConfig, Command, Event, FastBook, OrderBook, ReferenceBook, Sink};
use flowmatch_harness::workload::equity::{generate, EquityConfig};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// One sharded run at a time: each starts several engine threads, and on a 2-core machine
/// runs side by side would only time-slice against each other.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Producer `producer`'s message number `n` overall, number `m` of key `key`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Msg {
    producer: u32,
    n: u32,
    key: u32,
    m: u32,
}

/// One reply: which message, which part, and how many messages of that key the shard
/// had applied before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reply {
    msg: Msg,
    part: u32,
    key_seen: u32,
}

const KEYS: u32 = 97;

/// Replies per message: 1 to 3, so some messages publish several events.
fn parts_of(msg: &Msg) -> u32 {
    1 + (msg.n ^ msg.key) % 3
}

/// Counts, per key, the messages it applied, and echoes each one `parts_of` times.
/// Optionally waits for a gate to open before its first message.
struct Echo {
    seen: Vec<u32>,
    gate: Option<Arc<AtomicBool>>,
}

impl Echo {
    fn new(gate: Option<Arc<AtomicBool>>) -> Self {
        Echo {
            seen: vec![0; KEYS as usize],
            gate,
        }
    }
}

impl Processor<Msg> for Echo {
    type Event = Reply;
    fn process<S: Sink<Reply>>(&mut self, msg: &Msg, sink: &mut S) {
        if let Some(g) = self.gate.take() {
            while !g.load(Ordering::Acquire) {
                std::thread::yield_now();
            }
        }
        let key_seen = self.seen[msg.key as usize];
        for part in 0..parts_of(msg) {
            sink.event(Reply {
                msg: *msg,
                part,
                key_seen,
            });
        }
        self.seen[msg.key as usize] += 1;
    }
}

/// Producer `p`'s stream: the keys it owns (`k % producers == p`) in a scrambled order,
/// each numbered per key.
fn stream_of(p: u32, producers: u32, len: u32) -> Vec<Msg> {
    let mine: Vec<u32> = (0..KEYS).filter(|k| k % producers == p).collect();
    let mut per_key = vec![0u32; KEYS as usize];
    (0..len)
        .map(|n| {
            let key = mine[(n.wrapping_mul(2_654_435_761) >> 7) as usize % mine.len()];
            let m = per_key[key as usize];
            per_key[key as usize] += 1;
            Msg {
                producer: p,
                n,
                key,
                m,
            }
        })
        .collect()
}

/// Runs `producers` threads each sending `per_producer` messages (alternating single
/// sends, blocking sends and slices) through `shards` shards, the consumer on this thread.
/// With `gated`, every shard's first message waits until all producers have finished
/// and the stop flag is up, so the whole stream is in flight at the stop.
fn run_echo(
    shards: usize,
    producers: usize,
    per_producer: u32,
    capacity: usize,
    out_capacity: usize,
    placement: Placement,
    gated: bool,
) -> (Vec<ShardOutput<Reply>>, Vec<ShardReport<Echo>>, usize) {
    let cfg = ShardsConfig {
        shards,
        producers,
        capacity,
        out_capacity,
        engine: EngineConfig {
            batch: 8,
            idle: Idle::Yield,
        },
    };
    let gate = Arc::new(AtomicBool::new(!gated));
    let procs = (0..shards)
        .map(|_| Echo::new(gated.then(|| gate.clone())))
        .collect();
    let hash = shards::KeyHash::new(shards).unwrap();
    let route = move |m: &Msg| hash.shard(m.key);
    let (handle, routers, mut outputs) =
        shards::start(&cfg, procs, || 0u64, route, &placement).unwrap();
    let mut got: Vec<ShardOutput<Reply>> = Vec::new();
    std::thread::scope(|scope| {
        let threads: Vec<_> = routers
            .into_iter()
            .map(|mut router| {
                scope.spawn(move || {
                    let p = router.producer();
                    let stream = stream_of(p, producers as u32, per_producer);
                    let mut i = 0;
                    while i < stream.len() {
                        match i % 3 {
                            0 => {
                                let mut m = Stamped::bare(stream[i]);
                                loop {
                                    match router.try_send(m) {
                                        Ok(_) => break,
                                        Err(flowmatch_core::ingress::Full(back)) => {
                                            assert_eq!(back.msg, stream[i], "handed back intact");
                                            m = back;
                                            std::thread::yield_now();
                                        }
                                    }
                                }
                                i += 1;
                            }
                            1 => {
                                router.send(Stamped::bare(stream[i]));
                                i += 1;
                            }
                            _ => {
                                let k = (stream.len() - i).min(5);
                                let chunk: Vec<_> =
                                    stream[i..i + k].iter().map(|m| Stamped::bare(*m)).collect();
                                let sent = router.send_slice(&chunk);
                                if sent == 0 {
                                    std::thread::yield_now();
                                }
                                i += sent;
                            }
                        }
                    }
                })
            })
            .collect();
        if !gated {
            while !threads.iter().all(|t| t.is_finished()) {
                if outputs.poll(16, |o| got.push(o)) == 0 {
                    std::thread::yield_now();
                }
            }
        }
    });
    let before_stop = got.len();
    // Every producer's last push happened before this (the scope joined them).
    handle.stop();
    gate.store(true, Ordering::Release);
    let reports = handle.shutdown(&mut outputs, |o| got.push(o)).unwrap();
    (got, reports, before_stop)
}

/// Checks the echo run against the expectation built from the message definitions.
fn check_echo(
    got: &[ShardOutput<Reply>],
    reports: &[ShardReport<Echo>],
    shards: usize,
    producers: usize,
    per_producer: u32,
) {
    // Group by shard in arrival order (each shard's ring is FIFO); the merged order sorts.
    let mut per_shard: Vec<Vec<&ShardOutput<Reply>>> = vec![Vec::new(); shards];
    for o in got {
        per_shard[o.shard as usize].push(o);
    }
    let mut answered = vec![vec![false; per_producer as usize]; producers];
    let mut key_shard: Vec<Option<u32>> = vec![None; KEYS as usize];
    let mut total_events = 0u64;
    for (s, outs) in per_shard.iter().enumerate() {
        let mut seq = 0u64;
        let mut last_n: Vec<Option<u32>> = vec![None; producers];
        let mut i = 0;
        while i < outs.len() {
            let head = outs[i];
            seq += 1;
            assert_eq!(
                (head.output.seq, head.output.index),
                (seq, 0),
                "shard {s}: sequence dense"
            );
            let msg = head.output.event.msg;
            let p = msg.producer as usize;
            assert_eq!(head.output.source, msg.producer, "source is the router");
            // Per-producer order: within the shard, its numbers only go up.
            assert!(
                last_n[p].is_none_or(|l| l < msg.n),
                "shard {s}: producer {p} out of order"
            );
            last_n[p] = Some(msg.n);
            assert!(!answered[p][msg.n as usize], "{msg:?} answered twice");
            answered[p][msg.n as usize] = true;
            // Per-key: one shard, applied in the key's order, none lost before it.
            assert_eq!(
                *key_shard[msg.key as usize].get_or_insert(s as u32),
                s as u32,
                "key {} on two shards",
                msg.key
            );
            let parts = parts_of(&msg);
            for part in 0..parts {
                let o = outs
                    .get(i + part as usize)
                    .unwrap_or_else(|| panic!("{msg:?} lost reply {part}"));
                assert_eq!((o.output.seq, o.output.index), (seq, part));
                assert_eq!(
                    o.output.event,
                    Reply {
                        msg,
                        part,
                        key_seen: msg.m
                    }
                );
            }
            total_events += parts as u64;
            i += parts as usize;
        }
        let r = &reports[s];
        assert_eq!(r.shard, s);
        assert_eq!(r.stats.messages, seq, "shard {s}: messages = last sequence");
    }
    for (p, a) in answered.iter().enumerate() {
        let missing = a.iter().filter(|x| !**x).count();
        assert_eq!(
            missing, 0,
            "producer {p}: {missing} messages never answered"
        );
    }
    assert_eq!(got.len() as u64, total_events);
    assert_eq!(
        reports.iter().map(|r| r.stats.events).sum::<u64>(),
        total_events
    );
    // The processors saw every message of every key.
    let mut per_key_total = vec![0u32; KEYS as usize];
    for p in 0..producers as u32 {
        for m in stream_of(p, producers as u32, per_producer) {
            per_key_total[m.key as usize] += 1;
        }
    }
    let mut seen_total = vec![0u32; KEYS as usize];
    for r in reports {
        for (k, n) in r.processor.seen.iter().enumerate() {
            seen_total[k] += n;
        }
    }
    assert_eq!(seen_total, per_key_total);
    // The merged order is a total order: no two messages share a (seq, shard).
    let mut stamps: Vec<ShardSeq> = got
        .iter()
        .filter(|o| o.output.index == 0)
        .map(|o| o.stamp())
        .collect();
    stamps.sort();
    let before = stamps.len();
    stamps.dedup();
    assert_eq!(stamps.len(), before);
}

#[test]
fn several_producers_through_tiny_rings_every_message_once_in_key_and_producer_order() {
    let _serial = one_at_a_time();
    let (shards, producers, per_producer) = (4, 3, 4_000);
    let (got, reports, _) = run_echo(
        shards,
        producers,
        per_producer,
        2,
        8,
        Placement::Unpinned,
        false,
    );
    check_echo(&got, &reports, shards, producers, per_producer);
    // Every shard really took part.
    assert!(reports.iter().all(|r| r.stats.messages > 300));
}

#[test]
fn pinned_shards_sharing_cores_still_answer_everything() {
    let _serial = one_at_a_time();
    // More shards than this machine has cores: the placement says they share.
    let placement = Placement::every_core();
    let cores = match &placement {
        Placement::Cores(c) => c.len(),
        Placement::Unpinned => 0,
    };
    let shards = cores + 1;
    let (got, reports, _) = run_echo(shards, 2, 5_000, 4, 16, placement, false);
    check_echo(&got, &reports, shards, 2, 5_000);
    if cores > 0 {
        assert!(reports.iter().any(|r| r.placement.sharing_with > 0));
        assert_eq!(reports[0].placement.core, reports[cores].placement.core);
    }
}

#[test]
fn shutdown_with_the_whole_stream_in_flight_drains_every_shard() {
    let _serial = one_at_a_time();
    // Rings large enough to hold everything; every shard's first message waits for the
    // stop flag, so at the stop nothing (beyond one message per shard) has been applied.
    let (shards, producers, per_producer) = (3, 2, 3_000);
    let (got, reports, before_stop) = run_echo(
        shards,
        producers,
        per_producer,
        per_producer as usize,
        1 << 16,
        Placement::Unpinned,
        true,
    );
    assert_eq!(before_stop, 0, "nothing read before the stop");
    check_echo(&got, &reports, shards, producers, per_producer);
    assert_eq!(
        reports.iter().map(|r| r.stats.messages).sum::<u64>(),
        (producers as u64) * per_producer as u64
    );
}

/// The order book as the processor, order ids as keys: each shard is a book of its own
/// (ids `id % K == s`), and must give exactly what `ReferenceBook` gives on that shard's
/// commands in the order the shard applied them.
#[test]
fn order_book_shards_match_the_reference_per_shard() {
    let _serial = one_at_a_time();
    const K: usize = 3;
    const P: usize = 2;
    let cmds = generate(&EquityConfig::default(), 41, 40_000);
    let cfg = ShardsConfig {
        shards: K,
        producers: P,
        capacity: 4,
        out_capacity: 32,
        engine: EngineConfig {
            batch: 4,
            idle: Idle::Yield,
        },
    };
    let books = (0..K)
        .map(|_| FastBook::new(BookConfig::default()))
        .collect();
    // Route by the raw id; the router reduces it modulo K.
    let route = |c: &Command| c.id() as usize;
    let (handle, routers, mut outputs) =
        shards::start(&cfg, books, || 0u64, route, &Placement::Unpinned).unwrap();
    // Command i goes to producer (i / 7) % P.
    let producer_of = |i: usize| (i / 7) % P;
    let mut got = Vec::new();
    std::thread::scope(|scope| {
        let threads: Vec<_> = routers
            .into_iter()
            .map(|mut router| {
                let cmds = &cmds;
                scope.spawn(move || {
                    let p = router.producer() as usize;
                    for (i, c) in cmds.iter().enumerate() {
                        if producer_of(i) == p {
                            router.send(Stamped::bare(*c));
                        }
                    }
                })
            })
            .collect();
        while !threads.iter().all(|t| t.is_finished()) {
            if outputs.poll(32, |o| got.push(o)) == 0 {
                std::thread::yield_now();
            }
        }
    });
    handle.stop();
    let reports = handle.shutdown(&mut outputs, |o| got.push(o)).unwrap();

    // What each producer sent to each shard, in its order, computed here.
    let mut sent: Vec<Vec<VecDeque<Command>>> = vec![vec![VecDeque::new(); K]; P];
    for (i, c) in cmds.iter().enumerate() {
        sent[producer_of(i)][(c.id() % K as u64) as usize].push_back(*c);
    }
    let mut per_shard: Vec<Vec<(u64, u32, Event)>> = vec![Vec::new(); K];
    for o in &got {
        per_shard[o.shard as usize].push((o.output.seq, o.output.source, o.output.event));
    }
    let mut trades = 0;
    for (s, outs) in per_shard.iter().enumerate() {
        let mut reference = ReferenceBook::new(BookConfig::default());
        let mut i = 0;
        let mut seq = 0;
        let mut expected = Vec::new();
        while i < outs.len() {
            seq += 1;
            let (q, source, _) = outs[i];
            assert_eq!(q, seq, "shard {s}: dense sequence");
            let cmd = sent[source as usize][s]
                .pop_front()
                .expect("no more commands than were sent");
            expected.clear();
            reference.apply(&cmd, &mut expected);
            let events: Vec<Event> = outs[i..]
                .iter()
                .take_while(|o| o.0 == seq)
                .map(|o| o.2)
                .collect();
            assert_eq!(events, expected, "shard {s}, seq {seq}: {cmd:?}");
            trades += events
                .iter()
                .filter(|e| matches!(e, Event::Trade { .. }))
                .count();
            i += events.len();
        }
        assert_eq!(reports[s].stats.messages, seq);
        // The book the shard left equals the reference's.
        assert_eq!(reports[s].processor.snapshot(), reference.snapshot());
    }
    assert!(
        sent.iter().flatten().all(|q| q.is_empty()),
        "every command answered"
    );
    assert!(trades > 1_000, "the stream trades: {trades}");
}
