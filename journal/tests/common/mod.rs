//! Shared by the journal's integration tests: a seeded command stream that covers every
//! variant and field (valid or not: the journal records what came in), and the record
//! sizes and segment layout as the format document states them, written out here by hand
//! so the tests do not take them from the code under test.
#![allow(dead_code)]

use flowmatch_core::{Command, NewOrder, OrdType, Side, Stp, Tif};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Bytes of a segment header (format doc).
pub const HEADER: u64 = 36;
/// Bytes of a record frame (format doc).
pub const FRAME: u64 = 16;

/// Payload bytes of the largest record: a stop, stop-limit or iceberg `New` (the codec's
/// table: the 34-byte New layout and an 8-byte trigger or display).
pub const LARGEST_PAYLOAD: u64 = 42;

/// A record's length on disk for `c`, from the codec's layout table.
pub fn record_len(c: &Command) -> u64 {
    FRAME
        + match c {
            Command::New(o) if !matches!(o.ord_type, OrdType::Limit | OrdType::Market) => {
                LARGEST_PAYLOAD
            }
            Command::New(_) => 34,
            Command::Cancel { .. } => 9,
            Command::Replace { .. } => 25,
        }
}

/// `n` seeded commands: every variant, every enum value, extreme and ordinary numbers,
/// prices present or absent regardless of the order type.
pub fn commands(seed: u64, n: usize) -> Vec<Command> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pick_u64 = |rng: &mut ChaCha8Rng| match rng.random_range(0..4) {
        0 => 0,
        1 => u64::MAX,
        _ => rng.random_range(1..1000),
    };
    let pick_i64 = |rng: &mut ChaCha8Rng| match rng.random_range(0..5) {
        0 => i64::MIN,
        1 => i64::MAX,
        2 => -rng.random_range(1..1000),
        _ => rng.random_range(0..1000),
    };
    (0..n)
        .map(|_| match rng.random_range(0..3) {
            0 => Command::New(NewOrder {
                id: pick_u64(&mut rng),
                account: match rng.random_range(0..3) {
                    0 => 0,
                    1 => u32::MAX,
                    _ => rng.random_range(1..10),
                },
                side: [Side::Buy, Side::Sell][rng.random_range(0..2)],
                ord_type: match rng.random_range(0..5) {
                    0 => OrdType::Limit,
                    1 => OrdType::Market,
                    2 => OrdType::Stop {
                        trigger: pick_i64(&mut rng),
                    },
                    3 => OrdType::Iceberg {
                        display: pick_u64(&mut rng),
                    },
                    _ => OrdType::StopLimit {
                        trigger: pick_i64(&mut rng),
                    },
                },
                price: if rng.random_bool(0.8) {
                    Some(pick_i64(&mut rng))
                } else {
                    None
                },
                qty: pick_u64(&mut rng),
                tif: [Tif::Gtc, Tif::Ioc, Tif::Fok, Tif::Post][rng.random_range(0..4)],
                stp: [
                    Stp::None,
                    Stp::CancelTaker,
                    Stp::CancelMaker,
                    Stp::CancelBoth,
                    Stp::DecrementCancel,
                ][rng.random_range(0..5)],
            }),
            1 => Command::Cancel {
                id: pick_u64(&mut rng),
            },
            _ => Command::Replace {
                id: pick_u64(&mut rng),
                price: pick_i64(&mut rng),
                qty: pick_u64(&mut rng),
            },
        })
        .collect()
}

/// Where each record lands when `cmds` are written from sequence 1 into segments of at
/// most `segment_bytes`: `(segment index, byte offset)` per record, computed from the
/// format doc's rule (a record that would pass the limit starts the next segment).
pub fn layout(cmds: &[Command], segment_bytes: u64) -> Vec<(u64, u64)> {
    let mut seg = 0;
    let mut len = HEADER;
    cmds.iter()
        .map(|c| {
            let n = record_len(c);
            if len + n > segment_bytes {
                seg += 1;
                len = HEADER;
            }
            let at = (seg, len);
            len += n;
            at
        })
        .collect()
}
