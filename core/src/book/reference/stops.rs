//! Stops and stop-limits in the oracle, transcribed from `docs/SEMANTICS.md` ("Stop
//! orders") without the fast book's bookkeeping: a plain list of pending stops in arrival
//! order, every trade price of a command written down as it prints, and after the command
//! each print checked against each pending stop.

use super::*;
use crate::command::{Command, Sink};

/// A stop waiting for its trigger.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pending {
    pub(super) order: NewOrder,
    /// A trade at or through the trigger has printed since the stop arrived.
    pub(super) fired: bool,
}

/// Passes events on and writes down the price of every trade.
struct Tap<'a, S> {
    inner: &'a mut S,
    prints: Vec<Price>,
}

impl<S: EventSink> Sink<Event> for Tap<'_, S> {
    fn event(&mut self, e: Event) {
        if let Event::Trade { price, .. } = e {
            self.prints.push(price);
        }
        self.inner.event(e);
    }
}

impl ReferenceBook {
    /// One command and then every stop its trades set off, each triggered stop entering
    /// as the order it becomes, in arrival order, until no fired stop is left.
    pub(super) fn apply_with_stops<S: EventSink>(&mut self, cmd: &Command, sink: &mut S) {
        let mut tap = Tap {
            inner: sink,
            prints: Vec::new(),
        };
        match *cmd {
            Command::New(ref o) => self.new_order(o, &mut tap),
            Command::Cancel { id } => self.cancel(id, &mut tap),
            Command::Replace { id, price, qty } => self.replace(id, price, qty, &mut tap),
        }
        loop {
            let prints = std::mem::take(&mut tap.prints);
            for p in prints {
                for s in &mut self.stops {
                    let trigger = s.order.ord_type.trigger().expect("a pending stop");
                    let met = match s.order.side {
                        Side::Buy => p >= trigger,
                        Side::Sell => p <= trigger,
                    };
                    s.fired |= met;
                }
            }
            let Some(pos) = self.stops.iter().position(|s| s.fired) else {
                return;
            };
            let mut o = self.stops.remove(pos).order;
            o.ord_type = match o.ord_type {
                OrdType::Stop { .. } => OrdType::Market,
                _ => OrdType::Limit,
            };
            self.new_order(&o, &mut tap);
        }
    }

    /// A pending stop leaves on its owner's cancel, reported with its own side and price.
    pub(super) fn cancel_stop(&mut self, id: OrderId) -> Option<NewOrder> {
        let pos = self.stops.iter().position(|s| s.order.id == id)?;
        Some(self.stops.remove(pos).order)
    }

    /// The stop checks of `docs/SEMANTICS.md`, steps 2 and 3, for a stop or stop-limit.
    pub(super) fn validate_stop(&self, o: &NewOrder, trigger: Price) -> Result<(), RejectReason> {
        let market = matches!(o.ord_type, OrdType::Stop { .. });
        match o.price {
            Some(_) if market => return Err(RejectReason::BadPrice),
            None if !market => return Err(RejectReason::BadPrice),
            Some(p) if !self.cfg.price_ok(p) => return Err(RejectReason::BadPrice),
            Some(p) if !self.on_tick(p) => return Err(RejectReason::BadTick),
            _ => {}
        }
        if !self.cfg.price_ok(trigger) {
            return Err(RejectReason::BadPrice);
        }
        if !self.on_tick(trigger) {
            return Err(RejectReason::BadTick);
        }
        if o.tif == Tif::Post || (market && o.tif == Tif::Gtc) {
            return Err(RejectReason::BadTif);
        }
        Ok(())
    }
}
