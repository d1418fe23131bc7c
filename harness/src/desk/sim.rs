//! One month of the netting desk under one roll schedule: seeded client flow against the
//! desk, liquidity providers refreshing a ladder on each contract's exchange book (thin
//! near the front month's expiry, draining into the close of its last two days), the
//! desk hedging its net after every step, moving the hedge over the last steps of the
//! roll day, settling variation margin at every close and rolling clients at the roll
//! day's settlement prices. Everything it returns is counted from the run.
//!
//! The client flow and the depth draw from two separate seeded streams, so the two roll
//! schedules of one seed see the same draws; they differ only where the desk's state
//! (positions, margin) makes them differ.

use super::scenario::DeskScenario;
use flowmatch_core::{OrderBook, Side};
use flowmatch_wholesaler::desk::{
    Conservation, NettingDesk, DESK_CLIENTS, DESK_HEDGE, EXCHANGE, FIRST_CLIENT, MAKERS,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// The front month's index among the desk's contracts.
pub const FRONT: usize = 0;
/// The next month's.
pub const NEXT: usize = 1;

/// One trading day's closing state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DayRow {
    /// The date.
    pub date: String,
    /// Front-month settlement, cents.
    pub front_settle: i64,
    /// Next-month settlement, cents.
    pub next_settle: i64,
    /// Contracts resting on the front month's book at the last step (both sides).
    pub front_depth: u64,
    /// The same on the next month's book.
    pub next_depth: u64,
    /// Sum of client positions in the front month at the close, barrels.
    pub client_front: i64,
    /// The same in the next month.
    pub client_next: i64,
    /// The desk's front-month hedge at the close, contracts.
    pub hedge_front: i64,
    /// The desk's next-month hedge, contracts.
    pub hedge_next: i64,
    /// Client accounts whose margin balance is below zero after the close.
    pub accounts_below_zero: usize,
}

/// What one schedule's month produced. Money in cents.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunResult {
    /// Roll schedule, trading days before the front month's last trading day.
    pub roll_days_before: usize,
    /// The roll date.
    pub roll_date: String,
    /// Front-month settlement the clients were rolled out at, cents.
    pub roll_front_settle: i64,
    /// Next-month settlement they were rolled into, cents.
    pub roll_next_settle: i64,
    /// Client orders filled by the desk.
    pub client_fills: u64,
    /// Client orders refused for margin.
    pub client_margin_rejects: u64,
    /// Client order draws that came to nothing (no equity for a single 100 bbl lot).
    pub client_no_size: u64,
    /// Barrels clients traded with the desk (absolute), flow only.
    pub client_barrels: u64,
    /// Barrels closed and reopened by the client roll.
    pub client_roll_barrels: u64,
    /// Clients rolled into the next month.
    pub clients_rolled: usize,
    /// Clients closed out at the roll (no equity to margin a new position).
    pub clients_closed_out: usize,
    /// Contracts the desk traded on the exchange outside the roll window.
    pub hedge_contracts_flow: u64,
    /// Contracts the desk traded in the roll window.
    pub hedge_contracts_roll: u64,
    /// Exchange fees the desk paid.
    pub desk_fees: i64,
    /// Hedge slippage against the book's mid when each order was sent, flow.
    pub slippage_flow: i64,
    /// The same, roll window.
    pub slippage_roll: i64,
    /// What the desk's front-month sales in the roll window made against the settlement
    /// price the clients were rolled out at (positive = the desk sold above it: the
    /// clients' roll price was worse than what the desk got).
    pub roll_vs_settlement: i64,
    /// Largest hedge shortfall after any step: contracts the desk wanted but the book's
    /// depth could not give it (both contracts).
    pub max_unhedged_contracts: u64,
    /// The desk's front-month hedge left at the close of the roll day, contracts (what
    /// the thin book would not take).
    pub hedge_left_on_roll_day: i64,
    /// Every client's P&L, cents, by client index.
    pub client_pnl: Vec<i64>,
    /// Client accounts below zero at the end.
    pub accounts_below_zero: usize,
    /// What they owe the desk, cents (positive).
    pub owed: i64,
    /// Desk P&L: its side of client trades plus its hedge, less fees.
    pub desk_pnl: i64,
    /// Of which the client side.
    pub desk_client_side_pnl: i64,
    /// Of which the hedge.
    pub desk_hedge_pnl: i64,
    /// Liquidity providers' P&L.
    pub makers_pnl: i64,
    /// Fees the exchange collected.
    pub exchange_fees: i64,
    /// Sum of every party's P&L (0 when conserved).
    pub conservation_total: i64,
    /// Day by day.
    pub days: Vec<DayRow>,
}

/// The front month's liquidity at step `k` of day `d`, percent of full.
fn front_liquidity(s: &DeskScenario, d: usize, k: usize) -> i64 {
    let days_left = s.days() - d; // 0 on the last trading day
    let ramp = (100 * (days_left + 1) / s.thin_days) as i64;
    let mut liq = ramp.clamp(s.min_liquidity_pct as i64, 100);
    if days_left <= 1 {
        let drain = s.close_dryup_pct as i64 * k as i64 / (s.steps_per_day - 1) as i64;
        liq = liq * (100 - drain) / 100;
    }
    liq.max(1)
}

/// The fair price at step `k` of day `d`: from the previous settlement to today's, the
/// move arriving late in the day (quadratic in time), exactly the settlement at the last
/// step.
fn fair(path: &[i64], d: usize, k: usize, steps: usize) -> i64 {
    let (prev, cur) = (path[d - 1] as i128, path[d] as i128);
    let t = (k + 1) as i128;
    let n = steps as i128;
    (prev + (cur - prev) * t * t / (n * n)) as i64
}

/// Replace the liquidity providers' ladder on `contract` around `mid`.
fn refresh_makers(
    desk: &mut NettingDesk,
    s: &DeskScenario,
    contract: usize,
    mid: i64,
    liq: i64,
    rng: &mut ChaCha8Rng,
) {
    desk.cancel_makers(contract);
    let half = s.maker_half_spread_cents * 100 / liq;
    let gap = s.maker_level_gap_cents * 100 / liq;
    for level in 0..s.maker_levels as i64 {
        for side in [Side::Buy, Side::Sell] {
            let base = s.maker_depth as i64 * liq / 100;
            let qty = (base * rng.random_range(50..=150) / 100).max(1) as u64;
            let price = match side {
                Side::Buy => mid - half - level * gap,
                Side::Sell => mid + half + level * gap,
            };
            desk.post_maker(contract, side, price, qty);
        }
    }
}

fn depth(desk: &NettingDesk, contract: usize) -> u64 {
    let mut total = 0u128;
    for side in [Side::Buy, Side::Sell] {
        desk.book(contract)
            .for_each_level(side, &mut |l| total += l.total_qty);
    }
    total as u64
}

/// One client order draw: reduce a position (30%) or add in the client's direction.
#[allow(clippy::too_many_arguments)]
fn client_draw(
    desk: &mut NettingDesk,
    res: &mut RunResult,
    long: &[bool],
    contract: usize,
    price: i64,
    client: usize,
    u_kind: f64,
    u_size: f64,
) {
    let a = desk.ledger().account(FIRST_CLIENT + client);
    let pos = a.pos[contract];
    let (side, units) = if pos != 0 && u_kind < 0.3 {
        let side = if pos > 0 { Side::Sell } else { Side::Buy };
        let lots = ((pos.abs() / 100) as f64 * (0.25 + 0.75 * u_size)).ceil() as i64;
        (side, (lots * 100).min(pos.abs()))
    } else {
        let mut marks = desk.last_settle().to_vec();
        marks[contract] = price;
        let equity = a.equity(&marks) - desk.margin(pos, price);
        let per_lot = desk.margin(100, price);
        let lots = if equity > 0 {
            (equity as f64 * (0.1 + 0.5 * u_size) / per_lot as f64) as i64
        } else {
            0
        };
        let side = if long[client] { Side::Buy } else { Side::Sell };
        (side, lots * 100)
    };
    if units <= 0 {
        res.client_no_size += 1;
        return;
    }
    match desk.client_order(client, contract, side, units, price) {
        Ok(()) => {
            res.client_fills += 1;
            res.client_barrels += units as u64;
        }
        Err(_) => res.client_margin_rejects += 1,
    }
}

/// Run the month with the desk rolling `roll_days_before` trading days before the front
/// month's last trading day. The scenario must be valid. Panics only if P&L is not
/// conserved to the cent (a bug, never an input).
pub fn run(s: &DeskScenario, roll_days_before: usize) -> RunResult {
    let days = s.days();
    let roll_day = days - roll_days_before;
    let steps = s.steps_per_day;
    let front = &s.front_settle_cents;
    let next = &s.next_settle_cents;
    let mut desk = NettingDesk::new(s.desk_config(), s.clients, &[front[0], next[0]])
        .expect("a validated scenario makes a valid desk");
    let mut setup = ChaCha8Rng::seed_from_u64(s.seed);
    let mut flow = ChaCha8Rng::seed_from_u64(s.seed ^ 0x5eed_f10e);
    let mut makers = ChaCha8Rng::seed_from_u64(s.seed ^ 0xdeb7_d00d);
    let long: Vec<bool> = (0..s.clients)
        .map(|c| {
            let dollars = setup.random_range(s.deposit_min_dollars..=s.deposit_max_dollars);
            desk.deposit(c, dollars * 100);
            setup.random_range(0..100) < s.long_bias_pct
        })
        .collect();
    let mut res = RunResult {
        roll_days_before,
        roll_date: s.dates[roll_day].clone(),
        roll_front_settle: front[roll_day],
        roll_next_settle: next[roll_day],
        client_fills: 0,
        client_margin_rejects: 0,
        client_no_size: 0,
        client_barrels: 0,
        client_roll_barrels: 0,
        clients_rolled: 0,
        clients_closed_out: 0,
        hedge_contracts_flow: 0,
        hedge_contracts_roll: 0,
        desk_fees: 0,
        slippage_flow: 0,
        slippage_roll: 0,
        roll_vs_settlement: 0,
        max_unhedged_contracts: 0,
        hedge_left_on_roll_day: 0,
        client_pnl: Vec::new(),
        accounts_below_zero: 0,
        owed: 0,
        desk_pnl: 0,
        desk_client_side_pnl: 0,
        desk_hedge_pnl: 0,
        makers_pnl: 0,
        exchange_fees: 0,
        conservation_total: 0,
        days: Vec::with_capacity(days),
    };
    let total_steps = days * steps;
    for d in 1..=days {
        let active = if d <= roll_day { FRONT } else { NEXT };
        for k in 0..steps {
            let fair_front = fair(front, d, k, steps);
            let fair_next = fair(next, d, k, steps);
            refresh_makers(
                &mut desk,
                s,
                FRONT,
                fair_front,
                front_liquidity(s, d, k),
                &mut makers,
            );
            refresh_makers(&mut desk, s, NEXT, fair_next, 100, &mut makers);
            let fair_active = if active == FRONT {
                fair_front
            } else {
                fair_next
            };
            let price = desk.mid(active).unwrap_or(fair_active);
            let step = (d - 1) * steps + k;
            let n = s.orders * (step + 1) / total_steps - s.orders * step / total_steps;
            for _ in 0..n {
                let client = flow.random_range(0..s.clients);
                let (u_kind, u_size) = (flow.random::<f64>(), flow.random::<f64>());
                client_draw(
                    &mut desk, &mut res, &long, active, price, client, u_kind, u_size,
                );
            }
            // The hedge: whole contracts against the client net, per contract; in the
            // roll window the front-month hedge is moved to the next month in equal parts.
            let window_start = steps - s.roll_steps;
            let in_window = d == roll_day && k >= window_start;
            let (cf, cn) = (desk.client_net(FRONT), desk.client_net(NEXT));
            let (t_front, t_next) = if in_window {
                let keep = (steps - k - 1) as i64;
                let tf = desk.contracts_for(cf * keep / s.roll_steps as i64);
                (tf, desk.contracts_for(cf + cn) - tf)
            } else {
                (desk.contracts_for(cf), desk.contracts_for(cn))
            };
            let before = desk.fills().len();
            let hf = desk.hedge_to(FRONT, t_front, fair_front);
            let hn = desk.hedge_to(NEXT, t_next, fair_next);
            let short = hf.unfilled.unsigned_abs() + hn.unfilled.unsigned_abs();
            res.max_unhedged_contracts = res.max_unhedged_contracts.max(short);
            let traded: u64 = desk.fills()[before..]
                .iter()
                .map(|f| f.qty.unsigned_abs())
                .sum();
            if in_window {
                res.hedge_contracts_roll += traded;
                res.slippage_roll += hf.slippage + hn.slippage;
                for f in &desk.fills()[before..] {
                    if f.contract == FRONT && f.side == Side::Sell {
                        res.roll_vs_settlement += (f.price - front[d]) * f.qty * s.contract_size;
                    }
                }
            } else {
                res.hedge_contracts_flow += traded;
                res.slippage_flow += hf.slippage + hn.slippage;
            }
        }
        desk.settle(FRONT, front[d]);
        desk.settle(NEXT, next[d]);
        if d == roll_day {
            res.hedge_left_on_roll_day = desk.hedge(FRONT);
            let r = desk.roll_clients(FRONT, NEXT, front[d], next[d]);
            res.clients_rolled = r.rolled;
            res.clients_closed_out = r.closed;
            res.client_roll_barrels = r.units_closed + r.units_opened;
        }
        let below = (0..s.clients)
            .filter(|c| desk.ledger().account(FIRST_CLIENT + c).balance < 0)
            .count();
        res.days.push(DayRow {
            date: s.dates[d].clone(),
            front_settle: front[d],
            next_settle: next[d],
            front_depth: depth(&desk, FRONT),
            next_depth: depth(&desk, NEXT),
            client_front: desk.client_net(FRONT),
            client_next: desk.client_net(NEXT),
            hedge_front: desk.hedge(FRONT),
            hedge_next: desk.hedge(NEXT),
            accounts_below_zero: below,
        });
    }
    let l = desk.ledger();
    res.client_pnl = (0..s.clients)
        .map(|c| l.account(FIRST_CLIENT + c).pnl())
        .collect();
    let balances = (0..s.clients).map(|c| l.account(FIRST_CLIENT + c).balance);
    res.accounts_below_zero = balances.clone().filter(|b| *b < 0).count();
    res.owed = -balances.filter(|b| *b < 0).sum::<i64>();
    res.desk_client_side_pnl = l.account(DESK_CLIENTS).pnl();
    res.desk_hedge_pnl = l.account(DESK_HEDGE).pnl();
    res.desk_pnl = res.desk_client_side_pnl + res.desk_hedge_pnl;
    res.desk_fees = l.account(DESK_HEDGE).fees;
    res.makers_pnl = l.account(MAKERS).pnl();
    res.exchange_fees = l.account(EXCHANGE).pnl();
    let c: Conservation = l.conservation(desk.last_settle());
    res.conservation_total = c.total_pnl;
    assert!(
        c.holds(),
        "P&L not conserved to the cent: total {} cents, parties {:?}",
        c.total_pnl,
        c.mismatched
    );
    let sum: i64 =
        res.client_pnl.iter().sum::<i64>() + res.desk_pnl + res.makers_pnl + res.exchange_fees;
    assert_eq!(
        sum, 0,
        "clients + desk + makers + exchange must sum to zero"
    );
    res
}
