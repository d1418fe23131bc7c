//! The reference book's matching: the fill-or-kill simulation and the walk of a taker
//! through the levels it reaches, price-time and pro-rata, with self-trade prevention,
//! each step in the order `docs/SEMANTICS.md` states it. Kept apart from the book's
//! state upkeep (`mod.rs`) only so that each file reads in one sitting.

use super::*;

impl ReferenceBook {
    /// How much an IOC with this taker's limit, quantity and STP mode would trade now,
    /// without changing anything: the fill-or-kill test. It follows the same steps as
    /// [`Self::walk`], tracking only the taker's remaining quantity:
    /// - price-time: per maker in priority order, `CT`/`CB` stop, `CM` skips the maker,
    ///   `DC` removes `min(open, remaining)` from the taker without filling, otherwise
    ///   `min(open, remaining)` fills;
    /// - pro-rata: STP over the level's same-account orders as above, then the level
    ///   fills `min(remaining, T)` where `T` is the open quantity of the other orders —
    ///   the allocation (with or without a top order) always hands out exactly that much.
    pub(super) fn simulate_fill(&self, taker: &Taker) -> u128 {
        let maker_side = taker.side.opposite();
        let levels: Box<dyn Iterator<Item = (&Price, &VecDeque<Order>)>> = match maker_side {
            Side::Buy => Box::new(self.bids.iter().rev()),
            Side::Sell => Box::new(self.asks.iter()),
        };
        let stp_applies =
            |o: &Order| self.same_owner(o.account, taker.account) && taker.stp != Stp::None;
        let mut remaining = taker.remaining;
        let mut filled: u128 = 0;
        for (&price, level) in levels {
            if remaining == 0 {
                break;
            }
            if let Some(limit) = taker.limit {
                if !taker.side.accepts(limit, price) {
                    break;
                }
            }
            match self.cfg.policy {
                MatchPolicy::PriceTime => {
                    for o in level {
                        if remaining == 0 {
                            break;
                        }
                        if stp_applies(o) {
                            match taker.stp {
                                Stp::CancelTaker | Stp::CancelBoth => return filled,
                                Stp::DecrementCancel => remaining -= o.open.min(remaining),
                                Stp::CancelMaker | Stp::None => {}
                            }
                            continue;
                        }
                        let q = o.open.min(remaining);
                        filled += q as u128;
                        remaining -= q;
                    }
                }
                MatchPolicy::ProRata { .. } | MatchPolicy::Cme(_) => {
                    let mut others: u128 = 0;
                    for o in level {
                        if stp_applies(o) {
                            match taker.stp {
                                Stp::CancelTaker | Stp::CancelBoth => return filled,
                                Stp::DecrementCancel => {
                                    remaining -= o.open.min(remaining);
                                    if remaining == 0 {
                                        return filled;
                                    }
                                }
                                Stp::CancelMaker | Stp::None => {}
                            }
                        } else {
                            others += o.open as u128;
                        }
                    }
                    let q = others.min(remaining as u128);
                    filled += q;
                    remaining -= q as Qty;
                }
            }
        }
        filled
    }

    /// Walk the opposite side from its best level while the taker has quantity and the
    /// level price is acceptable, sharing each level by the configured policy.
    pub(super) fn walk<S: EventSink>(&mut self, taker: &mut Taker, sink: &mut S) -> WalkEnd {
        let maker_side = taker.side.opposite();
        while taker.remaining > 0 {
            let Some(level_price) = self.best_of(maker_side) else {
                return WalkEnd::Normal;
            };
            if let Some(limit) = taker.limit {
                if !taker.side.accepts(limit, level_price) {
                    return WalkEnd::Normal;
                }
            }
            let end = match self.cfg.policy {
                MatchPolicy::PriceTime => self.level_price_time(taker, level_price, sink),
                MatchPolicy::ProRata { top_order } => {
                    self.level_pro_rata(taker, level_price, top_order, sink)
                }
                MatchPolicy::Cme(p) => self.level_cme(taker, level_price, &p, sink),
            };
            self.drop_level_if_empty(maker_side, level_price);
            if end == WalkEnd::StoppedBySTP {
                return end;
            }
        }
        WalkEnd::Normal
    }

    /// Price-time at one level: makers in arrival order, STP decided per maker.
    pub(super) fn level_price_time<S: EventSink>(
        &mut self,
        taker: &mut Taker,
        price: Price,
        sink: &mut S,
    ) -> WalkEnd {
        let maker_side = taker.side.opposite();
        while taker.remaining > 0 {
            let Some(maker) = self
                .side_map(maker_side)
                .get(&price)
                .and_then(|l| l.front())
                .copied()
            else {
                return WalkEnd::Normal;
            };
            if self.same_owner(maker.account, taker.account) && taker.stp != Stp::None {
                if self.self_trade(taker, &maker, sink) == WalkEnd::StoppedBySTP {
                    return WalkEnd::StoppedBySTP;
                }
                continue;
            }
            let qty = taker.remaining.min(maker.open);
            self.fill(taker, maker.id, maker_side, price, qty, sink);
        }
        WalkEnd::Normal
    }

    /// Apply the taker's STP mode against one same-account maker. Returns `StoppedBySTP`
    /// for `CT`/`CB`, which end the taker (its remainder cancelled).
    pub(super) fn self_trade<S: EventSink>(
        &mut self,
        taker: &mut Taker,
        maker: &Order,
        sink: &mut S,
    ) -> WalkEnd {
        // Each cancel names the order's own side and limit price (none for a market taker).
        let cancel_maker = |sink: &mut S, qty| {
            sink.event(Event::Cancel {
                id: maker.id,
                qty,
                reason: CancelReason::Stp,
                side: maker.side,
                price: Some(maker.price),
            })
        };
        let cancel_taker = |sink: &mut S, taker: &Taker, qty| {
            sink.event(Event::Cancel {
                id: taker.id,
                qty,
                reason: CancelReason::Stp,
                side: taker.side,
                price: taker.limit,
            })
        };
        match taker.stp {
            Stp::None => WalkEnd::Normal,
            Stp::CancelTaker => {
                cancel_taker(sink, taker, taker.remaining);
                taker.remaining = 0;
                WalkEnd::StoppedBySTP
            }
            Stp::CancelMaker => {
                cancel_maker(sink, maker.open + maker.reserve);
                self.remove(maker.id);
                WalkEnd::Normal
            }
            Stp::CancelBoth => {
                cancel_maker(sink, maker.open + maker.reserve);
                self.remove(maker.id);
                cancel_taker(sink, taker, taker.remaining);
                taker.remaining = 0;
                WalkEnd::StoppedBySTP
            }
            Stp::DecrementCancel => {
                let d = maker.open.min(taker.remaining);
                cancel_maker(sink, d);
                cancel_taker(sink, taker, d);
                self.reduce_maker(maker.id, maker.side, maker.price, d);
                taker.remaining -= d;
                // A taker at zero simply ends (the caller's loop sees remaining == 0).
                WalkEnd::Normal
            }
        }
    }

    /// Reduce a maker's open quantity by `by`; at zero it leaves the book.
    pub(super) fn reduce_maker(&mut self, id: OrderId, side: Side, price: Price, by: Qty) {
        let level = self
            .side_map_mut(side)
            .get_mut(&price)
            .expect("maker's level exists");
        let o = level
            .iter_mut()
            .find(|o| o.id == id)
            .expect("maker is in its level");
        o.open -= by;
        if o.open == 0 {
            self.refill_or_remove(id, side, price);
        }
    }

    /// One fill at the maker's price.
    pub(super) fn fill<S: EventSink>(
        &mut self,
        taker: &mut Taker,
        maker: OrderId,
        maker_side: Side,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) {
        sink.event(Event::Trade {
            taker: taker.id,
            maker,
            price,
            qty,
        });
        taker.remaining -= qty;
        self.reduce_maker(maker, maker_side, price, qty);
    }

    /// Self-trade prevention over a whole level before it is shared out (pro-rata and the
    /// CME family): the taker's STP mode against each of the level's same-owner orders, in
    /// time order. `Some` is how the walk ends when it ends here.
    pub(super) fn stp_over_level<S: EventSink>(
        &mut self,
        taker: &mut Taker,
        price: Price,
        sink: &mut S,
    ) -> Option<WalkEnd> {
        if taker.stp == Stp::None {
            return None;
        }
        let maker_side = taker.side.opposite();
        let same_owner: Vec<Order> = self
            .level_orders(maker_side, price)
            .into_iter()
            .filter(|o| self.same_owner(o.account, taker.account))
            .collect();
        for maker in same_owner {
            if taker.remaining == 0 {
                return Some(WalkEnd::Normal);
            }
            if self.self_trade(taker, &maker, sink) == WalkEnd::StoppedBySTP {
                return Some(WalkEnd::StoppedBySTP);
            }
        }
        None
    }

    /// The orders resting at `price` on `side`, in time order (a copy).
    pub(super) fn level_orders(&self, side: Side, price: Price) -> Vec<Order> {
        self.side_map(side)
            .get(&price)
            .map(|l| l.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Pro-rata at one level, steps 1-4 of the spec.
    pub(super) fn level_pro_rata<S: EventSink>(
        &mut self,
        taker: &mut Taker,
        price: Price,
        top_order: bool,
        sink: &mut S,
    ) -> WalkEnd {
        let maker_side = taker.side.opposite();

        // 1. Self-trade prevention first, over the level's same-account orders in time order.
        if let Some(end) = self.stp_over_level(taker, price, sink) {
            return end;
        }

        // The participants, in time order, after STP.
        let participants = self.level_orders(maker_side, price);
        if taker.remaining == 0 || participants.is_empty() {
            return WalkEnd::Normal;
        }
        let mut alloc: Vec<Qty> = vec![0; participants.len()];
        let mut q = taker.remaining;

        // 2. Top order, FIFO.
        let first = if top_order {
            alloc[0] = q.min(participants[0].open);
            q -= alloc[0];
            1
        } else {
            0
        };

        // 3. Allocation among the rest.
        let rest = &participants[first..];
        let total: u128 = rest.iter().map(|o| o.open as u128).sum();
        if !rest.is_empty() && q > 0 {
            let qq = q as u128;
            if qq >= total {
                for (i, o) in rest.iter().enumerate() {
                    alloc[first + i] = o.open;
                }
            } else {
                let mut given: u128 = 0;
                let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(rest.len());
                for (i, o) in rest.iter().enumerate() {
                    let exact = qq * o.open as u128;
                    let share = exact / total; // < o.open because qq < total
                    alloc[first + i] = share as Qty;
                    given += share;
                    remainders.push((exact % total, i));
                }
                // Largest remainder first; ties to the earlier arrival (smaller index).
                remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                let leftover = (qq - given) as usize; // < rest.len()
                for &(_, i) in remainders.iter().take(leftover) {
                    alloc[first + i] += 1;
                }
            }
        }

        // 4. Fills in time order of the makers, one per non-zero allocation.
        for (o, &a) in participants.iter().zip(alloc.iter()) {
            if a > 0 {
                self.fill(taker, o.id, maker_side, price, a, sink);
            }
        }
        WalkEnd::Normal
    }
}
