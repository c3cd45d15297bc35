#!/usr/bin/env bash
# Proxy mode, side by side against one real Temporal dev server (`temporal server start-dev`
# from the interop virtualenv): `loadgen` calling the dev server directly, through the frontend
# with `--no-authz` over plaintext (the bare hop), through the frontend with `--no-authz` over
# mutual TLS, and through the frontend with mutual TLS + JWT + the default authorizer. Each
# variant runs at concurrency 1 (added latency) and at CONCURRENCY (throughput); the frontend's
# CPU time per forwarded call comes from /proc/PID/stat (utime + stime) around each run. The
# dev server's rate limits are raised so the load generator measures the hop, not the limiter.
#
# Usage: examples/bench/proxy.sh
# Environment: CONCURRENCY (32), CONNECTIONS (2), DURATION seconds per run (10), WARMUP (2),
#              METHOD (describe-namespace), SKIP_BUILD (unset), TEMPORAL (the interop venv's).
set -euo pipefail

concurrency=${CONCURRENCY:-32}
connections=${CONNECTIONS:-2}
duration=${DURATION:-10}
warmup=${WARMUP:-2}
method=${METHOD:-describe-namespace}

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
temporal=${TEMPORAL:-$root/target/interop-venv/bin/temporal}
if [ ! -x "$temporal" ]; then
    echo "no temporal CLI at $temporal: run examples/interop/run.sh once, or set TEMPORAL" >&2
    exit 1
fi
if [ -z "${SKIP_BUILD:-}" ]; then
    cargo build --release -p tonic-authz-examples --bin frontend --bin loadgen
fi
bin=$root/target/release
ticks=$(getconf CLK_TCK)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

work=$(mktemp -d)
dev_pid=
proxy_pid=
cleanup() {
    if [ -n "$proxy_pid" ]; then kill "$proxy_pid" 2>/dev/null || true; fi
    if [ -n "$dev_pid" ]; then kill "$dev_pid" 2>/dev/null || true; wait "$dev_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
"$root/examples/bench/fixtures.sh" "$work"

dev_port=$(free_port)
"$temporal" server start-dev --headless --ip 127.0.0.1 --port "$dev_port" \
    --http-port "$(free_port)" --metrics-port "$(free_port)" --log-level error \
    --dynamic-config-value frontend.rps=1000000 \
    --dynamic-config-value frontend.namespaceRPS=1000000 \
    --dynamic-config-value frontend.globalNamespaceRPS=1000000 \
    > "$work/dev.log" 2>&1 &
dev_pid=$!
for _ in $(seq 1 120); do
    if "$bin/loadgen" --address "127.0.0.1:$dev_port" --method get-system-info --count 1 \
        --warmup 0 --concurrency 1 >/dev/null 2>&1; then break; fi
    sleep 0.5
done

proxy_port=$(free_port)
tls=(--tls-cert "$work/server.pem" --tls-key "$work/server.key" --tls-client-ca "$work/ca.pem" --require-client-auth)

start_proxy() {
    RUST_LOG=warn "$bin/frontend" --listen "127.0.0.1:$proxy_port" --upstream "127.0.0.1:$dev_port" \
        "$@" > "$work/proxy.out" 2> "$work/proxy.err" &
    proxy_pid=$!
    for _ in $(seq 1 100); do
        if grep -q "listening on" "$work/proxy.out" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "frontend did not start:" >&2
    cat "$work/proxy.err" >&2
    exit 1
}

stop_proxy() {
    kill "$proxy_pid"
    wait "$proxy_pid" 2>/dev/null || true
    proxy_pid=
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run NAME CONCURRENCY ADDRESS [loadgen TLS flags...]
run() {
    local name=$1 conc=$2 address=$3
    shift 3
    local before=0 after=0
    if [ -n "$proxy_pid" ]; then before=$(cpu_ticks "$proxy_pid"); fi
    line=$("$bin/loadgen" --address "$address" --token "$(cat "$work/token")" --method "$method" \
        --gzip --concurrency "$conc" --connections "$connections" --duration "$duration" \
        --warmup "$warmup" --json "$@")
    if [ -n "$proxy_pid" ]; then after=$(cpu_ticks "$proxy_pid"); fi
    echo "$name $conc $((after - before)) $line" >> "$work/results"
    echo "$name c=$conc cpu_ticks=$((after - before)) $line"
}

mtls=(--server-name localhost --ca "$work/ca.pem" --cert "$work/client.pem" --key "$work/client.key")
: > "$work/results"
for conc in 1 "$concurrency"; do
    run direct "$conc" "127.0.0.1:$dev_port"
    start_proxy --no-authz
    run proxy-plain-noauthz "$conc" "127.0.0.1:$proxy_port"
    stop_proxy
    start_proxy "${tls[@]}" --no-authz
    run proxy-mtls-noauthz "$conc" "127.0.0.1:$proxy_port" "${mtls[@]}"
    stop_proxy
    start_proxy "${tls[@]}" --jwks-uri "file://$work/jwks.json"
    run proxy-mtls-jwt-authz "$conc" "127.0.0.1:$proxy_port" "${mtls[@]}"
    stop_proxy
done

python3 - "$work/results" "$ticks" "$warmup" <<'PY'
import json, sys
ticks = int(sys.argv[2])
# The CPU counter spans the warm-up too: count its calls at the measured rate.
warmup = float(sys.argv[3])
rows = []
for line in open(sys.argv[1]):
    name, conc, cpu, data = line.split(" ", 3)
    r = json.loads(data)
    if set(r["codes"]) != {"Ok"}:
        sys.exit(f"{name} c={conc}: calls did not all succeed: {r['codes']}")
    rows.append((name, int(conc), int(cpu), r))
direct = {c: r for n, c, _, r in rows if n == "direct"}
print(f"{'variant':22} {'conc':>4} {'calls/s':>9} {'p50 µs':>8} {'p99 µs':>8} {'+p50 µs':>8} {'+p99 µs':>8} {'CPU µs/call':>11}")
for name, conc, cpu, r in rows:
    base = direct[conc]
    forwarded = r["calls_per_sec"] * (r["secs"] + warmup)
    per_call = "" if name == "direct" else f"{cpu / ticks * 1e6 / max(forwarded, 1):.0f}"
    print(f"{name:22} {conc:>4} {r['calls_per_sec']:>9.0f} {r['p50_us']:>8} {r['p99_us']:>8} "
          f"{r['p50_us'] - base['p50_us']:>8} {r['p99_us'] - base['p99_us']:>8} {per_call:>11}")
PY
