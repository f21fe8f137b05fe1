"""Signing keys of an external identity provider, fetched from its JWKS URL and cached by `kid`.

A token naming a `kid` the cache does not hold triggers a refetch (the provider may have rotated
its keys), but at most once per `refetch_interval`: a stream of tokens with made-up `kid`s cannot
turn Ingrain into a client hammering the provider. Only RS256 (RSA ≥ 2048 bits) and ES256 (P-256)
keys are kept; symmetric keys, other curves and encryption keys in the set are ignored, so a key
from this set can never be used as an HMAC secret.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from service.errors import Unauthenticated, Unavailable

log = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")
MIN_RSA_BITS = 2048
MAX_JWKS_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """One public key and the single algorithm it may verify."""

    kid: str
    key: Any
    algorithm: str


def usable_key(jwk: dict[str, Any]) -> VerificationKey | None:
    """The key as Ingrain will use it, or None when the set member is not an acceptable signing key."""
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        return None
    if jwk.get("use") not in (None, "sig"):
        return None
    kty, declared = jwk.get("kty"), jwk.get("alg")
    if kty == "RSA" and declared in (None, "RS256"):
        algorithm = "RS256"
    elif kty == "EC" and jwk.get("crv") == "P-256" and declared in (None, "ES256"):
        algorithm = "ES256"
    else:
        return None
    try:
        key = jwt.PyJWK.from_dict(jwk, algorithm=algorithm).key
    except jwt.PyJWTError:
        return None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        log.warning("ignoring RSA key %s of %d bits (minimum %d)", kid, key.key_size, MIN_RSA_BITS)
        return None
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return None
    return VerificationKey(kid=kid, key=key, algorithm=algorithm)


class JwksKeySet:
    """The cached keys of one identity provider (one issuer, one JWKS URL)."""

    def __init__(
        self,
        url: str,
        *,
        http: httpx.AsyncClient,
        max_age: float = 600.0,
        refetch_interval: float = 30.0,
    ) -> None:
        self.url = url
        self._http = http
        self.max_age = max_age
        self.refetch_interval = refetch_interval
        self._keys: dict[str, VerificationKey] = {}
        self._fetched_at: float | None = None  # monotonic time of the last attempt
        self._lock = asyncio.Lock()
        self._last_fetch_failed = False
        self.fetch_count = 0

    async def key_for(self, kid: str) -> VerificationKey:
        if self._is_stale() or kid not in self._keys:
            await self._refresh(kid)
        found = self._keys.get(kid)
        if found is None:
            if self._last_fetch_failed and not self._keys:
                # Without the provider's keys no token of it can be judged: unavailable, not invalid.
                raise Unavailable("the identity provider's signing keys cannot be fetched")
            raise Unauthenticated(f"token is signed with key {kid!r}, which its issuer does not publish")
        return found

    def _is_stale(self) -> bool:
        return self._fetched_at is None or time.monotonic() - self._fetched_at > self.max_age

    def _may_refetch(self) -> bool:
        return self._fetched_at is None or time.monotonic() - self._fetched_at >= self.refetch_interval

    async def _refresh(self, wanted_kid: str) -> None:
        async with self._lock:
            # Another request may have refreshed while this one waited for the lock.
            if wanted_kid in self._keys and not self._is_stale():
                return
            if not self._may_refetch():
                return
            self._fetched_at = time.monotonic()
            self.fetch_count += 1
            try:
                keys = await self._fetch()
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("fetching JWKS %s failed: %s", self.url, exc)
                self._last_fetch_failed = True
                return  # keep serving the keys already trusted, if any
            self._last_fetch_failed = False
            self._keys = keys

    async def _fetch(self) -> dict[str, VerificationKey]:
        response = await self._http.get(self.url, headers={"Accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > MAX_JWKS_BYTES:
            raise ValueError(f"JWKS document larger than {MAX_JWKS_BYTES} bytes")
        document = response.json()
        members = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(members, list):
            raise ValueError("JWKS document has no `keys` list")
        keys: dict[str, VerificationKey] = {}
        for member in members:
            if isinstance(member, dict) and (key := usable_key(member)) is not None:
                keys[key.kid] = key
        return keys
