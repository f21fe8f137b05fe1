"""The status routes end to end: touchpoints posted through the ingestion API, statuses read back by
each kind of caller, with their scope and what is withheld from them."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from service.organisations.models import AccessGrant, Organisation
from service.people.models import PersonRef
from service.services.models import Service
from service.staff.models import StaffMember
from tests import factories
from tests.projections.support import drain_app
from tests.tokens import TokenFactory

NOW = datetime.now(UTC)
ROLES = ("registered_manager", "quality_lead", "care_worker", "provider_admin")


@dataclass
class Provider:
    org: Organisation
    oak: Service
    elm: Service
    staff: list[StaffMember]
    person: PersonRef
    innovation_id: uuid.UUID
    headers: dict[str, dict[str, str]]

    def url(self, tail: str = "status") -> str:
        return f"/v1/innovations/{self.innovation_id}/{tail}"


def ago(days: float, hour: int = 10) -> str:
    moment = (NOW - timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return min(moment, NOW - timedelta(minutes=1)).isoformat()


async def post(client: httpx.AsyncClient, headers: dict[str, str], items: list[dict[str, Any]]) -> list[str]:
    """Through the ingestion API, in batches, every item stored."""
    ids = []
    for start in range(0, len(items), 500):
        batch = {"items": items[start : start + 500]}
        response = await client.post("/v1/touchpoints/batch", json=batch, headers=headers)
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert all(r["status"] == "created" for r in results), [
            r for r in results if r["status"] != "created"
        ]
        ids += [r["id"] for r in results]
    return ids


def delivery(provider: Provider, days: int = 100) -> list[dict[str, Any]]:
    """Notes every day in both services on all shifts, weekly handovers and supervisions, monthly
    audits, and two incidents at Oak House that nobody reviewed."""
    items: list[dict[str, Any]] = []
    staff, innovation = provider.staff, str(provider.innovation_id)
    for day in range(1, days):
        for n, service in enumerate((provider.oak, provider.elm)):
            who = staff[(day + n) % len(staff)]
            base = {
                "service_id": str(service.id),
                "recorded_by_id": str(who.id),
                "innovation_ids": [innovation],
            }
            items.append(
                {
                    **base,
                    "kind": "daily_note",
                    "occurred_at": ago(day, 9 + (day % 3) * 6),
                    "person_ref_id": str(provider.person.id),
                    "text": "Went to the garden and planted bulbs",
                    "facts": {"activity": "Garden", "engagement_quality": 4},
                }
            )
            if day % 7 == 0:
                items.append(
                    {**base, "kind": "shift_handover", "occurred_at": ago(day, 14), "facts": {"attendees": 4}}
                )
                items.append(
                    {
                        **base,
                        "kind": "supervision",
                        "occurred_at": ago(day, 11),
                        "subject_staff_id": str(staff[(day + 1) % len(staff)].id),
                        "facts": {"explains_why": True},
                    }
                )
            if day % 30 == 0:
                audit = {"tool": "Engagement audit", "score_percent": 86.0}
                items.append({**base, "kind": "audit", "occurred_at": ago(day, 12), "facts": audit})
    for day in (20, 40):
        incident = {"severity": "low", "restrictive_intervention": False}
        items.append(
            {
                "service_id": str(provider.oak.id),
                "kind": "incident",
                "occurred_at": ago(day, 16),
                "recorded_by_id": str(staff[0].id),
                "facts": incident,
            }
        )
    return items


@pytest.fixture
async def provider(session: AsyncSession, client: httpx.AsyncClient, tokens: TokenFactory) -> Provider:
    org = await factories.organisation(session, name="Riverside Care")
    oak = await factories.care_service(session, org, "Oak House")
    elm = await factories.care_service(session, org, "Elm Court")
    staff = [await factories.staff_member(session, org, [oak, elm]) for _ in range(6)]
    person = await factories.person(session, org)
    started = (NOW - timedelta(days=200)).date()
    innovation = await factories.innovation(session, org, [oak, elm], started_on=started)
    headers = {role: tokens.headers(role, org.id, sub=f"{role}-1") for role in ROLES}
    built = Provider(org, oak, elm, staff, person, innovation.id, headers)
    await post(client, headers["registered_manager"], delivery(built))
    return built


def by_key(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["key"]: i for i in status["indicators"]}


async def test_a_quality_lead_reads_the_provider_status(
    client: httpx.AsyncClient, provider: Provider
) -> None:
    response = await client.get(provider.url(), headers=provider.headers["quality_lead"])
    assert response.status_code == 200, response.text
    status = response.json()
    assert status["service_id"] is None
    both = sorted([str(provider.oak.id), str(provider.elm.id)])
    assert status["scope"] == {"level": "provider", "service_ids": both}
    assert (status["window_days"], status["period"]) == (90, "LAST_90_DAYS")
    indicators = by_key(status)
    assert list(indicators) == [
        "system_visibility",
        "supervision_reinforcement",
        "understanding_why",
        "shift_consistency",
        "audit_stability",
        "incident_learning",
        "person_independence",
        "turnover_resilience",
    ]
    for indicator in indicators.values():
        assert {"value", "numerator", "denominator", "rag", "threshold", "explanation", "cqc"} <= set(
            indicator
        )
        assert indicator["evidence"].startswith(f"/v1/innovations/{provider.innovation_id}/indicators/")
    assert indicators["system_visibility"]["rag"] == "green"
    assert indicators["supervision_reinforcement"]["rag"] == "green"
    assert indicators["incident_learning"]["rag"] == "red"  # two incidents, no reviews
    assert indicators["incident_learning"]["cqc"] == {
        "quality_statements": [{"key_question": "safe", "statement": "Learning culture"}],
        "evidence_categories": ["processes", "outcomes"],
    }
    assert indicators["turnover_resilience"]["rag"] == "not_applicable"
    assert status["stage"] == "embedding"
    assert "incident_learning" in status["stage_reasons"][0]["indicators"]
    assert status["months_in_stage"] >= 1
    assert status["thresholds"]["supervision_reinforcement"] == {
        "green": 0.8,
        "amber": 0.5,
        "min_evidence": 3,
    }
    assert set(status["threshold_sources"].values()) == {"default"}
    assert set(status["context"]) == {"outcomes", "staff_voice", "drift"}
    assert status["context"]["outcomes"]["incidents_per_month"] > 0
    assert status["suppressed_counts"] is False


async def test_every_status_in_scope_has_a_provider_row_and_one_per_service(
    client: httpx.AsyncClient, provider: Provider, tokens: TokenFactory
) -> None:
    response = await client.get("/v1/status", headers=provider.headers["provider_admin"])
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    [item] = page["items"]
    assert item["innovation_id"] == str(provider.innovation_id)
    assert item["provider"]["service_id"] is None
    assert sorted(s["service_id"] for s in item["services"]) == sorted(
        [str(provider.oak.id), str(provider.elm.id)]
    )
    # The provider row is rolled up from the services' counts, not averaged from their verdicts.
    supervisions = [by_key(s)["supervision_reinforcement"]["denominator"] for s in item["services"]]
    assert by_key(item["provider"])["supervision_reinforcement"]["denominator"] == sum(supervisions)
    # A manager limited to one service sees that service only, and a provider row over it alone.
    limited = tokens.headers("registered_manager", provider.org.id, services=[provider.elm.id])
    [mine] = (await client.get("/v1/status", headers=limited)).json()["items"]
    assert mine["provider"]["scope"]["service_ids"] == [str(provider.elm.id)]
    assert [s["service_id"] for s in mine["services"]] == [str(provider.elm.id)]


async def test_one_service_and_what_is_refused(
    client: httpx.AsyncClient, provider: Provider, session: AsyncSession, tokens: TokenFactory
) -> None:
    manager = provider.headers["registered_manager"]
    response = await client.get(provider.url(), params={"service_id": str(provider.elm.id)}, headers=manager)
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == {"level": "service", "service_ids": [str(provider.elm.id)]}
    assert (
        by_key(response.json())["incident_learning"]["rag"] == "not_applicable"
    )  # the incidents were at Oak

    other = await factories.organisation(session)
    stranger = await factories.care_service(session, other)
    foreign = await factories.innovation(session, other, [stranger])
    refused = await client.get(provider.url(), params={"service_id": str(stranger.id)}, headers=manager)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "service_id"
    assert (await client.get(f"/v1/innovations/{foreign.id}/status", headers=manager)).status_code == 404
    assert (await client.get(f"/v1/innovations/{uuid.uuid4()}/status", headers=manager)).status_code == 404
    assert (await client.get(provider.url(), headers=provider.headers["care_worker"])).status_code == 403
    limited = tokens.headers("registered_manager", provider.org.id, services=[provider.elm.id])
    hidden = await client.get(provider.url(), params={"service_id": str(provider.oak.id)}, headers=limited)
    assert hidden.status_code == 404
    for params in ({"window_days": 7}, {"as_of": "2026-01-01T00:00:00"}, {"as_of": "2999-01-01T00:00:00Z"}):
        assert (await client.get(provider.url(), params=params, headers=manager)).status_code == 422, params


async def test_history_is_monthly_and_ends_with_the_status_now(
    client: httpx.AsyncClient, provider: Provider
) -> None:
    manager = provider.headers["registered_manager"]
    response = await client.get(provider.url("status/history"), params={"months": 6}, headers=manager)
    assert response.status_code == 200, response.text
    months = response.json()["months"]
    assert len(months) == 6
    assert [m["current"] for m in months] == [False] * 5 + [True]
    assert [m["period"] for m in months][:2] == ["MONTHLY", "MONTHLY"]
    labels = [m["month"] for m in months]
    assert labels == sorted(labels) and len(set(labels)) == 6
    status = (await client.get(provider.url(), headers=manager)).json()
    assert months[-1]["stage"] == status["stage"]
    without_links = [{k: v for k, v in i.items() if k != "evidence"} for i in status["indicators"]]
    assert [
        {k: v for k, v in i.items() if k != "evidence"} for i in months[-1]["indicators"]
    ] == without_links
    # Months before the innovation reached anyone have nothing to show.
    early = (await client.get(provider.url("status/history"), params={"months": 24}, headers=manager)).json()
    assert early["months"][0]["stage"] == "not_started"


async def test_evidence_lists_numerator_and_denominator_in_pages(
    client: httpx.AsyncClient, provider: Provider
) -> None:
    manager = provider.headers["registered_manager"]
    url = provider.url("indicators/incident_learning/evidence")
    response = await client.get(url, headers=manager)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["indicator"] == "incident_learning" and body["redacted"] is False
    assert [i["kind"] for i in body["items"]] == ["incident", "incident"]
    assert all(i["in_denominator"] and not i["in_numerator"] for i in body["items"])

    url = provider.url("indicators/person_independence/evidence")
    first = (await client.get(url, params={"limit": 5}, headers=manager)).json()
    assert len(first["items"]) == 5 and first["next_cursor"]
    second = (
        await client.get(url, params={"limit": 5, "cursor": first["next_cursor"]}, headers=manager)
    ).json()
    seen = [i["touchpoint_id"] for i in first["items"] + second["items"]]
    assert len(set(seen)) == 10
    assert [i["occurred_at"] for i in first["items"]] == sorted(i["occurred_at"] for i in first["items"])
    note = next(i for i in first["items"] + second["items"] if i["kind"] == "daily_note")
    assert note["text"] == "Went to the garden and planted bulbs"
    assert note["recorded_by_id"] is not None and note["facts"] == {"engagement_quality": 4}
    assert any(i["in_numerator"] for i in first["items"] + second["items"]) or first["next_cursor"]
    assert (await client.get(url, headers=provider.headers["provider_admin"])).status_code == 403
    visibility = provider.url("indicators/system_visibility/evidence")
    shown = (await client.get(visibility, params={"limit": 200}, headers=manager)).json()["items"]
    assert {i["system"] for i in shown} <= {
        "care_records",
        "team_communication",
        "supervision",
        "quality_assurance",
    }
    assert all(i["in_numerator"] for i in shown if i["system"] == "care_records")
    assert (
        await client.get(provider.url("indicators/nonsense/evidence"), headers=manager)
    ).status_code == 422


async def test_a_commissioner_sees_only_commissioned_services_with_small_counts_withheld(
    client: httpx.AsyncClient, provider: Provider, session: AsyncSession, tokens: TokenFactory
) -> None:
    council = await factories.organisation(session, "commissioner", "Shire Council")
    headers = tokens.headers("commissioner", council.id)
    assert (await client.get(provider.url(), headers=headers)).status_code == 404
    await factories.commissioning(session, council, provider.org, service_ids=[provider.oak.id])
    response = await client.get(provider.url(), headers=headers)
    assert response.status_code == 200, response.text
    status = response.json()
    assert status["scope"]["service_ids"] == [str(provider.oak.id)]
    assert status["suppressed_counts"] is True
    incidents = by_key(status)["incident_learning"]
    assert incidents["rag"] == "red"
    assert incidents["numerator"] == {"suppressed": True} and incidents["denominator"] == {"suppressed": True}
    assert incidents["value"] is None
    assert "withheld" in incidents["explanation"]
    assert by_key(status)["supervision_reinforcement"]["denominator"] > 4
    assert status["context"]["outcomes"]["months"][-1]["incidents"] in (0, {"suppressed": True})
    elm = await client.get(provider.url(), params={"service_id": str(provider.elm.id)}, headers=headers)
    assert elm.status_code == 404
    assert (
        await client.get(provider.url("indicators/incident_learning/evidence"), headers=headers)
    ).status_code == 403
    [item] = (await client.get("/v1/status", headers=headers)).json()["items"]
    assert [s["service_id"] for s in item["services"]] == [str(provider.oak.id)]


async def test_an_inspector_with_a_grant_sees_evidence_without_text_or_identifiers(
    client: httpx.AsyncClient, provider: Provider, session: AsyncSession, tokens: TokenFactory
) -> None:
    regulator = await factories.organisation(session, "regulator", "CQC")
    headers = tokens.headers("inspector", regulator.id)
    assert (await client.get(provider.url(), headers=headers)).status_code == 404
    grant = await factories.access_grant(session, provider.org, regulator)
    assert (await client.get(provider.url(), headers=headers)).status_code == 200
    url = provider.url("indicators/person_independence/evidence")
    body = (await client.get(url, params={"limit": 20}, headers=headers)).json()
    assert body["redacted"] is True
    assert body["items"]
    for item in body["items"]:
        assert item["text"] is None and item["recorded_by_id"] is None
        assert item["subject_staff_id"] is None and item["person_ref_id"] is None
        assert "activity" not in item["facts"]
    await session.execute(
        update(AccessGrant).where(AccessGrant.id == grant.id).values(revoked_at=NOW)  # type: ignore[arg-type]
    )
    await session.commit()
    assert (await client.get(provider.url(), headers=headers)).status_code == 404


async def test_thresholds_are_tuned_by_a_quality_lead_and_echoed(
    app: Any, client: httpx.AsyncClient, provider: Provider
) -> None:
    lead, manager = provider.headers["quality_lead"], provider.headers["registered_manager"]
    url = provider.url("thresholds")
    current = (await client.get(url, headers=manager)).json()
    assert current["effective"]["incident_learning"] == {"green": 0.8, "amber": 0.5}
    assert current["overrides"] == {key: None for key in current["overrides"]}
    assert (
        await client.put(url, json={"incident_learning": {"green": 0.9}}, headers=manager)
    ).status_code == 403

    unknown = await client.put(url, json={"incident_learning": {"gren": 0.9}}, headers=lead)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "incident_learning.gren"
    inverted = await client.put(url, json={"incident_learning": {"green": 0.4}}, headers=lead)
    assert inverted.status_code == 422
    assert inverted.json()["errors"][0]["field"] == "incident_learning.green"
    assert inverted.json()["errors"][0]["rule"] == "stricter_than_amber"
    out_of_range = await client.put(url, json={"shift_consistency": {"amber": 7}}, headers=lead)
    assert out_of_range.status_code == 422

    # Amber down to zero: two unreviewed incidents are amber rather than red.
    overrides = {"incident_learning": {"green": 0.5, "amber": 0.0}, "turnover_resilience": {"green": 0.75}}
    tuned = await client.put(url, json=overrides, headers=lead)
    assert tuned.status_code == 200, tuned.text
    assert tuned.json()["sources"]["incident_learning"] == "innovation"
    status = (await client.get(provider.url(), headers=manager)).json()
    assert status["thresholds"]["incident_learning"] == {"green": 0.5, "amber": 0.0}
    assert status["threshold_sources"]["incident_learning"] == "innovation"
    assert by_key(status)["incident_learning"]["rag"] == "amber"

    # The provider's own defaults apply beneath every innovation's overrides.
    defaults = await client.put("/v1/thresholds", json={"audit_stability": {"green": 90}}, headers=lead)
    assert defaults.status_code == 200, defaults.text
    await drain_app(app)  # "now" is served from projections, which the workers recompute
    status = (await client.get(provider.url(), headers=manager)).json()
    assert status["thresholds"]["audit_stability"]["green"] == 90
    assert status["threshold_sources"]["audit_stability"] == "provider"
    assert by_key(status)["audit_stability"]["rag"] == "amber"
    clash = await client.put("/v1/thresholds", json={"turnover_resilience": {"amber": 0.8}}, headers=lead)
    assert clash.status_code == 422  # the innovation's own green (0.75) would fall below it
    assert "turnover_resilience.green" in clash.json()["errors"][0]["field"]


async def test_known_at_answers_with_what_had_been_recorded_then(
    app: Any, client: httpx.AsyncClient, provider: Provider
) -> None:
    manager = provider.headers["registered_manager"]
    review: dict[str, Any] = {
        "kind": "post_incident_review",
        "service_id": str(provider.oak.id),
        "occurred_at": ago(19, 12),
        "recorded_by_id": str(provider.staff[0].id),
        "innovation_ids": [str(provider.innovation_id)],
        "facts": {"learning_captured": True, "follow_up_observation_planned": True},
    }
    incidents = (
        await client.get(provider.url("indicators/incident_learning/evidence"), headers=manager)
    ).json()["items"]
    first_incident = min(incidents, key=lambda i: i["occurred_at"])
    review["facts"]["incident_id"] = first_incident["touchpoint_id"]
    review["occurred_at"] = (
        datetime.fromisoformat(first_incident["occurred_at"]) + timedelta(days=2)
    ).isoformat()
    [review_id] = await post(client, manager, [review])
    before_correction = datetime.now(UTC)
    after = by_key((await client.get(provider.url(), headers=manager)).json())["incident_learning"]
    assert (after["numerator"], after["denominator"]) == (1, 2)

    # The review is corrected: it captured no learning after all.
    corrected = {**review, "facts": {**review["facts"], "learning_captured": False}}
    response = await client.put(f"/v1/touchpoints/{review_id}", json=corrected, headers=manager)
    assert response.status_code == 200, response.text
    await drain_app(app)  # "now" is served from projections, which the workers recompute
    now = by_key((await client.get(provider.url(), headers=manager)).json())["incident_learning"]
    assert (now["numerator"], now["denominator"]) == (0, 2)
    then = (
        await client.get(provider.url(), params={"known_at": before_correction.isoformat()}, headers=manager)
    ).json()
    assert then["known_at"] is not None
    assert (
        by_key(then)["incident_learning"]["numerator"],
        by_key(then)["incident_learning"]["denominator"],
    ) == (1, 2)
