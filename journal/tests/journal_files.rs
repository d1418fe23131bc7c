//! The journal on disk, black box: what goes in comes back (across segment rollovers, with
//! every writer and policy); a journal cut at every byte of its last record recovers up to
//! the last whole record with a warning, and appending then carries on; a byte flipped
//! anywhere before the tail is an error naming the segment file and the byte offset of
//! the damaged header or record; a missing segment, a sequence gap or a foreign codec are
//! refused. Expected offsets and segment boundaries come from the format document's rule,
//! written out by hand in `common`, not from the code under test.

mod common;

use common::{commands, layout, record_len, FRAME, HEADER, LARGEST_PAYLOAD};
use flowmatch_core::Command;
use flowmatch_journal::format::{encode_record, segment_file_name, SegmentHeader};
use flowmatch_journal::{
    verify, Codec, CorruptionKind, FsyncPolicy, JournalConfig, JournalError, Reader,
    ThreadedWriter, TornReason, Writer,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fs;
use std::path::{Path, PathBuf};

fn config(fsync: FsyncPolicy, segment_bytes: u64) -> JournalConfig {
    JournalConfig {
        fsync,
        segment_bytes,
        buffer_bytes: 4096,
    }
}

fn write_journal(dir: &Path, cmds: &[Command], cfg: JournalConfig) {
    let mut w = Writer::<Command>::create(dir, cfg).unwrap();
    for (i, c) in cmds.iter().enumerate() {
        assert_eq!(w.append(c).unwrap(), i as u64 + 1);
    }
    w.close().unwrap();
}

fn read_all(dir: &Path) -> (Vec<(u64, Command)>, flowmatch_journal::ReadSummary) {
    let mut r = Reader::<Command>::open(dir).unwrap();
    let mut out = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        out.push((rec.seq, rec.value));
    }
    (out, r.summary())
}

fn numbered(cmds: &[Command]) -> Vec<(u64, Command)> {
    cmds.iter()
        .enumerate()
        .map(|(i, c)| (i as u64 + 1, *c))
        .collect()
}

fn segment(dir: &Path, index: u64) -> PathBuf {
    dir.join(segment_file_name(index))
}

fn segment_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn corruption(r: Result<impl std::fmt::Debug, JournalError>) -> flowmatch_journal::Corruption {
    match r {
        Err(JournalError::Corrupt(c)) => c,
        other => panic!("expected corruption, got {other:?}"),
    }
}

#[test]
fn round_trip_across_segments_under_every_policy() {
    let cmds = commands(1, 3000);
    for fsync in [
        FsyncPolicy::None,
        FsyncPolicy::Batch {
            records: 64,
            micros: 500,
        },
        FsyncPolicy::Every,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let segment_bytes = 4096;
        // Every cannot fsync 3000 times quickly on every disk; a shorter stream suffices.
        let cmds = if fsync == FsyncPolicy::Every {
            &cmds[..300]
        } else {
            &cmds[..]
        };
        write_journal(dir.path(), cmds, config(fsync, segment_bytes));
        let (got, summary) = read_all(dir.path());
        assert_eq!(got, numbered(cmds), "{fsync}");
        assert_eq!(summary.torn, None);
        assert_eq!(summary.first_seq, 1);
        assert_eq!(summary.last_seq(), Some(cmds.len() as u64));
        let places = layout(cmds, segment_bytes);
        let segments = places.last().unwrap().0 + 1;
        assert!(segments > 1, "the stream must roll over");
        assert_eq!(summary.last_segment, segments - 1);
        let names: Vec<String> = (0..segments).map(segment_file_name).collect();
        assert_eq!(segment_files(dir.path()), names);
        // Each segment ends exactly where the next record would not fit, and its header
        // names the sequence number of its first record.
        for s in 0..segments {
            let bytes = fs::read(segment(dir.path(), s)).unwrap();
            assert!(bytes.len() as u64 <= segment_bytes);
            let first = places.iter().position(|p| p.0 == s).unwrap();
            let last = places.iter().rposition(|p| p.0 == s).unwrap();
            assert_eq!(bytes.len() as u64, places[last].1 + record_len(&cmds[last]));
            assert_eq!(&bytes[24..32], &(first as u64 + 1).to_le_bytes());
            assert_eq!(&bytes[16..24], &s.to_le_bytes());
        }
    }
}

#[test]
fn the_off_thread_writer_writes_the_same_journal() {
    let cmds = commands(2, 5000);
    for fsync in [
        FsyncPolicy::None,
        FsyncPolicy::DEFAULT_BATCH,
        FsyncPolicy::Every,
    ] {
        let direct = tempfile::tempdir().unwrap();
        let threaded = tempfile::tempdir().unwrap();
        let cfg = config(fsync, 8192);
        write_journal(direct.path(), &cmds, cfg);
        let mut t =
            ThreadedWriter::spawn(Writer::create(threaded.path(), cfg).unwrap(), 256).unwrap();
        for (i, c) in cmds.iter().enumerate() {
            assert_eq!(t.append(*c).unwrap(), i as u64 + 1);
            assert!(t.durable_seq() <= i as u64 + 1);
        }
        assert_eq!(t.close().unwrap().last_seq, cmds.len() as u64);
        // Byte for byte the same files: framing does not depend on who writes.
        let names = segment_files(direct.path());
        assert_eq!(names, segment_files(threaded.path()), "{fsync}");
        for n in &names {
            assert_eq!(
                fs::read(direct.path().join(n)).unwrap(),
                fs::read(threaded.path().join(n)).unwrap(),
                "{fsync} {n}"
            );
        }
    }
}

#[test]
fn the_durability_point_follows_the_policy() {
    let cmds = commands(3, 20);
    let dir = tempfile::tempdir().unwrap();
    let mut w = Writer::<Command>::create(
        dir.path().join("every"),
        config(FsyncPolicy::Every, 1 << 20),
    )
    .unwrap();
    for c in &cmds[..5] {
        let seq = w.append(c).unwrap();
        assert_eq!(w.durable_seq(), seq);
    }

    let mut w = Writer::<Command>::create(
        dir.path().join("batch"),
        config(
            FsyncPolicy::Batch {
                records: 4,
                micros: 1_000_000,
            },
            1 << 20,
        ),
    )
    .unwrap();
    for (i, c) in cmds[..9].iter().enumerate() {
        w.append(c).unwrap();
        // Durable in groups of four: after records 4 and 8.
        assert_eq!(
            w.durable_seq(),
            (i as u64 + 1) / 4 * 4,
            "after record {}",
            i + 1
        );
    }
    assert_eq!(w.poll().unwrap(), 8, "one second has not passed");

    let mut w = Writer::<Command>::create(
        dir.path().join("timed"),
        config(
            FsyncPolicy::Batch {
                records: 1000,
                micros: 2000,
            },
            1 << 20,
        ),
    )
    .unwrap();
    w.append(&cmds[0]).unwrap();
    w.append(&cmds[1]).unwrap();
    assert_eq!(w.durable_seq(), 0);
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(w.poll().unwrap(), 2, "2 ms have passed");

    let mut w =
        Writer::<Command>::create(dir.path().join("none"), config(FsyncPolicy::None, 1 << 20))
            .unwrap();
    for c in &cmds {
        w.append(c).unwrap();
    }
    assert_eq!((w.appended_seq(), w.durable_seq()), (20, 0));
    assert_eq!(w.flush().unwrap(), 20);
    assert_eq!(w.durable_seq(), 0, "none never syncs by itself");
    assert_eq!(w.sync().unwrap(), 20);
}

/// Waits (at most 10 s, else the test fails naming `what`) until `seq()` reaches `target`:
/// the journal thread moves the points on its own time.
fn wait_until(what: &str, target: u64, seq: impl Fn() -> u64) {
    let start = std::time::Instant::now();
    while seq() < target {
        assert!(start.elapsed().as_secs() < 10, "{what} stuck at {}", seq());
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
}

#[test]
fn the_off_thread_durability_point_reaches_every_record_without_close() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        FsyncPolicy::Batch {
            records: 1000,
            micros: 1000,
        },
        1 << 20,
    );
    let mut t =
        ThreadedWriter::spawn(Writer::<Command>::create(dir.path(), cfg).unwrap(), 64).unwrap();
    for c in commands(4, 10) {
        t.append(c).unwrap();
    }
    // Ten records never fill a batch of 1000: the 1 ms deadline must commit them.
    wait_until("durable_seq", 10, || t.durable_seq());
    assert_eq!(read_all(dir.path()).0.len(), 10, "durable means readable");
    t.close().unwrap();
}

#[test]
fn the_off_thread_durability_point_never_runs_ahead_of_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        FsyncPolicy::Batch {
            records: 1000,
            micros: 1_000_000,
        },
        1 << 20,
    );
    let mut t =
        ThreadedWriter::spawn(Writer::<Command>::create(dir.path(), cfg).unwrap(), 64).unwrap();
    for c in commands(12, 10) {
        t.append(c).unwrap();
    }
    assert_eq!(t.appended_seq(), 10);
    // Neither 1000 records nor one second: nothing may be reported durable, and the
    // segment holds only its header (the records wait in the writer's buffer).
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!((t.durable_seq(), t.written_seq()), (0, 0));
    assert_eq!(fs::metadata(segment(dir.path(), 0)).unwrap().len(), HEADER);
    let closed = t.close().unwrap();
    assert_eq!((closed.last_seq, closed.syncs), (10, 1));
    assert_eq!(read_all(dir.path()).0.len(), 10);
}

#[test]
fn under_none_an_idle_off_thread_writer_hands_its_buffer_to_the_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = ThreadedWriter::spawn(
        Writer::<Command>::create(dir.path(), config(FsyncPolicy::None, 1 << 20)).unwrap(),
        64,
    )
    .unwrap();
    for c in commands(14, 10) {
        t.append(c).unwrap();
    }
    // Ten records never fill the 64 KiB buffer: once the ring is dry the 1 ms flush
    // deadline must write them (no fsync: durable stays 0), without a close.
    wait_until("written_seq", 10, || t.written_seq());
    assert_eq!(t.durable_seq(), 0);
    assert_eq!(read_all(dir.path()).0.len(), 10, "written means readable");
    assert_eq!(t.close().unwrap().syncs, 0);
}

#[test]
fn a_bad_configuration_is_refused_before_any_file_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("j");
    for (cfg, field) in [
        (
            config(
                FsyncPolicy::Batch {
                    records: 0,
                    micros: 10,
                },
                1 << 20,
            ),
            "fsync.batch.records",
        ),
        (
            config(
                FsyncPolicy::Batch {
                    records: 1,
                    micros: 0,
                },
                1 << 20,
            ),
            "fsync.batch.micros",
        ),
        (
            config(FsyncPolicy::None, HEADER + FRAME + LARGEST_PAYLOAD - 1),
            "segment_bytes",
        ),
        (
            JournalConfig {
                buffer_bytes: 0,
                ..JournalConfig::default()
            },
            "buffer_bytes",
        ),
    ] {
        let e = Writer::<Command>::create(&j, cfg)
            .err()
            .expect("refused")
            .to_string();
        assert!(e.contains(field), "{e}");
        assert!(!j.exists(), "{field}: nothing may be created");
    }
    // The smallest segment holds exactly one largest record.
    let cmds: Vec<Command> = commands(5, 200)
        .into_iter()
        .filter(|c| record_len(c) == FRAME + LARGEST_PAYLOAD)
        .collect();
    write_journal(
        &j,
        &cmds[..3],
        config(FsyncPolicy::None, HEADER + FRAME + LARGEST_PAYLOAD),
    );
    assert_eq!(segment_files(&j).len(), 3);
    assert_eq!(read_all(&j).0, numbered(&cmds[..3]));
    let e = Writer::<Command>::create(&j, JournalConfig::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("already holds a journal"), "{e}");
    assert!(matches!(
        ThreadedWriter::spawn(
            Writer::<Command>::create(dir.path().join("k"), JournalConfig::default()).unwrap(),
            0
        ),
        Err(JournalError::Config(_))
    ));
}

/// Copies a journal directory.
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for n in segment_files(from) {
        fs::copy(from.join(&n), to.join(&n)).unwrap();
    }
}

#[test]
fn a_cut_at_every_byte_of_the_last_record_recovers_the_rest_and_appends_on() {
    let cmds = commands(6, 400);
    let segment_bytes = 2048;
    let src = tempfile::tempdir().unwrap();
    write_journal(src.path(), &cmds, config(FsyncPolicy::None, segment_bytes));
    let places = layout(&cmds, segment_bytes);
    let (last_seg, last_at) = *places.last().unwrap();
    let last_len = record_len(cmds.last().unwrap());
    let file = segment_file_name(last_seg);
    let extra = commands(7, 3);
    for cut in last_at..last_at + last_len {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(src.path(), dir.path());
        let f = fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join(&file))
            .unwrap();
        f.set_len(cut).unwrap();
        drop(f);
        let want_reason = if cut < last_at + FRAME {
            TornReason::PartialRecordHeader
        } else {
            TornReason::PartialPayload
        };
        if cut == last_at {
            // Cut exactly at a record boundary: a whole journal one record shorter.
            let (got, s) = read_all(dir.path());
            assert_eq!(got, numbered(&cmds[..cmds.len() - 1]));
            assert_eq!(s.torn, None);
            continue;
        }
        let (got, s) = read_all(dir.path());
        assert_eq!(got, numbered(&cmds[..cmds.len() - 1]), "cut at {cut}");
        let torn = s.torn.clone().expect("a warning");
        assert_eq!(torn.file, dir.path().join(&file));
        assert_eq!(
            (torn.offset, torn.bytes, torn.reason),
            (last_at, cut - last_at, want_reason)
        );
        let msg = torn.to_string();
        assert!(
            msg.contains(&file) && msg.contains(&last_at.to_string()),
            "{msg}"
        );

        // Open for append: the torn bytes go, the sequence carries on from the last whole record.
        let (mut w, t) =
            Writer::<Command>::open(dir.path(), config(FsyncPolicy::Every, segment_bytes)).unwrap();
        assert_eq!(t, Some(torn));
        assert_eq!(fs::metadata(dir.path().join(&file)).unwrap().len(), last_at);
        for (i, c) in extra.iter().enumerate() {
            assert_eq!(w.append(c).unwrap(), cmds.len() as u64 + i as u64);
        }
        w.close().unwrap();
        let mut want = cmds[..cmds.len() - 1].to_vec();
        want.extend_from_slice(&extra);
        let (got, s) = read_all(dir.path());
        assert_eq!(got, numbered(&want), "cut at {cut}");
        assert_eq!(s.torn, None);
    }
}

#[test]
fn a_torn_segment_header_or_a_zero_filled_tail_is_a_torn_tail_too() {
    let cmds = commands(8, 200);
    let segment_bytes = 1024;
    let src = tempfile::tempdir().unwrap();
    write_journal(src.path(), &cmds, config(FsyncPolicy::None, segment_bytes));
    let places = layout(&cmds, segment_bytes);
    let last_seg = places.last().unwrap().0;
    // The crash came while starting the next segment: only part of its header exists.
    for cut in 0..HEADER {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(src.path(), dir.path());
        let mut header = SegmentHeader {
            codec: Command::ID,
            index: last_seg + 1,
            first_seq: cmds.len() as u64 + 1,
        }
        .encode()
        .to_vec();
        header.truncate(cut as usize);
        let next = dir.path().join(segment_file_name(last_seg + 1));
        fs::write(&next, &header).unwrap();
        let s = verify::<Command>(dir.path()).unwrap();
        assert_eq!(s.records, cmds.len() as u64);
        let t = s.torn.unwrap();
        assert_eq!(
            (t.file, t.offset, t.bytes, t.reason),
            (next.clone(), 0, cut, TornReason::PartialSegmentHeader)
        );
        let (mut w, _) =
            Writer::<Command>::open(dir.path(), config(FsyncPolicy::None, segment_bytes)).unwrap();
        assert_eq!(w.append(&cmds[0]).unwrap(), cmds.len() as u64 + 1);
        w.close().unwrap();
        let mut want = cmds.clone();
        want.push(cmds[0]);
        assert_eq!(read_all(dir.path()).0, numbered(&want));
    }
    // A new segment whose header never reached the disk: its bytes read as zeros.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(src.path(), dir.path());
    let next = dir.path().join(segment_file_name(last_seg + 1));
    fs::write(&next, [0u8; 80]).unwrap();
    let t = verify::<Command>(dir.path()).unwrap().torn.unwrap();
    assert_eq!(
        (t.file, t.offset, t.bytes, t.reason),
        (next.clone(), 0, 80, TornReason::ZeroFilled)
    );
    let (mut w, _) =
        Writer::<Command>::open(dir.path(), config(FsyncPolicy::None, segment_bytes)).unwrap();
    assert_eq!(w.append(&cmds[1]).unwrap(), cmds.len() as u64 + 1);
    w.close().unwrap();
    let mut want = cmds.clone();
    want.push(cmds[1]);
    assert_eq!(read_all(dir.path()).0, numbered(&want));

    // The file grew but its last bytes never reached the disk: zeros after the last record.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(src.path(), dir.path());
    let last = dir.path().join(segment_file_name(last_seg));
    let len = fs::metadata(&last).unwrap().len();
    let mut bytes = fs::read(&last).unwrap();
    bytes.extend_from_slice(&[0u8; 100]);
    fs::write(&last, &bytes).unwrap();
    let t = verify::<Command>(dir.path()).unwrap().torn.unwrap();
    assert_eq!(
        (t.offset, t.bytes, t.reason),
        (len, 100, TornReason::ZeroFilled)
    );
    Writer::<Command>::open(dir.path(), config(FsyncPolicy::None, segment_bytes)).unwrap();
    assert_eq!(fs::metadata(&last).unwrap().len(), len);
}

/// The byte offset (within its segment) of the header or record that holds byte `at`.
fn damaged_unit(places: &[(u64, u64)], cmds: &[Command], seg: u64, at: u64) -> u64 {
    if at < HEADER {
        return 0;
    }
    places
        .iter()
        .zip(cmds)
        .find(|((s, start), c)| *s == seg && (*start..*start + record_len(c)).contains(&at))
        .map(|((_, start), _)| *start)
        .expect("the byte is in a record")
}

#[test]
fn a_flipped_byte_before_the_tail_names_its_file_and_record() {
    let cmds = commands(9, 600);
    let segment_bytes = 4096;
    let src = tempfile::tempdir().unwrap();
    write_journal(src.path(), &cmds, config(FsyncPolicy::None, segment_bytes));
    let places = layout(&cmds, segment_bytes);
    let (last_seg, last_at) = *places.last().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let mut kinds = std::collections::HashSet::new();
    for _ in 0..300 {
        let seg = rng.random_range(0..=last_seg);
        let file = segment(src.path(), seg);
        let len = fs::metadata(&file).unwrap().len();
        // Anywhere but the final record, which may pass for a torn tail (module doc).
        let end = if seg == last_seg { last_at } else { len };
        let at = rng.random_range(0..end);
        let dir = tempfile::tempdir().unwrap();
        copy_dir(src.path(), dir.path());
        let path = segment(dir.path(), seg);
        let mut bytes = fs::read(&path).unwrap();
        bytes[at as usize] ^= 1 << rng.random_range(0..8);
        fs::write(&path, &bytes).unwrap();
        let c = corruption(verify::<Command>(dir.path()));
        assert_eq!(c.file, path, "byte {at} of segment {seg}");
        assert_eq!(
            c.offset,
            damaged_unit(&places, &cmds, seg, at),
            "byte {at} of segment {seg}: {c}"
        );
        let msg = JournalError::Corrupt(c.clone()).to_string();
        assert!(
            msg.contains(&segment_file_name(seg)) && msg.contains(&format!("offset {}", c.offset)),
            "{msg}"
        );
        kinds.insert(std::mem::discriminant(&c.kind));
        // Nothing is skipped: the reader yields exactly the records before the damage.
        let mut r = Reader::<Command>::open(dir.path()).unwrap();
        let mut n = 0;
        while let Ok(Some(_)) = r.next_record() {
            n += 1;
        }
        let before = places
            .iter()
            .take_while(|p| (p.0, p.1) < (seg, c.offset))
            .count();
        assert_eq!(n, before, "records read before the damage");
        assert!(
            r.next_record().unwrap().is_none(),
            "nothing after the error"
        );
        // Opening for append refuses too.
        assert!(Writer::<Command>::open(dir.path(), JournalConfig::default()).is_err());
    }
    assert!(
        kinds.len() >= 3,
        "header, CRC, length and sequence damage all seen: {kinds:?}"
    );
}

#[test]
fn missing_segments_gaps_foreign_codecs_and_short_middle_segments_are_refused() {
    let cmds = commands(11, 300);
    let segment_bytes = 1024;
    let src = tempfile::tempdir().unwrap();
    write_journal(src.path(), &cmds, config(FsyncPolicy::None, segment_bytes));
    let last_seg = layout(&cmds, segment_bytes).last().unwrap().0;
    assert!(last_seg >= 3);

    let dir = tempfile::tempdir().unwrap();
    copy_dir(src.path(), dir.path());
    fs::remove_file(segment(dir.path(), 2)).unwrap();
    let c = corruption(verify::<Command>(dir.path()));
    assert_eq!(
        (c.file, c.offset, c.kind),
        (segment(dir.path(), 2), 0, CorruptionKind::MissingSegment)
    );

    // Without its first segments (removed once a snapshot covers them) the journal reads on.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(src.path(), dir.path());
    fs::remove_file(segment(dir.path(), 0)).unwrap();
    let places = layout(&cmds, segment_bytes);
    let first = places.iter().position(|p| p.0 == 1).unwrap();
    let (got, s) = read_all(dir.path());
    assert_eq!(got, numbered(&cmds)[first..]);
    assert_eq!(s.first_seq, first as u64 + 1);

    // A middle segment cut short.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(src.path(), dir.path());
    let p = segment(dir.path(), 1);
    let len = fs::metadata(&p).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    let c = corruption(verify::<Command>(dir.path()));
    assert_eq!(c.file, p);
    assert!(
        matches!(c.kind, CorruptionKind::TruncatedBeforeTail { .. }),
        "{c}"
    );

    // Hand-built segments: a sequence gap with a valid CRC, and another codec.
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = SegmentHeader {
        codec: Command::ID,
        index: 0,
        first_seq: 1,
    }
    .encode()
    .to_vec();
    let mut rec = [0u8; 64];
    for seq in [1u64, 2, 4] {
        let n = encode_record(&cmds[0], seq, &mut rec);
        bytes.extend_from_slice(&rec[..n]);
    }
    fs::write(segment(dir.path(), 0), &bytes).unwrap();
    let c = corruption(verify::<Command>(dir.path()));
    assert_eq!(c.offset, HEADER + 2 * record_len(&cmds[0]));
    assert_eq!(
        c.kind,
        CorruptionKind::SequenceGap {
            expected: 3,
            found: 4
        }
    );

    let mut foreign = SegmentHeader {
        codec: *b"xyz1",
        index: 0,
        first_seq: 1,
    }
    .encode()
    .to_vec();
    foreign.extend_from_slice(&bytes[HEADER as usize..]);
    fs::write(segment(dir.path(), 0), &foreign).unwrap();
    let c = corruption(verify::<Command>(dir.path()));
    assert_eq!(
        (c.offset, c.kind),
        (
            0,
            CorruptionKind::CodecMismatch {
                expected: *b"cmd1",
                found: *b"xyz1"
            }
        )
    );

    // A segment whose header names another index than its file name.
    let misnamed = SegmentHeader {
        codec: Command::ID,
        index: 5,
        first_seq: 1,
    }
    .encode();
    fs::write(segment(dir.path(), 0), misnamed).unwrap();
    let c = corruption(verify::<Command>(dir.path()));
    assert_eq!(c.kind, CorruptionKind::IndexMismatch { name: 0, header: 5 });

    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        corruption(verify::<Command>(empty.path())).kind,
        CorruptionKind::NoSegments
    ));
}
