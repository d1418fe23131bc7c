#!/usr/bin/env bash
# Regenerates the committed `flowmatch run` results: one directory per preset,
# bench-results/<preset>/ (report.json, report.md, .hgrm latency files, SVG charts), each
# with its provenance block (commit, command, machine, load, time).
#
# `flowmatch run` on its own writes to flowmatch-out/run-<scenario>-<policy>/, which git
# ignores; only this script writes into bench-results/. Run it from a clean tree (the
# provenance records whether the tree was dirty), on a quiet machine: the economics are a
# pure function of scenario and seed, the latency sections are measured.
#
# Usage: scripts/bench-run-presets.sh [preset ...]   (default: every preset)
set -euo pipefail
cd "$(dirname "$0")/.."
presets=("$@")
if [ ${#presets[@]} -eq 0 ]; then
  presets=(cross-section cross-section-2023 cross-section-toxic retail meme-squeeze negative-price wash)
fi
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  echo "note: the tree has uncommitted changes; the reports will say so" >&2
fi
cargo build --release -p flowmatch-harness
for p in "${presets[@]}"; do
  case "$p" in
    # The cross-section day under the 2023 regime (the 2025 one is `cross-section`); both
    # reports carry the side-by-side comparison.
    cross-section-2023) args=(--scenario cross-section --regime 2023) ;;
    *) args=(--scenario "$p") ;;
  esac
  echo "== flowmatch run ${args[*]} --out bench-results/$p" >&2
  cargo run --release -q -p flowmatch-harness -- run "${args[@]}" --quiet --out "bench-results/$p"
done
echo "regenerated: ${presets[*]} (in bench-results/)" >&2
