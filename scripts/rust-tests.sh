#!/usr/bin/env bash
# The Rust tests alone, built like `scripts/test.sh` builds the server (same profile and settings,
# features and LEPTOS_* variables), so the two share compiled crates. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/leptos-env.sh
exec cargo test --release --no-default-features --features ssr "$@"
