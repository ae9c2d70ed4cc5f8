#!/usr/bin/env bash
# Refreshes the user-agent patterns the session list uses to name devices ("Firefox on Windows") from
# uap-core, the data behind the ua-parser crate (Apache-2.0), published on npm as `uap-core`.
# Usage: scripts/update-user-agent-data.sh [version]
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-0.18.0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "uap-core@$version" --silent >/dev/null && tar xzf "uap-core-$version.tgz")
# JSON rather than YAML: the server already parses JSON, and YAML would need one more crate.
python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), open(sys.argv[2], "w"), separators=(",", ":"))' \
  "$tmp/package/regexes.yaml" src/server/sessions/user_agents/regexes.json
cp "$tmp/package/LICENSE" src/server/sessions/user_agents/LICENSE-uap-core
echo "uap-core $version" > src/server/sessions/user_agents/VERSION
echo "updated src/server/sessions/user_agents/ to uap-core $version"
