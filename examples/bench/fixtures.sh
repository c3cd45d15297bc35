#!/usr/bin/env bash
# Makes the fixtures of an end-to-end benchmark in directory $1, with openssl and python3 only:
#   ca.pem                       a CA (P-256), valid one day
#   server.pem / server.key      server certificate for localhost and 127.0.0.1
#   client.pem / client.key      client certificate (CN bench-client) for mutual TLS
#   jwks.json                    the public half of an RSA-2048 signing key, kid "bench"
#   token                        an RS256 JWT signed with it: sub bench-user,
#                                permissions ["default:read"], valid one hour
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -keyout ca.key -out ca.pem -subj /CN=bench-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
leaf() { # name cn extended-key-usage [subjectAltName]
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature"
        echo "extendedKeyUsage=$3"
        if [ -n "${4:-}" ]; then echo "subjectAltName=$4"; fi
    } > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
leaf server localhost serverAuth "DNS:localhost,IP:127.0.0.1"
leaf client bench-client clientAuth "DNS:bench-client"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out jwt.key 2>/dev/null
modulus=$(openssl rsa -in jwt.key -noout -modulus 2>/dev/null | cut -d= -f2)
python3 - "$modulus" > jwks.json <<'PY'
import base64, json, sys
n = bytes.fromhex(sys.argv[1])
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
print(json.dumps({"keys": [{"kty": "RSA", "kid": "bench", "alg": "RS256", "use": "sig",
                            "n": b(n), "e": b((65537).to_bytes(3, "big"))}]}))
PY
now=$(date +%s)
header=$(printf '{"alg":"RS256","kid":"bench","typ":"JWT"}' | b64url)
payload=$(printf '{"sub":"bench-user","permissions":["default:read"],"iat":%d,"exp":%d}' \
    "$now" "$((now + 3600))" | b64url)
signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign jwt.key | b64url)
printf '%s.%s.%s' "$header" "$payload" "$signature" > token
rm -f ./*.csr ./*.ext ./*.srl
