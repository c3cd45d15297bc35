#!/usr/bin/env bash
# Peak memory of the `frontend` under large messages: CALLS concurrent `DescribeNamespace`
# calls of SIZE bytes each, all in flight at once (`memory_load`), first without credentials
# (denied), then with a valid token (allowed: `default:read`), each against a fresh frontend
# process (plaintext on 127.0.0.1, JWTs checked against a JWK Set file, Temporal's default
# authorizer). The figure is the frontend's resident-set high-water mark, VmHWM from
# /proc/PID/status, read after the calls ended; the idle VmHWM is shown beside it.
#
# With BEFORE_REV set, the same is measured for the frontend of that commit too, built in a
# temporary git worktree with its own target directory (release, `frontend` only), which is
# deleted afterwards. FRONTEND_BEFORE=PATH uses a frontend binary built elsewhere instead.
#
# Usage: examples/bench/memory_peak.sh
# Environment: CALLS (1000), CONNECTIONS (10), SIZE bytes (4194304), PORT (17234),
#              BEFORE_REV (unset), FRONTEND_BEFORE (unset), SKIP_BUILD (unset).
# Needs 2 × CALLS × SIZE bytes of free memory or so (the "before" frontend buffers every
# message; the allowed calls are buffered by the layer and decoded by the backend).
set -euo pipefail

calls=${CALLS:-1000}
connections=${CONNECTIONS:-10}
size=${SIZE:-4194304}
port=${PORT:-17234}

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if [ -z "${SKIP_BUILD:-}" ]; then
    cargo build --release -p tonic-authz-examples --bin frontend --bin memory_load
fi
bin=$root/target/release

work=$(mktemp -d)
server_pid=
before_tree=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    if [ -n "$before_tree" ]; then
        git -C "$root" worktree remove --force "$before_tree" 2>/dev/null || true
        rm -rf "$before_tree"
    fi
    rm -rf "$work"
}
trap cleanup EXIT
"$root/examples/bench/fixtures.sh" "$work"

before_bin=${FRONTEND_BEFORE:-}
if [ -z "$before_bin" ] && [ -n "${BEFORE_REV:-}" ]; then
    before_tree=$(mktemp -d)
    git -C "$root" worktree add --detach "$before_tree" "$BEFORE_REV" >/dev/null
    (cd "$before_tree" && cargo build --release -p tonic-authz-examples --bin frontend)
    cp "$before_tree/target/release/frontend" "$work/frontend-before"
    git -C "$root" worktree remove --force "$before_tree"
    rm -rf "$before_tree"
    before_tree=
    before_bin=$work/frontend-before
fi

hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

start_server() { # binary
    RUST_LOG=warn "$1" --listen "127.0.0.1:$port" --jwks-uri "file://$work/jwks.json" \
        > "$work/server.out" 2> "$work/server.err" &
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

run() { # label binary credentials
    start_server "$2"
    local idle
    idle=$(hwm "$server_pid")
    local token=()
    if [ "$3" = auth ]; then token=(--token "$(cat "$work/token")"); fi
    local line
    line=$("$bin/memory_load" --address "127.0.0.1:$port" --calls "$calls" \
        --connections "$connections" --size "$size" "${token[@]}")
    local peak
    peak=$(hwm "$server_pid")
    stop_server
    printf '%-7s %-7s idle %8.1f MiB  peak %8.1f MiB  %s\n' "$1" "$3" \
        "$(echo "$idle / 1024" | bc -l)" "$(echo "$peak / 1024" | bc -l)" "$line"
}

echo "calls=$calls connections=$connections size=$size"
if [ -n "$before_bin" ]; then
    run before "$before_bin" unauth
    run before "$before_bin" auth
fi
run after "$bin/frontend" unauth
run after "$bin/frontend" auth
