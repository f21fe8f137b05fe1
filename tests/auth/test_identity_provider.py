"""Tokens from an external identity provider, verified against its JWKS served by a real HTTP server."""

import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from service.auth.verifier import Signer
from service.settings import Settings
from tests.auth.support import (
    IdentityProviderKey,
    JwksServer,
    TrustedIssuer,
    claims_for,
    forge_hs256,
    public_pem,
    running_app,
    serve_jwks,
    settings_trusting,
    unsigned_token,
)

ISSUER = "https://login.example-idp.test/tenant/"
PROTECTED = "/v1/access-log"
ORG = uuid.uuid4()


@pytest.fixture
def rsa_key() -> IdentityProviderKey:
    return IdentityProviderKey.rsa("rsa-1")


@pytest.fixture
def ec_key() -> IdentityProviderKey:
    return IdentityProviderKey.ec("ec-1")


@pytest.fixture
def jwks(rsa_key: IdentityProviderKey, ec_key: IdentityProviderKey) -> Iterator[JwksServer]:
    with serve_jwks([rsa_key.jwk(), ec_key.jwk()]) as server:
        yield server


def trusting(url: str) -> Settings:
    return settings_trusting(TrustedIssuer(ISSUER, url, [ORG], ["provider_admin"]))


@pytest.fixture
async def idp_app(jwks: JwksServer, database_url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running_app(trusting(jwks.url), database_url) as pair:
        yield pair


def idp_claims(app: FastAPI, **overrides: Any) -> dict[str, Any]:
    claims = claims_for(app.state.settings, roles=["provider_admin"], org=ORG, issuer=ISSUER, sub="idp|alice")
    claims.update(overrides)
    return claims


async def call(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})


def key_set(app: FastAPI) -> Any:
    return app.state.token_verifier.identity_providers[ISSUER]


async def test_rs256_and_es256_tokens_are_accepted_and_keys_cached(
    idp_app: tuple[FastAPI, httpx.AsyncClient],
    jwks: JwksServer,
    rsa_key: IdentityProviderKey,
    ec_key: IdentityProviderKey,
) -> None:
    app, client = idp_app
    for key in (rsa_key, ec_key, rsa_key, ec_key):
        response = await call(client, key.sign(idp_claims(app)))
        assert response.status_code == 200, response.text
    assert jwks.requests == 1  # fetched once, then served from the cache


async def test_verified_principal_comes_from_the_identity_provider(
    idp_app: tuple[FastAPI, httpx.AsyncClient], rsa_key: IdentityProviderKey
) -> None:
    app, _ = idp_app
    principal = await app.state.token_verifier.verify(rsa_key.sign(idp_claims(app, services=[str(ORG)])))
    assert principal.sub == "idp|alice"
    assert principal.issuer == ISSUER
    assert principal.signer == Signer.identity_provider
    assert principal.service_ids == frozenset({ORG})


async def test_audience_list_containing_ours_is_accepted(
    idp_app: tuple[FastAPI, httpx.AsyncClient], rsa_key: IdentityProviderKey
) -> None:
    app, client = idp_app
    token = rsa_key.sign(idp_claims(app, aud=["https://graph.example.test", app.state.settings.jwt_audience]))
    assert (await call(client, token)).status_code == 200


async def test_unknown_kid_refetches_once_then_is_rate_limited(
    idp_app: tuple[FastAPI, httpx.AsyncClient], jwks: JwksServer, rsa_key: IdentityProviderKey
) -> None:
    app, client = idp_app
    assert (await call(client, rsa_key.sign(idp_claims(app)))).status_code == 200
    assert jwks.requests == 1
    key_set(app)._fetched_at -= key_set(app).refetch_interval + 1  # as if the interval had passed

    unknown = IdentityProviderKey.rsa("not-published")
    response = await call(client, unknown.sign(idp_claims(app)))
    assert response.status_code == 401
    assert "not-published" in response.json()["detail"]
    assert jwks.requests == 2  # one refetch for the unknown kid

    for attempt in range(5):
        made_up = IdentityProviderKey.rsa(f"made-up-{attempt}")
        assert (await call(client, made_up.sign(idp_claims(app)))).status_code == 401
    assert jwks.requests == 2  # no further fetches within the interval


async def test_rotated_key_is_picked_up_on_first_use(
    idp_app: tuple[FastAPI, httpx.AsyncClient], jwks: JwksServer, rsa_key: IdentityProviderKey
) -> None:
    app, client = idp_app
    assert (await call(client, rsa_key.sign(idp_claims(app)))).status_code == 200
    rotated = IdentityProviderKey.rsa("rsa-2")
    jwks.keys.append(rotated.jwk())
    key_set(app)._fetched_at -= key_set(app).refetch_interval + 1
    assert (await call(client, rotated.sign(idp_claims(app)))).status_code == 200
    assert jwks.requests == 2


async def test_cache_expires_after_max_age(
    idp_app: tuple[FastAPI, httpx.AsyncClient], jwks: JwksServer, rsa_key: IdentityProviderKey
) -> None:
    app, client = idp_app
    assert (await call(client, rsa_key.sign(idp_claims(app)))).status_code == 200
    jwks.keys = [k for k in jwks.keys if k["kid"] != rsa_key.kid]  # the provider withdrew the key
    key_set(app)._fetched_at -= key_set(app).max_age + 1
    assert (await call(client, rsa_key.sign(idp_claims(app)))).status_code == 401
    assert jwks.requests == 2


@pytest.mark.parametrize(
    "attack",
    [
        "HS256 signed with the RS256 public key",
        "HS256 signed with the RS256 public key, no kid",
        "HS256 signed with the ES256 public key",
        "alg none",
        "RS384 by the real key",
        "signed by an unrelated key under a published kid",
        "expired",
        "not yet valid",
        "wrong aud",
        "issuer of the shared secret, signed by the provider",
        "provider token naming no kid",
        "unknown role",
        "missing sub",
        "missing exp",
    ],
)
async def test_identity_provider_token_attacks_are_401(
    attack: str,
    idp_app: tuple[FastAPI, httpx.AsyncClient],
    rsa_key: IdentityProviderKey,
    ec_key: IdentityProviderKey,
) -> None:
    app, client = idp_app
    now = int(time.time())
    claims = idp_claims(app)
    tokens = {
        "HS256 signed with the RS256 public key": lambda: forge_hs256(
            claims, public_pem(rsa_key.private_key), {"kid": rsa_key.kid}
        ),
        "HS256 signed with the RS256 public key, no kid": lambda: forge_hs256(
            claims, public_pem(rsa_key.private_key)
        ),
        "HS256 signed with the ES256 public key": lambda: forge_hs256(
            claims, public_pem(ec_key.private_key), {"kid": ec_key.kid}
        ),
        "alg none": lambda: unsigned_token(claims, {"kid": rsa_key.kid}),
        "RS384 by the real key": lambda: jwt.encode(
            claims, rsa_key.private_key, algorithm="RS384", headers={"kid": rsa_key.kid}
        ),
        "signed by an unrelated key under a published kid": lambda: IdentityProviderKey.rsa(rsa_key.kid).sign(
            claims
        ),
        "expired": lambda: rsa_key.sign(idp_claims(app, iat=now - 7200, exp=now - 3600)),
        "not yet valid": lambda: rsa_key.sign(idp_claims(app, nbf=now + 3600)),
        "wrong aud": lambda: rsa_key.sign(idp_claims(app, aud="someone-else")),
        "issuer of the shared secret, signed by the provider": lambda: rsa_key.sign(
            idp_claims(app, iss=app.state.settings.jwt_issuer)
        ),
        "provider token naming no kid": lambda: jwt.encode(claims, rsa_key.private_key, algorithm="RS256"),
        "unknown role": lambda: rsa_key.sign(idp_claims(app, roles=["owner"])),
        "missing sub": lambda: rsa_key.sign({k: v for k, v in claims.items() if k != "sub"}),
        "missing exp": lambda: rsa_key.sign({k: v for k, v in claims.items() if k != "exp"}),
    }
    response = await call(client, tokens[attack]())
    assert response.status_code == 401, response.text


async def test_unusable_keys_in_the_set_are_ignored(database_url: str) -> None:
    weak = IdentityProviderKey.rsa("weak", bits=1024)
    symmetric_secret = b"s" * 48
    oct_jwk = {"kty": "oct", "kid": "oct-1", "k": jwt.utils.base64url_encode(symmetric_secret).decode()}
    p384 = {"kty": "EC", "crv": "P-384", "kid": "p384", "x": "AA", "y": "AA"}
    with serve_jwks([weak.jwk(), oct_jwk, p384]) as server:
        async with running_app(trusting(server.url), database_url) as (app, client):
            assert (await call(client, weak.sign(idp_claims(app)))).status_code == 401
            forged = forge_hs256(idp_claims(app), symmetric_secret, {"kid": "oct-1"})
            assert (await call(client, forged)).status_code == 401
            assert key_set(app)._keys == {}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_identity_provider_is_503_not_a_pass(database_url: str) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/jwks.json"
    async with running_app(trusting(url), database_url) as (app, client):
        token = IdentityProviderKey.rsa("k").sign(idp_claims(app))
        assert (await call(client, token)).status_code == 503
        assert (await call(client, token)).status_code == 503  # within the refetch interval too


@pytest.mark.parametrize(
    ("urls", "issuers"),
    [
        (["https://idp.test/jwks"], []),
        (["http://idp.example.com/jwks"], ["https://idp.example.com/"]),
        (["https://a.test/jwks", "https://b.test/jwks"], ["https://same/", "https://same/"]),
        (["https://a.test/jwks"], ["ingrain"]),
    ],
    ids=["unpaired", "plain http off localhost", "duplicate issuer", "issuer of the shared secret"],
)
def test_identity_provider_settings_are_checked(urls: list[str], issuers: list[str]) -> None:
    trust = {issuer: {"organisations": [str(ORG)], "roles": ["care_worker"]} for issuer in issuers}
    with pytest.raises(ValueError):
        Settings(environment="test", jwks_urls=urls, jwks_issuers=issuers, jwks_trust=trust)
