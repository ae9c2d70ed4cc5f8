# Two commands do everything on a fresh machine:
#   make run    build and serve the app on http://127.0.0.1:3000 (SQLite, files and a mail outbox in ./data)
#   make test   run every test: unit, integration (real server + SQLite) and browser (Chromium)

# binaryen's wasm-opt from npm: Debian's is too old and silently breaks hydration.
# --split, on every build of the browser code: each lazy island's code is a WASM piece of its own, loaded by
# the pages that show it; the islands import their pieces through the loader --split writes.
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(PATH)

.PHONY: run dev test setup build test-rust test-e2e clean-data

run: setup
	LEPTOS_ENV=DEV APP_DEV_MAILBOX=true cargo leptos serve --release --split

dev: setup
	APP_DEV_MAILBOX=true cargo leptos watch --split

setup:
	@scripts/setup.sh

build: setup
	cargo leptos build --release --split

test:
	@scripts/test.sh

test-rust:
	scripts/test.sh --rust-only

test-e2e:
	scripts/test.sh --e2e-only

clean-data:
	rm -rf data
