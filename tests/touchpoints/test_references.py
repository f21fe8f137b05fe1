"""References must exist in the caller's organisation; an innovation must run at the service."""

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.errors import Forbidden
from service.touchpoints.ingest import record_touchpoint
from service.vocabulary import Role
from tests.tokens import TokenFactory
from tests.touchpoints.world import World, build_world, count_touchpoints, payload


@pytest.fixture
async def other_world(session: AsyncSession) -> World:
    return await build_world(session)


@pytest.mark.parametrize(
    ("field", "kind"),
    [
        ("service_id", "daily_note"),
        ("recorded_by_id", "daily_note"),
        ("subject_staff_id", "supervision"),
        ("person_ref_id", "daily_note"),
        ("innovation_ids[0]", "daily_note"),
        ("facts.buddy_id", "induction"),
    ],
)
async def test_references_into_another_provider_are_refused(
    field: str,
    kind: str,
    client: httpx.AsyncClient,
    world: World,
    other_world: World,
    manager: dict[str, str],
    session: AsyncSession,
) -> None:
    body = payload(world, kind)
    foreign = {
        "service_id": other_world.service.id,
        "recorded_by_id": other_world.manager.id,
        "subject_staff_id": other_world.worker.id,
        "person_ref_id": other_world.person.id,
        "innovation_ids[0]": other_world.innovation.id,
        "facts.buddy_id": other_world.manager.id,
    }[field]
    if field == "innovation_ids[0]":
        body["innovation_ids"] = [str(foreign)]
    elif field == "facts.buddy_id":
        body["facts"] = {"buddy_id": str(foreign)}
    else:
        body[field] = str(foreign)
    response = await client.post("/v1/touchpoints", json=body, headers=manager)
    assert response.status_code == 422, response.text
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [(field, "reference_not_found")]
    assert await count_touchpoints(session, world.org) == 0
    assert await count_touchpoints(session, other_world.org) == 0


async def test_a_review_must_follow_an_incident_of_the_same_provider(
    client: httpx.AsyncClient,
    world: World,
    other_world: World,
    manager: dict[str, str],
    tokens: TokenFactory,
) -> None:
    other_manager = tokens.headers("registered_manager", other_world.org.id)
    foreign_incident = await client.post(
        "/v1/touchpoints", json=payload(other_world, "incident"), headers=other_manager
    )
    note = await client.post("/v1/touchpoints", json=payload(world), headers=manager)
    own_incident = await client.post("/v1/touchpoints", json=payload(world, "incident"), headers=manager)

    def review(incident_id: str) -> dict[str, object]:
        body = payload(world, "post_incident_review")
        body["facts"] = {**body["facts"], "incident_id": incident_id}
        return body

    foreign = await client.post(
        "/v1/touchpoints", json=review(foreign_incident.json()["id"]), headers=manager
    )
    not_incident = await client.post("/v1/touchpoints", json=review(note.json()["id"]), headers=manager)
    accepted = await client.post("/v1/touchpoints", json=review(own_incident.json()["id"]), headers=manager)
    assert foreign.json()["errors"][0] == {
        "field": "facts.incident_id",
        "rule": "reference_not_found",
        "message": "no touchpoint with this id in your organisation",
    }
    assert not_incident.json()["errors"][0]["rule"] == "not_an_incident"
    assert accepted.status_code == 201
    assert accepted.json()["facts"]["incident_id"] == own_incident.json()["id"]


async def test_an_innovation_not_running_at_the_service_is_refused(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    body = payload(world, innovation_ids=[str(world.innovation.id), str(world.elsewhere_innovation.id)])
    response = await client.post("/v1/touchpoints", json=body, headers=manager)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "innovation_ids[1]"
    assert error["rule"] == "innovation_not_in_service"


async def test_a_caller_limited_to_services_writes_only_to_them(
    client: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    worker = tokens.headers("care_worker", world.org.id, services=[world.other_service.id])
    response = await client.post("/v1/touchpoints", json=payload(world), headers=worker)
    assert response.status_code == 403
    assert response.json()["errors"][0]["rule"] == "service_out_of_scope"


async def test_an_integration_client_writes_only_as_its_own_source_system(
    session: AsyncSession, world: World
) -> None:
    client_principal = Principal(
        sub="client-acme",
        organisation_id=world.org.id,
        roles=frozenset({Role.integration}),
        client_id="client-acme",
        source_system="acme-care",
    )
    other_system = payload(world, source_system="other-care", external_id="n-1")
    implied = payload(world, external_id="n-2")
    with pytest.raises(Forbidden) as refused:
        await record_touchpoint(session=session, principal=client_principal, item=other_system)
    accepted = await record_touchpoint(session=session, principal=client_principal, item=implied)
    assert refused.value.errors is not None
    assert refused.value.errors[0]["rule"] == "source_system_mismatch"
    assert accepted.status == "created"
    assert accepted.touchpoint.source_system == "acme-care"


async def test_unknown_ids_are_refused_without_writing(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    body = payload(world, innovation_ids=[str(uuid.uuid4())])
    response = await client.post("/v1/touchpoints", json=body, headers=manager)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "innovation_ids[0]"
    assert await count_touchpoints(session, world.org) == 0
