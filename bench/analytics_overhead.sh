#!/usr/bin/env bash
# What recording calls for analytics costs: the gateway's throughput with recording on and
# off, same machine, same backend, rounds alternating. Prints requests/s and the ratio.
#
#   bash bench/analytics_overhead.sh            # 3 rounds of 10 s each
#   ROUNDS=5 SECONDS_PER_ROUND=20 bash bench/analytics_overhead.sh
#
# Needs wrk (Debian package) and release builds (built here if missing). The gateway runs
# on core 0; the backend (bench-upstream) and wrk share core 1.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${ROUNDS:-3}
seconds=${SECONDS_PER_ROUND:-10}
connections=${CONNECTIONS:-32}
binary=target/release/portcullis
[ -x "$binary" ] || cargo build --release --features ssr --bin portcullis
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# A backend that costs next to nothing: the harness's own upstream (see bench/run.sh).
[ -x target/release/bench-upstream ] || cargo build --release -p portcullis-bench
taskset -c 1 target/release/bench-upstream 127.0.0.1:18181 > "$work/upstream.log" 2>&1 &

run_gateway() { # $1: extra flag, $2: port offset
  local dir="$work/data$2"
  mkdir -p "$dir"
  taskset -c 0 "$binary" serve --data-dir "$dir" --portal-addr "127.0.0.1:$((18200 + $2))" \
    --gateway-addr "127.0.0.1:$((18300 + $2))" --no-demo $1 > "$work/gateway$2.log" 2>&1 &
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$((18200 + $2))/healthz" > /dev/null && break; sleep 0.1; done
  local token
  token=$("$binary" token create --name bench --data-dir "$dir" 2>/dev/null | tail -1)
  local mgmt="http://127.0.0.1:$((18200 + $2))/mgmt/services/bench"
  curl -sf -X PUT "$mgmt" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{}' > /dev/null
  curl -sf -X PUT "$mgmt/apis/api" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"serviceUrl":"http://127.0.0.1:18181","path":"api","subscriptionRequired":false}' > /dev/null
  curl -sf -X PUT "$mgmt/apis/api/operations/get" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"method":"GET","urlTemplate":"/*"}' > /dev/null
}

run_gateway "--no-analytics" 0
run_gateway "" 1
url() { echo "http://127.0.0.1:$((18300 + $1))/api/hello"; }
for offset in 0 1; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: bench.localhost' "$(url $offset)")
  [ "$status" = 200 ] || { echo "gateway $offset answers $status"; cat "$work/gateway$offset.log"; exit 1; }
done

measure() { # $1: offset → requests/s
  taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" -H 'Host: bench.localhost' "$(url "$1")" \
    | awk '/Requests\/sec/ { print $2 }'
}
measure 0 > /dev/null; measure 1 > /dev/null # warm-up, not counted
off_total=0; on_total=0
printf '%-8s %14s %14s\n' round "off (req/s)" "on (req/s)"
for round in $(seq "$rounds"); do
  off=$(measure 0); on=$(measure 1)
  printf '%-8s %14s %14s\n' "$round" "$off" "$on"
  off_total=$(echo "$off_total + $off" | bc -l); on_total=$(echo "$on_total + $on" | bc -l)
done
printf 'mean     %14.0f %14.0f\n' "$(echo "$off_total / $rounds" | bc -l)" "$(echo "$on_total / $rounds" | bc -l)"
printf 'recording on / off = %.3f\n' "$(echo "$on_total / $off_total" | bc -l)"
