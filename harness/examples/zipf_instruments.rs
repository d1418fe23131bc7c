//! Multi-instrument throughput, service time and memory, side by side with the single-book
//! `equity-mixed` stream in the same run.
//!
//! `cargo run --release -p flowmatch-harness --example zipf_instruments [COMMANDS [SIZES [COLD_ORDERS]]]`
//! (default 10,000,000 commands per size). For 1, 100, 10,000 and 1,000,000 instruments with
//! Zipf(s = 1) activity (`workload::zipf_instruments`), it replays the stream through a
//! `MultiBook<FastBook>` (cold tier of small slab records, promoted to pooled fast books)
//! whose bound on full books (`max_books`) keeps them within half a GiB, and prints:
//! throughput over an untimed pass (by wall time, and by the thread's time on a CPU, which
//! a loaded machine does not inflate), p50/p99 service time per command in a second, timed
//! pass on fresh books (the harness's TSC clock read around each command; the single-book
//! row pays the same two clock reads), `memory_bytes()` at the end, books created and the
//! share of commands rejected for capacity or unknown id, so cheap rejects are seen, and
//! how often instruments changed tier (promotions, demotions, cold commands that ran on
//! the scratch book). Each size runs twice: `MultiBook::apply` on each command, and
//! `MultiBook::apply_batch` over slices of 64 commands (the engine's default batch), which
//! prefetches entries and books some commands ahead (`core/src/instrument/batch.rs`).
//!
//! An optional second argument, comma-separated instrument counts, runs only those sizes;
//! an optional third, `MultiBookConfig::cold_orders` (the orders a cold book holds before
//! a promotion; default the multi-book's, 16).

use flowmatch_core::instrument::{InstrumentSpec, MultiBookConfig};
use flowmatch_core::{
    BookConfig, CountingSink, Event, FastBook, InstrumentCommand, InstrumentEvent, InstrumentTable,
    MultiBook, OrderBook, RejectReason, Sink, Symbol,
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
    /// Throughput over the thread's time on a CPU, if the kernel reports it.
    cpu_mcps: Option<f64>,
    p50: String,
    p99: String,
    memory: usize,
    books: usize,
    full_books: usize,
    moves: String,
    capacity_share: f64,
    unknown_share: f64,
}

/// How a row feeds the multi-book.
#[derive(Clone, Copy)]
enum Mode {
    /// `MultiBook::apply` on each command.
    OneByOne,
    /// `MultiBook::apply_batch` on slices of `BATCH` commands (the engine's default batch).
    Batch,
}

const BATCH: usize = 64;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = match args.next().map(|a| a.parse()) {
        None => 10_000_000,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("COMMANDS must be an integer");
            std::process::exit(2);
        }
    };
    if !(1..=100_000_000).contains(&n) {
        eprintln!("COMMANDS must be between 1 and 100000000, got {n}");
        std::process::exit(2);
    }
    // Instrument counts, comma-separated (for a quick look at one size).
    let sizes: Vec<u32> = match args.next() {
        None => vec![1, 100, 10_000, 1_000_000],
        Some(list) => match list
            .split(',')
            .map(str::parse)
            .collect::<Result<Vec<u32>, _>>()
        {
            Ok(v) if v.iter().all(|&k| (1..=10_000_000).contains(&k)) => v,
            _ => {
                eprintln!("SIZES must be comma-separated counts in 1..=10000000, got {list}");
                std::process::exit(2);
            }
        },
    };
    // How many orders a cold book holds before promotion (the multi-book's default if
    // not given), to measure the tiers' trade-off.
    let cold_orders: usize = match args.next().map(|a| a.parse()) {
        None => MultiBookConfig::default().cold_orders,
        Some(Ok(k)) => k,
        Some(Err(_)) => {
            eprintln!("COLD_ORDERS must be an integer");
            std::process::exit(2);
        }
    };
    let clock = TscClock::new();
    let mut rows = Vec::new();

    // The single book, equity-mixed: an untimed pass for throughput, a timed one (a fresh
    // book) for the service time.
    {
        let cmds = equity(&EquityConfig::default(), 1, n);
        let SinglePass {
            secs,
            cpu_mcps,
            mut sink,
            memory,
        } = single_book_pass(&cmds, &clock);
        let mut again = FastBook::new(BookConfig::default());
        let mut h = Histogram::<u64>::new(3).unwrap();
        for c in &cmds {
            let a = clock.raw();
            again.apply(c, &mut sink);
            let b = clock.raw();
            let _ = h.record(clock.delta_ns(a, b));
        }
        rows.push(Row {
            name: "single book, equity-mixed".into(),
            mcps: n as f64 / secs / 1e6,
            cpu_mcps,
            p50: h.value_at_quantile(0.5).to_string(),
            p99: h.value_at_quantile(0.99).to_string(),
            memory,
            books: 1,
            full_books: 1,
            moves: "-".into(),
            capacity_share: 0.0,
            unknown_share: 0.0,
        });
    }

    // The single book on the Zipf stream's own per-instrument flow (the 1-instrument
    // stream, instrument dropped): the same command mix as every multi-book row, so the
    // multi-book's overhead is seen apart from the difference between the streams.
    {
        let cmds: Vec<_> = generate(
            &ZipfConfig {
                instruments: 1,
                zipf_s: 1.0,
            },
            1,
            n,
        )
        .expect("valid configuration")
        .into_iter()
        .map(|m| m.cmd)
        .collect();
        let SinglePass {
            secs,
            cpu_mcps,
            memory,
            ..
        } = single_book_pass(&cmds, &clock);
        rows.push(Row {
            name: "single book, the zipf stream's flow (1 instrument, no prefix)".into(),
            mcps: n as f64 / secs / 1e6,
            cpu_mcps,
            p50: "-".into(),
            p99: "-".into(),
            memory,
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
    for &instruments in &sizes {
        let cmds = generate(
            &ZipfConfig {
                instruments,
                zipf_s: 1.0,
            },
            1,
            n,
        )
        .expect("valid configuration");
        for mode in [Mode::OneByOne, Mode::Batch] {
            let fresh = || {
                let mut table = InstrumentTable::new();
                for i in 0..instruments {
                    table
                        .push(InstrumentSpec::new(Symbol::new(&format!("I{i}")).unwrap()))
                        .unwrap();
                }
                // Full books within half a GiB, each allowed to double; the cold slab
                // (576 bytes per instrument with orders) and the table fit in the other half.
                let max_books = ((GIB / 2) / (2 * per_book)).clamp(1, instruments as usize);
                let cfg = MultiBookConfig {
                    max_books,
                    cold_orders,
                    ..MultiBookConfig::default()
                };
                MultiBook::<FastBook>::new(table, cfg).unwrap_or_else(|e| {
                    eprintln!("{e}");
                    std::process::exit(2)
                })
            };
            // The untimed pass: throughput.
            let mut multi = fresh();
            let mut tally = Tally::default();
            let cpu0 = on_cpu_ns();
            let t0 = clock.raw();
            match mode {
                Mode::OneByOne => {
                    for c in &cmds {
                        multi.apply(c, &mut tally);
                    }
                }
                Mode::Batch => batched_pass(&mut multi, &cmds, &mut tally),
            }
            let secs = clock.delta_ns(t0, clock.raw()) as f64 / 1e9;
            let cpu_mcps = per_cpu_second(n, cpu0, on_cpu_ns());
            std::hint::black_box(&tally);
            // The timed pass, one by one only (a batch has no per-command service time).
            let (p50, p99) = match mode {
                Mode::OneByOne => {
                    let mut again = fresh();
                    let mut sink = Tally::default();
                    let mut h = Histogram::<u64>::new(3).unwrap();
                    for c in &cmds {
                        let a = clock.raw();
                        again.apply(c, &mut sink);
                        let b = clock.raw();
                        let _ = h.record(clock.delta_ns(a, b));
                    }
                    (
                        h.value_at_quantile(0.5).to_string(),
                        h.value_at_quantile(0.99).to_string(),
                    )
                }
                Mode::Batch => ("-".into(), "-".into()),
            };
            rows.push(Row {
                name: format!(
                    "{instruments} instruments, zipf s=1{}",
                    match mode {
                        Mode::OneByOne => "",
                        Mode::Batch => ", apply_batch of 64",
                    }
                ),
                mcps: n as f64 / secs / 1e6,
                cpu_mcps,
                p50,
                p99,
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
        "cargo run --release -p flowmatch-harness --example zipf_instruments {n}{}",
        if sizes == [1, 100, 10_000, 1_000_000]
            && cold_orders == MultiBookConfig::default().cold_orders
        {
            String::new()
        } else {
            format!(
                " {}{}",
                sizes
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                if cold_orders == MultiBookConfig::default().cold_orders {
                    String::new()
                } else {
                    format!(" {cold_orders}")
                }
            )
        }
    ));
    println!("# Many instruments with Zipf activity, side by side with the single book\n");
    println!(
        "{n} commands per row, one run, rows in order (the single book first; `vs single` is against that first row, equity-mixed, a deeper book than the Zipf stream's at most sixteen orders per instrument; the second row is the single book on the Zipf stream's own flow, the same command mix as the multi-book rows). Throughput: commands over the wall time of an untimed pass (no clock read per command, in every row), and over the thread's time on a CPU in that pass (`/proc/thread-self/schedstat`: on a loaded machine the wall time includes waiting for a core); p50/p99: TSC service time per command (two clock reads included) in a second pass on fresh books, for the rows that apply commands one by one (`apply_batch` rows: `-`, a batch has no per-command time). Memory: `MultiBook::memory_bytes()` at the end (table, entries, cold slab, full books in use and pooled, scratch books). A fast book made for a promotion starts at {per_book} bytes.\n"
    );
    println!("| stream | Mcmd/s | vs single | Mcmd/s on CPU | vs single on CPU | p50 ns | p99 ns | memory MiB | books at end | full books | promoted / demoted / scratch runs | capacity rejects | unknown-id rejects |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let base = rows[0].mcps;
    let cpu_base = rows[0].cpu_mcps;
    for r in &rows {
        println!(
            "| {} | {:.2} | {:.0}% | {} | {} | {} | {} | {:.1} | {} | {} | {} | {:.2}% | {:.2}% |",
            r.name,
            r.mcps,
            100.0 * r.mcps / base,
            r.cpu_mcps.map_or("-".into(), |c| format!("{c:.2}")),
            match (r.cpu_mcps, cpu_base) {
                (Some(c), Some(b)) => format!("{:.0}%", 100.0 * c / b),
                _ => "-".into(),
            },
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

/// This thread's time on a CPU so far in nanoseconds (`/proc/thread-self/schedstat`, first
/// field), or `None` where the kernel does not report it. On a shared machine the wall
/// time of a pass includes the time the thread waited for a core; this does not.
/// What one untimed pass through a fresh single book measured.
struct SinglePass {
    /// Wall seconds.
    secs: f64,
    /// Millions of commands per CPU second, when the thread's CPU time is readable.
    cpu_mcps: Option<f64>,
    /// The pass's sink, which the caller may go on using.
    sink: CountingSink,
    /// The book's memory at the end.
    memory: usize,
}

/// One untimed pass of `cmds` through a fresh single book (no clock read per command).
/// The untimed batched pass, out of line so that a profiler can collect it alone
/// (`valgrind --tool=callgrind --toggle-collect='*batched_pass*'`).
#[inline(never)]
fn batched_pass(multi: &mut MultiBook<FastBook>, cmds: &[InstrumentCommand], tally: &mut Tally) {
    for batch in cmds.chunks(BATCH) {
        multi.apply_batch(batch, tally);
    }
}

fn single_book_pass(cmds: &[flowmatch_core::Command], clock: &TscClock) -> SinglePass {
    let mut book = FastBook::new(BookConfig::default());
    let mut sink = CountingSink::default();
    let cpu0 = on_cpu_ns();
    let t0 = clock.raw();
    for c in cmds {
        book.apply(c, &mut sink);
    }
    let secs = clock.delta_ns(t0, clock.raw()) as f64 / 1e9;
    let cpu_mcps = per_cpu_second(cmds.len(), cpu0, on_cpu_ns());
    std::hint::black_box(&sink);
    SinglePass {
        secs,
        cpu_mcps,
        sink,
        memory: book.memory_bytes(),
    }
}

fn on_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Millions of commands per second of CPU time between two `on_cpu_ns` readings.
fn per_cpu_second(n: usize, before: Option<u64>, after: Option<u64>) -> Option<f64> {
    let ns = after?.checked_sub(before?)?;
    (ns > 0).then(|| n as f64 / (ns as f64 / 1e9) / 1e6)
}
