#!/usr/bin/env bash
# Many instruments with Zipf activity (1, 100, 10 K and 1 M instruments, `apply` one by one
# and `apply_batch` over batches of 64; untimed passes, wall and CPU time) side by side with the single book's equity-mixed stream, in one run of
# the release example, written to OUT (by default bench-results/instruments/zipf.md)
# with its provenance (commit, machine, load) from harness/src/provenance.rs.
# Usage: scripts/bench-instruments.sh [COMMANDS_PER_ROW] [OUT]
# Run it from a clean committed tree: the provenance marks a dirty one.
set -euo pipefail
cd "$(dirname "$0")/.."
commands=${1:-10000000}
out_file=${2:-bench-results/instruments/zipf.md}
mkdir -p "$(dirname "$out_file")"
cargo build --release -q -p flowmatch-harness --example zipf_instruments
# Written aside and moved in at the end: truncating the tracked result first would make
# the provenance report the tree as dirty.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cargo run --release -q -p flowmatch-harness --example zipf_instruments -- "$commands" > "$tmp"
grep -q '^| 1000000 instruments' "$tmp" || { echo "no 1 M instruments row in the output" >&2; exit 1; }
mv "$tmp" "$out_file"
trap - EXIT
echo "wrote $out_file"
