//! Placeholder: the reference book (being written).
use super::*;
use crate::command::Command;
pub struct ReferenceBook {
    cfg: BookConfig,
}
impl ReferenceBook {
    pub fn new(cfg: BookConfig) -> Self {
        ReferenceBook { cfg }
    }
}
impl OrderBook for ReferenceBook {
    fn name(&self) -> &'static str {
        "reference"
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
