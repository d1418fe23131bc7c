#!/usr/bin/env bash
# Prints the header every committed benchmark result starts with: machine, command, commit.
# Usage: scripts/machine-info.sh "<command that produced the result>"
set -u
echo "# machine: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
echo "# rustc: $(rustc --version 2>/dev/null)"
echo "# commit: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# command: $1"
