//! One pass of the Zipf instrument stream through one consumer, for callgrind: the pass is
//! `run_pass` (never inlined), so `--toggle-collect='*run_pass*'` counts the pass alone,
//! not the stream's generation.
//!
//! `cargo run --release -p flowmatch-harness --example instruments_profile MODE COMMANDS
//! INSTRUMENTS`, MODE one of
//! - `single`: a `FastBook` with the default configuration (capacity 65,536), on the
//!   stream's commands with the instrument dropped (as `zipf_instruments`' second row);
//! - `single16`: the same with capacity `MultiBookConfig::default().book_capacity`, the
//!   size of the multi-book's full books, so the book's own cost is seen apart;
//! - `multi`: `MultiBook::apply` on each command;
//! - `batch`: `MultiBook::apply_batch` on slices of 64.
//!
//! E.g. `valgrind --tool=callgrind --toggle-collect='*run_pass*' --cache-sim=yes
//! target/release/examples/instruments_profile multi 200000 10000`; divide by COMMANDS.

use flowmatch_core::instrument::{InstrumentSpec, MultiBookConfig};
use flowmatch_core::{
    BookConfig, Command, CountingSink, Event, FastBook, InstrumentCommand, InstrumentEvent,
    InstrumentTable, MultiBook, OrderBook, Sink, Symbol,
};
use flowmatch_harness::workload::zipf_instruments::{generate, ZipfConfig};

/// Counts events as `CountingSink` does, for instrument events.
#[derive(Default)]
struct Count {
    events: u64,
    trades: u64,
}

impl Sink<InstrumentEvent> for Count {
    #[inline]
    fn event(&mut self, e: InstrumentEvent) {
        self.events += 1;
        if let Event::Trade { .. } = e.event {
            self.trades += 1;
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || -> ! {
        eprintln!("usage: instruments_profile single|single16|multi|batch COMMANDS INSTRUMENTS");
        std::process::exit(2)
    };
    if args.len() != 3 {
        usage();
    }
    let n: usize = args[1].parse().unwrap_or_else(|_| usage());
    let instruments: u32 = args[2].parse().unwrap_or_else(|_| usage());
    if n == 0 || instruments == 0 {
        usage();
    }
    let msgs = generate(
        &ZipfConfig {
            instruments,
            zipf_s: 1.0,
        },
        1,
        n,
    )
    .unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let events = match args[0].as_str() {
        "single" | "single16" => {
            let cmds: Vec<Command> = msgs.iter().map(|m| m.cmd).collect();
            let capacity = if args[0] == "single" {
                BookConfig::default().capacity
            } else {
                MultiBookConfig::default().book_capacity
            };
            let mut book = FastBook::new(BookConfig {
                capacity,
                ..BookConfig::default()
            });
            let mut sink = CountingSink::default();
            run_pass_single(&mut book, &cmds, &mut sink);
            sink.events
        }
        "multi" | "batch" => {
            let mut table = InstrumentTable::new();
            for i in 0..instruments {
                let symbol = Symbol::new(&format!("I{i}")).expect("a valid symbol");
                table
                    .push(InstrumentSpec::new(symbol))
                    .expect("room in the table");
            }
            let mut multi = MultiBook::<FastBook>::new(table, MultiBookConfig::default())
                .expect("the default configuration");
            let mut sink = Count::default();
            run_pass_multi(&mut multi, &msgs, args[0] == "batch", &mut sink);
            eprintln!(
                "open books {}, full books {}, {:?}, memory {} bytes",
                multi.open_books(),
                multi.full_books(),
                multi.tier_moves(),
                multi.memory_bytes()
            );
            sink.events
        }
        _ => usage(),
    };
    println!("{n} commands, {events} events");
}

#[inline(never)]
fn run_pass_single(book: &mut FastBook, cmds: &[Command], sink: &mut CountingSink) {
    for c in cmds {
        book.apply(c, sink);
    }
}

#[inline(never)]
fn run_pass_multi(
    multi: &mut MultiBook<FastBook>,
    msgs: &[InstrumentCommand],
    batch: bool,
    sink: &mut Count,
) {
    if batch {
        for b in msgs.chunks(64) {
            multi.apply_batch(b, sink);
        }
    } else {
        for m in msgs {
            multi.apply(m, sink);
        }
    }
}
