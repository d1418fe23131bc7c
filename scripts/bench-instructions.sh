#!/usr/bin/env bash
# Instruction counts of the fast book and, per workload, of the reference book (gungraun on
# Callgrind), written with the machine, command and commit to OUT (by default
# bench-results/instructions/baseline.txt), followed by a table of instructions per
# command for every workload of the `workloads` group.
# Usage: scripts/bench-instructions.sh [OUT]
# Needs valgrind and `cargo install gungraun-runner --version 0.20.0 --locked`.
# gungraun's "change" column compares with the previous local run, whatever it was.
set -euo pipefail
cd "$(dirname "$0")/.."
out_file=${1:-bench-results/instructions/baseline.txt}
mkdir -p "$(dirname "$out_file")"
cmd="cargo bench -p flowmatch-harness --bench instructions"
# Written aside and moved in at the end: truncating the tracked result first would make
# the header report the tree as dirty.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
  scripts/machine-info.sh "$cmd"
  echo "# $(gungraun-runner --version 2>/dev/null || echo gungraun-runner) / $(valgrind --version)"
  $cmd 2>&1 | grep -vE '^\s*(Compiling|Finished|Running|Downloaded|Downloading|Blocking)'
} > "$tmp"

# Instructions per command: each `workloads` bench names its stream length as the first
# argument of its setup, e.g. `instructions::workloads::fast random_ids:(fast_setup(20_200,
# Workload :: RandomIds))` (first, because gungraun shortens long lines), and its total is
# on the `Instructions:` line below it.
table=$(awk '
  /^instructions::workloads::/ {
    split($1, path, "::"); book = path[3]
    id = $2; sub(/:.*/, "", id)
    n = $0; sub(/^[^(]*\(+[a-z_]*setup\(/, "", n); sub(/[^0-9_].*/, "", n); gsub(/_/, "", n)
    if (n + 0 == 0) { print "no command count in: " $0 > "/dev/stderr"; bad = 1 }
    next
  }
  book != "" && /^[[:space:]]*Instructions:/ {
    v = $2; sub(/\|.*/, "", v)
    if (!(id in seen)) { seen[id] = 1; order[++rows] = id }
    count[id] = n; total[id, book] = v; book = ""
  }
  END {
    if (rows == 0 || bad) exit 1
    print "# Instructions per command (workloads group: total instructions / commands in the stream, from an empty book)"
    printf "# %-20s %9s %12s %15s %16s\n", "workload", "commands", "fast/cmd", "reference/cmd", "reference/fast"
    for (r = 1; r <= rows; r++) {
      id = order[r]; c = count[id]; f = total[id, "fast"] / c; ref = total[id, "reference"] / c
      printf "  %-20s %9d %12.1f %15.1f %15.2fx\n", id, c, f, ref, (f > 0 ? ref / f : 0)
    }
  }' "$tmp") || { echo "no workloads benchmarks found in the gungraun output" >&2; exit 1; }
echo "$table" >> "$tmp"
mv "$tmp" "$out_file"
trap - EXIT
grep -E 'instructions::|Instructions:' "$out_file"
echo "$table"
