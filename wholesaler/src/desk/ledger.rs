//! The money side of the netting desk: each party's position per contract, its margin
//! account (deposit plus daily variation margin, less fees) and its trade cash flows.
//!
//! Two independent books of the same money are kept on purpose. The *margin balance* moves
//! only at settlements (variation margin, `position x settlement - carry`, the way a
//! clearing house pays it) and by fees. The *trade cash* moves at every trade
//! (`-signed qty x price`) and by fees. After a final settlement both must tell the same
//! P&L (`balance - deposit == trade cash + position x final price`), and because every
//! trade and fee is a transfer between two parties the P&L of all parties sums to zero,
//! to the cent. [`Ledger::conservation`] checks both.
//!
//! Units: quantities in the product's unit (barrels), prices in ticks (cents per
//! barrel), money in cents. Everything is integer; nothing rounds.

use flowmatch_core::Price;

/// One party's account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// Signed position per contract, in units (+ long).
    pub pos: Vec<i64>,
    /// Per contract: the position's value at the last settlement plus what today's trades
    /// cost (`sum qty x price`); the next settlement pays `pos x settle - carry`.
    pub carry: Vec<i64>,
    /// Money put in at the start, cents.
    pub deposit: i64,
    /// Margin account: deposit + variation margin received - fees paid, cents.
    pub balance: i64,
    /// Trade cash: `-sum signed qty x price` over every trade, less fees, cents.
    pub trade_cash: i64,
    /// Fees paid (positive) or received (negative, the exchange), cents.
    pub fees: i64,
    /// Units traded (absolute), all contracts.
    pub volume: u64,
}

impl Account {
    /// Unsettled mark-to-market at `marks` (one price per contract): what the next
    /// settlement at those prices would pay.
    pub fn unsettled(&self, marks: &[Price]) -> i64 {
        self.pos
            .iter()
            .zip(&self.carry)
            .zip(marks)
            .map(|((p, c), m)| p * m - c)
            .sum()
    }

    /// Equity at `marks`: the margin balance plus the unsettled mark-to-market.
    pub fn equity(&self, marks: &[Price]) -> i64 {
        self.balance + self.unsettled(marks)
    }

    /// P&L by the margin account: balance less deposit.
    pub fn pnl(&self) -> i64 {
        self.balance - self.deposit
    }

    /// P&L by the trade cash flows, marked at `marks`.
    pub fn pnl_by_trades(&self, marks: &[Price]) -> i64 {
        self.trade_cash + self.pos.iter().zip(marks).map(|(p, m)| p * m).sum::<i64>()
    }
}

/// Every party's account; parties are dense indices.
#[derive(Clone, Debug)]
pub struct Ledger {
    contracts: usize,
    accounts: Vec<Account>,
}

/// What [`Ledger::conservation`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conservation {
    /// Sum of every party's P&L by the margin accounts plus what is unsettled at the
    /// marks, cents (must be 0).
    pub total_pnl: i64,
    /// Parties whose margin-account P&L differs from their trade-cash P&L.
    pub mismatched: Vec<usize>,
}

impl Conservation {
    /// True when the P&L sums to zero and both books agree for every party.
    pub fn holds(&self) -> bool {
        self.total_pnl == 0 && self.mismatched.is_empty()
    }
}

impl Ledger {
    /// `parties` empty accounts over `contracts` contracts.
    pub fn new(parties: usize, contracts: usize) -> Ledger {
        let blank = Account {
            pos: vec![0; contracts],
            carry: vec![0; contracts],
            ..Account::default()
        };
        Ledger {
            contracts,
            accounts: vec![blank; parties],
        }
    }

    /// Number of contracts.
    pub fn contracts(&self) -> usize {
        self.contracts
    }

    /// Number of parties.
    pub fn parties(&self) -> usize {
        self.accounts.len()
    }

    /// One party's account.
    pub fn account(&self, party: usize) -> &Account {
        &self.accounts[party]
    }

    /// Every account, by party index.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// Put `cents` into a party's margin account.
    pub fn deposit(&mut self, party: usize, cents: i64) {
        let a = &mut self.accounts[party];
        a.deposit += cents;
        a.balance += cents;
    }

    /// A trade of `qty` units (+ = `buyer` buys) of `contract` at `price` between two
    /// parties.
    pub fn trade(&mut self, buyer: usize, seller: usize, contract: usize, qty: i64, price: Price) {
        debug_assert!(qty > 0);
        let cost = qty * price;
        for (party, signed, cash) in [(buyer, qty, -cost), (seller, -qty, cost)] {
            let a = &mut self.accounts[party];
            a.pos[contract] += signed;
            a.carry[contract] += signed * price;
            a.trade_cash += cash;
            a.volume += qty.unsigned_abs();
        }
    }

    /// A fee of `cents` paid by `payer` to `payee`, out of both books at once.
    pub fn fee(&mut self, payer: usize, payee: usize, cents: i64) {
        for (party, amount) in [(payer, cents), (payee, -cents)] {
            let a = &mut self.accounts[party];
            a.balance -= amount;
            a.trade_cash -= amount;
            a.fees += amount;
        }
    }

    /// Daily settlement of `contract` at `price`: every account receives (or pays) its
    /// variation margin `pos x price - carry`, and its carry becomes `pos x price`.
    /// Returns the variation margin paid to each party (cents, by party index).
    pub fn settle(&mut self, contract: usize, price: Price) -> Vec<i64> {
        self.accounts
            .iter_mut()
            .map(|a| {
                let value = a.pos[contract] * price;
                let vm = value - a.carry[contract];
                a.balance += vm;
                a.carry[contract] = value;
                vm
            })
            .collect()
    }

    /// Check conservation at `marks` (the last settlement of each contract, so every
    /// carry is settled): P&L sums to zero and each party's two books agree.
    pub fn conservation(&self, marks: &[Price]) -> Conservation {
        let total_pnl = self
            .accounts
            .iter()
            .map(|a| a.pnl() + a.unsettled(marks))
            .sum();
        let mismatched = self
            .accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.pnl() + a.unsettled(marks) != a.pnl_by_trades(marks))
            .map(|(i, _)| i)
            .collect();
        Conservation {
            total_pnl,
            mismatched,
        }
    }
}
