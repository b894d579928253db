# Shared by run.sh and soak.sh: installing what is missing, and starting and configuring
# Portcullis instances. Sourced; expects $work (a scratch directory), $portcullis (the
# binary), $target_core and $upstream_url to be set before the functions run.

need() { command -v "$1" > /dev/null || { echo "bench: installing $2"; sudo_apt "$2"; }; }
sudo_apt() {
  local prefix=""
  [ "$(id -u)" = 0 ] || prefix=sudo
  $prefix apt-get update -qq && $prefix apt-get install -y -qq "$@"
}

# ---------------------------------------------------------------- Portcullis instances
wait_healthy() { # $1: portal port
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$1/healthz" > /dev/null && return 0
    sleep 0.1
  done
  echo "bench: Portcullis on portal port $1 did not start"; exit 1
}

start_portcullis() { # $1: name → pid in $work/$1.pid
  local dir="$work/$1" portal gateway
  portal=$(cat "$dir/portal-port") gateway=$(cat "$dir/gateway-port")
  local redis=()
  [ -f "$dir/redis-url" ] && redis=(--redis-url "$(cat "$dir/redis-url")")
  taskset -c "$target_core" "$portcullis" serve --data-dir "$dir/data" \
    --portal-addr "127.0.0.1:$portal" --gateway-addr "127.0.0.1:$gateway" --no-demo \
    "${redis[@]}" > "$dir/server.log" 2>&1 &
  echo $! > "$dir/pid"
  wait_healthy "$portal"
}

stop_portcullis() { # $1: name
  local pid
  pid=$(cat "$work/$1/pid")
  kill "$pid"; wait "$pid" 2> /dev/null || true
}

mgmt() { # $1: name, $2: method, $3: path, $4: JSON body
  local dir="$work/$1"
  curl -sf -X "$2" "http://127.0.0.1:$(cat "$dir/portal-port")/mgmt/services/bench$3" \
    -H "Authorization: Bearer $(cat "$dir/token")" -H 'Content-Type: application/json' \
    ${4:+-d "$4"}
}

policy_c='<policies><inbound><base /><ip-filter action="allow"><address-range from="127.0.0.0" to="127.255.255.255" /></ip-filter><rate-limit-by-key calls="1000000000" renewal-period="60" counter-key="@(context.Subscription.Id)" /><set-header name="x-bench" exists-action="override"><value>portcullis</value></set-header></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>'

# The measured APIs, identical in both instances: open (a), keyed (b), policied (c), and
# probe (propagation).
configure() { # $1: name, $2: portal port, $3: gateway port
  local dir="$work/$1"
  mkdir -p "$dir/data"
  echo "$2" > "$dir/portal-port"; echo "$3" > "$dir/gateway-port"
  start_portcullis "$1"
  "$portcullis" token create --name bench --data-dir "$dir/data" 2> /dev/null | tail -1 > "$dir/token"
  mgmt "$1" PUT "" '{"displayName":"Bench"}' > /dev/null
  mgmt "$1" PUT /products/bench '{"subscriptionRequired":true,"state":"published"}' > /dev/null
  local api
  for api in open keyed policied probe; do
    local required=true
    [ "$api" = open ] || [ "$api" = probe ] && required=false
    mgmt "$1" PUT "/apis/$api" \
      "{\"serviceUrl\":\"$upstream_url\",\"path\":\"$api\",\"subscriptionRequired\":$required}" > /dev/null
    mgmt "$1" PUT "/apis/$api/operations/get" '{"method":"GET","urlTemplate":"/*"}' > /dev/null
    mgmt "$1" PUT "/products/bench/apis/$api" > /dev/null
  done
  python3 -c 'import json,sys; print(json.dumps({"format":"xml","value":sys.argv[1]}))' "$policy_c" \
    > "$dir/policy.json"
  curl -sf -X PUT "http://127.0.0.1:$2/mgmt/services/bench/apis/policied/policy" \
    -H "Authorization: Bearer $(cat "$dir/token")" -H 'Content-Type: application/json' \
    -d @"$dir/policy.json" > /dev/null
  mgmt "$1" PUT /subscriptions/bench '{"scope":"/products/bench"}' > /dev/null
  mgmt "$1" POST /subscriptions/bench/listSecrets \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["primaryKey"])' > "$dir/key"
}
