//! Throughput of matching with a journal, each fsync policy and each writer design
//! (calling thread vs. off-thread through the SPSC ring), against no journal, on one
//! seeded command stream; bytes per command; the matching thread's per-command time and
//! the release latency (append to durable) percentiles.
//!
//! `cargo run --release -p flowmatch-journal --example journal_throughput -- [COMMANDS] [EVERY_COMMANDS] [DIR]`
//! (defaults 1,000,000, 20,000 and the system temporary directory). The `every` runs
//! use the shorter stream: one `fdatasync` per command is slow on any disk.

use flowmatch_core::{BookConfig, Command, CountingSink, FastBook, NewOrder, OrderBook, Side};
use flowmatch_journal::{FsyncPolicy, JournalConfig, ThreadedWriter, Writer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

/// A mixed stream: 60% limit orders around a mid (some crossing), 25% cancels of recent
/// ids, 15% replaces.
fn stream(n: usize) -> Vec<Command> {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut next = 1u64;
    (0..n)
        .map(|_| {
            let r = rng.random_range(0..100);
            let recent = next.saturating_sub(rng.random_range(1..200)).max(1);
            if r < 60 {
                let id = next;
                next += 1;
                let side = if rng.random_bool(0.5) {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let price = match side {
                    Side::Buy => rng.random_range(900..1001),
                    Side::Sell => rng.random_range(999..1100),
                };
                Command::New(NewOrder::limit(
                    id,
                    rng.random_range(1..50),
                    side,
                    price,
                    rng.random_range(1..100),
                ))
            } else if r < 85 {
                Command::Cancel { id: recent }
            } else {
                Command::Replace {
                    id: recent,
                    price: rng.random_range(950..1050),
                    qty: rng.random_range(1..100),
                }
            }
        })
        .collect()
}

enum Journal {
    Off,
    Direct(Writer<Command>),
    Threaded(ThreadedWriter<Command>),
}

impl Journal {
    fn append(&mut self, c: &Command) {
        match self {
            Journal::Off => {}
            Journal::Direct(w) => {
                w.append(c).expect("append");
            }
            Journal::Threaded(t) => {
                t.append(*c).expect("append");
            }
        }
    }

    fn poll(&mut self) -> u64 {
        match self {
            Journal::Off => u64::MAX,
            Journal::Direct(w) => w.durable_seq(),
            Journal::Threaded(t) => t.durable_seq(),
        }
    }

    /// Closes; returns the fsync count.
    fn close(self) -> u64 {
        match self {
            Journal::Off => 0,
            Journal::Direct(mut w) => {
                w.sync().expect("sync");
                let s = w.syncs();
                w.close().expect("close");
                s
            }
            Journal::Threaded(t) => t.close().expect("close").syncs,
        }
    }
}

fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().metadata().unwrap().len()).sum())
        .unwrap_or(0)
}

fn run(design: &str, policy: Option<FsyncPolicy>, cmds: &[Command], base: &std::path::Path) {
    let dir = tempfile::tempdir_in(base).expect("temp dir");
    let cfg = JournalConfig {
        fsync: policy.unwrap_or(FsyncPolicy::None),
        ..JournalConfig::default()
    };
    let mut journal = match (design, policy) {
        (_, None) => Journal::Off,
        ("calling thread", _) => Journal::Direct(Writer::create(dir.path(), cfg).expect("create")),
        _ => Journal::Threaded(
            ThreadedWriter::spawn(Writer::create(dir.path(), cfg).expect("create"), 1 << 16)
                .expect("spawn"),
        ),
    };
    let gated = matches!(policy, Some(FsyncPolicy::Batch { .. } | FsyncPolicy::Every));
    let mut book = FastBook::new(BookConfig::default());
    let mut sink = CountingSink::default();
    let mut per_cmd = Vec::with_capacity(cmds.len());
    let mut appended_at: Vec<Instant> = Vec::with_capacity(cmds.len());
    let mut release = Vec::with_capacity(cmds.len());
    let mut released = 0usize;
    let start = Instant::now();
    for c in cmds {
        let t0 = Instant::now();
        journal.append(c);
        book.apply(c, &mut sink);
        let t1 = Instant::now();
        per_cmd.push((t1 - t0).as_nanos() as u64);
        if gated {
            appended_at.push(t0);
            let durable = journal.poll().min(appended_at.len() as u64) as usize;
            while released < durable {
                release.push((t1 - appended_at[released]).as_nanos() as u64);
                released += 1;
            }
        }
    }
    let loop_time = start.elapsed();
    // Wait for the last records to become durable (the tail of the release latency).
    if gated {
        while (journal.poll() as usize) < cmds.len() {
            if let Journal::Direct(w) = &mut journal {
                w.poll().expect("poll");
            }
            std::thread::sleep(Duration::from_micros(10));
            let now = Instant::now();
            let durable = journal.poll().min(cmds.len() as u64) as usize;
            while released < durable {
                release.push((now - appended_at[released]).as_nanos() as u64);
                released += 1;
            }
        }
    }
    let syncs = journal.close();
    let total = start.elapsed();
    per_cmd.sort_unstable();
    release.sort_unstable();
    let bytes = dir_bytes(dir.path());
    // Reading it all back (every record checked and decoded): the journal half of recovery.
    let read = if policy.is_some() {
        let t = Instant::now();
        let summary = flowmatch_journal::verify::<Command>(dir.path()).expect("verify");
        assert_eq!(summary.records, cmds.len() as u64);
        format!("{:.1}", cmds.len() as f64 / t.elapsed().as_secs_f64() / 1e6)
    } else {
        "-".into()
    };
    let name = policy.map_or("no journal".to_string(), |p| p.to_string());
    let release_txt = if gated {
        format!(
            "{:.1} / {:.1} / {:.1}",
            pct(&release, 0.5) as f64 / 1e3,
            pct(&release, 0.99) as f64 / 1e3,
            pct(&release, 1.0) as f64 / 1e3
        )
    } else {
        "-".into()
    };
    println!(
        "| {} | {} | {} | {:.2} | {:.2} | {} / {} / {} / {} | {} | {} | {:.1} | {} |",
        if policy.is_none() { "-" } else { design },
        name,
        cmds.len(),
        cmds.len() as f64 / total.as_secs_f64() / 1e6,
        cmds.len() as f64 / loop_time.as_secs_f64() / 1e6,
        pct(&per_cmd, 0.5),
        pct(&per_cmd, 0.99),
        pct(&per_cmd, 0.999),
        pct(&per_cmd, 1.0),
        release_txt,
        syncs,
        bytes as f64 / cmds.len() as f64,
        read,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args
        .first()
        .map_or(1_000_000, |s| s.parse().expect("COMMANDS: a count"));
    let n_every: usize = args
        .get(1)
        .map_or(20_000, |s| s.parse().expect("EVERY_COMMANDS: a count"));
    let base = args
        .get(2)
        .map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    if !(1..=100_000_000).contains(&n) || !(1..=n).contains(&n_every) {
        eprintln!("COMMANDS must be in 1..=100000000 and EVERY_COMMANDS in 1..=COMMANDS");
        std::process::exit(2);
    }
    let cmds = stream(n);
    println!(
        "| writer | fsync | commands | Mcmd/s, all durable | matching thread Mcmd/s | matching thread ns p50 / p99 / p99.9 / max | release µs p50 / p99 / max | fdatasyncs | bytes/cmd | read back M rec/s |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    run("-", None, &cmds, &base);
    for design in ["calling thread", "off-thread ring"] {
        for policy in [
            FsyncPolicy::None,
            FsyncPolicy::DEFAULT_BATCH,
            FsyncPolicy::Every,
        ] {
            let stream = if policy == FsyncPolicy::Every {
                &cmds[..n_every]
            } else {
                &cmds[..]
            };
            run(design, Some(policy), stream, &base);
        }
    }
    run("-", None, &cmds, &base);
}
