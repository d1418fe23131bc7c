//! The gateway: reads a command file (lines with or without `SYM:` prefixes), checks every
//! line before publishing anything, and publishes each command to its shard's stream with
//! a message id (`Nats-Msg-Id`, so the server stores a retried publish once) and the
//! expected last sequence (`Nats-Expected-Last-Sequence`, so a lost publish is never
//! overtaken by the next one). The k-th command routed to a shard is therefore stored at
//! sequence k of that shard's stream, exactly once, in input order.

use crate::log::{self, SENT_HEADER};
use crate::routing::Routing;
use async_nats::header::{NATS_EXPECTED_LAST_SEQUENCE, NATS_MESSAGE_ID};
use async_nats::HeaderMap;
use flowmatch_harness::instrument_text::parse_line;
use std::time::{Duration, Instant};

/// Most commands in flight (published, ack not yet seen).
const WINDOW: usize = 256;

/// What the gateway is told to do.
pub struct GatewayPlan {
    /// NATS URLs.
    pub urls: Vec<async_nats::ServerAddr>,
    /// Input lines, already checked: (shard, command line).
    pub commands: Vec<(usize, String)>,
    /// Shard count.
    pub shards: usize,
    /// Stream replicas.
    pub replicas: usize,
    /// Commands per second, 0 for as fast as acks allow.
    pub rate: u64,
}

/// Reads and checks `text`: every line must parse; returns (shard, line) per command.
pub fn plan_commands(text: &str, routing: &Routing) -> Result<Vec<(usize, String)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match parse_line(line, i + 1) {
            Ok(None) => {}
            Ok(Some((symbol, _))) => {
                out.push((routing.shard(symbol.as_ref()), line.trim().to_string()))
            }
            Err(e) => return Err(format!("--input line {}: {e}", i + 1)),
        }
    }
    Ok(out)
}

/// What a finished gateway run measured.
pub struct Published {
    /// Commands stored.
    pub commands: usize,
    /// Publishes that had to be sent again (after an error or a lost ack).
    pub retries: usize,
    /// Wall time from the first publish to the last ack.
    pub elapsed: Duration,
}

fn headers(shard: usize, ordinal: u64) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(NATS_MESSAGE_ID, format!("c{shard}-{ordinal}").as_str());
    h.insert(
        NATS_EXPECTED_LAST_SEQUENCE,
        (ordinal - 1).to_string().as_str(),
    );
    h.insert(SENT_HEADER, log::now_ns().to_string().as_str());
    h
}

/// Publishes the plan; every command is stored exactly once and in order, or an error.
// `j` indexes two parallel vectors (commands, ordinals) and names the input line.
#[allow(clippy::needless_range_loop)]
pub async fn publish(plan: GatewayPlan) -> Result<Published, String> {
    let js = log::connect(plan.urls.clone(), "flowmatch-gateway").await?;
    // The k-th command of a shard is stored at sequence k: its ordinal is positional.
    let mut count = vec![0u64; plan.shards];
    let ordinals: Vec<u64> = plan
        .commands
        .iter()
        .map(|(shard, _)| {
            count[*shard] += 1;
            count[*shard]
        })
        .collect();
    for shard in 0..plan.shards {
        let (mut cmd, _) = log::ensure_streams(&js, shard, plan.replicas).await?;
        let last = cmd
            .info()
            .await
            .map_err(|e| format!("stream info: {e}"))?
            .state
            .last_sequence;
        if last != 0 {
            return Err(format!(
                "stream {} already holds {last} commands; the gateway publishes to empty streams",
                log::cmd_stream(shard)
            ));
        }
    }
    let start = Instant::now();
    let mut retries = 0;
    let mut i = 0;
    while i < plan.commands.len() {
        let end = (i + WINDOW).min(plan.commands.len());
        // Fast path: the whole window pipelined; the first failure ends it.
        let mut first_fail = None;
        let mut acks = Vec::with_capacity(end - i);
        for j in i..end {
            if plan.rate > 0 {
                let due = start + Duration::from_secs_f64(j as f64 / plan.rate as f64);
                tokio::time::sleep_until(due.into()).await;
            }
            let (shard, line) = &plan.commands[j];
            match js
                .publish_with_headers(
                    log::cmd_subject(*shard),
                    headers(*shard, ordinals[j]),
                    line.clone().into(),
                )
                .await
            {
                Ok(f) => acks.push(f),
                Err(_) => {
                    first_fail = Some(j);
                    break;
                }
            }
        }
        // Acks in order; the first failure ends the wait. Each ack's timeout starts when it
        // is awaited, so awaiting a whole window of acks lost with a dead server one after
        // another took 256 x 5 s (the demo's gateway "hang"); the rest are dropped and
        // re-sent by the slow path, where the server's de-duplication answers for any
        // that were stored.
        for (k, f) in acks.into_iter().enumerate() {
            if f.await.is_err() {
                if first_fail.is_none_or(|ff| i + k < ff) {
                    first_fail = Some(i + k);
                }
                break;
            }
        }
        let Some(from) = first_fail else {
            i = end;
            continue;
        };
        // Slow path: from the first failure to the window's end, one at a time until each
        // is stored (a duplicate answer means an earlier attempt was stored, its ack lost).
        for j in from..end {
            let (shard, line) = &plan.commands[j];
            let ordinal = ordinals[j];
            let r = log::retry(|| async {
                js.publish_with_headers(
                    log::cmd_subject(*shard),
                    headers(*shard, ordinal),
                    line.clone().into(),
                )
                .await
                .map_err(|e| {
                    eprintln!(
                        "gateway: command {} (shard {shard}): send: {e}; retrying",
                        j + 1
                    );
                    e.to_string()
                })?
                .await
                .map_err(|e| {
                    eprintln!("gateway: command {} (shard {shard}): {e}; retrying", j + 1);
                    e.to_string()
                })
            })
            .await
            .map_err(|e| format!("publish command {}: {e}", j + 1))?;
            if r.sequence != ordinal {
                return Err(format!(
                    "command {} stored at sequence {} of shard {shard}, expected {ordinal}",
                    j + 1,
                    r.sequence
                ));
            }
            retries += 1;
        }
        i = end;
    }
    Ok(Published {
        commands: plan.commands.len(),
        retries,
        elapsed: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_refuses_a_bad_line_by_number_and_skips_comments() {
        let r = Routing::new(2).unwrap();
        let p = plan_commands("# c\nAAPL:N,1,1,B,L,100,5\n\nN,2,1,S,L,100,1\n", &r).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].0, 0, "unprefixed lines go to shard 0");
        assert!(plan_commands("AAPL:N,1\n", &r)
            .unwrap_err()
            .contains("--input line 1"));
    }
}
