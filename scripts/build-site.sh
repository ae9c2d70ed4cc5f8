#!/usr/bin/env bash
# The release build that `make run`, `make test` and `make build` share: the server and the browser code,
# each island a WASM piece of its own (`--split` with the `lazy-islands` feature), every site file also
# written brotli- and gzip-compressed (`--precompress`). With `--if-stale` it builds only when a source is
# newer than the last build made this way, so `make run` right after `make test` starts at once
# (cargo-leptos regenerates the browser files on every run, which takes most of a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(--release --split --precompress --lib-features hydrate,lazy-islands)
stamp=target/site/.built-with
wanted="${flags[*]} lto=${CARGO_PROFILE_RELEASE_LTO:-false}"
if [[ "${1:-}" == "--if-stale" && -x target/release/authkit && -f $stamp && "$(cat "$stamp")" == "$wanted" ]] &&
  [[ -z "$(find src style migrations Cargo.toml Cargo.lock -newer "$stamp" -print -quit 2>/dev/null)" ]]; then
  echo "==> the release build is up to date"
  exit 0
fi
cargo leptos build "${flags[@]}"
echo "$wanted" > "$stamp"
