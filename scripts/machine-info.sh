#!/usr/bin/env bash
# Prints the header every committed text result starts with: the provenance block of
# harness/src/provenance.rs (machine, command, commit, load, time) as `# key: value` lines.
# Usage: scripts/machine-info.sh "<command that produced the result>"
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release -q -p flowmatch-harness --example provenance -- "$1"
