# Two commands do everything on a fresh machine:
#   make run    build and serve the app on http://127.0.0.1:3000 (SQLite, files and a mail outbox in ./data)
#   make test   run every test: unit, integration (real server + SQLite) and browser (Chromium)
# `make run` and `make test` build the same way and share that build; `make build` is the deploy build.

# binaryen's wasm-opt from npm: Debian's is too old and silently breaks hydration.
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(PATH)

# The deploy build: whole-program LTO and one codegen unit (minutes more linking; BENCHMARKS.md has the gain).
SHIPPED := CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1

.PHONY: run dev test setup build test-rust test-e2e clean-data

# The release build (scripts/build-site.sh says how it is made), made again only when a source changed.
run: setup
	scripts/build-site.sh --if-stale
	LEPTOS_ENV=DEV APP_DEV_MAILBOX=true target/release/authkit

dev: setup
	APP_DEV_MAILBOX=true cargo leptos watch

setup:
	@scripts/setup.sh

build: setup
	$(SHIPPED) scripts/build-site.sh

test:
	@scripts/test.sh

test-rust:
	scripts/test.sh --rust-only

test-e2e:
	scripts/test.sh --e2e-only

clean-data:
	rm -rf data
