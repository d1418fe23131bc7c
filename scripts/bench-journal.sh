#!/usr/bin/env bash
# Journal benchmark inputs for bench-results/journal/ (issue 13, item 6): replay
# throughput with no journal and with each fsync policy side by side, bytes per command,
# snapshot stop, and recovery time per million commands (from the start, and from a
# snapshot at 90% of the stream: for 10 M commands, the bar's snapshot at 9 M).
#
#   scripts/bench-journal.sh [COMMANDS] [OUT_DIR]      (defaults: 1000000, bench-results/journal)
#   RUNS=R (default 3): how many times each configuration runs.
#
# Builds the release binary (fat LTO: minutes). Generates a seeded stream with awk (60%
# limit orders around a mid, 25% cancels, 15% replaces). Each configuration runs RUNS times,
# alternating, so load drifts hit all alike; the table gives each run, the median and the
# best, and each against plain's. Run it from a
# clean clone on a quiet machine; the numbers carry the load average at start and end.
# The result opens with the provenance block (scripts/machine-info.sh). Recovery times
# are wall and CPU (user+sys) seconds: on a shared machine the CPU time is the steadier.
set -euo pipefail
N=${1:-1000000}
OUT=${2:-bench-results/journal}
case "$N" in ''|*[!0-9]*) echo "COMMANDS must be a whole number, got '$N'" >&2; exit 2;; esac
[ "$N" -ge 1000 ] || { echo "COMMANDS must be at least 1000, got $N" >&2; exit 2; }
RUNS=${RUNS:-3}
case "$RUNS" in ''|*[!0-9]*) echo "RUNS must be a whole number, got '$RUNS'" >&2; exit 2;; esac
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 50 ] || { echo "RUNS must be 1 to 50, got $RUNS" >&2; exit 2; }
SNAP=$((N / 10 * 9))
cd "$(dirname "$0")/.."
cargo build --release -q -p flowmatch-harness --bin flowmatch
HEADER=$(bash scripts/machine-info.sh "scripts/bench-journal.sh $N $OUT")
BIN=target/release/flowmatch
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
awk -v n="$N" 'BEGIN { srand(7); live = 0
  for (i = 1; i <= n; i++) { x = rand()
    if (x < 0.6 || live < 10) { s = (rand() < 0.5) ? "B" : "S"; off = int(rand() * 21) - 8
      p = (s == "B") ? 1000 - off : 1000 + off
      printf "N,%d,%d,%s,L,%d,%d\n", i, 1 + int(rand() * 50), s, p, 1 + int(rand() * 100); ids[live++] = i
    } else if (x < 0.85) { j = int(rand() * live); printf "C,%d\n", ids[j]; ids[j] = ids[--live]
    } else { printf "R,%d,%d,%d\n", ids[int(rand() * live)], 990 + int(rand() * 21), 1 + int(rand() * 100) } } }' > "$WORK/cmds.txt"
secs() { local s e; s=$(date +%s.%N); "$@" > /dev/null 2>> "$WORK/stderr.txt"; e=$(date +%s.%N); echo "$e - $s" | bc; }
# Wall and CPU seconds of one command, as "wall s (CPU s)".
wall_cpu() { /usr/bin/time -f '%e %U %S' -o "$WORK/time.txt" "$@" > /dev/null 2>> "$WORK/stderr.txt"
  local w u k; read -r w u k < "$WORK/time.txt"; echo "$w s wall ($(echo "$u + $k" | bc) s CPU)"; }
{
  echo "$HEADER"
  echo
  echo "# Journal benchmark, $N commands"
  echo
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  hdr="| configuration |"; sep="| --- |"
  for r in $(seq 1 "$RUNS"); do hdr="$hdr run $r s |"; sep="$sep --- |"; done
  echo "$hdr median s | Mcmd/s (median) | median vs plain | best vs plain |"
  echo "$sep --- | --- | --- | --- |"
  declare -A runs best all
  for cfg in plain none batch every; do runs[$cfg]=""; best[$cfg]=999; all[$cfg]=""; done
  # Alternating: run r of every configuration before run r+1 of any, so drift hits all alike.
  for r in $(seq 1 "$RUNS"); do
    for cfg in plain none batch every; do
      rm -rf "$WORK/j"
      if [ "$cfg" = plain ]; then t=$(secs "$BIN" replay --input "$WORK/cmds.txt")
      else t=$(secs "$BIN" replay --input "$WORK/cmds.txt" --journal "$WORK/j" --fsync "$cfg"); fi
      runs[$cfg]="${runs[$cfg]} $t |"; all[$cfg]="${all[$cfg]} $t"; best[$cfg]=$(echo "if ($t < ${best[$cfg]}) $t else ${best[$cfg]}" | bc)
    done
  done
  median() { printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.9f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  declare -A med
  for cfg in plain none batch every; do med[$cfg]=$(median "${all[$cfg]}"); done
  for cfg in plain none batch every; do
    echo "| $cfg |${runs[$cfg]} ${med[$cfg]} | $(echo "scale=3; $N / ${med[$cfg]} / 1000000" | bc) | $(echo "scale=1; 100 * (${med[$cfg]} - ${med[plain]}) / ${med[plain]}" | bc)% | $(echo "scale=1; 100 * (${best[$cfg]} - ${best[plain]}) / ${best[plain]}" | bc)% |"
  done
  bytes=$(cat "$WORK"/j/*.fmj | wc -c)
  echo
  echo "journal bytes per command: $(echo "scale=2; $bytes / $N" | bc) ($bytes bytes)"
  rm -rf "$WORK/j"
  "$BIN" replay --input "$WORK/cmds.txt" --journal "$WORK/j" --fsync batch --snapshot-every $SNAP > /dev/null 2> "$WORK/snap.txt"
  echo
  echo "snapshot: $(grep snapshots "$WORK/snap.txt" | sed 's/^flowmatch replay: //')"
  for r in 1 2 3; do
    echo
    echo "recovery from the snapshot at $SNAP + $((N - SNAP))-command tail, run $r: $(wall_cpu "$BIN" recover --journal "$WORK/j")"
  done
  echo
  echo "recover's own split (last run): $(grep -i 'recover' "$WORK/stderr.txt" | tail -1 | sed 's/^flowmatch recover: //')"
  rm "$WORK"/j/snapshot-*.fms
  t=$(secs "$BIN" recover --journal "$WORK/j")
  echo
  echo "recovery from the start: $t s ($(echo "scale=3; $t * 1000000 / $N" | bc) s per million commands)"
  echo
  echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/journal-bench.md"
