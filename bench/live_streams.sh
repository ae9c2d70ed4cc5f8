#!/usr/bin/env bash
# Live sign-out under load: starts the release server (as scripts/build-site.sh built it) on a fresh data
# folder, seeds 500 users with 5 sessions each, holds 2,000 idle `/api/live` streams open (sessions 1-4 of
# each user), signs 200 of them out and prints memory per stream and the revocation-to-leave p50/p99.
# `bench/live_streams.sh N` holds N streams instead (a multiple of 4).
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-2000}
users=$((streams / 4))
[[ -x target/release/authkit ]] || scripts/build-site.sh
(source scripts/leptos-env.sh && cargo build --release --no-default-features --features ssr --bin bench-baseline)
# Each stream is a socket on both sides.
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d)
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
app=127.0.0.1:3912
env APP_DATA_DIR="$work/data" LEPTOS_ENV=PROD LEPTOS_SITE_ADDR=$app APP_BASE_URL=http://$app \
  LEPTOS_SITE_ROOT=target/site RUST_LOG=warn target/release/authkit > "$work/app.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null http://$app/api/health && break; sleep 0.1; done
phc=$(target/release/bench-baseline hash "correct horse battery staple")
python3 bench/seed.py "$work/data/app.db" "$phc" $users 5
echo "==> $(nproc) cores, $streams streams"
python3 bench/live_streams.py $app $pid $users 5 200
