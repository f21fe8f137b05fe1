"""A commissioner (and an inspector) crawling every GET route they can reach find no personal data.

The provider they read is seeded with data that must never leave it: free text about a person,
staff names and ids, staff and person references, the subjects of users' tokens. Every GET route
in the route table is called with path parameters filled from that data (a route's parameter
names say what it wants), once with only what is required and once with every filter it knows
filled in, and every successful answer is searched for those values. Counts from 1 to 4 in fields
named like counts must come back suppressed. Routes added later are crawled automatically.
"""

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.settings import Settings
from service.status.present import COUNTS_PEOPLE
from service.status.vocabulary import IndicatorKey
from service.vocabulary import Role
from tests import factories
from tests.policy.conftest import World
from tests.policy.route_table import RouteCase, current_app, fill_path, sample_value, walk
from tests.tokens import TokenFactory

GET_CASES = [c for c in walk(current_app())[0] if c.method == "GET"]
COUNT_KEY = re.compile(r"(^|_)(count|numerator|denominator|n)$")
NOT_PEOPLE_INDICATORS = {key.value for key in IndicatorKey} - {key.value for key in COUNTS_PEOPLE}


@dataclass
class Seeded:
    """What the crawl fills parameters with, and what it must never find."""

    parameters: dict[str, str]
    secrets: dict[str, str] = field(default_factory=dict)


async def _seed(
    factory: async_sessionmaker[AsyncSession], client: httpx.AsyncClient, world: World, settings: Settings
) -> Seeded:
    provider = world.provider
    async with factory() as session:
        house = await factories.care_service(session, provider, name="Crawl House")
        carer = await factories.staff_member(
            session, provider, [house], display_name="Zelda Quixote-Crawl", external_ref="STAFF-CRAWL-7731"
        )
        observer = await factories.staff_member(
            session, provider, [house], role="team_leader", display_name="Xavier Yellowcrawl"
        )
        person = await factories.person(session, provider, external_ref="PERSON-CRAWL-5521")
        innovation = await factories.innovation(session, provider, [house])
        relationship = await factories.commissioning(
            session, world.commissioner, provider, service_ids=[house.id]
        )
        grant = await factories.access_grant(session, provider, world.regulator)

    tokens = TokenFactory(settings)
    lead = tokens.headers(Role.quality_lead, provider.id, sub="crawl-recorder-sub-9932")
    occurred = datetime.now(UTC) - timedelta(days=3)
    free_text = "Mrs Crawlington was upset after lunch and asked for her daughter"
    note = await client.post(
        "/v1/touchpoints",
        json={
            "kind": "daily_note",
            "service_id": str(house.id),
            "occurred_at": occurred.isoformat(),
            "recorded_by_id": str(carer.id),
            "person_ref_id": str(person.id),
            "innovation_ids": [str(innovation.id)],
            "source_system": "crawl-care",
            "external_id": "note-crawl-1",
            "text": free_text,
            "facts": {"activity": "Garden walk", "engagement_quality": 4},
        },
        headers=lead,
    )
    assert note.status_code == 201, note.text
    observation = await client.post(
        "/v1/touchpoints",
        json={
            "kind": "practice_observation",
            "service_id": str(house.id),
            "occurred_at": occurred.isoformat(),
            "recorded_by_id": str(observer.id),
            "subject_staff_id": str(carer.id),
            "innovation_ids": [str(innovation.id)],
            "text": "Observed Zelda explaining the plan calmly",
            "facts": {"score": 4, "explains_why": True},
        },
        headers=lead,
    )
    assert observation.status_code == 201, observation.text
    admin = tokens.headers(Role.provider_admin, provider.id)
    user = await client.post(
        "/v1/users", json={"sub": "idp|crawl-user-4410", "roles": ["care_worker"]}, headers=admin
    )
    assert user.status_code == 201, user.text
    integration = await client.post(
        "/v1/integration-clients", json={"name": "Crawl", "source_system": "crawl-care"}, headers=admin
    )
    assert integration.status_code == 201, integration.text

    return Seeded(
        parameters={
            "organisation_id": str(provider.id),
            "provider_id": str(provider.id),
            "commissioner_id": str(world.commissioner.id),
            "regulator_id": str(world.regulator.id),
            "service_id": str(house.id),
            "innovation_id": str(innovation.id),
            "staff_member_id": str(carer.id),
            "staff_id": str(carer.id),
            "person_ref_id": str(person.id),
            "person_id": str(person.id),
            "touchpoint_id": note.json()["id"],
            "relationship_id": str(relationship.id),
            "grant_id": str(grant.id),
            "user_id": user.json()["id"],
            "client_row_id": integration.json()["id"],
            "key": "system_visibility",
            "source_system": "crawl-care",
            "external_id": "note-crawl-1",
            "external_ref": "STAFF-CRAWL-7731",
            "as_of": datetime.now(UTC).isoformat(),
            "occurred_from": (date.today() - timedelta(days=30)).isoformat(),
        },
        secrets={
            "free text": free_text,
            "free text (observation)": "Observed Zelda",
            "staff name": "Zelda Quixote-Crawl",
            "staff name (observer)": "Xavier Yellowcrawl",
            "staff id": str(carer.id),
            "staff id (observer)": str(observer.id),
            "staff reference": "STAFF-CRAWL-7731",
            "person id": str(person.id),
            "person reference": "PERSON-CRAWL-5521",
            "recording user's subject": "crawl-recorder-sub-9932",
            "user account subject": "idp|crawl-user-4410",
        },
    )


def leaks(payload: Any, secrets: dict[str, str]) -> list[str]:
    """Seeded secrets found anywhere in the answer, and small counts not suppressed."""
    text = json.dumps(payload, default=str)
    found = [f"{what} ({value!r})" for what, value in secrets.items() if value in text]

    def walk_counts(node: Any, path: str) -> None:
        if isinstance(node, dict):
            # Indicators that count delivery systems, shifts or audits say nothing about a person.
            counts_things = isinstance(node.get("key"), str) and node["key"] in NOT_PEOPLE_INDICATORS
            for key, value in node.items():
                if (
                    isinstance(value, int)
                    and not isinstance(value, bool)
                    and COUNT_KEY.search(key)
                    and 0 < value < 5
                    and not (counts_things and key in ("numerator", "denominator"))
                ):
                    found.append(f"unsuppressed small count {path}.{key}={value}")
                walk_counts(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk_counts(item, f"{path}[{index}]")

    walk_counts(payload, "$")
    return found


def query_parameters(dependant: Dependant) -> list[Any]:
    """The query parameters of the endpoint and of every dependency it uses."""
    found = list(dependant.query_params)
    for sub in dependant.dependencies:
        found += query_parameters(sub)
    return found


def requests_for(case: RouteCase, seeded: Seeded) -> list[tuple[str, dict[str, str]]]:
    """The route once with only required query parameters, once with every known one filled."""
    path = fill_path(case, seeded.parameters)
    if case.dependant is None:
        return [(path, {})]
    query = query_parameters(case.dependant)
    required = {
        q.name: seeded.parameters.get(q.name) or sample_value(q.field_info.annotation)
        for q in query
        if q.field_info.is_required()
    }
    known = {q.name: seeded.parameters[q.name] for q in query if q.name in seeded.parameters}
    variants = [(path, required)]
    if known.keys() - required.keys():
        variants.append((path, {**required, **known}))
    return variants


@pytest.fixture(scope="module")
async def seeded(
    world_session_factory: async_sessionmaker[AsyncSession],
    world_client: httpx.AsyncClient,
    world: World,
    world_settings: Settings,
) -> Seeded:
    return await _seed(world_session_factory, world_client, world, world_settings)


@pytest.mark.parametrize("role", [Role.commissioner, Role.inspector])
async def test_external_reader_finds_no_personal_data(
    role: Role, world_client: httpx.AsyncClient, world: World, seeded: Seeded
) -> None:
    headers = world.callers[role]
    found: list[str] = []
    answered: list[str] = []
    for case in GET_CASES:
        for path, params in requests_for(case, seeded):
            response = await world_client.get(path, params=params, headers=headers)
            assert response.status_code < 500, f"{case.id}: {response.status_code} {response.text[:300]}"
            if not 200 <= response.status_code < 300:
                continue
            answered.append(case.id)
            try:
                payload: Any = response.json()
            except ValueError:
                payload = response.text
            found += [f"{case.id} {params}: {leak}" for leak in leaks(payload, seeded.secrets)]
    assert not found, "\n".join(found)
    # The crawl did reach the provider's data where the role may (not only 403s and probes).
    assert "GET /v1/organisations/{organisation_id}" in answered, answered


async def test_provider_roles_do_see_the_seeded_data(
    world_client: httpx.AsyncClient, world: World, seeded: Seeded
) -> None:
    """The control: the same crawl as a quality lead does find the secrets, so the search works."""
    found: list[str] = []
    for case in GET_CASES:
        for path, params in requests_for(case, seeded):
            response = await world_client.get(path, params=params, headers=world.callers[Role.quality_lead])
            if 200 <= response.status_code < 300 and "json" in response.headers.get("content-type", ""):
                found += leaks(response.json(), seeded.secrets)
    assert any(f.startswith("free text") for f in found), found
    assert any(f.startswith("staff name") for f in found), found


def test_leak_search_finds_nested_values_and_small_counts() -> None:
    secrets = {"staff name": "Zelda", "person id": str(uuid.UUID(int=7))}
    payload = {"items": [{"indicators": [{"numerator": 3, "denominator": 12, "note": "by Zelda"}]}]}
    assert leaks(payload, secrets) == [
        "staff name ('Zelda')",
        "unsuppressed small count $.items[0].indicators[0].numerator=3",
    ]
    assert leaks({"numerator": {"suppressed": True}, "denominator": 40, "count": 0}, secrets) == []
