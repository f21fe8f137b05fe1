import asyncio
from datetime import date

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.settings import Settings
from service.staff.models import StaffMember, StaffMemberService
from service.vocabulary import Role
from tests import factories
from tests.reference.support import access_log_count, error_rules, integration_headers
from tests.tokens import TokenFactory


async def test_create_read_update_and_leave(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org, "Oak")
    elm = await factories.care_service(session, org, "Elm")
    admin = tokens.headers(Role.provider_admin, org.id)

    created = await client.post(
        "/v1/staff",
        json={
            "role": "senior_carer",
            "service_ids": [str(oak.id)],
            "started_on": "2025-02-03",
            "display_name": "Amira Khan",
            "external_ref": "PAY-17",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["service_ids"] == [str(oak.id)]
    assert body["left_on"] is None
    assert body["display_name"] == "Amira Khan"
    assert body["external_ref"] == "PAY-17"
    assert body["source_system"] is None
    assert created.headers["location"] == f"/v1/staff/{body['id']}"

    moved = await client.patch(
        f"/v1/staff/{body['id']}",
        json={"service_ids": [str(oak.id), str(elm.id)], "role": "team_leader"},
        headers=admin,
    )
    assert moved.status_code == 200, moved.text
    assert sorted(moved.json()["service_ids"]) == sorted([str(oak.id), str(elm.id)])
    assert moved.json()["role"] == "team_leader"

    left = await client.patch(f"/v1/staff/{body['id']}", json={"left_on": "2025-09-30"}, headers=admin)
    assert left.status_code == 200
    assert left.json()["left_on"] == "2025-09-30"
    read = await client.get(f"/v1/staff/{body['id']}", headers=admin)
    assert read.json() == left.json()

    rehired = await client.patch(f"/v1/staff/{body['id']}", json={"left_on": None}, headers=admin)
    assert rehired.json()["left_on"] is None

    assert (await client.delete(f"/v1/staff/{body['id']}", headers=admin)).status_code == 405
    assert await access_log_count(session, "staff_member.create") == 1
    assert await access_log_count(session, "staff_member.update") == 3


async def test_validation_names_field_and_rule(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    other = await factories.organisation(session)
    oak = await factories.care_service(session, org)
    theirs = await factories.care_service(session, other)
    admin = tokens.headers(Role.provider_admin, org.id)
    base = {"role": "care_worker", "service_ids": [str(oak.id)], "started_on": "2025-01-01"}
    cases = [
        ({**base, "role": "chef"}, 422, ("role", "enum")),
        ({**base, "service_ids": []}, 422, ("service_ids", "too_short")),
        ({**base, "started_on": "yesterday"}, 422, ("started_on", "date_from_datetime_parsing")),
        ({**base, "left_on": "2024-12-31"}, 422, ("left_on", "dates_ordered")),
        (
            {**base, "service_ids": [str(oak.id), str(theirs.id)]},
            422,
            ("service_ids[1]", "reference_not_found"),
        ),
        ({**base, "service_ids": [str(oak.id), str(oak.id)]}, 422, ("service_ids[1]", "duplicate")),
        ({**base, "display_name": "  "}, 422, ("display_name", "string_too_short")),
    ]
    for payload, status, expected in cases:
        response = await client.post("/v1/staff", json=payload, headers=admin)
        assert response.status_code == status, (payload, response.text)
        assert expected in error_rules(response.json()), (payload, response.json())

    member = await factories.staff_member(session, org, [oak], started_on=date(2025, 1, 1))
    response = await client.patch(
        f"/v1/staff/{member.id}", json={"started_on": "2026-01-01", "left_on": "2025-06-01"}, headers=admin
    )
    assert error_rules(response.json()) == {("left_on", "dates_ordered")}
    await client.patch(f"/v1/staff/{member.id}", json={"left_on": "2025-06-01"}, headers=admin)
    response = await client.patch(f"/v1/staff/{member.id}", json={"started_on": "2025-07-01"}, headers=admin)
    assert error_rules(response.json()) == {("started_on", "dates_ordered")}
    response = await client.patch(f"/v1/staff/{member.id}", json={"role": None}, headers=admin)
    assert error_rules(response.json()) == {("role", "null_not_allowed")}
    response = await client.patch(
        f"/v1/staff/{member.id}", json={"service_ids": [str(theirs.id)]}, headers=admin
    )
    assert error_rules(response.json()) == {("service_ids[0]", "reference_not_found")}


async def test_identity_is_redacted_for_care_workers(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org)
    member = await factories.staff_member(
        session, org, [oak], display_name="Amira Khan", external_ref="PAY-17"
    )

    worker = await client.get("/v1/staff", headers=tokens.headers(Role.care_worker, org.id))
    assert worker.status_code == 200
    [item] = worker.json()["items"]
    assert item["id"] == str(member.id)
    assert item["display_name"] is None and item["external_ref"] is None
    assert item["role"] == "care_worker"
    one = await client.get(f"/v1/staff/{member.id}", headers=tokens.headers(Role.care_worker, org.id))
    assert one.json()["display_name"] is None
    assert await access_log_count(session, "staff_member.list") == 0
    assert await access_log_count(session, "staff_member.read") == 0

    manager = await client.get("/v1/staff", headers=tokens.headers(Role.registered_manager, org.id))
    assert manager.json()["items"][0]["display_name"] == "Amira Khan"
    assert manager.json()["items"][0]["external_ref"] == "PAY-17"
    await client.get(f"/v1/staff/{member.id}", headers=tokens.headers(Role.quality_lead, org.id))
    assert await access_log_count(session, "staff_member.list") == 1
    assert await access_log_count(session, "staff_member.read") == 1

    for role in (Role.commissioner, Role.inspector):
        assert (await client.get("/v1/staff", headers=tokens.headers(role, org.id))).status_code == 403
    for role in (Role.care_worker, Role.registered_manager, Role.quality_lead):
        response = await client.patch(
            f"/v1/staff/{member.id}", json={"left_on": "2025-05-01"}, headers=tokens.headers(role, org.id)
        )
        assert response.status_code == 403, role


async def test_list_filters(client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession) -> None:
    org = await factories.organisation(session)
    other = await factories.organisation(session)
    oak = await factories.care_service(session, org)
    elm = await factories.care_service(session, org)
    theirs = await factories.care_service(session, other)
    stayer = await factories.staff_member(session, org, [oak], started_on=date(2024, 1, 1))
    nurse = await factories.staff_member(session, org, [elm], role="nurse", started_on=date(2024, 6, 1))
    leaver = await factories.staff_member(
        session, org, [oak, elm], started_on=date(2024, 1, 1), left_on=date(2025, 3, 31)
    )
    headers = tokens.headers(Role.quality_lead, org.id)

    async def ids(**params: str) -> set[str]:
        response = await client.get("/v1/staff", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return {s["id"] for s in response.json()["items"]}

    assert await ids() == {str(stayer.id), str(nurse.id)}
    assert await ids(include_leavers="true") == {str(stayer.id), str(nurse.id), str(leaver.id)}
    assert await ids(service_id=str(oak.id), include_leavers="true") == {str(stayer.id), str(leaver.id)}
    assert await ids(role="nurse") == {str(nurse.id)}
    assert await ids(active_on="2025-03-31") == {str(stayer.id), str(nurse.id), str(leaver.id)}
    assert await ids(active_on="2025-04-01") == {str(stayer.id), str(nurse.id)}
    assert await ids(active_on="2024-03-01") == {str(stayer.id), str(leaver.id)}

    response = await client.get("/v1/staff", params={"service_id": str(theirs.id)}, headers=headers)
    assert response.status_code == 422
    assert error_rules(response.json()) == {("service_id", "reference_not_found")}
    response = await client.get("/v1/staff", params={"role": "chef"}, headers=headers)
    assert error_rules(response.json()) == {("role", "enum")}


async def test_other_tenants_staff_are_not_found(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    mine = await factories.organisation(session)
    theirs = await factories.organisation(session)
    their_member = await factories.staff_member(
        session, theirs, [await factories.care_service(session, theirs)], display_name="Secret"
    )
    admin = tokens.headers(Role.provider_admin, mine.id)
    assert (await client.get(f"/v1/staff/{their_member.id}", headers=admin)).status_code == 404
    response = await client.patch(
        f"/v1/staff/{their_member.id}", json={"left_on": "2025-05-01"}, headers=admin
    )
    assert response.status_code == 404
    assert (await client.get("/v1/staff", params={"include_leavers": "true"}, headers=admin)).json()[
        "items"
    ] == []
    await session.refresh(their_member)
    assert their_member.left_on is None


async def test_service_limited_callers(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org)
    elm = await factories.care_service(session, org)
    both = await factories.staff_member(session, org, [oak, elm])
    elm_only = await factories.staff_member(session, org, [elm])

    manager = tokens.headers(Role.registered_manager, org.id, services=[oak.id])
    listed = (await client.get("/v1/staff", headers=manager)).json()["items"]
    assert [s["id"] for s in listed] == [str(both.id)]
    assert listed[0]["service_ids"] == [str(oak.id)]
    assert (await client.get(f"/v1/staff/{elm_only.id}", headers=manager)).status_code == 404
    response = await client.get("/v1/staff", params={"service_id": str(elm.id)}, headers=manager)
    assert response.status_code == 403
    assert error_rules(response.json()) == {("service_id", "service_out_of_scope")}

    # An admin limited to Oak changes only the Oak part of a staff member's services.
    limited_admin = tokens.headers(Role.provider_admin, org.id, services=[oak.id])
    response = await client.patch(f"/v1/staff/{both.id}", json={"role": "nurse"}, headers=limited_admin)
    assert response.status_code == 200
    response = await client.post(
        "/v1/staff",
        json={"role": "care_worker", "service_ids": [str(elm.id)], "started_on": "2025-01-01"},
        headers=limited_admin,
    )
    assert response.status_code == 403
    assert error_rules(response.json()) == {("service_ids[0]", "service_out_of_scope")}
    links = await session.scalars(
        select(col(StaffMemberService.service_id)).where(col(StaffMemberService.staff_member_id) == both.id)
    )
    assert set(links.all()) == {oak.id, elm.id}


async def test_sync_by_ref(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession, settings: Settings
) -> None:
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org)
    elm = await factories.care_service(session, org)
    acme = integration_headers(settings, org.id)
    body = {
        "role": "care_worker",
        "service_ids": [str(oak.id)],
        "started_on": "2025-01-06",
        "display_name": "Jo",
    }

    first = await client.put("/v1/staff/by-ref/acme-care/E-1", json=body, headers=acme)
    assert first.status_code == 201, first.text
    assert first.json()["source_system"] == "acme-care"
    assert first.json()["external_ref"] == "E-1"
    again = await client.put("/v1/staff/by-ref/acme-care/E-1", json=body, headers=acme)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert await access_log_count(session, "staff_member.update") == 0

    moved = await client.put(
        "/v1/staff/by-ref/acme-care/E-1",
        json={**body, "service_ids": [str(elm.id)], "left_on": "2025-12-31"},
        headers=acme,
    )
    assert moved.status_code == 200
    assert moved.json()["id"] == first.json()["id"]
    assert moved.json()["service_ids"] == [str(elm.id)]
    assert moved.json()["left_on"] == "2025-12-31"

    # A full replacement: what the body leaves out is cleared.
    bare = {k: v for k, v in body.items() if k != "display_name"}
    cleared = await client.put("/v1/staff/by-ref/acme-care/E-1", json=bare, headers=acme)
    assert cleared.json()["display_name"] is None

    other = await client.put("/v1/staff/by-ref/rival/E-1", json=body, headers=acme)
    assert other.status_code == 403

    manual = await factories.staff_member(session, org, [oak])
    response = await client.patch(f"/v1/staff/{manual.id}", json={"role": "nurse"}, headers=acme)
    assert response.status_code == 403
    assert error_rules(response.json()) == {("source_system", "source_system_mismatch")}
    response = await client.post("/v1/staff", json=body, headers=acme)
    assert error_rules(response.json()) == {("external_ref", "missing")}
    response = await client.post("/v1/staff", json={**body, "external_ref": "E-2"}, headers=acme)
    assert response.status_code == 201
    assert response.json()["source_system"] == "acme-care"

    # An admin (bound to no source system) may sync any system's references.
    admin = tokens.headers(Role.provider_admin, org.id)
    response = await client.put("/v1/staff/by-ref/payroll/P 7", json=body, headers=admin)
    assert response.status_code == 201


async def test_concurrent_syncs_make_one_row_with_its_links(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org)
    acme = integration_headers(settings, org.id)
    body = {"role": "care_worker", "service_ids": [str(oak.id)], "started_on": "2025-01-06"}
    responses = await asyncio.gather(
        *(client.put("/v1/staff/by-ref/acme-care/E-9", json=body, headers=acme) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    rows = await session.execute(
        select(func.count()).select_from(StaffMember).where(col(StaffMember.organisation_id) == org.id)
    )
    assert rows.scalar_one() == 1
    links = await session.execute(
        select(func.count())
        .select_from(StaffMemberService)
        .where(col(StaffMemberService.organisation_id) == org.id)
    )
    assert links.scalar_one() == 1
