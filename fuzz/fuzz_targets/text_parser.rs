//! The command-file parser on arbitrary bytes: it never panics, and every command it
//! accepts prints (`write_command`) to a line it parses back to the same command.
#![no_main]

use flowmatch_harness::text::{parse_command, write_command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for (i, line) in text.split('\n').enumerate() {
        if let Ok(Some(cmd)) = parse_command(line, i + 1) {
            let mut printed = String::new();
            write_command(&mut printed, &cmd).unwrap();
            let again = parse_command(printed.trim_end_matches('\n'), 1)
                .expect("a printed command parses")
                .expect("a printed command is a command");
            assert_eq!(again, cmd, "{line:?} -> {printed:?}");
        }
    }
});
