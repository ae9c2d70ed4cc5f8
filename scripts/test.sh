#!/usr/bin/env bash
# Every test, built once: one release build serves the Rust tests (unit + integration against the real
# server and a real SQLite file) and the browser tests (Playwright driving Chromium against the real
# binary with a fresh data folder).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/end2end/node_modules/.bin:$PATH"

rust=true; e2e=true
case "${1:-}" in
  --rust-only) e2e=false ;;
  --e2e-only) rust=false ;;
esac

timed() {
  local label=$1; shift
  local start=$SECONDS
  printf '\n==> %s\n' "$label"
  "$@"
  printf '==> %s: %ss\n' "$label" $((SECONDS - start))
}

timed "set-up" scripts/setup.sh --for-tests
timed "formatting" cargo fmt --check
timed "release build (server + wasm, split per island)" scripts/build-site.sh
# Lints as errors, on both sides; after the build, so the server's dependencies are already checked.
timed "clippy (server and tests)" scripts/clippy.sh server
timed "clippy (browser)" scripts/clippy.sh browser

if $rust; then
  timed "unit and integration tests (SQLite)" scripts/rust-tests.sh
  # The same integration suite against PostgreSQL: a throwaway server on loopback, a database per test.
  pg_url=$(scripts/postgres-for-tests.sh)
  timed "integration tests (PostgreSQL)" env TEST_DATABASE_URL="$pg_url" scripts/rust-tests.sh --test api
  scripts/postgres-for-tests.sh stop
fi

if $e2e; then
  # Last stage, so that on failure the end of the output names the failed browser tests.
  timed "browser tests" scripts/browser-tests.sh
fi
