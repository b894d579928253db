#!/usr/bin/env bash
# Starts Debian's Redis for the tests of shared counters and prints its URL. Idempotent: a
# Redis already answering on the port is reused. Installs the package if it is missing
# (needs root for that). Nothing is persisted: the tests' keys are throw-away.
set -euo pipefail
port=${PORTCULLIS_TEST_REDIS_PORT:-6379}

if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing redis-server…" >&2
  prefix=""
  [ "$(id -u)" = 0 ] || prefix=sudo
  $prefix apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $prefix apt-get install -y -qq redis-server >&2
fi
if ! redis-cli -p "$port" ping >/dev/null 2>&1; then
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --logfile /tmp/portcullis-test-redis.log >&2
  for _ in $(seq 1 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
echo "redis://127.0.0.1:$port/"
