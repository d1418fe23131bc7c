#!/usr/bin/env bash
# The issue-2 bar (fast >= 5x reference on the mixed stream, same run) measured five times
# in a row, so the spread between runs is on record, written to
# bench-results/book/mixed-repeats.txt with the machine, command and commit.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench-results/book
mkdir -p "$out"
runs=${1:-5}
cmd="cargo bench -p flowmatch-harness --bench book -- mixed"
cargo bench -p flowmatch-harness --bench book --no-run >/dev/null 2>&1
{
  scripts/machine-info.sh "$cmd   (x$runs)"
  for r in $(seq "$runs"); do
    $cmd 2>/dev/null | awk -v r="$r" '
      /^mixed\/equity_800k\/fast/ { who = "fast" }
      /^mixed\/equity_800k\/reference/ { who = "reference" }
      /thrpt:/ && who != "" && !/%/ { gsub(/\[/, ""); m[who] = $4; who = "" }
      END { printf "run %d: fast %s M/s, reference %s M/s, ratio %.2fx\n", r, m["fast"], m["reference"], m["fast"] / m["reference"] }'
  done
} | tee "$out/mixed-repeats.txt"
