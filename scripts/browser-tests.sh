#!/usr/bin/env bash
# The browser tests against the release build: the built binary on :3000 with a fresh data folder (where
# the tests read mail from the outbox), Playwright driving Chromium. Needs the build `make test` makes
# first; extra arguments go to Playwright (e.g. a spec file).
#
# On failure the last lines printed are the failed tests, their first error lines and the server's log:
# CI shows only the end of the output, and a failure must be readable from there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/end2end/node_modules/.bin:$PATH"

# The tests read mail from this run's outbox: a server already on the port would answer in its place.
if (exec 3<>/dev/tcp/127.0.0.1/3000) 2>/dev/null; then
  echo "Something already listens on 127.0.0.1:3000; stop it first (the browser tests serve there)." >&2
  exit 1
fi

work=$(mktemp -d)
data_dir=$work/data
server_log=$work/server.log
report=$work/playwright.log
server=
cleanup() {
  if [[ -n $server ]]; then kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Every test signs up from 127.0.0.1: the suite's ~35 sign-ups in two minutes would trip the production
# limit of 30 per address per hour, and their typing the live password hints' 600. Those limits are tested
# by the Rust tests, not here.
APP_LIMIT_SIGN_UP_PER_IP=1000 APP_LIMIT_PASSWORD_CHECKS_PER_IP=100000 APP_DATA_DIR=$data_dir scripts/serve-for-e2e.sh >"$server_log" 2>&1 &
server=$!

# Playwright's global set-up waits for the server to answer.
if (cd end2end && APP_DATA_DIR=$data_dir npx playwright test "$@") 2>&1 | tee "$report"; then exit 0; fi

printf '\n==> browser tests failed; the failures again, with their first lines:\n'
# Playwright's list reporter starts each failure with "  1) [chromium] › file:line › title".
awk '/^  [0-9]+\) \[chromium\]/ {n = 14} n > 0 {print; n--}' "$report" | head -80
printf '\n==> the server log, last 30 lines:\n'
tail -30 "$server_log"
printf '\n==> summary:\n'
grep -E '^\s+[0-9]+ (failed|flaky|passed|skipped|did not run)|^\s+\[chromium\] ›' "$report" | tail -20
exit 1
