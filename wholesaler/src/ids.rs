//! Broker id spaces: each broker sending retail flow owns a range of customer order ids,
//! so ids from two brokers never collide and any id says which broker sent it.

use flowmatch_core::OrderId;

/// Customer order ids carry their broker in the top 16 bits, so each broker has its own
/// id space (`(broker << BROKER_SHIFT) | sequence`).
pub const BROKER_SHIFT: u32 = 40;

/// The broker an order id belongs to.
#[inline]
pub fn broker_of(id: OrderId) -> u16 {
    (id >> BROKER_SHIFT) as u16
}

/// A customer order id in broker `broker`'s id space (`seq` keeps its low 40 bits).
#[inline]
pub fn retail_id(broker: u16, seq: u64) -> OrderId {
    ((broker as u64) << BROKER_SHIFT) | (seq & ((1u64 << BROKER_SHIFT) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_ids_round_trip() {
        let id = retail_id(7, 123_456);
        assert_eq!(broker_of(id), 7);
        assert_eq!(id & ((1 << BROKER_SHIFT) - 1), 123_456);
    }
}
