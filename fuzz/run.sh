#!/usr/bin/env sh
# Runs every fuzz target for a bounded time: fuzz/run.sh [SECONDS_PER_TARGET] (default 20).
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`).
set -eu
secs="${1:-20}"
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
for target in $(cargo +nightly fuzz list); do
    echo "== fuzz target $target (${secs}s)"
    cargo +nightly fuzz run "$target" -- -max_total_time="$secs"
done
