//! The sharded engine under the latency lab: `flowmatch latency --shards N --instruments M`.
//!
//! The stream is the Zipf multi-instrument workload
//! ([`crate::workload::zipf_instruments`]) over `M` instruments; each of `N` shards is an
//! engine thread running a `MultiBook<FastBook>` over the whole instrument table (only the
//! books of its own instruments are ever created), fed by one router per producer that
//! sends each command to shard [`KeyHash`]`(instrument)`. The schedule, the intended-time
//! stamping, the measured window and the achieved rate are the single engine's
//! ([`crate::pipeline::send_loop`]); this module supplies the sharded [`Lanes`] (routers in,
//! every shard's output ring out) and the per-shard recording.
//!
//! # What is reported
//! - per shard: the messages its engine applied, the service time (dequeue -> first event)
//!   p50/p99 of its measured commands and its achieved rate (its measured commands over
//!   the common measured window);
//! - the router's own cost on the client: the time spent in `Router::send_slice` per
//!   message pushed (routing, staging into each shard's ring, one commit per shard
//!   touched), two clock reads per push included, and the routing function alone, timed
//!   over the stream before the run;
//! - the end-to-end (intended send -> first event) percentiles over all shards;
//! - the placement: the client is pinned to the first core, shard `i` to the core after it
//!   (cycling), and whether shards share cores with each other or with the client. When
//!   threads outnumber cores, engines give the core back when idle ([`Idle::Yield`]).
//!
//! The rings are not pre-faulted as the single engine's are (the shards' output rings are
//! inside their engines): the warm-up absorbs those first-touch faults.

use super::hist::{hgrm, PathHistograms, Percentiles};
use super::{Cycle, Load};
use crate::clock::TscClock;
use crate::pipeline::{self, Lanes, Offer, Recorder, Window};
use flowmatch_core::engine::shards::{self, KeyHash, Placement, ShardsConfig};
use flowmatch_core::engine::{EngineConfig, Idle, Output, Router, ShardOutputs, Stamped};
use flowmatch_core::instrument::MultiBookConfig;
use flowmatch_core::{
    FastBook, InstrumentCommand, InstrumentEvent, InstrumentSpec, InstrumentTable, MultiBook,
    Symbol,
};
use std::time::Duration;

/// Most shards `--shards` accepts.
pub const MAX_SHARDS: usize = 64;
/// Most instruments `--instruments` accepts.
pub const MAX_INSTRUMENTS: u32 = 1_000_000;
/// Most `shards x instruments`: every shard holds the whole table (~150 bytes an
/// instrument), so this bounds the tables to ~600 MB.
pub const MAX_TABLE_ENTRIES: usize = 4_000_000;
/// Outputs taken per shard per drain.
const DRAIN_PER_SHARD: usize = 256;
/// Messages the routing function is timed over before the run.
const ROUTE_SAMPLE: usize = 100_000;

/// Checks the sharding options; the error names the option and its range.
pub fn check(shards: usize, instruments: Option<u32>) -> Result<(), String> {
    if !(1..=MAX_SHARDS).contains(&shards) {
        return Err(format!(
            "--shards {shards} is out of range: it must be at least 1 and at most {MAX_SHARDS}"
        ));
    }
    match instruments {
        None if shards > 1 => Err(format!(
            "--shards {shards} needs --instruments M: shards split instruments, and without --instruments there is one book"
        )),
        None => Ok(()),
        Some(m) if !(1..=MAX_INSTRUMENTS).contains(&m) => Err(format!(
            "--instruments {m} is out of range: it must be at least 1 and at most {MAX_INSTRUMENTS}"
        )),
        Some(m) if shards * m as usize > MAX_TABLE_ENTRIES => Err(format!(
            "--shards {shards} x --instruments {m} is {} table entries: at most {MAX_TABLE_ENTRIES} (every shard holds the whole table)",
            shards * m as usize
        )),
        Some(_) => Ok(()),
    }
}

/// One sharded run.
#[derive(Clone, Debug)]
pub struct ShardRunSpec {
    pub shards: usize,
    pub instruments: u32,
    /// Routers (the client sends through them in turn).
    pub producers: usize,
    /// Slots per ingress ring (one per producer per shard).
    pub capacity: usize,
    pub batch: usize,
    /// Idle strategy when every thread has a core of its own (else [`Idle::Yield`]).
    pub idle: Idle,
    /// Cores to pin to, the client on the first (empty: unpinned). Read once per
    /// invocation, before anything pins itself: a pinned thread sees only its own core.
    pub cores: Vec<core_affinity::CoreId>,
    pub load: Load,
    pub duration: Duration,
    pub warmup: Duration,
}

/// What one shard did.
pub struct ShardResult {
    pub shard: usize,
    /// Messages its engine applied (its last sequence number).
    pub messages: u64,
    /// Commands whose first event came back from it.
    pub completed: u64,
    /// Its measured commands over the common measured window.
    pub achieved_rate: f64,
    pub hists: PathHistograms,
    pub core: Option<usize>,
    pub pinned: bool,
    /// Other shards on its core.
    pub sharing_with: usize,
    /// It runs on the client's core.
    pub with_client: bool,
}

/// What one sharded run measured.
pub struct ShardRunResult {
    pub load: Load,
    pub shards: usize,
    pub instruments: u32,
    pub producers: usize,
    pub sent: u64,
    pub completed: u64,
    pub events: u64,
    pub recorded: u64,
    pub achieved_rate: f64,
    pub elapsed_s: f64,
    pub truncated: bool,
    pub per_shard: Vec<ShardResult>,
    /// Intended send -> first event, every shard.
    pub e2e: hdrhistogram::Histogram<u64>,
    /// Client time in `send_slice` per message pushed (two clock reads per push included).
    pub router_send_ns: f64,
    /// The routing function alone, per message.
    pub route_ns: f64,
    /// `describe_placement()` of the shards.
    pub placement: String,
    pub shares_cores: bool,
    pub client_core: Option<usize>,
    pub client_pinned: bool,
    pub idle: Idle,
    /// Books the shards created, in all.
    pub books: usize,
}

/// Instruments `I0`, `I1`, ... with default settings: the table every shard holds.
pub fn table(instruments: u32) -> InstrumentTable {
    let mut t = InstrumentTable::new();
    for i in 0..instruments {
        let symbol = Symbol::new(&format!("I{i}")).expect("I<digits> is a valid symbol");
        t.push(InstrumentSpec::new(symbol))
            .expect("distinct symbols within the table's size");
    }
    t
}

/// The sharded lanes: routers in (used in turn), every shard's output ring out, and the
/// client's time in `send_slice`.
struct ShardLanes<'c, R> {
    routers: Vec<Router<InstrumentCommand, R>>,
    producer: usize,
    outputs: ShardOutputs<InstrumentEvent>,
    clock: &'c TscClock,
    send_ticks: u64,
    routed: u64,
}

impl<R: Fn(&InstrumentCommand) -> usize> Lanes<InstrumentCommand, InstrumentEvent>
    for ShardLanes<'_, R>
{
    #[inline]
    fn push(&mut self, items: &[Stamped<InstrumentCommand>]) -> usize {
        let t0 = self.clock.raw();
        let pushed = self.routers[self.producer].send_slice(items);
        let t1 = self.clock.raw();
        if pushed > 0 {
            self.send_ticks += t1.saturating_sub(t0);
            self.routed += pushed as u64;
        }
        self.producer += 1;
        if self.producer == self.routers.len() {
            self.producer = 0;
        }
        pushed
    }

    #[inline]
    fn drain<Rec: Recorder<InstrumentEvent>>(
        &mut self,
        window: &mut Window,
        recorder: &mut Rec,
    ) -> usize {
        self.outputs.poll(DRAIN_PER_SHARD, |so| {
            let measured = window.see(&so.output);
            recorder.event_from(so.shard, &so.output, measured);
        })
    }
}

/// Per-shard paths of every measured command's first event, and counts.
struct ShardRecorder<'a> {
    clock: &'a TscClock,
    hists: Vec<PathHistograms>,
    completed: Vec<u64>,
    recorded: Vec<u64>,
    events: u64,
}

impl Recorder<InstrumentEvent> for ShardRecorder<'_> {
    fn event(&mut self, o: &Output<InstrumentEvent>, measured: bool) {
        self.event_from(0, o, measured)
    }

    #[inline]
    fn event_from(&mut self, shard: u32, o: &Output<InstrumentEvent>, measured: bool) {
        self.events += 1;
        if o.index == 0 {
            let s = shard as usize;
            self.completed[s] += 1;
            if measured {
                self.recorded[s] += 1;
                self.hists[s].record_output(self.clock, o);
            }
        }
    }
}

/// Nanoseconds the routing function takes per message, over the first messages of
/// `stream`.
fn time_routing(clock: &TscClock, stream: &Cycle<InstrumentCommand>, hash: KeyHash) -> f64 {
    let sample: Vec<InstrumentCommand> = (0..ROUTE_SAMPLE as u64).map(|i| stream.get(i)).collect();
    let mut acc = 0usize;
    let t0 = clock.raw();
    for m in &sample {
        acc = acc.wrapping_add(hash.shard(std::hint::black_box(m).instrument.0));
    }
    let t1 = clock.raw();
    std::hint::black_box(acc);
    clock.delta_ns(t0, t1) as f64 / sample.len() as f64
}

/// Runs `spec.shards` shards under `spec.load`, replaying `stream`.
pub fn run(
    spec: &ShardRunSpec,
    stream: &Cycle<InstrumentCommand>,
    clock: &TscClock,
) -> Result<ShardRunResult, String> {
    check(spec.shards, Some(spec.instruments))?;
    let n = spec.shards;
    let cores = &spec.cores;
    // The client on the first core, shard i on the (i + 1)-th (cycling): one shard and
    // two cores is the single engine's placement.
    let client_core = cores.first().copied();
    let placement = if cores.is_empty() {
        Placement::Unpinned
    } else {
        let mut rotated = cores.to_vec();
        rotated.rotate_left(1 % cores.len());
        Placement::Cores(rotated)
    };
    let crowded =
        !cores.is_empty() && n + 1 > cores.len() || cores.is_empty() && n + 1 > num_cpus();
    let idle = if crowded { Idle::Yield } else { spec.idle };
    let cfg = ShardsConfig {
        shards: n,
        producers: spec.producers,
        capacity: spec.capacity,
        out_capacity: 1 << 14,
        engine: EngineConfig {
            batch: spec.batch,
            idle,
        },
    };
    let hash = KeyHash::new(n).map_err(|e| e.to_string())?;
    let route_ns = time_routing(clock, stream, hash);
    let tbl = table(spec.instruments);
    let mut processors = Vec::with_capacity(n);
    for _ in 0..n {
        processors.push(
            MultiBook::<FastBook>::new(tbl.clone(), MultiBookConfig::default())
                .map_err(|e| e.to_string())?,
        );
    }
    drop(tbl);
    let client_pinned = client_core.is_some_and(core_affinity::set_for_current);
    let route = move |m: &InstrumentCommand| hash.shard(m.instrument.0);
    let (handle, routers, outputs) =
        shards::start(&cfg, processors, clock.source(), route, &placement)
            .map_err(|e| e.to_string())?;
    let placement_text = handle.describe_placement();
    let shares_cores = handle.shares_cores();
    let shard_places = handle.placement().to_vec();

    let offer = match spec.load {
        Load::Open { rate } => Offer::open_for(rate, spec.warmup, spec.duration)
            .giving_up_after(3 * (spec.warmup + spec.duration) + Duration::from_secs(1)),
        Load::Closed => Offer::Closed {
            warmup: spec.warmup,
            measured: spec.duration,
        },
    };
    let mut lanes = ShardLanes {
        routers,
        producer: 0,
        outputs,
        clock,
        send_ticks: 0,
        routed: 0,
    };
    let mut rec = ShardRecorder {
        clock,
        hists: (0..n).map(|_| PathHistograms::default()).collect(),
        completed: vec![0; n],
        recorded: vec![0; n],
        events: 0,
    };
    let filler = stream.get(0);
    let mut sending = pipeline::send_loop(
        offer,
        clock,
        &mut lanes,
        filler,
        |i| stream.get(i),
        &mut rec,
    );
    let window = &mut sending.window;
    let reports = handle
        .shutdown(&mut lanes.outputs, |so| {
            let measured = window.see(&so.output);
            rec.event_from(so.shard, &so.output, measured);
        })
        .map_err(|e| e.to_string())?;
    let throughput = sending.throughput(clock);
    let elapsed_s = throughput.elapsed_s;

    let mut e2e = super::hist::new_histogram();
    let mut per_shard = Vec::with_capacity(n);
    let mut books = 0;
    for (report, hists) in reports.into_iter().zip(rec.hists) {
        let s = report.shard;
        let _ = e2e.add(&hists.e2e);
        books += report.processor.open_books();
        let place = shard_places[s];
        per_shard.push(ShardResult {
            shard: s,
            messages: report.stats.messages,
            completed: rec.completed[s],
            achieved_rate: if elapsed_s > 0.0 {
                rec.recorded[s] as f64 / elapsed_s
            } else {
                0.0
            },
            hists,
            core: place.core,
            pinned: place.pinned,
            sharing_with: place.sharing_with,
            with_client: client_core.is_some_and(|c| place.core == Some(c.id)),
        });
    }
    Ok(ShardRunResult {
        load: spec.load,
        shards: n,
        instruments: spec.instruments,
        producers: spec.producers,
        sent: sending.sent,
        completed: rec.completed.iter().sum(),
        events: rec.events,
        recorded: rec.recorded.iter().sum(),
        achieved_rate: throughput.achieved_rate,
        elapsed_s,
        truncated: sending.truncated,
        per_shard,
        e2e,
        router_send_ns: if lanes.routed > 0 {
            clock.delta_ns(0, lanes.send_ticks) as f64 / lanes.routed as f64
        } else {
            0.0
        },
        route_ns,
        placement: placement_text,
        shares_cores,
        client_core: client_core.map(|c| c.id),
        client_pinned,
        idle,
        books,
    })
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `shards<N>-instruments<M>-<closed|open-RATE>`.
pub fn label(shards: usize, instruments: u32, load: Load) -> String {
    let what = format!("shards{shards}-instruments{instruments}");
    match load {
        Load::Closed => format!("{what}-closed"),
        Load::Open { rate } => format!("{what}-open-{}", rate.round() as u64),
    }
}

/// The `.hgrm` files of a run: `(file name, text)`, the overall e2e then each shard's
/// service time. `header` (the provenance comment lines) opens each.
pub fn hgrm_files(label: &str, r: &ShardRunResult, header: &str) -> Vec<(String, String)> {
    let mut files = vec![(
        format!("{label}-e2e.hgrm"),
        header.to_string() + &hgrm(&r.e2e),
    )];
    for s in &r.per_shard {
        files.push((
            format!("{label}-shard{}-service.hgrm", s.shard),
            header.to_string() + &hgrm(&s.hists.service),
        ));
    }
    files
}

/// One shard's line of the JSON summary.
#[derive(serde::Serialize)]
pub struct ShardJson {
    pub shard: usize,
    pub messages: u64,
    pub completed: u64,
    pub achieved_rate: f64,
    pub service_ns: Percentiles,
    pub queue_ns: Percentiles,
    pub e2e_ns: Percentiles,
    pub core: Option<usize>,
    pub pinned: bool,
    pub sharing_with_shards: usize,
    pub with_client: bool,
}

/// One run of the JSON summary.
#[derive(serde::Serialize)]
pub struct ShardRunJson {
    pub label: String,
    pub load: Load,
    pub shards: usize,
    pub instruments: u32,
    pub producers: usize,
    pub sent: u64,
    pub completed: u64,
    pub events: u64,
    pub recorded: u64,
    pub achieved_rate: f64,
    pub elapsed_s: f64,
    pub truncated: bool,
    pub books_created: usize,
    pub router_send_ns_per_message: f64,
    pub route_fn_ns_per_message: f64,
    pub e2e_ns: Percentiles,
    pub placement: String,
    pub shards_share_cores: bool,
    pub client_core: Option<usize>,
    pub client_pinned: bool,
    pub engine_idle: String,
    pub per_shard: Vec<ShardJson>,
    pub hgrm_files: Vec<String>,
}

impl ShardRunJson {
    pub fn of(label: String, r: &ShardRunResult, files: Vec<String>) -> Self {
        ShardRunJson {
            label,
            load: r.load,
            shards: r.shards,
            instruments: r.instruments,
            producers: r.producers,
            sent: r.sent,
            completed: r.completed,
            events: r.events,
            recorded: r.recorded,
            achieved_rate: r.achieved_rate,
            elapsed_s: r.elapsed_s,
            truncated: r.truncated,
            books_created: r.books,
            router_send_ns_per_message: r.router_send_ns,
            route_fn_ns_per_message: r.route_ns,
            e2e_ns: Percentiles::of(&r.e2e),
            placement: r.placement.clone(),
            shards_share_cores: r.shares_cores,
            client_core: r.client_core,
            client_pinned: r.client_pinned,
            engine_idle: format!("{:?}", r.idle).to_lowercase(),
            per_shard: r
                .per_shard
                .iter()
                .map(|s| ShardJson {
                    shard: s.shard,
                    messages: s.messages,
                    completed: s.completed,
                    achieved_rate: s.achieved_rate,
                    service_ns: Percentiles::of(&s.hists.service),
                    queue_ns: Percentiles::of(&s.hists.queue),
                    e2e_ns: Percentiles::of(&s.hists.e2e),
                    core: s.core,
                    pinned: s.pinned,
                    sharing_with_shards: s.sharing_with,
                    with_client: s.with_client,
                })
                .collect(),
            hgrm_files: files,
        }
    }
}

/// The sharded invocation's summary, written as `shards-summary.json`.
#[derive(serde::Serialize)]
pub struct ShardSummary {
    pub provenance: crate::provenance::Provenance,
    pub load_average_at_end: String,
    pub stream: &'static str,
    pub stream_len: usize,
    pub seed: u64,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub logical_cores: usize,
    pub hgrm_unit: &'static str,
    pub runs: Vec<ShardRunJson>,
}

/// Runs a sharded invocation: the closed-loop run (unless `--no-closed`), then each
/// planned open-loop rate as given (no knee search, no null pipeline, no jitter probe:
/// those are the single engine's), calling `on_run` after each and writing the `.hgrm`
/// files and `shards-summary.json` under `out`. Validates `settings` first.
pub fn session(
    settings: &super::settings::Settings,
    out: &std::path::Path,
    on_run: &mut dyn FnMut(&str, &ShardRunResult),
) -> Result<ShardSummary, super::session::Failure> {
    use super::session::Failure;
    settings.validate().map_err(Failure::Invalid)?;
    let instruments = settings
        .instruments
        .ok_or_else(|| Failure::Invalid("--instruments is needed for a sharded run".into()))?;
    let provenance = crate::provenance::Provenance::capture();
    let cmds = crate::workload::zipf_instruments::generate(
        &crate::workload::zipf_instruments::ZipfConfig {
            instruments,
            zipf_s: 1.0,
        },
        settings.seed,
        settings.stream_len,
    )
    .map_err(Failure::Invalid)?;
    let stream =
        Cycle::new(&cmds).ok_or_else(|| Failure::Failed("the command stream is empty".into()))?;
    std::fs::create_dir_all(out)
        .map_err(|e| Failure::Failed(format!("cannot create {}: {e}", out.display())))?;
    let write = |name: &str, text: &str| {
        std::fs::write(out.join(name), text)
            .map_err(|e| Failure::Failed(format!("cannot write {}: {e}", out.join(name).display())))
    };
    let clock = TscClock::new();
    // Read the core list once, before anything pins itself.
    let cores = if settings.pin {
        core_affinity::get_core_ids().unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut loads = Vec::new();
    if settings.closed {
        loads.push(Load::Closed);
    }
    loads.extend(
        settings
            .planned_rates()
            .into_iter()
            .map(|rate| Load::Open { rate }),
    );
    let header = provenance.comment_lines();
    let mut runs = Vec::new();
    for load in loads {
        let spec = ShardRunSpec {
            shards: settings.shards,
            instruments,
            producers: settings.producers,
            capacity: settings.capacity,
            batch: settings.batch,
            idle: settings.idle,
            cores: cores.clone(),
            load,
            duration: Duration::from_secs_f64(settings.duration_s),
            warmup: Duration::from_secs_f64(settings.warmup_s),
        };
        let r = run(&spec, &stream, &clock).map_err(Failure::Failed)?;
        let label = label(settings.shards, instruments, load);
        on_run(&label, &r);
        let mut names = Vec::new();
        for (name, text) in hgrm_files(&label, &r, &header) {
            write(&name, &text)?;
            names.push(name);
        }
        runs.push(ShardRunJson::of(label, &r, names));
    }
    let summary = ShardSummary {
        logical_cores: provenance.logical_cores,
        provenance,
        load_average_at_end: crate::provenance::load_average(),
        stream: "zipf-instruments",
        stream_len: settings.stream_len,
        seed: settings.seed,
        duration_s: settings.duration_s,
        warmup_s: settings.warmup_s,
        hgrm_unit: "microseconds",
        runs,
    };
    let json = serde_json::to_string_pretty(&summary).expect("summary serialises");
    write("shards-summary.json", &(json + "\n"))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::zipf_instruments::{generate, ZipfConfig};

    #[test]
    fn options_are_checked_by_name() {
        assert!(check(1, None).is_ok());
        assert!(check(2, Some(100)).is_ok());
        assert!(check(0, Some(1)).unwrap_err().contains("--shards 0"));
        assert!(check(65, Some(1)).unwrap_err().contains("--shards 65"));
        assert!(check(2, None).unwrap_err().contains("--instruments"));
        assert!(check(1, Some(0)).unwrap_err().contains("--instruments 0"));
        assert!(check(1, Some(1_000_001))
            .unwrap_err()
            .contains("--instruments 1000001"));
        assert!(check(64, Some(1_000_000)).unwrap_err().contains("x"));
    }

    /// Every command sent is applied by exactly one shard and answered once, each shard
    /// gets the commands of its own instruments (counted independently from the stream
    /// with the same hash), and the routing of a short closed-loop run adds up.
    #[test]
    fn every_command_is_answered_by_its_instruments_shard() {
        let cmds = generate(
            &ZipfConfig {
                instruments: 50,
                zipf_s: 1.0,
            },
            3,
            2_000,
        )
        .unwrap();
        let stream = Cycle::new(&cmds).unwrap();
        let clock = TscClock::new();
        let spec = ShardRunSpec {
            shards: 3,
            instruments: 50,
            producers: 2,
            capacity: 64,
            batch: 16,
            idle: Idle::Yield,
            cores: Vec::new(),
            load: Load::Open { rate: 20_000.0 },
            duration: Duration::from_millis(50),
            warmup: Duration::from_millis(10),
        };
        let r = run(&spec, &stream, &clock).unwrap();
        assert_eq!(r.sent, 1_200, "20k/s for 60 ms");
        assert_eq!(r.completed, r.sent);
        let hash = KeyHash::new(3).unwrap();
        let mut expected = [0u64; 3];
        for i in 0..r.sent {
            expected[hash.shard(stream.get(i).instrument.0)] += 1;
        }
        let got: Vec<u64> = r.per_shard.iter().map(|s| s.messages).collect();
        assert_eq!(got, expected);
        assert_eq!(r.e2e.len(), 1_000, "the 1,000 measured commands");
    }
}
