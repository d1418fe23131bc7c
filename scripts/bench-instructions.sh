#!/usr/bin/env bash
# Instruction counts of the fast book (gungraun on Callgrind), written to
# bench-results/instructions/baseline.txt with the machine, command and commit.
# Needs valgrind and `cargo install gungraun-runner --version 0.20.0 --locked`.
# gungraun's "change" column compares with the previous local run, whatever it was.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench-results/instructions
mkdir -p "$out"
cmd="cargo bench -p flowmatch-harness --bench instructions"
# Written aside and moved in at the end: truncating the tracked result first would make
# the header report the tree as dirty.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
  scripts/machine-info.sh "$cmd"
  echo "# $(gungraun-runner --version 2>/dev/null || echo gungraun-runner) / $(valgrind --version)"
  $cmd 2>&1 | grep -vE '^\s*(Compiling|Finished|Running|Downloaded|Downloading)'
} > "$tmp"
mv "$tmp" "$out/baseline.txt"
grep -E 'instructions::|Instructions:' "$out/baseline.txt"
