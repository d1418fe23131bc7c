#!/usr/bin/env bash
# The project's whole test command (the README's "Run the tests"; `.ci/run` runs exactly
# this). In order, each gate stops the run on failure:
#   1. formatting:   cargo fmt --check
#   2. lints:        cargo clippy --workspace --all-targets -- -D warnings
#   3. core docs:    cargo doc -p flowmatch-core --no-deps, warnings denied
#   4. tests:        cargo test --workspace (unit, scenario, differential, CLI, stress,
#                    real-data tests)
#   5. stress gate:  flowmatch stress --profile quick (JUnit and JSON under target/ci/)
#   6. bench gate:   flowmatch bench --baseline bench-results/bench-baseline.txt
#                    (Callgrind instructions per command; skipped, saying so, when
#                    valgrind is not installed)
#   7. loom models of the lock-free ingress: .ci/loom.sh
# Steps 5 and 6 run the dev build of the binary, built right before them (`cargo test`
# may leave a `test`-profile build at target/debug/flowmatch); the baseline comes from that
# same build: regenerate it with scripts/bench-baseline.sh whenever the book changes on
# purpose (instruction counts move with every change to the book).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }
step "cargo fmt --check"
cargo fmt --all --check
step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
step "cargo doc -p flowmatch-core --no-deps (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc -p flowmatch-core --no-deps --quiet
step "cargo test --workspace"
cargo test --workspace
step "cargo build -p flowmatch-harness --bin flowmatch (the gates' binary)"
cargo build --quiet -p flowmatch-harness --bin flowmatch
FLOWMATCH=./target/debug/flowmatch
mkdir -p target/ci
step "flowmatch stress --profile quick (stress gate; JUnit: target/ci/stress-junit.xml)"
"$FLOWMATCH" stress --profile quick --junit target/ci/stress-junit.xml \
  --json target/ci/stress.json --out target/ci
step "flowmatch bench --baseline bench-results/bench-baseline.txt (instruction regression gate)"
if command -v valgrind >/dev/null; then
  # Counts are deterministic (same binary and input, same count): 3% passes the same build
  # and fails a 10% regression on any workload.
  "$FLOWMATCH" bench --metric instructions --commands 5000 --tolerance 3 \
    --baseline bench-results/bench-baseline.txt
else
  echo "SKIPPED: valgrind is not installed, so there is no instruction counter; the"
  echo "committed baseline holds instruction counts only. Install valgrind to run this gate."
fi
step "loom models (.ci/loom.sh)"
bash .ci/loom.sh
