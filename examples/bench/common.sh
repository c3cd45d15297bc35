# Sourced by the benchmark scripts that run the `frontend` against `loadgen`: goes to the
# repository root, builds both binaries with the cargo profile PROFILE (default `release`;
# `release-lto` links the whole program at once, see the workspace manifest) unless
# SKIP_BUILD is set, makes a work directory holding `fixtures.sh`'s certificates, JWK Set and
# token, and on exit stops the server whose pid is in `server_pid` and removes the directory.
# Defines: root, bin, work, server_pid, and server_args.

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
profile=${PROFILE:-release}
if [ -z "${SKIP_BUILD:-}" ]; then
    cargo build --profile "$profile" -p tonic-authz-examples --bin frontend --bin loadgen
fi
bin=$root/target/$profile

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
"$root/examples/bench/fixtures.sh" "$work"

# The frontend's flags for a transport (plaintext, mtls) and an arm: `layer` and `before`
# verify the fixtures' token against their JWK Set; `control` is the bare server spending
# CONTROL_NS of CPU per call; anything else is the bare server.
server_args() { # transport variant
    local args=()
    if [ "$1" = mtls ]; then
        args+=(--tls-cert "$work/server.pem" --tls-key "$work/server.key"
            --tls-client-ca "$work/ca.pem" --require-client-auth)
    fi
    case "$2" in
        layer | before) args+=(--jwks-uri "file://$work/jwks.json") ;;
        control) args+=(--no-authz --bench-busy-ns "$CONTROL_NS") ;;
        *) args+=(--no-authz) ;;
    esac
    echo "${args[@]}"
}
