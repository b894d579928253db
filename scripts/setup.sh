#!/usr/bin/env bash
# Installs what building Portcullis needs and is missing: the wasm target, cargo-leptos,
# the wasm-bindgen CLI matching Cargo.lock, and binaryen's wasm-opt for release builds
# (npm's binaryen 132 in .tools/, which run.sh and test.sh put first on PATH: Debian's
# wasm-opt 108 corrupts the function table of what Rust 1.95 emits, and the release portal
# then never hydrates). Idempotent: everything present is left alone. Run by run.sh and
# test.sh.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.5
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132.0.0
TOOLS="$(cd "$(dirname "$0")/.." && pwd)/.tools"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  # Installs the Debian packages given whose command ($1 of each pair) is missing.
  local missing=()
  while [ $# -gt 0 ]; do
    command -v "$1" >/dev/null 2>&1 || missing+=("$2")
    shift 2
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]} with apt" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q " ${CARGO_LEPTOS_VERSION}\$"; then
  echo "setup: installing cargo-leptos ${CARGO_LEPTOS_VERSION} (about 15 minutes on 2 cores, once)" >&2
  cargo install cargo-leptos --version "${CARGO_LEPTOS_VERSION}" --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " ${WASM_BINDGEN_VERSION}\$"; then
  echo "setup: installing wasm-bindgen-cli ${WASM_BINDGEN_VERSION} (about 5 minutes, once)" >&2
  # Not --locked: its lockfile pins a webpki-roots version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "${WASM_BINDGEN_VERSION}"
fi

apt_install node nodejs npm npm
wasm_opt="$TOOLS/binaryen/node_modules/.bin/wasm-opt"
if ! "$wasm_opt" --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*} "; then
  echo "setup: installing binaryen ${BINARYEN_VERSION} (wasm-opt) from npm into .tools/" >&2
  npm install --prefix "$TOOLS/binaryen" --no-audit --no-fund --loglevel=error \
    "binaryen@${BINARYEN_VERSION}" >&2
fi
