"""Google-style OIDC tokens signed by a test key, verified against a locally served certificate."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

AUDIENCE = "https://aikey.test/hooks"
SCHEDULER_ACCOUNT = "scheduler@aikey-test.iam.gserviceaccount.com"
PUSH_ACCOUNT = "pubsub-push@aikey-test.iam.gserviceaccount.com"


class SigningKey:
    """An RSA key, its PEM private key and a self-signed certificate, under a key id."""

    def __init__(self, kid: str):
        self.kid = kid
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, kid)])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256())
        )
        self.cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()

    def sign(self, **overrides) -> str:
        """A token as Google issues one for a service account, with claims overridden."""
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": AUDIENCE,
            "email": PUSH_ACCOUNT,
            "email_verified": True,
            "sub": "1234567890",
            "iat": now,
            "exp": now + 3600,
            **overrides,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        signer = crypt.RSASigner.from_string(self.private_pem, key_id=self.kid)
        return jwt.encode(signer, claims).decode()


class CertServer:
    """Serves {kid: pem} like https://www.googleapis.com/oauth2/v1/certs, counting fetches."""

    def __init__(self, *keys: SigningKey):
        self.certs = {key.kid: key.cert_pem for key in keys}
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.fetches += 1
                body = json.dumps(outer.certs).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "public, max-age=600")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/oauth2/v1/certs"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()


def hook_settings(certs_url: str) -> dict:
    """App settings that trust tokens from the test key for both hook accounts."""
    return {
        "OIDC_CERTS_URL": certs_url,
        "HOOK_AUDIENCE": AUDIENCE,
        "HOOK_SERVICE_ACCOUNTS": (SCHEDULER_ACCOUNT, PUSH_ACCOUNT),
    }


def bearer(token: str) -> dict:
    """The Authorization header Google sends."""
    return {"Authorization": f"Bearer {token}"}
