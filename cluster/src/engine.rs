//! One shard's deterministic engine: the same `InstrumentReplay` (default book + a
//! `MultiBook` of instruments made on first sight) that `flowmatch replay` runs, fed one
//! command line at a time and numbering events with the shard's stream sequence. Besides
//! the books it keeps what a snapshot of the shard needs (`crate::snapshot`): the symbols
//! in the order the replay made their instruments and the chain CRC over the command
//! lines applied (each resting order's time in force and STP mode come from its book).

use flowmatch_core::{BookConfig, Command, FastBook, Symbol};
use flowmatch_harness::cmd::replay_instruments::InstrumentReplay;
use flowmatch_harness::instrument_text::parse_line;
use flowmatch_harness::journaled::Chain;
use std::collections::HashMap;

/// A shard's state machine.
pub struct ShardEngine {
    pub(crate) replay: InstrumentReplay<FastBook>,
    /// Stream sequence of the last applied command (0: none).
    pub applied: u64,
    /// `symbols[id]`: the symbol of instrument `id` (made on first sight, in this order).
    pub(crate) symbols: Vec<Symbol>,
    /// The book key of each symbol of `symbols` (`id + 1`).
    pub(crate) known: HashMap<Symbol, u32>,
    /// CRC32C chained over `(seq, line)` of every command applied (the journal's chain
    /// with the command line's bytes as the payload).
    pub(crate) chain: Chain,
}

impl ShardEngine {
    /// An empty shard with `flowmatch replay`'s default book settings.
    pub fn new() -> Result<Self, String> {
        let cfg = default_replay_config()?;
        Ok(ShardEngine {
            replay: InstrumentReplay::new(FastBook::new(cfg), None)?,
            applied: 0,
            symbols: Vec::new(),
            known: HashMap::new(),
            chain: Chain::default(),
        })
    }

    /// Applies the command line stored at stream sequence `seq` (which must be the next
    /// one), appending its event lines to `out`. A line that does not parse (nothing the
    /// gateway publishes) is answered with no events, so every node stays identical.
    pub fn apply(&mut self, seq: u64, line: &str, out: &mut String) -> Result<(), String> {
        if seq != self.applied + 1 {
            return Err(format!(
                "sequence gap: applied {} then got {seq}",
                self.applied
            ));
        }
        self.applied = seq;
        self.chain.add_payload(seq, line.as_bytes());
        if let Ok(Some((symbol, cmd))) = parse_line(line, 1) {
            self.apply_parsed(seq, symbol, &cmd, out);
        }
        Ok(())
    }

    /// Applies one parsed command (sequence `seq` on its event lines) and notes the symbol
    /// of an instrument the replay made for it; the event text it wrote.
    pub(crate) fn apply_parsed<'a>(
        &mut self,
        seq: u64,
        symbol: Option<Symbol>,
        cmd: &Command,
        out: &'a mut String,
    ) -> &'a str {
        let before = out.len();
        self.replay.apply(seq, symbol, cmd, out);
        if let Some(sym) = symbol {
            if !self.known.contains_key(&sym) && self.books() > self.symbols.len() {
                // The replay made an instrument for it (a full table would not).
                self.symbols.push(sym);
                self.known.insert(sym, self.symbols.len() as u32);
            }
        }
        &out[before..]
    }

    /// Instruments the replay made (books with a key above 0).
    fn books(&self) -> usize {
        let mut n = 0;
        self.replay.for_each_book(&mut |key, _| {
            if key > 0 {
                n += 1;
            }
        });
        n
    }
}

/// The book configuration `flowmatch replay` uses with no options given (the oracle).
fn default_replay_config() -> Result<BookConfig, String> {
    use clap::{Args, FromArgMatches};
    let m = flowmatch_harness::cmd::replay::Args::augment_args(clap::Command::new("replay"))
        .try_get_matches_from(["replay", "--input", "-"])
        .map_err(|e| e.to_string())?;
    flowmatch_harness::cmd::replay::Args::from_arg_matches(&m)
        .map_err(|e| e.to_string())?
        .config()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-checked: a resting sell, a crossing buy on the same instrument.
    #[test]
    fn numbers_events_with_the_stream_sequence_and_refuses_gaps() {
        let mut e = ShardEngine::new().unwrap();
        let mut out = String::new();
        e.apply(1, "AAPL:N,1,1,S,L,100,5", &mut out).unwrap();
        e.apply(2, "AAPL:N,2,2,B,L,100,3", &mut out).unwrap();
        assert_eq!(out, "AAPL:1,ACK,1\nAAPL:2,ACK,2\nAAPL:2,TRD,2,1,100,3\n");
        assert!(e
            .apply(4, "AAPL:C,1", &mut out)
            .unwrap_err()
            .contains("gap"));
    }
}
