//! Event mix of a workload through the fast book: how much of a stream is real work
//! (acks, fills, cancels) and how much is rejects (e.g. cancels that race a fill).
//!
//! `cargo run --release -p flowmatch-harness --example stream_stats -- [N]`

use flowmatch_core::*;
use flowmatch_harness::workload::equity::{generate, EquityConfig, EquityVariant};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    for v in EquityVariant::ALL {
        let cmds = generate(&EquityConfig::variant(v), 1, n);
        let mut b = FastBook::new(BookConfig::default());
        let mut ev = Vec::new();
        let (mut rej, mut trd, mut cxl, mut new, mut cancels, mut replaces) = (0, 0, 0, 0, 0, 0);
        // How resting orders end: cancelled by their owner, or filled away as makers.
        let (mut ended_cancelled, mut ended_filled) = (0u64, 0u64);
        // Trades by the kind of command that took liquidity: IOC, new GTC, replace.
        let mut takers = [0u64; 3];
        for c in &cmds {
            match c {
                Command::New(_) => new += 1,
                Command::Cancel { .. } => cancels += 1,
                Command::Replace { .. } => replaces += 1,
            }
            ev.clear();
            b.apply(c, &mut ev);
            for e in &ev {
                match e {
                    Event::Reject { .. } => rej += 1,
                    Event::Trade { maker, .. } => {
                        trd += 1;
                        takers[match c {
                            Command::New(o) if o.tif == Tif::Ioc => 0,
                            Command::New(_) => 1,
                            _ => 2,
                        }] += 1;
                        if b.order(*maker).is_none() {
                            ended_filled += 1;
                        }
                    }
                    Event::Cancel { reason, .. } => {
                        cxl += 1;
                        if *reason == CancelReason::User {
                            ended_cancelled += 1;
                        }
                    }
                    _ => {}
                }
            }
        }
        println!(
            "{:12} new {new} cancel {cancels} replace {replaces} | rejects {rej} ({:.1}%) trades {trd} cancels {cxl} | resting orders ended cancelled {:.1}% | trades by IOC/new/replace {:?} | resting at end {}",
            v.name(),
            100.0 * rej as f64 / n as f64,
            100.0 * ended_cancelled as f64 / (ended_cancelled + ended_filled).max(1) as f64,
            takers,
            b.len()
        );
    }
}
