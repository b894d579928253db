#!/usr/bin/env bash
# The soak run: case (c) of run.sh (subscription key + ip-filter + rate-limit-by-key +
# set-header) held at 80 % of its measured maximum rate for minutes, while the policy of the
# loaded API changes every second and callers arrive both on kept connections and on a new
# connection per request. Passes when the gateway made no 5xx (the upstream never answers
# one) and its memory stays flat.
#
#   bash bench/soak.sh                          # 3 minutes; results in bench/results/
#   SOAK_SECONDS=600 bash bench/soak.sh
#   SOAK_TIMELINE=1 bash bench/soak.sh          # also: the slow seconds, one by one
#
# Layout as run.sh: load generators on core $LOAD_CORE, upstream and Portcullis on
# $TARGET_CORE.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

soak_seconds=${SOAK_SECONDS:-180}
load_core=${LOAD_CORE:-0}
target_core=${TARGET_CORE:-1}
connections=${CONNECTIONS:-32}
# Callers that open a new connection for every request, per second (the rest of the rate
# goes over kept connections).
new_connection_rate=${NEW_CONNECTION_RATE:-200}

# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
need wrk wrk
need taskset util-linux
need python3 python3
if ! command -v oha > /dev/null; then
  echo "soak: installing oha with cargo"
  cargo install oha --locked
fi

echo "soak: building release binaries"
cargo build --release --features ssr --bin portcullis -p portcullis
cargo build --release -p portcullis-bench
portcullis=target/release/portcullis

work=$(mktemp -d -p /dev/shm portcullis-soak.XXXXXX 2> /dev/null || mktemp -d)
cleanup() {
  kill $(jobs -p) 2> /dev/null || true
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

upstream_port=18181
upstream_url="http://127.0.0.1:$upstream_port"
host=bench.localhost
taskset -c "$target_core" target/release/bench-upstream "127.0.0.1:$upstream_port" \
  > "$work/upstream.log" 2>&1 &

echo "soak: configuring Portcullis"
configure soak 18210 18310
key=$(cat "$work/soak/key")
pid=$(cat "$work/soak/pid")
url="http://127.0.0.1:18310/policied/hello"

echo "soak: measuring the maximum rate (wrk, 10 s)"
taskset -c "$load_core" wrk -t1 -c"$connections" -d3s -H "Host: $host" \
  -H "Ocp-Apim-Subscription-Key: $key" "$url" > /dev/null
max_rps=$(taskset -c "$load_core" wrk -t1 -c"$connections" -d10s -s bench/wrk-report.lua \
  -H "Host: $host" -H "Ocp-Apim-Subscription-Key: $key" "$url" \
  | awk '/^RESULT/ { printf "%d", $2 }')
rate=$((max_rps * 8 / 10))
kept_rate=$((rate - new_connection_rate))
echo "soak: maximum $max_rps req/s; holding $rate req/s ($kept_rate on $connections kept connections, $new_connection_rate on new ones) for $soak_seconds s"

# A policy change every second (the period is max(1 s, one change)): the loaded API's
# set-header value counts up. The JSON body is made once; each change is one curl (a few
# milliseconds a second), on the gateway's core: the load generators' core is oha's alone.
body_template=$(python3 -c 'import json,sys; print(json.dumps({"format":"xml","value":sys.argv[1]}))' \
  "$policy_c")
changer() {
  local n=0 failed=0
  while :; do
    n=$((n + 1))
    sleep 1 &
    taskset -c "$target_core" curl -sf -o /dev/null -X PUT \
      "http://127.0.0.1:18210/mgmt/services/bench/apis/policied/policy" \
      -H "Authorization: Bearer $(cat "$work/soak/token")" \
      -H 'Content-Type: application/json' \
      -d "${body_template/<value>portcullis</<value>portcullis-$n<}" || failed=$((failed + 1))
    echo "$n $failed" > "$work/changes"
    wait $!
  done
}
# RSS every 5 s (kB).
sampler() {
  while :; do
    awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" >> "$work/rss"
    sleep 5
  done
}
changer &
changer_pid=$!
sampler &
sampler_pid=$!

timeline=()
[ -n "${SOAK_TIMELINE:-}" ] && timeline=(--db-url "$work/kept.db")
taskset -c "$load_core" oha --no-tui --output-format json -z "${soak_seconds}s" \
  -c "$connections" -q "$kept_rate" --latency-correction "${timeline[@]}" -H "Host: $host" \
  -H "Ocp-Apim-Subscription-Key: $key" "$url" > "$work/kept.json" &
kept_pid=$!
taskset -c "$load_core" oha --no-tui --output-format json -z "${soak_seconds}s" \
  -c 4 -q "$new_connection_rate" --disable-keepalive --latency-correction -H "Host: $host" \
  -H "Ocp-Apim-Subscription-Key: $key" "$url" > "$work/new.json" &
new_pid=$!
wait "$kept_pid" "$new_pid"
kill "$changer_pid" "$sampler_pid" 2> /dev/null || true

peak=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
mkdir -p bench/results
out="bench/results/$(date -u +%F)-soak.md"
python3 bench/soak_report.py "$work/kept.json" "$work/new.json" "$work/rss" "$work/changes" \
  "$max_rps" "$rate" "$soak_seconds" "$peak" "$(git -C "$root" rev-parse --short HEAD)" \
  ${timeline:+"$work/kept.db"} > "$out"
cat "$out"
echo "soak: written to $out"
