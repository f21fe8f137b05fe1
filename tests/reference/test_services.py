import asyncio
import uuid

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.services.models import Service
from service.settings import Settings
from service.vocabulary import Role
from tests import factories
from tests.reference.support import access_log_count, error_rules, integration_headers
from tests.tokens import TokenFactory


async def test_create_read_update_list(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    admin = tokens.headers(Role.provider_admin, org.id)

    created = await client.post("/v1/services", json={"name": "Oak House"}, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["timezone"] == "Europe/London"
    assert body["shift_pattern"] == {"early": "07:00", "late": "14:00", "night": "21:30"}
    assert body["cqc_location_id"] is None
    assert created.headers["location"] == f"/v1/services/{body['id']}"

    read = await client.get(created.headers["location"], headers=admin)
    assert read.status_code == 200
    assert read.json() == body

    patched = await client.patch(
        f"/v1/services/{body['id']}",
        json={
            "cqc_location_id": "1-123456789",
            "shift_pattern": {"early": "08:00", "late": "15:00", "night": "22:00"},
        },
        headers=admin,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["cqc_location_id"] == "1-123456789"
    assert patched.json()["shift_pattern"]["early"] == "08:00"
    assert patched.json()["name"] == "Oak House"

    cleared = await client.patch(f"/v1/services/{body['id']}", json={"cqc_location_id": None}, headers=admin)
    assert cleared.json()["cqc_location_id"] is None

    listed = await client.get("/v1/services", headers=tokens.headers(Role.care_worker, org.id))
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["items"]] == [body["id"]]
    assert listed.json()["next_cursor"] is None

    assert await access_log_count(session, "service.create") == 1
    assert await access_log_count(session, "service.update") == 2


async def test_validation_names_field_and_rule(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    admin = tokens.headers(Role.provider_admin, org.id)
    cases = [
        ({"name": "A", "timezone": "Mars/Olympus"}, ("timezone", "timezone_unknown")),
        ({"name": "A", "timezone": "../../etc/passwd"}, ("timezone", "timezone_unknown")),
        ({"name": ""}, ("name", "string_too_short")),
        ({}, ("name", "missing")),
        ({"name": "A", "cqc_location_id": "CQC-1"}, ("cqc_location_id", "string_pattern_mismatch")),
        (
            {"name": "A", "shift_pattern": {"early": "14:00", "late": "07:00", "night": "21:30"}},
            ("shift_pattern", "shift_order"),
        ),
        (
            {"name": "A", "shift_pattern": {"early": "7am", "late": "14:00", "night": "21:30"}},
            ("shift_pattern.early", "string_pattern_mismatch"),
        ),
        (
            {"name": "A", "shift_pattern": {"early": "07:00", "late": "14:00"}},
            ("shift_pattern.night", "missing"),
        ),
        ({"name": "A", "colour": "blue"}, ("colour", "extra_forbidden")),
        ({"name": "A", "source_system": "acme"}, ("external_ref", "missing")),
    ]
    for payload, expected in cases:
        response = await client.post("/v1/services", json=payload, headers=admin)
        assert response.status_code == 422, (payload, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert expected in error_rules(response.json()), (payload, response.json())

    service = await factories.care_service(session, org)
    response = await client.patch(f"/v1/services/{service.id}", json={"name": None}, headers=admin)
    assert response.status_code == 422
    assert error_rules(response.json()) == {("name", "null_not_allowed")}


async def test_roles(client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession) -> None:
    org = await factories.organisation(session)
    service = await factories.care_service(session, org)
    for role in (Role.care_worker, Role.registered_manager, Role.quality_lead):
        response = await client.post("/v1/services", json={"name": "X"}, headers=tokens.headers(role, org.id))
        assert response.status_code == 403, role
        response = await client.patch(
            f"/v1/services/{service.id}", json={"name": "X"}, headers=tokens.headers(role, org.id)
        )
        assert response.status_code == 403, role
    for role in (Role.commissioner, Role.inspector):
        response = await client.get("/v1/services", headers=tokens.headers(role, org.id))
        assert response.status_code == 403, role
    assert (await client.get("/v1/services")).status_code == 401


async def test_other_tenants_rows_are_not_found(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    mine = await factories.organisation(session)
    theirs = await factories.organisation(session)
    their_service = await factories.care_service(session, theirs, "Their house")
    await factories.care_service(session, mine, "My house")
    admin = tokens.headers(Role.provider_admin, mine.id)

    assert (await client.get(f"/v1/services/{their_service.id}", headers=admin)).status_code == 404
    response = await client.patch(
        f"/v1/services/{their_service.id}", json={"name": "Mine now"}, headers=admin
    )
    assert response.status_code == 404
    listed = await client.get("/v1/services", headers=admin)
    assert [s["name"] for s in listed.json()["items"]] == ["My house"]
    await session.refresh(their_service)
    assert their_service.name == "Their house"


async def test_service_limited_caller_sees_only_its_services(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org, "Oak")
    elm = await factories.care_service(session, org, "Elm")
    manager = tokens.headers(Role.registered_manager, org.id, services=[oak.id])
    listed = await client.get("/v1/services", headers=manager)
    assert [s["id"] for s in listed.json()["items"]] == [str(oak.id)]
    assert (await client.get(f"/v1/services/{elm.id}", headers=manager)).status_code == 404
    limited_admin = tokens.headers(Role.provider_admin, org.id, services=[oak.id])
    response = await client.post("/v1/services", json={"name": "New"}, headers=limited_admin)
    assert response.status_code == 403


async def test_pagination_walks_every_row_once(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    for i in range(7):
        await factories.care_service(session, org, f"S{i}")
    headers = tokens.headers(Role.quality_lead, org.id)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/services", params=params, headers=headers)).json()
        seen += [s["name"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"S{i}" for i in range(7)]
    bad = await client.get("/v1/services", params={"cursor": "nonsense"}, headers=headers)
    assert bad.status_code == 422
    assert error_rules(bad.json()) == {("cursor", "cursor_invalid")}


async def test_sync_by_ref_is_idempotent(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession, settings: Settings
) -> None:
    org = await factories.organisation(session)
    acme = integration_headers(settings, org.id)
    body = {"name": "Oak House", "cqc_location_id": "1-555"}

    first = await client.put("/v1/services/by-ref/acme-care/LOC/1", json=body, headers=acme)
    assert first.status_code == 201, first.text
    assert first.json()["external_ref"] == "LOC/1"
    assert first.headers["location"] == f"/v1/services/{first.json()['id']}"
    again = await client.put("/v1/services/by-ref/acme-care/LOC/1", json=body, headers=acme)
    assert again.status_code == 200
    assert again.json() == first.json()

    renamed = await client.put(
        "/v1/services/by-ref/acme-care/LOC/1", json={**body, "name": "Oak"}, headers=acme
    )
    assert renamed.status_code == 200
    assert renamed.json()["id"] == first.json()["id"]
    assert renamed.json()["name"] == "Oak"
    assert renamed.json()["updated_at"] > first.json()["updated_at"]
    assert await access_log_count(session, "service.create") == 1
    assert await access_log_count(session, "service.update") == 1

    other = await client.put("/v1/services/by-ref/other-system/LOC-1", json=body, headers=acme)
    assert other.status_code == 403
    assert error_rules(other.json()) == {("source_system", "source_system_mismatch")}

    duplicate = await client.post("/v1/services", json={**body, "external_ref": "LOC/1"}, headers=acme)
    assert duplicate.status_code == 409
    assert error_rules(duplicate.json()) == {("external_ref", "reference_taken")}


async def test_concurrent_syncs_of_one_ref_make_one_row(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    org = await factories.organisation(session)
    acme = integration_headers(settings, org.id)
    responses = await asyncio.gather(
        *(
            client.put(
                f"/v1/services/by-ref/acme-care/LOC-{uuid.UUID(int=1)}", json={"name": "Oak"}, headers=acme
            )
            for _ in range(4)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    count = await session.execute(
        select(func.count()).select_from(Service).where(col(Service.organisation_id) == org.id)
    )
    assert count.scalar_one() == 1
