//! The per-message costs behind the sharded engine's throughput model (see the module doc
//! of `flowmatch_core::engine::shards`): one shard's service time, the router's own cost,
//! the consumer's cost per event, and, for honesty, the throughput the threaded shards
//! reach on this machine. A measurement, not a check: `#[ignore]`d, run by hand with
//!
//! `cargo test --test shards_cost -- --ignored --nocapture`
//!
//! Everything but the threaded run happens on this one thread, timing each stage with the
//! TSC around whole batches (one clock read per 32 messages), so the stages are measured
//! apart: route (`Router::send_slice`) → shard step (`Engine::step`: ingress pop, match
//! in the fast book, publish) → read (`ShardOutputs::poll`). The baseline for the router
//! is the same messages pushed into one ring with no routing (`Sender::push_slice`).

use flowmatch_core::engine::shards::{self, Built, Placement};
use flowmatch_core::engine::{EngineConfig, Idle, ShardOutputs, ShardsConfig, Stamped};
use flowmatch_core::ingress::{ingress, QueueKind};
use flowmatch_core::{BookConfig, Command, Event, FastBook};
use flowmatch_harness::clock::TscClock;
use flowmatch_harness::provenance::Provenance;
use flowmatch_harness::workload::equity::{generate, EquityConfig};
use std::time::Instant;

const CHUNK: usize = 32;
const WARM: usize = 200_000;
const MEASURED: usize = 1_000_000;

fn by_order_id(c: &Command) -> usize {
    c.id() as usize
}

struct Stages {
    route_ns: f64,
    step_ns: f64,
    read_ns: f64,
    events: u64,
    messages: u64,
}

/// Routes, steps and reads `cmds` on this thread, timing each stage.
fn stepped(shards_n: usize, cmds: &[Command], clock: &TscClock) -> Stages {
    let cfg = ShardsConfig {
        shards: shards_n,
        producers: 1,
        capacity: 1024,
        out_capacity: 1 << 14,
        ..ShardsConfig::default()
    };
    let books = (0..shards_n)
        .map(|_| FastBook::new(BookConfig::default()))
        .collect();
    let Built {
        mut engines,
        mut routers,
        mut outputs,
    } = shards::build(&cfg, books, || 0u64, by_order_id).unwrap();
    let router = &mut routers[0];
    let mut chunk = [Stamped::bare(Command::Cancel { id: 0 }); CHUNK];
    let (mut route, mut step, mut read) = (0u64, 0u64, 0u64);
    let mut events = 0u64;
    for (round, window) in [&cmds[..WARM], &cmds[WARM..]].into_iter().enumerate() {
        let measure = round == 1;
        let mut i = 0;
        while i < window.len() {
            let k = (window.len() - i).min(CHUNK);
            for (slot, c) in chunk[..k].iter_mut().zip(&window[i..i + k]) {
                *slot = Stamped::bare(*c);
            }
            let t0 = clock.raw();
            let sent = router.send_slice(&chunk[..k]);
            let t1 = clock.raw();
            for e in engines.iter_mut() {
                e.step();
            }
            let t2 = clock.raw();
            let got = outputs.poll(usize::MAX, |o| {
                std::hint::black_box(o);
            });
            let t3 = clock.raw();
            i += sent;
            if measure {
                route += t1 - t0;
                step += t2 - t1;
                read += t3 - t2;
                events += got as u64;
            }
        }
        for e in engines.iter_mut() {
            while e.step() > 0 {}
        }
        let got = outputs.poll(usize::MAX, |o| {
            std::hint::black_box(o);
        });
        if measure {
            events += got as u64;
        }
    }
    let to_ns = |t: u64| t as f64 / clock.ticks_per_ns();
    Stages {
        route_ns: to_ns(route),
        step_ns: to_ns(step),
        read_ns: to_ns(read),
        events,
        messages: (cmds.len() - WARM) as u64,
    }
}

/// The same messages pushed into one ring with no routing, popped at once: the cost the
/// router is compared with.
fn unrouted_push_ns(cmds: &[Command], clock: &TscClock) -> f64 {
    let (mut txs, mut rx) = ingress::<Stamped<Command>>(QueueKind::Multi, 1, 1024).unwrap();
    let mut chunk = [Stamped::bare(Command::Cancel { id: 0 }); CHUNK];
    let mut push = 0u64;
    for c in cmds.chunks(CHUNK) {
        for (slot, c) in chunk.iter_mut().zip(c) {
            *slot = Stamped::bare(*c);
        }
        let t0 = clock.raw();
        let n = txs[0].push_slice(&chunk[..c.len()]);
        let t1 = clock.raw();
        assert_eq!(n, c.len());
        push += t1 - t0;
        rx.poll(usize::MAX, |_, m| {
            std::hint::black_box(m);
        });
    }
    push as f64 / clock.ticks_per_ns() / cmds.len() as f64
}

/// Messages per second of `shards_n` shard threads fed by one producer (this thread, also
/// the consumer), closed loop, `Idle::Yield` engines.
fn threaded_rate(shards_n: usize, cmds: &[Command]) -> f64 {
    let cfg = ShardsConfig {
        shards: shards_n,
        producers: 1,
        capacity: 1024,
        out_capacity: 1 << 14,
        engine: EngineConfig {
            batch: 64,
            idle: Idle::Yield,
        },
    };
    let books = (0..shards_n)
        .map(|_| FastBook::new(BookConfig::default()))
        .collect();
    let (handle, mut routers, mut outputs): (_, _, ShardOutputs<Event>) =
        shards::start(&cfg, books, || 0u64, by_order_id, &Placement::every_core()).unwrap();
    let router = &mut routers[0];
    let mut chunk = [Stamped::bare(Command::Cancel { id: 0 }); CHUNK];
    let t = Instant::now();
    let mut i = 0;
    while i < cmds.len() {
        let k = (cmds.len() - i).min(CHUNK);
        for (slot, c) in chunk[..k].iter_mut().zip(&cmds[i..i + k]) {
            *slot = Stamped::bare(*c);
        }
        i += router.send_slice(&chunk[..k]);
        outputs.poll(256, |o: flowmatch_core::engine::ShardOutput<Event>| {
            std::hint::black_box(o);
        });
    }
    let placement = handle.describe_placement();
    drop(routers);
    let reports = handle.shutdown(&mut outputs, |o| {
        std::hint::black_box(o);
    });
    let elapsed = t.elapsed().as_secs_f64();
    let reports = reports.unwrap();
    assert_eq!(
        reports.iter().map(|r| r.stats.messages).sum::<u64>(),
        cmds.len() as u64
    );
    eprint!("{placement}");
    cmds.len() as f64 / elapsed
}

#[test]
#[ignore = "a measurement; run by hand with --ignored --nocapture"]
fn per_message_costs_and_threaded_rate() {
    let clock = TscClock::new();
    let cmds = generate(&EquityConfig::default(), 77, WARM + MEASURED);
    println!("{}", Provenance::capture().markdown());
    println!("profile: test (opt-level 2); stream: equity mixed, {MEASURED} measured commands after {WARM} warm-up, routed by order id");
    println!();
    let base = unrouted_push_ns(&cmds[WARM..], &clock);
    println!("unrouted push into one ring (push_slice, {CHUNK}/batch): {base:.2} ns/msg");
    println!();
    println!("| shards | route ns/msg | shard step ns/msg (S) | read ns/event | events/msg |");
    println!("|---|---|---|---|---|");
    for n in [1usize, 2, 4, 8] {
        let s = stepped(n, &cmds, &clock);
        println!(
            "| {n} | {:.2} | {:.1} | {:.2} | {:.2} |",
            s.route_ns / s.messages as f64,
            s.step_ns / s.messages as f64,
            s.read_ns / s.events as f64,
            s.events as f64 / s.messages as f64
        );
    }
    println!();
    println!("threaded, 1 producer + consumer on this thread, pinned round-robin to every core:");
    for n in [1usize, 2, 4] {
        let rate = threaded_rate(n, &cmds);
        println!("{n} shard(s): {:.2} M msg/s", rate / 1e6);
    }
}

/// One configuration of the path, for counting instructions under callgrind (deterministic
/// on a loaded machine, unlike the clock). `SHARDS_PROBE=MODE,N` processes the first `N`
/// commands of a fixed 200,000-command stream; the difference between two `N` divided by
/// their difference is the per-message count with every fixed cost cancelled:
///
/// - `routed:K`: router (`send_slice`) → K shards stepped → `ShardOutputs::poll`;
/// - `routedraw:K`: the same, each shard's output ring read directly (no stamping);
/// - `unrouted`: one engine on a plain ingress (`push_slice`) → step → read.
///
/// e.g. `SHARDS_PROBE=routed:4,140000 valgrind --tool=callgrind <this test binary>
/// --ignored --exact instructions_probe --test-threads=1`, then the same with 40000.
#[test]
#[ignore = "a measurement; run under callgrind with SHARDS_PROBE=MODE,N"]
fn instructions_probe() {
    let Ok(spec) = std::env::var("SHARDS_PROBE") else {
        return;
    };
    let (mode, n) = spec.split_once(',').expect("SHARDS_PROBE=MODE,N");
    let n: usize = n.parse().expect("N is a count");
    let cmds = generate(&EquityConfig::default(), 77, 200_000);
    let cmds = &cmds[..n.min(200_000)];
    let mut chunk = [Stamped::bare(Command::Cancel { id: 0 }); CHUNK];
    let mut events = 0usize;
    let routed = mode
        .strip_prefix("routed:")
        .map(|k| (k, false))
        .or_else(|| mode.strip_prefix("routedraw:").map(|k| (k, true)));
    if let Some((k, raw)) = routed {
        let k: usize = k.parse().expect("K is a shard count");
        let cfg = ShardsConfig {
            shards: k,
            producers: 1,
            capacity: 1024,
            out_capacity: 1 << 14,
            ..ShardsConfig::default()
        };
        let books = (0..k)
            .map(|_| FastBook::new(BookConfig::default()))
            .collect();
        let Built {
            mut engines,
            mut routers,
            mut outputs,
        } = shards::build(&cfg, books, || 0u64, by_order_id).unwrap();
        let mut i = 0;
        while i < cmds.len() {
            let m = (cmds.len() - i).min(CHUNK);
            for (slot, c) in chunk[..m].iter_mut().zip(&cmds[i..i + m]) {
                *slot = Stamped::bare(*c);
            }
            i += routers[0].send_slice(&chunk[..m]);
            for e in engines.iter_mut() {
                e.step();
            }
            if raw {
                // Each shard's ring read directly: the cost of the router alone against
                // `unrouted` (no `ShardOutput` stamping on the way out).
                for s in 0..k {
                    events += outputs.ring(s).unwrap().pop_batch(usize::MAX, |o| {
                        std::hint::black_box(o);
                    });
                }
            } else {
                events += outputs.poll(usize::MAX, |o| {
                    std::hint::black_box(o);
                });
            }
        }
    } else {
        assert_eq!(mode, "unrouted");
        let (mut txs, rx) = ingress::<Stamped<Command>>(QueueKind::Multi, 1, 1024).unwrap();
        let (out_tx, mut out_rx) = flowmatch_core::ingress::spsc::channel::<
            flowmatch_core::engine::Output<Event>,
        >(1 << 14);
        let mut eng = flowmatch_core::engine::Engine::new(
            rx,
            out_tx,
            FastBook::new(BookConfig::default()),
            || 0u64,
            EngineConfig::default(),
        );
        let mut i = 0;
        while i < cmds.len() {
            let m = (cmds.len() - i).min(CHUNK);
            for (slot, c) in chunk[..m].iter_mut().zip(&cmds[i..i + m]) {
                *slot = Stamped::bare(*c);
            }
            i += txs[0].push_slice(&chunk[..m]);
            eng.step();
            events += out_rx.pop_batch(usize::MAX, |o| {
                std::hint::black_box(o);
            });
        }
    }
    assert!(events >= cmds.len());
}
