//! The verifier: waits until every shard's event stream holds one message per stored
//! command, reads the event streams, de-duplicates by the command sequence each message is
//! stamped with, renumbers each command's event lines from its shard sequence to its line
//! in the input (the routing recomputed from the input, independently of the nodes), and
//! compares the result with the single-process replay's output (`flowmatch replay`).

use crate::log::{self, SENT_HEADER, SEQ_HEADER};
use async_nats::jetstream::consumer;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The outcome of comparing the cluster's events with the oracle's.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Commands in the input.
    pub commands: usize,
    /// The renumbered event text equals the oracle's byte for byte.
    pub identical: bool,
    /// Oracle event lines the cluster did not deliver.
    pub lost: usize,
    /// Cluster event lines beyond the oracle's (per command, as a multiset).
    pub duplicated: usize,
}

impl Comparison {
    /// The demo's last line.
    pub fn line(&self) -> String {
        format!(
            "commands {}; events identical to single-process replay: {}; lost {}; duplicated {}",
            self.commands,
            if self.identical { "yes" } else { "no" },
            self.lost,
            self.duplicated
        )
    }
}

/// Replaces the sequence field of an event line (`[SYM:]SEQ,...`) with `seq`.
fn renumber(line: &str, seq: usize) -> String {
    let (prefix, rest) = match line.find(':') {
        Some(i) if !line[..i].contains(',') => line.split_at(i + 1),
        _ => ("", line),
    };
    match rest.find(',') {
        Some(i) => format!("{prefix}{seq}{}", &rest[i..]),
        None => line.to_string(),
    }
}

/// The sequence field of an oracle event line.
fn seq_of(line: &str) -> Option<usize> {
    let rest = match line.find(':') {
        Some(i) if !line[..i].contains(',') => &line[i + 1..],
        _ => line,
    };
    rest.split(',').next()?.parse().ok()
}

/// Compares per-shard event texts (indexed by shard sequence - 1) with the oracle.
/// `shards_of` is each input command's shard, in input order.
pub fn compare(shards_of: &[usize], events: &[Vec<Option<String>>], oracle: &str) -> Comparison {
    let mut next = vec![0usize; events.len()];
    let mut got = String::new();
    let mut per_cmd: HashMap<usize, Vec<String>> = HashMap::new();
    for (j, &s) in shards_of.iter().enumerate() {
        let k = next[s];
        next[s] += 1;
        if let Some(Some(text)) = events.get(s).and_then(|v| v.get(k)) {
            for l in text.lines() {
                let r = renumber(l, j + 1);
                got.push_str(&r);
                got.push('\n');
                per_cmd.entry(j + 1).or_default().push(r);
            }
        }
    }
    let mut want_per_cmd: HashMap<usize, Vec<String>> = HashMap::new();
    for l in oracle.lines() {
        want_per_cmd
            .entry(seq_of(l).unwrap_or(0))
            .or_default()
            .push(l.to_string());
    }
    let (mut lost, mut duplicated) = (0, 0);
    for (cmd, want) in &want_per_cmd {
        let mut have = per_cmd.remove(cmd).unwrap_or_default();
        for w in want {
            match have.iter().position(|h| h == w) {
                Some(i) => {
                    have.swap_remove(i);
                }
                None => lost += 1,
            }
        }
        duplicated += have.len();
    }
    duplicated += per_cmd.values().map(Vec::len).sum::<usize>();
    Comparison {
        commands: shards_of.len(),
        identical: got == oracle,
        lost,
        duplicated,
    }
}

/// What was read from the event streams.
pub struct Collected {
    /// Per shard, per sequence: the event text (first copy).
    pub events: Vec<Vec<Option<String>>>,
    /// Messages whose sequence had already been seen (dropped).
    pub redundant: usize,
    /// Gateway send to node publish, nanoseconds, per command.
    pub latencies_ns: Vec<u64>,
}

/// Waits up to `timeout` for every event stream to catch up with its command stream, then
/// reads them.
pub async fn collect(
    urls: Vec<async_nats::ServerAddr>,
    shards: usize,
    timeout: Duration,
) -> Result<Collected, String> {
    let js = log::connect(urls, "flowmatch-verify").await?;
    let deadline = Instant::now() + timeout;
    let mut out = Collected {
        events: Vec::new(),
        redundant: 0,
        latencies_ns: Vec::new(),
    };
    for shard in 0..shards {
        let (mut cmd, mut evt) = log::ensure_streams(&js, shard, 1).await?;
        let want = loop {
            let c = cmd.info().await.map(|i| i.state.last_sequence);
            let e = evt.info().await.map(|i| i.state.last_sequence);
            if let (Ok(c), Ok(e)) = (&c, &e) {
                if e >= c {
                    break *e;
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "shard {shard}: events {e:?} of commands {c:?} after the timeout"
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let mut texts: Vec<Option<String>> = vec![None; want as usize];
        if want > 0 {
            let consumer = log::retry(|| {
                evt.create_consumer(consumer::pull::OrderedConfig {
                    filter_subject: log::evt_subject(shard),
                    ..Default::default()
                })
            })
            .await
            .map_err(|e| format!("event consumer: {e}"))?;
            let mut msgs = consumer.messages().await.map_err(|e| e.to_string())?;
            let mut read = 0u64;
            while read < want {
                let m = tokio::time::timeout(
                    deadline.saturating_duration_since(Instant::now()),
                    msgs.next(),
                )
                .await
                .map_err(|_| {
                    format!("shard {shard}: read {read} of {want} events before the timeout")
                })?;
                let Some(Ok(m)) = m else { continue };
                read += 1;
                let h = m.headers.as_ref();
                let get = |k: &str| {
                    h.and_then(|h| h.get(k))
                        .and_then(|v| v.as_str().parse::<u64>().ok())
                };
                let Some(seq) = get(SEQ_HEADER) else { continue };
                let slot = (seq as usize).checked_sub(1).and_then(|i| texts.get_mut(i));
                match slot {
                    Some(s @ None) => {
                        *s = Some(String::from_utf8_lossy(&m.payload).into_owned());
                        if let (Some(a), Some(b)) = (get(SENT_HEADER), get("Flowmatch-Evt-Ns")) {
                            out.latencies_ns.push(b.saturating_sub(a));
                        }
                    }
                    _ => out.redundant += 1,
                }
            }
        }
        out.events.push(texts);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-made: two shards, input order 0,1,0; one shard-0 event lost, one duplicated.
    #[test]
    fn compare_renumbers_and_counts_lost_and_duplicated() {
        let shards_of = [0, 1, 0];
        let oracle = "A:1,ACK,1\nB:2,ACK,1\nA:3,ACK,2\nA:3,TRD,2,1,100,1\n";
        let good = vec![
            vec![
                Some("A:1,ACK,1\n".to_string()),
                Some("A:2,ACK,2\nA:2,TRD,2,1,100,1\n".to_string()),
            ],
            vec![Some("B:1,ACK,1\n".to_string())],
        ];
        let c = compare(&shards_of, &good, oracle);
        assert_eq!(
            (c.identical, c.lost, c.duplicated, c.commands),
            (true, 0, 0, 3)
        );
        let bad = vec![
            vec![
                Some("A:1,ACK,1\nA:1,ACK,1\n".to_string()),
                Some("A:2,ACK,2\n".to_string()),
            ],
            vec![Some("B:1,ACK,1\n".to_string())],
        ];
        let c = compare(&shards_of, &bad, oracle);
        assert_eq!((c.identical, c.lost, c.duplicated), (false, 1, 1));
        assert_eq!(
            c.line(),
            "commands 3; events identical to single-process replay: no; lost 1; duplicated 1"
        );
    }
}
