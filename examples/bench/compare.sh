#!/usr/bin/env bash
# A/B end-to-end comparison: the `frontend` with the authorization layer (a JWT verified
# against a JWK Set, Temporal's default authorizer) against the same frontend with
# `--no-authz` (the layer removed entirely), alternating the two in every round, for each
# transport (plaintext, mutual TLS) and each request encoding (identity, gzip, as every
# Temporal SDK sends). Each run is driven by `loadgen` with a cached token.
#
# The stable figure is the server's CPU time per call (user + system from /proc/PID/stat over
# the measured window, divided by the calls completed): throughput on a shared machine moves
# by tens of percent between runs, CPU per call by a few. Hardware instruction counters would
# be steadier still, but `perf stat -e instructions` is not supported in this VM.
#
# The server is pinned to CPU 0 and the load generator to CPU 1 (`taskset`), so the two do not
# compete for a core and the server's figures are those of one core.
#
# Usage: examples/bench/compare.sh [ROUNDS]
# Environment: CONCURRENCY (64), CONNECTIONS (4), DURATION seconds per run (8), WARMUP (2),
#              METHOD (describe-namespace), PORT (17233), TRANSPORTS ("plaintext mtls"),
#              ENCODINGS ("identity gzip"), PIN (1; 0 to leave scheduling to the kernel),
#              RATE (calls/s offered, per encoding: "identity=N gzip=M"; unset = as fast
#              as possible; set it below what the slower arm sustains so both arms do the same
#              work per second), FRONTEND (the frontend binary to measure; default the one built here, e.g. an
#              older build to compare releases), SKIP_BUILD (unset), PROFILE (the cargo
#              profile to build and run: `release`, or `release-lto` for a server linked as
#              one unit),
#              CONTROL_NS (unset; N adds a third arm, the bare server spending N ns of CPU
#              busy in every call: the control for what the layer's added CPU alone does to
#              throughput and latency at this load, whatever spends it),
#              BEFORE (unset; a frontend binary of another build adds an arm running that
#              build with the layer, alternated with the others in every round, so a change
#              is measured against the build before it under the same conditions).
# Prints each run, then per configuration the medians and the median ratios (layer / none, and
# with CONTROL_NS control / none and layer / control, with BEFORE before / none and
# layer / before).
set -euo pipefail

rounds=${1:-3}
concurrency=${CONCURRENCY:-64}
connections=${CONNECTIONS:-4}
duration=${DURATION:-8}
warmup=${WARMUP:-2}
method=${METHOD:-describe-namespace}
port=${PORT:-17233}
transports=${TRANSPORTS:-plaintext mtls}
encodings=${ENCODINGS:-identity gzip}
pin=${PIN:-1}

# shellcheck source=examples/bench/common.sh
. "$(dirname "$0")/common.sh"

server_cpu=()
load_cpu=()
if [ "$pin" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    server_cpu=(taskset -c 0)
    load_cpu=(taskset -c 1)
fi

start_server() {
    local exe=${FRONTEND:-$bin/frontend}
    if [ "$2" = before ]; then exe=$BEFORE; fi
    # shellcheck disable=SC2046
    RUST_LOG=warn "${server_cpu[@]}" "$exe" --listen "127.0.0.1:$port" $(server_args "$@") \
        > "$work/server.out" 2> "$work/server.err" &
    server_pid=$!
    for _ in $(seq 1 100); do
        # Listening, and accepting: the previous run's server may still hold the port.
        if grep -q "listening on" "$work/server.out" 2>/dev/null &&
            (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
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

load() { # transport encoding
    local args=()
    if [ "$1" = mtls ]; then
        args+=(--server-name localhost --ca "$work/ca.pem" --cert "$work/client.pem" --key "$work/client.key")
    fi
    if [ "$2" = gzip ]; then args+=(--gzip); fi
    for pair in ${RATE:-}; do
        if [ "${pair%%=*}" = "$2" ]; then args+=(--rate "${pair#*=}"); fi
    done
    LOADGEN_TOKEN="$(cat "$work/token")" "${load_cpu[@]}" "$bin/loadgen" \
        --address "127.0.0.1:$port" "${args[@]}" --method "$method" \
        --concurrency "$concurrency" --connections "$connections" \
        --duration "$duration" --warmup "$warmup" --server-pid "$server_pid" --json
}

variants="layer none"
if [ -n "${CONTROL_NS:-}" ]; then variants="$variants control"; fi
if [ -n "${BEFORE:-}" ]; then variants="$variants before"; fi

results=$work/results
: > "$results"
for round in $(seq 1 "$rounds"); do
    for transport in $transports; do
        for encoding in $encodings; do
            for variant in $variants; do
                start_server "$transport" "$variant"
                line=$(load "$transport" "$encoding")
                stop_server
                echo "round $round $transport $encoding $variant $line"
                echo "$transport/$encoding $variant $line" >> "$results"
            done
        done
    done
done

python3 - "$results" "$rounds" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    config, variant, data = line.split(" ", 2)
    runs.setdefault(config, {}).setdefault(variant, []).append(json.loads(data))
print()
print("| configuration | arms | calls/s | ratio | server CPU µs/call | ratio | p50 ratio | p90 ratio | p99 ratio |")
print("|---|---|---|---|---|---|---|---|---|")
for config, r in runs.items():
    for variant, rs in r.items():
        bad = [x["codes"] for x in rs if set(x["codes"]) != {"Ok"}]
        if bad:
            sys.exit(f"{config} {variant}: calls did not all succeed: {bad}")
    med = lambda v, k: statistics.median(x[k] for x in r[v])
    for a, b in [("layer", "none"), ("control", "none"), ("layer", "control"),
                 ("before", "none"), ("layer", "before")]:
        if a not in r or b not in r:
            continue
        pairs = list(zip(r[a], r[b]))
        ratio = lambda k: statistics.median(x[k] / y[k] for x, y in pairs)
        print(f"| {config} | {a} / {b} "
              f"| {med(a, 'calls_per_sec'):.0f} / {med(b, 'calls_per_sec'):.0f} "
              f"| {ratio('calls_per_sec'):.3f} "
              f"| {med(a, 'server_cpu_us_per_call'):.2f} / {med(b, 'server_cpu_us_per_call'):.2f} "
              f"| {ratio('server_cpu_us_per_call'):.3f} | {ratio('p50_us'):.3f} "
              f"| {ratio('p90_us'):.3f} | {ratio('p99_us'):.3f} |")
print(f"\n(medians of {sys.argv[2]} alternating rounds; ratios are medians of the per-round ratios)")
PY
