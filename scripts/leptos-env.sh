# The LEPTOS_* variables `cargo leptos build --release` compiles the server with. Builds that set the same
# (the Rust tests, the benchmark helpers) reuse its compiled crates instead of rebuilding them.
export LEPTOS_OUTPUT_NAME=authkit LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
  LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=. LEPTOS_BIN_DIR=. \
  LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=false
