//! The NATS side every role shares: parsing `--nats` URLs, connecting, the names of the
//! per-shard command and event streams and their creation (idempotent, so gateway and
//! nodes may start in any order), and the header names a message carries.

use async_nats::jetstream::{self, stream};
use async_nats::ServerAddr;
use std::time::Duration;

/// Header carrying the command's stream sequence on an event message.
pub const SEQ_HEADER: &str = "Flowmatch-Seq";
/// Header carrying the gateway's wall-clock send time (ns since the Unix epoch), copied
/// from the command onto its event message for publish-to-event latency.
pub const SENT_HEADER: &str = "Flowmatch-Sent-Ns";
/// Server-side de-duplication window of both streams: a retried publish with the same
/// message id inside it is stored once.
pub const DEDUP_WINDOW: Duration = Duration::from_secs(120);
/// Most replicas a stream may have (the cluster has at most this many servers here).
pub const MAX_REPLICAS: usize = 5;

/// The command subject of `shard`.
pub fn cmd_subject(shard: usize) -> String {
    format!("flowmatch.cmd.{shard}")
}
/// The event subject of `shard`.
pub fn evt_subject(shard: usize) -> String {
    format!("flowmatch.evt.{shard}")
}
/// The command stream of `shard`.
pub fn cmd_stream(shard: usize) -> String {
    format!("FLOWMATCH_CMD_{shard}")
}
/// The event stream of `shard`.
pub fn evt_stream(shard: usize) -> String {
    format!("FLOWMATCH_EVT_{shard}")
}

/// Parses `--nats URL[,URL…]` (each `nats://host:port` or `host:port`).
pub fn parse_urls(s: &str) -> Result<Vec<ServerAddr>, String> {
    let urls: Vec<&str> = s
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    if urls.is_empty() {
        return Err("--nats needs at least one URL (nats://127.0.0.1:4222)".into());
    }
    urls.iter()
        .map(|u| {
            u.parse::<ServerAddr>()
                .map_err(|e| format!("--nats {u}: {e}"))
        })
        .collect()
}

/// Parses `--replicas R`, `1..=MAX_REPLICAS`.
pub fn check_replicas(r: usize) -> Result<usize, String> {
    if (1..=MAX_REPLICAS).contains(&r) {
        Ok(r)
    } else {
        Err(format!(
            "--replicas must be between 1 and {MAX_REPLICAS}, got {r}"
        ))
    }
}

/// Connects to any of `urls` (reconnecting to the others if that server dies) and
/// returns the JetStream context.
pub async fn connect(urls: Vec<ServerAddr>, name: &str) -> Result<jetstream::Context, String> {
    let client = async_nats::ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(2))
        .event_callback({
            let name = name.to_string();
            move |e| {
                let name = name.clone();
                async move { eprintln!("{name}: nats connection event: {e}") }
            }
        })
        .connect(urls)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let mut js = jetstream::new(client);
    js.set_timeout(Duration::from_secs(5));
    Ok(js)
}

/// Creates (or finds) the command and event streams of `shard` with `replicas` replicas.
pub async fn ensure_streams(
    js: &jetstream::Context,
    shard: usize,
    replicas: usize,
) -> Result<(stream::Stream, stream::Stream), String> {
    let mut out = Vec::with_capacity(2);
    for (name, subject) in [
        (cmd_stream(shard), cmd_subject(shard)),
        (evt_stream(shard), evt_subject(shard)),
    ] {
        let cfg = stream::Config {
            name: name.clone(),
            subjects: vec![subject],
            num_replicas: replicas,
            duplicate_window: DEDUP_WINDOW,
            storage: stream::StorageType::File,
            ..Default::default()
        };
        let s = retry(|| js.get_or_create_stream(cfg.clone()))
            .await
            .map_err(|e| format!("stream {name}: {e}"))?;
        out.push(s);
    }
    let evt = out.pop().expect("two streams");
    let cmd = out.pop().expect("two streams");
    Ok((cmd, evt))
}

/// Retries a JetStream request for up to ~20 s (a cluster electing a leader after losing
/// a server answers "no responders"/timeouts meanwhile).
pub async fn retry<T, E: std::fmt::Display, F, Fut>(mut f: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut last = None;
    for _ in 0..40 {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                last = Some(e);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    Err(last.expect("at least one attempt"))
}

/// Wall-clock nanoseconds since the Unix epoch.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_validated_by_name() {
        assert!(parse_urls("").unwrap_err().contains("--nats"));
        assert_eq!(
            parse_urls("nats://127.0.0.1:4222,127.0.0.1:4223")
                .unwrap()
                .len(),
            2
        );
        assert!(check_replicas(0).unwrap_err().contains("--replicas"));
        assert_eq!(check_replicas(3), Ok(3));
    }
}
