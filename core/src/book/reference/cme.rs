//! The reference book's CME Globex allocation ([`MatchPolicy::Cme`]) at one level, and the
//! TOP order it needs, written from `docs/ALLOCATION.md` ("In the books") apart from the
//! fast book's: the TOP order is tracked eagerly (set when an order rests at a price
//! strictly better than its side's best, or on an empty side; cleared when that order
//! leaves the book), and the level is shared by the reference allocation
//! ([`super::allocation::allocate`]), not the fast one.

use super::*;
use crate::allocation::{CmePolicy, LevelOrder};

impl ReferenceBook {
    /// Before `o` rests: it becomes its side's TOP order if it betters that side's best.
    pub(super) fn top_on_rest(&mut self, o: &Order) {
        let betters = match self.best_of(o.side) {
            None => true,
            Some(best) => o.side.better(o.price, best),
        };
        if betters {
            self.top[o.side as usize] = Some(o.id);
        }
    }

    /// After `o` left the book (filled, cancelled or requeued): it is no longer TOP.
    pub(super) fn top_on_remove(&mut self, o: &Order) {
        if self.top[o.side as usize] == Some(o.id) {
            self.top[o.side as usize] = None;
        }
    }

    /// CME allocation at one level: self-trade prevention over the level's same-owner
    /// orders in time order (as under pro-rata), then the algorithm over the orders left,
    /// one fill per non-zero allocation in the makers' time order.
    pub(super) fn level_cme<S: EventSink>(
        &mut self,
        taker: &mut Taker,
        price: Price,
        policy: &CmePolicy,
        sink: &mut S,
    ) -> WalkEnd {
        let maker_side = taker.side.opposite();
        if let Some(end) = self.stp_over_level(taker, price, sink) {
            return end;
        }
        let participants = self.level_orders(maker_side, price);
        if taker.remaining == 0 || participants.is_empty() {
            return WalkEnd::Normal;
        }
        let top = self.top[maker_side as usize];
        let level: Vec<LevelOrder> = participants
            .iter()
            .map(|o| LevelOrder {
                id: o.id,
                open: o.open,
                account: o.account,
                top: top == Some(o.id),
            })
            .collect();
        let fills = super::allocation::allocate(
            &level,
            taker.remaining,
            policy.algorithm(),
            policy.params(),
        );
        for (o, &a) in participants.iter().zip(fills.iter()) {
            if a > 0 {
                self.fill(taker, o.id, maker_side, price, a, sink);
            }
        }
        WalkEnd::Normal
    }
}
