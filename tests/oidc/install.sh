#!/usr/bin/env bash
# Installs the third-party OpenID provider the tests run (npm `oauth2-mock-server`, pinned in
# package.json beside this script) under target/oidc-mock, once; later runs reuse it. Copies
# the provider script there too, so node resolves the package from it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="$root/target/oidc-mock"
mkdir -p "$dir"
if ! cmp -s "$here/package.json" "$dir/package.json" \
    || [ ! -f "$dir/node_modules/oauth2-mock-server/package.json" ]; then
    cp "$here/package.json" "$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund --silent >&2)
fi
cp "$here/provider.mjs" "$dir/provider.mjs"
echo "$dir/provider.mjs"
