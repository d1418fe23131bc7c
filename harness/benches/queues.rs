//! Queue benchmarks, side by side in one run: one-way hop latency percentiles and throughput
//! between the two cores, single and batched, for
//! - a raw cache-line ping-pong (the physical floor of any thread hop on this machine),
//! - our SPSC ring, our multi-producer ingress (4 rings, the sender rotating over them),
//! - `crossbeam::queue::ArrayQueue` and a bounded `crossbeam-channel`.
//!
//! Run: `cargo bench -p flowmatch-harness --bench queues` (set `QUEUES_QUICK=1` for a short
//! smoke run). Results go to `bench-results/queues/` (`summary.json`, `results.md`),
//! overwriting the previous run, with the machine, command and git commit.
//!
//! # Method
//! *Latency*: the sender takes a TSC stamp, puts it in the message and pushes; the receiver,
//! spinning on the queue, stamps again on receipt and records the difference (the TSC is
//! invariant and shared by both cores here). It then raises an acknowledgement flag on its
//! own cache line, and the sender waits for it before the next send, so every hop starts
//! with an empty, idle queue: this is the pure hand-off cost, not queueing. Batched: the
//! sender pushes `BATCH` messages, each stamped just before the (single) push call, and the
//! receiver takes them with one batch pop; every message is one sample. The ping-pong floor
//! uses the same protocol with a bare padded `AtomicU64` as the "queue".
//! *Throughput*: the sender pushes `N` messages as fast as the queue accepts them (spinning
//! when full) while the receiver drains; rate = `N` / (first push -> last pop).
//! *Interleaving*: everything runs in `ROUNDS` rounds (floor, then each queue), histograms
//! merged over rounds and throughput the median round, so a change of vCPU placement
//! mid-run affects every row alike.
//!
//! Messages are 64 bytes (the size class of a stamped command).

use crossbeam::channel;
use flowmatch_core::ingress::{ingress, CachePadded, QueueKind, Receiver, Sender};
use flowmatch_harness::clock::TscClock;
use flowmatch_harness::latency::hist::{new_histogram, Percentiles};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A 64-byte message: the send stamp and padding standing in for a command.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Msg {
    ts: u64,
    seq: u64,
    _pad: [u64; 6],
}

impl Msg {
    fn new(ts: u64, seq: u64) -> Self {
        Msg {
            ts,
            seq,
            _pad: [0; 6],
        }
    }
}

const BATCH: usize = 16;
const CAPACITY: usize = 1024;
/// Rounds the measurements are interleaved over (throughput: median of the rounds).
const ROUNDS: usize = 5;

/// The sending side of a queue under test.
trait Tx: Send {
    /// Pushes as many of `ms` as fit; returns how many.
    fn push(&mut self, ms: &[Msg]) -> usize;
}

/// The receiving side of a queue under test.
trait Rx: Send {
    /// Takes up to `max` messages.
    fn pop(&mut self, max: usize, f: &mut dyn FnMut(Msg)) -> usize;
}

/// Our ingress kinds; for `Multi` the sender rotates over its producers per push call.
struct IngressTx {
    txs: Vec<Sender<Msg>>,
    next: usize,
}

impl Tx for IngressTx {
    #[inline]
    fn push(&mut self, ms: &[Msg]) -> usize {
        let n = if ms.len() == 1 {
            self.txs[self.next].try_push(ms[0]).map(|_| 1).unwrap_or(0)
        } else {
            self.txs[self.next].push_slice(ms)
        };
        self.next += 1;
        if self.next == self.txs.len() {
            self.next = 0;
        }
        n
    }
}

struct IngressRx(Receiver<Msg>);

impl Rx for IngressRx {
    #[inline]
    fn pop(&mut self, max: usize, f: &mut dyn FnMut(Msg)) -> usize {
        self.0.poll(max, |_, m| f(m))
    }
}

struct ChanTx(channel::Sender<Msg>);
struct ChanRx(channel::Receiver<Msg>);

impl Tx for ChanTx {
    #[inline]
    fn push(&mut self, ms: &[Msg]) -> usize {
        let mut n = 0;
        for m in ms {
            if self.0.try_send(*m).is_err() {
                break;
            }
            n += 1;
        }
        n
    }
}

impl Rx for ChanRx {
    #[inline]
    fn pop(&mut self, max: usize, f: &mut dyn FnMut(Msg)) -> usize {
        let mut n = 0;
        while n < max {
            match self.0.try_recv() {
                Ok(m) => {
                    f(m);
                    n += 1;
                }
                Err(_) => break,
            }
        }
        n
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Spsc,
    Multi,
    ArrayQueue,
    CrossbeamChannel,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Spsc => "spsc (ours)",
            Kind::Multi => "multi x4 (ours)",
            Kind::ArrayQueue => "ArrayQueue",
            Kind::CrossbeamChannel => "crossbeam-channel",
        }
    }

    fn make(self) -> (Box<dyn Tx>, Box<dyn Rx>) {
        let ours = |k: QueueKind, p: usize| {
            let (txs, rx) = ingress::<Msg>(k, p, CAPACITY).expect("valid ingress shape");
            (
                Box::new(IngressTx { txs, next: 0 }) as Box<dyn Tx>,
                Box::new(IngressRx(rx)) as Box<dyn Rx>,
            )
        };
        match self {
            Kind::Spsc => ours(QueueKind::Spsc, 1),
            Kind::Multi => ours(QueueKind::Multi, 4),
            Kind::ArrayQueue => ours(QueueKind::ArrayQueue, 1),
            Kind::CrossbeamChannel => {
                let (s, r) = channel::bounded(CAPACITY);
                (Box::new(ChanTx(s)), Box::new(ChanRx(r)))
            }
        }
    }
}

struct Setup {
    clock: TscClock,
    cores: Option<(core_affinity::CoreId, core_affinity::CoreId)>,
    lat_rounds: usize,
    thr_msgs: u64,
}

fn pin(c: Option<core_affinity::CoreId>) {
    if let Some(c) = c {
        core_affinity::set_for_current(c);
    }
}

/// One-way hop latency through a queue, `batch` messages per hop.
fn latency(s: &Setup, kind: Kind, batch: usize) -> Histogram<u64> {
    let (mut tx, mut rx) = kind.make();
    let ack = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let rounds = s.lat_rounds / ROUNDS / batch;
    let ack_r = ack.clone();
    let clock = s.clock.clone();
    let rcore = s.cores.map(|c| c.1);
    let receiver = std::thread::spawn(move || {
        pin(rcore);
        let mut h = new_histogram();
        for r in 1..=rounds as u64 {
            let mut got = 0;
            while got < batch {
                let n = rx.pop(batch - got, &mut |m: Msg| {
                    let now = clock.raw();
                    h.saturating_record(clock.delta_ns(m.ts, now).max(1));
                });
                if n == 0 {
                    // As the engine does when idle (and the floor's receiver too).
                    std::hint::spin_loop();
                }
                got += n;
            }
            ack_r.store(r, Ordering::Release);
        }
        h
    });
    pin(s.cores.map(|c| c.0));
    let mut ms = [Msg::new(0, 0); BATCH];
    for r in 1..=rounds as u64 {
        let t = s.clock.raw();
        for m in &mut ms[..batch] {
            *m = Msg::new(t, r);
        }
        let mut sent = 0;
        while sent < batch {
            sent += tx.push(&ms[sent..batch]);
        }
        while ack.load(Ordering::Acquire) != r {
            std::hint::spin_loop();
        }
    }
    receiver.join().unwrap()
}

/// Messages per second through a queue kept busy, `batch` per push/pop call.
fn throughput(s: &Setup, kind: Kind, batch: usize) -> f64 {
    let (mut tx, mut rx) = kind.make();
    let n = s.thr_msgs / ROUNDS as u64;
    let rcore = s.cores.map(|c| c.1);
    let receiver = std::thread::spawn(move || {
        pin(rcore);
        let mut got = 0u64;
        let mut sum = 0u64;
        while got < n {
            let k = rx.pop(batch, &mut |m: Msg| sum = sum.wrapping_add(m.seq));
            if k == 0 {
                std::hint::spin_loop();
            }
            got += k as u64;
        }
        (Instant::now(), sum)
    });
    pin(s.cores.map(|c| c.0));
    let mut ms = [Msg::new(0, 0); BATCH];
    let start = Instant::now();
    let mut i = 0u64;
    while i < n {
        let k = (n - i).min(batch as u64) as usize;
        for (j, m) in ms[..k].iter_mut().enumerate() {
            *m = Msg::new(0, i + j as u64);
        }
        let mut sent = 0;
        while sent < k {
            let p = tx.push(&ms[sent..k]);
            if p == 0 {
                std::hint::spin_loop();
            }
            sent += p;
        }
        i += k as u64;
    }
    let (end, sum) = receiver.join().unwrap();
    assert_eq!(
        sum,
        n * (n - 1) / 2,
        "{kind:?}: lost or duplicated messages"
    );
    n as f64 / (end - start).as_secs_f64()
}

/// The floor: one padded cache line written by one core, read by the other. Returns the
/// one-way stamp-to-receipt histogram and the round-trip/2 histogram.
fn ping_pong(s: &Setup) -> (Histogram<u64>, Histogram<u64>) {
    let line = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let ack = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let (l2, a2) = (line.clone(), ack.clone());
    let clock = s.clock.clone();
    let rounds = (s.lat_rounds / ROUNDS) as u64;
    let rcore = s.cores.map(|c| c.1);
    let receiver = std::thread::spawn(move || {
        pin(rcore);
        let mut h = new_histogram();
        let mut last = 0;
        for r in 1..=rounds {
            let ts = loop {
                let v = l2.load(Ordering::Acquire);
                if v != last {
                    break v;
                }
                std::hint::spin_loop();
            };
            last = ts;
            h.saturating_record(clock.delta_ns(ts, clock.raw()).max(1));
            a2.store(r, Ordering::Release);
        }
        h
    });
    pin(s.cores.map(|c| c.0));
    let mut rtt = new_histogram();
    for r in 1..=rounds {
        let t = s.clock.raw();
        line.store(t, Ordering::Release);
        while ack.load(Ordering::Acquire) != r {
            std::hint::spin_loop();
        }
        let back = s.clock.raw();
        rtt.saturating_record((s.clock.delta_ns(t, back) / 2).max(1));
    }
    (receiver.join().unwrap(), rtt)
}

#[derive(Serialize)]
struct Row {
    name: String,
    batch: usize,
    /// One-way hop latency, ns.
    hop_ns: Percentiles,
    /// Messages per second (None for the ping-pong rows).
    throughput_per_s: Option<f64>,
}

#[derive(Serialize)]
struct Summary {
    /// Tool, commit, command, machine, load at the start, timestamp.
    provenance: flowmatch_harness::provenance::Provenance,
    /// `/proc/loadavg` at the end of the run.
    load_average_at_end: String,
    pinned: bool,
    tsc_ghz: f64,
    message_bytes: usize,
    capacity: usize,
    latency_samples: usize,
    throughput_messages: u64,
    /// Median one-way hop of our SPSC ring over the ping-pong floor (one-way), single.
    spsc_over_floor: f64,
    /// Median of ArrayQueue over our SPSC ring, single.
    arrayqueue_over_spsc: f64,
    /// Which placement the floor suggests (see the issue: ~60 ns vs ~200 ns hosts).
    placement: String,
    rows: Vec<Row>,
}

fn main() {
    let quick = std::env::var_os("QUEUES_QUICK").is_some();
    let provenance = flowmatch_harness::provenance::Provenance::capture_with_command(if quick {
        "QUEUES_QUICK=1 cargo bench -p flowmatch-harness --bench queues".into()
    } else {
        "cargo bench -p flowmatch-harness --bench queues".into()
    });
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let cores = if cores.len() >= 2 {
        Some((cores[0], cores[1]))
    } else {
        None
    };
    let s = Setup {
        clock: TscClock::new(),
        cores,
        lat_rounds: if quick { 20_000 } else { 200_000 },
        thr_msgs: if quick { 1_000_000 } else { 10_000_000 },
    };
    let mut rows = Vec::new();
    println!(
        "{:<22} {:>5} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>14}",
        "queue", "batch", "p50", "p90", "p99", "p99.9", "p99.99", "max", "msgs/s"
    );
    let print = |r: &Row| {
        let p = r.hop_ns;
        println!(
            "{:<22} {:>5} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>14}",
            r.name,
            r.batch,
            p.p50,
            p.p90,
            p.p99,
            p.p99_9,
            p.p99_99,
            p.max,
            r.throughput_per_s
                .map(|t| format!("{:.0}", t))
                .unwrap_or_else(|| "-".into())
        );
    };
    // Interleave everything in rounds: on these VMs the host may move the two vCPUs between
    // "near" and "far" placements at any time, so each queue must see the same mix of
    // placements as the floor it is compared with.
    let mut floor_one_way = new_histogram();
    let mut floor_rtt = new_histogram();
    let kinds = [
        Kind::Spsc,
        Kind::Multi,
        Kind::ArrayQueue,
        Kind::CrossbeamChannel,
    ];
    let cases: Vec<(Kind, usize)> = kinds.iter().flat_map(|&k| [(k, 1), (k, BATCH)]).collect();
    let mut hists: Vec<Histogram<u64>> = cases.iter().map(|_| new_histogram()).collect();
    let mut rates: Vec<Vec<f64>> = cases.iter().map(|_| Vec::new()).collect();
    for _round in 0..ROUNDS {
        let (a, b) = ping_pong(&s);
        floor_one_way.add(a).unwrap();
        floor_rtt.add(b).unwrap();
        for (i, &(kind, batch)) in cases.iter().enumerate() {
            hists[i].add(latency(&s, kind, batch)).unwrap();
            rates[i].push(throughput(&s, kind, batch));
        }
    }
    for (name, h) in [
        ("ping-pong one-way", &floor_one_way),
        ("ping-pong rtt/2", &floor_rtt),
    ] {
        let r = Row {
            name: name.into(),
            batch: 1,
            hop_ns: Percentiles::of(h),
            throughput_per_s: None,
        };
        print(&r);
        rows.push(r);
    }
    for (i, &(kind, batch)) in cases.iter().enumerate() {
        let mut rs = rates[i].clone();
        rs.sort_by(|a, b| a.total_cmp(b));
        let r = Row {
            name: kind.name().into(),
            batch,
            hop_ns: Percentiles::of(&hists[i]),
            throughput_per_s: Some(rs[rs.len() / 2]),
        };
        print(&r);
        rows.push(r);
    }
    let p50 = |name: &str| {
        rows.iter()
            .find(|r| r.name == name && r.batch == 1)
            .map(|r| r.hop_ns.p50 as f64)
            .unwrap_or(f64::NAN)
    };
    let floor = p50("ping-pong one-way");
    let spsc = p50("spsc (ours)");
    let aq = p50("ArrayQueue");
    let placement = if floor < 120.0 {
        format!("near placement (one-way floor {floor:.0} ns)")
    } else {
        format!("far placement (one-way floor {floor:.0} ns)")
    };
    println!(
        "spsc/floor = {:.2}x, ArrayQueue/spsc = {:.2}x (medians, single); {placement}",
        spsc / floor,
        aq / spsc
    );
    let summary = Summary {
        provenance,
        load_average_at_end: flowmatch_harness::provenance::load_average(),
        pinned: s.cores.is_some(),
        tsc_ghz: s.clock.ticks_per_ns(),
        message_bytes: std::mem::size_of::<Msg>(),
        capacity: CAPACITY,
        latency_samples: s.lat_rounds,
        throughput_messages: s.thr_msgs,
        spsc_over_floor: spsc / floor,
        arrayqueue_over_spsc: aq / spsc,
        placement,
        rows,
    };
    let out = std::env::var_os("FLOWMATCH_BENCH_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench-results/queues")
        });
    std::fs::create_dir_all(&out).expect("create bench-results/queues");
    let json = serde_json::to_string_pretty(&summary).unwrap() + "\n";
    std::fs::write(out.join("summary.json"), json).expect("write summary.json");
    std::fs::write(out.join("results.md"), markdown(&summary)).expect("write results.md");
    println!("wrote {}", out.join("summary.json").display());
}

fn markdown(s: &Summary) -> String {
    let mut m = String::new();
    m.push_str("# Queue benchmarks: one-way hop latency (ns) and throughput\n\n");
    m.push_str(&s.provenance.markdown());
    m.push('\n');
    m.push_str(&format!(
        "- load average at the end: {}\n- pinned to two cores: {}\n- {}-byte messages, capacity {}, {} latency samples, {} messages for throughput\n- {}\n- SPSC median / ping-pong floor: {:.2}x; ArrayQueue median / SPSC median: {:.2}x\n\n",
        s.load_average_at_end, s.pinned, s.message_bytes, s.capacity,
        s.latency_samples, s.throughput_messages, s.placement, s.spsc_over_floor,
        s.arrayqueue_over_spsc
    ));
    m.push_str("| queue | batch | p50 | p90 | p99 | p99.9 | p99.99 | max | msgs/s |\n");
    m.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &s.rows {
        let p = r.hop_ns;
        m.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.name,
            r.batch,
            p.p50,
            p.p90,
            p.p99,
            p.p99_9,
            p.p99_99,
            p.max,
            r.throughput_per_s
                .map(|t| format!("{:.2}M", t / 1e6))
                .unwrap_or_else(|| "-".into())
        ));
    }
    m
}
