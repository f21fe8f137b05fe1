"""Each kind's facts are validated, and each refusal names the field and the rule it broke."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tests.touchpoints.world import FACTS, World, payload

ALL_KINDS = sorted(FACTS)


@pytest.mark.parametrize("kind", ALL_KINDS)
async def test_every_kind_is_recorded_with_its_system_and_typed_facts(
    kind: str, client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    body = payload(world, kind)
    if kind == "post_incident_review":
        incident = await client.post("/v1/touchpoints", json=payload(world, "incident"), headers=manager)
        body["facts"]["incident_id"] = incident.json()["id"]
    if kind in ("induction", "shadowing"):
        body["facts"]["buddy_id"] = str(world.manager.id)
    response = await client.post("/v1/touchpoints", json=body, headers=manager)
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["kind"] == kind
    assert stored["facts"] == {k: v for k, v in body["facts"].items()}
    assert response.headers["location"] == f"/v1/touchpoints/{stored['id']}"
    expected_system = {
        "daily_note": "care_records",
        "care_plan_review": "care_records",
        "shift_handover": "team_communication",
        "team_meeting": "team_communication",
        "supervision": "supervision",
        "competency_check": "supervision",
        "audit": "quality_assurance",
        "quality_review": "quality_assurance",
        "practice_observation": "quality_assurance",
        "induction": "workforce",
        "shadowing": "workforce",
        "incident": "incident_learning",
        "post_incident_review": "incident_learning",
        "staff_survey": "staff_voice",
    }[kind]
    assert stored["system"] == expected_system


async def test_typed_columns_carry_the_facts(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    from sqlalchemy import select

    from service.touchpoints.models import Touchpoint

    observation = await client.post(
        "/v1/touchpoints", json=payload(world, "practice_observation"), headers=manager
    )
    audit = await client.post("/v1/touchpoints", json=payload(world, "audit"), headers=manager)
    rows = {
        row.kind: row
        for row in (
            await session.execute(select(Touchpoint).where(col(Touchpoint.organisation_id) == world.org.id))
        ).scalars()
    }
    assert observation.status_code == audit.status_code == 201
    assert rows["practice_observation"].score == 4
    assert rows["practice_observation"].explains_why is True
    assert float(rows["audit"].score_percent or 0) == 86.5
    assert rows["audit"].score is None


REFUSALS: list[tuple[str, dict[str, Any], str, str]] = [
    ("daily_note", {"engagement_quality": 6}, "facts.engagement_quality", "less_than_equal"),
    ("daily_note", {"engagement_quality": "4"}, "facts.engagement_quality", "int_type"),
    ("daily_note", {"activity": ""}, "facts.activity", "string_too_short"),
    ("daily_note", {"engagment_quality": 3}, "facts.engagment_quality", "extra_forbidden"),
    ("care_plan_review", {"changes_made": "yes"}, "facts.changes_made", "bool_type"),
    ("shift_handover", {"attendees": 0}, "facts.attendees", "greater_than_equal"),
    ("team_meeting", {"attendees": None}, "facts.attendees", "int_type"),
    ("supervision", {"explains_why": "sometimes"}, "facts.explains_why", "bool_type"),
    ("competency_check", {"passed": None}, "facts.passed", "bool_type"),
    ("practice_observation", {"score": 0}, "facts.score", "greater_than_equal"),
    ("audit", {"score_percent": 101}, "facts.score_percent", "less_than_equal"),
    ("quality_review", {"actions": -1}, "facts.actions", "greater_than_equal"),
    ("induction", {"buddy_id": "not-an-id"}, "facts.buddy_id", "uuid_parsing"),
    ("shadowing", {"buddy_id": 7}, "facts.buddy_id", "uuid_type"),
    ("incident", {"severity": "catastrophic"}, "facts.severity", "literal_error"),
    ("post_incident_review", {"learning_captured": 1}, "facts.learning_captured", "bool_type"),
    (
        "staff_survey",
        {"general": {"familiar": 11, "normal_now": 5, "normal_future": 5}},
        "facts.general.familiar",
        "less_than_equal",
    ),
]


@pytest.mark.parametrize(("kind", "facts", "field", "rule"), REFUSALS)
async def test_each_kinds_refusal_names_its_field(
    kind: str,
    facts: dict[str, Any],
    field: str,
    rule: str,
    client: httpx.AsyncClient,
    world: World,
    manager: dict[str, str],
) -> None:
    body = payload(world, kind)
    body["facts"] = {**body["facts"], **facts}
    if kind == "post_incident_review":
        body["facts"]["incident_id"] = str(world.innovation.id)
    response = await client.post("/v1/touchpoints", json=body, headers=manager)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert {"field": field, "rule": rule} in [{"field": e["field"], "rule": e["rule"]} for e in errors]


async def test_a_staff_survey_answers_every_item_on_the_scale_or_opts_out(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    body = payload(world, "staff_survey")
    items = dict(body["facts"]["items"])
    items["ca2"] = 6
    items["rm1"] = "not_sure"
    del items["cp3"]
    body["facts"] = {**body["facts"], "items": items}
    response = await client.post("/v1/touchpoints", json=body, headers=manager)
    fields = {(e["field"], e["rule"]) for e in response.json()["errors"]}
    assert fields == {
        ("facts.items.ca2", "nomad_answer"),
        ("facts.items.rm1", "nomad_answer"),
        ("facts.items.cp3", "missing"),
    }


async def test_a_staff_survey_is_about_exactly_one_innovation(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    body = payload(
        world, "staff_survey", innovation_ids=[str(world.innovation.id), str(world.second_innovation.id)]
    )
    response = await client.post("/v1/touchpoints", json=body, headers=manager)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "innovation_ids"


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"kind": "bedtime_story"}, "kind", "union_tag_invalid"),
        ({"kind": None}, "kind", "union_tag_invalid"),
        ({"occurred_at": "2026-03-04T22:15:00"}, "occurred_at", "timezone_aware"),
        ({"service_id": "oak-house"}, "service_id", "uuid_parsing"),
        ({"shift": "twilight"}, "shift", "enum"),
        ({"external_id": "n-1"}, "source_system", "source_pair"),
        ({"source_system": "acme-care"}, "external_id", "source_pair"),
        ({"source_system": "acme care", "external_id": "n-1"}, "source_system", "string_pattern_mismatch"),
        ({"colour": "blue"}, "colour", "extra_forbidden"),
        ({"person_ref_id": None}, "person_ref_id", "uuid_type"),
    ],
)
async def test_envelope_refusals_name_their_field(
    overrides: dict[str, Any],
    field: str,
    rule: str,
    client: httpx.AsyncClient,
    world: World,
    manager: dict[str, str],
) -> None:
    body = {**payload(world), **overrides}
    response = await client.post("/v1/touchpoints", json=body, headers=manager)
    assert response.status_code == 422, response.text
    first = response.json()["errors"][0]
    assert (first["field"], first["rule"]) == (field, rule)


async def test_occurred_at_may_be_only_minutes_ahead_of_the_clock(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    soon = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    later = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    accepted = await client.post("/v1/touchpoints", json=payload(world, occurred_at=soon), headers=manager)
    refused = await client.post("/v1/touchpoints", json=payload(world, occurred_at=later), headers=manager)
    assert accepted.status_code == 201
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "occurred_at"
    assert refused.json()["errors"][0]["rule"] == "in_future"


async def test_a_body_that_is_not_an_object_is_refused(
    client: httpx.AsyncClient, manager: dict[str, str]
) -> None:
    response = await client.post("/v1/touchpoints", json=[1, 2], headers=manager)
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "model_type"


@pytest.mark.parametrize(
    "raw", [b'{"kind": "daily_note"', b'{"text": "\xff\xfe caf\xe9"}'], ids=["json", "utf8"]
)
async def test_a_body_that_is_not_json_is_refused_as_json_invalid(
    raw: bytes, client: httpx.AsyncClient, manager: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/touchpoints", content=raw, headers={**manager, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["rule"] == "json_invalid"
