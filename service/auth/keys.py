"""Ingrain's own signing key: ES256 on P-256, signs the tokens of POST /v1/auth/token.

The private key is read from `INGRAIN_SIGNING_KEY_PATH` (PEM) or, when that is unset, generated once
into the data directory and reused on every later start, so tokens survive a restart. Test settings
get a fresh key per application, held in memory only. The public half is published as a JWKS at
`/.well-known/jwks.json`, its `kid` being the RFC 7638 thumbprint of the key.
"""

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from service.settings import Settings

SIGNING_ALGORITHM = "ES256"
GENERATED_KEY_NAME = "signing-key.pem"


def jwk_thumbprint(public_jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 over the required members, sorted, without whitespace."""
    required = {name: public_jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class SigningKey:
    private_key: ec.EllipticCurvePrivateKey
    kid: str

    @classmethod
    def from_private_key(cls, private_key: ec.EllipticCurvePrivateKey) -> "SigningKey":
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise ValueError(f"the signing key must be on P-256 for ES256, not {private_key.curve.name}")
        jwk = ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
        return cls(private_key=private_key, kid=jwk_thumbprint(jwk))

    @classmethod
    def generate(cls) -> "SigningKey":
        return cls.from_private_key(ec.generate_private_key(ec.SECP256R1()))

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = dict(ECAlgorithm.to_jwk(self.public_key, as_dict=True))
        jwk.update({"kid": self.kid, "alg": SIGNING_ALGORITHM, "use": "sig"})
        return jwk

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}

    def sign(self, claims: dict[str, Any], *, typ: str = "at+jwt") -> str:
        return jwt.encode(
            claims,
            self.private_key,
            algorithm=SIGNING_ALGORITHM,
            headers={"kid": self.kid, "typ": typ},
        )

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _read_pem(path: Path) -> SigningKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} does not hold an EC private key; ES256 needs one on P-256")
    return SigningKey.from_private_key(key)


def _generate_once(path: Path) -> SigningKey:
    """Create the key file without ever exposing a half-written one, even with two processes racing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = SigningKey.generate()
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".signing-key-")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, fresh.private_pem())
        os.close(fd)
        try:
            os.link(tmp_name, path)  # fails if another process got there first
        except FileExistsError:
            return _read_pem(path)
    finally:
        os.unlink(tmp_name)
    return fresh


def load_signing_key(settings: Settings) -> SigningKey:
    if settings.signing_key_path is not None:
        return _read_pem(settings.signing_key_path)
    if settings.environment == "test":
        return SigningKey.generate()
    path = settings.data_dir / GENERATED_KEY_NAME
    if path.exists():
        return _read_pem(path)
    return _generate_once(path)
