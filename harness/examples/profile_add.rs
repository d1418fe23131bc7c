//! A profiling driver for the `add` benchmark of `benches/book.rs`: a fresh fast book
//! (default configuration) takes 10,000 non-crossing limits over 100 levels a side, the
//! same orders as that benchmark, so `valgrind --tool=callgrind --toggle-collect='*drive*'`
//! and `/usr/bin/time -v` (minor page faults) see what it measures.
//!
//! `cargo run --release -p flowmatch-harness --example profile_add -- [ROUNDS]`
//! (each round a new book; default 1).

use flowmatch_core::*;

fn adds(n: u64) -> Vec<Command> {
    (0..n)
        .map(|i| {
            let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
            let off = (i / 2 % 100) as i64;
            let price = if side == Side::Buy {
                9_999 - off
            } else {
                10_001 + off
            };
            Command::New(NewOrder::limit(i + 1, (i % 7) as u32, side, price, 100))
        })
        .collect()
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let cmds = adds(10_000);
    let mut total = std::time::Duration::ZERO;
    let mut sink = CountingSink::default();
    for _ in 0..rounds {
        let mut book = FastBook::new(BookConfig::default());
        let t = std::time::Instant::now();
        drive(&mut book, &cmds, &mut sink);
        total += t.elapsed();
    }
    eprintln!(
        "add 10k x {rounds}: {:.3} ms per round ({} events)",
        total.as_secs_f64() * 1e3 / rounds as f64,
        sink.events
    );
}

/// The measured loop, kept out of line so profilers can attribute to it.
#[inline(never)]
fn drive(book: &mut FastBook, cmds: &[Command], sink: &mut CountingSink) {
    for c in cmds {
        book.apply(c, sink);
    }
}
