//! The tape surveillance reads: every command in order with the events it produced, and
//! the time each happened at.
//!
//! **Time.** Commands carry no wall time. Surveillance time is the command's sequence
//! number: the first command of the stream is at time 1, the next at 2, and so on (blank
//! and comment lines do not count; for a journal, it is the journal's sequence number).
//! Every window and delay (`--close`, `--window`, `--cancel-within`) is in these units.
//!
//! A tape is built from a command file and the event file a replay of it printed (the
//! events are split back into commands: every command's first event is `ACK`, `RPL`, `REJ`
//! or a `CXL` with reason `USER`, and no later event of a command is), or from commands
//! alone by replaying them through the fast book.

use crate::text::{self, CommandReader};
use flowmatch_core::{
    BookConfig, CancelReason, Command, Event, FastBook, OrderBook, RejectReason, Side,
};
use std::io::BufRead;

/// One command, when it happened, and what it produced.
#[derive(Clone, Debug)]
pub struct Step {
    /// Surveillance time: the command's 1-based sequence number.
    pub t: u64,
    /// The command.
    pub cmd: Command,
    /// Its events, in order.
    pub events: Vec<Event>,
}

/// Commands replayed through a fast book of `cfg` (no account groups: the tape records
/// what the venue did).
pub fn replay(cmds: &[Command], cfg: BookConfig) -> Vec<Step> {
    let mut book = FastBook::new(cfg);
    cmds.iter()
        .enumerate()
        .map(|(i, c)| {
            let mut events = Vec::new();
            book.apply(c, &mut events);
            Step {
                t: i as u64 + 1,
                cmd: *c,
                events,
            }
        })
        .collect()
}

/// Read a command file. Errors name the line and field.
pub fn read_commands<R: BufRead>(r: R) -> Result<Vec<Command>, String> {
    CommandReader::new(r)
        .map(|x| x.map(|(_, c)| c).map_err(|e| e.to_string()))
        .collect()
}

fn is_head(e: &Event) -> bool {
    matches!(
        e,
        Event::Ack { .. }
            | Event::Replaced { .. }
            | Event::Reject { .. }
            | Event::Cancel {
                reason: CancelReason::User,
                ..
            }
    )
}

fn head_id(e: &Event) -> u64 {
    match *e {
        Event::Ack { id } | Event::Replaced { id } | Event::Reject { id, .. } => id,
        Event::Cancel { id, .. } => id,
        Event::Trade { taker, .. } => taker,
    }
}

/// Pair commands with the events of an event file (its text). Errors name the event line.
pub fn pair(cmds: &[Command], events_text: &str) -> Result<Vec<Step>, String> {
    let mut steps: Vec<Step> = Vec::with_capacity(cmds.len());
    for (i, raw) in events_text.lines().enumerate() {
        let n = i + 1;
        let Some(e) = parse_event(raw, n)? else {
            continue;
        };
        if is_head(&e) {
            let k = steps.len();
            let Some(cmd) = cmds.get(k) else {
                return Err(format!(
                    "events line {n}: an event for command {} but the command file has only {}",
                    k + 1,
                    cmds.len()
                ));
            };
            if cmd.id() != head_id(&e) {
                return Err(format!(
                    "events line {n}: bad id: {} answers command {} which names order {}",
                    head_id(&e),
                    k + 1,
                    cmd.id()
                ));
            }
            steps.push(Step {
                t: k as u64 + 1,
                cmd: *cmd,
                events: vec![e],
            });
        } else {
            match steps.last_mut() {
                Some(s) => s.events.push(e),
                None => {
                    return Err(format!(
                        "events line {n}: bad op: a trade or cancel before any command's answer"
                    ))
                }
            }
        }
    }
    if steps.len() != cmds.len() {
        return Err(format!(
            "the event file answers {} commands but the command file has {}",
            steps.len(),
            cmds.len()
        ));
    }
    Ok(steps)
}

fn field<'a>(f: &[&'a str], i: usize) -> &'a str {
    f.get(i).copied().unwrap_or("")
}

/// One line of the event format (`crate::text` module docs); `Ok(None)` for blank and
/// comment lines. Errors name the line and field.
pub fn parse_event(raw: &str, n: usize) -> Result<Option<Event>, String> {
    let line = raw.trim_matches([' ', '\t', '\r']);
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let f: Vec<&str> = line
        .split(',')
        .map(|x| x.trim_matches([' ', '\t']))
        .collect();
    let bad = |field: &str, text: &str, want: &str| {
        format!("events line {n}: bad {field}: {text:?} (expected {want})")
    };
    let u = |i: usize, name: &str| -> Result<u64, String> {
        field(&f, i)
            .parse::<u64>()
            .map_err(|_| bad(name, field(&f, i), "an unsigned integer"))
    };
    let count = |k: usize| -> Result<(), String> {
        if f.len() == k {
            Ok(())
        } else {
            Err(bad("fields", line, &format!("{k} fields")))
        }
    };
    u(0, "seq")?;
    let e = match field(&f, 1) {
        "ACK" => {
            count(3)?;
            Event::Ack { id: u(2, "id")? }
        }
        "RPL" => {
            count(3)?;
            Event::Replaced { id: u(2, "id")? }
        }
        "TRD" => {
            count(6)?;
            Event::Trade {
                taker: u(2, "taker")?,
                maker: u(3, "maker")?,
                price: field(&f, 4)
                    .parse()
                    .map_err(|_| bad("price", field(&f, 4), "an integer"))?,
                qty: u(5, "qty")?,
            }
        }
        "CXL" => {
            count(7)?;
            let reason = match field(&f, 4) {
                "USER" => CancelReason::User,
                "IOC" => CancelReason::Ioc,
                "FOK" => CancelReason::Fok,
                "STP" => CancelReason::Stp,
                other => return Err(bad("reason", other, "USER, IOC, FOK or STP")),
            };
            let side = match field(&f, 5) {
                "B" => Side::Buy,
                "S" => Side::Sell,
                other => return Err(bad("side", other, "B or S")),
            };
            let price = match field(&f, 6) {
                "" => None,
                p => Some(
                    p.parse()
                        .map_err(|_| bad("price", p, "an integer or empty"))?,
                ),
            };
            Event::Cancel {
                id: u(2, "id")?,
                qty: u(3, "qty")?,
                reason,
                side,
                price,
            }
        }
        "REJ" => {
            count(4)?;
            // The reason does not matter to surveillance; keep the token checked.
            let tok = field(&f, 3);
            if tok.is_empty() || !tok.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                return Err(bad("reason", tok, "a reject reason"));
            }
            Event::Reject {
                id: u(2, "id")?,
                reason: RejectReason::BadQty,
            }
        }
        other => return Err(bad("op", other, "ACK, RPL, TRD, CXL or REJ")),
    };
    Ok(Some(e))
}

/// The tape as the two text files (commands, events) `flowmatch replay` reads and prints.
pub fn to_text(steps: &[Step]) -> (String, String) {
    let (mut c, mut e) = (String::new(), String::new());
    for s in steps {
        let _ = text::write_command(&mut c, &s.cmd);
        for ev in &s.events {
            let _ = text::write_event(&mut e, s.t, ev);
        }
    }
    (c, e)
}
