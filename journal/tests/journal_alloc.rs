//! The journal on the matching thread allocates nothing after warm-up: a push into the
//! off-thread writer's ring, or (between segment rollovers, which open a file by name) an
//! append to the calling-thread writer. Uses the workspace's counting allocator, which
//! counts this thread's allocations only; its own binary, as a global allocator is per
//! binary.

mod common;

#[path = "../../tests/common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{allocations_in, assert_counter_counts};
use flowmatch_core::Command;
use flowmatch_journal::{FsyncPolicy, JournalConfig, ThreadedWriter, Writer};

const WARM: usize = 10_000;
const MEASURED: usize = 100_000;

fn config(fsync: FsyncPolicy) -> JournalConfig {
    JournalConfig {
        fsync,
        ..JournalConfig::default()
    }
}

#[test]
fn appending_allocates_nothing_on_the_calling_thread() {
    assert_counter_counts();
    let cmds = common::commands(20, WARM + MEASURED);
    for fsync in [FsyncPolicy::None, FsyncPolicy::DEFAULT_BATCH] {
        let dir = tempfile::tempdir().unwrap();
        let mut t = ThreadedWriter::spawn(
            Writer::<Command>::create(dir.path(), config(fsync)).unwrap(),
            1024,
        )
        .unwrap();
        for c in &cmds[..WARM] {
            t.append(*c).unwrap();
        }
        let ((), n) = allocations_in(|| {
            for c in &cmds[WARM..] {
                t.append(*c).unwrap();
            }
        });
        assert_eq!(
            n, 0,
            "off-thread {fsync}: allocations on the matching thread"
        );
        assert_eq!(t.close().unwrap().last_seq, cmds.len() as u64);

        // 110,000 records of at most 50 bytes stay inside one 64 MiB segment.
        let dir = tempfile::tempdir().unwrap();
        let mut w = Writer::<Command>::create(dir.path(), config(fsync)).unwrap();
        for c in &cmds[..WARM] {
            w.append(c).unwrap();
        }
        let ((), n) = allocations_in(|| {
            for c in &cmds[WARM..] {
                w.append(c).unwrap();
            }
            w.poll().unwrap();
        });
        assert_eq!(n, 0, "calling thread {fsync}: allocations");
        assert_eq!(w.segment_index(), 0);
        w.close().unwrap();
    }
}
