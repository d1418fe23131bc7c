//! An engine node: for each of its shards it consumes the command stream strictly in
//! order (an ordered pull consumer from sequence 1), applies every command with the
//! shard's deterministic engine, and keeps the events of each command until they are
//! published. Exactly one node per shard publishes: the holder of the shard's lease, a key
//! in a JetStream key-value bucket whose entries expire after the lease time; the holder
//! renews it. A standby consumes and applies the same stream (so its state is identical),
//! and when the lease lapses it takes the lease and publishes from the first sequence the
//! event stream does not hold. Event `k` of a shard is published with
//! `Nats-Expected-Last-Sequence: k-1` and message id `e<shard>-<k>`, so the event stream's
//! sequence equals the command sequence and a late publish by a deposed primary is
//! refused by the server rather than stored twice.
//!
//! A node starts from the newest usable snapshot of each shard in the object store
//! (`crate::snapshot`), consuming from its sequence + 1; the primary writes them.

use crate::engine::ShardEngine;
use crate::log::{self, SENT_HEADER, SEQ_HEADER};
use crate::snapshot;
use async_nats::header::{
    NATS_EXPECTED_LAST_SEQUENCE, NATS_EXPECTED_LAST_SUBJECT_SEQUENCE, NATS_MESSAGE_ID,
};
use async_nats::jetstream::object_store::ObjectStore;
use async_nats::jetstream::{self, consumer};
use async_nats::HeaderMap;
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The key-value bucket holding the leases.
pub const LEASE_BUCKET: &str = "flowmatch-leases";
/// Lease time bounds (milliseconds).
pub const LEASE_MS_RANGE: std::ops::RangeInclusive<u64> = 300..=60_000;
/// Publish once this many commands' events wait.
const PUBLISH_BATCH: usize = 128;

/// What a node is told to do.
#[derive(Clone)]
pub struct NodePlan {
    /// NATS URLs.
    pub urls: Vec<async_nats::ServerAddr>,
    /// Shards this node runs.
    pub shards: Vec<usize>,
    /// Node name (the lease value).
    pub id: String,
    /// Stream replicas (used if the node creates the streams).
    pub replicas: usize,
    /// Lease time.
    pub lease: Duration,
    /// While primary, snapshot each shard after every this many commands (0: never).
    pub snapshot_every: u64,
}

/// Runs every shard of the plan until the process is stopped (or an error).
pub async fn run(plan: NodePlan) -> Result<(), String> {
    let js = log::connect(plan.urls.clone(), &format!("flowmatch-node-{}", plan.id)).await?;
    let leases = lease_bucket(&js, plan.replicas, plan.lease).await?;
    let store = snapshot::bucket(&js, plan.replicas).await?;
    let mut tasks = Vec::new();
    for &shard in &plan.shards {
        let (js, leases, plan, store) = (js.clone(), leases.clone(), plan.clone(), store.clone());
        tasks.push(tokio::spawn(async move {
            run_shard(js, leases, store, &plan, shard).await
        }));
    }
    for t in tasks {
        t.await.map_err(|e| format!("shard task: {e}"))??;
    }
    Ok(())
}

/// The leases: a key-value bucket in JetStream's own layout (stream `KV_<bucket>`,
/// subjects `$KV.<bucket>.<key>`, one entry per key, entries expiring after the lease
/// time), written through the stream API with compare-and-set headers because
/// async-nats's bucket creation does not parse nats-server 2.9's answer.
#[derive(Clone)]
struct Leases {
    js: jetstream::Context,
    ttl: Duration,
}

impl Leases {
    fn subject(key: &str) -> String {
        format!("$KV.{LEASE_BUCKET}.{key}")
    }

    /// Writes `value` under `key` if the key's last entry has sequence `expect` (0: the
    /// key holds nothing, i.e. the lease lapsed or was never taken); the new sequence.
    async fn put_if(&self, key: &str, value: &str, expect: u64) -> Result<u64, String> {
        let mut h = HeaderMap::new();
        h.insert(
            NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
            expect.to_string().as_str(),
        );
        let ack = tokio::time::timeout(self.ttl / 2, async {
            self.js
                .publish_with_headers(Self::subject(key), h, value.to_string().into())
                .await
                .map_err(|e| e.to_string())?
                .await
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|_| "lease write timed out".to_string())??;
        Ok(ack.sequence)
    }
}

async fn lease_bucket(
    js: &jetstream::Context,
    replicas: usize,
    ttl: Duration,
) -> Result<Leases, String> {
    let cfg = jetstream::stream::Config {
        name: format!("KV_{LEASE_BUCKET}"),
        subjects: vec![format!("$KV.{LEASE_BUCKET}.>")],
        max_messages_per_subject: 1,
        max_age: ttl,
        num_replicas: replicas,
        discard: jetstream::stream::DiscardPolicy::New,
        allow_rollup: true,
        deny_delete: true,
        ..Default::default()
    };
    log::retry(|| js.get_or_create_stream(cfg.clone()))
        .await
        .map_err(|e| format!("lease bucket: {e}"))?;
    Ok(Leases {
        js: js.clone(),
        ttl,
    })
}

/// Events of one applied command, not yet published.
struct Pending {
    seq: u64,
    events: String,
    sent_ns: Option<String>,
}

/// The highest sequence the shard's event stream holds.
async fn published_upto(js: &jetstream::Context, shard: usize) -> Result<u64, String> {
    let mut s = js
        .get_stream(log::evt_stream(shard))
        .await
        .map_err(|e| format!("event stream: {e}"))?;
    Ok(s.info()
        .await
        .map_err(|e| format!("event stream info: {e}"))?
        .state
        .last_sequence)
}

/// The command stream's messages from `start` on: an ordered (ephemeral, single-replica)
/// consumer whose pull requests expire after `CONSUMER_EXPIRES`, so the client's idle
/// heartbeat (half of that) notices a dead server in seconds rather than the library's
/// default 30 s expiry; the node's own watchdog (`STALL`) recreates it in any case.
async fn command_messages(
    cmd_stream: &jetstream::stream::Stream,
    shard: usize,
    start: u64,
) -> Result<consumer::pull::Ordered, String> {
    let consumer = log::retry(|| {
        cmd_stream.create_consumer(consumer::pull::OrderedConfig {
            filter_subject: log::cmd_subject(shard),
            deliver_policy: if start <= 1 {
                consumer::DeliverPolicy::All
            } else {
                consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: start,
                }
            },
            max_expires: CONSUMER_EXPIRES,
            ..Default::default()
        })
    })
    .await
    .map_err(|e| format!("shard {shard} consumer: {e}"))?;
    consumer
        .messages()
        .await
        .map_err(|e| format!("shard {shard} messages: {e}"))
}

/// Expiry of the command consumer's pull requests (its idle heartbeat is half of it).
const CONSUMER_EXPIRES: Duration = Duration::from_secs(2);
/// A consumer that delivered nothing for this long while the stream holds commands the
/// node has not applied is recreated from the next sequence (its server may have died).
const STALL: Duration = Duration::from_millis(1500);
/// Bound on one request the shard loop makes between messages (stream info, lease write).
const REQUEST: Duration = Duration::from_millis(1000);

async fn last_command(cmd: &mut jetstream::stream::Stream) -> Option<u64> {
    tokio::time::timeout(REQUEST, cmd.info())
        .await
        .ok()?
        .ok()
        .map(|i| i.state.last_sequence)
}

async fn run_shard(
    js: jetstream::Context,
    leases: Leases,
    store: ObjectStore,
    plan: &NodePlan,
    shard: usize,
) -> Result<(), String> {
    let (mut cmd_stream, _) = log::ensure_streams(&js, shard, plan.replicas).await?;
    let mut last = None;
    for _ in 0..40 {
        last = last_command(&mut cmd_stream).await;
        if last.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let last = last.ok_or_else(|| format!("shard {shard}: command stream info unavailable"))?;
    let mut engine = match snapshot::load_latest(&store, shard, last, &plan.id).await {
        Some(e) => e,
        None => ShardEngine::new()?,
    };
    let mut messages = command_messages(&cmd_stream, shard, engine.applied + 1).await?;
    // A snapshot encoded while primary, stored once the events up to it are published.
    let mut due: Option<(u64, Vec<u8>, flowmatch_journal::StateHash)> = None;
    let mut storing: Option<tokio::task::JoinHandle<()>> = None;
    let mut reported = 0u64;
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let key = format!("shard-{shard}");
    let mut lease_rev: Option<u64> = None;
    let mut renewed = Instant::now();
    let mut published = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let mut last_trim = Instant::now();
    let mut last_message = Instant::now();
    loop {
        tokio::select! {
            m = messages.next() => {
                let Some(m) = m else { return Err(format!("shard {shard}: consumer ended")) };
                let Ok(m) = m else { continue };  // the ordered consumer recreates itself
                last_message = Instant::now();
                let seq = m.info().map_err(|e| format!("shard {shard}: {e}"))?.stream_sequence;
                if seq <= engine.applied { continue; }
                let line = std::str::from_utf8(&m.payload).unwrap_or("");
                let mut events = String::new();
                engine.apply(seq, line, &mut events)?;
                let sent_ns = m.headers.as_ref().and_then(|h| h.get(SENT_HEADER)).map(|v| v.as_str().to_string());
                pending.push_back(Pending { seq, events, sent_ns });
                if lease_rev.is_some() && plan.snapshot_every > 0 && seq % plan.snapshot_every == 0 {
                    let (bytes, hash) = snapshot::encode(&engine, shard)?;
                    due = Some((seq, bytes, hash));
                }
                if lease_rev.is_some() && pending.len() >= PUBLISH_BATCH {
                    publish(&js, shard, &mut pending, &mut published).await;
                }
            }
            _ = tick.tick() => {
                let store_idle = storing.as_ref().is_none_or(|t: &tokio::task::JoinHandle<()>| t.is_finished());
                if store_idle && due.as_ref().is_some_and(|(s, _, _)| published >= *s) {
                    // Stored on its own task: an object store slow to answer (seconds, on a
                    // loaded machine) must not hold up the lease renewal below, or the lease
                    // expires under a healthy primary. One store at a time; a newer snapshot
                    // replaces a due one that is still waiting.
                    let (s, bytes, hash) = due.take().expect("checked");
                    let (store, id) = (store.clone(), plan.id.clone());
                    storing = Some(tokio::spawn(async move {
                        match snapshot::put(&store, shard, s, &bytes).await {
                            Ok(()) => eprintln!(
                                "node {id}: shard {shard}: snapshot {} stored ({} bytes, state_hash={hash})",
                                snapshot::object_name(shard, s), bytes.len()
                            ),
                            Err(e) => eprintln!(
                                "node {id}: shard {shard}: snapshot at sequence {s} not stored ({e})"
                            ),
                        }
                    }));
                }
                if engine.applied != reported && last_message.elapsed() >= Duration::from_millis(300) {
                    // Quiet for a moment: say where the state is (tests compare the hash).
                    eprintln!(
                        "node {}: shard {shard}: applied={} state_hash={}",
                        plan.id, engine.applied, snapshot::state_hash(&engine)
                    );
                    reported = engine.applied;
                }
                if last_message.elapsed() >= STALL {
                    // Watchdog: nothing delivered for a while; if the stream holds more than
                    // was applied, the consumer's server probably died: recreate it.
                    if last_command(&mut cmd_stream).await.is_some_and(|last| last > engine.applied) {
                        let fresh = tokio::time::timeout(
                            3 * REQUEST,
                            command_messages(&cmd_stream, shard, engine.applied + 1),
                        ).await;
                        if let Ok(Ok(m)) = fresh {
                            eprintln!(
                                "node {}: shard {shard}: consumer recreated from sequence {} at_ns={}",
                                plan.id, engine.applied + 1, log::now_ns()
                            );
                            messages = m;
                        }
                    }
                    last_message = Instant::now();
                }
                match lease_rev {
                    Some(rev) => {
                        if renewed.elapsed() >= plan.lease / 4 {
                            match leases.put_if(&key, &plan.id, rev).await {
                                Ok(r) => { lease_rev = Some(r); renewed = Instant::now(); }
                                Err(e) => {
                                    eprintln!("node {}: shard {shard}: lease lost ({e}); standby", plan.id);
                                    lease_rev = None;
                                }
                            }
                        }
                        if lease_rev.is_some() && !pending.is_empty() {
                            publish(&js, shard, &mut pending, &mut published).await;
                        }
                    }
                    None => {
                        if let Ok(r) = leases.put_if(&key, &plan.id, 0).await {
                            // The lease is ours from here, whatever the event stream answers:
                            // publishing is fenced by the event stream's expected sequence, so
                            // a stale `published` only costs a refused publish and a re-read.
                            lease_rev = Some(r);
                            renewed = Instant::now();
                            let p = tokio::time::timeout(REQUEST, published_upto(&js, shard)).await;
                            if let Ok(Ok(p)) = p {
                                published = p;
                                pending.retain(|x| x.seq > p);
                            }
                            eprintln!(
                                "node {}: shard {shard}: primary at_ns={} events_published_upto={} applied={}",
                                plan.id, log::now_ns(), published, engine.applied
                            );
                        } else if last_trim.elapsed() >= Duration::from_millis(500) {
                            // A standby keeps only what the primary has not published yet.
                            if let Ok(Ok(p)) = tokio::time::timeout(REQUEST, published_upto(&js, shard)).await {
                                published = published.max(p);
                                pending.retain(|x| x.seq > p);
                            }
                            last_trim = Instant::now();
                        }
                    }
                }
            }
        }
    }
}

/// Publishes the pending events in order; on any failure re-reads what the event stream
/// holds and keeps the rest for the next attempt.
async fn publish(
    js: &jetstream::Context,
    shard: usize,
    pending: &mut VecDeque<Pending>,
    published: &mut u64,
) {
    let mut acks = Vec::with_capacity(pending.len());
    for p in pending.iter().filter(|p| p.seq > *published) {
        let mut h = HeaderMap::new();
        h.insert(NATS_MESSAGE_ID, format!("e{shard}-{}", p.seq).as_str());
        h.insert(
            NATS_EXPECTED_LAST_SEQUENCE,
            (p.seq - 1).to_string().as_str(),
        );
        h.insert(SEQ_HEADER, p.seq.to_string().as_str());
        if let Some(s) = &p.sent_ns {
            h.insert(SENT_HEADER, s.as_str());
        }
        h.insert("Flowmatch-Evt-Ns", log::now_ns().to_string().as_str());
        match js
            .publish_with_headers(log::evt_subject(shard), h, p.events.clone().into())
            .await
        {
            Ok(f) => acks.push((p.seq, f)),
            Err(_) => break,
        }
    }
    let mut ok_upto = *published;
    let mut failed = false;
    for (seq, f) in acks {
        match f.await {
            Ok(a) if !failed && a.sequence == seq => ok_upto = seq,
            _ => failed = true,
        }
    }
    if failed {
        if let Ok(p) = published_upto(js, shard).await {
            ok_upto = p;
        }
    }
    *published = ok_upto;
    pending.retain(|x| x.seq > ok_upto);
}
