//! Placeholder: the fast book (being written).
use super::*;
use crate::command::Command;
pub struct FastBook {
    cfg: BookConfig,
}
impl FastBook {
    pub fn new(cfg: BookConfig) -> Self {
        FastBook { cfg }
    }
}
impl OrderBook for FastBook {
    fn name(&self) -> &'static str {
        "fast"
    }
    fn config(&self) -> &BookConfig {
        &self.cfg
    }
    fn apply<S: EventSink>(&mut self, _cmd: &Command, _sink: &mut S) {}
    fn best_bid(&self) -> Option<Price> {
        None
    }
    fn best_ask(&self) -> Option<Price> {
        None
    }
    fn order(&self, _id: OrderId) -> Option<RestingOrder> {
        None
    }
    fn len(&self) -> usize {
        0
    }
    fn for_each_order(&self, _f: &mut dyn FnMut(&RestingOrder)) {}
    fn for_each_level(&self, _side: Side, _f: &mut dyn FnMut(&LevelView)) {}
}
