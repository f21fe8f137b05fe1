"""Forged, stale and malformed tokens are all refused with 401, and never reach a route."""

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI

from service.auth.keys import SigningKey
from service.settings import Settings
from tests.auth.support import claims_for, forge_hs256, public_pem, tamper_payload, unsigned_token

PROTECTED = "/v1/access-log"  # any route would do; this one needs provider_admin
ORG = uuid.uuid4()


def _claims(settings: Settings, **overrides: Any) -> dict[str, Any]:
    claims = claims_for(settings, roles=["provider_admin"], org=ORG)
    claims.update(overrides)
    return claims


def _hs256(settings: Settings, claims: dict[str, Any], **kw: Any) -> str:
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256", **kw)


def _without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k != name}


Attack = Callable[[Settings, SigningKey], str]
NOW = int(time.time())

ATTACKS: dict[str, Attack] = {
    "alg none": lambda s, k: unsigned_token(_claims(s)),
    "alg none naming the service key": lambda s, k: unsigned_token(_claims(s), {"kid": k.kid}),
    "alg NONE (case)": lambda s, k: unsigned_token(_claims(s), {"alg": "NONE"}),
    "HS256 signed with the ES256 public key": lambda s, k: forge_hs256(_claims(s), public_pem(k.private_key)),
    "HS256 signed with the ES256 public key, naming its kid": lambda s, k: forge_hs256(
        _claims(s), public_pem(k.private_key), {"kid": k.kid}
    ),
    "HS256 signed with the public JWK as secret": lambda s, k: forge_hs256(
        _claims(s), str(k.public_jwk()).encode(), {"kid": k.kid}
    ),
    "HS512 with the shared secret": lambda s, k: jwt.encode(_claims(s), s.jwt_secret, algorithm="HS512"),
    "HS256 with another secret": lambda s, k: jwt.encode(_claims(s), "x" * 64, algorithm="HS256"),
    "ES256 by a foreign key naming the service kid": lambda s, k: jwt.encode(
        _claims(s), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": k.kid}
    ),
    "RS256 by a foreign key naming the service kid": lambda s, k: jwt.encode(
        _claims(s),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": k.kid},
    ),
    "expired": lambda s, k: _hs256(s, _claims(s, iat=NOW - 7200, exp=NOW - 3600)),
    "expired beyond the leeway": lambda s, k: _hs256(s, _claims(s, iat=NOW - 7200, exp=NOW - 120)),
    "not yet valid (nbf)": lambda s, k: _hs256(s, _claims(s, nbf=NOW + 3600)),
    "issued in the future (iat)": lambda s, k: _hs256(s, _claims(s, iat=NOW + 3600, exp=NOW + 7200)),
    "wrong aud": lambda s, k: _hs256(s, _claims(s, aud="another-api")),
    "aud as a list (own tokens carry exactly one)": lambda s, k: _hs256(
        s, _claims(s, aud=[s.jwt_audience, "x"])
    ),
    "wrong iss": lambda s, k: _hs256(s, _claims(s, iss="ingrain-evil")),
    "iss differing by a trailing space": lambda s, k: _hs256(s, _claims(s, iss=s.jwt_issuer + " ")),
    "iss a prefix of the real one": lambda s, k: _hs256(s, _claims(s, iss=s.jwt_issuer[:-1])),
    "tampered payload (roles)": lambda s, k: tamper_payload(
        _hs256(s, claims_for(s, roles=["care_worker"], org=ORG)), roles=["provider_admin"]
    ),
    "tampered payload (org)": lambda s, k: tamper_payload(_hs256(s, _claims(s)), org=str(uuid.uuid4())),
    "tampered signature": lambda s, k: _hs256(s, _claims(s))[:-4] + "AAAA",
    "signature stripped": lambda s, k: _hs256(s, _claims(s)).rsplit(".", 1)[0] + ".",
    "unknown kid": lambda s, k: _hs256(s, _claims(s), headers={"kid": "no-such-key"}),
    "kid not a string": lambda s, k: forge_hs256(_claims(s), s.jwt_secret.encode(), {"kid": 7}),
    "missing exp": lambda s, k: _hs256(s, _without(_claims(s), "exp")),
    "missing iat": lambda s, k: _hs256(s, _without(_claims(s), "iat")),
    "missing iss": lambda s, k: _hs256(s, _without(_claims(s), "iss")),
    "missing aud": lambda s, k: _hs256(s, _without(_claims(s), "aud")),
    "missing sub": lambda s, k: _hs256(s, _without(_claims(s), "sub")),
    "missing roles": lambda s, k: _hs256(s, _without(_claims(s), "roles")),
    "missing org (non-platform role)": lambda s, k: _hs256(s, _without(_claims(s), "org")),
    "empty sub": lambda s, k: _hs256(s, _claims(s, sub="")),
    "empty roles": lambda s, k: _hs256(s, _claims(s, roles=[])),
    "unknown role": lambda s, k: _hs256(s, _claims(s, roles=["superuser"])),
    "known and unknown role": lambda s, k: _hs256(s, _claims(s, roles=["provider_admin", "root"])),
    "roles not a list": lambda s, k: _hs256(s, _claims(s, roles="provider_admin")),
    "org not an id": lambda s, k: _hs256(s, _claims(s, org="acme")),
    "services not ids": lambda s, k: _hs256(s, _claims(s, services=["all"])),
    "exp not a number": lambda s, k: _hs256(s, _claims(s, exp="tomorrow")),
    "service-key token for a client that does not exist": lambda s, k: k.sign(
        claims_for(s, roles=["integration"], org=ORG, client_id="ic_missing", source_system="x")
    ),
    "not a JWT": lambda s, k: "not-a-token",
    "two segments": lambda s, k: ".".join(_hs256(s, _claims(s)).split(".")[:2]),
    "garbage header": lambda s, k: "!!!." + _hs256(s, _claims(s)).split(".", 1)[1],
    "oversized": lambda s, k: _hs256(s, _claims(s, padding="x" * 10_000)),
}


@pytest.mark.parametrize("name", list(ATTACKS))
async def test_attack_is_refused_with_401(
    name: str, client: httpx.AsyncClient, settings: Settings, app: FastAPI
) -> None:
    token = ATTACKS[name](settings, app.state.token_verifier.signing_key)
    response = await client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, (name, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_the_same_claims_properly_signed_are_accepted(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """The control: without the attack, the request goes through."""
    response = await client.get(
        PROTECTED, headers={"Authorization": f"Bearer {_hs256(settings, _claims(settings))}"}
    )
    assert response.status_code == 200, response.text


async def test_small_clock_skew_is_tolerated(client: httpx.AsyncClient, settings: Settings) -> None:
    now = int(time.time())
    token = _hs256(settings, _claims(settings, iat=now - 600, exp=now - 10, nbf=now + 10))
    response = await client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Basic dXNlcjpwYXNz", "Token abc", "bearer"],
    ids=["absent", "empty bearer", "basic", "other scheme", "scheme only"],
)
async def test_missing_or_other_credentials_are_401(client: httpx.AsyncClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = await client.get(PROTECTED, headers=headers)
    assert response.status_code == 401


def test_short_shared_secret_is_refused_by_settings() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Settings(environment="test", jwt_secret="too-short-for-hs256")


def test_leeway_is_kept_small() -> None:
    with pytest.raises(ValueError):
        Settings(environment="test", jwt_leeway_seconds=3600)
