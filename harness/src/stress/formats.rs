//! The run's outcome in the formats CI systems display: JUnit XML (one test case per
//! invariant, the failure message its first divergence) and JSON (everything the summary
//! prints, plus provenance). Both are written only after the run; timing fields aside,
//! the same seed and a single producer give the same files.

use super::checks::Invariant;
use super::{Outcome, StressConfig};
use crate::provenance::Provenance;
use std::fmt::Write as _;

/// Escapes text for an XML attribute or text node.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The outcome as a JUnit XML document: one `<testsuite name="flowmatch-stress">`, one
/// `<testcase>` per invariant; a violated invariant carries a `<failure>` whose message is
/// its first divergence.
pub fn junit(cfg: &StressConfig, o: &Outcome) -> String {
    let violated = |inv: Invariant| {
        o.failure
            .as_ref()
            .and_then(|f| f.violations.iter().find(|v| v.invariant == inv))
    };
    let failures = Invariant::ALL
        .iter()
        .filter(|&&i| violated(i).is_some())
        .count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"flowmatch stress\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">",
        Invariant::ALL.len(),
        o.elapsed.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"flowmatch-stress\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{:.3}\">",
        Invariant::ALL.len(),
        o.elapsed.as_secs_f64()
    );
    let _ = writeln!(s, "    <properties>");
    for (k, v) in [
        ("profile", cfg.profile.name().to_string()),
        ("seed", cfg.seed.to_string()),
        ("producers", cfg.producers.to_string()),
        (
            "mutant",
            cfg.mutant.map_or("none", |m| m.name()).to_string(),
        ),
        (
            "shards",
            cfg.shards.map_or("none".to_string(), |k| k.to_string()),
        ),
        ("commands", o.commands.to_string()),
    ] {
        let _ = writeln!(
            s,
            "      <property name=\"{k}\" value=\"{}\"/>",
            xml_escape(&v)
        );
    }
    let _ = writeln!(s, "    </properties>");
    for inv in Invariant::ALL {
        let checks = o.checks.get(&inv).copied().unwrap_or(0);
        let _ = write!(
            s,
            "    <testcase classname=\"flowmatch.stress\" name=\"{}\" assertions=\"{checks}\"",
            inv.name()
        );
        match violated(inv) {
            None => s.push_str("/>\n"),
            Some(v) => {
                let _ = writeln!(
                    s,
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                    xml_escape(&v.detail),
                    inv.name(),
                    xml_escape(&v.detail)
                );
            }
        }
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}

/// The outcome as a JSON document.
pub fn json(cfg: &StressConfig, o: &Outcome, reproducer: Option<&str>) -> serde_json::Value {
    let checks: serde_json::Map<String, serde_json::Value> = Invariant::ALL
        .iter()
        .map(|i| {
            (
                i.name().to_string(),
                o.checks.get(i).copied().unwrap_or(0).into(),
            )
        })
        .collect();
    let failure = o.failure.as_ref().map(|f| {
        serde_json::json!({
            "round": f.round,
            "policy": f.setup.policy,
            "replace_priority": f.setup.replace,
            "account_groups": !f.setup.groups.is_empty(),
            "reproduces": f.target.name(),
            "violations": f.violations.iter().map(|v| serde_json::json!({
                "invariant": v.invariant.name(),
                "position": v.position,
                "first_divergence": v.detail,
            })).collect::<Vec<_>>(),
            "reproducer_file": reproducer,
            "reproducer_commands": f.reproducer.len(),
            "shrunk_from": f.original_len,
            "shrink_checks": f.shrink_tests,
            "one_minimal": f.minimal,
            "instrument": f.instrument.map(|(i, _)| i),
            "shard": f.instrument.map(|(_, s)| s),
            "lost": f.lost.iter().map(|l| serde_json::json!({
                "producer": l.producer, "index": l.index, "full_pushes": l.full_pushes,
            })).collect::<Vec<_>>(),
        })
    });
    serde_json::json!({
        "tool": "flowmatch stress",
        "passed": o.failure.is_none(),
        "profile": cfg.profile.name(),
        "seed": cfg.seed,
        "producers": cfg.producers,
        "mutant": cfg.mutant.map(|m| m.name()),
        "rounds": o.rounds,
        "commands": o.commands,
        "elapsed_s": o.elapsed.as_secs_f64(),
        "threaded_s": o.threaded.as_secs_f64(),
        "commands_per_s": o.commands_per_sec(),
        "checks": checks,
        "shards": cfg.shards,
        "stopped_by_time_cap": o.stopped_by_time_cap,
        "rules_exercised": o.coverage.counts,
        "back_pressure": o.schedule.counts,
        "failure": failure,
        "provenance": Provenance::capture(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_xml_well_formed() {
        assert_eq!(
            xml_escape("a<b & \"c\"\u{1}"),
            "a&lt;b &amp; &quot;c&quot; "
        );
    }
}
