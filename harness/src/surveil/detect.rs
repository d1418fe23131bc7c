//! The three surveillance patterns over a tape, each flag with its evidence:
//! - **wash trade**: a trade whose taker and maker belong to one owner (one group, or one
//!   account not in any group);
//! - **marking the close**: an owner with at least `close_share` of the volume traded in
//!   the `window` before the close, to whom at least `close_move` ticks of the window's
//!   price move are attributed: the move (last trade price before the window to the
//!   closing price) times the owner's share of the aggressive volume in its direction
//!   (buys taking offers for a rise, sells hitting bids for a fall);
//! - **layering/spoofing**: an order of at least `large_qty` cancelled by its owner within
//!   `cancel_within` of entry while the same owner traded on the other side in between.
//!
//! An *owner* is an account's group when the account table lists it, else the account.
//! Times are command sequence numbers ([`super::tape`]).

use super::tape::Step;
use flowmatch_core::book::AccountGroups;
use flowmatch_core::{Account, CancelReason, Command, Event, OrderId, Price, Qty, Side};
use std::collections::HashMap;

/// Detection thresholds. All are range-checked by [`Params::check`] before any work.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Time of the close (default: the last command).
    pub close: Option<u64>,
    /// Length of the pre-close window, in commands.
    pub window: u64,
    /// Least share of the window's volume (0..=1) that makes an owner a close-marking
    /// suspect.
    pub close_share: f64,
    /// Least price move (ticks) attributed to the owner's aggressive trades in the window.
    pub close_move: i64,
    /// Least quantity of an order that counts as large for layering.
    pub large_qty: Qty,
    /// Most time between entry and cancel of a layering order.
    pub cancel_within: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            close: None,
            window: 200,
            close_share: 0.2,
            close_move: 1,
            large_qty: 1_000,
            cancel_within: 50,
        }
    }
}

impl Params {
    /// Reject out-of-range thresholds, naming the option.
    pub fn check(&self) -> Result<(), String> {
        if self.window == 0 {
            return Err("--window 0: the pre-close window needs at least 1 command".into());
        }
        if !(self.close_share > 0.0 && self.close_share <= 1.0) {
            return Err(format!(
                "--close-share {}: expected a share in (0, 1]",
                self.close_share
            ));
        }
        if self.close_move < 0 {
            return Err(format!(
                "--close-move {}: expected 0 or more",
                self.close_move
            ));
        }
        if self.large_qty == 0 {
            return Err("--large-qty 0: expected 1 or more".into());
        }
        if self.close == Some(0) {
            return Err("--close 0: times start at 1 (the first command)".into());
        }
        Ok(())
    }
}

/// An owner: a group from the account table, or an account in none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    /// A beneficial-owner group.
    Group(u32),
    /// An account the table does not list.
    Account(Account),
}

impl Owner {
    /// The owner of `a` under `groups`.
    pub fn of(groups: &AccountGroups, a: Account) -> Owner {
        match groups.group_of(a) {
            Some(g) => Owner::Group(g),
            None => Owner::Account(a),
        }
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Group(g) => write!(f, "group {g}"),
            Owner::Account(a) => write!(f, "account {a}"),
        }
    }
}

/// One side of a trade, as evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    /// When.
    pub t: u64,
    /// The order of the owner in question.
    pub id: OrderId,
    /// Its account.
    pub account: Account,
    /// Its side.
    pub side: Side,
    /// Trade price.
    pub price: Price,
    /// Trade quantity.
    pub qty: Qty,
    /// The order was the taker (aggressor).
    pub aggressor: bool,
}

/// A flag and its evidence.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Flag {
    /// Both sides of a trade belong to one owner.
    Wash {
        /// The owner.
        owner: Owner,
        /// When.
        t: u64,
        /// Incoming order and its account.
        taker: (OrderId, Account),
        /// Resting order and its account.
        maker: (OrderId, Account),
        /// Trade price.
        price: Price,
        /// Trade quantity.
        qty: Qty,
    },
    /// An owner's share of the pre-close volume and the move its trades caused.
    MarkingTheClose {
        /// The owner.
        owner: Owner,
        /// The window: after `from`, up to and including `close`.
        from: u64,
        /// The close.
        close: u64,
        /// Last trade price at or before `from` (the window's first trade if none).
        open_price: Price,
        /// Last trade price at or before the close.
        close_price: Price,
        /// The owner's volume over the window's volume.
        share: f64,
        /// Ticks of the window's move attributed to the owner: the move times the owner's
        /// share of the aggressive volume in its direction.
        moved: f64,
        /// The owner's fills in the window.
        fills: Vec<Fill>,
    },
    /// A large order cancelled soon after entry while its owner traded the other side.
    Layering {
        /// The owner.
        owner: Owner,
        /// The large order.
        id: OrderId,
        /// Its account.
        account: Account,
        /// Its side.
        side: Side,
        /// Its limit price.
        price: Option<Price>,
        /// Quantity cancelled.
        qty: Qty,
        /// Entry time.
        entered: u64,
        /// Cancel time.
        cancelled: u64,
        /// The owner's fills on the other side between entry and cancel.
        opposite: Vec<Fill>,
    },
}

impl Flag {
    /// `wash`, `marking-the-close` or `layering`.
    pub fn kind(&self) -> &'static str {
        match self {
            Flag::Wash { .. } => "wash",
            Flag::MarkingTheClose { .. } => "marking-the-close",
            Flag::Layering { .. } => "layering",
        }
    }

    /// The owner flagged.
    pub fn owner(&self) -> Owner {
        match self {
            Flag::Wash { owner, .. }
            | Flag::MarkingTheClose { owner, .. }
            | Flag::Layering { owner, .. } => *owner,
        }
    }
}

#[derive(Clone, Copy)]
struct Live {
    account: Account,
    side: Side,
    price: Option<Price>,
    qty: Qty,
    t: u64,
}

#[derive(Clone, Copy)]
struct Trade {
    t: u64,
    taker: (OrderId, Live),
    maker: (OrderId, Live),
    price: Price,
    qty: Qty,
}

fn fill(t: &Trade, of: (OrderId, Live), aggressor: bool) -> Fill {
    Fill {
        t: t.t,
        id: of.0,
        account: of.1.account,
        side: of.1.side,
        price: t.price,
        qty: t.qty,
        aggressor,
    }
}

/// Run every pattern over `steps`. Flags come in a fixed order: wash trades by time, then
/// marking the close by owner, then layering by cancel time.
pub fn detect(steps: &[Step], groups: &AccountGroups, p: &Params) -> Vec<Flag> {
    let own = |a: Account| Owner::of(groups, a);
    let mut live: HashMap<OrderId, Live> = HashMap::new();
    let mut trades: Vec<Trade> = Vec::new();
    let mut flags = Vec::new();
    let mut cancels: Vec<(u64, OrderId, Live, Qty)> = Vec::new();
    for s in steps {
        // The order this command concerns (a new one is known once acknowledged).
        let mut incoming: Option<(OrderId, Live)> = None;
        for e in &s.events {
            match *e {
                Event::Ack { id } => {
                    if let Command::New(o) = s.cmd {
                        let l = Live {
                            account: o.account,
                            side: o.side,
                            price: o.price,
                            qty: o.qty,
                            t: s.t,
                        };
                        live.insert(id, l);
                        incoming = Some((id, l));
                    }
                }
                Event::Replaced { id } => {
                    if let (Command::Replace { price, .. }, Some(l)) = (s.cmd, live.get_mut(&id)) {
                        l.price = Some(price);
                        incoming = Some((id, *l));
                    }
                }
                Event::Trade {
                    taker,
                    maker,
                    price,
                    qty,
                } => {
                    let tk = incoming
                        .filter(|x| x.0 == taker)
                        .or_else(|| live.get(&taker).map(|l| (taker, *l)));
                    let mk = live.get(&maker).map(|l| (maker, *l));
                    if let (Some(tk), Some(mk)) = (tk, mk) {
                        trades.push(Trade {
                            t: s.t,
                            taker: tk,
                            maker: mk,
                            price,
                            qty,
                        });
                    }
                }
                Event::Cancel {
                    id, qty, reason, ..
                } => {
                    if reason == CancelReason::User {
                        if let Some(l) = live.get(&id) {
                            cancels.push((s.t, id, *l, qty));
                        }
                    }
                }
                Event::Reject { .. } => {}
            }
        }
    }
    // (a) Wash trades.
    for t in &trades {
        let (a, b) = (own(t.taker.1.account), own(t.maker.1.account));
        if a == b {
            flags.push(Flag::Wash {
                owner: a,
                t: t.t,
                taker: (t.taker.0, t.taker.1.account),
                maker: (t.maker.0, t.maker.1.account),
                price: t.price,
                qty: t.qty,
            });
        }
    }
    // (b) Marking the close.
    let close = p.close.unwrap_or(steps.last().map_or(0, |s| s.t));
    let from = close.saturating_sub(p.window);
    let in_window: Vec<(usize, &Trade)> = trades
        .iter()
        .enumerate()
        .filter(|(_, t)| t.t > from && t.t <= close)
        .collect();
    if let Some(&(first_i, first)) = in_window.first() {
        let open_price = if first_i > 0 {
            trades[first_i - 1].price
        } else {
            first.price
        };
        let close_price = in_window.last().map_or(open_price, |x| x.1.price);
        let total: u128 = in_window.iter().map(|x| x.1.qty as u128).sum();
        let dir = close_price.saturating_sub(open_price).signum();
        let push_side = if dir > 0 { Side::Buy } else { Side::Sell };
        // Per owner: volume, aggressive volume in the move's direction, fills.
        let mut per: HashMap<Owner, (u128, u128, Vec<Fill>)> = HashMap::new();
        let mut pushing: u128 = 0;
        for &(_, t) in &in_window {
            let (a, b) = (own(t.taker.1.account), own(t.maker.1.account));
            let e = per.entry(a).or_default();
            e.0 += t.qty as u128;
            if t.taker.1.side == push_side {
                e.1 += t.qty as u128;
                pushing += t.qty as u128;
            }
            e.2.push(fill(t, t.taker, true));
            let e = per.entry(b).or_default();
            if a != b {
                e.0 += t.qty as u128;
            }
            e.2.push(fill(t, t.maker, false));
        }
        let change = close_price.saturating_sub(open_price);
        let mut owners: Vec<_> = per.into_iter().collect();
        owners.sort_by_key(|x| x.0);
        for (owner, (vol, push, fills)) in owners {
            let share = vol as f64 / total as f64;
            let moved = if pushing == 0 {
                0.0
            } else {
                change as f64 * push as f64 / pushing as f64
            };
            if share >= p.close_share
                && dir != 0
                && moved != 0.0
                && moved.abs() >= p.close_move as f64
            {
                flags.push(Flag::MarkingTheClose {
                    owner,
                    from,
                    close,
                    open_price,
                    close_price,
                    share,
                    moved,
                    fills,
                });
            }
        }
    }
    // (c) Layering.
    for (tc, id, l, qty) in cancels {
        if l.qty < p.large_qty || tc - l.t > p.cancel_within {
            continue;
        }
        let owner = own(l.account);
        let opposite: Vec<Fill> = trades
            .iter()
            .filter(|t| t.t >= l.t && t.t <= tc)
            .flat_map(|t| [(t, t.taker, true), (t, t.maker, false)])
            .filter(|(_, o, _)| own(o.1.account) == owner && o.1.side != l.side)
            .map(|(t, o, ag)| fill(t, o, ag))
            .collect();
        if !opposite.is_empty() {
            flags.push(Flag::Layering {
                owner,
                id,
                account: l.account,
                side: l.side,
                price: l.price,
                qty,
                entered: l.t,
                cancelled: tc,
                opposite,
            });
        }
    }
    flags
}
