//! Market surveillance over what a book did (issue 18): the account table that links
//! accounts to their beneficial owner ([`accounts`]), the tape of commands and events with
//! its notion of time ([`tape`]), the patterns flagged ([`detect`]), their text and JSON
//! rendering (here), and the planted `wash-327` day ([`scenario`]).

pub mod accounts;
pub mod detect;
pub mod scenario;
pub mod tape;

use detect::{Fill, Flag, Owner};
use flowmatch_core::Side;
use serde_json::{json, Value};

fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "B",
        Side::Sell => "S",
    }
}

fn owner_json(o: Owner) -> Value {
    match o {
        Owner::Group(g) => json!({ "group": g }),
        Owner::Account(a) => json!({ "account": a }),
    }
}

fn fill_json(f: &Fill) -> Value {
    json!({
        "t": f.t, "id": f.id, "account": f.account, "side": side(f.side),
        "price": f.price, "qty": f.qty, "aggressor": f.aggressor,
    })
}

fn fill_text(f: &Fill) -> String {
    format!(
        "t={} order {} account {} {} {}@{}{}",
        f.t,
        f.id,
        f.account,
        side(f.side),
        f.qty,
        f.price,
        if f.aggressor { " (aggressor)" } else { "" }
    )
}

/// One flag as JSON.
pub fn flag_json(f: &Flag) -> Value {
    match f {
        Flag::Wash {
            owner,
            t,
            taker,
            maker,
            price,
            qty,
        } => json!({
            "kind": "wash", "owner": owner_json(*owner), "t": t,
            "taker": { "id": taker.0, "account": taker.1 },
            "maker": { "id": maker.0, "account": maker.1 },
            "price": price, "qty": qty,
        }),
        Flag::MarkingTheClose {
            owner,
            from,
            close,
            open_price,
            close_price,
            share,
            moved,
            fills,
        } => json!({
            "kind": "marking-the-close", "owner": owner_json(*owner),
            "window_after": from, "close": close, "open_price": open_price,
            "close_price": close_price, "share": (share * 1e6).round() / 1e6,
            "moved": (moved * 1e3).round() / 1e3,
            "fills": fills.iter().map(fill_json).collect::<Vec<_>>(),
        }),
        Flag::Layering {
            owner,
            id,
            account,
            side: s,
            price,
            qty,
            entered,
            cancelled,
            opposite,
        } => json!({
            "kind": "layering", "owner": owner_json(*owner), "id": id, "account": account,
            "side": side(*s), "price": price, "qty": qty, "entered": entered,
            "cancelled": cancelled,
            "opposite": opposite.iter().map(fill_json).collect::<Vec<_>>(),
        }),
    }
}

/// All flags as one JSON document: counts by kind, then the flags in order.
pub fn flags_json(flags: &[Flag]) -> Value {
    let count = |k: &str| flags.iter().filter(|f| f.kind() == k).count();
    json!({
        "time": "command sequence number (1 = first command)",
        "counts": {
            "wash": count("wash"),
            "marking-the-close": count("marking-the-close"),
            "layering": count("layering"),
        },
        "flags": flags.iter().map(flag_json).collect::<Vec<_>>(),
    })
}

/// One flag as text: a head line and indented evidence lines.
pub fn flag_text(f: &Flag) -> String {
    match f {
        Flag::Wash {
            owner,
            t,
            taker,
            maker,
            price,
            qty,
        } => format!(
            "WASH {owner} t={t}: {qty}@{price}, taker order {} (account {}) against maker \
             order {} (account {})\n",
            taker.0, taker.1, maker.0, maker.1
        ),
        Flag::MarkingTheClose {
            owner,
            from,
            close,
            open_price,
            close_price,
            share,
            moved,
            fills,
        } => {
            let mut s = format!(
                "MARKING-THE-CLOSE {owner} window t={}..={close}: {:.1}% of the volume, \
                 price {open_price} -> {close_price}, {moved:+.2} of it attributed to its aggressive trades\n",
                from + 1,
                share * 100.0
            );
            for x in fills {
                s.push_str(&format!("    {}\n", fill_text(x)));
            }
            s
        }
        Flag::Layering {
            owner,
            id,
            account,
            side: sd,
            price,
            qty,
            entered,
            cancelled,
            opposite,
        } => {
            let px = price.map_or("market".to_string(), |p| p.to_string());
            let mut s = format!(
                "LAYERING {owner}: order {id} (account {account}) {} {qty}@{px} entered t={entered}, \
                 cancelled t={cancelled}; meanwhile on the other side:\n",
                side(*sd)
            );
            for x in opposite {
                s.push_str(&format!("    {}\n", fill_text(x)));
            }
            s
        }
    }
}

/// All flags as text, with a count line first.
pub fn flags_text(flags: &[Flag]) -> String {
    let count = |k: &str| flags.iter().filter(|f| f.kind() == k).count();
    let mut s = format!(
        "surveillance: {} wash trade(s), {} marking-the-close, {} layering (time = command \
         sequence number)\n",
        count("wash"),
        count("marking-the-close"),
        count("layering")
    );
    for f in flags {
        s.push_str(&flag_text(f));
    }
    s
}
