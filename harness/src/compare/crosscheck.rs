//! Correctness cross-check: a peer's fills against our fast book's, command by command, on
//! the peer's own expressible subset of a stream ([`flowmatch_peers::restrict`]).
//!
//! Only fills are compared (taker, maker, price, quantity, in order): acknowledgements,
//! cancels and rejects have no common vocabulary across engines. The first differing
//! command is reported with both fill lists and an explanation; after it the two books
//! hold different state, so later differences are counted but not explained.

use super::driver::{fills_per_command, MatcherKind};
use crate::text::{side_token, stp_token, tif_token};
use flowmatch_core::{Command, OrdType, OrderId, Price, Side};
use flowmatch_peers::{restrict, Dropped, Fill};
use serde::Serialize;
use std::collections::HashMap;

/// One fill as printed in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FillRow {
    pub taker: OrderId,
    pub maker: OrderId,
    pub price: Price,
    pub qty: u64,
}

impl From<&Fill> for FillRow {
    fn from(f: &Fill) -> Self {
        FillRow {
            taker: f.taker,
            maker: f.maker,
            price: f.price,
            qty: f.qty,
        }
    }
}

/// The first command on which a peer's fills differ from ours.
#[derive(Clone, Debug, Serialize)]
pub struct FirstDifference {
    /// 0-based index in the restricted stream (the stream the peer was given).
    pub index: usize,
    /// The command in `flowmatch replay` text form.
    pub command: String,
    pub ours: Vec<FillRow>,
    pub theirs: Vec<FillRow>,
    pub explanation: String,
}

/// Outcome of cross-checking one peer on one workload.
#[derive(Clone, Debug, Serialize)]
pub struct CrossCheck {
    pub peer: &'static str,
    pub workload: String,
    /// Commands in the restricted stream given to both books.
    pub commands: usize,
    /// What `restrict` left out of the original stream, and why.
    pub dropped: Dropped,
    /// Fills our book produced on the restricted stream.
    pub our_fills: usize,
    pub agree: bool,
    /// Commands whose fills differ (after the first one the books have diverged, so this
    /// only says whether the difference is isolated or systematic).
    pub differing_commands: usize,
    pub first_difference: Option<FirstDifference>,
    /// Set when the peer never returned from a command (the cross-check then covers only
    /// the commands before it): its index in the restricted stream and its text.
    pub hung_at: Option<(usize, String)>,
    /// Set when the peer was stopped for being too slow on its subset (the cross-check then
    /// covers only the commands it had got through).
    pub too_slow: Option<super::TooSlow>,
}

/// Format a command in the `flowmatch replay` input syntax.
pub fn command_text(c: &Command) -> String {
    match *c {
        Command::New(o) => format!(
            "N,{},{},{},{},{},{},{},{}",
            o.id,
            o.account,
            side_token(o.side),
            if o.ord_type == OrdType::Market {
                "M"
            } else {
                "L"
            },
            o.price.map(|p| p.to_string()).unwrap_or_default(),
            o.qty,
            tif_token(o.tif),
            stp_token(o.stp)
        ),
        Command::Cancel { id } => format!("C,{id}"),
        Command::Replace { id, price, qty } => format!("R,{id},{price},{qty}"),
    }
}

/// The taker's side and limit for the command at `idx`, if it has one.
fn taker_limit(c: &Command, sides: &HashMap<OrderId, Side>) -> Option<(Side, Price)> {
    match *c {
        Command::New(o) => o.price.map(|p| (o.side, p)),
        Command::Replace { id, price, .. } => sides.get(&id).map(|s| (*s, price)),
        Command::Cancel { .. } => None,
    }
}

fn explain(c: &Command, ours: &[Fill], theirs: &[Fill], sides: &HashMap<OrderId, Side>) -> String {
    if let Some((side, limit)) = taker_limit(c, sides) {
        if let Some(f) = theirs.iter().find(|f| !side.accepts(limit, f.price)) {
            return format!(
                "trade-through: the peer filled {} at {} against maker {}, beyond the taker's own limit {} ({} side); our book stops at the limit",
                f.qty,
                f.price,
                f.maker,
                limit,
                side_token(side)
            );
        }
    }
    let q = |v: &[Fill]| v.iter().map(|f| f.qty).sum::<u64>();
    if q(ours) != q(theirs) {
        return format!(
            "filled quantity differs: ours {} in {} fills, peer {} in {} fills",
            q(ours),
            ours.len(),
            q(theirs),
            theirs.len()
        );
    }
    let key = |v: &[Fill]| {
        let mut k: Vec<_> = v.iter().map(|f| (f.maker, f.price, f.qty)).collect();
        k.sort_unstable();
        k
    };
    if key(ours) == key(theirs) {
        return "same fills in a different order".to_string();
    }
    if ours.iter().zip(theirs).all(|(a, b)| a.price == b.price) && ours.len() == theirs.len() {
        return "same prices and quantity, different makers: time priority differs (an earlier divergence in queue order)".to_string();
    }
    "different makers or prices for the same quantity".to_string()
}

/// Cross-check `peer` against our fast book on the peer's subset of `stream`.
///
/// `screened`: how the peer got on with this restricted stream in [`super::screen`]; when
/// it hung on a command or was too slow to finish, only the commands before that one are
/// compared.
pub fn cross_check(
    peer: MatcherKind,
    workload: &str,
    stream: &[Command],
    screened: super::Screened,
) -> CrossCheck {
    let (mut cmds, dropped) = restrict(stream, &peer.capabilities());
    let hung = match screened {
        super::Screened::Hung { at } => cmds.get(at).map(|c| (at, command_text(c))),
        _ => None,
    };
    let too_slow = super::TooSlow::of(screened, cmds.len());
    if let Some(k) = screened.stop() {
        cmds.truncate(k);
    }
    let ours = fills_per_command(MatcherKind::Fast, &cmds);
    let theirs = fills_per_command(peer, &cmds);
    let mut sides: HashMap<OrderId, Side> = HashMap::new();
    let mut first = None;
    let mut differing = 0;
    for (i, c) in cmds.iter().enumerate() {
        if let Command::New(o) = c {
            sides.insert(o.id, o.side);
        }
        if ours[i] != theirs[i] {
            differing += 1;
            if first.is_none() {
                first = Some(FirstDifference {
                    index: i,
                    command: command_text(c),
                    ours: ours[i].iter().map(FillRow::from).collect(),
                    theirs: theirs[i].iter().map(FillRow::from).collect(),
                    explanation: explain(c, &ours[i], &theirs[i], &sides),
                });
            }
        }
    }
    CrossCheck {
        peer: peer.name(),
        workload: workload.to_string(),
        commands: cmds.len(),
        dropped,
        our_fills: ours.iter().map(Vec::len).sum(),
        agree: first.is_none(),
        differing_commands: differing,
        first_difference: first,
        hung_at: hung,
        too_slow,
    }
}
