"""Building blocks for token tests: claim sets, forged tokens, a real JWKS server on 127.0.0.1, and
settings and an app trusting identity providers."""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from service.main import create_app
from service.settings import Settings


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def claims_for(
    settings: Settings,
    *,
    roles: list[str],
    org: uuid.UUID | None,
    sub: str = "attack-test",
    issuer: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "roles": roles,
        "iss": issuer or settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
    }
    if org is not None:
        claims["org"] = str(org)
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def unsigned_token(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    """`alg: none`: header and payload, empty signature."""
    return f"{b64url_json({'alg': 'none', 'typ': 'JWT', **(header or {})})}.{b64url_json(claims)}."


def forge_hs256(claims: dict[str, Any], key: bytes, header: dict[str, Any] | None = None) -> str:
    """HS256 with any bytes as the secret (PyJWT itself refuses public keys as HMAC secrets)."""
    signing_input = f"{b64url_json({'alg': 'HS256', 'typ': 'JWT', **(header or {})})}.{b64url_json(claims)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def tamper_payload(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return f"{header}.{b64url_json(claims)}.{signature}"


@dataclass
class IdentityProviderKey:
    """A key of a simulated identity provider, with its JWK and a way to sign tokens."""

    kid: str
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    algorithm: str

    @classmethod
    def rsa(cls, kid: str, bits: int = 2048) -> "IdentityProviderKey":
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=bits), "RS256")

    @classmethod
    def ec(cls, kid: str) -> "IdentityProviderKey":
        return cls(kid, ec.generate_private_key(ec.SECP256R1()), "ES256")

    def jwk(self) -> dict[str, Any]:
        if isinstance(self.private_key, rsa.RSAPrivateKey):
            jwk = dict(RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True))
        else:
            jwk = dict(ECAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True))
        jwk.update({"kid": self.kid, "use": "sig", "alg": self.algorithm})
        return jwk

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        headers = {"kid": kid if kid is not None else self.kid}
        return jwt.encode(claims, self.private_key, algorithm=self.algorithm, headers=headers)


@dataclass
class JwksServer:
    """A real HTTP server publishing a JWK Set; `keys` may change while it runs (key rotation)."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    url: str = ""


@contextmanager
def serve_jwks(keys: list[dict[str, Any]]) -> Iterator[JwksServer]:
    state = JwksServer(keys=list(keys))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/jwks.json":
                self.send_error(404)
                return
            state.requests += 1
            body = json.dumps({"keys": state.keys}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    # A short poll: shutdown() waits for the loop to notice, half a second at the default.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class TrustedIssuer:
    """One identity provider as configured: its issuer, JWKS URL and binding (INGRAIN_JWKS_TRUST)."""

    issuer: str
    jwks_url: str
    organisations: list[uuid.UUID]
    roles: list[str]


def settings_trusting(*issuers: TrustedIssuer, **overrides: Any) -> Settings:
    return Settings(
        environment="test",
        demo_data=False,
        jwks_urls=[i.jwks_url for i in issuers],
        jwks_issuers=[i.issuer for i in issuers],
        jwks_trust={
            i.issuer: {"organisations": [str(o) for o in i.organisations], "roles": i.roles} for i in issuers
        },
        **overrides,
    )


@asynccontextmanager
async def running_app(
    settings: Settings, database_url: str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings, database_url=database_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingrain.test") as client:
            yield app, client
