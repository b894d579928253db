#!/usr/bin/env bash
# Starts Debian's PostgreSQL for the store tests and prints the admin URL the tests use to
# create one fresh database per test. Idempotent: an already running cluster is reused.
# Needs root (it uses the postgres system account); installs the package if it is missing.
set -euo pipefail

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "installing postgresql…" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
  pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -qx online; then
  pg_ctlcluster "$version" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
for _ in $(seq 1 50); do
  su postgres -c "pg_isready -q -p $port" && break
  sleep 0.2
done
su postgres -c "psql -q -p $port -c \"ALTER USER postgres PASSWORD 'portcullis-test'\"" >&2
echo "postgres://postgres:portcullis-test@127.0.0.1:$port/postgres"
