#!/usr/bin/env bash
# Clippy with warnings as errors: `server` lints the server, its tests and the benchmark helpers; `browser`
# lints the code compiled to WASM (the islands and what they use).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  server)
    source scripts/leptos-env.sh
    exec cargo clippy --release --no-default-features --features ssr --all-targets -- -D warnings ;;
  browser)
    exec cargo clippy --profile wasm-release --lib --no-default-features --features hydrate,lazy-islands \
      --target wasm32-unknown-unknown -- -D warnings ;;
  *) echo "usage: scripts/clippy.sh server|browser" >&2; exit 2 ;;
esac
