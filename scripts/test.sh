#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, unit and integration tests (the store on
# SQLite and PostgreSQL, several nodes on one PostgreSQL, counters in Redis), the real
# binary, and the wasm build of the portal.
#
# PostgreSQL: set PORTCULLIS_TEST_POSTGRES_URL to an admin URL; otherwise, when run as root,
# this script starts Debian's PostgreSQL (installing it if needed) and uses that.
# Redis: set PORTCULLIS_TEST_REDIS_URL; otherwise this script starts Debian's redis-server
# (installing it if needed) on 127.0.0.1:6379.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.tools/binaryen/node_modules/.bin:$PATH"  # wasm-opt for release builds

if [ -z "${PORTCULLIS_TEST_POSTGRES_URL:-}" ] && [ "$(id -u)" = 0 ]; then
  PORTCULLIS_TEST_POSTGRES_URL=$(scripts/postgres.sh)
  export PORTCULLIS_TEST_POSTGRES_URL
fi
if [ -n "${PORTCULLIS_TEST_POSTGRES_URL:-}" ]; then
  echo "test: store tests also run on PostgreSQL" >&2
else
  echo "test: PORTCULLIS_TEST_POSTGRES_URL is not set; store tests run on SQLite only" >&2
fi

if [ -z "${PORTCULLIS_TEST_REDIS_URL:-}" ]; then
  PORTCULLIS_TEST_REDIS_URL=$(scripts/redis.sh)
  export PORTCULLIS_TEST_REDIS_URL
fi
echo "test: shared-counter tests use Redis at $PORTCULLIS_TEST_REDIS_URL" >&2

echo "== cargo fmt" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --features portcullis/ssr -- -D warnings
# The portal's browser half (wasm) compiles other code paths (server-function stubs, effects).
cargo clippy -p portcullis --lib --no-default-features --features hydrate \
  --target wasm32-unknown-unknown -- -D warnings
echo "== cargo test" >&2
cargo test --workspace --features portcullis/ssr

echo "== end-to-end (Playwright + Debian Chromium)" >&2
# After cargo test: cargo-leptos builds the binary with the site settings baked in.
apt_install_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    echo "test: installing chromium with apt" >&2
    if [ "$(id -u)" = 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
    DEBIAN_FRONTEND=noninteractive $([ "$(id -u)" = 0 ] || echo sudo) apt-get install -y -qq chromium >/dev/null
  fi
}
apt_install_chromium
cargo leptos build
(cd end2end && npm ci --no-audit --no-fund --loglevel=error && npx playwright test)

echo "== again on the release build (its wasm goes through wasm-opt), each page's wasm held back 1.5 s" >&2
# Every page then stays server-rendered for a while: a control that acts before the page is
# hydrated, or a test that clicks before it is, fails here instead of now and then.
cargo leptos build --release
(cd end2end && PORTCULLIS_E2E_BINARY=target/release/portcullis PORTCULLIS_E2E_WASM_DELAY_MS=1500 \
  npx playwright test)
