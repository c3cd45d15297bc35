#!/usr/bin/env bash
# A/B end-to-end comparison: the `frontend` with the authorization layer (mutual TLS + JWT
# verified against a JWK Set, Temporal's default authorizer) against the same frontend with
# `--no-authz` (the layer removed entirely, same mutual TLS), alternating A and B several times
# on this machine, each round driven by `loadgen` with a cached token.
#
# Usage: examples/bench/compare.sh [ROUNDS]
# Environment: CONCURRENCY (64), CONNECTIONS (2), DURATION seconds per run (10), WARMUP (2),
#              METHOD (describe-namespace), PORT (17233), SKIP_BUILD (unset).
# Prints each run, then the median throughput ratio (layer / no layer) and median p99 ratio.
set -euo pipefail

rounds=${1:-5}
concurrency=${CONCURRENCY:-64}
connections=${CONNECTIONS:-2}
duration=${DURATION:-10}
warmup=${WARMUP:-2}
method=${METHOD:-describe-namespace}
port=${PORT:-17233}

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if [ -z "${SKIP_BUILD:-}" ]; then
    cargo build --release -p tonic-authz-examples --bin frontend --bin loadgen
fi
bin=$root/target/release

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
"$root/examples/bench/fixtures.sh" "$work"

tls=(--tls-cert "$work/server.pem" --tls-key "$work/server.key" --tls-client-ca "$work/ca.pem" --require-client-auth)
with_layer=("${tls[@]}" --jwks-uri "file://$work/jwks.json")
without_layer=("${tls[@]}" --no-authz)

start_server() {
    RUST_LOG=warn "$bin/frontend" --listen "127.0.0.1:$port" "$@" > "$work/server.out" 2> "$work/server.err" &
    server_pid=$!
    for _ in $(seq 1 100); do
        if grep -q "listening on" "$work/server.out" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "frontend did not start:" >&2
    cat "$work/server.err" >&2
    exit 1
}

stop_server() {
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

load() {
    "$bin/loadgen" --address "127.0.0.1:$port" --server-name localhost \
        --ca "$work/ca.pem" --cert "$work/client.pem" --key "$work/client.key" \
        --token "$(cat "$work/token")" --method "$method" \
        --concurrency "$concurrency" --connections "$connections" \
        --duration "$duration" --warmup "$warmup" --json
}

results=$work/results
: > "$results"
for round in $(seq 1 "$rounds"); do
    for variant in layer none; do
        if [ "$variant" = layer ]; then start_server "${with_layer[@]}"; else start_server "${without_layer[@]}"; fi
        line=$(load)
        stop_server
        echo "round $round $variant $line"
        echo "$variant $line" >> "$results"
    done
done

python3 - "$results" <<'PY'
import json, statistics, sys
runs = {"layer": [], "none": []}
for line in open(sys.argv[1]):
    variant, data = line.split(" ", 1)
    runs[variant].append(json.loads(data))
for variant, rs in runs.items():
    bad = [r["codes"] for r in rs if set(r["codes"]) != {"Ok"}]
    if bad:
        sys.exit(f"{variant}: calls did not all succeed: {bad}")
pairs = list(zip(runs["layer"], runs["none"]))
tput = statistics.median(a["calls_per_sec"] / b["calls_per_sec"] for a, b in pairs)
p99 = statistics.median(a["p99_us"] / b["p99_us"] for a, b in pairs)
p50 = statistics.median(a["p50_us"] / b["p50_us"] for a, b in pairs)
med = lambda v, k: statistics.median(r[k] for r in runs[v])
print(f"with layer:    {med('layer', 'calls_per_sec'):.0f} calls/s, p50 {med('layer', 'p50_us'):.0f} µs, p99 {med('layer', 'p99_us'):.0f} µs (medians of {len(pairs)} runs)")
print(f"without layer: {med('none', 'calls_per_sec'):.0f} calls/s, p50 {med('none', 'p50_us'):.0f} µs, p99 {med('none', 'p99_us'):.0f} µs")
print(f"median throughput ratio (layer / no layer): {tput:.3f}")
print(f"median p50 ratio (layer / no layer): {p50:.3f}")
print(f"median p99 ratio (layer / no layer): {p99:.3f}")
PY
