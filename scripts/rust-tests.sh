#!/usr/bin/env bash
# The Rust tests alone, built like `cargo leptos build --release` builds the server (same profile,
# features and LEPTOS_* variables), so the two share compiled crates. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/leptos-env.sh
exec cargo test --release --no-default-features --features ssr "$@"
