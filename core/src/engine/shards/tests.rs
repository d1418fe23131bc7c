//! Unit tests of the shards: routing, sequence stamps, drain on shutdown.

use super::*;
use crate::command::Sink;
use crate::ingress::Full;

/// Echoes each message `(key, n)` as one event `(key, n, count seen so far)`.
#[derive(Default)]
struct Echo {
    seen: u64,
}
impl Processor<(u32, u32)> for Echo {
    type Event = (u32, u32, u64);
    fn process<S: Sink<(u32, u32, u64)>>(&mut self, m: &(u32, u32), sink: &mut S) {
        sink.event((m.0, m.1, self.seen));
        self.seen += 1;
    }
}

fn by_key(m: &(u32, u32)) -> usize {
    m.0 as usize
}

#[test]
fn bad_shapes_are_errors_naming_the_field() {
    let ok = ShardsConfig::default();
    let cases = [
        (
            ShardsConfig { shards: 0, ..ok },
            "shards must be 1 to 1024, not 0",
        ),
        (
            ShardsConfig { shards: 1025, ..ok },
            "shards must be 1 to 1024, not 1025",
        ),
        (
            ShardsConfig { producers: 0, ..ok },
            "producers must be 1 to 1024, not 0",
        ),
        (
            ShardsConfig { capacity: 0, ..ok },
            "capacity must be 1 to 16777216, not 0",
        ),
        (
            ShardsConfig {
                out_capacity: 0,
                ..ok
            },
            "out_capacity must be 1 to 67108864, not 0",
        ),
        (
            ShardsConfig {
                shards: 1024,
                producers: 1024,
                capacity: 1024,
                ..ok
            },
            "shards x producers x capacity must be 1 to 134217728, not 1073741824",
        ),
    ];
    for (cfg, msg) in cases {
        assert_eq!(cfg.validate().unwrap_err().to_string(), msg);
    }
    assert!(ok.validate().is_ok());
    let e = build::<(u32, u32), Echo, _, _>(&ok, vec![Echo::default()], || 0u64, by_key)
        .err()
        .unwrap();
    assert_eq!(
        e,
        ShardsError::ProcessorCount {
            shards: 2,
            processors: 1
        }
    );
    assert_eq!(
        KeyTable::new(3, vec![0, 2, 3, 1]).unwrap_err().to_string(),
        "routing table entry for key 2 names shard 3, but shards are 0 to 2"
    );
    assert!(KeyHash::new(0).is_err());
    assert!(KeyHash::new(MAX_SHARDS + 1).is_err());
}

#[test]
fn key_hash_is_balanced_on_consecutive_keys_and_table_routes_as_told() {
    for shards in [1usize, 2, 3, 7, 16] {
        let h = KeyHash::new(shards).unwrap();
        let mut count = vec![0u32; shards];
        for k in 0..70_000u32 {
            let s = h.shard(k);
            assert!(s < shards);
            count[s] += 1;
        }
        let (lo, hi) = (count.iter().min().unwrap(), count.iter().max().unwrap());
        // Equidistribution: within 1% of even over consecutive keys.
        assert!(
            (*hi - *lo) as f64 <= 0.01 * 70_000.0 / shards as f64,
            "{shards}: {count:?}"
        );
    }
    let t = KeyTable::new(4, vec![3, 3, 0, 1]).unwrap();
    assert_eq!((0..4).map(|k| t.shard(k)).collect::<Vec<_>>(), [3, 3, 0, 1]);
    // Past the table: the hash of the same shard count.
    let h = KeyHash::new(4).unwrap();
    for k in 4..1000 {
        assert_eq!(t.shard(k), h.shard(k));
    }
}

#[test]
fn stepped_shards_sequence_apart_and_route_out_of_range_modulo() {
    let cfg = ShardsConfig {
        shards: 3,
        producers: 2,
        capacity: 4,
        out_capacity: 64,
        ..ShardsConfig::default()
    };
    let procs = (0..3).map(|_| Echo::default()).collect();
    let Built {
        mut engines,
        mut routers,
        mut outputs,
    } = build(&cfg, procs, || 7u64, by_key).unwrap();
    // Key 4 routes to 4 mod 3 = 1.
    assert_eq!(routers[0].shard_of(&(4, 0)), 1);
    let batch = [
        Stamped::bare((0, 0)),
        Stamped::bare((1, 1)),
        Stamped::bare((4, 2)),
        Stamped::bare((0, 3)),
    ];
    assert_eq!(routers[0].send_slice(&batch), 4);
    assert_eq!(routers[1].try_send(Stamped::bare((2, 0))), Ok(2));
    // Shard 1's ring from producer 0 holds 2 of 4: two more fit, the third comes back,
    // and a slice stops at the first message that does not fit (a prefix is sent).
    assert_eq!(routers[0].send_slice(&[Stamped::bare((1, 9)); 2]), 2);
    assert_eq!(
        routers[0].send_slice(&[Stamped::bare((0, 10)), Stamped::bare((1, 11))]),
        1
    );
    assert_eq!(
        routers[0].try_send(Stamped::bare((1, 12))),
        Err(Full(Stamped::bare((1, 12))))
    );
    for e in engines.iter_mut() {
        while e.step() > 0 {}
    }
    let mut got = Vec::new();
    while outputs.poll(2, |o| {
        got.push((o.stamp(), o.output.source, o.output.event))
    }) > 0
    {}
    got.sort();
    let s = |seq, shard| ShardSeq { seq, shard };
    assert_eq!(
        got,
        [
            (s(1, 0), 0, (0, 0, 0)),
            (s(1, 1), 0, (1, 1, 0)),
            (s(1, 2), 1, (2, 0, 0)),
            (s(2, 0), 0, (0, 3, 1)),
            (s(2, 1), 0, (4, 2, 1)),
            (s(3, 0), 0, (0, 10, 2)),
            (s(3, 1), 0, (1, 9, 2)),
            (s(4, 1), 0, (1, 9, 3)),
        ]
    );
    assert_eq!(
        engines.iter().map(|e| e.sequence()).collect::<Vec<_>>(),
        [3, 4, 1]
    );
}

#[test]
fn placement_reports_shared_cores() {
    let cores = vec![
        core_affinity::CoreId { id: 0 },
        core_affinity::CoreId { id: 1 },
    ];
    let cfg = ShardsConfig {
        shards: 3,
        ..ShardsConfig::default()
    };
    let procs = (0..3).map(|_| Echo::default()).collect();
    let (h, routers, mut outputs) =
        start(&cfg, procs, || 0u64, by_key, &Placement::Cores(cores)).unwrap();
    let p = h.placement().to_vec();
    assert_eq!(
        p.iter()
            .map(|p| (p.core, p.sharing_with))
            .collect::<Vec<_>>(),
        [(Some(0), 1), (Some(1), 0), (Some(0), 1)]
    );
    assert!(h.shares_cores());
    assert!(h.describe_placement().starts_with("shard 0: core 0 ("));
    drop(routers);
    let reports = h.shutdown(&mut outputs, |_| {}).unwrap();
    assert_eq!(reports.len(), 3);
    assert!(reports.iter().all(|r| r.stats.messages == 0));
}
