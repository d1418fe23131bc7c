//! How many bytes a fast book holds: every allocation it owns, counted as capacity ×
//! element size, so a caller holding many books (the `MultiBook`) can report and bound
//! its memory. Kept apart from the layout it measures so the layout's modules stay about
//! matching.

use super::FastBook;
use std::mem::size_of;

impl FastBook {
    /// Bytes this book occupies: the struct itself plus the capacity of each of its
    /// allocations (order and level slabs, both ladders' windows, the far tier's entries,
    /// the id table, the pro-rata scratch, the iceberg table and the peg queues). The far tier is a `BTreeMap`; its nodes are
    /// counted as the key and value bytes of its entries times two (a B-tree node is at
    /// least half full), an upper estimate of its real node storage.
    pub fn memory_bytes(&self) -> usize {
        let ladders: usize = self
            .ladders
            .iter()
            .map(|l| {
                l.keys.capacity() * size_of::<i64>()
                    + l.levels.capacity() * size_of_val_first(&l.levels)
                    + l.far.len() * 2 * (size_of::<i64>() + size_of_val_first(&l.levels))
            })
            .sum();
        size_of::<Self>()
            + self.slots.heap_bytes()
            + self.levels.heap_bytes()
            + ladders
            + self.index.heap_bytes()
            + self.scratch.capacity() * size_of_val_first(&self.scratch)
            + self.ranking.capacity() * size_of_val_first(&self.ranking)
            + self.wide_ranking.capacity() * size_of_val_first(&self.wide_ranking)
            + self.groups.len() * size_of::<(u32, u32)>()
            + self.icebergs.heap_bytes()
            + self.pegs.heap_bytes()
    }
}

/// The size of a vector's element type (without naming private types here).
fn size_of_val_first<T>(_: &Vec<T>) -> usize {
    size_of::<T>()
}
