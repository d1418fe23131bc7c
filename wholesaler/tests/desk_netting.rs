//! The netting desk against a case worked by hand (every number below was computed on
//! paper from the rules in `wholesaler/src/desk`, not by running the code): three clients,
//! one day of flow at $20.00, a hedge bought through a two-level book, a settlement at
//! $20.10, then the front month settles at -$37.63 while the desk sells its hedge into a
//! thin negative bid and the clients are rolled (or closed out) at settlement prices.

use flowmatch_core::{OrderBook, Side};
use flowmatch_wholesaler::desk::{
    ClientReject, DeskConfig, NettingDesk, DESK_CLIENTS, DESK_HEDGE, EXCHANGE, FIRST_CLIENT, MAKERS,
};

const A: usize = 0;
const B: usize = 1;

fn cfg() -> DeskConfig {
    DeskConfig {
        contracts: 2,
        contract_size: 1000,
        exchange_fee: 150,
        margin_pct: 100,
        margin_floor: 100,
    }
}

fn pnl(d: &NettingDesk, party: usize) -> i64 {
    d.ledger().account(party).pnl()
}

#[test]
fn hand_worked_netting_through_a_negative_settlement() {
    let mut d = NettingDesk::new(cfg(), 3, &[2000, 2500]).unwrap();
    d.deposit(0, 3_000_000);
    d.deposit(1, 3_000_000);
    d.deposit(2, 1_000_000);

    // Day 1: the desk's price is $20.00.
    d.client_order(0, A, Side::Buy, 1500, 2000).unwrap();
    d.client_order(1, A, Side::Buy, 1000, 2000).unwrap();
    d.client_order(2, A, Side::Sell, 500, 2000).unwrap();
    // Client 2's $10,000 margins exactly 500 bbl at $20: one more is refused.
    assert_eq!(
        d.client_order(2, A, Side::Sell, 1, 2000),
        Err(ClientReject::Margin)
    );
    // 3,000 bbl traded, 2,000 net long: 2 contracts to hedge instead of 3.
    assert_eq!(d.client_net(A), 2000);
    assert_eq!(d.contracts_for(d.client_net(A)), 2);

    assert!(d.post_maker(A, Side::Sell, 2001, 1));
    assert!(d.post_maker(A, Side::Sell, 2003, 3));
    assert!(d.post_maker(A, Side::Buy, 1999, 2));
    assert_eq!(d.mid(A), Some(2000));
    let h = d.hedge_to(A, 2, 0);
    assert_eq!((h.filled, h.unfilled), (2, 0));
    // 1 @ 20.01 and 1 @ 20.03 against a 20.00 mid: $10 + $30.
    assert_eq!(h.slippage, 4_000);
    let prices: Vec<i64> = d.fills().iter().map(|f| f.price).collect();
    assert_eq!(prices, [2001, 2003]);

    d.settle(A, 2010);
    assert_eq!(d.ledger().account(FIRST_CLIENT).balance, 3_015_000);
    assert_eq!(d.ledger().account(FIRST_CLIENT + 1).balance, 3_010_000);
    assert_eq!(d.ledger().account(FIRST_CLIENT + 2).balance, 995_000);
    assert_eq!(pnl(&d, DESK_CLIENTS), -20_000);
    assert_eq!(pnl(&d, DESK_HEDGE), 15_700); // 16,000 variation margin less $3 fees
    assert_eq!(pnl(&d, MAKERS), -16_000);
    assert_eq!(pnl(&d, EXCHANGE), 300);

    // Day 2: the desk rolls its hedge into a thin, negative book.
    d.cancel_makers(A);
    assert!(d.book(A).is_empty());
    assert!(d.post_maker(A, Side::Buy, -3000, 1));
    assert!(d.post_maker(A, Side::Buy, -4000, 5));
    assert!(d.post_maker(A, Side::Sell, -2900, 3));
    assert!(d.post_maker(B, Side::Buy, 2040, 2));
    assert!(d.post_maker(B, Side::Sell, 2050, 2));
    assert_eq!(d.mid(A), Some(-2950));
    let h = d.hedge_to(A, 0, 0);
    assert_eq!((h.filled, h.unfilled), (-2, 0));
    // Sold 1 @ -30.00 and 1 @ -40.00 against a -29.50 mid: $500 + $10,500.
    assert_eq!(h.slippage, 1_100_000);
    let h = d.hedge_to(B, 2, 0);
    assert_eq!((h.filled, h.slippage), (2, 10_000));
    assert_eq!(d.hedge(A), 0);
    assert_eq!(d.hedge(B), 2);

    d.settle(A, -3763);
    d.settle(B, 2043);
    // Longs lose $57.73 a barrel: more than they put in.
    assert_eq!(d.ledger().account(FIRST_CLIENT).balance, -5_644_500);
    assert_eq!(d.ledger().account(FIRST_CLIENT + 1).balance, -2_763_000);
    assert_eq!(d.ledger().account(FIRST_CLIENT + 2).balance, 3_881_500);

    let r = d.roll_clients(A, B, -3763, 2043);
    assert_eq!((r.rolled, r.closed), (1, 2));
    assert_eq!((r.units_closed, r.units_opened), (3000, 500));
    assert_eq!(d.ledger().account(FIRST_CLIENT).pos, [0, 0]);
    assert_eq!(d.ledger().account(FIRST_CLIENT + 2).pos, [0, -500]);
    assert_eq!(d.client_net(A), 0);
    assert_eq!(d.client_net(B), -500);

    let expected = [
        (FIRST_CLIENT, -8_644_500),
        (FIRST_CLIENT + 1, -5_763_000),
        (FIRST_CLIENT + 2, 2_881_500),
        (DESK_CLIENTS, 11_526_000),
        (DESK_HEDGE, -11_018_900),
        (MAKERS, 11_018_000),
        (EXCHANGE, 900),
    ];
    for (party, cents) in expected {
        assert_eq!(pnl(&d, party), cents, "party {party}");
    }
    // Two accounts below zero, owing $84,075.00 between them.
    let below: Vec<i64> = (0..3)
        .map(|c| d.ledger().account(FIRST_CLIENT + c).balance)
        .filter(|b| *b < 0)
        .collect();
    assert_eq!(below.iter().sum::<i64>(), -8_407_500);
    let c = d.ledger().conservation(&[-3763, 2043]);
    assert!(c.holds(), "{c:?}");
}

#[test]
fn negative_settlement_signs() {
    // A long of 100 bbl bought at +$1.00 settled at -$2.00 loses $300; the short wins it.
    let mut d = NettingDesk::new(cfg(), 2, &[100, 100]).unwrap();
    d.deposit(0, 100_000);
    d.deposit(1, 100_000);
    d.client_order(0, A, Side::Buy, 100, 100).unwrap();
    d.client_order(1, A, Side::Sell, 100, 100).unwrap();
    assert_eq!(d.client_net(A), 0); // fully crossed: nothing to hedge
    assert_eq!(d.contracts_for(0), 0);
    d.settle(A, -200);
    assert_eq!(pnl(&d, FIRST_CLIENT), -30_000);
    assert_eq!(pnl(&d, FIRST_CLIENT + 1), 30_000);
    assert_eq!(pnl(&d, DESK_CLIENTS), 0);
    // Margin at a negative price uses the floor: 100 bbl at |-2.00| = $200 of margin.
    assert_eq!(d.margin(100, -200), 20_000);
    assert_eq!(d.margin(-100, 50), 10_000);
    assert_eq!(d.contracts_for(-1500), -2);
    assert_eq!(d.contracts_for(1499), 1);
}

#[test]
fn bad_config_names_the_field() {
    let mut c = cfg();
    c.contract_size = 0;
    let e = NettingDesk::new(c, 1, &[0, 0]).err().unwrap();
    assert!(e.contains("contract_size"), "{e}");
    let mut c = cfg();
    c.margin_pct = 0;
    assert!(c.validate().unwrap_err().contains("margin_pct"));
    let d = NettingDesk::new(cfg(), 1, &[0]);
    assert!(d.is_err());
    let mut d = NettingDesk::new(cfg(), 1, &[0, 0]).unwrap();
    assert_eq!(
        d.client_order(0, A, Side::Buy, 0, 1),
        Err(ClientReject::BadQty)
    );
    assert_eq!(
        d.client_order(5, A, Side::Buy, 1, 1),
        Err(ClientReject::Unknown)
    );
    assert_eq!(
        d.client_order(0, 7, Side::Buy, 1, 1),
        Err(ClientReject::Unknown)
    );
}
