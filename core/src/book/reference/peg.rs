//! The reference book's midpoint pegs, transcribed from `docs/SEMANTICS.md` ("Midpoint
//! peg orders") on their own: one list of pegs in arrival order (both sides together),
//! searched front to back for every step, and the midpoint recomputed from the lit book
//! each time it is needed.

use super::*;

/// A resting midpoint peg.
#[derive(Clone, Copy, Debug)]
pub(super) struct Peg {
    pub(super) id: OrderId,
    pub(super) account: Account,
    pub(super) side: Side,
    pub(super) open: Qty,
    /// Buy: never trades at a midpoint above it; sell: never below. `None`: no cap.
    pub(super) cap: Option<Price>,
    pub(super) stp: Stp,
}

impl ReferenceBook {
    /// A peg's checks after its quantity and lot, in the order the spec lists them: the
    /// cap (when there is one) in the band and on the tick, GTC or IOC, a price-time book.
    pub(super) fn validate_peg(&self, o: &NewOrder) -> Result<(), RejectReason> {
        if let Some(cap) = o.price {
            if !self.cfg.price_ok(cap) {
                return Err(RejectReason::BadPrice);
            }
            if !self.on_tick(cap) {
                return Err(RejectReason::BadTick);
            }
        }
        if !matches!(o.tif, Tif::Gtc | Tif::Ioc) {
            return Err(RejectReason::BadTif);
        }
        Ok(())
    }

    /// A resting peg leaves on its owner's cancel.
    pub(super) fn cancel_peg(&mut self, id: OrderId) -> Option<Peg> {
        let i = self.pegs.iter().position(|p| p.id == id)?;
        Some(self.pegs.remove(i))
    }

    /// A replace of the peg at `i`, its new terms already checked as a replace's: `RPL`,
    /// then it leaves and re-enters as a new GTC peg with `price` as its cap and `qty`.
    pub(super) fn replace_peg<S: EventSink>(
        &mut self,
        i: usize,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) {
        let p = self.pegs.remove(i);
        sink.event(Event::Replaced { id: p.id });
        let taker = Taker {
            id: p.id,
            account: p.account,
            side: p.side,
            limit: Some(price),
            remaining: qty,
            stp: p.stp,
        };
        self.enter_peg(taker, Tif::Gtc, sink);
    }

    /// The midpoint of the best bid and best ask, when both exist and their sum is even.
    pub(super) fn midpoint(&self) -> Option<Price> {
        let bid = self.best_of(Side::Buy)? as i128;
        let ask = self.best_of(Side::Sell)? as i128;
        if (bid + ask) % 2 != 0 {
            return None;
        }
        Some(((bid + ask) / 2) as Price)
    }

    /// Is `mid` acceptable to an order of `side` whose limit (or cap) is `limit`?
    fn admits(side: Side, limit: Option<Price>, mid: Price) -> bool {
        match (side, limit) {
            (_, None) => true,
            (Side::Buy, Some(l)) => mid <= l,
            (Side::Sell, Some(l)) => mid >= l,
        }
    }

    /// Position of the earliest peg of `side` that may trade at `mid`.
    fn first_peg(&self, side: Side, mid: Price) -> Option<usize> {
        self.pegs
            .iter()
            .position(|p| p.side == side && Self::admits(side, p.cap, mid))
    }

    /// Would a post-only order of `side` at `price` trade with a peg on entry?
    pub(super) fn would_trade_peg(&self, side: Side, price: Price) -> bool {
        match self.midpoint() {
            Some(mid) => {
                Self::admits(side, Some(price), mid)
                    && self.first_peg(side.opposite(), mid).is_some()
            }
            None => false,
        }
    }

    /// Take `q` off the peg at `i`; it leaves when nothing is left.
    fn reduce_peg(&mut self, i: usize, q: Qty) {
        self.pegs[i].open -= q;
        if self.pegs[i].open == 0 {
            self.pegs.remove(i);
        }
    }

    /// An incoming order against the opposite pegs at the midpoint, if it reaches it:
    /// earliest peg first, the taker's STP mode applying to pegs of its owner.
    pub(super) fn walk_pegs<S: EventSink>(&mut self, taker: &mut Taker, sink: &mut S) -> WalkEnd {
        let Some(mid) = self.midpoint() else {
            return WalkEnd::Normal;
        };
        if !Self::admits(taker.side, taker.limit, mid) {
            return WalkEnd::Normal;
        }
        let maker_side = taker.side.opposite();
        while taker.remaining > 0 {
            let Some(i) = self.first_peg(maker_side, mid) else {
                break;
            };
            let m = self.pegs[i];
            let cancel = |sink: &mut S, id, qty, side, price| {
                sink.event(Event::Cancel {
                    id,
                    qty,
                    reason: CancelReason::Stp,
                    side,
                    price,
                })
            };
            if taker.stp != Stp::None && self.same_owner(m.account, taker.account) {
                match taker.stp {
                    Stp::CancelTaker => {
                        cancel(sink, taker.id, taker.remaining, taker.side, taker.limit);
                        taker.remaining = 0;
                        return WalkEnd::StoppedBySTP;
                    }
                    Stp::CancelMaker => {
                        cancel(sink, m.id, m.open, maker_side, m.cap);
                        self.pegs.remove(i);
                    }
                    Stp::CancelBoth => {
                        cancel(sink, m.id, m.open, maker_side, m.cap);
                        self.pegs.remove(i);
                        cancel(sink, taker.id, taker.remaining, taker.side, taker.limit);
                        taker.remaining = 0;
                        return WalkEnd::StoppedBySTP;
                    }
                    Stp::DecrementCancel => {
                        let d = m.open.min(taker.remaining);
                        cancel(sink, m.id, d, maker_side, m.cap);
                        cancel(sink, taker.id, d, taker.side, taker.limit);
                        self.reduce_peg(i, d);
                        taker.remaining -= d;
                        if taker.remaining == 0 {
                            return WalkEnd::StoppedBySTP;
                        }
                    }
                    Stp::None => {}
                }
                continue;
            }
            let q = m.open.min(taker.remaining);
            sink.event(Event::Trade {
                taker: taker.id,
                maker: m.id,
                price: mid,
                qty: q,
            });
            self.reduce_peg(i, q);
            taker.remaining -= q;
        }
        WalkEnd::Normal
    }

    /// How much of `taker` the opposite pegs would take now, and what it would have left
    /// for the lit book (`None`: STP would stop it there): the fill-or-kill test's peg part.
    pub(super) fn simulate_pegs(&self, taker: &Taker) -> (u128, Option<Qty>) {
        let mut remaining = taker.remaining;
        let mut filled = 0u128;
        let Some(mid) = self.midpoint() else {
            return (0, Some(remaining));
        };
        if !Self::admits(taker.side, taker.limit, mid) {
            return (0, Some(remaining));
        }
        let maker_side = taker.side.opposite();
        for p in &self.pegs {
            if remaining == 0 {
                break;
            }
            if p.side != maker_side || !Self::admits(maker_side, p.cap, mid) {
                continue;
            }
            if taker.stp != Stp::None && self.same_owner(p.account, taker.account) {
                match taker.stp {
                    Stp::CancelTaker | Stp::CancelBoth => return (filled, None),
                    Stp::DecrementCancel => remaining -= p.open.min(remaining),
                    Stp::CancelMaker | Stp::None => {}
                }
                continue;
            }
            let q = p.open.min(remaining);
            filled += q as u128;
            remaining -= q;
        }
        (filled, Some(remaining))
    }

    /// A peg after its `ACK` (or a replaced peg re-entering): it meets the opposite pegs,
    /// then a GTC remainder goes to the back of the list and an IOC one is cancelled.
    pub(super) fn enter_peg<S: EventSink>(&mut self, mut taker: Taker, tif: Tif, sink: &mut S) {
        if self.walk_pegs(&mut taker, sink) == WalkEnd::StoppedBySTP || taker.remaining == 0 {
            return;
        }
        if tif == Tif::Gtc {
            self.pegs.push(Peg {
                id: taker.id,
                account: taker.account,
                side: taker.side,
                open: taker.remaining,
                cap: taker.limit,
                stp: taker.stp,
            });
        } else {
            sink.event(Event::Cancel {
                id: taker.id,
                qty: taker.remaining,
                reason: CancelReason::Ioc,
                side: taker.side,
                price: taker.limit,
            });
        }
    }

    /// After every command: while a buy peg and a sell peg both admit the midpoint, the
    /// earliest of each cross there, the one that arrived later being the taker.
    pub(super) fn cross_pegs<S: EventSink>(&mut self, sink: &mut S) {
        loop {
            let Some(mid) = self.midpoint() else { return };
            let (Some(b), Some(s)) = (
                self.first_peg(Side::Buy, mid),
                self.first_peg(Side::Sell, mid),
            ) else {
                return;
            };
            let (ti, mi) = if b > s { (b, s) } else { (s, b) };
            let (t, m) = (self.pegs[ti], self.pegs[mi]);
            let cancel = |sink: &mut S, p: &Peg, qty| {
                sink.event(Event::Cancel {
                    id: p.id,
                    qty,
                    reason: CancelReason::Stp,
                    side: p.side,
                    price: p.cap,
                })
            };
            // Reduce the later position first, so that the earlier one does not move.
            if t.stp != Stp::None && self.same_owner(m.account, t.account) {
                match t.stp {
                    Stp::CancelTaker => {
                        cancel(sink, &t, t.open);
                        self.reduce_peg(ti, t.open);
                    }
                    Stp::CancelMaker => {
                        cancel(sink, &m, m.open);
                        self.reduce_peg(mi, m.open);
                    }
                    Stp::CancelBoth => {
                        cancel(sink, &m, m.open);
                        cancel(sink, &t, t.open);
                        self.reduce_peg(ti, t.open);
                        self.reduce_peg(mi, m.open);
                    }
                    Stp::DecrementCancel => {
                        let d = t.open.min(m.open);
                        cancel(sink, &m, d);
                        cancel(sink, &t, d);
                        self.reduce_peg(ti, d);
                        self.reduce_peg(mi, d);
                    }
                    Stp::None => {}
                }
                continue;
            }
            let q = t.open.min(m.open);
            sink.event(Event::Trade {
                taker: t.id,
                maker: m.id,
                price: mid,
                qty: q,
            });
            self.reduce_peg(ti, q);
            self.reduce_peg(mi, q);
        }
    }
}
