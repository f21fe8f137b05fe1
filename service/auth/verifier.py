"""Verifies bearer tokens against every configured signer.

The token's `iss` picks the trusted issuer; only then does the header's `kid` pick one of that
issuer's keys, and each key verifies with its own single algorithm. The header's `alg` never
chooses a key, so a token cannot talk a verifier into treating a public key as an HMAC secret:

| issuer                | `kid`                         | key                          | algorithm |
|-----------------------|-------------------------------|------------------------------|-----------|
| INGRAIN_JWT_ISSUER    | absent                        | INGRAIN_JWT_SECRET           | HS256     |
| INGRAIN_JWT_ISSUER    | the service key's thumbprint  | Ingrain's own P-256 key      | ES256     |
| INGRAIN_JWKS_ISSUERS  | any key its JWKS publishes    | that RSA or P-256 key        | RS256 / ES256 |

An external issuer's token is then held to that issuer's binding (INGRAIN_JWKS_TRUST): its `org`
must be one of the issuer's organisations and its `roles` among those granted to the issuer, so an
identity provider a care provider brings cannot speak for another provider, nor for the platform.
"""

import json
import time
from dataclasses import replace
from enum import StrEnum
from typing import Any

import httpx
import jwt

from service.auth.jwks import JwksKeySet, VerificationKey
from service.auth.keys import SIGNING_ALGORITHM, SigningKey, load_signing_key
from service.auth.principal import Principal
from service.auth.tokens import HMAC_ALGORITHMS, decode_claims, principal_from_claims
from service.errors import Unauthenticated
from service.settings import IssuerTrust, Settings

# Larger than any token Ingrain or a mainstream identity provider issues; refused before parsing.
MAX_TOKEN_LENGTH = 8192
# Verified tokens kept per process, and for how long at most (never past their `exp`). Revocation of
# clients and accounts is checked in the database on every request, not here.
VERIFIED_TOKENS_KEPT = 4096
VERIFIED_TOKEN_SECONDS = 300.0


class Signer(StrEnum):
    shared_secret = "shared_secret"
    ingrain_key = "ingrain_key"
    identity_provider = "identity_provider"


class TokenVerifier:
    def __init__(
        self,
        settings: Settings,
        *,
        signing_key: SigningKey | None = None,
        http: httpx.AsyncClient | None = None,
        jwks_max_age: float = 600.0,
        jwks_refetch_interval: float = 30.0,
    ) -> None:
        self.settings = settings
        self.signing_key = signing_key or load_signing_key(settings)
        self._http = http or httpx.AsyncClient(timeout=5.0, follow_redirects=False)
        self._owns_http = http is None
        self.identity_providers: dict[str, JwksKeySet] = {
            issuer: JwksKeySet(
                url, http=self._http, max_age=jwks_max_age, refetch_interval=jwks_refetch_interval
            )
            for url, issuer in zip(settings.jwks_urls, settings.jwks_issuers, strict=True)
        }
        self.issuer_trust: dict[str, IssuerTrust] = dict(settings.jwks_trust)
        # token → (principal, until when it may be taken without verifying again)
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def verify(self, token: str) -> Principal:
        """The principal a token vouches for. A token signed with Ingrain's own secret or key and
        verified in the last minutes is not verified again (the checks cost more than the rest of a
        small request), and never past its `exp`."""
        cached = self._verified.get(token)
        if cached is not None:
            principal, until = cached
            if time.time() < until:
                return principal
            self._verified.pop(token, None)
        principal, expires_at = await self._verify(token)
        # An identity provider may withdraw a key at any time: its tokens are checked against the
        # key set as it stands (itself cached), never taken from here.
        if principal.signer != Signer.identity_provider:
            if len(self._verified) >= VERIFIED_TOKENS_KEPT:
                # Oldest first: a dict keeps insertion order.
                self._verified.pop(next(iter(self._verified)))
            self._verified[token] = (principal, min(expires_at, time.time() + VERIFIED_TOKEN_SECONDS))
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("token is too long")
        header, issuer = _unverified_header_and_issuer(token)
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise Unauthenticated("token header `kid` must be a string")

        key: Any
        if issuer == self.settings.jwt_issuer:
            if kid is None:
                signer, key, algorithms = Signer.shared_secret, self.settings.jwt_secret, HMAC_ALGORITHMS
            elif kid == self.signing_key.kid:
                signer, key, algorithms = Signer.ingrain_key, self.signing_key.public_key, [SIGNING_ALGORITHM]
            else:
                raise Unauthenticated(f"token is signed with key {kid!r}, which Ingrain does not hold")
            claims = decode_claims(self.settings, token, key=key, algorithms=algorithms, issuer=issuer)
        elif (key_set := self.identity_providers.get(issuer)) is not None:
            if kid is None:
                raise Unauthenticated("tokens of an identity provider must name their key (`kid`)")
            found: VerificationKey = await key_set.key_for(kid)
            signer = Signer.identity_provider
            # Identity providers often list several audiences; ours must be among them.
            claims = decode_claims(
                self.settings,
                token,
                key=found.key,
                algorithms=[found.algorithm],
                issuer=issuer,
                strict_aud=False,
            )
        else:
            raise Unauthenticated("token issuer is not trusted")

        principal = principal_from_claims(claims)
        if signer is Signer.identity_provider:
            _check_trust(principal, issuer, self.issuer_trust[issuer])
        # Which signer vouched matters later: only tokens from Ingrain's own key speak for a
        # registered integration client, and those are checked against the client's row.
        return replace(principal, signer=signer.value), float(claims["exp"])

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()


def _check_trust(principal: Principal, issuer: str, trust: IssuerTrust) -> None:
    organisation_id = principal.organisation_id
    if organisation_id is not None and organisation_id not in trust.organisations:
        raise Unauthenticated(f"issuer {issuer!r} may not speak for organisation {organisation_id}")
    beyond = sorted(role.value for role in principal.roles - trust.roles)
    if beyond:
        raise Unauthenticated(f"issuer {issuer!r} may not grant the role(s) {', '.join(beyond)}")


def _unverified_header_and_issuer(token: str) -> tuple[dict[str, Any], str]:
    """Read only what routing needs; nothing here is trusted until the signature is checked."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raise Unauthenticated("token is not a well-formed JWT") from None
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise Unauthenticated("token claim `iss` is missing")
    return header, issuer
