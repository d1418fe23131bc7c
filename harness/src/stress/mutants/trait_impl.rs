//! The `OrderBook` trait over the mutant book (copied from the reference book's), except
//! that `for_each_level` reports the book's running aggregate, as the fast book does.

use super::book::{MutantBook, Order};
use flowmatch_core::{BookConfig, Command, EventSink, LevelView, OrderBook, OrderId, Price};
use flowmatch_core::{RestingOrder, Side};
use std::collections::VecDeque;

impl OrderBook for MutantBook {
    fn name(&self) -> &'static str {
        "mutant"
    }

    fn config(&self) -> &BookConfig {
        &self.cfg
    }

    fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.index.clear();
        self.totals.clear();
    }

    fn apply<S: EventSink>(&mut self, cmd: &Command, sink: &mut S) {
        match *cmd {
            Command::New(ref o) => self.new_order(o, sink),
            Command::Cancel { id } => self.cancel(id, sink),
            Command::Replace { id, price, qty } => self.replace(id, price, qty, sink),
        }
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

    fn len(&self) -> usize {
        self.index.len()
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
            total_qty: self.total(side, price),
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

    /// The running aggregate, like the fast book's (so a stale one shows here too).
    fn depth_at(&self, side: Side, price: Price) -> u128 {
        let held = match side {
            Side::Buy => self.bids.contains_key(&price),
            Side::Sell => self.asks.contains_key(&price),
        };
        if held {
            self.total(side, price)
        } else {
            0
        }
    }
}
