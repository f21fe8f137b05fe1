"""User accounts: the first admin by a platform admin, then roles and services by the provider admin."""

import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.models import AccessLogEntry
from service.vocabulary import Role
from tests import factories
from tests.tokens import TokenFactory


async def test_platform_admin_creates_the_first_provider_admin_who_then_manages_users(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    provider = await factories.organisation(session, "provider")
    first = await client.post(
        f"/v1/organisations/{provider.id}/users",
        json={"sub": "idp|admin", "roles": ["provider_admin"]},
        headers=tokens.headers(Role.platform_admin),
    )
    assert first.status_code == 201, first.text
    assert first.json()["organisation_id"] == str(provider.id)

    # The identity provider says only care_worker; the account says provider_admin, and that counts.
    admin = tokens.headers(Role.care_worker, provider.id, sub="idp|admin")
    created = await client.post(
        "/v1/users", json={"sub": "idp|carer", "roles": ["care_worker"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    listed = await client.get("/v1/users", headers=admin)
    assert [u["sub"] for u in listed.json()["items"]] == ["idp|admin", "idp|carer"]
    by_role = await client.get("/v1/users?role=care_worker", headers=admin)
    assert [u["sub"] for u in by_role.json()["items"]] == ["idp|carer"]

    platform_view = await client.get(
        f"/v1/organisations/{provider.id}/users", headers=tokens.headers(Role.platform_admin)
    )
    assert len(platform_view.json()["items"]) == 2


async def test_roles_must_suit_the_organisation(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    commissioner = await factories.organisation(session, "commissioner")
    provider = await factories.organisation(session, "provider")
    platform = tokens.headers(Role.platform_admin)
    wrong = await client.post(
        f"/v1/organisations/{commissioner.id}/users",
        json={"sub": "x", "roles": ["commissioner", "provider_admin"]},
        headers=platform,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "roles[1]"
    ok = await client.post(
        f"/v1/organisations/{commissioner.id}/users",
        json={"sub": "x", "roles": ["commissioner"]},
        headers=platform,
    )
    assert ok.status_code == 201
    machine = await client.post(
        "/v1/users",
        json={"sub": "bot", "roles": ["integration"]},
        headers=tokens.headers(Role.provider_admin, provider.id),
    )
    assert machine.status_code == 422  # machines get the role through an integration client
    unknown_org = await client.post(
        f"/v1/organisations/{uuid.uuid4()}/users", json={"sub": "x", "roles": ["inspector"]}, headers=platform
    )
    assert unknown_org.status_code == 404


async def test_duplicate_subject_is_a_conflict(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    provider = await factories.organisation(session)
    admin = tokens.headers(Role.provider_admin, provider.id)
    body = {"sub": "idp|same", "roles": ["care_worker"]}
    assert (await client.post("/v1/users", json=body, headers=admin)).status_code == 201
    assert (await client.post("/v1/users", json=body, headers=admin)).status_code == 409


async def test_account_service_limit_and_disabling_apply_to_the_users_tokens(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    provider = await factories.organisation(session)
    house = await factories.care_service(session, provider)
    admin = tokens.headers(Role.provider_admin, provider.id)
    created = await client.post(
        "/v1/users",
        json={"sub": "idp|manager", "roles": ["provider_admin"], "service_ids": [str(house.id)]},
        headers=admin,
    )
    user_id = created.json()["id"]
    manager = tokens.headers(Role.provider_admin, provider.id, sub="idp|manager")
    assert (await client.get("/v1/users", headers=manager)).status_code == 200

    demoted = await client.patch(f"/v1/users/{user_id}", json={"roles": ["care_worker"]}, headers=admin)
    assert demoted.status_code == 200
    assert demoted.json()["service_ids"] == [str(house.id)]  # untouched fields stay
    assert (await client.get("/v1/users", headers=manager)).status_code == 403

    disabled = await client.patch(f"/v1/users/{user_id}", json={"disabled": True}, headers=admin)
    assert disabled.json()["active"] is False
    assert (await client.get(f"/v1/organisations/{provider.id}", headers=manager)).status_code == 401

    enabled = await client.patch(
        f"/v1/users/{user_id}", json={"disabled": False, "service_ids": None}, headers=admin
    )
    assert enabled.json()["active"] is True
    assert enabled.json()["service_ids"] is None
    actions = (await session.execute(select(AccessLogEntry.action))).scalars().all()  # type: ignore[call-overload]
    assert actions.count("user.update") == 3


async def test_an_admin_cannot_lock_themselves_out(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    provider = await factories.organisation(session)
    admin = tokens.headers(Role.provider_admin, provider.id, sub="idp|me")
    me = await client.post("/v1/users", json={"sub": "idp|me", "roles": ["provider_admin"]}, headers=admin)
    user_id = me.json()["id"]
    assert (
        await client.patch(f"/v1/users/{user_id}", json={"roles": ["quality_lead"]}, headers=admin)
    ).status_code == 409
    assert (
        await client.patch(f"/v1/users/{user_id}", json={"disabled": True}, headers=admin)
    ).status_code == 409
    widened = await client.patch(
        f"/v1/users/{user_id}", json={"roles": ["provider_admin", "quality_lead"]}, headers=admin
    )
    assert widened.status_code == 200


async def test_other_tenants_users_and_services_are_not_found(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    mine, theirs = await factories.organisation(session), await factories.organisation(session)
    their_service = await factories.care_service(session, theirs)
    their_admin = tokens.headers(Role.provider_admin, theirs.id)
    their_user = (
        await client.post(
            "/v1/users", json={"sub": "idp|theirs", "roles": ["care_worker"]}, headers=their_admin
        )
    ).json()
    me = tokens.headers(Role.provider_admin, mine.id)

    assert (await client.get(f"/v1/users/{their_user['id']}", headers=me)).status_code == 404
    patched = await client.patch(
        f"/v1/users/{their_user['id']}", json={"roles": ["provider_admin"]}, headers=me
    )
    assert patched.status_code == 404
    assert (await client.get("/v1/users?sub=idp|theirs", headers=me)).json()["items"] == []
    # A reference to another provider's service inside a payload: 404, as if it did not exist.
    foreign = await client.post(
        "/v1/users",
        json={"sub": "idp|new", "roles": ["care_worker"], "service_ids": [str(their_service.id)]},
        headers=me,
    )
    assert foreign.status_code == 404
    assert str(theirs.id) not in foreign.text
    # Their user is unchanged.
    still = await client.get(f"/v1/users/{their_user['id']}", headers=their_admin)
    assert still.json()["roles"] == ["care_worker"]


async def test_reading_users_is_in_the_access_log(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    provider = await factories.organisation(session)
    admin = tokens.headers(Role.provider_admin, provider.id)
    created = (
        await client.post("/v1/users", json={"sub": "idp|a", "roles": ["care_worker"]}, headers=admin)
    ).json()
    await client.get("/v1/users", headers=admin)
    await client.get(f"/v1/users/{created['id']}", headers=admin)
    rows = (await session.execute(select(AccessLogEntry).order_by(AccessLogEntry.id))).scalars().all()  # type: ignore[arg-type]
    assert [(r.action, r.record_ids) for r in rows] == [
        ("user.create", [uuid.UUID(created["id"])]),
        ("user.list", [uuid.UUID(created["id"])]),
        ("user.read", [uuid.UUID(created["id"])]),
    ]
