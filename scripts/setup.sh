#!/usr/bin/env bash
# Installs what building and testing need, and only what is missing: OpenSSL's headers, the wasm target, cargo-leptos,
# the wasm-bindgen CLI matching Cargo.lock, the npm packages of end2end/ (Playwright, binaryen's
# wasm-opt) and, with --for-tests, Chromium and the Python peers of the integration tests (an S3-compatible
# server and an SMTP server, in a virtualenv outside the checkout: ~/.cache/authkit/test-peers, so
# third-party files, test keys among them, never sit in the repository folder). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
for_tests=false
[[ "${1:-}" == "--for-tests" ]] && for_tests=true

step() { printf '\n==> %s\n' "$*"; }

if ! command -v cargo >/dev/null; then
  echo "error: Rust is not installed. Install it from https://rustup.rs and run this again." >&2
  exit 1
fi

# Passkeys (webauthn-rs) link against OpenSSL: its headers and pkg-config, from Debian's packages.
if ! pkg-config --exists openssl 2>/dev/null; then
  if command -v apt-get >/dev/null; then
    step "installing OpenSSL's development files and pkg-config (passkeys need them)"
    sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libssl-dev pkg-config >/dev/null
  else
    echo "error: install OpenSSL's development files and pkg-config (libssl-dev, pkg-config), then run this again." >&2
    exit 1
  fi
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# cargo-leptos is built from its published source with our lockfile, scripts/cargo-leptos/Cargo.lock: its
# own, except wasm_split_cli_support 0.2.4 (and the three crates that needs newer) for 0.2.3. The WASM
# splitter 0.2.3 puts every island's text back into the main file whenever its new layout of the data
# comes out a few bytes longer than the old, which happens by chance as code changes (once: +9.6 KB
# brotli on every first visit). A stamp says which lockfile the installed one was built with (first line)
# and which binary that build made (second line): a cargo-leptos of the same version installed since by
# other means (`cargo install cargo-leptos`, with its own lockfile) is built again.
leptos_stamp="${XDG_CACHE_HOME:-$HOME/.cache}/authkit/cargo-leptos-built-with"
leptos_wanted="$CARGO_LEPTOS_VERSION $(sha256sum scripts/cargo-leptos/Cargo.lock | cut -d' ' -f1)"
# Cargo finds cargo-leptos in its own bin folder even when that is not on PATH.
leptos_binary() {
  sha256sum "$(command -v cargo-leptos || echo "${CARGO_HOME:-$HOME/.cargo}/bin/cargo-leptos")" 2>/dev/null | cut -d' ' -f1
}
leptos_stamped_binary=$(sed -n 2p "$leptos_stamp" 2>/dev/null || true)
if [[ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ||
  "$(sed -n 1p "$leptos_stamp" 2>/dev/null)" != "$leptos_wanted" ||
  (-n "$leptos_stamped_binary" && "$leptos_stamped_binary" != "$(leptos_binary)") ]]; then
  step "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 10-15 minutes, once)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # The registry is the one source that is sure to be reachable: cargo fetches the published crate.
  mkdir -p "$work/fetch/src" && touch "$work/fetch/src/lib.rs"
  printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\ncargo-leptos = "=%s"\n' \
    "$CARGO_LEPTOS_VERSION" > "$work/fetch/Cargo.toml"
  (cd "$work/fetch" && cargo fetch --quiet)
  crate=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"cargo-leptos-$CARGO_LEPTOS_VERSION.crate" | head -1)
  tar xzf "$crate" -C "$work"
  cp scripts/cargo-leptos/Cargo.lock "$work/cargo-leptos-$CARGO_LEPTOS_VERSION/Cargo.lock"
  cargo install --path "$work/cargo-leptos-$CARGO_LEPTOS_VERSION" --locked --force
  rm -rf "$work"
  mkdir -p "$(dirname "$leptos_stamp")" && printf '%s\n%s\n' "$leptos_wanted" "$(leptos_binary)" > "$leptos_stamp"
elif [[ -z "$leptos_stamped_binary" && -n "$(leptos_binary)" ]]; then
  # A stamp written before it named the binary: taken to be the one its build installed (building again
  # to be sure would cost every machine that has it 10-15 minutes).
  leptos_binary >> "$leptos_stamp"
fi

# cargo-leptos runs whatever wasm-bindgen is on PATH; it must be the exact version the app links against,
# or the page silently fails to hydrate.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)
if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]]; then
  step "installing wasm-bindgen-cli $bindgen_version (matches Cargo.lock)"
  # Without --locked: its lockfile pins a crate version the registry may not carry.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force
fi

if [[ ! -x end2end/node_modules/.bin/wasm-opt || end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]]; then
  step "installing npm packages in end2end/ (Playwright, binaryen)"
  (cd end2end && npm ci --no-audit --no-fund)
fi

if $for_tests && [[ -z "${CHROMIUM_PATH:-}" ]] && ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  if command -v apt-get >/dev/null; then
    step "installing Debian's Chromium for the browser tests"
    sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  else
    step "installing Playwright's Chromium"
    (cd end2end && npx playwright install chromium)
  fi
fi

peers="${XDG_CACHE_HOME:-$HOME/.cache}/authkit/test-peers"
if $for_tests && [[ ! -x "$peers/bin/python" || tests/requirements.txt -nt "$peers/installed" ]]; then
  step "installing the test peers in $peers (moto's S3 server, aiosmtpd)"
  python3 -m venv "$peers"
  "$peers/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
  touch "$peers/installed"
fi
