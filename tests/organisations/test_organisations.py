"""Organisations and commissioning relationships: a platform admin's work, and who may see what."""

import uuid
from datetime import date, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.models import AccessLogEntry
from service.vocabulary import Role
from tests import factories
from tests.tokens import TokenFactory

PLATFORM = Role.platform_admin


async def test_platform_admin_creates_and_lists_organisations_of_every_kind(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    admin = tokens.headers(PLATFORM)
    created = {}
    for kind in ("provider", "commissioner", "regulator", "platform"):
        response = await client.post(
            "/v1/organisations", json={"name": f"A {kind}", "kind": kind}, headers=admin
        )
        assert response.status_code == 201, response.text
        assert response.json()["kind"] == kind
        created[kind] = response.json()["id"]

    providers = await client.get("/v1/organisations?kind=provider", headers=admin)
    assert [o["id"] for o in providers.json()["items"]] == [created["provider"]]

    seen, cursor = [], None
    while True:
        page = await client.get(
            "/v1/organisations", params={"limit": 3, **({"cursor": cursor} if cursor else {})}, headers=admin
        )
        seen += [o["id"] for o in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == list(created.values())

    named = await client.get("/v1/organisations", params={"name": "commiss"}, headers=admin)
    assert [o["id"] for o in named.json()["items"]] == [created["commissioner"]]

    logged = (await session.execute(select(AccessLogEntry.action))).scalars().all()  # type: ignore[call-overload]
    assert logged == ["organisation.create"] * 4


async def test_organisation_input_is_validated(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    response = await client.post(
        "/v1/organisations", json={"name": " ", "kind": "charity"}, headers=tokens.headers(PLATFORM)
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"name", "kind"}


async def test_provider_admin_sees_only_regulators_in_the_list(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    provider = await factories.organisation(session, "provider")
    regulator = await factories.organisation(session, "regulator")
    await factories.organisation(session, "commissioner")
    admin = tokens.headers(Role.provider_admin, provider.id)
    listed = await client.get("/v1/organisations", headers=admin)
    assert [o["id"] for o in listed.json()["items"]] == [str(regulator.id)]
    assert (await client.get("/v1/organisations?kind=provider", headers=admin)).json()["items"] == []


async def test_organisation_read_is_limited_to_those_the_caller_may_know(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    provider = await factories.organisation(session, "provider")
    other_provider = await factories.organisation(session, "provider")
    commissioner = await factories.organisation(session, "commissioner")
    regulator = await factories.organisation(session, "regulator")
    await factories.commissioning(session, commissioner, provider)
    await factories.access_grant(session, provider, regulator)

    async def status(org: uuid.UUID, role: Role, caller_org: uuid.UUID | None) -> int:
        response = await client.get(f"/v1/organisations/{org}", headers=tokens.headers(role, caller_org))
        return response.status_code

    assert await status(provider.id, Role.care_worker, provider.id) == 200
    assert await status(other_provider.id, Role.quality_lead, provider.id) == 404
    assert await status(commissioner.id, Role.quality_lead, provider.id) == 404
    assert await status(regulator.id, Role.provider_admin, provider.id) == 200
    assert await status(provider.id, Role.commissioner, commissioner.id) == 200
    assert await status(other_provider.id, Role.commissioner, commissioner.id) == 404
    assert await status(provider.id, Role.inspector, regulator.id) == 200
    assert await status(other_provider.id, Role.inspector, regulator.id) == 404
    assert await status(other_provider.id, PLATFORM, None) == 200
    assert await status(uuid.uuid4(), PLATFORM, None) == 404


async def test_platform_admin_creates_a_commissioning_relationship(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    provider = await factories.organisation(session, "provider")
    commissioner = await factories.organisation(session, "commissioner")
    house = await factories.care_service(session, provider)
    body = {
        "commissioner_id": str(commissioner.id),
        "provider_id": str(provider.id),
        "service_ids": [str(house.id)],
        "starts_on": "2026-01-01",
    }
    response = await client.post(
        "/v1/commissioning-relationships", json=body, headers=tokens.headers(PLATFORM)
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["service_ids"] == [str(house.id)]
    assert created["ends_on"] is None
    entry = (await session.execute(select(AccessLogEntry))).scalar_one()
    assert (entry.action, entry.organisation_id) == ("commissioning_relationship.create", provider.id)


async def test_relationship_references_are_checked(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    provider = await factories.organisation(session, "provider")
    commissioner = await factories.organisation(session, "commissioner")
    other_service = await factories.care_service(session, await factories.organisation(session, "provider"))
    admin = tokens.headers(PLATFORM)
    base = {
        "commissioner_id": str(commissioner.id),
        "provider_id": str(provider.id),
        "starts_on": "2026-01-01",
    }

    async def post(**changes: object) -> httpx.Response:
        return await client.post("/v1/commissioning-relationships", json={**base, **changes}, headers=admin)

    swapped = await post(commissioner_id=str(provider.id), provider_id=str(commissioner.id))
    assert swapped.status_code == 422
    assert swapped.json()["errors"][0]["field"] == "commissioner_id"
    assert (await post(provider_id=str(uuid.uuid4()))).status_code == 404
    foreign = await post(service_ids=[str(other_service.id)])
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["field"] == "service_ids[0]"
    backwards = await post(starts_on="2026-02-01", ends_on="2026-01-01")
    assert backwards.status_code == 422


async def test_commissioner_sees_only_its_own_relationships(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    provider = await factories.organisation(session, "provider")
    mine = await factories.organisation(session, "commissioner")
    theirs = await factories.organisation(session, "commissioner")
    my_relationship = await factories.commissioning(session, mine, provider)
    their_relationship = await factories.commissioning(session, theirs, provider)
    me = tokens.headers(Role.commissioner, mine.id)

    listed = await client.get("/v1/commissioning-relationships", headers=me)
    assert [r["id"] for r in listed.json()["items"]] == [str(my_relationship.id)]
    filtered = await client.get(f"/v1/commissioning-relationships?commissioner_id={theirs.id}", headers=me)
    assert filtered.json()["items"] == []
    assert (
        await client.get(f"/v1/commissioning-relationships/{their_relationship.id}", headers=me)
    ).status_code == 404
    assert (
        await client.get(f"/v1/commissioning-relationships/{my_relationship.id}", headers=me)
    ).status_code == 200
    change = await client.patch(
        f"/v1/commissioning-relationships/{my_relationship.id}", json={"ends_on": "2026-01-01"}, headers=me
    )
    assert change.status_code == 403  # reading its own is fine, changing it is the platform's


async def test_platform_admin_ends_a_relationship_and_it_stops_counting(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    provider = await factories.organisation(session, "provider")
    commissioner = await factories.organisation(session, "commissioner")
    relationship = await factories.commissioning(session, commissioner, provider)
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    response = await client.patch(
        f"/v1/commissioning-relationships/{relationship.id}",
        json={"ends_on": yesterday},
        headers=tokens.headers(PLATFORM),
    )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    active = await client.get(
        "/v1/commissioning-relationships",
        params={"active_on": date.today().isoformat()},
        headers=tokens.headers(PLATFORM),
    )
    assert active.json()["items"] == []
    # The commissioner no longer knows the provider.
    read = await client.get(
        f"/v1/organisations/{provider.id}", headers=tokens.headers(Role.commissioner, commissioner.id)
    )
    assert read.status_code == 404
