//! The `flowmatch-cluster` binary: `gateway`, `node` and `verify` over a NATS JetStream
//! cluster. A separate binary so the `flowmatch` harness builds without tokio and the NATS
//! client; the work is in the library's modules, this file only parses and validates the
//! options (all before any connection) and maps outcomes to exit codes.

use clap::{Parser, Subcommand};
use flowmatch_cluster::{gateway, log, node, routing::Routing, verify};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "flowmatch-cluster",
    about = "flowmatch shard engines on a replicated NATS JetStream log"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Publish a command file to the shard streams (each command once, in order).
    Gateway {
        /// NATS server URL(s), comma-separated.
        #[arg(long)]
        nats: String,
        /// Command file (lines with or without `SYM:` prefixes).
        #[arg(long)]
        input: PathBuf,
        /// Number of shards.
        #[arg(long, default_value_t = 2)]
        shards: usize,
        /// Replicas of each stream.
        #[arg(long, default_value_t = 3)]
        replicas: usize,
        /// Commands per second (0: as fast as acks allow).
        #[arg(long, default_value_t = 0)]
        rate: u64,
    },
    /// Run engine nodes for some shards: apply in order, publish events while primary.
    Node {
        /// NATS server URL(s), comma-separated.
        #[arg(long)]
        nats: String,
        /// Shards this node runs, comma-separated (e.g. 0,1).
        #[arg(long)]
        shards: String,
        /// Node name (held in the lease).
        #[arg(long, default_value = "node")]
        id: String,
        /// Replicas of each stream and of the lease bucket, if this node creates them.
        #[arg(long, default_value_t = 3)]
        replicas: usize,
        /// Lease time in milliseconds (a standby takes over this long after the primary stops renewing).
        #[arg(long, default_value_t = 2000)]
        lease_ms: u64,
        /// While primary, store each shard's snapshot in the object store after every N
        /// commands (0: never; otherwise 100 to 100000000). Nodes always start from the
        /// newest usable snapshot.
        #[arg(long, default_value_t = 0)]
        snapshot_every: u64,
    },
    /// Print the run's provenance (commit, machine, load) as markdown, for result files.
    Provenance {
        /// The command whose results the provenance describes.
        #[arg(long)]
        command: String,
    },
    /// Compare the de-duplicated event streams with `flowmatch replay`'s output.
    Verify {
        /// NATS server URL(s), comma-separated.
        #[arg(long)]
        nats: String,
        /// The command file the gateway published.
        #[arg(long)]
        input: PathBuf,
        /// `flowmatch replay --input CMDS` output for the same file.
        #[arg(long)]
        oracle: PathBuf,
        /// Number of shards.
        #[arg(long, default_value_t = 2)]
        shards: usize,
        /// Seconds to wait for the event streams to catch up.
        #[arg(long, default_value_t = 60)]
        timeout_s: u64,
    },
}

fn read(flag: &str, p: &PathBuf) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("{flag} {}: {e}", p.display()))
}

fn parse_shard_list(s: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let n: usize = part.trim().parse().map_err(|_| {
            format!(
                "--shards: `{part}` is not a shard number (0..{})",
                flowmatch_cluster::routing::MAX_SHARDS
            )
        })?;
        if n >= flowmatch_cluster::routing::MAX_SHARDS || out.contains(&n) {
            return Err(format!(
                "--shards: {n} is out of range 0..{} or repeated",
                flowmatch_cluster::routing::MAX_SHARDS
            ));
        }
        out.push(n);
    }
    Ok(out)
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

fn run(cmd: Command) -> Result<u8, String> {
    match cmd {
        Command::Gateway {
            nats,
            input,
            shards,
            replicas,
            rate,
        } => {
            let urls = log::parse_urls(&nats)?;
            let routing = Routing::new(shards)?;
            let replicas = log::check_replicas(replicas)?;
            if rate > 10_000_000 {
                return Err(format!("--rate must be between 0 and 10000000, got {rate}"));
            }
            let commands = gateway::plan_commands(&read("--input", &input)?, &routing)?;
            let p = runtime()?.block_on(gateway::publish(gateway::GatewayPlan {
                urls,
                commands,
                shards,
                replicas,
                rate,
            }))?;
            println!(
                "gateway: {} commands stored in {:.3} s ({:.0} commands/s), {} publishes retried",
                p.commands,
                p.elapsed.as_secs_f64(),
                p.commands as f64 / p.elapsed.as_secs_f64().max(1e-9),
                p.retries
            );
            Ok(0)
        }
        Command::Node {
            nats,
            shards,
            id,
            replicas,
            lease_ms,
            snapshot_every,
        } => {
            if snapshot_every != 0
                && !flowmatch_cluster::snapshot::EVERY_RANGE.contains(&snapshot_every)
            {
                return Err(format!(
                    "--snapshot-every must be 0 or between {} and {}, got {snapshot_every}",
                    flowmatch_cluster::snapshot::EVERY_RANGE.start(),
                    flowmatch_cluster::snapshot::EVERY_RANGE.end()
                ));
            }
            let urls = log::parse_urls(&nats)?;
            let shards = parse_shard_list(&shards)?;
            let replicas = log::check_replicas(replicas)?;
            if !node::LEASE_MS_RANGE.contains(&lease_ms) {
                return Err(format!(
                    "--lease-ms must be between {} and {}, got {lease_ms}",
                    node::LEASE_MS_RANGE.start(),
                    node::LEASE_MS_RANGE.end()
                ));
            }
            if id.is_empty()
                || id.len() > 64
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err("--id must be 1 to 64 characters of A-Z a-z 0-9 - _".into());
            }
            let plan = node::NodePlan {
                urls,
                shards,
                id,
                replicas,
                lease: Duration::from_millis(lease_ms),
                snapshot_every,
            };
            runtime()?.block_on(node::run(plan))?;
            Ok(0)
        }
        Command::Provenance { command } => {
            print!(
                "{}",
                flowmatch_harness::provenance::Provenance::capture_with_command(command).markdown()
            );
            Ok(0)
        }
        Command::Verify {
            nats,
            input,
            oracle,
            shards,
            timeout_s,
        } => {
            let urls = log::parse_urls(&nats)?;
            let routing = Routing::new(shards)?;
            if !(1..=3600).contains(&timeout_s) {
                return Err(format!(
                    "--timeout-s must be between 1 and 3600, got {timeout_s}"
                ));
            }
            let commands = gateway::plan_commands(&read("--input", &input)?, &routing)?;
            let oracle = read("--oracle", &oracle)?;
            let got = runtime()?.block_on(verify::collect(
                urls,
                shards,
                Duration::from_secs(timeout_s),
            ))?;
            let shards_of: Vec<usize> = commands.iter().map(|(s, _)| *s).collect();
            let c = verify::compare(&shards_of, &got.events, &oracle);
            let mut lat = got.latencies_ns;
            lat.sort_unstable();
            let pct = |q: f64| {
                lat.get(((lat.len() as f64 - 1.0) * q).round() as usize)
                    .map_or(0.0, |&v| v as f64 / 1e6)
            };
            println!(
                "verify: redundant event messages dropped by sequence {}; gateway-send to event-publish latency ms p50 {:.2} p90 {:.2} p99 {:.2} max {:.2} (n={})",
                got.redundant, pct(0.5), pct(0.9), pct(0.99), pct(1.0), lat.len()
            );
            println!("{}", c.line());
            Ok(if c.identical && c.lost == 0 && c.duplicated == 0 {
                0
            } else {
                1
            })
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("flowmatch-cluster: {e}");
            ExitCode::from(2)
        }
    }
}
