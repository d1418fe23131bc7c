//! Which rules a stress run exercised and how often: the summary's answer to "did the
//! gate actually test time in force X, STP mode Y, policy Z?". Counted from the commands
//! and the events the book under test gave them, so a rule counts only when it fired.

use flowmatch_core::{CancelReason, Command, Event, ReplacePriority, RestingOrder, Stp, Tif};
use std::collections::BTreeMap;

/// Counts per rule name (ordered, so reports are deterministic).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// `rule name -> times exercised`.
    pub counts: BTreeMap<String, u64>,
}

fn tif_name(t: Tif) -> &'static str {
    match t {
        Tif::Gtc => "gtc",
        Tif::Ioc => "ioc",
        Tif::Fok => "fok",
        Tif::Post => "post",
    }
}

fn stp_name(s: Stp) -> &'static str {
    match s {
        Stp::None => "none",
        Stp::CancelTaker => "cancel-taker",
        Stp::CancelMaker => "cancel-maker",
        Stp::CancelBoth => "cancel-both",
        Stp::DecrementCancel => "decrement-cancel",
    }
}

impl Coverage {
    /// Adds `n` to `rule`.
    pub fn add(&mut self, rule: &str, n: u64) {
        *self.counts.entry(rule.to_string()).or_default() += n;
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Coverage) {
        for (k, v) in &other.counts {
            self.add(k, *v);
        }
    }

    /// Times `rule` was exercised.
    pub fn get(&self, rule: &str) -> u64 {
        self.counts.get(rule).copied().unwrap_or(0)
    }

    /// Records what one command exercised. `before` is the order the command named as it
    /// rested before the command and `mode` the book's replace priority mode (for
    /// replaces: kept or lost priority).
    pub fn record(
        &mut self,
        cmd: &Command,
        before: Option<&RestingOrder>,
        mode: ReplacePriority,
        events: &[Event],
    ) {
        let accepted = events
            .first()
            .is_some_and(|e| matches!(e, Event::Ack { .. } | Event::Replaced { .. }));
        let stp_fired = events.iter().any(|e| {
            matches!(
                e,
                Event::Cancel {
                    reason: CancelReason::Stp,
                    ..
                }
            )
        });
        let traded = events.iter().any(|e| matches!(e, Event::Trade { .. }));
        match cmd {
            Command::New(o) if accepted => {
                self.add(&format!("tif/{}", tif_name(o.tif)), 1);
                if o.tif == Tif::Fok {
                    let killed = events.iter().any(|e| {
                        matches!(
                            e,
                            Event::Cancel {
                                reason: CancelReason::Fok,
                                ..
                            }
                        )
                    });
                    self.add(if killed { "fok/killed" } else { "fok/filled" }, 1);
                }
                if stp_fired {
                    self.add(&format!("stp/{}", stp_name(o.stp)), 1);
                }
                if traded {
                    self.add("new/traded", 1);
                }
            }
            Command::Replace { price, qty, .. } if accepted => {
                let kept = mode == ReplacePriority::KeepIfReduced
                    && before.is_some_and(|b| b.price == *price && *qty <= b.open_qty);
                self.add(
                    if kept {
                        "replace/kept-priority"
                    } else {
                        "replace/requeued"
                    },
                    1,
                );
                if traded {
                    self.add("replace/traded", 1);
                }
            }
            Command::Cancel { .. } if matches!(events.first(), Some(Event::Cancel { .. })) => {
                self.add("cancel/live", 1);
            }
            _ => {}
        }
        if let Some(Event::Reject { reason, .. }) = events.first() {
            // The text format's token (one home for the names), as `bad-qty` etc.
            let r = crate::text::reject_reason_token(*reason)
                .to_ascii_lowercase()
                .replace('_', "-");
            self.add(&format!("reject/{r}"), 1);
        }
    }
}
