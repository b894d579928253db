#!/usr/bin/env bash
# Builds Portcullis in release mode and serves it: portal + management API on :3000, the
# gateway on :8080, the demo flow on :7071, with an embedded SQLite database in ./data.
# Extra arguments go to `portcullis serve` (see `portcullis serve --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.tools/binaryen/node_modules/.bin:$PATH"  # wasm-opt for release builds
cargo leptos build --release
exec target/release/portcullis serve "$@"
