#!/usr/bin/env bash
# The Rust tests alone, built like `cargo leptos build --release` builds the server (same profile,
# features and LEPTOS_* variables), so the two share compiled crates. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
export LEPTOS_OUTPUT_NAME=authkit LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
  LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=. LEPTOS_BIN_DIR=. \
  LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=false
exec cargo test --release --no-default-features --features ssr "$@"
