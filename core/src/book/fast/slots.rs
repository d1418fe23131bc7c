//! What the fast book stores per order and per price level, and how it packs it.
//!
//! Both are sized to the cache: a [`Slot`] is 32 bytes aligned to 32 (two per cache line,
//! none straddling two) and a [`Level`] is one 64-byte line. Time in force and STP mode,
//! read only by a replace, ride in the tag bits above a slot's level index instead of in
//! an array of their own, which saves a cache line per new order and per replace
//! (criterion, mixed stream: about 4%).

use crate::book::pool::{FreeLink, Ix, Link, Tagged};
use crate::types::{Account, OrderId, Price, Qty, Side, Stp, Tif};

/// A resting order, 32 bytes aligned to 32 so that no slot straddles two cache lines (at
/// 40 bytes, half of them did).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(32))]
pub(super) struct Slot {
    pub(super) id: OrderId,
    pub(super) qty: Qty,
    /// Next order in the level's FIFO, or the next free slot when on the free list.
    pub(super) next: Link<Slot>,
    pub(super) prev: Link<Slot>,
    /// The level, tagged with the time in force and STP mode ([`Slot::pack`]).
    pub(super) level_flags: Tagged<Level>,
    /// Read on every fill when the taker has a self-trade-prevention mode.
    pub(super) account: Account,
}

impl Slot {
    /// A free slot, as the pool is pre-filled with.
    pub(super) const BLANK: Slot = Slot {
        id: 0,
        qty: 0,
        next: Link::NIL,
        prev: Link::NIL,
        // The placeholder level every pool holds; a free slot's level is never read.
        level_flags: Tagged::FIRST_UNTAGGED,
        account: 0,
    };

    /// `level_flags` for a resting order. Only GTC and post-only orders rest.
    #[inline]
    pub(super) fn pack(level: Ix<Level>, tif: Tif, stp: Stp) -> Tagged<Level> {
        debug_assert!(matches!(tif, Tif::Gtc | Tif::Post));
        let tif_bit = (tif == Tif::Post) as u32;
        let stp_code = match stp {
            Stp::None => 0,
            Stp::CancelTaker => 1,
            Stp::CancelMaker => 2,
            Stp::CancelBoth => 3,
            Stp::DecrementCancel => 4,
        };
        Tagged::new(level, tif_bit | stp_code << 1)
    }

    #[inline]
    pub(super) fn level(&self) -> Ix<Level> {
        self.level_flags.ix()
    }

    #[inline]
    pub(super) fn set_level(&mut self, level: Ix<Level>) {
        self.level_flags = self.level_flags.with_ix(level);
    }

    pub(super) fn tif(&self) -> Tif {
        if self.level_flags.tag() & 1 == 1 {
            Tif::Post
        } else {
            Tif::Gtc
        }
    }

    pub(super) fn stp(&self) -> Stp {
        match self.level_flags.tag() >> 1 {
            0 => Stp::None,
            1 => Stp::CancelTaker,
            2 => Stp::CancelMaker,
            3 => Stp::CancelBoth,
            _ => Stp::DecrementCancel,
        }
    }
}

/// One price level: a FIFO of slots, and the side it belongs to (so an order's side
/// need not be stored per order). 64 bytes aligned to 64: one cache line.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub(super) struct Level {
    /// Open quantity of the level's orders. In 128 bits: a level holds up to 2^32 orders
    /// of up to `u64::MAX` each, so the sum is exact for every quantity a book accepts
    /// (two orders of 2^63 already overflow 64 bits).
    pub(super) total: u128,
    pub(super) price: Price,
    pub(super) head: Link<Slot>,
    pub(super) tail: Link<Slot>,
    pub(super) count: u32,
    /// The next free level while this one is on the pool's free list.
    pub(super) free_next: Link<Level>,
    pub(super) side: Side,
    /// In its side's ladder (live or lazily empty); false once freed. Lets the level
    /// cache tell a current entry from a recycled level.
    pub(super) in_ladder: bool,
}

impl Level {
    /// An empty level at `price`, in its side's ladder.
    #[inline]
    pub(super) fn new(side: Side, price: Price) -> Level {
        Level {
            total: 0,
            price,
            head: Link::NIL,
            tail: Link::NIL,
            count: 0,
            free_next: Link::NIL,
            side,
            in_ladder: true,
        }
    }

    /// A free level, as the pool is pre-filled with.
    pub(super) const BLANK: Level = Level {
        total: 0,
        price: 0,
        head: Link::NIL,
        tail: Link::NIL,
        count: 0,
        free_next: Link::NIL,
        side: Side::Buy,
        in_ladder: false,
    };
}

/// A free slot lends its `next` link to the pool's free list.
impl FreeLink for Slot {
    #[inline]
    fn free_link(&self) -> Link<Slot> {
        self.next
    }
    #[inline]
    fn set_free_link(&mut self, next: Link<Slot>) {
        self.next = next;
    }
}

/// A free level has a link of its own (room is left in its cache line); its `count` stays
/// 0 and its `head` NIL, so no walk follows it.
impl FreeLink for Level {
    #[inline]
    fn free_link(&self) -> Link<Level> {
        self.free_next
    }
    #[inline]
    fn set_free_link(&mut self, next: Link<Level>) {
        self.free_next = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout the module docs promise: no slot or level straddles a cache line.
    #[test]
    fn slots_are_half_a_cache_line_and_levels_one() {
        assert_eq!(std::mem::size_of::<Slot>(), 32);
        assert_eq!(std::mem::align_of::<Slot>(), 32);
        assert_eq!(std::mem::size_of::<Level>(), 64);
        assert_eq!(std::mem::align_of::<Level>(), 64);
    }

    /// What a replace reads back of a resting order's time in force, STP mode and level is
    /// what was packed, for every combination that can rest and levels at both ends.
    #[test]
    fn packed_flags_round_trip() {
        let stps = [
            Stp::None,
            Stp::CancelTaker,
            Stp::CancelMaker,
            Stp::CancelBoth,
            Stp::DecrementCancel,
        ];
        let levels = [0, 1, 12_345, Tagged::<Level>::MAX_INDEX].map(Ix::for_test);
        let seven = Ix::for_test(7);
        for level in levels {
            for tif in [Tif::Gtc, Tif::Post] {
                for stp in stps {
                    let mut s = Slot {
                        level_flags: Slot::pack(level, tif, stp),
                        ..Slot::BLANK
                    };
                    assert_eq!((s.level(), s.tif(), s.stp()), (level, tif, stp));
                    s.set_level(seven);
                    assert_eq!((s.level(), s.tif(), s.stp()), (seven, tif, stp));
                }
            }
        }
    }
}
