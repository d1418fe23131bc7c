#!/usr/bin/env bash
# Book micro-benchmarks (criterion), fast vs reference in the same run, written to
# bench-results/book/criterion.txt with the machine, command and commit.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench-results/book
mkdir -p "$out"
cmd="cargo bench -p flowmatch-harness --bench book"
{
  scripts/machine-info.sh "$cmd"
  $cmd 2>&1 | grep -E '^[a-z_]+/|time:|thrpt:'
} | tee "$out/criterion.txt"
