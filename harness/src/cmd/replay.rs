//! Placeholder: `flowmatch replay` (being written).
#[derive(clap::Args)]
pub struct Args {}
pub fn run(_a: Args) -> u8 {
    2
}
