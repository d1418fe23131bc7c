//! The netting desk: clients trade a product referencing a futures contract with the desk,
//! at the desk's price; the desk is the counterparty to every client trade, so clients'
//! buys and sells cross internally and only the desk's *net* exposure is hedged, in whole
//! contracts, on a simulated futures exchange (one flowmatch [`FastBook`] per contract,
//! where liquidity providers rest orders and the desk takes them with IOC market orders).
//!
//! Client positions, margin and mark-to-market live in the [`Ledger`]; the desk settles
//! variation margin daily at the exchange's settlement price, and rolls client positions
//! from the expiring contract to the next at settlement prices ([`NettingDesk::roll_clients`])
//! while it moves its own hedge through the exchange book ([`NettingDesk::hedge_to`]).
//! Prices are signed integer ticks, so a negative settlement is an ordinary number: a
//! long position loses `qty x (old - new)` and margin goes below zero when that exceeds
//! what the client put in.
//!
//! Parties in the ledger: [`EXCHANGE`] (collects fees), [`MAKERS`] (every resting order on
//! the exchange), [`DESK_CLIENTS`] (the desk's side of client trades), [`DESK_HEDGE`] (the
//! desk's futures), then clients from [`FIRST_CLIENT`] on.

use super::ledger::Ledger;
use flowmatch_core::{BookConfig, Command, Event, FastBook, NewOrder, OrderBook, Price, Side, Tif};

/// Ledger party: the exchange (fees).
pub const EXCHANGE: usize = 0;
/// Ledger party: the liquidity providers resting on the exchange.
pub const MAKERS: usize = 1;
/// Ledger party: the desk as counterparty to its clients.
pub const DESK_CLIENTS: usize = 2;
/// Ledger party: the desk's hedge on the exchange.
pub const DESK_HEDGE: usize = 3;
/// Ledger party of client 0; client `i` is `FIRST_CLIENT + i`.
pub const FIRST_CLIENT: usize = 4;

const MAKER_ACCOUNT: u32 = 1;
const DESK_ACCOUNT: u32 = 2;

/// The desk's rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeskConfig {
    /// Contracts listed (0 = the front month, 1 = the next, ...).
    pub contracts: usize,
    /// Product units (barrels) per futures contract.
    pub contract_size: i64,
    /// Exchange fee per contract the desk trades, cents.
    pub exchange_fee: i64,
    /// Margin a client must hold, percent of the position's notional.
    pub margin_pct: i64,
    /// Smallest price used for notional, ticks per unit (so a price near or below zero
    /// still requires margin).
    pub margin_floor: Price,
}

impl DeskConfig {
    /// Range-check every field; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=16).contains(&self.contracts) {
            return Err(format!("contracts must be 1..=16 (got {})", self.contracts));
        }
        if !(1..=1_000_000).contains(&self.contract_size) {
            return Err(format!(
                "contract_size must be 1..=1000000 (got {})",
                self.contract_size
            ));
        }
        if !(0..=100_000).contains(&self.exchange_fee) {
            return Err(format!(
                "exchange_fee must be 0..=100000 cents (got {})",
                self.exchange_fee
            ));
        }
        if !(1..=1_000).contains(&self.margin_pct) {
            return Err(format!(
                "margin_pct must be 1..=1000 (got {})",
                self.margin_pct
            ));
        }
        if !(1..=1_000_000).contains(&self.margin_floor) {
            return Err(format!(
                "margin_floor must be 1..=1000000 ticks (got {})",
                self.margin_floor
            ));
        }
        Ok(())
    }
}

/// Why a client order was refused (nothing changed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientReject {
    /// Quantity zero or above the limit.
    BadQty,
    /// No such client or contract.
    Unknown,
    /// The client's equity does not cover the margin of the new position.
    Margin,
}

/// One fill of the desk's hedge on the exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HedgeFill {
    /// The contract.
    pub contract: usize,
    /// The desk's side.
    pub side: Side,
    /// Contracts.
    pub qty: i64,
    /// The exchange price.
    pub price: Price,
    /// The price the desk measured slippage against (the book's mid when it sent the
    /// order, else the caller's reference).
    pub reference: Price,
}

impl HedgeFill {
    /// What the fill cost the desk against its reference, cents (positive = worse).
    pub fn slippage(&self, contract_size: i64) -> i64 {
        let per_unit = match self.side {
            Side::Buy => self.price - self.reference,
            Side::Sell => self.reference - self.price,
        };
        per_unit * self.qty * contract_size
    }
}

/// Outcome of [`NettingDesk::hedge_to`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HedgeResult {
    /// Contracts traded (signed: + bought).
    pub filled: i64,
    /// Contracts the book could not fill (signed), left for the next attempt.
    pub unfilled: i64,
    /// Slippage of these fills, cents.
    pub slippage: i64,
}

/// Outcome of [`NettingDesk::roll_clients`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RollResult {
    /// Clients whose position moved to the next contract (in full or in part).
    pub rolled: usize,
    /// Clients closed out without a new position (no equity left to margin one).
    pub closed: usize,
    /// Units closed in the expiring contract (absolute).
    pub units_closed: u64,
    /// Units opened in the next contract (absolute).
    pub units_opened: u64,
}

/// The desk, its clients' accounts and the exchange books it hedges on.
pub struct NettingDesk {
    cfg: DeskConfig,
    clients: usize,
    ledger: Ledger,
    books: Vec<FastBook>,
    makers: Vec<Vec<u64>>,
    last_settle: Vec<Price>,
    next_id: u64,
    events: Vec<Event>,
    fills: Vec<HedgeFill>,
}

/// Largest client order, units.
pub const MAX_CLIENT_UNITS: i64 = 1 << 40;

impl NettingDesk {
    /// A desk with `clients` empty client accounts. `first_settle` is each contract's
    /// previous settlement (the mark of day one's variation margin).
    pub fn new(cfg: DeskConfig, clients: usize, first_settle: &[Price]) -> Result<Self, String> {
        cfg.validate()?;
        if first_settle.len() != cfg.contracts {
            return Err(format!(
                "first_settle has {} prices for {} contracts",
                first_settle.len(),
                cfg.contracts
            ));
        }
        let book_cfg = BookConfig {
            capacity: 1024,
            ..BookConfig::default()
        };
        Ok(NettingDesk {
            cfg,
            clients,
            ledger: Ledger::new(FIRST_CLIENT + clients, cfg.contracts),
            books: (0..cfg.contracts)
                .map(|_| FastBook::new(book_cfg))
                .collect(),
            makers: vec![Vec::new(); cfg.contracts],
            last_settle: first_settle.to_vec(),
            next_id: 1,
            events: Vec::with_capacity(256),
            fills: Vec::new(),
        })
    }

    /// The rules.
    pub fn config(&self) -> &DeskConfig {
        &self.cfg
    }

    /// Number of clients.
    pub fn clients(&self) -> usize {
        self.clients
    }

    /// The accounts.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The exchange book of `contract`.
    pub fn book(&self, contract: usize) -> &FastBook {
        &self.books[contract]
    }

    /// Every hedge fill so far, in order.
    pub fn fills(&self) -> &[HedgeFill] {
        &self.fills
    }

    /// Each contract's last settlement price.
    pub fn last_settle(&self) -> &[Price] {
        &self.last_settle
    }

    /// Put `cents` into client `client`'s margin account.
    pub fn deposit(&mut self, client: usize, cents: i64) {
        self.ledger.deposit(FIRST_CLIENT + client, cents);
    }

    /// The midpoint of `contract`'s book (rounded toward minus infinity), if both sides
    /// have orders.
    pub fn mid(&self, contract: usize) -> Option<Price> {
        let b = &self.books[contract];
        Some((b.best_bid()? + b.best_ask()?).div_euclid(2))
    }

    /// A liquidity provider's resting post-only limit order of `qty` contracts; `false`
    /// if the book refused it (a bad quantity, or it would cross).
    pub fn post_maker(&mut self, contract: usize, side: Side, price: Price, qty: u64) -> bool {
        let id = self.next_id;
        self.next_id += 1;
        // Post-only: a maker order that would cross is rejected, never traded.
        let order = NewOrder::limit(id, MAKER_ACCOUNT, side, price, qty).with_tif(Tif::Post);
        self.events.clear();
        self.books[contract].apply(&Command::New(order), &mut self.events);
        let accepted = self.events.iter().any(|e| matches!(e, Event::Ack { .. }));
        if accepted {
            self.makers[contract].push(id);
        }
        accepted
    }

    /// Withdraw every liquidity provider's order on `contract`.
    pub fn cancel_makers(&mut self, contract: usize) {
        let ids = std::mem::take(&mut self.makers[contract]);
        for id in &ids {
            self.events.clear();
            // An order the desk filled completely is gone already: the book rejects the
            // cancel as an unknown id and nothing changes.
            self.books[contract].apply(&Command::Cancel { id: *id }, &mut self.events);
        }
        self.makers[contract] = ids;
        self.makers[contract].clear();
    }

    /// Client `client` trades `units` of `contract` with the desk at `price` (the desk's
    /// price). A trade that grows the position needs the client's equity (at `price`) to
    /// cover `margin_pct` of the new position's notional; reducing is always allowed.
    pub fn client_order(
        &mut self,
        client: usize,
        contract: usize,
        side: Side,
        units: i64,
        price: Price,
    ) -> Result<(), ClientReject> {
        if !(1..=MAX_CLIENT_UNITS).contains(&units) {
            return Err(ClientReject::BadQty);
        }
        if client >= self.clients || contract >= self.cfg.contracts {
            return Err(ClientReject::Unknown);
        }
        let party = FIRST_CLIENT + client;
        let signed = match side {
            Side::Buy => units,
            Side::Sell => -units,
        };
        let a = self.ledger.account(party);
        let old = a.pos[contract];
        let new = old + signed;
        let reduces = old != 0 && old.signum() * new.signum() >= 0 && new.abs() < old.abs();
        if !reduces {
            let mut marks = self.last_settle.clone();
            marks[contract] = price;
            let equity = a.equity(&marks);
            let others: i64 = (0..self.cfg.contracts)
                .filter(|c| *c != contract)
                .map(|c| self.margin(a.pos[c], marks[c]))
                .sum();
            if equity < others + self.margin(new, price) || equity <= 0 {
                return Err(ClientReject::Margin);
            }
        }
        match side {
            Side::Buy => self
                .ledger
                .trade(party, DESK_CLIENTS, contract, units, price),
            Side::Sell => self
                .ledger
                .trade(DESK_CLIENTS, party, contract, units, price),
        }
        Ok(())
    }

    /// Margin `pos` units need at `price`, cents.
    pub fn margin(&self, pos: i64, price: Price) -> i64 {
        pos.abs() * price.abs().max(self.cfg.margin_floor) * self.cfg.margin_pct / 100
    }

    /// Sum of client positions in `contract`, units: what the desk owes its clients, and
    /// so the exposure its hedge offsets.
    pub fn client_net(&self, contract: usize) -> i64 {
        -self.ledger.account(DESK_CLIENTS).pos[contract]
    }

    /// The desk's hedge in `contract`, contracts.
    pub fn hedge(&self, contract: usize) -> i64 {
        self.ledger.account(DESK_HEDGE).pos[contract] / self.cfg.contract_size
    }

    /// The hedge that offsets `units` of client exposure: whole contracts, to the nearest
    /// (half away from zero).
    pub fn contracts_for(&self, units: i64) -> i64 {
        let size = self.cfg.contract_size;
        let q = units.abs().saturating_add(size / 2) / size;
        q * units.signum()
    }

    /// Trade `contract` on the exchange until the desk's hedge there is `target`
    /// contracts, as one IOC market order; what the book's depth cannot fill is
    /// cancelled and reported as `unfilled`. Slippage is measured against the book's
    /// mid when the order is sent (or `reference` when a side is empty).
    pub fn hedge_to(&mut self, contract: usize, target: i64, reference: Price) -> HedgeResult {
        let delta = target - self.hedge(contract);
        if delta == 0 {
            return HedgeResult::default();
        }
        let reference = self.mid(contract).unwrap_or(reference);
        let side = if delta > 0 { Side::Buy } else { Side::Sell };
        let id = self.next_id;
        self.next_id += 1;
        let order = NewOrder::market(id, DESK_ACCOUNT, side, delta.unsigned_abs());
        self.events.clear();
        self.books[contract].apply(&Command::New(order), &mut self.events);
        let mut out = HedgeResult::default();
        let size = self.cfg.contract_size;
        for e in &self.events {
            if let Event::Trade { price, qty, .. } = *e {
                let qty = qty as i64;
                let (buyer, seller) = match side {
                    Side::Buy => (DESK_HEDGE, MAKERS),
                    Side::Sell => (MAKERS, DESK_HEDGE),
                };
                self.ledger
                    .trade(buyer, seller, contract, qty * size, price);
                self.ledger
                    .fee(DESK_HEDGE, EXCHANGE, qty * self.cfg.exchange_fee);
                let fill = HedgeFill {
                    contract,
                    side,
                    qty,
                    price,
                    reference,
                };
                out.slippage += fill.slippage(size);
                out.filled += if delta > 0 { qty } else { -qty };
                self.fills.push(fill);
            }
        }
        out.unfilled = delta - out.filled;
        out
    }

    /// Move every client's position from contract `from` to `to`: closed at `from_price`
    /// and reopened at `to_price` (both settlement prices, so the roll itself pays no
    /// variation margin), as far as the client's equity after the close margins the new
    /// position (none at all when it is zero or below: that client is closed out).
    pub fn roll_clients(
        &mut self,
        from: usize,
        to: usize,
        from_price: Price,
        to_price: Price,
    ) -> RollResult {
        let mut out = RollResult::default();
        let mut marks = self.last_settle.clone();
        marks[from] = from_price;
        marks[to] = to_price;
        for client in 0..self.clients {
            let party = FIRST_CLIENT + client;
            let pos = self.ledger.account(party).pos[from];
            if pos == 0 {
                continue;
            }
            let units = pos.abs();
            if pos > 0 {
                self.ledger
                    .trade(DESK_CLIENTS, party, from, units, from_price);
            } else {
                self.ledger
                    .trade(party, DESK_CLIENTS, from, units, from_price);
            }
            out.units_closed += units as u64;
            let a = self.ledger.account(party);
            let equity = a.equity(&marks);
            let per_unit = self.margin(1, to_price);
            let existing = self.margin(a.pos[to], to_price);
            let afford = if equity > existing {
                (equity - existing) / per_unit
            } else {
                0
            };
            let reopen = units.min(afford);
            if reopen == 0 {
                out.closed += 1;
                continue;
            }
            out.rolled += 1;
            out.units_opened += reopen as u64;
            if pos > 0 {
                self.ledger.trade(party, DESK_CLIENTS, to, reopen, to_price);
            } else {
                self.ledger.trade(DESK_CLIENTS, party, to, reopen, to_price);
            }
        }
        out
    }

    /// Daily settlement of `contract` at `price`: variation margin to every account.
    pub fn settle(&mut self, contract: usize, price: Price) {
        self.ledger.settle(contract, price);
        self.last_settle[contract] = price;
    }
}
