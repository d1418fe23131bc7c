//! Snapshots of a shard's state in the JetStream object store, so a node that starts late
//! (or a standby replacing a lost one) loads the newest snapshot and consumes the command
//! stream from its sequence + 1 instead of from 1.
//!
//! # Format
//! The single-process journal's snapshot format, version 1 (`flowmatch_harness::journaled`:
//! magic, sequence, chain, settings text, one section per book in order of first
//! appearance with each resting order's time in force and STP mode and the level
//! aggregates, the state hash of `flowmatch_journal::state_hash`, a CRC32C). Here the
//! sequence is the shard's stream sequence, the chain is CRC32C chained over
//! `(sequence, command line bytes)` of every command applied, and the settings text is
//! `flowmatch-cluster-shard 1`, `shard=N`, `symbols=A,B,…` (the symbols in the order the
//! replay made their instruments: instrument `id` is `symbols[id]`, book key `id + 1`), so
//! the books come back under the instruments they had.
//!
//! # Where and when
//! Bucket [`BUCKET`], object `shard-<N>-<sequence, 20 digits>`. The primary of a shard
//! encodes its state after every `--snapshot-every` commands and stores it once the event
//! stream holds the events up to that sequence (a node recovering from it never has to
//! publish events older than the snapshot). The newest [`KEEP`] objects per shard are kept.
//!
//! # Loading
//! Newest first: the object's sequence must not exceed the command stream's last, its CRC
//! must hold, its settings must name this shard, and the state rebuilt from its orders
//! (each re-added as a limit order with its time in force and STP mode, then each resting
//! peg in arrival order and each pending stop, every one of which must only be
//! acknowledged; an empty book made to appear by a rejected cancel) must have the recorded
//! level aggregates and state hash. A snapshot that fails any check is refused with the
//! reason on stderr and the previous one tried; with none left the node consumes from
//! sequence 1 and says so.

use crate::engine::ShardEngine;
use crate::log;
use async_nats::jetstream::{self, object_store::ObjectStore, stream};
use flowmatch_core::instrument::BookView;
use flowmatch_core::{Command, NewOrder, RestingOrder, RestingPeg, Symbol};
use flowmatch_harness::journaled::{
    decode_snapshot, rest_again, view_icebergs, view_pegs, LevelRecord, SnapshotBytes,
};
use flowmatch_journal::state_hash::{
    peg_order, Hidden, IcebergRecord, ICEBERG_BYTES, ORDER_BYTES, PEG_BYTES, STOP_BYTES,
};
use flowmatch_journal::{StateHash, StateHasher};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// The object store bucket holding the snapshots.
pub const BUCKET: &str = "flowmatch-snapshots";
/// Snapshots kept per shard (older ones are deleted after a new one is stored).
pub const KEEP: usize = 2;
/// `--snapshot-every` bounds when not 0 (0: no snapshots written).
pub const EVERY_RANGE: std::ops::RangeInclusive<u64> = 100..=100_000_000;
/// First line of the settings text.
const SETTINGS_HEAD: &str = "flowmatch-cluster-shard 1";

/// The object name of shard `shard`'s snapshot after sequence `seq`.
pub fn object_name(shard: usize, seq: u64) -> String {
    format!("shard-{shard}-{seq:020}")
}

fn parse_object_name(shard: usize, name: &str) -> Option<u64> {
    let digits = name.strip_prefix(&format!("shard-{shard}-"))?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// One book of a shard: key, resting orders in dump order, pending stops in arrival order,
/// resting icebergs' hidden parts in dump order, resting pegs in arrival order.
type Section = (
    u32,
    Vec<RestingOrder>,
    Vec<NewOrder>,
    Vec<IcebergRecord>,
    Vec<RestingPeg>,
);

/// Every book that appeared, in order of first appearance.
fn sections(e: &ShardEngine) -> Vec<Section> {
    let mut out = Vec::new();
    e.replay
        .for_each_book(&mut |key, view: Option<BookView<'_, _>>| {
            let (mut orders, mut stops, mut icebergs, mut pegs) = Default::default();
            if let Some(v) = view {
                let o: &mut Vec<RestingOrder> = &mut orders;
                o.reserve(v.len());
                v.for_each_order(&mut |r| o.push(*r));
                let st: &mut Vec<NewOrder> = &mut stops;
                v.for_each_pending_stop(&mut |r| st.push(*r));
                icebergs = view_icebergs(&v);
                pegs = view_pegs(&v);
            }
            out.push((key, orders, stops, icebergs, pegs));
        });
    out
}

fn hash_of(sections: &[Section]) -> StateHash {
    let mut h = StateHasher::new();
    for (key, orders, stops, icebergs, pegs) in sections {
        h.add_section(
            *key,
            orders.len(),
            |f| orders.iter().for_each(f),
            stops.len(),
            |f| stops.iter().for_each(f),
            Hidden { icebergs, pegs },
        );
    }
    h.finish()
}

/// The shard's state hash (the instrument journal's: one section per book that appeared,
/// in order of first appearance, key 0 the default book, `id + 1` instrument `id`).
pub fn state_hash(e: &ShardEngine) -> StateHash {
    hash_of(&sections(e))
}

fn settings_text(e: &ShardEngine, shard: usize) -> String {
    let symbols: Vec<&str> = e.symbols.iter().map(Symbol::as_str).collect();
    format!(
        "{SETTINGS_HEAD}\nshard={shard}\nsymbols={}\n",
        symbols.join(",")
    )
}

/// Encodes the shard's state after its last applied command. Also returns the state hash.
pub fn encode(e: &ShardEngine, shard: usize) -> Result<(Vec<u8>, StateHash), String> {
    let sections = sections(e);
    let size: usize = sections
        .iter()
        .map(|(_, o, st, ice, pegs)| {
            28 + o.len() * (ORDER_BYTES + 2 + 33)
                + st.len() * STOP_BYTES
                + ice.len() * ICEBERG_BYTES
                + pegs.len() * PEG_BYTES
        })
        .sum();
    let mut b = SnapshotBytes::new(e.applied, e.chain, &settings_text(e, shard), size);
    for (key, orders, stops, icebergs, pegs) in &sections {
        b.book(
            *key,
            orders.len(),
            |f| orders.iter().for_each(f),
            &LevelRecord::from_orders(orders),
            stops,
            Hidden { icebergs, pegs },
        );
    }
    let hash = hash_of(&sections);
    Ok((b.finish(hash), hash))
}

/// Rebuilds a shard's state from a snapshot's bytes (see the module docs for the checks);
/// `seq` is the sequence its object name gives.
pub fn decode(bytes: &[u8], shard: usize, seq: u64) -> Result<ShardEngine, String> {
    let snap = decode_snapshot(bytes)?;
    if snap.seq != seq {
        return Err(format!(
            "it holds sequence {}, its name says {seq}",
            snap.seq
        ));
    }
    let mut lines = snap.settings.lines();
    if lines.next() != Some(SETTINGS_HEAD) {
        return Err(format!("settings do not start with `{SETTINGS_HEAD}`"));
    }
    if lines.next() != Some(format!("shard={shard}").as_str()) {
        return Err(format!("settings do not name shard {shard}"));
    }
    let symbols: Vec<Symbol> = match lines.next().and_then(|l| l.strip_prefix("symbols=")) {
        Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|s| Symbol::new(s).map_err(|e| format!("symbol `{s}`: {e}")))
            .collect::<Result<_, _>>()?,
        None => return Err("settings have no `symbols=` line".into()),
    };
    let mut fresh = ShardEngine::new()?;
    let mut buf = String::with_capacity(256);
    for section in &snap.books {
        let key = section.key;
        let symbol = match key {
            0 => None,
            k => {
                let Some(&sym) = symbols.get(k as usize - 1) else {
                    return Err(format!("book key {k} names no symbol of the settings"));
                };
                Some(sym)
            }
        };
        let appear = |fresh: &mut ShardEngine,
                      buf: &mut String,
                      cmd: &Command,
                      want: &str,
                      what: String|
         -> Result<(), String> {
            buf.clear();
            let got = fresh.apply_parsed(0, symbol, cmd, buf);
            if got.lines().count() != 1 || !got.contains(want) {
                return Err(format!("{what} did not come back as recorded: {got}"));
            }
            Ok(())
        };
        if section.is_empty() {
            // Appears, unchanged: nothing rests in it, so the cancel is rejected.
            appear(
                &mut fresh,
                &mut buf,
                &Command::Cancel { id: u64::MAX },
                ",REJ,",
                format!("empty book {key}"),
            )?;
        }
        // An iceberg comes back as one showing its recorded part, then gets its display.
        for (o, iceberg) in section.paired()? {
            let cmd = rest_again(o, iceberg);
            appear(
                &mut fresh,
                &mut buf,
                &cmd,
                ",ACK,",
                format!("order {} of book {key}", o.id),
            )?;
            if let Some(r) = iceberg {
                if !fresh
                    .replay
                    .restore_iceberg(symbol, r.id, r.display, r.reserve)
                {
                    return Err(format!("iceberg {} of book {key} did not come back", r.id));
                }
            }
        }
        // Then the pegs in arrival order (no two of them cross at the midpoint the orders
        // make) and the pending stops in arrival order (with no trade printed, each only
        // waits): each is only acknowledged.
        let pegs = section.pegs.iter().map(|p| (peg_order(p), "resting peg"));
        let stops = section.stops.iter().map(|o| (*o, "pending stop"));
        for (o, what) in pegs.chain(stops) {
            appear(
                &mut fresh,
                &mut buf,
                &Command::New(o),
                ",ACK,",
                format!("{what} {} of book {key}", o.id),
            )?;
        }
        if key > 0 && fresh.symbols.len() != key as usize {
            return Err(format!(
                "book key {key} came back as instrument {}",
                fresh.symbols.len()
            ));
        }
    }
    if fresh.symbols.len() != symbols.len() {
        return Err(format!(
            "{} symbols recorded, {} books of instruments",
            symbols.len(),
            fresh.symbols.len()
        ));
    }
    let rebuilt = sections(&fresh);
    let hash = hash_of(&rebuilt);
    if hash != snap.hash {
        return Err(format!(
            "state hash {hash} of its orders is not the recorded {}",
            snap.hash
        ));
    }
    let same_levels = rebuilt.len() == snap.books.len()
        && rebuilt
            .iter()
            .zip(&snap.books)
            .all(|((k, o, ..), s)| *k == s.key && LevelRecord::from_orders(o) == s.levels);
    if !same_levels {
        return Err("the books or their level aggregates differ from the recorded ones".into());
    }
    fresh.applied = snap.seq;
    fresh.chain = snap.chain;
    Ok(fresh)
}

/// Creates (or finds) the snapshot bucket, in the object store's stream layout (stream
/// `OBJ_<bucket>`, chunk and metadata subjects), through the stream API as the leases are.
pub async fn bucket(js: &jetstream::Context, replicas: usize) -> Result<ObjectStore, String> {
    let cfg = stream::Config {
        name: format!("OBJ_{BUCKET}"),
        subjects: vec![format!("$O.{BUCKET}.C.>"), format!("$O.{BUCKET}.M.>")],
        num_replicas: replicas,
        storage: stream::StorageType::File,
        discard: stream::DiscardPolicy::New,
        allow_rollup: true,
        allow_direct: true,
        ..Default::default()
    };
    log::retry(|| js.get_or_create_stream(cfg.clone()))
        .await
        .map_err(|e| format!("snapshot bucket: {e}"))?;
    log::retry(|| js.get_object_store(BUCKET))
        .await
        .map_err(|e| format!("snapshot bucket: {e}"))
}

/// Bound on one object store request.
const REQUEST: Duration = Duration::from_secs(5);

/// Sequences of shard `shard`'s stored snapshots, newest first.
pub async fn list(store: &ObjectStore, shard: usize) -> Result<Vec<u64>, String> {
    let mut out = Vec::new();
    let mut l = tokio::time::timeout(REQUEST, store.list())
        .await
        .map_err(|_| "list timed out".to_string())?
        .map_err(|e| format!("list: {e}"))?;
    while let Some(info) = tokio::time::timeout(REQUEST, l.next())
        .await
        .map_err(|_| "list timed out".to_string())?
    {
        let info = info.map_err(|e| format!("list: {e}"))?;
        if let Some(seq) = parse_object_name(shard, &info.name) {
            out.push(seq);
        }
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    Ok(out)
}

/// The bytes of shard `shard`'s snapshot at `seq`.
pub async fn get(store: &ObjectStore, shard: usize, seq: u64) -> Result<Vec<u8>, String> {
    tokio::time::timeout(REQUEST, async {
        let mut o = store
            .get(object_name(shard, seq))
            .await
            .map_err(|e| format!("get: {e}"))?;
        let mut v = Vec::new();
        o.read_to_end(&mut v)
            .await
            .map_err(|e| format!("read: {e}"))?;
        Ok(v)
    })
    .await
    .map_err(|_| "get timed out".to_string())?
}

/// Stores `bytes` as shard `shard`'s snapshot at `seq`, then deletes all but the newest
/// [`KEEP`] of the shard.
pub async fn put(store: &ObjectStore, shard: usize, seq: u64, bytes: &[u8]) -> Result<(), String> {
    tokio::time::timeout(REQUEST, async {
        let mut data = bytes;
        store
            .put(object_name(shard, seq).as_str(), &mut data)
            .await
            .map_err(|e| format!("put: {e}"))
    })
    .await
    .map_err(|_| "put timed out".to_string())??;
    for old in list(store, shard).await?.into_iter().skip(KEEP) {
        let _ = tokio::time::timeout(REQUEST, store.delete(object_name(shard, old))).await;
    }
    Ok(())
}

/// The newest usable snapshot of shard `shard` whose sequence is at most `last` (the
/// command stream's last), each refusal said on stderr; `None` (said too) to consume from
/// sequence 1.
pub async fn load_latest(
    store: &ObjectStore,
    shard: usize,
    last: u64,
    node: &str,
) -> Option<ShardEngine> {
    let seqs = match list(store, shard).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "node {node}: shard {shard}: snapshots not listed ({e}); consuming from sequence 1"
            );
            return None;
        }
    };
    for seq in seqs {
        let name = object_name(shard, seq);
        let outcome = if seq > last {
            Err(format!(
                "its sequence is beyond the command stream's last ({last})"
            ))
        } else {
            match get(store, shard, seq).await {
                Ok(bytes) => decode(&bytes, shard, seq),
                Err(e) => Err(e),
            }
        };
        match outcome {
            Ok(e) => {
                eprintln!(
                    "node {node}: shard {shard}: loaded snapshot {name} (state_hash={}); consuming from sequence {}",
                    state_hash(&e),
                    seq + 1
                );
                return Some(e);
            }
            Err(why) => eprintln!(
                "node {node}: shard {shard}: snapshot {name} refused: {why}; trying the previous one"
            ),
        }
    }
    eprintln!("node {node}: shard {shard}: no usable snapshot; consuming from sequence 1");
    None
}

/// For tests of the loader (this crate's and `tests/snapshot_join.rs`): the snapshot
/// `bytes` renumbered to `seq`, with the last order of its last non-empty book dropped,
/// the recorded state hash kept and the CRC recomputed, so that only the state-hash check
/// can refuse it. Panics on bytes that are not a snapshot (a test's own input).
#[doc(hidden)]
pub fn forge_without_last_order(bytes: &[u8], seq: u64) -> Vec<u8> {
    let snap = decode_snapshot(bytes).expect("a snapshot to forge");
    let mut b = SnapshotBytes::new(seq, snap.chain, &snap.settings, 0);
    let last_full = snap
        .books
        .iter()
        .rposition(|s| !s.orders.is_empty())
        .expect("a snapshot with an order to drop");
    for (i, s) in snap.books.iter().enumerate() {
        let mut orders = s.orders.clone();
        if i == last_full {
            orders.pop();
        }
        b.book(
            s.key,
            orders.len(),
            |f| orders.iter().for_each(f),
            &LevelRecord::from_orders(&orders),
            &s.stops,
            s.hidden(),
        );
    }
    b.finish(snap.hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(lines: &[&str]) -> ShardEngine {
        let mut e = ShardEngine::new().unwrap();
        let mut out = String::new();
        for (i, l) in lines.iter().enumerate() {
            e.apply(i as u64 + 1, l, &mut out).unwrap();
        }
        e
    }

    const HEAD: [&str; 6] = [
        "MSFT:N,1,1,S,L,101,5",
        "AAPL:N,1,2,B,L,99,4,IOC",
        "AAPL:N,2,2,B,L,99,4,GTC,CB",
        "AAPL:N,3,2,S,L,100,2",
        "IBM:C,7",
        "MSFT:N,2,4,B,L,101,2",
    ];
    const TAIL: [&str; 3] = [
        "AAPL:N,4,3,S,L,99,1",
        "AAPL:R,2,100,6",
        "AAPL:N,5,2,S,L,99,9",
    ];

    /// Snapshot + tail gives the same events as the whole stream from 1, and the state
    /// hash a fresh engine reaches over every command (hand-checked lines: two books
    /// with resting orders, an empty book that appeared by a rejected cancel, and an
    /// order with STP mode CB whose replace crosses its own owner's resting sell: the
    /// STP cancels happen only if the snapshot kept the mode).
    #[test]
    fn snapshot_then_tail_equals_the_whole_stream() {
        let whole = run(&[&HEAD[..], &TAIL[..]].concat());
        let head = run(&HEAD);
        let (bytes, hash) = encode(&head, 0).unwrap();
        assert_eq!(hash, state_hash(&head));
        let mut back = decode(&bytes, 0, HEAD.len() as u64).unwrap();
        assert_eq!(back.applied, 6);
        assert_eq!(state_hash(&back), hash);
        assert_eq!(back.symbols, head.symbols);
        let (mut from_snap, mut from_one) = (String::new(), String::new());
        let mut again = run(&HEAD);
        for (i, l) in TAIL.iter().enumerate() {
            back.apply(7 + i as u64, l, &mut from_snap).unwrap();
            again.apply(7 + i as u64, l, &mut from_one).unwrap();
        }
        assert_eq!(from_snap, from_one);
        assert!(from_one.contains(",STP,"), "{from_one}");
        assert_eq!(state_hash(&back), state_hash(&whole));
        assert_eq!(back.chain, whole.chain);
        let _ = encode(&whole, 0).unwrap();
    }

    /// Pending stops are carried: two stops wait in the head; in the tail a trade at 101
    /// fires the buy stop, in the run from the snapshot exactly as in the whole stream
    /// (its trigger's `ACK`), and the sell stop-limit is still pending at the end, so the
    /// state hashes (which cover it) agree only if it came back.
    #[test]
    fn pending_stops_come_back_from_a_snapshot() {
        const HEAD: [&str; 3] = [
            "AAPL:N,1,1,S,L,101,5",
            "AAPL:N,2,2,B,S101,,3",
            "AAPL:N,3,3,S,T99,98,2",
        ];
        const TAIL: [&str; 2] = ["AAPL:N,4,4,B,L,101,1", "AAPL:N,5,5,S,M,,1"];
        let whole = run(&[&HEAD[..], &TAIL[..]].concat());
        let head = run(&HEAD);
        let (bytes, hash) = encode(&head, 0).unwrap();
        let stops: usize = decode_snapshot(&bytes)
            .unwrap()
            .books
            .iter()
            .map(|b| b.stops.len())
            .sum();
        assert_eq!(stops, 2);
        let mut back = decode(&bytes, 0, HEAD.len() as u64).unwrap();
        assert_eq!(state_hash(&back), hash);
        let (mut from_snap, mut from_one) = (String::new(), String::new());
        let mut again = run(&HEAD);
        for (i, l) in TAIL.iter().enumerate() {
            back.apply(4 + i as u64, l, &mut from_snap).unwrap();
            again.apply(4 + i as u64, l, &mut from_one).unwrap();
        }
        assert_eq!(from_snap, from_one);
        assert!(from_one.contains(",ACK,2"), "{from_one}");
        assert_eq!(state_hash(&back), state_hash(&whole));
    }

    /// Resting midpoint pegs are carried, in arrival order across sides: in the head
    /// (touch 98/104, midpoint 101) sell peg 3 (cap 103) arrives before buy peg 4 (no cap,
    /// STP CB), and sell peg 5 (cap 102, STP DC) of buy 4's owner after both. In the tail
    /// bid 102 moves the midpoint to 103: buy 4 crosses sell 3 as the later arrival
    /// (taker 4), then sell 5 meets its owner's buy 4 and its DC mode cancels 1 of each;
    /// the run from the snapshot gives exactly the whole stream's events, and the state
    /// hashes (which cover the peg still resting) agree.
    #[test]
    fn midpoint_pegs_come_back_from_a_snapshot() {
        const HEAD: [&str; 5] = [
            "AAPL:N,1,1,B,L,98,10",
            "AAPL:N,2,2,S,L,104,10",
            "AAPL:N,3,3,S,P,103,5",
            "AAPL:N,4,4,B,P,,6,GTC,CB",
            "AAPL:N,5,4,S,P,102,3,GTC,DC",
        ];
        const TAIL: [&str; 1] = ["AAPL:N,6,5,B,L,102,1"];
        let whole = run(&[&HEAD[..], &TAIL[..]].concat());
        let head = run(&HEAD);
        let (bytes, hash) = encode(&head, 0).unwrap();
        let pegs: Vec<u64> = decode_snapshot(&bytes).unwrap().books[0]
            .pegs
            .iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(pegs, [3, 4, 5]);
        let mut back = decode(&bytes, 0, HEAD.len() as u64).unwrap();
        assert_eq!(state_hash(&back), hash);
        let (mut from_snap, mut from_one) = (String::new(), String::new());
        let mut again = run(&HEAD);
        back.apply(6, TAIL[0], &mut from_snap).unwrap();
        again.apply(6, TAIL[0], &mut from_one).unwrap();
        assert_eq!(from_snap, from_one);
        assert!(from_one.contains("TRD,4,3,103,5"), "{from_one}");
        assert!(from_one.contains("CXL,5,1,STP"), "{from_one}");
        assert_eq!(state_hash(&back), state_hash(&whole));
        // The hash covers the pegs: without the last one (same lit book) it differs.
        assert_ne!(state_hash(&run(&HEAD[..4])), hash);
    }

    fn refusal(r: Result<ShardEngine, String>) -> String {
        match r {
            Ok(_) => panic!("a snapshot that does not match was accepted"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_snapshot_that_does_not_match_is_refused_with_the_reason() {
        let head = run(&HEAD);
        let (bytes, _) = encode(&head, 1).unwrap();
        assert!(refusal(decode(&bytes, 0, 6)).contains("shard 0"));
        assert!(refusal(decode(&bytes, 1, 7)).contains("name says 7"));
        let mut flipped = bytes.clone();
        flipped[20] ^= 1;
        assert!(refusal(decode(&flipped, 1, 6)).contains("CRC"));
        // Valid CRC, orders that do not give the recorded hash.
        let seq = decode_snapshot(&bytes).unwrap().seq;
        let forged = forge_without_last_order(&bytes, seq);
        assert!(refusal(decode(&forged, 1, 6)).contains("state hash"));
    }

    #[test]
    fn object_names_carry_shard_and_sequence() {
        assert_eq!(object_name(3, 42), "shard-3-00000000000000000042");
        assert_eq!(parse_object_name(3, &object_name(3, 42)), Some(42));
        assert_eq!(parse_object_name(1, &object_name(3, 42)), None);
        assert_eq!(parse_object_name(3, "shard-3-42"), None);
    }
}
