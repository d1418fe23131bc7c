//! A profiling driver: one workload's stream through one book, nothing else, so
//! `perf record` or `valgrind --tool=callgrind` see only the book.
//!
//! `cargo run --release -p flowmatch-harness --example profile_mixed -- [fast|reference] [N] [WORKLOAD] [REPEATS]`
//!
//! `WORKLOAD` is a name from [`Workload::ALL`] (default `equity-mixed`), or
//! `deep-ladder-100k`, the criterion benchmark's ladder (100,000 levels a cycle). With
//! `REPEATS` above 1 the stream runs that many times, each through a new book of the
//! criterion benchmark's capacity (2^17) made in the same process, as criterion's
//! iterations are: a profile of the steady state (memory the allocator already holds),
//! not of a fresh process's first page faults. The median run is printed.

use flowmatch_core::*;
use flowmatch_harness::workload::{deep_ladder, Workload};

fn main() {
    let mut args = std::env::args().skip(1);
    let book = args.next().unwrap_or_else(|| "fast".into());
    let n: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let name = args.next().unwrap_or_else(|| "equity-mixed".into());
    let repeats: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1).max(1);
    let cmds = if name == "deep-ladder-100k" {
        let cfg = deep_ladder::DeepLadderConfig {
            levels: 100_000,
            ..Default::default()
        };
        deep_ladder::generate_with(&cfg, 0, n)
    } else {
        let Some(workload) = Workload::from_name(&name) else {
            let names: Vec<_> = Workload::ALL.iter().map(|w| w.name()).collect();
            eprintln!(
                "unknown workload {name:?}; one of: deep-ladder-100k, {}",
                names.join(", ")
            );
            std::process::exit(2);
        };
        workload.generate(1, n)
    };
    let cfg = if repeats > 1 {
        BookConfig {
            capacity: 1 << 17,
            ..Default::default()
        }
    } else {
        BookConfig::default()
    };
    let mut times = Vec::with_capacity(repeats);
    let mut sink = CountingSink::default();
    for _ in 0..repeats {
        sink = CountingSink::default();
        // The book is made before the clock starts, as criterion's setup makes it.
        let t = match book.as_str() {
            "reference" => timed(ReferenceBook::new(cfg), &cmds, &mut sink),
            _ => timed(FastBook::new(cfg), &cmds, &mut sink),
        };
        times.push(t);
    }
    times.sort();
    let dt = times[times.len() / 2];
    eprintln!(
        "{book} {name}: {n} commands in {:.2} ms (median of {repeats}) = {:.1} M/s ({} events, {} trades)",
        dt.as_secs_f64() * 1e3,
        n as f64 / dt.as_secs_f64() / 1e6,
        sink.events,
        sink.trades
    );
}

/// Time of one `drive` through `book` (its drop is not timed).
fn timed<B: OrderBook>(
    mut book: B,
    cmds: &[Command],
    sink: &mut CountingSink,
) -> std::time::Duration {
    let t = std::time::Instant::now();
    drive(&mut book, cmds, sink);
    t.elapsed()
}

/// The measured loop, kept out of line so profilers can attribute to it
/// (`valgrind --tool=callgrind --toggle-collect='*drive*'`).
#[inline(never)]
fn drive<B: OrderBook>(book: &mut B, cmds: &[Command], sink: &mut CountingSink) {
    for c in cmds {
        book.apply(c, sink);
    }
}
