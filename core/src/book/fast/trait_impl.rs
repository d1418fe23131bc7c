//! [`OrderBook`] for [`FastBook`]: command dispatch and the read-only queries (best
//! prices, one order, walks over orders and levels), which read the slabs in ladder order.

use super::FastBook;
use crate::book::{LevelView, OrderBook, RestingOrder};
use crate::command::{Command, EventSink, NewOrder};
use crate::types::{BookConfig, OrderId, Price, Qty, Side};

impl OrderBook for FastBook {
    fn name(&self) -> &'static str {
        "fast"
    }

    fn config(&self) -> &BookConfig {
        &self.cfg
    }

    #[inline]
    fn apply<S: EventSink>(&mut self, cmd: &Command, sink: &mut S) {
        match cmd {
            Command::New(o) => self.new_order(o, sink),
            // While icebergs or pegs rest, a cancel may take a reserve too
            // ([`super::iceberg`]) or a peg, and a cancel or replace may move the touch
            // the pegs follow ([`super::peg`]); one flag for both, tested here, out of
            // `cancel`, where it cost one instruction more (measured).
            Command::Cancel { id } if self.exotic => self.exotic_cancel(*id, sink),
            Command::Replace { id, price, qty } if self.exotic => {
                self.exotic_replace(*id, *price, *qty, sink)
            }
            Command::Cancel { id } => self.cancel(*id, sink),
            Command::Replace { id, price, qty } => {
                self.replace::<false, S>(*id, *price, *qty, sink)
            }
        }
    }

    fn clear(&mut self) {
        FastBook::clear(self);
    }

    fn best_bid(&self) -> Option<Price> {
        self.best_level(Side::Buy).map(|li| self.levels[li].price)
    }

    fn best_ask(&self) -> Option<Price> {
        self.best_level(Side::Sell).map(|li| self.levels[li].price)
    }

    fn order(&self, id: OrderId) -> Option<RestingOrder> {
        let si = self.index.get(id)?;
        let s = &self.slots[si];
        let lvl = &self.levels[s.level()];
        Some(RestingOrder {
            side: lvl.side,
            price: lvl.price,
            id: s.id,
            account: s.account,
            open_qty: s.qty,
            tif: s.tif(),
            stp: s.stp(),
        })
    }

    fn pending_stops(&self) -> usize {
        self.stops.len()
    }

    fn for_each_pending_stop(&self, f: &mut dyn FnMut(&NewOrder)) {
        self.for_each_stop(f);
    }

    fn len(&self) -> usize {
        self.live
    }

    fn pegs(&self) -> usize {
        self.pegs.len()
    }

    fn for_each_peg(&self, f: &mut dyn FnMut(&crate::book::RestingPeg)) {
        self.pegs.for_each(f);
    }

    fn icebergs(&self) -> usize {
        self.icebergs.len()
    }

    fn for_each_iceberg(&self, f: &mut dyn FnMut(OrderId, Qty, Qty)) {
        if !self.icebergs.any() {
            return;
        }
        self.for_each_order(&mut |o| {
            if let Some((display, reserve)) = self.iceberg_of(o.id) {
                f(o.id, display, reserve);
            }
        });
    }

    fn restore_iceberg(&mut self, id: OrderId, display: Qty, reserve: Qty) -> bool {
        self.restore_iceberg_state(id, display, reserve)
    }

    fn for_each_order(&self, f: &mut dyn FnMut(&RestingOrder)) {
        for side in [Side::Buy, Side::Sell] {
            self.for_each_order_of(side, &mut |o| {
                f(o);
                true
            });
        }
    }

    fn for_each_order_of(&self, side: Side, f: &mut dyn FnMut(&RestingOrder) -> bool) {
        for li in self.ladder(side).best_first() {
            let lvl = &self.levels[li];
            // A lazily emptied level has no head; freed levels are not in the ladder.
            let mut cur = lvl.head;
            while let Some(si) = cur.get() {
                let s = &self.slots[si];
                let going = f(&RestingOrder {
                    side,
                    price: lvl.price,
                    id: s.id,
                    account: s.account,
                    open_qty: s.qty,
                    tif: s.tif(),
                    stp: s.stp(),
                });
                if !going {
                    return;
                }
                cur = s.next;
            }
        }
    }

    fn for_each_level_while(&self, side: Side, f: &mut dyn FnMut(&LevelView) -> bool) {
        for li in self.ladder(side).best_first() {
            let lvl = &self.levels[li];
            if lvl.count > 0 {
                let going = f(&LevelView {
                    price: lvl.price,
                    total_qty: lvl.total,
                    orders: lvl.count as usize,
                });
                if !going {
                    return;
                }
            }
        }
    }

    fn depth_at(&self, side: Side, price: Price) -> u128 {
        let ladder = self.ladder(side);
        // A lazily emptied level's total is 0, as it should be.
        ladder
            .find(ladder.key(price))
            .map_or(0, |li| self.levels[li].total)
    }
}
