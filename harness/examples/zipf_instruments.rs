//! Multi-instrument throughput, service time and memory, side by side with the single-book
//! `equity-mixed` stream in the same run.
//!
//! `cargo run --release -p flowmatch-harness --example zipf_instruments [COMMANDS]`
//! (default 10,000,000 commands per size). For 1, 100, 10,000 and 1,000,000 instruments with
//! Zipf(s = 1) activity (`workload::zipf_instruments`), it replays the stream through a
//! `MultiBook<FastBook>` (cold tier of small slab records, promoted to pooled fast books)
//! whose bound on full books (`max_books`) keeps them within half a GiB, and prints: throughput (commands over the wall time of the timed pass),
//! p50/p99 service time per command (the harness's TSC clock read around each command;
//! both rows pay the same two clock reads), `memory_bytes()` at the end, books created and
//! the share of commands rejected for capacity or unknown id, so cheap rejects are seen,
//! and how often instruments changed tier (promotions, demotions, cold commands that
//! ran on the scratch book). Each size runs twice: applying commands one by one, and with
//! `MultiBook::prefetch_entry`/`prefetch_book` hints issued 16 and 8 commands ahead, as an
//! engine that pops a batch can (the lookahead adds its hint instructions to the time).

use flowmatch_core::instrument::{InstrumentSpec, MultiBookConfig};
use flowmatch_core::{
    BookConfig, CountingSink, Event, FastBook, InstrumentEvent, InstrumentTable, MultiBook,
    OrderBook, RejectReason, Sink, Symbol,
};
use flowmatch_harness::clock::TscClock;
use flowmatch_harness::provenance::Provenance;
use flowmatch_harness::workload::equity::{generate as equity, EquityConfig};
use flowmatch_harness::workload::zipf_instruments::{generate, ZipfConfig};
use hdrhistogram::Histogram;

const GIB: usize = 1 << 30;

#[derive(Default)]
struct Tally {
    events: u64,
    capacity: u64,
    unknown_id: u64,
}

impl Sink<InstrumentEvent> for Tally {
    fn event(&mut self, e: InstrumentEvent) {
        self.events += 1;
        match e.event {
            Event::Reject {
                reason: RejectReason::CapacityExceeded,
                ..
            } => self.capacity += 1,
            Event::Reject {
                reason: RejectReason::UnknownId,
                ..
            } => self.unknown_id += 1,
            _ => {}
        }
    }
}

struct Row {
    name: String,
    mcps: f64,
    p50: u64,
    p99: u64,
    memory: usize,
    books: usize,
    full_books: usize,
    moves: String,
    capacity_share: f64,
    unknown_share: f64,
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("COMMANDS must be an integer"))
        .unwrap_or(10_000_000);
    if !(1..=100_000_000).contains(&n) {
        eprintln!("COMMANDS must be between 1 and 100000000, got {n}");
        std::process::exit(2);
    }
    let clock = TscClock::new();
    let mut rows = Vec::new();

    // The single book, equity-mixed.
    {
        let cmds = equity(&EquityConfig::default(), 1, n);
        let mut book = FastBook::new(BookConfig::default());
        let mut sink = CountingSink::default();
        let mut h = Histogram::<u64>::new(3).unwrap();
        let t0 = clock.raw();
        for c in &cmds {
            let a = clock.raw();
            book.apply(c, &mut sink);
            let b = clock.raw();
            let _ = h.record(clock.delta_ns(a, b));
        }
        let secs = clock.delta_ns(t0, clock.raw()) as f64 / 1e9;
        rows.push(Row {
            name: "single book, equity-mixed".into(),
            mcps: n as f64 / secs / 1e6,
            p50: h.value_at_quantile(0.5),
            p99: h.value_at_quantile(0.99),
            memory: book.memory_bytes(),
            books: 1,
            full_books: 1,
            moves: "-".into(),
            capacity_share: 0.0,
            unknown_share: 0.0,
        });
    }

    let per_book = FastBook::new(BookConfig {
        capacity: MultiBookConfig::default().book_capacity,
        ..BookConfig::default()
    })
    .memory_bytes();
    for instruments in [1u32, 100, 10_000, 1_000_000] {
        let cmds = generate(
            &ZipfConfig {
                instruments,
                zipf_s: 1.0,
            },
            1,
            n,
        )
        .expect("valid configuration");
        for lookahead in [false, true] {
            let mut table = InstrumentTable::new();
            for i in 0..instruments {
                table
                    .push(InstrumentSpec::new(Symbol::new(&format!("I{i}")).unwrap()))
                    .unwrap();
            }
            // Full books within half a GiB, each allowed to double; the cold slab (264 bytes
            // per instrument with orders) and the table fit in the other half.
            let max_books = ((GIB / 2) / (2 * per_book)).clamp(1, instruments as usize);
            let cfg = MultiBookConfig {
                max_books,
                ..MultiBookConfig::default()
            };
            let mut multi = MultiBook::<FastBook>::new(table, cfg).unwrap();
            let mut tally = Tally::default();
            let mut h = Histogram::<u64>::new(3).unwrap();
            let t0 = clock.raw();
            for (i, c) in cmds.iter().enumerate() {
                if lookahead {
                    // As an engine popping a batch can: the entry 16 commands ahead, the
                    // book 8 ahead (the entry is in cache by then).
                    if let Some(next) = cmds.get(i + 16) {
                        multi.prefetch_entry(next.instrument);
                    }
                    if let Some(next) = cmds.get(i + 8) {
                        multi.prefetch_book(next.instrument);
                    }
                }
                let a = clock.raw();
                multi.apply(c, &mut tally);
                let b = clock.raw();
                let _ = h.record(clock.delta_ns(a, b));
            }
            let secs = clock.delta_ns(t0, clock.raw()) as f64 / 1e9;
            rows.push(Row {
                name: format!(
                    "{instruments} instruments, zipf s=1{}",
                    if lookahead {
                        ", prefetch 8/16 ahead"
                    } else {
                        ""
                    }
                ),
                mcps: n as f64 / secs / 1e6,
                p50: h.value_at_quantile(0.5),
                p99: h.value_at_quantile(0.99),
                memory: multi.memory_bytes(),
                books: multi.open_books(),
                full_books: multi.full_books(),
                moves: {
                    let m = multi.tier_moves();
                    format!("{} / {} / {}", m.promotions, m.demotions, m.scratch_runs)
                },
                capacity_share: tally.capacity as f64 / n as f64,
                unknown_share: tally.unknown_id as f64 / n as f64,
            });
        }
    }

    let provenance = Provenance::capture_with_command(format!(
        "cargo run --release -p flowmatch-harness --example zipf_instruments {n}"
    ));
    println!("# Many instruments with Zipf activity, side by side with the single book\n");
    println!(
        "{n} commands per row, one run, rows in order (the single book first). Throughput: commands over the wall time of the pass; p50/p99: TSC service time per command (two clock reads included, in every row). Memory: `MultiBook::memory_bytes()` at the end (table, entries, cold slab, full books in use and pooled, scratch books). A fast book made for a promotion starts at {per_book} bytes.\n"
    );
    println!("| stream | Mcmd/s | vs single | p50 ns | p99 ns | memory MiB | books at end | full books | promoted / demoted / scratch runs | capacity rejects | unknown-id rejects |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let base = rows[0].mcps;
    for r in &rows {
        println!(
            "| {} | {:.2} | {:.0}% | {} | {} | {:.1} | {} | {} | {} | {:.2}% | {:.2}% |",
            r.name,
            r.mcps,
            100.0 * r.mcps / base,
            r.p50,
            r.p99,
            r.memory as f64 / (1 << 20) as f64,
            r.books,
            r.full_books,
            r.moves,
            100.0 * r.capacity_share,
            100.0 * r.unknown_share
        );
    }
    println!();
    print!("{}", provenance.markdown());
}
