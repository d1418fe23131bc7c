//! Prefetch hints and batch application: how a caller that knows its next commands (an
//! engine that popped a batch) hides the cache misses of a large instrument table.
//!
//! # Why
//! With a million instruments and Zipf activity, a third of the commands go to instruments
//! outside the ten thousand most active, and each of them is a chain of dependent loads
//! that miss every cache: the instrument's entry (one of a million), then its cold record
//! (one of hundreds of thousands, 576 bytes over nine lines) or its full book.
//! Applied one at a time, the CPU waits for each miss in turn. [`MultiBook::apply_batch`]
//! asks for the entry [`ENTRY_AHEAD`] commands ahead and for the book (every line of a
//! cold record, the first lines of a full book's struct) [`BOOK_AHEAD`] commands ahead,
//! so the misses of many commands are in flight together while earlier ones are applied.
//!
//! Hints change nothing: `apply_batch` emits exactly the events of `apply` on each
//! command in order (`tests/instruments.rs` checks it event for event against one
//! reference book per instrument), and a hint for a book that a previous command of the
//! batch creates, moves or frees is merely wasted.
//!
//! # Measured
//! `scripts/bench-instruments.sh` (`harness/examples/zipf_instruments.rs`), 10 M commands
//! per row, Zipf s = 1, side by side with the single book's equity-mixed stream in the same
//! run, release, at f0dbbc1 with load ~13 on the 2 shared cores. Throughput over an untimed
//! pass (the earlier runs read the clock around every command in every row, which added
//! the same ~100 ns, two clock reads and a histogram record, to both and flattered the
//! ratio), by wall time and by the thread's
//! time on a CPU (`bench-results/instruments/zipf.md`):
//!
//! | instruments | `apply` one by one, vs single (wall / CPU) | `apply_batch` of 64 (wall / CPU) |
//! | --- | --- | --- |
//! | 1 | 71% / 73% | 64% / 64% |
//! | 100 | 38% / 56% | 31% / 45% |
//! | 10,000 | 14% / 21% | 20% / 27% |
//! | 1,000,000 | 8% / 11% | 14% / 21% |
//!
//! So the hints pay where the table outgrows the caches (1 M instruments: twice the
//! throughput on CPU) and cost their instructions where it does not: a caller with a small
//! table should call [`MultiBook::apply`]. The single book runs at ~24 ns a command on CPU
//! with its one book in L1/L2; at 1 M instruments `apply_batch` takes ~113 ns. Issue 12's
//! bar (50%) is not met.
//!
//! Re-run at 299c504 (after the demotion hysteresis, load ~12): 1 instrument 44% / 46%
//! one by one and 67% / 58% batched, 100: 53% / 47% and 52% / 45%, 10,000: 15% / 16% and
//! 18% / 17%, 1,000,000: 10% / 10% and 11% / 11% (wall / CPU). The swing between runs is
//! as large as the differences, so these rows say little beyond "far from 50%".
//!
//! At the branch's next step the cold books grew to 16 orders (so the Zipf stream never
//! promotes and 10 K instruments no longer spread over 3,710 fast books) and the entries
//! and the cold slab went on huge pages (`huge_pages`): `bench-results/instruments/tiers.md`
//! has those runs side by side with the ones before, and `zipf.md` the rows now.
//!
//! Tried before (committed `zipf.md` at cab5f74, clock reads in every row): hinting the
//! entry 16 and the first two lines of the record 8 commands ahead from the example's own
//! loop, 19% -> 41% of the timed single book. Profiled with callgrind (`--cache-sim=yes`,
//! 200 K commands over 1 M instruments): about 240 instructions and two L1 misses per
//! `apply`, the misses on the entry load and on the cold record's first line and id scan.
//! Not tried yet: a 4-byte entry (the class kept in the cold record and beside each full
//! book, so the hot table is 4 MB), and hints in the engine itself (its ring pops through
//! a callback, so it would stage a batch first). (The cold record is now aligned to its
//! nine lines.)

use super::{BookStorage, InstrumentCommand, InstrumentEvent, InstrumentId, MultiBook};
use crate::command::Sink;
use crate::instrument::entry::Tier;
use std::mem::size_of;

/// How many commands ahead [`MultiBook::apply_batch`] hints an instrument's entry.
pub const ENTRY_AHEAD: usize = 16;
/// How many commands ahead [`MultiBook::apply_batch`] hints an instrument's book (its
/// entry, hinted earlier, is in cache by then).
pub const BOOK_AHEAD: usize = 8;

/// Lines of a full book's struct hinted: its configuration and the heads of its pools and
/// ladders.
const FULL_BOOK_LINES: usize = 4;

impl<B: BookStorage> MultiBook<B> {
    /// Applies `msgs` in order, exactly as [`Self::apply`] on each in turn (same events,
    /// same order, same state), with prefetch hints issued some commands ahead (see the
    /// module docs). Allocates nothing of its own. For a large table (thousands of
    /// instruments and up); with a few instruments, whose books stay in cache, the hints
    /// only cost instructions and [`Self::apply`] is faster (measured in the module docs).
    pub fn apply_batch<S: Sink<InstrumentEvent>>(
        &mut self,
        msgs: &[InstrumentCommand],
        sink: &mut S,
    ) {
        for m in msgs.iter().take(ENTRY_AHEAD) {
            self.prefetch_entry(m.instrument);
        }
        for m in msgs.iter().take(BOOK_AHEAD) {
            self.prefetch_book(m.instrument);
        }
        for (i, m) in msgs.iter().enumerate() {
            if let Some(next) = msgs.get(i + ENTRY_AHEAD) {
                self.prefetch_entry(next.instrument);
            }
            if let Some(next) = msgs.get(i + BOOK_AHEAD) {
                self.prefetch_book(next.instrument);
            }
            self.apply(m, sink);
        }
    }

    /// Asks the CPU to start loading instrument `id`'s entry, for a caller that knows its
    /// next commands: call it some commands ahead of [`Self::prefetch_book`], which needs
    /// the entry. A hint only: nothing changes.
    #[inline]
    pub fn prefetch_entry(&self, id: InstrumentId) {
        if let Some(e) = self.entries.get(id.index()) {
            prefetch(e);
        }
    }

    /// Asks the CPU to start loading instrument `id`'s book (every line of its cold record,
    /// or the first lines of its full book's struct); reads the entry. A hint only.
    #[inline]
    pub fn prefetch_book(&self, id: InstrumentId) {
        match self.entries.get(id.index()).map(|e| e.tier()) {
            Some(Tier::Cold(c)) => {
                if let Some(record) = self.cold.get(c) {
                    prefetch_lines(record, size_of_val(record));
                }
            }
            Some(Tier::Full(f)) => {
                if let Some(Some(book)) = self.full.get(f) {
                    let book: &B = book;
                    prefetch_lines(book, size_of::<B>().min(FULL_BOOK_LINES * 64));
                }
            }
            _ => {}
        }
    }
}

/// Hints every cache line of the `bytes` bytes at `p`.
#[inline(always)]
fn prefetch_lines<T>(p: *const T, bytes: usize) {
    let start = p.cast::<u8>();
    let mut off = 0;
    while off < bytes {
        prefetch(start.wrapping_add(off));
        off += 64;
    }
    // The last line, when the record starts part-way into its first one.
    prefetch(start.wrapping_add(bytes.saturating_sub(1)));
}

/// A prefetch hint for the cache line holding `p` (no effect off x86-64).
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults and reads nothing into the program,
    // whatever the address; SSE, which provides it, is part of the x86-64 baseline.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
