//! Prints the provenance block (`harness/src/provenance.rs`) as `# key: value` lines, for
//! the benchmark scripts whose results are text files, so every result names its machine,
//! command and commit the same way.
//!
//! `cargo run --release -q -p flowmatch-harness --example provenance -- "<command>"`

fn main() {
    let command = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let block = flowmatch_harness::provenance::Provenance::capture_with_command(command);
    print!("{}", block.comment_lines());
}
