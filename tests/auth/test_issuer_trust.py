"""Each identity provider speaks only for the organisations bound to it, with the roles granted to it."""

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from service.settings import Settings
from tests.auth.support import (
    IdentityProviderKey,
    JwksServer,
    TrustedIssuer,
    claims_for,
    running_app,
    serve_jwks,
    settings_trusting,
)

# Two care providers, each bringing its own identity provider, and the platform's own.
ACME, BETA = uuid.uuid4(), uuid.uuid4()
ACME_IDP, BETA_IDP, PLATFORM_IDP = (
    "https://login.acme.test/",
    "https://idp.beta.test/",
    "https://staff.ingrain.test/",
)
PERSON_ROLES = ["care_worker", "registered_manager", "provider_admin"]
# Routes for a provider admin, a care worker and a platform admin.
ADMIN, CARE, PLATFORM = "/v1/access-log", "/v1/touchpoints", "/v1/organisations"


@pytest.fixture
def acme_key() -> IdentityProviderKey:
    return IdentityProviderKey.rsa("acme-1")


@pytest.fixture
def beta_key() -> IdentityProviderKey:
    return IdentityProviderKey.ec("beta-1")


@pytest.fixture
def platform_key() -> IdentityProviderKey:
    return IdentityProviderKey.ec("platform-1")


@pytest.fixture
def servers(
    acme_key: IdentityProviderKey, beta_key: IdentityProviderKey, platform_key: IdentityProviderKey
) -> Iterator[tuple[JwksServer, JwksServer, JwksServer]]:
    with (
        serve_jwks([acme_key.jwk()]) as a,
        serve_jwks([beta_key.jwk()]) as b,
        serve_jwks([platform_key.jwk()]) as p,
    ):
        yield a, b, p


@pytest.fixture
def settings(servers: tuple[JwksServer, JwksServer, JwksServer]) -> Settings:
    acme, beta, platform = servers
    return settings_trusting(
        TrustedIssuer(ACME_IDP, acme.url, [ACME], PERSON_ROLES),
        TrustedIssuer(BETA_IDP, beta.url, [BETA], ["care_worker"]),
        TrustedIssuer(PLATFORM_IDP, platform.url, [], ["platform_admin"]),
    )


@pytest.fixture
async def client(settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(settings, database_url) as (_, client):
        yield client


def token(key: IdentityProviderKey, issuer: str, *, roles: list[str], org: uuid.UUID | None) -> str:
    claims = claims_for(Settings(environment="test"), roles=roles, org=org, issuer=issuer, sub="idp|alice")
    return key.sign(claims)


async def answer(
    client: httpx.AsyncClient, path: str, key: IdentityProviderKey, issuer: str, **claims: Any
) -> int:
    """The status of GET `path` with a token of `issuer` signed by `key` (a 401 is problem+json)."""
    response = await client.get(path, headers={"Authorization": f"Bearer {token(key, issuer, **claims)}"})
    if response.status_code == 401:
        assert response.headers["content-type"].startswith("application/problem+json")
    return response.status_code


async def test_an_identity_provider_speaks_for_its_own_provider(
    client: httpx.AsyncClient, acme_key: IdentityProviderKey
) -> None:
    assert await answer(client, ADMIN, acme_key, ACME_IDP, roles=["provider_admin"], org=ACME) == 200


async def test_claiming_another_provider_is_401(
    client: httpx.AsyncClient, acme_key: IdentityProviderKey, beta_key: IdentityProviderKey
) -> None:
    assert await answer(client, ADMIN, acme_key, ACME_IDP, roles=["provider_admin"], org=BETA) == 401
    assert await answer(client, CARE, beta_key, BETA_IDP, roles=["care_worker"], org=ACME) == 401
    unbound = uuid.uuid4()
    assert await answer(client, ADMIN, acme_key, ACME_IDP, roles=["provider_admin"], org=unbound) == 401


@pytest.mark.parametrize("org", [None, ACME], ids=["without org", "with its own org"])
async def test_claiming_platform_admin_is_401_unless_granted(
    org: uuid.UUID | None, client: httpx.AsyncClient, acme_key: IdentityProviderKey
) -> None:
    assert await answer(client, PLATFORM, acme_key, ACME_IDP, roles=["platform_admin"], org=org) == 401
    both = ["provider_admin", "platform_admin"]
    assert await answer(client, PLATFORM, acme_key, ACME_IDP, roles=both, org=ACME) == 401


async def test_platform_admin_from_an_issuer_granted_it_explicitly(
    client: httpx.AsyncClient, platform_key: IdentityProviderKey
) -> None:
    platform_admin = ["platform_admin"]
    assert await answer(client, PLATFORM, platform_key, PLATFORM_IDP, roles=platform_admin, org=None) == 200
    # Granted platform_admin only, it speaks for no organisation and grants no other role.
    provider_admin = ["provider_admin"]
    assert await answer(client, ADMIN, platform_key, PLATFORM_IDP, roles=provider_admin, org=ACME) == 401


async def test_a_role_outside_the_issuers_grant_is_401(
    client: httpx.AsyncClient, acme_key: IdentityProviderKey, beta_key: IdentityProviderKey
) -> None:
    # Beta's identity provider is trusted for care workers only.
    assert await answer(client, CARE, beta_key, BETA_IDP, roles=["care_worker"], org=BETA) == 200
    assert await answer(client, ADMIN, beta_key, BETA_IDP, roles=["provider_admin"], org=BETA) == 401
    mixed = ["care_worker", "registered_manager"]
    assert await answer(client, CARE, beta_key, BETA_IDP, roles=mixed, org=BETA) == 401
    assert await answer(client, CARE, acme_key, ACME_IDP, roles=["integration"], org=ACME) == 401


async def test_a_provider_key_cannot_sign_for_another_issuer(
    client: httpx.AsyncClient, acme_key: IdentityProviderKey
) -> None:
    """Acme's key under Beta's or the platform's issuer name: the issuer picks the keys, so it fails."""
    assert await answer(client, CARE, acme_key, BETA_IDP, roles=["care_worker"], org=BETA) == 401
    assert await answer(client, PLATFORM, acme_key, PLATFORM_IDP, roles=["platform_admin"], org=None) == 401


def _trust(**entries: Any) -> dict[str, Any]:
    return {ACME_IDP: {"organisations": [str(ACME)], "roles": ["care_worker"], **entries}}


@pytest.mark.parametrize(
    ("trust", "message"),
    [
        ({}, "no entry for issuer"),
        ({**_trust(), "https://typo.test/": _trust()[ACME_IDP]}, "not in INGRAIN_JWKS_ISSUERS"),
        (_trust(organisations=[]), "no `organisations`"),
        (_trust(organisations=[], roles=["platform_admin", "care_worker"]), "no `organisations`"),
        (_trust(roles=[]), "at least 1"),
        (_trust(roles=["superuser"]), "roles"),
        (_trust(organisations=["acme"]), "organisations"),
        (_trust(org=[str(ACME)]), "org"),
        ({ACME_IDP: ["care_worker"]}, "IssuerTrust"),
    ],
    ids=[
        "issuer without binding",
        "binding without issuer",
        "organisation roles without organisations",
        "platform_admin mixed with organisation roles, no organisations",
        "no roles",
        "unknown role",
        "organisation not an id",
        "misspelt field",
        "not an object",
    ],
)
def test_trust_settings_are_checked_at_start_up(trust: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings(
            environment="test",
            jwks_urls=["https://login.acme.test/jwks"],
            jwks_issuers=[ACME_IDP],
            jwks_trust=trust,
        )


def test_trust_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGRAIN_JWKS_URLS", '["https://login.acme.test/jwks"]')
    monkeypatch.setenv("INGRAIN_JWKS_ISSUERS", f'["{ACME_IDP}"]')
    monkeypatch.setenv(
        "INGRAIN_JWKS_TRUST", f'{{"{ACME_IDP}": {{"organisations": ["{ACME}"], "roles": ["care_worker"]}}}}'
    )
    trust = Settings(environment="test").jwks_trust[ACME_IDP]
    assert trust.organisations == {ACME}
    assert trust.roles == {"care_worker"}
