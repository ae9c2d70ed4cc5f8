#!/usr/bin/env bash
# What one unauthenticated endpoint can do to the server (issue #25, finding 1): `/api/health`'s latency
# while 16 clients ask the live password-strength hint for the worst case found, compared with the same
# check on an idle server. Prints the figures; changes nothing. `--no-build` uses target/release as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/end2end/node_modules/.bin:$PATH"
if ! command -v wrk >/dev/null; then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get install -y -qq wrk >/dev/null
fi
[[ "${1:-}" == "--no-build" ]] || { scripts/setup.sh; scripts/build-site.sh; }

work=$(mktemp -d)
app=127.0.0.1:3912
server=
cleanup() { [[ -n $server ]] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The per-client limit is lifted: this measures what the bounded queue does when many clients ask at once.
env APP_DATA_DIR="$work/data" LEPTOS_ENV=PROD LEPTOS_SITE_ADDR=$app APP_BASE_URL=http://$app \
  LEPTOS_SITE_ROOT=target/site RUST_LOG=warn APP_LIMIT_PASSWORD_CHECKS_PER_IP=1000000000 \
  target/release/authkit > "$work/app.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null http://$app/api/health && break; sleep 0.1; done

summary() { # wrk output → "requests/s p50 p99 max non-2xx"
  awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Latency/ && !lat {max=$4; lat=1}
       /Non-2xx/ {bad=$5} END {printf "%s req/s, p50 %s, p99 %s, max %s, non-2xx %s\n", rps, p50, p99, max, bad+0}' "$1"
}

echo "==> /api/health on an idle server (2 connections, 10 s)"
wrk --latency -t1 -c2 -d10s http://$app/api/health > "$work/idle.wrk"
summary "$work/idle.wrk"

echo "==> /api/health while 16 connections ask for the worst-case strength hint (2 connections, 15 s)"
wrk --latency -t1 -c16 -d20s -s bench/password_feedback.lua http://$app/api/password_feedback > "$work/storm.wrk" &
storm=$!
sleep 2
wrk --latency -t1 -c2 -d15s http://$app/api/health > "$work/health.wrk"
wait $storm
summary "$work/health.wrk"
echo "==> the 16 hammering connections (503: refused at once, the CPU work queue being full)"
summary "$work/storm.wrk"
