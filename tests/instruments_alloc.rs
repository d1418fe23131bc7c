//! The engine's hot path with a multi-book over many instruments — pop, route to the
//! instrument's book, match, publish — performs no heap allocation once the warm-up has
//! taken the cold slab, the full books and their pools to the size the stream needs:
//! instruments promote, demote and reuse pooled books in the measured window too. Same counting
//! allocator as `hot_path_alloc.rs`; its own binary because a global allocator is per
//! binary.

use flowmatch_core::engine::{Engine, EngineConfig, Output, Stamped};
use flowmatch_core::ingress::{ingress, spsc, QueueKind};
use flowmatch_core::instrument::{InstrumentSpec, MultiBookConfig};
use flowmatch_core::{
    Command, FastBook, InstrumentCommand, InstrumentEvent, InstrumentId, InstrumentTable,
    MultiBook, Sink, Symbol,
};
use flowmatch_harness::workload::zipf_instruments::{generate, ZipfConfig};
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations_in, assert_counter_counts};
use std::sync::atomic::{AtomicU64, Ordering};

type Eng = Engine<InstrumentCommand, MultiBook<FastBook>, fn() -> u64>;

fn feed(
    cmds: &[InstrumentCommand],
    tx: &mut flowmatch_core::ingress::Sender<Stamped<InstrumentCommand>>,
    eng: &mut Eng,
    out: &mut spsc::Consumer<Output<InstrumentEvent>>,
) -> u64 {
    let mut events = 0u64;
    let blank = Stamped::bare(InstrumentCommand {
        instrument: InstrumentId(0),
        cmd: Command::Cancel { id: 0 },
    });
    let mut chunk = [blank; 16];
    let mut i = 0;
    while i < cmds.len() {
        let k = (cmds.len() - i).min(chunk.len());
        for (slot, c) in chunk[..k].iter_mut().zip(&cmds[i..i + k]) {
            *slot = Stamped::bare(*c);
        }
        i += tx.push_slice(&chunk[..k]);
        eng.step();
        events += out.pop_batch(usize::MAX, |o| {
            std::hint::black_box(o);
        }) as u64;
    }
    while eng.step() > 0 {}
    events
        + out.pop_batch(usize::MAX, |o| {
            std::hint::black_box(o);
        }) as u64
}

fn fake_clock() -> u64 {
    static T: AtomicU64 = AtomicU64::new(0);
    T.fetch_add(1, Ordering::Relaxed)
}

const INSTRUMENTS: u32 = 2_000;
const WARM: usize = 800_000;
const MEASURED: usize = 200_000;

/// The warm-up and the measured window (commands of instruments the warm-up gave a book),
/// the number of those books, and a fresh multi-book over the table.
fn stream(
    (keep_busy, max_books, cold_orders): Tiers,
) -> (
    Vec<InstrumentCommand>,
    Vec<InstrumentCommand>,
    usize,
    MultiBook<FastBook>,
) {
    let cfg = ZipfConfig {
        instruments: INSTRUMENTS,
        zipf_s: 1.0,
    };
    let all = generate(&cfg, 11, WARM + MEASURED).unwrap();
    let (warm, rest) = all.split_at(WARM);
    // The measured window keeps only instruments whose book the warm-up created (a book is
    // made by its instrument's first order: that allocation is its warm-up).
    let mut has_book = vec![false; INSTRUMENTS as usize];
    for c in warm {
        if matches!(c.cmd, Command::New(_)) {
            has_book[c.instrument.index()] = true;
        }
    }
    let measured: Vec<InstrumentCommand> = rest
        .iter()
        .copied()
        .filter(|c| has_book[c.instrument.index()])
        .collect();
    let books = has_book.iter().filter(|b| **b).count();
    assert!(books > 1_900, "{books}");
    assert!(measured.len() > MEASURED * 99 / 100);

    let mut table = InstrumentTable::new();
    for i in 0..INSTRUMENTS {
        table
            .push(InstrumentSpec::new(Symbol::new(&format!("I{i}")).unwrap()))
            .unwrap();
    }
    let multi = MultiBook::<FastBook>::new(
        table,
        MultiBookConfig {
            book_capacity: 64,
            keep_busy,
            max_books,
            cold_orders,
            ..MultiBookConfig::default()
        },
    )
    .unwrap();
    (warm.to_vec(), measured, books, multi)
}

/// `keep_busy`, `max_books` and `cold_orders` of a run.
type Tiers = (u32, usize, usize);
/// Always demote (`keep_busy: u32::MAX`): the demote-and-reuse path, with the default
/// bound on full books far away. Cold books of 8 orders: the Zipf stream rests at most 16
/// per instrument, so at the default 16 none would ever be promoted.
const ALWAYS_DEMOTE: Tiers = (u32::MAX, 1_000_000, 8);
/// The default demotion hysteresis (busy books stay with their instruments, so new ones
/// are made until `max_books`): warm-up ends at the bound, here 256 full books, well
/// inside the warm-up; past it a promotion takes back a waiting book or is refused.
const KEEP_BUSY_AT_BOUND: Tiers = (64, 256, 8);
/// The defaults: every book of this stream stays in the cold tier (16 orders).
const DEFAULTS: Tiers = (64, 1_000_000, 16);

#[test]
fn many_instruments_allocate_nothing_after_warmup() {
    for tiers in [ALWAYS_DEMOTE, KEEP_BUSY_AT_BOUND, DEFAULTS] {
        engine_allocates_nothing_after_warmup(tiers);
        apply_batch_allocates_nothing_after_warmup(tiers);
    }
}

/// One measured window through the engine (the counter is shared: windows run one after
/// the other, from the one test above).
fn engine_allocates_nothing_after_warmup(tiers: Tiers) {
    let (warm, measured, books, multi) = stream(tiers);
    let warm = &warm[..];
    let (mut txs, rx) = ingress::<Stamped<InstrumentCommand>>(QueueKind::Spsc, 1, 1024).unwrap();
    let (out_tx, mut out_rx) = spsc::channel::<Output<InstrumentEvent>>(1 << 16);
    let mut eng: Eng = Engine::new(
        rx,
        out_tx,
        multi,
        fake_clock as fn() -> u64,
        EngineConfig::default(),
    );
    let warm_events = feed(warm, &mut txs[0], &mut eng, &mut out_rx);
    assert!(warm_events >= WARM as u64);
    let (events, allocs) = allocations_in(|| feed(&measured, &mut txs[0], &mut eng, &mut out_rx));
    assert!(events >= measured.len() as u64, "{events}");
    assert_counter_counts();
    assert_eq!(
        allocs,
        0,
        "{allocs} heap allocations in {} commands over {books} books after warm-up",
        measured.len()
    );
}

/// `MultiBook::apply_batch` (its prefetch hints and all), called directly on batches of
/// 64, allocates nothing either once warmed up. Called from the test above, not a test of
/// its own: the allocation counter is shared, so two measured windows must not overlap.
fn apply_batch_allocates_nothing_after_warmup(tiers: Tiers) {
    struct Count(u64);
    impl Sink<InstrumentEvent> for Count {
        fn event(&mut self, e: InstrumentEvent) {
            std::hint::black_box(e);
            self.0 += 1;
        }
    }
    let (warm, measured, books, mut multi) = stream(tiers);
    let mut sink = Count(0);
    for batch in warm.chunks(64) {
        multi.apply_batch(batch, &mut sink);
    }
    assert!(sink.0 >= WARM as u64);
    let ((), allocs) = allocations_in(|| {
        for batch in measured.chunks(64) {
            multi.apply_batch(batch, &mut sink);
        }
    });
    assert!(sink.0 >= (WARM + measured.len()) as u64);
    assert_counter_counts();
    assert_eq!(
        allocs,
        0,
        "{allocs} heap allocations in {} batched commands over {books} books after warm-up",
        measured.len()
    );
}
