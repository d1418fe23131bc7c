//! A profiling driver: one workload's stream through one book, nothing else, so
//! `perf record` or `valgrind --tool=callgrind` see only the book.
//!
//! `cargo run --release -p flowmatch-harness --example profile_mixed -- [fast|reference] [N] [WORKLOAD]`
//!
//! `WORKLOAD` is a name from [`Workload::ALL`] (default `equity-mixed`).

use flowmatch_core::*;
use flowmatch_harness::workload::Workload;

fn main() {
    let mut args = std::env::args().skip(1);
    let book = args.next().unwrap_or_else(|| "fast".into());
    let n: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let name = args.next().unwrap_or_else(|| "equity-mixed".into());
    let Some(workload) = Workload::from_name(&name) else {
        let names: Vec<_> = Workload::ALL.iter().map(|w| w.name()).collect();
        eprintln!("unknown workload {name:?}; one of: {}", names.join(", "));
        std::process::exit(2);
    };
    let cmds = workload.generate(1, n);
    let mut sink = CountingSink::default();
    let t = std::time::Instant::now();
    match book.as_str() {
        "reference" => drive(
            &mut ReferenceBook::new(BookConfig::default()),
            &cmds,
            &mut sink,
        ),
        _ => drive(&mut FastBook::new(BookConfig::default()), &cmds, &mut sink),
    }
    let dt = t.elapsed();
    eprintln!(
        "{book} {name}: {n} commands in {:.1} ms = {:.1} M/s ({} events, {} trades)",
        dt.as_secs_f64() * 1e3,
        n as f64 / dt.as_secs_f64() / 1e6,
        sink.events,
        sink.trades
    );
}

/// The measured loop, kept out of line so profilers can attribute to it
/// (`valgrind --tool=callgrind --toggle-collect='*drive*'`).
#[inline(never)]
fn drive<B: OrderBook>(book: &mut B, cmds: &[Command], sink: &mut CountingSink) {
    for c in cmds {
        book.apply(c, sink);
    }
}
