#!/usr/bin/env bash
# Instructions per call, counted: the `frontend` with the authorization layer against the same
# frontend with `--no-authz`, each run under valgrind's callgrind while `loadgen` sends calls
# one at a time at a fixed rate. Callgrind counts the instructions the server executes, not
# the time they take, so the figure does not move with what else the machine is doing: two
# runs of the same build agree within a few hundred instructions per call, where CPU time per
# call moves by several percent between rounds. (`perf stat -e instructions` would do the
# same at full speed, but hardware counters are not available in every VM.)
#
# One call in flight on one connection keeps every call's path the same (no batching of
# reads and writes across calls, which changes with load), so the difference between the arms
# is the layer's own work per call, plus what it changes in the calls around it (the
# extensions the router inserts into, the body the handler reads). With CONCURRENCY and
# CONNECTIONS as `compare.sh` runs them (64 over 4) and RATE=0, the server works as at full
# load: frames of many calls are read together, and a call may be handed to the layer before
# its message has arrived, which is the path a call that must wait takes.
#
# Only the measured window is counted (instrumentation is switched on after a warm-up and
# off before the server stops), so start-up, certificate loading and the TLS handshakes of
# the warm-up are not in the figure.
#
# Usage: examples/bench/instructions.sh
# Environment: TRANSPORTS ("plaintext mtls"), ENCODINGS ("identity"), RATE (400 calls/s; 0:
#              as fast as the server answers), CONCURRENCY (1), CONNECTIONS (1),
#              DURATION (5 seconds), METHOD (describe-namespace), PORT (17234),
#              FRONTEND (the frontend binary; default the one built here), SKIP_BUILD (unset),
#              PROFILE (the cargo profile: `release`, or `release-lto`),
#              KEEP (unset; a directory to keep the callgrind files in, for callgrind_annotate,
#              with each run's call count beside it),
#              DUMP_INSTR (unset; 1 also counts per instruction, for hot_lines.py),
#              CACHE_SIM (unset; 1 also simulates the caches: a 32 KiB instruction cache, a
#              32 KiB data cache and a 512 KiB last level, each 8-way with 64-byte lines, the
#              sizes of one core of the benchmark machine, and reports misses per call).
# Prints one line per run, then per configuration the instructions per call of each arm and
# their difference and ratio; with CACHE_SIM=1 also the instruction-cache misses and the
# last-level misses (instruction and data) per call of each arm, and their ratios.
#
# Why the caches: on a server this busy, much of a call's time goes to fetching code and
# data that the rest of the call evicted, so work that touches more distinct code or memory
# costs more than its instruction count says. The simulated misses show that share; they
# depend on where the linker placed the code, so two builds are compared by instructions,
# and misses describe one build.
set -euo pipefail

transports=${TRANSPORTS:-plaintext mtls}
encodings=${ENCODINGS:-identity}
rate=${RATE:-400}
concurrency=${CONCURRENCY:-1}
connections=${CONNECTIONS:-1}
duration=${DURATION:-5}
method=${METHOD:-describe-namespace}
port=${PORT:-17234}
cache_sim=()
if [ "${CACHE_SIM:-}" = 1 ]; then
    cache_sim=(--cache-sim=yes --I1=32768,8,64 --D1=32768,8,64 --LL=524288,8,64)
fi
if [ "${DUMP_INSTR:-}" = 1 ]; then
    cache_sim+=(--dump-instr=yes)
fi

if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
    echo "instructions.sh needs valgrind (callgrind and callgrind_control)" >&2
    exit 1
fi

# shellcheck source=examples/bench/common.sh
. "$(dirname "$0")/common.sh"
exe=${FRONTEND:-$bin/frontend}
if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP"; fi

load() { # transport encoding duration
    local args=()
    if [ "$1" = mtls ]; then
        args+=(--server-name localhost --ca "$work/ca.pem" --cert "$work/client.pem" --key "$work/client.key")
    fi
    if [ "$2" = gzip ]; then args+=(--gzip); fi
    LOADGEN_TOKEN="$(cat "$work/token")" "$bin/loadgen" --address "127.0.0.1:$port" "${args[@]}" \
        --method "$method" --concurrency "$concurrency" --connections "$connections" --rate "$rate" \
        --duration "$3" --warmup 0 --json
}

run() { # transport encoding variant -> prints "calls instructions i1-misses ll-misses"
    local args out=$work/callgrind.out
    read -r -a args <<< "$(server_args "$1" "$3")"
    rm -f "$out"
    RUST_LOG=warn valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
        "${cache_sim[@]}" \
        "$exe" --listen "127.0.0.1:$port" "${args[@]}" > "$work/server.out" 2> "$work/server.err" &
    server_pid=$!
    for _ in $(seq 1 600); do
        if grep -q "listening on" "$work/server.out" 2>/dev/null; then break; fi
        if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    if ! grep -q "listening on" "$work/server.out" 2>/dev/null; then
        echo "frontend did not start under valgrind:" >&2
        cat "$work/server.err" >&2
        exit 1
    fi
    load "$1" "$2" 2 > /dev/null # warm-up: connection, caches, first allocations
    callgrind_control -i on "$server_pid" > /dev/null
    local line
    line=$(load "$1" "$2" "$duration")
    callgrind_control -i off "$server_pid" > /dev/null
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    local calls
    calls=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert set(d["codes"]) == {"Ok"}, d["codes"]; print(d["calls"])' "$line")
    if [ -n "${KEEP:-}" ]; then
        cp "$out" "$KEEP/callgrind.$1.$2.$3"
        echo "$calls" > "$KEEP/calls.$1.$2.$3"
    fi
    # Instructions, then instruction-cache misses and last-level misses ("-" unsimulated).
    echo "$calls $(python3 - "$out" <<'PY'
import sys
events = totals = None
for line in open(sys.argv[1]):
    if line.startswith("events:"):
        events = line.split()[1:]
    elif line.startswith("totals:"):
        totals = dict(zip(events, map(int, line.split()[1:])))
if "I1mr" in totals:
    print(totals["Ir"], totals["I1mr"], totals["ILmr"] + totals["DLmr"] + totals["DLmw"])
else:
    print(totals["Ir"], "-", "-")
PY
)"
}

results=$work/results
: > "$results"
for transport in $transports; do
    for encoding in $encodings; do
        for variant in layer none; do
            read -r calls instructions i1 ll < <(run "$transport" "$encoding" "$variant")
            echo "$transport $encoding $variant: $calls calls, $instructions instructions"
            echo "$transport/$encoding $variant $calls $instructions $i1 $ll" >> "$results"
        done
    done
done

python3 - "$results" <<'PY'
import sys
runs = {}
for line in open(sys.argv[1]):
    config, variant, calls, *counts = line.split()
    runs.setdefault(config, {})[variant] = [
        None if c == "-" else int(c) / int(calls) for c in counts
    ]
print()
print("| configuration | instructions per call, layer / none | added | ratio |")
print("|---|---|---|---|")
for config, r in runs.items():
    layer, none = r["layer"][0], r["none"][0]
    print(f"| {config} | {layer:.0f} / {none:.0f} | {layer - none:.0f} | {layer / none:.3f} |")
if all(r["layer"][1] is not None for r in runs.values()):
    print()
    print("| configuration | instruction-cache misses per call, layer / none | ratio "
          "| last-level misses per call, layer / none | ratio |")
    print("|---|---|---|---|---|")
    for config, r in runs.items():
        (_, li, ll), (_, ni, nl) = r["layer"], r["none"]
        print(f"| {config} | {li:.0f} / {ni:.0f} | {li / ni:.3f} | {ll:.1f} / {nl:.1f} "
              f"| {ll / nl:.3f} |")
PY
