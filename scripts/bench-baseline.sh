#!/usr/bin/env bash
# Regenerates the committed regression-gate baseline, bench-results/bench-baseline.txt:
# Callgrind instructions per command of the fast book on every gate workload, measured by
# the same build the gate runs in scripts/test.sh -- the dev build of the binary,
# `cargo build -p flowmatch-harness --bin flowmatch` (target/debug/flowmatch; `cargo test`
# may leave a `test`-profile build at the same path, hence the explicit build right
# before use, in both scripts) -- with the same --commands. Run it on the commit whose counts
# should become the reference (any change to the book moves them), then commit the file:
#
#   bash scripts/bench-baseline.sh && git add bench-results/bench-baseline.txt
#
# Needs valgrind. Counts are deterministic (same binary, same input -> same count), so
# the machine's load does not matter; the compiler version does (the file's provenance
# lines name it).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "bench-baseline: valgrind not found (the counts are Callgrind's): apt-get install valgrind" >&2; exit 1; }
COMMANDS="${BENCH_GATE_COMMANDS:-5000}"
cargo build --quiet -p flowmatch-harness --bin flowmatch
mkdir -p bench-results
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
./target/debug/flowmatch bench --metric instructions --commands "$COMMANDS" --write-baseline "$tmp"
mv "$tmp" bench-results/bench-baseline.txt
trap - EXIT
echo "wrote bench-results/bench-baseline.txt ($COMMANDS commands per workload)"
