//! The journaled state of an instrument journal (`replay --journal --instruments FILE`):
//! the prefixed replay (default book + `MultiBook`) with the time in force and STP mode
//! of every book's resting orders, its state hash, and its snapshots.
//!
//! # Snapshots of an instrument journal
//! The snapshot format is the single book's (module docs of [`super`]) with one section
//! per book that appeared, in order of first appearance, under the state hash's keys (0
//! the default book, `id + 1` instrument `id`); a book that appeared and is empty has a
//! section with no orders and no levels. The recorded settings text is the journal's
//! `settings` file followed by `instruments-crc32c=XXXXXXXX` (CRC32C of the
//! `instruments.csv` bytes, 8 lowercase hex digits): a snapshot taken under another
//! table is refused.
//!
//! Loading rebuilds a fresh replay book by book in that order: each order is re-added
//! as a limit order with its time in force and STP mode (an iceberg as one showing its
//! recorded part, then given its display), then each resting peg as a GTC peg in arrival
//! order, then each pending stop (every one's only event must be its acknowledgement);
//! an empty book is made to appear by a cancel of an id it cannot hold
//! (its only event: the reject). Then every rebuilt book's level aggregates are compared
//! with the recorded ones (a full book's own; a cold record's recomputed from its
//! orders) and the state hash with the recorded hash.

use super::{
    levels_of, pending_stops_of, BookSection, Chain, Failure, JournaledState, LevelRecord, NewBook,
    Settings, Snapshot, SnapshotBytes, SnapshotCost,
};
use crate::instrument_replay::InstrumentReplay;
use crate::instrument_text::parse_line;
use crate::text::{self, SyntaxError};
use flowmatch_core::instrument::{BookStorage, BookView};
use flowmatch_core::RestingPeg;
use flowmatch_core::{Command, InstrumentId, InstrumentTable};
use flowmatch_journal::state_hash::{
    collect_icebergs, collect_pegs, icebergs_of, peg_order, pegs_of, Hidden, IcebergRecord,
    ICEBERG_BYTES, ORDER_BYTES, PEG_BYTES, STOP_BYTES,
};
use flowmatch_journal::{InstrumentRecord, StateHash, StateHasher};
use std::path::Path;
use std::time::Instant;

/// The state of an instrument journal (see the module docs).
pub struct Instruments<B> {
    replay: InstrumentReplay<B>,
    table: InstrumentTable,
    settings: Settings,
    table_crc: u32,
}

/// The state of an instrument journal: a default book configured from `settings` and
/// the instruments of `table_text` (CSV; `path` names it in messages).
pub fn instrument_state<B: NewBook + BookStorage>(
    settings: &Settings,
    table_text: &str,
    path: &Path,
) -> Result<Instruments<B>, Failure> {
    let bad = |e: String| Failure::corrupt(format!("{}: {e}", path.display()));
    let table = InstrumentTable::from_csv(table_text).map_err(|e| bad(e.to_string()))?;
    let replay = InstrumentReplay::new(
        <B as NewBook>::with_config(settings.config()),
        Some(table.clone()),
    )
    .map_err(bad)?;
    Ok(Instruments {
        replay,
        table,
        settings: *settings,
        table_crc: crc32c::crc32c(table_text.as_bytes()),
    })
}

impl<B: NewBook + BookStorage> Instruments<B> {
    /// The prefixed replay.
    pub fn replay(&self) -> &InstrumentReplay<B> {
        &self.replay
    }

    fn symbol_of(&self, key: u32) -> Option<Option<flowmatch_core::Symbol>> {
        match key {
            0 => Some(None),
            k => self
                .table
                .get(InstrumentId(k - 1))
                .map(|spec| Some(spec.symbol)),
        }
    }

    /// Every book that appeared: key, orders in dump order, level aggregates, pending
    /// stops in arrival order, icebergs' hidden parts, pegs in arrival order.
    fn sections(&self) -> Vec<BookSection> {
        let mut out = Vec::new();
        self.replay.for_each_book(&mut |key, view| {
            let (orders, levels, stops, icebergs, pegs) = match view {
                None => Default::default(),
                Some(BookView::Full(b)) => {
                    let mut v = Vec::with_capacity(b.len());
                    b.for_each_order(&mut |o| v.push(*o));
                    let levels = levels_of(b);
                    (v, levels, pending_stops_of(b), icebergs_of(b), pegs_of(b))
                }
                Some(v) => {
                    let orders = v.snapshot();
                    let levels = LevelRecord::from_orders(&orders);
                    (orders, levels, Vec::new(), Vec::new(), Vec::new())
                }
            };
            out.push(BookSection {
                key,
                orders,
                levels,
                stops,
                icebergs,
                pegs,
            });
        });
        out
    }
}

/// An instrument journal's state hash: the canonical form's sections (version 1,
/// [`flowmatch_journal::state_hash`]) for every book that appeared, in order of first
/// appearance, each under its key: 0 for the default book (unprefixed lines), `id + 1`
/// for instrument `id` (its row in the table, 0-based).
impl<B: NewBook + BookStorage> JournaledState for Instruments<B> {
    type Record = InstrumentRecord;

    fn parse(line: &str, line_no: usize) -> Result<Option<InstrumentRecord>, SyntaxError> {
        Ok(parse_line(line, line_no)?.map(|(symbol, cmd)| InstrumentRecord { symbol, cmd }))
    }

    fn apply(&mut self, seq: u64, r: &InstrumentRecord, buf: &mut String) {
        self.replay.apply(seq, r.symbol, &r.cmd, buf);
    }

    fn state_hash(&self) -> StateHash {
        let mut h = StateHasher::new();
        self.replay.for_each_book(&mut |key, view| match view {
            Some(v) => {
                h.add_section(
                    key,
                    v.len(),
                    |f| v.for_each_order(f),
                    v.pending_stops(),
                    |f| v.for_each_pending_stop(f),
                    Hidden {
                        icebergs: &view_icebergs(&v),
                        pegs: &view_pegs(&v),
                    },
                );
            }
            None => {
                h.add_orders(key, 0, |_| {});
            }
        });
        h.finish()
    }

    fn book_dump(&self) -> String {
        self.replay.book_dump()
    }

    fn write_record(out: &mut String, r: &InstrumentRecord) {
        if let Some(s) = &r.symbol {
            out.push_str(s.as_str());
            out.push(':');
        }
        let _ = text::write_command(out, &r.cmd);
    }

    fn snapshot_settings(&self, settings: &str) -> String {
        format!("{settings}instruments-crc32c={:08x}\n", self.table_crc)
    }

    fn write_snapshot(
        &mut self,
        dir: &Path,
        seq: u64,
        chain: Chain,
        settings: &str,
    ) -> Result<SnapshotCost, Failure> {
        let t0 = Instant::now();
        let sections = self.sections();
        let size: usize = sections
            .iter()
            .map(|s| {
                28 + s.orders.len() * (ORDER_BYTES + 2)
                    + s.levels.len() * 33
                    + s.stops.len() * STOP_BYTES
                    + s.icebergs.len() * ICEBERG_BYTES
                    + s.pegs.len() * PEG_BYTES
            })
            .sum();
        let mut b = SnapshotBytes::new(seq, chain, &self.snapshot_settings(settings), size);
        for s in &sections {
            let orders = &s.orders;
            b.book(
                s.key,
                orders.len(),
                |f| orders.iter().for_each(f),
                &s.levels,
                &s.stops,
                s.hidden(),
            );
        }
        let bytes = b.finish(self.state_hash());
        super::store_snapshot(dir, seq, &bytes, t0)
    }

    fn load_snapshot(&mut self, snap: &Snapshot, path: &Path) -> Result<(), Failure> {
        let refuse =
            |what: String| Failure::corrupt(format!("snapshot {} refused: {what}", path.display()));
        let mut fresh = instrument_state_from(self)?;
        let mut buf = String::with_capacity(256);
        for section in &snap.books {
            let BookSection {
                key, pegs, stops, ..
            } = section;
            let Some(symbol) = fresh.symbol_of(*key) else {
                return Err(refuse(format!(
                    "book key {key} is no instrument of the table"
                )));
            };
            if section.is_empty() {
                // Appears, unchanged: nothing rests in it, so the cancel is rejected.
                buf.clear();
                fresh
                    .replay
                    .apply(0, symbol, &Command::Cancel { id: u64::MAX }, &mut buf);
                if buf.lines().count() != 1 || !buf.contains(",REJ,") {
                    return Err(refuse(format!(
                        "empty book {key} did not appear as recorded: {buf}"
                    )));
                }
                continue;
            }
            // Resting orders in priority order, then the pegs in arrival order (no two of
            // them cross at the midpoint the orders make), then the pending stops in arrival
            // order (no trade prints, so each stop is only acknowledged and waits again).
            // An iceberg comes back as one showing its recorded part, then gets its display.
            let paired = section.paired().map_err(refuse)?;
            let again = paired
                .iter()
                .map(|&(o, iceberg)| (o.id, super::rest_again(o, iceberg), iceberg))
                .chain(
                    pegs.iter()
                        .map(|p| (p.id, Command::New(peg_order(p)), None)),
                )
                .chain(stops.iter().map(|o| (o.id, Command::New(*o), None)));
            for (id, cmd, iceberg) in again {
                buf.clear();
                fresh.replay.apply(0, symbol, &cmd, &mut buf);
                if buf.lines().count() != 1 || !buf.contains(",ACK,") {
                    return Err(refuse(format!(
                        "order {id} of book {key} did not come back as recorded: {buf}"
                    )));
                }
                if let Some(r) = iceberg {
                    if !fresh
                        .replay
                        .restore_iceberg(symbol, r.id, r.display, r.reserve)
                    {
                        return Err(refuse(format!(
                            "iceberg {id} of book {key} did not come back as recorded"
                        )));
                    }
                }
            }
        }
        let rebuilt = fresh.sections();
        let same_books = rebuilt.len() == snap.books.len()
            && rebuilt
                .iter()
                .zip(&snap.books)
                .all(|(r, s)| r.key == s.key && r.levels == s.levels);
        if !same_books {
            return Err(refuse(
                "the books or their level aggregates differ from the orders'".into(),
            ));
        }
        let hash = fresh.state_hash();
        if hash != snap.hash {
            return Err(refuse(format!(
                "state hash {hash} of its orders is not the recorded {}",
                snap.hash
            )));
        }
        *self = fresh;
        Ok(())
    }
}

/// A fresh state with `like`'s settings and table.
fn instrument_state_from<B: NewBook + BookStorage>(
    like: &Instruments<B>,
) -> Result<Instruments<B>, Failure> {
    let replay = InstrumentReplay::new(
        <B as NewBook>::with_config(like.settings.config()),
        Some(like.table.clone()),
    )
    .map_err(Failure::corrupt)?;
    Ok(Instruments {
        replay,
        table: like.table.clone(),
        settings: like.settings,
        table_crc: like.table_crc,
    })
}

/// A book view's resting icebergs' hidden parts in dump order (a cold book has none).
pub fn view_icebergs<B: BookStorage>(v: &BookView<'_, B>) -> Vec<IcebergRecord> {
    collect_icebergs(v.icebergs(), |f| v.for_each_iceberg(f))
}

/// A book view's resting midpoint pegs in arrival order (a cold book has none).
pub fn view_pegs<B: BookStorage>(v: &BookView<'_, B>) -> Vec<RestingPeg> {
    collect_pegs(v.pegs(), |f| v.for_each_peg(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmatch_core::{RestingOrder, Side};

    #[test]
    fn levels_from_orders_groups_runs_of_one_price() {
        let o = |side, price, id, open_qty| RestingOrder {
            side,
            price,
            id,
            account: 1,
            open_qty,
            tif: flowmatch_core::Tif::Gtc,
            stp: flowmatch_core::Stp::None,
        };
        let orders = [
            o(Side::Buy, 100, 1, 5),
            o(Side::Buy, 100, 2, 7),
            o(Side::Buy, 99, 3, 1),
            o(Side::Sell, 105, 4, 3),
        ];
        let l = |side, price, qty, orders| LevelRecord {
            side,
            price,
            qty,
            orders,
        };
        assert_eq!(
            LevelRecord::from_orders(&orders),
            vec![
                l(Side::Buy, 100, 12, 2),
                l(Side::Buy, 99, 1, 1),
                l(Side::Sell, 105, 3, 1)
            ]
        );
    }
}
