#!/usr/bin/env bash
# Serves the release build on :3000 with a fresh data folder, for running single Playwright specs by hand:
#   scripts/serve-for-e2e.sh &   then   (cd end2end && APP_DATA_DIR=… npx playwright test tests/look.spec.ts)
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir=${APP_DATA_DIR:-$(mktemp -d)}
echo "APP_DATA_DIR=$data_dir"
# Served as http://localhost:3000 (the settings' default base URL): browsers allow passkeys only on a host name.
exec env APP_DATA_DIR="$data_dir" LEPTOS_ENV=PROD LEPTOS_SITE_ROOT=target/site RUST_LOG=warn target/release/authkit
