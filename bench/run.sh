#!/usr/bin/env bash
# The gateway benchmark: Portcullis against Debian's nginx as a plain reverse proxy and
# against calling the upstream directly, on loopback, on this machine, in one run.
#
#   bash bench/run.sh                     # 3 rounds × 10 s per target, results in bench/results/
#   ROUNDS=5 SECONDS_PER_ROUND=20 bash bench/run.sh
#   HOLD=1 bash bench/run.sh              # set everything up, print the targets, measure nothing
#
# What runs where: the load generator (wrk; oha for the fixed-rate latency runs) on core
# $LOAD_CORE; the upstream, nginx and Portcullis share core $TARGET_CORE, so every proxy gets
# the same single core and the upstream costs all of them the same.
#
# Targets: the upstream directly; nginx `proxy_pass` with upstream keep-alive (1 worker);
# HAProxy (1 thread) doing case (c)'s work with its own means (key map, ACL, stick-table);
# two minimal hyper proxies (bench-proxy) as reference points for what the HTTP stack costs;
# Portcullis (a) open API, no policies, (b) subscription key, (c) key + ip-filter +
# rate-limit-by-key (never triggers) + set-header — each at 1 API and at 1,000 APIs × 10
# operations with 100,000 subscriptions. Rounds alternate the targets; a warm-up round is
# not counted. Then: added latency at a fixed rate (half of case (c)'s saturation rate),
# propagation of 100 policy changes, and peak RSS. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

rounds=${ROUNDS:-3}
seconds=${SECONDS_PER_ROUND:-10}
connections=${CONNECTIONS:-32}
load_core=${LOAD_CORE:-0}
target_core=${TARGET_CORE:-1}
changes=${CHANGES:-100}
large_apis=${LARGE_APIS:-1000}
large_operations=${LARGE_OPERATIONS:-10}
large_subscriptions=${LARGE_SUBSCRIPTIONS:-100000}

# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
need nginx nginx
need haproxy haproxy
need wrk wrk
need taskset util-linux
need python3 python3
need redis-server redis-server
if ! command -v oha > /dev/null; then
  echo "bench: installing oha (the fixed-rate load generator) with cargo"
  cargo install oha --locked
fi

echo "bench: building release binaries"
cargo build --release --features ssr --bin portcullis -p portcullis
cargo build --release -p portcullis-bench
portcullis=target/release/portcullis
upstream_bin=target/release/bench-upstream
propagation_bin=target/release/bench-propagation
proxy_bin=target/release/bench-proxy

work=$(mktemp -d -p /dev/shm portcullis-bench.XXXXXX 2> /dev/null || mktemp -d)
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2> /dev/null
  [ -f "$work/haproxy.pid" ] && kill "$(cat "$work/haproxy.pid")" 2> /dev/null
  kill $(jobs -p) 2> /dev/null || true
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

upstream_port=18181
nginx_port=18190
host=bench.localhost
upstream_url="http://127.0.0.1:$upstream_port"

taskset -c "$target_core" "$upstream_bin" "127.0.0.1:$upstream_port" > "$work/upstream.log" 2>&1 &
# Reference points: the least a hyper proxy does (no routing, keys or header work), with
# hyper-util's pooled client and with hyper's connection API and a per-thread free list.
taskset -c "$target_core" "$proxy_bin" 127.0.0.1:18191 "127.0.0.1:$upstream_port" pooled \
  > "$work/proxy-pooled.log" 2>&1 &
taskset -c "$target_core" "$proxy_bin" 127.0.0.1:18192 "127.0.0.1:$upstream_port" direct \
  > "$work/proxy-direct.log" 2>&1 &

cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  upstream backend {
    server 127.0.0.1:$upstream_port;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
NGINX
taskset -c "$target_core" nginx -c "$work/nginx.conf"

echo "bench: configuring Portcullis with 1 API"
configure small 18200 18300
# The same, counting rate limits in Redis (a local redis-server on the target core, so its
# work is part of what the gateway costs) instead of in memory.
redis_port=18179
taskset -c "$target_core" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' \
  --appendonly no > "$work/redis.log" 2>&1 &
for _ in $(seq 50); do redis-cli -p "$redis_port" ping > /dev/null 2>&1 && break; sleep 0.1; done
mkdir -p "$work/redis"
echo "redis://127.0.0.1:$redis_port/" > "$work/redis/redis-url"
echo "bench: configuring Portcullis with 1 API and counters in Redis"
configure redis 18202 18302
echo "bench: configuring Portcullis with $large_apis APIs × $large_operations operations, $large_subscriptions subscriptions"
configure large 18201 18301
stop_portcullis large
python3 bench/seed_large.py "$work/large/data/portcullis.db" bench bench "$upstream_url" \
  "$large_apis" "$large_operations" "$large_subscriptions"
start_portcullis large

key=$(cat "$work/small/key")
redis_key=$(cat "$work/redis/key")
large_key=$(cat "$work/large/key")

# HAProxy doing case (c)'s work, the peer a user would pick instead: the key looked up in
# a map of keys, a source-address ACL, a stick-table request rate per key (a limit that
# never triggers) and one header set — one thread on the same core as every proxy.
haproxy_port=18195
printf '%s subscription\n' "$key" > "$work/keys.map"
cat > "$work/haproxy.cfg" <<HAPROXY
global
  nbthread 1
  maxconn 4096
  pidfile $work/haproxy.pid
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend gateway
  bind 127.0.0.1:$haproxy_port
  stick-table type string len 64 size 200k expire 60s store http_req_rate(60s)
  acl allowed_source src 127.0.0.0/8
  acl known_key req.hdr(ocp-apim-subscription-key),map_str($work/keys.map) -m found
  http-request deny deny_status 403 if !allowed_source
  http-request deny deny_status 401 if !known_key
  http-request track-sc0 req.hdr(ocp-apim-subscription-key)
  http-request deny deny_status 429 if { sc_http_req_rate(0) gt 1000000000 }
  http-request set-header x-bench haproxy
  default_backend upstream
backend upstream
  http-reuse always
  server upstream 127.0.0.1:$upstream_port
HAPROXY
taskset -c "$target_core" haproxy -D -f "$work/haproxy.cfg"

# ---------------------------------------------------------------- targets
# name|URL|key (or -)
targets=(
  "direct|$upstream_url/api/hello|-"
  "nginx|http://127.0.0.1:$nginx_port/api/hello|-"
  "haproxy (key map + ACL + stick-table + header)|http://127.0.0.1:$haproxy_port/api/hello|$key"
  "hyper proxy, pooled client (reference)|http://127.0.0.1:18191/api/hello|-"
  "hyper proxy, connection API (reference)|http://127.0.0.1:18192/api/hello|-"
  "a (open), 1 API|http://127.0.0.1:18300/open/hello|-"
  "b (key), 1 API|http://127.0.0.1:18300/keyed/hello|$key"
  "c (key+policies), 1 API|http://127.0.0.1:18300/policied/hello|$key"
  "c (key+policies), 1 API, Redis counters|http://127.0.0.1:18302/policied/hello|$redis_key"
  "a (open), $large_apis APIs|http://127.0.0.1:18301/open/hello|-"
  "b (key), $large_apis APIs|http://127.0.0.1:18301/keyed/hello|$large_key"
  "c (key+policies), $large_apis APIs|http://127.0.0.1:18301/policied/hello|$large_key"
)

if [ -n "${HOLD:-}" ]; then
  # For profiling: everything configured and running, nothing measured.
  printf 'bench: holding (Ctrl-C ends); Host: %s\n' "$host"
  printf '  %s\n' "${targets[@]}"
  wait
fi

for target in "${targets[@]}"; do
  IFS='|' read -r name url target_key <<< "$target"
  args=(-s -o /dev/null -w '%{http_code}' -H "Host: $host")
  [ "$target_key" = - ] || args+=(-H "Ocp-Apim-Subscription-Key: $target_key")
  status=$(curl "${args[@]}" "$url")
  [ "$status" = 200 ] || { echo "bench: $name answers $status"; cat "$work"/*/server.log; exit 1; }
done

run_wrk() { # $1: URL, $2: key or -, $3: seconds → RESULT line fields
  local headers=(-H "Host: $host")
  [ "$2" = - ] || headers+=(-H "Ocp-Apim-Subscription-Key: $2")
  taskset -c "$load_core" wrk -t1 -c"$connections" -d"$3s" -s bench/wrk-report.lua \
    "${headers[@]}" "$1" | awk '/^RESULT/ { print $2, $3, $4, $5, $6 }'
}

raw="$work/raw.tsv"
: > "$raw"
echo "bench: warm-up (not counted)"
for target in "${targets[@]}"; do
  IFS='|' read -r name url target_key <<< "$target"
  run_wrk "$url" "$target_key" 3 > /dev/null
done
for round in $(seq "$rounds"); do
  for target in "${targets[@]}"; do
    IFS='|' read -r name url target_key <<< "$target"
    result=$(run_wrk "$url" "$target_key" "$seconds")
    printf 'round %s  %-28s %s\n' "$round" "$name" "$result"
    printf 'saturated\t%s\t%s\n' "$name" "$result" >> "$raw"
  done
done

# ---------------------------------------------------------------- fixed-rate latency
# Half of the saturation rate of the gateway under test (case (c), 1 API, median round),
# offered to the upstream, nginx and Portcullis alike: added latency at 50 % load.
c_rps=$(awk -F'\t' '$1 == "saturated" && $2 == "c (key+policies), 1 API" { split($3, f, " "); print f[1] }' "$raw" \
  | sort -n | awk '{ v[NR] = $1 } END { printf "%d", v[int((NR + 1) / 2)] }')
rate=${RATE:-$((c_rps / 2))}
echo "bench: latency at a fixed $rate req/s (half of case (c)'s saturation rate)"
run_oha() { # $1: URL, $2: key or - → p50 p99 p99.9 in ms
  local headers=(-H "Host: $host")
  [ "$2" = - ] || headers+=(-H "Ocp-Apim-Subscription-Key: $2")
  taskset -c "$load_core" oha --no-tui --output-format json -z "${seconds}s" -c "$connections" \
    -q "$rate" --latency-correction "${headers[@]}" "$1" \
    | python3 bench/oha_summary.py
}
fixed_targets=("${targets[0]}" "${targets[1]}" "${targets[2]}" "${targets[7]}" "${targets[8]}" "${targets[11]}")
for round in $(seq "$rounds"); do
  for target in "${fixed_targets[@]}"; do
    IFS='|' read -r name url target_key <<< "$target"
    result=$(run_oha "$url" "$target_key")
    printf 'fixed-rate round %s  %-28s %s\n' "$round" "$name" "$result"
    printf 'fixed\t%s\t%s\n' "$name" "$result" >> "$raw"
  done
done

# ---------------------------------------------------------------- propagation
echo "bench: propagation over $changes policy changes"
for instance in small large; do
  dir="$work/$instance"
  "$propagation_bin" \
    "http://127.0.0.1:$(cat "$dir/portal-port")/mgmt/services/bench/apis/probe/policy" \
    "$(cat "$dir/token")" "http://127.0.0.1:$(cat "$dir/gateway-port")/probe/hello" "$host" \
    "$changes" | while read -r what p50 p99 max; do
      printf 'propagation\t%s\t%s\t%s %s %s\n' "$instance" "$what" "$p50" "$p99" "$max" >> "$raw"
      printf '%s %s: p50 %s ms, p99 %s ms, max %s ms\n' "$instance" "$what" "$p50" "$p99" "$max"
    done
done

# ---------------------------------------------------------------- list pages
# The subscriptions list at $large_subscriptions rows, as the portal's Subscriptions page and
# the management API page it: the first page, the last page and a search, 7 loads each.
echo "bench: subscription list pages at $large_subscriptions subscriptions"
dir="$work/large"
last_skip=$((large_subscriptions > 50 ? large_subscriptions - 50 : 0))
for page in "first|%24top=50" "last|%24top=50&%24skip=$last_skip" \
  "search|%24top=50&%24filter=contains(displayName,%279999%27)"; do
  what=${page%%|*}
  times=$(for _ in 1 2 3 4 5 6 7; do
    curl -sf -o /dev/null -w '%{time_total}\n' \
      "http://127.0.0.1:$(cat "$dir/portal-port")/mgmt/services/bench/subscriptions?${page#*|}" \
      -H "Authorization: Bearer $(cat "$dir/token")"
  done | sort -n | awk '{ t[NR] = $1 * 1000 } END { printf "%.1f %.1f %.1f", t[1], t[4], t[NR] }')
  printf 'listpage\t%s\t%s\n' "$what" "$times" >> "$raw"
  printf 'subscriptions page (%s): min %s ms, median, max\n' "$what" "$times"
done

# ---------------------------------------------------------------- memory
for instance in small large; do
  pid=$(cat "$work/$instance/pid")
  peak=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
  now=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
  printf 'rss\t%s\t%s %s\n' "$instance" "$peak" "$now" >> "$raw"
  printf '%s: peak RSS %s MiB, now %s MiB\n' "$instance" "$((peak / 1024))" "$((now / 1024))"
done

mkdir -p bench/results
out="bench/results/$(date -u +%F).md"
cp "$raw" "bench/results/$(date -u +%F).raw.tsv"
python3 bench/report.py "$raw" "$rounds" "$seconds" "$connections" "$rate" "$changes" \
  "$large_apis" "$large_operations" "$large_subscriptions" "$(git -C "$root" rev-parse --short HEAD)" > "$out"
cat "$out"
echo "bench: written to $out"
