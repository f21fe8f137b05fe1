import asyncio

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.people.models import PersonRef
from service.settings import Settings
from service.vocabulary import Role
from tests import factories
from tests.reference.support import access_log_count, error_rules, integration_headers
from tests.tokens import TokenFactory


async def test_create_read_update_list(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org)
    elm = await factories.care_service(session, org)
    admin = tokens.headers(Role.provider_admin, org.id)

    created = await client.post("/v1/people", json={"external_ref": "NHS-ALIAS-1"}, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["service_ids"] == [] and body["source_system"] is None
    assert created.headers["location"] == f"/v1/people/{body['id']}"

    updated = await client.patch(
        f"/v1/people/{body['id']}", json={"service_ids": [str(oak.id)]}, headers=admin
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["service_ids"] == [str(oak.id)]
    assert (await client.get(f"/v1/people/{body['id']}", headers=admin)).json() == updated.json()

    await client.post("/v1/people", json={"external_ref": "R-2", "service_ids": [str(elm.id)]}, headers=admin)
    listed = await client.get("/v1/people", params={"service_id": str(elm.id)}, headers=admin)
    assert [p["external_ref"] for p in listed.json()["items"]] == ["R-2"]
    by_ref = await client.get("/v1/people", params={"external_ref": "NHS-ALIAS-1"}, headers=admin)
    assert [p["id"] for p in by_ref.json()["items"]] == [body["id"]]

    duplicate = await client.post("/v1/people", json={"external_ref": "NHS-ALIAS-1"}, headers=admin)
    assert duplicate.status_code == 409
    assert error_rules(duplicate.json()) == {("external_ref", "reference_taken")}
    assert await access_log_count(session, "person_ref.create") == 2
    assert await access_log_count(session, "person_ref.update") == 1


async def test_validation_and_tenancy(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    other = await factories.organisation(session)
    theirs = await factories.care_service(session, other)
    their_person = await factories.person(session, other, "THEIRS")
    admin = tokens.headers(Role.provider_admin, org.id)

    for payload, expected in [
        ({}, ("external_ref", "missing")),
        ({"external_ref": " padded"}, ("external_ref", "string_pattern_mismatch")),
        ({"external_ref": "x" * 201}, ("external_ref", "string_too_long")),
        ({"external_ref": "A", "name": "Jane"}, ("name", "extra_forbidden")),
        ({"external_ref": "A", "service_ids": [str(theirs.id)]}, ("service_ids[0]", "reference_not_found")),
    ]:
        response = await client.post("/v1/people", json=payload, headers=admin)
        assert response.status_code == 422, payload
        assert expected in error_rules(response.json()), (payload, response.json())

    assert (await client.get(f"/v1/people/{their_person.id}", headers=admin)).status_code == 404
    response = await client.patch(f"/v1/people/{their_person.id}", json={"service_ids": []}, headers=admin)
    assert response.status_code == 404
    # The other tenant's reference is free for this one: references are unique per organisation.
    response = await client.post("/v1/people", json={"external_ref": "THEIRS"}, headers=admin)
    assert response.status_code == 201
    assert (
        await client.get("/v1/people", headers=tokens.headers(Role.care_worker, org.id))
    ).status_code == 200
    assert (
        await client.post(
            "/v1/people", json={"external_ref": "B"}, headers=tokens.headers(Role.care_worker, org.id)
        )
    ).status_code == 403


async def test_service_limited_callers_see_only_their_people(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession, settings: Settings
) -> None:
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org)
    elm = await factories.care_service(session, org)
    admin = tokens.headers(Role.provider_admin, org.id)
    at_oak = (
        await client.post(
            "/v1/people", json={"external_ref": "P-OAK", "service_ids": [str(oak.id)]}, headers=admin
        )
    ).json()
    at_elm = (
        await client.post(
            "/v1/people", json={"external_ref": "P-ELM", "service_ids": [str(elm.id)]}, headers=admin
        )
    ).json()
    unplaced = (await client.post("/v1/people", json={"external_ref": "P-NONE"}, headers=admin)).json()

    worker = tokens.headers(Role.care_worker, org.id, services=[oak.id])
    listed = await client.get("/v1/people", headers=worker)
    assert [p["id"] for p in listed.json()["items"]] == [at_oak["id"]]
    for hidden in (at_elm, unplaced):
        assert (await client.get(f"/v1/people/{hidden['id']}", headers=worker)).status_code == 404

    limited = integration_headers(settings, org.id, services=[oak.id])
    response = await client.put("/v1/people/by-ref/acme-care/P-1", headers=limited)
    assert response.status_code == 422
    assert error_rules(response.json()) == {("service_ids", "too_short")}
    response = await client.put(
        "/v1/people/by-ref/acme-care/P-1", json={"service_ids": [str(elm.id)]}, headers=limited
    )
    assert response.status_code == 403
    assert error_rules(response.json()) == {("service_ids[0]", "service_out_of_scope")}


async def test_sync_by_ref_idempotent_and_race_safe(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org)
    acme = integration_headers(settings, org.id)

    first = await client.put("/v1/people/by-ref/acme-care/R-1", headers=acme)
    assert first.status_code == 201, first.text
    again = await client.put("/v1/people/by-ref/acme-care/R-1", json={}, headers=acme)
    assert again.status_code == 200 and again.json() == first.json()
    placed = await client.put(
        "/v1/people/by-ref/acme-care/R-1", json={"service_ids": [str(oak.id)]}, headers=acme
    )
    assert placed.json()["service_ids"] == [str(oak.id)]
    kept = await client.put("/v1/people/by-ref/acme-care/R-1", headers=acme)
    assert kept.json()["service_ids"] == [str(oak.id)]

    responses = await asyncio.gather(
        *(
            client.put("/v1/people/by-ref/acme-care/R-2", json={"service_ids": [str(oak.id)]}, headers=acme)
            for _ in range(5)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    count = await session.execute(
        select(func.count()).select_from(PersonRef).where(col(PersonRef.organisation_id) == org.id)
    )
    assert count.scalar_one() == 2
