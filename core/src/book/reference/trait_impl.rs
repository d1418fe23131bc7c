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

    fn for_each_level(&self, side: Side, f: &mut dyn FnMut(&LevelView)) {
        let view = |price: Price, level: &VecDeque<Order>| LevelView {
            price,
            // Saturates only if max_order_qty is configured absurdly high.
            total_qty: level.iter().map(|o| o.open as u128).sum(),
            orders: level.len(),
        };
        match side {
            Side::Buy => {
                for (&p, l) in self.bids.iter().rev() {
                    f(&view(p, l));
                }
            }
            Side::Sell => {
                for (&p, l) in self.asks.iter() {
                    f(&view(p, l));
                }
            }
        }
    }
}
