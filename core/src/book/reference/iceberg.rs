//! Iceberg (reserve) orders in the reference book, transcribed from `docs/SEMANTICS.md`
//! ("Iceberg orders") on their own: the checks of a new iceberg, how its remainder rests
//! (shown part in the book, the rest in reserve on the order itself), and the refill when
//! the shown part reaches zero (the next shown part goes to the back of the level).

use super::*;

impl ReferenceBook {
    /// The iceberg checks that follow a new order's quantity and lot checks, in the order
    /// the spec lists them: price as a limit's (present, in the band, on the tick), GTC,
    /// display in `1..=qty` and on the lot, and a price-time book.
    pub(super) fn validate_iceberg(&self, o: &NewOrder, display: Qty) -> Result<(), RejectReason> {
        let Some(p) = o.price else {
            return Err(RejectReason::BadPrice);
        };
        if !self.cfg.price_ok(p) {
            return Err(RejectReason::BadPrice);
        }
        if !self.on_tick(p) {
            return Err(RejectReason::BadTick);
        }
        if o.tif != Tif::Gtc {
            return Err(RejectReason::BadTif);
        }
        if display == 0 || display > o.qty {
            return Err(RejectReason::BadQty);
        }
        if !self.on_lot(display) {
            return Err(RejectReason::BadLot);
        }
        Ok(())
    }

    /// The order to rest for `open` units left of an order: an iceberg (`display > 0`)
    /// shows `min(display, open)` and keeps the rest in reserve; anything else shows all.
    pub(super) fn resting(mut o: Order, open: Qty) -> Order {
        if o.display == 0 {
            o.open = open;
            o.reserve = 0;
        } else {
            o.open = open.min(o.display);
            o.reserve = open - o.open;
        }
        o
    }

    /// The resting icebergs of `side`, best price first, each level in time priority.
    pub(super) fn iceberg_walk(&self, side: Side) -> Vec<Order> {
        let levels: Vec<&VecDeque<Order>> = match side {
            Side::Buy => self.bids.values().rev().collect(),
            Side::Sell => self.asks.values().collect(),
        };
        levels
            .into_iter()
            .flat_map(|l| l.iter().filter(|o| o.display != 0).copied())
            .collect()
    }

    /// A snapshot's rebuild: resting order `id` becomes an iceberg of `display` with
    /// `reserve` hidden, in place.
    pub(super) fn set_iceberg(&mut self, id: OrderId, display: Qty, reserve: Qty) -> bool {
        let Some(&(side, price)) = self.index.get(&id) else {
            return false;
        };
        if display == 0 {
            return false;
        }
        let Some(o) = self
            .side_map_mut(side)
            .get_mut(&price)
            .and_then(|l| l.iter_mut().find(|o| o.id == id))
        else {
            return false;
        };
        o.display = display;
        o.reserve = reserve;
        true
    }

    /// Order `id` at `price` on `side` has just shown zero. An iceberg with a reserve shows
    /// its next part at the back of the level (it loses its place) and stays; anything else
    /// leaves the book.
    pub(super) fn refill_or_remove(&mut self, id: OrderId, side: Side, price: Price) {
        let level = self
            .side_map_mut(side)
            .get_mut(&price)
            .expect("maker's level exists");
        let pos = level
            .iter()
            .position(|o| o.id == id)
            .expect("maker is in its level");
        if level[pos].reserve == 0 {
            self.remove(id);
            return;
        }
        let mut o = level.remove(pos).expect("position is in range");
        let next = Self::resting(o, o.reserve);
        o.open = next.open;
        o.reserve = next.reserve;
        level.push_back(o);
        // The new part has new time priority, so it is no longer TOP (CME).
        self.top_on_remove(&o);
    }
}
