//! An arena of `T` with a free list, for the fast book's orders and levels, and the index
//! types that address it.
//!
//! # Why indices are their own types
//! The matching path follows `u32` links from slot to slot and level to level, and skips
//! the bounds check on every one of them (it pays: measured with callgrind on the
//! `equity-mixed` stream, see `bench-results/instructions/`). That is sound only if every
//! index used is in bounds, so indices are types this module alone can make:
//! - [`Ix<T>`] is an element of a `Pool<T>`. It is minted only by [`Pool::alloc`] (and
//!   [`Ix::FIRST`], the element every pool has), and a pool never shrinks (not even
//!   [`Pool::clear`]), so an `Ix<T>` is in bounds of the pool it came from for the pool's
//!   whole life; indexing with it needs no check.
//! - [`Link<T>`] is an `Ix<T>` or nothing ([`Link::NIL`], the end of a list), in 32 bits.
//!   Turning it back into an index ([`Link::get`]) is the compare against `NIL` the code
//!   needs anyway.
//! - [`Tagged<T>`] is an `Ix<T>` in the low [`Tagged::INDEX_BITS`] bits of a `u32` with a
//!   small tag above, for fields that pack an index with flags. Unpacking masks, so even a
//!   truncated index is smaller than the one packed and still in bounds.
//!
//! Each book owns exactly one pool per element type and never hands an index out of the
//! book (these types are crate-private), so the pool an index meets is the one it came from.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

const NIL_RAW: u32 = u32::MAX;

/// An element of a [`Pool<T>`]; only the pool mints these (see the module docs).
#[repr(transparent)]
pub(crate) struct Ix<T> {
    raw: u32,
    of: PhantomData<fn() -> T>,
}

/// An [`Ix<T>`] or the end of a list, in 32 bits.
#[repr(transparent)]
pub(crate) struct Link<T> {
    raw: u32,
    of: PhantomData<fn() -> T>,
}

/// An [`Ix<T>`] packed with a tag of `32 - INDEX_BITS` bits.
#[repr(transparent)]
pub(crate) struct Tagged<T> {
    raw: u32,
    of: PhantomData<fn() -> T>,
}

// Manual impls: derives would demand `T: Copy` etc. of the element type.
macro_rules! plain_u32 {
    ($($t:ident),*) => {$(
        impl<T> Clone for $t<T> {
            #[inline(always)]
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<T> Copy for $t<T> {}
        impl<T> PartialEq for $t<T> {
            #[inline(always)]
            fn eq(&self, other: &Self) -> bool {
                self.raw == other.raw
            }
        }
        impl<T> Eq for $t<T> {}
        impl<T> fmt::Debug for $t<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($t), self.raw)
            }
        }
    )*};
}
plain_u32!(Ix, Link, Tagged);

impl<T> Ix<T> {
    /// Element 0, which every pool holds from construction on ([`Pool::prefilled`] makes
    /// at least one): a placeholder that is always in bounds.
    pub(crate) const FIRST: Ix<T> = Ix::mint(0);

    #[inline(always)]
    const fn mint(raw: u32) -> Self {
        Ix {
            raw,
            of: PhantomData,
        }
    }

    /// The position, for hashing into tables and for tests.
    #[inline(always)]
    pub(crate) fn raw(self) -> u32 {
        self.raw
    }

    /// An index that no pool minted, for tests of structures that only store indices
    /// (they never index a pool with it).
    #[cfg(test)]
    pub(crate) fn for_test(raw: u32) -> Self {
        assert!(raw != NIL_RAW);
        Ix::mint(raw)
    }
}

impl<T> Link<T> {
    /// No element: the end of a list, an empty bucket.
    pub(crate) const NIL: Link<T> = Link {
        raw: NIL_RAW,
        of: PhantomData,
    };

    /// The index, unless this is [`Link::NIL`].
    #[inline(always)]
    pub(crate) fn get(self) -> Option<Ix<T>> {
        if self.raw == NIL_RAW {
            None
        } else {
            Some(Ix::mint(self.raw))
        }
    }

    /// Whether this is [`Link::NIL`] (the pool's tests; the book converts with `get`).
    #[cfg(test)]
    #[inline(always)]
    pub(crate) fn is_nil(self) -> bool {
        self.raw == NIL_RAW
    }
}

impl<T> From<Ix<T>> for Link<T> {
    #[inline(always)]
    fn from(ix: Ix<T>) -> Self {
        Link {
            raw: ix.raw,
            of: PhantomData,
        }
    }
}

impl<T> From<Option<Ix<T>>> for Link<T> {
    #[inline(always)]
    fn from(ix: Option<Ix<T>>) -> Self {
        ix.map_or(Link::NIL, Link::from)
    }
}

impl<T> Tagged<T> {
    /// Bits of the index; the tag has the rest.
    pub(crate) const INDEX_BITS: u32 = 28;
    /// Largest index that packs without loss ([`Pool::alloc`] callers check this).
    pub(crate) const MAX_INDEX: u32 = (1 << Self::INDEX_BITS) - 1;

    /// [`Ix::FIRST`] with tag 0: a placeholder that is always in bounds.
    pub(crate) const FIRST_UNTAGGED: Tagged<T> = Tagged {
        raw: Ix::<T>::FIRST.raw,
        of: PhantomData,
    };

    /// Pack `ix` (at most [`Tagged::MAX_INDEX`], which callers check when they allocate)
    /// with `tag` (which must fit in `32 - INDEX_BITS` bits). Not masked: a larger index
    /// would only spoil the tag, and [`Tagged::ix`] masks, so it still yields an index no
    /// larger than the one packed.
    #[inline(always)]
    pub(crate) fn new(ix: Ix<T>, tag: u32) -> Self {
        debug_assert!(ix.raw <= Self::MAX_INDEX && tag >> (32 - Self::INDEX_BITS) == 0);
        Tagged {
            raw: ix.raw | tag << Self::INDEX_BITS,
            of: PhantomData,
        }
    }

    /// The index packed (masked: at most the one packed, so in bounds of its pool).
    #[inline(always)]
    pub(crate) fn ix(self) -> Ix<T> {
        Ix::mint(self.raw & Self::MAX_INDEX)
    }

    #[inline(always)]
    pub(crate) fn tag(self) -> u32 {
        self.raw >> Self::INDEX_BITS
    }

    /// The same tag with another index (unmasked, as in [`Tagged::new`]).
    #[inline(always)]
    pub(crate) fn with_ix(self, ix: Ix<T>) -> Self {
        debug_assert!(ix.raw <= Self::MAX_INDEX);
        Tagged {
            raw: (self.raw & !Self::MAX_INDEX) | ix.raw,
            of: PhantomData,
        }
    }
}

/// An element that can lend one of its links to the free list while it is free.
pub(crate) trait FreeLink: Sized {
    fn free_link(&self) -> Link<Self>;
    fn set_free_link(&mut self, next: Link<Self>);
}

/// Asks the CPU to start loading the cache line of `r` (a hint: no effect on any value,
/// and nothing on a target without a prefetch instruction). For a caller that knows
/// which orders come next ([`crate::FastBook::prefetch`]).
#[inline(always)]
pub(crate) fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch reads nothing the program sees and cannot fault; the pointer
        // comes from a reference, so it is valid anyway.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((r as *const T).cast::<i8>()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

/// The arena. See the module docs.
#[derive(Debug, Clone)]
pub(crate) struct Pool<T> {
    items: Vec<T>,
    /// Head of the free list (linked through [`FreeLink`]).
    free: Link<T>,
}

impl<T: FreeLink + Clone> Pool<T> {
    /// `n` (at least one) free elements, written now (so their pages are faulted in before
    /// the hot path) and chained 0 -> 1 -> 2 ... so the first allocations are contiguous.
    pub(crate) fn prefilled(n: usize, blank: T) -> Self {
        let n = n.max(1);
        assert!(n < NIL_RAW as usize, "pool indices are u32");
        let mut pool = Pool {
            items: vec![blank; n],
            free: Link::NIL,
        };
        pool.clear();
        pool
    }

    /// Capacity for `n` elements in all, so that allocations up to `n` never move the
    /// storage (a caller that knows how many are coming).
    pub(crate) fn reserve_total(&mut self, n: usize) {
        self.items.reserve(n.saturating_sub(self.items.len()));
    }

    /// Bytes of storage allocated (capacity × element size), for memory reports.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<T>()
    }

    /// Every element free again, chained as [`Pool::prefilled`] chains them. The storage
    /// is kept (a pool never shrinks: every index it minted stays in bounds).
    pub(crate) fn clear(&mut self) {
        let n = self.items.len();
        for (i, t) in self.items.iter_mut().enumerate() {
            t.set_free_link(if i + 1 < n {
                Ix::mint(i as u32 + 1).into()
            } else {
                Link::NIL
            });
        }
        self.free = Ix::mint(0).into();
    }

    /// Store `t` in a free element (or in a new one past the pre-filled storage: the only
    /// allocation), returning its index.
    #[inline]
    pub(crate) fn alloc(&mut self, t: T) -> Ix<T> {
        if let Some(i) = self.free.get() {
            self.free = self[i].free_link();
            self[i] = t;
            i
        } else {
            assert!(
                self.items.len() < NIL_RAW as usize,
                "pool full: u32 indices exhausted"
            );
            self.items.push(t);
            Ix::mint((self.items.len() - 1) as u32)
        }
    }

    /// Put element `i` on the free list; its other fields are left as they were.
    #[inline]
    pub(crate) fn release(&mut self, i: Ix<T>) {
        let head = self.free;
        self[i].set_free_link(head);
        self.free = i.into();
    }
}

impl<T> Index<Ix<T>> for Pool<T> {
    type Output = T;

    #[inline(always)]
    fn index(&self, i: Ix<T>) -> &T {
        debug_assert!((i.raw as usize) < self.items.len(), "{i:?} out of bounds");
        // SAFETY: an `Ix<T>` is minted only by this pool's `alloc` (an index below `len`
        // at that moment) or is `Ix::FIRST` (every pool holds element 0 from `prefilled`
        // on), and `items` never shrinks, so `i < items.len()` (module docs).
        unsafe { self.items.get_unchecked(i.raw as usize) }
    }
}

impl<T> IndexMut<Ix<T>> for Pool<T> {
    #[inline(always)]
    fn index_mut(&mut self, i: Ix<T>) -> &mut T {
        debug_assert!((i.raw as usize) < self.items.len(), "{i:?} out of bounds");
        // SAFETY: as in `index`: `i` is below `items.len()`, which never decreases.
        unsafe { self.items.get_unchecked_mut(i.raw as usize) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Cell {
        value: u32,
        next: Link<Cell>,
    }

    impl FreeLink for Cell {
        fn free_link(&self) -> Link<Self> {
            self.next
        }
        fn set_free_link(&mut self, next: Link<Self>) {
            self.next = next;
        }
    }

    fn cell(value: u32) -> Cell {
        Cell {
            value,
            next: Link::NIL,
        }
    }

    /// Allocation order, reuse of released elements, growth past the pre-filled storage,
    /// and `clear` restoring the pre-filled order while keeping every old index in bounds.
    #[test]
    fn alloc_release_grow_clear() {
        let mut p = Pool::prefilled(2, cell(0));
        let a = p.alloc(cell(1));
        let b = p.alloc(cell(2));
        assert_eq!((a.raw(), b.raw()), (0, 1));
        let c = p.alloc(cell(3)); // past the pre-filled two: grows
        assert_eq!(c.raw(), 2);
        p.release(a);
        let d = p.alloc(cell(4));
        assert_eq!(d, a, "a released element is reused first");
        assert_eq!((p[b].value, p[c].value, p[d].value), (2, 3, 4));
        p.clear();
        assert_eq!(p.items.len(), 3, "clear keeps the storage");
        let order: Vec<u32> = (0..3).map(|v| p.alloc(cell(v)).raw()).collect();
        assert_eq!(order, vec![0, 1, 2]);
        assert_eq!(p[c].value, 2, "an old index still addresses the pool");
    }

    #[test]
    fn an_empty_request_still_holds_first() {
        let mut p = Pool::prefilled(0, cell(9));
        assert_eq!(p[Ix::FIRST].value, 9);
        assert_eq!(p.alloc(cell(1)), Ix::FIRST);
    }

    #[test]
    fn links_and_tags_round_trip() {
        let ix = Ix::<Cell>::for_test(12_345);
        assert_eq!(Link::from(ix).get(), Some(ix));
        assert_eq!(Link::<Cell>::NIL.get(), None);
        assert!(Link::<Cell>::NIL.is_nil());
        let max = Ix::<Cell>::for_test(Tagged::<Cell>::MAX_INDEX);
        for tag in 0..16 {
            for i in [Ix::FIRST, ix, max] {
                let t = Tagged::new(i, tag);
                assert_eq!((t.ix(), t.tag()), (i, tag));
                assert_eq!(t.with_ix(ix).tag(), tag);
            }
        }
    }
}
