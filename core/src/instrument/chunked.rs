//! The cold slab's storage: records in chunks of at least 32 MiB that never move once the
//! slab has outgrown its first chunk.
//!
//! # Why not a vector
//! A vector that doubles copies every record it holds into a fresh buffer, and the fresh
//! buffer's pages are faulted in (zeroed by the kernel) as the copy writes them. With a
//! million instruments the slab reaches hundreds of MB: callgrind over the Zipf stream
//! (`harness/examples/zipf_instruments.rs`, 1 M instruments, `--cache-sim=yes`) put 2.36 M
//! of its 3.7 M last-level write misses in those copies, and every doubling is one
//! command's stall of tens of milliseconds.
//!
//! # How
//! The first chunk is a vector that doubles as before, so a slab of a few records costs a
//! few records (a multi-book of ten instruments must not pay 32 MiB); it stops at
//! [`ChunkedSlab::PER_CHUNK`] records. Past that, chunks of exactly that many records are
//! made one at a time, each faulted once, by the records written into it: nothing is copied
//! again, records stay where they are, and the slab holds at most one partly used chunk
//! beyond its records. A chunk is 32 MiB or more (not one 2 MiB huge page) because an
//! allocator's buffer is not aligned to 2 MiB, so only the whole huge pages inside it get
//! one; at 32 MiB the unaligned ends are a few percent of it.
//!
//! # Cost
//! An index is a chunk number (`i >> SHIFT`) and a place in the chunk (`i & MASK`), the
//! same for every chunk: one load from the chunk table, which for a million records is a
//! handful of pointers and stays in cache. Callgrind over 2 M commands of the 1 M
//! instruments Zipf stream (`--toggle-collect='*batched_pass*' --cache-sim=yes
//! --LL=33554432,16,64`), against the doubling vector at 033ca84: instructions 634.7 M ->
//! 654.1 M (+3.1%: the chunk's load and the index split), last-level read misses 4.61 M ->
//! 2.78 M, write misses 3.73 M -> 1.96 M (-43% of all last-level misses). Fixed chunks from
//! the first record (no growing first chunk) missed a little less (2.46 M and 1.36 M, +1.9%
//! instructions) but made a one-order multi-book cost 32 MiB. Wall clock on this shared
//! 2-core machine moved less than its noise (the single book itself ranged 26-45 M
//! commands/s across ten alternating runs).

use std::ops::{Index, IndexMut};

use super::huge_pages;

/// Smallest chunk, in bytes: sixteen huge pages (see "How").
const CHUNK_BYTES: usize = 32 << 20;

/// Records of type `T` in chunks of [`ChunkedSlab::PER_CHUNK`], indexed from 0 like a vector
/// that only grows at its end (or is cleared).
#[derive(Debug)]
pub(super) struct ChunkedSlab<T> {
    /// Every chunk made; chunk `k` holds records `k * PER_CHUNK ..`. Only the first one
    /// grows (by doubling, up to `PER_CHUNK`); every later one is made with room for
    /// `PER_CHUNK` and never pushed past it.
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T: Copy> ChunkedSlab<T> {
    /// Records per chunk: the smallest power of two whose records fill [`CHUNK_BYTES`].
    const PER_CHUNK: usize = CHUNK_BYTES.div_ceil(size_of::<T>()).next_power_of_two();
    const SHIFT: u32 = {
        assert!(
            Self::PER_CHUNK >= 64,
            "the first chunk doubles from 64 records"
        );
        Self::PER_CHUNK.trailing_zeros()
    };
    const MASK: usize = Self::PER_CHUNK - 1;

    /// An empty slab; no chunk is made until the first push.
    pub(super) fn new() -> Self {
        ChunkedSlab {
            chunks: Vec::new(),
            len: 0,
        }
    }

    /// Records held.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Records the chunks made so far hold room for (what the slab's memory is).
    pub(super) fn capacity(&self) -> usize {
        self.chunks.iter().map(Vec::capacity).sum()
    }

    /// Bytes the slab holds: its chunks and their table.
    pub(super) fn memory_bytes(&self) -> usize {
        self.capacity() * size_of::<T>() + self.chunks.capacity() * size_of::<Vec<T>>()
    }

    /// Appends `record` and returns its index: into the first chunk while it has fewer
    /// than `PER_CHUNK` records (doubling it when full, which moves its records), else
    /// into the last chunk, made (advised for huge pages) when that one is full. Records
    /// beyond the first chunk never move.
    pub(super) fn push(&mut self, record: T) -> usize {
        let i = self.len;
        let k = i >> Self::SHIFT;
        if k == self.chunks.len() {
            let room = if k == 0 { 0 } else { Self::PER_CHUNK };
            self.chunks.push(huge_pages::with_capacity(room));
        }
        let chunk = &mut self.chunks[k];
        if chunk.len() == chunk.capacity() {
            debug_assert!(k == 0, "only the first chunk grows");
            // Doubling from 64 (both powers of two) reaches `PER_CHUNK` exactly.
            huge_pages::grow(chunk);
            debug_assert!(chunk.capacity() <= Self::PER_CHUNK);
        }
        chunk.push(record);
        self.len += 1;
        i
    }

    /// The record at `i`, if held.
    #[inline]
    pub(super) fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i >> Self::SHIFT)?.get(i & Self::MASK)
    }

    /// Forgets every record and keeps the chunks, so refilling makes none.
    pub(super) fn clear(&mut self) {
        for chunk in &mut self.chunks {
            chunk.clear();
        }
        self.len = 0;
    }
}

impl<T: Copy> Index<usize> for ChunkedSlab<T> {
    type Output = T;

    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.chunks[i >> Self::SHIFT][i & Self::MASK]
    }
}

impl<T: Copy> IndexMut<usize> for ChunkedSlab<T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i >> Self::SHIFT][i & Self::MASK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Record = [u64; 40];

    /// Indices run from 0 like a vector's; records keep their values across chunk
    /// boundaries; once the slab is past its first chunk no record moves again; the first
    /// chunk starts small (memory follows the records); a clear keeps the chunks.
    #[test]
    fn records_index_like_a_vector_and_stop_moving() {
        let per = ChunkedSlab::<Record>::PER_CHUNK;
        assert!(per.is_power_of_two() && per * size_of::<Record>() >= CHUNK_BYTES);
        let mut slab = ChunkedSlab::new();
        assert_eq!(slab.push([7; 40]), 0);
        assert_eq!(slab.capacity(), 64, "one record costs a small first chunk");
        for i in 1..per {
            assert_eq!(slab.push([i as u64; 40]), i);
        }
        assert_eq!(slab.capacity(), per);
        let first = &slab[0] as *const Record;
        let n = 2 * per + 3;
        for i in per..n {
            assert_eq!(slab.push([i as u64; 40]), i);
        }
        let second = &slab[per] as *const Record;
        assert_eq!(slab.push([1; 40]), n);
        assert_eq!((slab.len(), slab.capacity()), (n + 1, 3 * per));
        assert_eq!(&slab[0] as *const Record, first, "a full first chunk moved");
        assert_eq!(&slab[per] as *const Record, second, "a later chunk moved");
        assert_eq!(slab[0][0], 7);
        for i in 1..n {
            assert_eq!(slab[i][39], i as u64, "record {i}");
        }
        slab[per][5] = 99;
        assert_eq!(slab.get(per).map(|r| r[5]), Some(99));
        assert!(slab.get(n + 1).is_none());
        assert!(slab.get(3 * per).is_none());
        slab.clear();
        assert_eq!((slab.len(), slab.capacity()), (0, 3 * per));
        assert_eq!(slab.push([1; 40]), 0);
        assert_eq!(
            &slab[0] as *const Record, first,
            "a refill made a new chunk"
        );
    }
}
