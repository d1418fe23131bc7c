//! The command grammar of the README ("Formats") and docs/SEMANTICS.md ("Text format"),
//! both sides of every choice it makes: what it accepts parses to the command the grammar
//! says, and what it does not accept is a syntax error naming the field. The expectations
//! are written from the grammar text, not from the parser.

use flowmatch::core::{
    BookConfig, Command, Event, NewOrder, OrdType, OrderBook, ReferenceBook, RejectReason, Side,
    Sink, Tif,
};
use flowmatch::harness::text::parse_command;

fn accepted(line: &str) -> Command {
    match parse_command(line, 1) {
        Ok(Some(c)) => c,
        other => panic!("{line:?} must parse, got {other:?}"),
    }
}

/// The field a rejected line is blamed on.
fn refused(line: &str) -> &'static str {
    match parse_command(line, 3) {
        Err(e) => {
            assert_eq!(e.line, 3, "{line:?}");
            e.field
        }
        Ok(c) => panic!("{line:?} must be a syntax error, parsed as {c:?}"),
    }
}

#[test]
fn numbers_are_plain_digits_with_no_plus_sign() {
    // id, account, price, qty: digits (price may start with `-`); `+` is not in the grammar.
    assert_eq!(accepted("C,5"), Command::Cancel { id: 5 });
    assert_eq!(refused("C,+5"), "id");
    assert_eq!(
        accepted("R,2,5,100"),
        Command::Replace {
            id: 2,
            price: 5,
            qty: 100
        }
    );
    assert_eq!(refused("R,2,+5,100"), "price");
    assert_eq!(refused("R,+2,5,100"), "id");
    assert_eq!(refused("R,2,5,+100"), "qty");
    assert_eq!(
        accepted("N,1,7,B,L,100,5"),
        Command::New(NewOrder::limit(1, 7, Side::Buy, 100, 5))
    );
    assert_eq!(refused("N,1,+7,B,L,100,5"), "account");
    assert_eq!(refused("N,1,7,B,L,+100,5"), "price");
    assert_eq!(refused("N,1,7,B,L,100,+5"), "qty");
    // A price may be negative (and -0 is 0); a lone or doubled sign is not a number.
    assert_eq!(
        accepted("R,2,-5,100"),
        Command::Replace {
            id: 2,
            price: -5,
            qty: 100
        }
    );
    assert_eq!(
        accepted("R,2,-0,100"),
        Command::Replace {
            id: 2,
            price: 0,
            qty: 100
        }
    );
    assert_eq!(refused("R,2,-,100"), "price");
    assert_eq!(refused("R,2,--5,100"), "price");
    // Leading zeros are digits like any other.
    assert_eq!(accepted("C,0005"), Command::Cancel { id: 5 });
    // No separators, decimal points or exponents.
    for bad in ["1_000", "1.0", "1e3", "0x10", "1 000"] {
        assert_eq!(refused(&format!("C,{bad}")), "id", "{bad}");
    }
}

#[test]
fn only_ascii_spaces_and_tabs_around_fields() {
    assert_eq!(
        accepted(" N ,\t1 , 7\t, B , L , 100 , 5 \t"),
        Command::New(NewOrder::limit(1, 7, Side::Buy, 100, 5))
    );
    // Unicode spaces (no-break, em, ideographic), vertical tab, form feed: not spaces here.
    for ws in ['\u{a0}', '\u{2003}', '\u{3000}', '\u{b}', '\u{c}'] {
        assert_eq!(refused(&format!("C,{ws}5")), "id", "{ws:?} before");
        assert_eq!(refused(&format!("C,5{ws}")), "id", "{ws:?} after");
        assert_eq!(refused(&format!("R,2,5{ws},100")), "price", "{ws:?}");
        assert_eq!(refused(&format!("{ws}C,5")), "op", "{ws:?} before the op");
        // Nor do they make a blank line.
        assert_eq!(refused(&ws.to_string()), "op", "{ws:?} alone");
    }
    // Blank (spaces/tabs) and comment lines are skipped.
    for skipped in ["", " \t ", "# x", " \t# x", "\r\n", "  \r\n"] {
        assert_eq!(parse_command(skipped, 1), Ok(None), "{skipped:?}");
    }
}

#[test]
fn lines_end_with_lf_or_crlf_only() {
    assert_eq!(accepted("C,5\n"), Command::Cancel { id: 5 });
    assert_eq!(accepted("C,5\r\n"), Command::Cancel { id: 5 });
    assert_eq!(refused("C,5\r\r\n"), "id");
    assert_eq!(refused("C,5\r6"), "id");
}

#[test]
fn tokens_are_exact_and_upper_case() {
    assert_eq!(refused("c,5"), "op");
    assert_eq!(refused("N,1,7,b,L,100,5"), "side");
    assert_eq!(refused("N,1,7,B,l,100,5"), "type");
    assert_eq!(refused("N,1,7,B,L,100,5,gtc"), "tif");
    assert_eq!(refused("N,1,7,B,L,100,5,GTC,ct"), "stp");
}

/// Applies one command to a fresh reference book and returns its events.
fn events_of(cmd: &Command) -> Vec<Event> {
    struct Collect(Vec<Event>);
    impl Sink<Event> for Collect {
        fn event(&mut self, e: Event) {
            self.0.push(e);
        }
    }
    let mut book = ReferenceBook::new(BookConfig::default());
    let mut sink = Collect(Vec::new());
    book.apply(cmd, &mut sink);
    sink.0
}

#[test]
fn a_quantity_is_digits_within_u64_and_the_book_judges_its_size() {
    let bad_qty = |id| {
        vec![Event::Reject {
            id,
            reason: RejectReason::BadQty,
        }]
    };
    // 0 and u64::MAX are quantities (grammar side); the book rejects them (default
    // maximum 4294967295): BAD_QTY, not a syntax error.
    assert_eq!(events_of(&accepted("N,1,7,B,L,100,0")), bad_qty(1));
    assert_eq!(
        events_of(&accepted("N,2,7,B,L,100,18446744073709551615")),
        bad_qty(2)
    );
    assert_eq!(
        events_of(&accepted("N,3,7,B,L,100,4294967295")),
        vec![Event::Ack { id: 3 }]
    );
    // Negative, or beyond u64: not a quantity at all: a syntax error naming `qty`.
    for q in [
        "-5",
        "-0",
        "18446744073709551616",
        "99999999999999999999999",
    ] {
        assert_eq!(refused(&format!("N,1,7,B,L,100,{q}")), "qty", "{q}");
        assert_eq!(refused(&format!("R,1,100,{q}")), "qty", "{q}");
    }
    // The same rule as every other number: beyond the type is a syntax error.
    assert_eq!(refused("C,18446744073709551616"), "id");
    assert_eq!(refused("N,1,4294967296,B,L,100,5"), "account");
    assert_eq!(refused("R,1,9223372036854775808,5"), "price");
    assert_eq!(refused("R,1,-9223372036854775809,5"), "price");
}

/// `S<trigger>` / `T<trigger>` in the type field (docs/SEMANTICS.md, "Stop orders" and
/// "Text format"): the trigger is written like a price (an optional `-`, then digits,
/// within `i64`); the defaults are IOC for a stop and GTC for a stop-limit. Anything else
/// in the type field is a syntax error naming `type` and the line; a trigger the band
/// refuses is the book's `BAD_PRICE`, not a syntax error.
#[test]
fn stop_types_carry_a_trigger_written_like_a_price() {
    let stop = |trigger, price, tif| {
        Command::New(NewOrder {
            ord_type: OrdType::Stop { trigger },
            price,
            tif,
            ..NewOrder::limit(1, 7, Side::Buy, 0, 5)
        })
    };
    let stop_limit = |trigger, price, tif| {
        Command::New(NewOrder {
            ord_type: OrdType::StopLimit { trigger },
            price: Some(price),
            tif,
            ..NewOrder::limit(1, 7, Side::Buy, 0, 5)
        })
    };
    assert_eq!(accepted("N,1,7,B,S100,,5"), stop(100, None, Tif::Ioc));
    assert_eq!(accepted("N,1,7,B,S100,,5,FOK"), stop(100, None, Tif::Fok));
    assert_eq!(
        accepted("N,1,7,B,T100,101,5"),
        stop_limit(100, 101, Tif::Gtc)
    );
    assert_eq!(
        accepted("N,1,7,B,T100,101,5,IOC"),
        stop_limit(100, 101, Tif::Ioc)
    );
    // Zero, negative, leading zeros, the ends of i64, spaces around the field.
    assert_eq!(accepted("N,1,7,B,S0,,5"), stop(0, None, Tif::Ioc));
    assert_eq!(accepted("N,1,7,B,S-0,,5"), stop(0, None, Tif::Ioc));
    assert_eq!(accepted("N,1,7,B,S-5,,5"), stop(-5, None, Tif::Ioc));
    assert_eq!(accepted("N,1,7,B,S007,,5"), stop(7, None, Tif::Ioc));
    assert_eq!(accepted("N,1,7,B, S7 ,,5"), stop(7, None, Tif::Ioc));
    assert_eq!(
        accepted("N,1,7,B,S9223372036854775807,,5"),
        stop(i64::MAX, None, Tif::Ioc)
    );
    assert_eq!(
        accepted("N,1,7,B,T-9223372036854775808,1,5"),
        stop_limit(i64::MIN, 1, Tif::Gtc)
    );
    // Missing, signed, beyond i64, garbage, lower case, inner space: syntax errors.
    for t in [
        "S",
        "T",
        "S-",
        "S+5",
        "S--5",
        "S9223372036854775808",
        "S-9223372036854775809",
        "S99999999999999999999999",
        "S1.5",
        "S1e3",
        "S1_000",
        "Sabc",
        "S 5",
        "s5",
        "t5",
        "X5",
        "L5",
        "M5",
        "ST5",
        "S\u{a0}5",
    ] {
        assert_eq!(refused(&format!("N,1,7,B,{t},,5")), "type", "{t:?}");
    }
    // Grammatical, refused by the book: a trigger outside the band, a stop with a price,
    // a stop-limit without one, a GTC stop.
    let cfg = BookConfig {
        min_price: 1,
        max_price: 1000,
        ..BookConfig::default()
    };
    let reject = |line: &str, reason| {
        let mut book = ReferenceBook::new(cfg);
        let mut got = Vec::new();
        book.apply(&accepted(line), &mut got);
        assert_eq!(got, vec![Event::Reject { id: 1, reason }], "{line}");
    };
    reject("N,1,7,B,S0,,5", RejectReason::BadPrice);
    reject("N,1,7,B,S-5,,5", RejectReason::BadPrice);
    reject("N,1,7,B,S1001,,5", RejectReason::BadPrice);
    reject("N,1,7,B,S100,100,5", RejectReason::BadPrice);
    reject("N,1,7,B,T100,,5", RejectReason::BadPrice);
    reject("N,1,7,B,S100,,5,GTC", RejectReason::BadTif);
    reject("N,1,7,B,T100,100,5,POST", RejectReason::BadTif);
    // Printed back in the grammar (`flowmatch journal dump` writes them so), and parsed
    // again to the same command.
    for (cmd, want) in [
        (stop(-100, None, Tif::Fok), "N,1,7,B,S-100,,5,FOK,NONE\n"),
        (stop_limit(95, 96, Tif::Gtc), "N,1,7,B,T95,96,5,GTC,NONE\n"),
    ] {
        let mut line = String::new();
        flowmatch::harness::text::write_command(&mut line, &cmd).unwrap();
        assert_eq!(line, want);
        assert_eq!(accepted(line.trim_end()), cmd);
    }
}

/// The iceberg type token, `I` immediately followed by the display's digits (SEMANTICS.md,
/// "Text format"): accepted with the display it spells and `GTC` by default, printed back
/// the same way; anything else in `type` is a syntax error naming `type`.
#[test]
fn iceberg_type_is_i_and_display_digits() {
    let iceberg = |display| NewOrder {
        ord_type: OrdType::Iceberg { display },
        ..NewOrder::limit(1, 7, Side::Sell, 100, 50)
    };
    assert_eq!(accepted("N,1,7,S,I20,100,50"), Command::New(iceberg(20)));
    assert_eq!(accepted("N,1,7,S, I007 ,100,50"), Command::New(iceberg(7)));
    assert_eq!(
        accepted("N,1,7,S,I18446744073709551615,100,50"),
        Command::New(iceberg(u64::MAX))
    );
    assert_eq!(accepted("N,1,7,S,I0,100,50"), Command::New(iceberg(0)));
    let ioc = accepted("N,1,7,S,I5,100,50,IOC");
    assert!(matches!(ioc, Command::New(o) if o.tif == Tif::Ioc));
    for bad in [
        "I",
        "i20",
        "I-1",
        "I+1",
        "I 2",
        "I2x",
        "I18446744073709551616",
        "IL",
        "LI",
    ] {
        assert_eq!(refused(&format!("N,1,7,S,{bad},100,50")), "type", "{bad}");
    }
    // Printed back in the grammar, and parsed again to the same command.
    let mut line = String::new();
    flowmatch::harness::text::write_command(&mut line, &Command::New(iceberg(20))).unwrap();
    assert_eq!(line, "N,1,7,S,I20,100,50,GTC,NONE\n");
    assert_eq!(accepted(line.trim_end()), Command::New(iceberg(20)));
}

/// The reference book answers an iceberg the grammar accepts but the book refuses:
/// display 0 is `BAD_QTY`; a pro-rata book takes icebergs as a price-time one does, and
/// its dump shows only the shown part.
#[test]
fn icebergs_the_book_refuses() {
    let reject = |e: &[Event]| match e {
        [Event::Reject { reason, .. }] => *reason,
        other => panic!("expected one reject, got {other:?}"),
    };
    assert_eq!(
        reject(&events_of(&accepted("N,1,7,S,I0,100,50"))),
        RejectReason::BadQty
    );
    let mut pro_rata = ReferenceBook::new(BookConfig {
        policy: flowmatch::core::MatchPolicy::ProRata { top_order: false },
        ..BookConfig::default()
    });
    let mut e = Vec::new();
    pro_rata.apply(&accepted("N,1,7,S,I5,100,50"), &mut e);
    assert_eq!(e, [Event::Ack { id: 1 }]);
    assert_eq!(pro_rata.order(1).map(|o| o.open_qty), Some(5));
}

/// Type `P` is a midpoint peg: its price field is a cap (empty: none), its default time in
/// force GTC; `p`, `PEG` or `P5` is no type. Any time in force parses (the book, not the
/// parser, refuses FOK and post-only pegs, with `BAD_TIF`); a peg prints back as `P`, and
/// a book with one dumps it after the lit lines as `side,MID,id,open_qty,cap`.
#[test]
fn type_p_is_a_midpoint_peg_with_an_optional_cap() {
    use flowmatch::core::{OrdType, Tif};
    let peg = |price, tif| {
        Command::New(NewOrder {
            ord_type: OrdType::MidPeg,
            price,
            tif,
            ..NewOrder::limit(1, 7, Side::Buy, 0, 5)
        })
    };
    assert_eq!(accepted("N,1,7,B,P,,5"), peg(None, Tif::Gtc));
    assert_eq!(accepted("N,1,7,B,P,-3,5"), peg(Some(-3), Tif::Gtc));
    assert_eq!(accepted("N,1,7,B,P,101,5,IOC"), peg(Some(101), Tif::Ioc));
    assert_eq!(accepted("N,1,7,B,P,,5,FOK"), peg(None, Tif::Fok));
    for bad in ["p", "PEG", "P5", "P 5"] {
        assert_eq!(refused(&format!("N,1,7,B,{bad},,5")), "type", "{bad}");
    }
    assert_eq!(refused("N,1,7,B,P,1.5,5"), "price");
    let mut line = String::new();
    flowmatch::harness::text::write_command(&mut line, &peg(Some(101), Tif::Ioc)).unwrap();
    assert_eq!(line, "N,1,7,B,P,101,5,IOC,NONE\n");
    assert_eq!(accepted(line.trim_end()), peg(Some(101), Tif::Ioc));
    for tif in ["FOK", "POST"] {
        let e = events_of(&accepted(&format!("N,1,7,B,P,,5,{tif}")));
        assert_eq!(
            e,
            vec![Event::Reject {
                id: 1,
                reason: RejectReason::BadTif
            }],
            "{tif}"
        );
    }
    let mut book = ReferenceBook::new(BookConfig::default());
    let mut e = Vec::new();
    for l in ["N,1,1,B,L,100,5", "N,2,2,S,P,,7", "N,3,3,B,P,99,4"] {
        book.apply(&accepted(l), &mut e);
    }
    assert_eq!(
        flowmatch::harness::text::book_dump(&book),
        "B,100,1,5\nB,MID,3,4,99\nS,MID,2,7,\n"
    );
}
