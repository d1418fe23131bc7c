//! The `OrderBook` trait over the reference book: commands in, queries out.

use super::*;
use crate::command::Command;

impl OrderBook for ReferenceBook {
    fn name(&self) -> &'static str {
        "reference"
    }

    fn config(&self) -> &BookConfig {
        &self.cfg
    }

    fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.index.clear();
        self.top = [None; 2];
        self.stops.clear();
        self.pegs.clear();
    }

    fn apply<S: EventSink>(&mut self, cmd: &Command, sink: &mut S) {
        self.apply_with_stops(cmd, sink);
    }

    fn best_bid(&self) -> Option<Price> {
        self.best_of(Side::Buy)
    }

    fn best_ask(&self) -> Option<Price> {
        self.best_of(Side::Sell)
    }

    fn order(&self, id: OrderId) -> Option<RestingOrder> {
        self.order_internal(id).map(|o| RestingOrder {
            side: o.side,
            price: o.price,
            id: o.id,
            account: o.account,
            open_qty: o.open,
            tif: o.tif,
            stp: o.stp,
        })
    }

    fn pending_stops(&self) -> usize {
        self.stops.len()
    }

    fn for_each_pending_stop(&self, f: &mut dyn FnMut(&NewOrder)) {
        self.stops.iter().for_each(|s| f(&s.order));
    }

    fn len(&self) -> usize {
        self.index.len()
    }

    fn pegs(&self) -> usize {
        self.pegs.len()
    }

    fn for_each_peg(&self, f: &mut dyn FnMut(&RestingPeg)) {
        for p in &self.pegs {
            f(&RestingPeg {
                side: p.side,
                id: p.id,
                account: p.account,
                open_qty: p.open,
                cap: p.cap,
                stp: p.stp,
            });
        }
    }

    fn icebergs(&self) -> usize {
        let mut n = 0;
        self.for_each_iceberg(&mut |_, _, _| n += 1);
        n
    }

    fn for_each_iceberg(&self, f: &mut dyn FnMut(OrderId, Qty, Qty)) {
        for side in [Side::Buy, Side::Sell] {
            for o in self.iceberg_walk(side) {
                f(o.id, o.display, o.reserve);
            }
        }
    }

    fn restore_iceberg(&mut self, id: OrderId, display: Qty, reserve: Qty) -> bool {
        self.set_iceberg(id, display, reserve)
    }

    fn for_each_order(&self, f: &mut dyn FnMut(&RestingOrder)) {
        let emit = |f: &mut dyn FnMut(&RestingOrder), level: &VecDeque<Order>| {
            for o in level {
                f(&RestingOrder {
                    side: o.side,
                    price: o.price,
                    id: o.id,
                    account: o.account,
                    open_qty: o.open,
                    tif: o.tif,
                    stp: o.stp,
                });
            }
        };
        for level in self.bids.values().rev() {
            emit(f, level);
        }
        for level in self.asks.values() {
            emit(f, level);
        }
    }

    fn for_each_level_while(&self, side: Side, f: &mut dyn FnMut(&LevelView) -> bool) {
        let view = |price: Price, level: &VecDeque<Order>| LevelView {
            price,
            total_qty: level_total(level),
            orders: level.len(),
        };
        let levels: Box<dyn Iterator<Item = (&Price, &VecDeque<Order>)>> = match side {
            Side::Buy => Box::new(self.bids.iter().rev()),
            Side::Sell => Box::new(self.asks.iter()),
        };
        for (&p, l) in levels {
            if !f(&view(p, l)) {
                return;
            }
        }
    }

    fn depth_at(&self, side: Side, price: Price) -> u128 {
        self.side_map(side).get(&price).map_or(0, level_total)
    }
}

/// The open quantity of one level, summed order by order in 128 bits (exact: a `u64` per
/// order, and fewer than 2^64 orders).
fn level_total(level: &VecDeque<Order>) -> u128 {
    level.iter().map(|o| o.open as u128).sum()
}
