#!/usr/bin/env bash
# The project's whole test command (the README's "Run the tests"; `.ci/run` runs exactly
# this). In order, each gate stops the run on failure:
#   1. formatting:   cargo fmt --check
#   2. lints:        cargo clippy --workspace --all-targets -- -D warnings
#   3. core docs:    cargo doc -p flowmatch-core --no-deps, warnings denied
#   4. tests:        cargo test --workspace (unit, scenario, differential, CLI, stress,
#                    real-data tests)
#   5. loom models of the lock-free ingress: .ci/loom.sh
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
step "loom models (.ci/loom.sh)"
bash .ci/loom.sh
