"""User accounts are keyed by issuer and subject: a `sub` is unique only within its issuer."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import asyncpg
import httpx
import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.tokens import issue_hs256_token
from service.database import asyncpg_connect_kwargs
from service.migrate import downgrade, upgrade
from service.settings import Settings
from service.vocabulary import Role
from tests import factories
from tests.auth.support import (
    IdentityProviderKey,
    JwksServer,
    TrustedIssuer,
    claims_for,
    running_app,
    serve_jwks,
    settings_trusting,
)

# One provider that signs its people in through two identity providers (say, during a move).
OLD_IDP, NEW_IDP = "https://old-idp.test/", "https://new-idp.test/"
ROLES = ["care_worker", "registered_manager", "provider_admin"]
ADMIN_ROUTE = "/v1/users"  # provider_admin only


@pytest.fixture
def old_key() -> IdentityProviderKey:
    return IdentityProviderKey.rsa("old-1")


@pytest.fixture
def new_key() -> IdentityProviderKey:
    return IdentityProviderKey.ec("new-1")


@pytest.fixture
def servers(
    old_key: IdentityProviderKey, new_key: IdentityProviderKey
) -> Iterator[tuple[JwksServer, JwksServer]]:
    with serve_jwks([old_key.jwk()]) as old, serve_jwks([new_key.jwk()]) as new:
        yield old, new


@pytest.fixture
async def provider_id(session: AsyncSession) -> uuid.UUID:
    return (await factories.organisation(session, "provider")).id


@pytest.fixture
def settings(servers: tuple[JwksServer, JwksServer], provider_id: uuid.UUID) -> Settings:
    old, new = servers
    return settings_trusting(
        TrustedIssuer(OLD_IDP, old.url, [provider_id], ROLES),
        TrustedIssuer(NEW_IDP, new.url, [provider_id], ROLES),
    )


@pytest.fixture
async def client(settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(settings, database_url) as (_, client):
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signer(key: IdentityProviderKey, issuer: str, org: uuid.UUID) -> Callable[[str, str], dict[str, str]]:
    """Headers with a token of `issuer` for (sub, role) in `org`."""
    settings = Settings(environment="test")

    def headers(sub: str, role: str) -> dict[str, str]:
        return bearer(key.sign(claims_for(settings, roles=[role], org=org, issuer=issuer, sub=sub)))

    return headers


def platform_admin(settings: Settings) -> dict[str, str]:
    return bearer(issue_hs256_token(settings, sub="platform", roles=[Role.platform_admin]))


async def status(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> int:
    return (await client.get(path, headers=headers)).status_code


async def test_two_issuers_sharing_a_sub_get_separate_accounts(
    client: httpx.AsyncClient,
    settings: Settings,
    provider_id: uuid.UUID,
    old_key: IdentityProviderKey,
    new_key: IdentityProviderKey,
) -> None:
    old, new = signer(old_key, OLD_IDP, provider_id), signer(new_key, NEW_IDP, provider_id)
    users = f"/v1/organisations/{provider_id}/users"
    old_alice = await client.post(
        users,
        json={"sub": "alice", "issuer": OLD_IDP, "roles": ["provider_admin"]},
        headers=platform_admin(settings),
    )
    assert old_alice.status_code == 201, old_alice.text
    assert old_alice.json()["issuer"] == OLD_IDP
    new_alice = await client.post(
        users,
        json={"sub": "alice", "issuer": NEW_IDP, "roles": ["care_worker"]},
        headers=platform_admin(settings),
    )
    assert new_alice.status_code == 201, new_alice.text  # the same sub of another issuer: not a conflict

    # Each token gets its own issuer's account, whatever role it claims.
    assert await status(client, ADMIN_ROUTE, old("alice", "care_worker")) == 200
    assert await status(client, ADMIN_ROUTE, new("alice", "provider_admin")) == 403
    # Neither applies to Ingrain's own tokens of that sub.
    own = issue_hs256_token(settings, sub="alice", roles=[Role.care_worker], organisation_id=provider_id)
    assert await status(client, ADMIN_ROUTE, bearer(own)) == 403

    # Disabling one issuer's account refuses only that issuer's tokens.
    admin = old("alice", "care_worker")
    listed = (await client.get(f"{ADMIN_ROUTE}?sub=alice&issuer={NEW_IDP}", headers=admin)).json()["items"]
    assert [(u["issuer"], u["roles"]) for u in listed] == [(NEW_IDP, ["care_worker"])]
    new_alice_url = f"{ADMIN_ROUTE}/{new_alice.json()['id']}"
    disabled = await client.patch(new_alice_url, json={"disabled": True}, headers=admin)
    assert disabled.status_code == 200, disabled.text
    assert await status(client, "/v1/touchpoints", new("alice", "care_worker")) == 401
    assert await status(client, ADMIN_ROUTE, admin) == 200


async def test_an_account_of_one_issuer_gives_nothing_to_anothers_same_sub(
    client: httpx.AsyncClient,
    settings: Settings,
    provider_id: uuid.UUID,
    old_key: IdentityProviderKey,
    new_key: IdentityProviderKey,
) -> None:
    """Bob is a care worker by account at the old provider; the new provider's "bob" is not him."""
    old, new = signer(old_key, OLD_IDP, provider_id), signer(new_key, NEW_IDP, provider_id)
    created = await client.post(
        f"/v1/organisations/{provider_id}/users",
        json={"sub": "bob", "issuer": OLD_IDP, "roles": ["care_worker"]},
        headers=platform_admin(settings),
    )
    assert created.status_code == 201, created.text
    assert await status(client, ADMIN_ROUTE, old("bob", "provider_admin")) == 403
    # Without an account of its own, the new issuer's bob has what its token says, within its grant.
    assert await status(client, ADMIN_ROUTE, new("bob", "provider_admin")) == 200


async def test_accounts_name_an_issuer_trusted_for_their_organisation(
    client: httpx.AsyncClient, settings: Settings, provider_id: uuid.UUID, session: AsyncSession
) -> None:
    other = await factories.organisation(session, "provider")
    default = await client.post(
        f"/v1/organisations/{other.id}/users",
        json={"sub": "carol", "roles": ["provider_admin"]},
        headers=platform_admin(settings),
    )
    assert default.status_code == 201, default.text
    assert default.json()["issuer"] == settings.jwt_issuer  # the issuer of `ingrain token`

    for issuer in (OLD_IDP, "https://unknown-idp.test/"):  # OLD_IDP is bound to provider_id, not other
        refused = await client.post(
            f"/v1/organisations/{other.id}/users",
            json={"sub": "dave", "issuer": issuer, "roles": ["care_worker"]},
            headers=platform_admin(settings),
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "issuer"
        assert refused.json()["errors"][0]["rule"] == "issuer_not_trusted"

    duplicate = {"sub": "erin", "issuer": NEW_IDP, "roles": ["care_worker"]}
    first = await client.post(
        f"/v1/organisations/{provider_id}/users", json=duplicate, headers=platform_admin(settings)
    )
    again = await client.post(
        f"/v1/organisations/{provider_id}/users", json=duplicate, headers=platform_admin(settings)
    )
    assert (first.status_code, again.status_code) == (201, 409)


async def _execute(database_url: str, statement: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
    try:
        return list(await conn.fetch(statement, *args))
    finally:
        await conn.close()


async def test_migration_gives_existing_accounts_ingrains_issuer(database_url: str) -> None:
    await asyncio.to_thread(downgrade, database_url, "0004")
    org = uuid.uuid4()
    await _execute(
        database_url, "INSERT INTO organisation (id, name, kind) VALUES ($1, 'Acme', 'provider')", org
    )
    insert = (
        "INSERT INTO user_account (organisation_id, id, sub, roles, created_by) "
        "VALUES ($1, $2, 'alice', ARRAY['care_worker'], 'test')"
    )
    await _execute(database_url, insert, org, uuid.uuid4())

    await asyncio.to_thread(upgrade, database_url)
    rows = await _execute(database_url, "SELECT issuer, sub FROM user_account")
    assert [(r["issuer"], r["sub"]) for r in rows] == [(Settings().jwt_issuer, "alice")]

    # Once two issuers share a sub, going back would merge them: the downgrade refuses.
    await _execute(
        database_url,
        "INSERT INTO user_account (organisation_id, id, issuer, sub, roles, created_by) "
        "VALUES ($1, $2, 'https://idp.test/', 'alice', ARRAY['care_worker'], 'test')",
        org,
        uuid.uuid4(),
    )
    with pytest.raises(DBAPIError, match="share a sub"):
        await asyncio.to_thread(downgrade, database_url, "0004")
