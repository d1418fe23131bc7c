//! An append-only arena indexed by `u32`, with a free list, for the fast book's orders
//! and levels.
//!
//! Indices are only ever created by [`Pool::alloc`] (returning the new element's index)
//! and the pool never shrinks, so every index the book stores is in bounds for the life
//! of the pool. That invariant lets element access skip the bounds check. It pays on the
//! matching path, where every step follows `u32` links: measured with callgrind on the
//! `equity-mixed` stream (see `bench-results/book/`).

use std::ops::{Index, IndexMut};

/// "No element": the end of a list, in the pool's free list and the book's own lists.
pub(crate) const NIL: u32 = u32::MAX;

/// An element that can lend one of its `u32` links to the free list while it is free.
pub(crate) trait FreeLink {
    fn free_link(&self) -> u32;
    fn set_free_link(&mut self, next: u32);
}

#[derive(Debug, Clone)]
pub(crate) struct Pool<T> {
    items: Vec<T>,
    /// Head of the free list (linked through `FreeLink`), or `NIL`.
    free: u32,
}

impl<T: FreeLink + Clone> Pool<T> {
    /// `n` free elements, written now (so their pages are faulted in before the hot path)
    /// and chained 0 -> 1 -> 2 ... so the first allocations are contiguous.
    pub(crate) fn prefilled(n: usize, blank: T) -> Self {
        assert!(n < (u32::MAX - 1) as usize, "pool indices are u32");
        let mut items = vec![blank; n];
        for (i, t) in items.iter_mut().enumerate() {
            t.set_free_link(if i + 1 < n { (i + 1) as u32 } else { NIL });
        }
        Pool {
            items,
            free: if n > 0 { 0 } else { NIL },
        }
    }

    /// Store `t` in a free element (or in a new one past the pre-filled storage: the only
    /// allocation), returning its index.
    #[inline]
    pub(crate) fn alloc(&mut self, t: T) -> u32 {
        if self.free != NIL {
            let i = self.free;
            self.free = self[i].free_link();
            self[i] = t;
            i
        } else {
            assert!(
                self.items.len() < (u32::MAX - 1) as usize,
                "pool full: u32 indices exhausted"
            );
            self.items.push(t);
            (self.items.len() - 1) as u32
        }
    }

    /// Put element `i` on the free list; its other fields are left as they were.
    #[inline]
    pub(crate) fn release(&mut self, i: u32) {
        let head = self.free;
        self[i].set_free_link(head);
        self.free = i;
    }
}

impl<T> Index<u32> for Pool<T> {
    type Output = T;

    #[inline(always)]
    fn index(&self, i: u32) -> &T {
        debug_assert!(
            (i as usize) < self.items.len(),
            "pool index {i} out of bounds"
        );
        // SAFETY: every index the book holds came from `alloc` on this pool, which never
        // shrinks, so `i < len` (the `NIL` sentinel is checked by callers before access;
        // debug builds, which the differential tests use, assert it).
        unsafe { self.items.get_unchecked(i as usize) }
    }
}

impl<T> IndexMut<u32> for Pool<T> {
    #[inline(always)]
    fn index_mut(&mut self, i: u32) -> &mut T {
        debug_assert!(
            (i as usize) < self.items.len(),
            "pool index {i} out of bounds"
        );
        // SAFETY: as in `index`: `i` came from `alloc` on this never-shrinking pool.
        unsafe { self.items.get_unchecked_mut(i as usize) }
    }
}
