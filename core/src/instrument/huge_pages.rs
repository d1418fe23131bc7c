//! Transparent huge pages for the multi-book's two large arrays, its instrument entries and
//! its cold slab.
//!
//! # Why
//! With a million instruments the entries take 8 MB and the cold slab hundreds of MB, and
//! the active instruments are scattered over both (the Zipf stream permutes its ranks; a
//! cold book that empties frees its record, and the next one takes any free record). With
//! 4 KiB pages, ten thousand active instruments touch ten thousand pages of each array,
//! five times what the CPU's second-level TLB holds, so even a command for a hot instrument
//! pays a page walk; with 2 MiB pages the slab is a few hundred pages and the entries four.
//! Measured side by side (`harness/examples/zipf_instruments.rs`, 1 M instruments; figures
//! in `bench-results/instruments/zipf.md`).
//!
//! # How
//! Linux backs an anonymous range with huge pages on first touch when it is advised
//! `MADV_HUGEPAGE` (the machine's `transparent_hugepage/enabled` is `madvise` or `always`;
//! with `never` the advice is ignored). So an array is advised *before* it is written:
//! [`with_capacity`] makes a vector and advises its buffer, and [`grow`] moves a full
//! vector into a fresh advised buffer of twice the capacity (a `realloc` would keep the
//! old pages' 4 KiB backing; the cold slab grows so only in its first chunk,
//! `chunked.rs`). Anything under 2 MiB is not advised (no huge page fits).
//! Elsewhere than Linux both are plain vector operations. The advice changes how memory is
//! backed, never what it holds: results are the same with or without it.

/// Smallest buffer worth advising: one huge page.
const HUGE_PAGE: usize = 2 << 20;

/// A vector with room for `n` elements, its buffer advised for huge pages if large enough.
pub(super) fn with_capacity<T>(n: usize) -> Vec<T> {
    let v = Vec::with_capacity(n);
    advise(&v);
    v
}

/// Doubles `v`'s capacity (at least 64 elements) into a fresh advised buffer, keeping its
/// elements; a vector that is not full is left as it is. For the cold slab's first chunk:
/// called before a push that would grow it.
pub(super) fn grow<T: Copy>(v: &mut Vec<T>) {
    if v.len() < v.capacity() {
        return;
    }
    let mut bigger = with_capacity((2 * v.capacity()).max(64));
    bigger.extend_from_slice(v);
    *v = bigger;
}

/// Advises the whole pages inside `v`'s buffer for huge pages (Linux; a buffer under 2 MiB
/// is left alone).
fn advise<T>(v: &Vec<T>) {
    let bytes = v.capacity() * size_of::<T>();
    if bytes < HUGE_PAGE {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        const MADV_HUGEPAGE: i32 = 14;
        extern "C" {
            fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: i32) -> i32;
        }
        let start = (v.as_ptr() as usize).next_multiple_of(PAGE);
        let end = (v.as_ptr() as usize + bytes) / PAGE * PAGE;
        if end > start {
            // SAFETY: `start..end` lies inside `v`'s allocation (whole pages of it), which is
            // mapped; MADV_HUGEPAGE only tells the kernel how to back those pages, never
            // changes or frees what they hold, so no Rust object is affected. A failure
            // (e.g. THP compiled out) leaves the pages as they were, which is correct too,
            // so the result is ignored.
            let _ = unsafe { madvise(start as *mut std::ffi::c_void, end - start, MADV_HUGEPAGE) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Growth keeps the elements in order and doubles the room; a vector with room is left
    /// alone (so a push after `grow` never reallocates).
    #[test]
    fn grow_keeps_elements_and_doubles() {
        let mut v: Vec<u64> = with_capacity(3);
        v.extend([7, 8, 9]);
        let cap = v.capacity();
        grow(&mut v);
        assert_eq!(v, [7, 8, 9]);
        assert!(v.capacity() >= (2 * cap).max(64));
        let (ptr, cap) = (v.as_ptr(), v.capacity());
        grow(&mut v);
        assert_eq!(
            (v.as_ptr(), v.capacity()),
            (ptr, cap),
            "not full: unchanged"
        );
        // A large one (advised) behaves the same.
        let mut big: Vec<u64> = with_capacity(1 << 19);
        big.resize(1 << 19, 5);
        grow(&mut big);
        assert_eq!(big.len(), 1 << 19);
        assert!(big.iter().all(|&x| x == 5) && big.capacity() >= 1 << 20);
    }
}
