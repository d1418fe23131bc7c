//! The fast book against the reference book on arbitrary command streams (decoded from
//! the bytes into a narrow price band, few ids and accounts, so orders meet), under every
//! policy: the same events for every command, the same book at the end, and the same
//! level views.
#![no_main]

use flowmatch_core::{
    BookConfig, Command, FastBook, MatchPolicy, NewOrder, OrdType, OrderBook, ReferenceBook, Side,
    Stp, Tif,
};
use libfuzzer_sys::fuzz_target;

const TIFS: [Tif; 4] = [Tif::Gtc, Tif::Ioc, Tif::Fok, Tif::Post];
const STPS: [Stp; 5] = [
    Stp::None,
    Stp::CancelTaker,
    Stp::CancelMaker,
    Stp::CancelBoth,
    Stp::DecrementCancel,
];

/// Six bytes per command: kind, id, account/side, price, qty, tif/stp.
fn decode(b: &[u8]) -> Command {
    let id = (b[1] % 24) as u64 + 1;
    let price = 100 + (b[3] % 8) as i64;
    let qty = (b[4] % 24) as u64; // 0 is a valid (rejected) quantity
    match b[0] % 8 {
        0 => Command::Cancel { id },
        1 => Command::Replace {
            id,
            price,
            qty: qty.max(1),
        },
        k => Command::New(NewOrder {
            id,
            account: (b[2] % 3) as u32 + 1,
            side: if b[2] & 0x80 == 0 {
                Side::Buy
            } else {
                Side::Sell
            },
            ord_type: if k == 2 {
                OrdType::Market
            } else {
                OrdType::Limit
            },
            price: if k == 2 { None } else { Some(price) },
            qty,
            tif: TIFS[(b[5] % 4) as usize],
            stp: STPS[((b[5] >> 2) % 5) as usize],
        }),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&p, rest)) = data.split_first() else {
        return;
    };
    let policy = match p % 3 {
        0 => MatchPolicy::PriceTime,
        1 => MatchPolicy::ProRata { top_order: false },
        _ => MatchPolicy::ProRata { top_order: true },
    };
    // A small capacity: pre-allocating the default 65,536 orders per input would make
    // the target run at tens of inputs per second.
    let cfg = BookConfig {
        policy,
        capacity: 64,
        ..BookConfig::default()
    };
    let mut fast = FastBook::new(cfg);
    let mut reference = ReferenceBook::new(cfg);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for chunk in rest.chunks_exact(6) {
        let cmd = decode(chunk);
        a.clear();
        b.clear();
        fast.apply(&cmd, &mut a);
        reference.apply(&cmd, &mut b);
        assert_eq!(a, b, "{cmd:?}");
    }
    assert_eq!(fast.snapshot(), reference.snapshot());
    for side in [Side::Buy, Side::Sell] {
        let (mut la, mut lb) = (Vec::new(), Vec::new());
        fast.for_each_level(side, &mut |l| la.push(*l));
        reference.for_each_level(side, &mut |l| lb.push(*l));
        assert_eq!(la, lb);
    }
});
