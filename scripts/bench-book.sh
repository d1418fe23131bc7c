#!/usr/bin/env bash
# Book micro-benchmarks (criterion), fast vs reference in the same run, written to
# bench-results/book/criterion.txt with the machine, command and commit.
# Extra arguments are passed to criterion as a filter, e.g. `scripts/bench-book.sh mixed`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench-results/book
mkdir -p "$out"
cmd="cargo bench -p flowmatch-harness --bench book${1:+ -- $*}"
# Written aside and moved in at the end: truncating the tracked result first would make
# the header report the tree as dirty.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
  scripts/machine-info.sh "$cmd"
  $cmd 2>&1 | grep -E '^[a-z_]+/|time:|thrpt:'
} | tee "$tmp"
mv "$tmp" "$out/criterion.txt"
