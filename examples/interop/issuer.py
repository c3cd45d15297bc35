"""A token issuer for the interop run: an RSA key (RS256) and an EC P-256 key (ES256), their
JWK Set served by Python's http.server on 127.0.0.1, and tokens minted with PyJWT."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

JWKS_PATH = "/.well-known/jwks.json"


class Issuer:
    """Signing keys, the JWKS server and token minting."""

    def __init__(self, issuer: str, audience: str):
        self.issuer = issuer
        self.audience = audience
        self.keys = {
            "RS256": ("interop-rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
            "ES256": ("interop-ec", ec.generate_private_key(ec.SECP256R1())),
        }
        jwks = {"keys": []}
        for alg, (kid, key) in self.keys.items():
            algorithm = jwt.get_algorithm_by_name(alg)
            jwk = json.loads(algorithm.to_jwk(key.public_key()))
            jwk.update({"kid": kid, "alg": alg, "use": "sig"})
            jwks["keys"].append(jwk)
        body = json.dumps(jwks).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                if self.path != JWKS_PATH:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def jwks_uri(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{JWKS_PATH}"

    def token(self, subject: str, permissions, alg: str = "ES256", ttl: int = 3600,
              audience: str | None = None) -> str:
        kid, key = self.keys[alg]
        now = int(time.time())
        claims = {
            "sub": subject,
            "iss": self.issuer,
            "aud": audience or self.audience,
            "iat": now,
            "exp": now + ttl,
            "permissions": list(permissions),
        }
        if ttl < 0:
            claims["iat"] = now + 2 * ttl
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
