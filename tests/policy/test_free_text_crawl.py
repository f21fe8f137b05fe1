"""Free text never reaches a caller that may not read it, by any route or query.

A touchpoint of every kind is posted with a unique marker in every free-text field: its `text` and
each facts field its facts schema marks as free text (read from the schemas, so a newly marked fact
is planted too), then corrected with new markers so its revision holds the first ones. Every GET
route (every indicator's evidence among them) and every GraphQL query field is then crawled:
- as a commissioner and an inspector (with a grant in force): no marker anywhere;
- as a provider role stripped of `touchpoint:read_text` (which reads every touchpoint) and as a
  provider admin: no marker anywhere, and its own create and correct answers carry none;
- as a quality lead and as the care worker who recorded them: every marker is found, so the crawl
  reaches every planted field and the search works.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.graphql.schema import schema
from service.policy import ROLE_PERMISSIONS, Permission
from service.settings import Settings
from service.status.vocabulary import IndicatorKey
from service.touchpoints.free_text import FactPath, free_text_facts
from service.vocabulary import Role, TouchpointKind
from tests import factories
from tests.policy.conftest import World
from tests.policy.graphql_crawl import root_queries
from tests.policy.test_external_crawl import GET_CASES, Seeded, requests_for
from tests.tokens import TokenFactory
from tests.touchpoints.world import FACTS

MARK = f"ftmark{uuid.uuid4().hex[:10]}"
CARER_SUB = "free-text-carer-sub"
SOURCE = "ft-care"
GRAPHQL_DEPTH = 6


@dataclass
class Planted:
    parameters: dict[str, str]
    graphql_values: dict[str, list[Any]]
    bodies: dict[str, dict[str, Any]]  # kind → the body as last written
    ids: dict[str, str]  # kind → touchpoint id
    markers: dict[str, str] = field(default_factory=dict)  # label → marker


def _with_value(facts: Any, path: FactPath, value: str) -> Any:
    head, rest = path[0], path[1:]
    return {**facts, head: _with_value(facts[head], rest, value) if rest else value}


def plant(body: dict[str, Any], markers: dict[str, str], round_: str) -> dict[str, Any]:
    """`body` with a new marker in its text and each of its kind's free-text facts."""
    kind = body["kind"]
    label = f"{kind}.text#{round_}"
    markers[label] = f"{MARK}:{label}"
    planted = {**body, "text": markers[label]}
    for path in free_text_facts()[kind]:
        label = f"{kind}.facts.{'.'.join(path)}#{round_}"
        markers[label] = f"{MARK}:{label}"
        planted["facts"] = _with_value(planted["facts"], path, markers[label])
    return planted


async def _seed(
    factory: async_sessionmaker[AsyncSession], client: httpx.AsyncClient, world: World, settings: Settings
) -> Planted:
    provider = world.provider
    async with factory() as session:
        house = await factories.care_service(session, provider, name="Free Text House")
        carer = await factories.staff_member(session, provider, [house], external_ref=CARER_SUB)
        person = await factories.person(session, provider)
        innovation = await factories.innovation(session, provider, [house])
    lead = TokenFactory(settings).headers(Role.quality_lead, provider.id, sub="free-text-lead")
    occurred = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    planted = Planted(
        parameters={
            "organisation_id": str(provider.id),
            "provider_id": str(provider.id),
            "service_id": str(house.id),
            "innovation_id": str(innovation.id),
            "staff_member_id": str(carer.id),
            "staff_id": str(carer.id),
            "person_ref_id": str(person.id),
            "person_id": str(person.id),
            "source_system": SOURCE,
            "external_ref": CARER_SUB,
        },
        graphql_values={
            "organisation.id": [str(provider.id)],
            "service.id": [str(house.id)],
            "staffMember.id": [str(carer.id)],
            "personRef.id": [str(person.id)],
            "innovation.id": [str(innovation.id)],
            "innovationId": [str(innovation.id)],
            "key": [key.value for key in IndicatorKey],
        },
        bodies={},
        ids={},
    )
    # The incident first: its review names it.
    kinds = sorted(TouchpointKind, key=lambda k: k is TouchpointKind.post_incident_review)
    for kind in kinds:
        body: dict[str, Any] = {
            "kind": kind.value,
            "service_id": str(house.id),
            "occurred_at": occurred,
            "recorded_by_id": str(carer.id),
            "innovation_ids": [str(innovation.id)],
            "source_system": SOURCE,
            "external_id": f"ft-{kind.value}",
            "facts": dict(FACTS[kind.value]),
        }
        if kind in (TouchpointKind.daily_note, TouchpointKind.care_plan_review):
            body["person_ref_id"] = str(person.id)
        if kind in (
            TouchpointKind.supervision,
            TouchpointKind.competency_check,
            TouchpointKind.induction,
            TouchpointKind.shadowing,
        ):
            body["subject_staff_id"] = str(carer.id)
        if kind is TouchpointKind.post_incident_review:
            body["facts"]["incident_id"] = planted.ids["incident"]
        first = plant(body, planted.markers, "1")
        created = await client.post("/v1/touchpoints", json=first, headers=lead)
        assert created.status_code == 201, created.text
        planted.ids[kind.value] = created.json()["id"]
        # Corrected: the revision keeps the first markers, the record holds the second.
        second = plant(body, planted.markers, "2")
        corrected = await client.put(f"/v1/touchpoints/{planted.ids[kind.value]}", json=second, headers=lead)
        assert corrected.status_code == 200, corrected.text
        planted.bodies[kind.value] = second
    planted.graphql_values["touchpoint.id"] = list(planted.ids.values())
    planted.parameters["touchpoint_id"] = planted.ids["daily_note"]
    planted.parameters["external_id"] = "ft-daily_note"
    return planted


@pytest.fixture(scope="module")
async def planted(
    world_session_factory: async_sessionmaker[AsyncSession],
    world_client: httpx.AsyncClient,
    world: World,
    world_settings: Settings,
) -> Planted:
    return await _seed(world_session_factory, world_client, world, world_settings)


def markers_in(answer: str, planted: Planted) -> set[str]:
    if MARK not in answer:
        return set()
    return {label for label, marker in planted.markers.items() if marker in answer}


@dataclass
class Crawl:
    found: dict[str, list[str]] = field(default_factory=dict)  # label → where
    answered: set[str] = field(default_factory=set)

    def saw(self, where: str, answer: str, planted: Planted) -> None:
        for label in markers_in(answer, planted):
            self.found.setdefault(label, []).append(where)


async def crawl(client: httpx.AsyncClient, headers: dict[str, str], planted: Planted) -> Crawl:
    """Every GET route (each indicator's evidence) and every GraphQL query field, as `headers`."""
    result = Crawl()
    for case in GET_CASES:
        keys = [key.value for key in IndicatorKey] if "{key}" in case.path else [None]
        for key in keys:
            parameters = {**planted.parameters, **({"key": key} if key else {})}
            for path, params in requests_for(case, Seeded(parameters=parameters)):
                response = await client.get(path, params=params, headers=headers)
                assert response.status_code < 500, f"{case.id}: {response.status_code} {response.text[:300]}"
                if 200 <= response.status_code < 300:
                    result.answered.add(case.id)
                    result.saw(f"{path} {params}", response.text, planted)
    for name, query, variables in root_queries(schema._schema, planted.graphql_values, depth=GRAPHQL_DEPTH):
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, f"{name}: {response.text[:300]}"
        body = response.json()
        codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
        assert not {c for c in codes if c and "TOO" in c}, f"{name}: refused as too large: {codes}"
        if (body.get("data") or {}).get(name) is not None:
            result.answered.add(f"graphql {name}")
        result.saw(f"graphql {name} {variables}", response.text, planted)
    return result


def every_marker_is_planted(planted: Planted) -> None:
    kinds = {kind.value for kind in TouchpointKind}
    assert set(planted.ids) == kinds
    for kind in kinds:
        for path in (("text",), *(("facts", *p) for p in free_text_facts()[kind])):
            for round_ in ("1", "2"):
                assert f"{kind}.{'.'.join(path)}#{round_}" in planted.markers


@pytest.mark.parametrize("role", [Role.commissioner, Role.inspector])
async def test_external_readers_never_get_free_text(
    role: Role, world_client: httpx.AsyncClient, world: World, planted: Planted
) -> None:
    every_marker_is_planted(planted)
    result = await crawl(world_client, world.callers[role], planted)
    assert result.found == {}, result.found
    assert "GET /v1/innovations/{innovation_id}/status" in result.answered, result.answered
    if role is Role.inspector:
        # The inspector did get the audit behind audit_stability: its tool was there to withhold.
        assert "graphql indicatorEvidence" in result.answered
        evidence = await world_client.get(
            f"/v1/innovations/{planted.parameters['innovation_id']}/indicators/audit_stability/evidence",
            headers=world.callers[role],
        )
        assert evidence.status_code == 200, evidence.text
        (audit,) = [i for i in evidence.json()["items"] if i["touchpoint_id"] == planted.ids["audit"]]
        assert audit["facts"]["tool"] is None and audit["text"] is None
        assert audit["facts"]["score_percent"] == FACTS["audit"]["score_percent"]


@pytest.fixture
def manager_without_free_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """A registered manager that reads every touchpoint but lacks `touchpoint:read_text`."""
    stripped = ROLE_PERMISSIONS[Role.registered_manager] - {Permission.touchpoint_read_text}
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.registered_manager, stripped)


@pytest.mark.usefixtures("manager_without_free_text")
async def test_a_reader_without_the_permission_gets_free_text_as_null(
    world_client: httpx.AsyncClient, world: World, planted: Planted
) -> None:
    headers = world.callers[Role.registered_manager]
    result = await crawl(world_client, headers, planted)
    assert result.found == {}, result.found
    assert {"GET /v1/touchpoints", "GET /v1/touchpoints/{touchpoint_id}", "graphql touchpoint"} <= (
        result.answered
    )

    # Withheld as null, in place: the record and its revision both keep the fields.
    for kind, touchpoint_id in planted.ids.items():
        read = await world_client.get(f"/v1/touchpoints/{touchpoint_id}", headers=headers)
        assert read.status_code == 200, read.text
        detail = read.json()
        (revision,) = detail["revisions"]
        for record in (detail, revision["content"]):
            assert record["text"] is None
            for path in free_text_facts()[kind]:
                assert record["facts"][path[0]] is None, (kind, path)

    # Its own create, correct and upsert answers carry none either.
    own: dict[str, str] = {}
    for kind, body in planted.bodies.items():
        fresh = plant({**body, "external_id": f"ft-own-{kind}"}, own, "own")
        created = await world_client.post("/v1/touchpoints", json=fresh, headers=headers)
        assert created.status_code == 201, created.text
        again = plant(fresh, own, "own-2")
        corrected = await world_client.put(
            f"/v1/touchpoints/{created.json()['id']}", json=again, headers=headers
        )
        assert corrected.status_code == 200, corrected.text
        upserted = await world_client.put(
            f"/v1/touchpoints/by-source/{SOURCE}/ft-upsert-{kind}",
            json={**again, "external_id": None},
            headers=headers,
        )
        assert upserted.status_code in (200, 201), upserted.text
        for answer in (created, corrected, upserted):
            assert MARK not in answer.text, (kind, answer.text)


async def test_a_provider_admin_never_gets_free_text(
    world_client: httpx.AsyncClient, world: World, planted: Planted
) -> None:
    result = await crawl(world_client, world.callers[Role.provider_admin], planted)
    assert result.found == {}, result.found


@pytest.mark.parametrize("role", [Role.quality_lead, Role.care_worker])
async def test_roles_that_may_read_free_text_get_every_field(
    role: Role, world_client: httpx.AsyncClient, world: World, planted: Planted, world_settings: Settings
) -> None:
    headers = TokenFactory(world_settings).headers(role, world.provider.id, sub=CARER_SUB)
    result = await crawl(world_client, headers, planted)
    assert set(planted.markers) - set(result.found) == set()
