#!/usr/bin/env bash
# Checks that two sets of `flowmatch run` results agree byte for byte in what depends only
# on scenario and seed: the `scenario` and `economics` sections of each report.json
# (provenance, latency and wall time are measured and may differ).
#
# Usage: scripts/compare-run-economics.sh BEFORE_PREFIX AFTER_PREFIX [preset ...]
#   compares BEFORE_PREFIX<preset>/report.json with AFTER_PREFIX<preset>/report.json,
#   e.g. scripts/compare-run-economics.sh /tmp/before- /tmp/after-
# The comparison is on the bytes of report.json from the `"scenario"` key up to the
# `"latency"` key (serde writes the sections in that order). Exit status 0 when every
# preset agrees, 1 otherwise.
set -euo pipefail
before=$1
after=$2
shift 2
presets=("$@")
if [ ${#presets[@]} -eq 0 ]; then
  presets=(retail meme-squeeze negative-price wash)
fi
status=0
slice() { sed -n '/^  "scenario": {/,/^  "latency": {/p' "$1"; }
for p in "${presets[@]}"; do
  a=$(slice "$before$p/report.json")
  b=$(slice "$after$p/report.json")
  if [ -z "$a" ]; then
    echo "$p: no scenario/economics section in $before$p/report.json"
    status=1
  elif [ "$a" = "$b" ]; then
    echo "$p scenario+economics: byte-identical ($(printf %s "$a" | wc -c) bytes, sha256 $(printf %s "$a" | sha256sum | cut -c1-16))"
  else
    echo "$p scenario+economics: DIFFERENT"
    diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -20
    status=1
  fi
done
exit $status
