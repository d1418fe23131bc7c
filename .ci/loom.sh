#!/usr/bin/env bash
# Loom models of the lock-free ingress (core/tests/loom_*.rs). They compile the core with
# `--cfg loom`, which swaps the rings' atomics and cells for loom's instrumented ones, so
# they get their own target directory and never invalidate the normal build.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-$PWD/target/loom}"
export RUSTFLAGS="--cfg loom"
# Keep the exploration bounded so CI stays fast; a bound of 3 preemptions finds the
# classic ordering bugs of a ring (publish-before-write, reuse-before-read).
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
cargo test -p flowmatch-core --release --test loom_spsc --test loom_multi
