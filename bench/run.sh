#!/usr/bin/env bash
# The benchmark: builds release, starts the app on a fresh data folder, seeds users and sessions, drives
# load with wrk from a second process on loopback, measures the first visit's download, and writes the
# figures to BENCHMARKS.md. `--scale` also starts a second server with 1,000,000 users and 5,000,000
# sessions (several minutes, a few GB of disk) to show the per-request paths stay flat.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=false
[[ "${1:-}" == "--scale" ]] && scale=true
export PATH="$PWD/end2end/node_modules/.bin:$PATH"

scripts/setup.sh
if ! command -v wrk >/dev/null; then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get install -y -qq wrk >/dev/null
fi
python3 -c 'import brotli' 2>/dev/null || python3 -m pip install --quiet brotli

# The server as it ships: whole-program LTO, one codegen unit (the baselines are built the same way).
export CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
scripts/build-site.sh
(source scripts/leptos-env.sh && cargo build --release --no-default-features --features ssr --bin bench-baseline)

work=$(mktemp -d)
pids=()
# The live streams (one socket each, on both sides) need more open files than the usual default of 1024.
ulimit -n "$(ulimit -Hn)"
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

app=127.0.0.1:3910
baseline=127.0.0.1:3911
leptos_floor=127.0.0.1:3909
leptos_direct=127.0.0.1:3908
password="correct horse battery staple"
users=1000
e_rounds=3

phc=$(target/release/bench-baseline hash "$password")

echo "==> starting the app, the bare axum baseline and the smallest Leptos page, served two ways"
env APP_DATA_DIR="$work/data" LEPTOS_ENV=PROD LEPTOS_SITE_ADDR=$app APP_BASE_URL=http://$app \
  LEPTOS_SITE_ROOT=target/site RUST_LOG=warn,authkit::server::assets=info \
  APP_LIMIT_SIGN_IN_PER_ACCOUNT=1000000 APP_LIMIT_SIGN_IN_PER_IP=1000000 \
  target/release/authkit > "$work/app.log" 2>&1 &
pids+=($!)
target/release/bench-baseline serve $baseline &
pids+=($!)
target/release/bench-baseline serve-leptos $leptos_floor &
pids+=($!)
target/release/bench-baseline serve-leptos-direct $leptos_direct &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf -o /dev/null http://$app/login && curl -sf -o /dev/null http://$baseline/ &&
    curl -sf -o /dev/null http://$leptos_floor/ && curl -sf -o /dev/null http://$leptos_direct/ && break
  sleep 0.1
done

echo "==> seeding $users users with 5 sessions each"
python3 bench/seed.py "$work/data/app.db" "$phc" $users 5
token=$(python3 -c 'import sys; sys.path.insert(0, "bench"); import seed; print(seed.token(0, 0))')
cookie="Cookie: session=$token"

run() { # name, wrk arguments…
  local name=$1; shift
  echo "==> $name"
  wrk --latency "$@" > "$work/$name.wrk"
}
run a_baseline -t2 -c64 -d10s http://$baseline/
run a_leptos_floor -t2 -c64 -d10s http://$leptos_floor/
run a_leptos_direct -t2 -c64 -d10s http://$leptos_direct/
run b_login -t2 -c64 -d10s http://$app/login
# Signed in: every view renders the page from data read in that request.
run c_profile -t2 -c64 -d10s -H "$cookie" http://$app/profile
# What rendering /profile's content costs by itself: no HTTP, no database, one thread.
target/release/bench-baseline render-profile 3000 > "$work/c_render"
run d_session -t2 -c64 -d10s -H "$cookie" http://$app/api/session
# This machine's speed drifts over minutes, so the sign-ins run in rounds, each between two timings of the
# hash that limits them, and each round is compared with the limit measured on either side of it.
echo "==> e: sign-ins in $e_rounds rounds, the argon2 hash timed before and after each"
target/release/bench-baseline argon2 40 > "$work/argon2_0"
for round in $(seq 1 $e_rounds); do
  BENCH_USERS=$users run e_sign_in_$round -t2 -c16 -d10s -s bench/sign_in.lua http://$app/api/login
  target/release/bench-baseline argon2 40 > "$work/argon2_$round"
done
echo "==> f: pages during a sign-in storm"
BENCH_USERS=$users wrk --latency -t1 -c16 -d22s -s bench/sign_in.lua http://$app/api/login > "$work/f_storm.wrk" &
storm=$!
sleep 2
run f_profile -t1 -c8 -d8s -H "$cookie" http://$app/profile
run f_login -t1 -c8 -d8s http://$app/login
wait $storm

echo "==> first visit to /login: what it downloads"
python3 bench/report.py sizes http://$app/login target/site > "$work/sizes.md"

# Last on this server: it signs sessions out (sessions 1-4 of users 0-499; the load above used user 0's first).
echo "==> live sign-out: 2,000 idle streams, 200 sign-outs"
python3 bench/live_streams.py $app "${pids[0]}" 500 5 200 > "$work/live.md"

echo "==> Download your data: histories of 10,000 and 100,000 events"
for events in 10000 100000; do
  python3 bench/export.py target/release/authkit $events > "$work/export_$events.txt"
done

if $scale; then
  # A second server on a database of 1,000,000 users, measured in turn with the first one (1,000 users),
  # twice: the machine's speed drifts over minutes, and alternating keeps that drift out of the comparison.
  big=127.0.0.1:3912
  echo "==> a second server, seeded with 1,000,000 users (5 sessions each)"
  env APP_DATA_DIR="$work/big" LEPTOS_ENV=PROD LEPTOS_SITE_ADDR=$big APP_BASE_URL=http://$big \
    LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
    APP_LIMIT_SIGN_IN_PER_ACCOUNT=1000000 APP_LIMIT_SIGN_IN_PER_IP=1000000 \
    target/release/authkit > "$work/big.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf -o /dev/null http://$big/login && break; sleep 0.1; done
  python3 bench/seed.py "$work/big/app.db" "$phc" 1000000 5
  for round in 1 2; do
    for server in "$app 1000" "$big 1000000"; do
      read -r address total <<< "$server"
      BENCH_USERS=$total run "scale_${total}_r${round}_session" -t2 -c64 -d10s -H "$cookie" http://$address/api/session
      BENCH_USERS=$total run "scale_${total}_r${round}_sign_in" -t2 -c16 -d10s -s bench/sign_in.lua http://$address/api/login
    done
  done
  python3 bench/report.py plans "$work/big/app.db" > "$work/plans.md"
fi

python3 bench/report.py report "$work" > BENCHMARKS.md
cat BENCHMARKS.md
