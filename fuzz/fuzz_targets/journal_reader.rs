//! The journal reader on arbitrary bytes as a segment file: opening, reading every record
//! and verifying never panic, abort or hang; each either succeeds or returns an error
//! (corruption with its offset, a torn tail as a warning). What it reads must hang
//! together: records in consecutive sequence, and the summary counts what was read, within
//! the bytes given.
#![no_main]

use flowmatch_core::Command;
use flowmatch_journal::format::segment_file_name;
use flowmatch_journal::Reader;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

/// One directory per fuzzing process, the segment overwritten by every input.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("flowmatch-fuzz-journal-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("a temporary directory");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = dir();
    std::fs::write(dir.join(segment_file_name(0)), data).expect("write the segment");
    let Ok(mut reader) = Reader::<Command>::open(dir) else {
        return; // an error, not a panic: what the target asks
    };
    let mut records = 0u64;
    let mut last = None;
    loop {
        match reader.next_record() {
            Ok(Some(r)) => {
                // Records come in sequence, one after the other.
                if let Some(prev) = last {
                    assert_eq!(r.seq, prev + 1, "record {} after {prev}", r.seq);
                }
                last = Some(r.seq);
                records += 1;
            }
            Ok(None) => break,
            Err(_) => return,
        }
    }
    let summary = reader.summary();
    assert_eq!(summary.records, records, "{summary:?}");
    assert_eq!(summary.last_seq(), last, "{summary:?}");
    assert!(
        summary.last_segment_valid_len <= data.len() as u64,
        "{summary:?}"
    );
});
