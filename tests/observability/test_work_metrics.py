"""Metrics of the service's work: touchpoints recorded (by kind and a bounded source system) and
refused (by rule), statuses computed and served (projection or on read), the job queue's depth and
how long jobs waited."""

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.auth.tokens import issue_hs256_token
from service.jobs.queue import RECOMPUTE
from service.observability import activity
from service.observability.queue import sample_queue_depth
from service.settings import Settings
from service.vocabulary import Role
from tests import factories
from tests.observability.support import sample
from tests.projections.support import drain_app
from tests.tokens import TokenFactory

RECORDED = "ingrain_touchpoints_recorded_total"
REJECTED = "ingrain_touchpoints_rejected_total"


def test_a_source_system_is_a_label_only_as_an_integration_clients_own() -> None:
    org = uuid.uuid4()
    client = Principal(
        sub="c", organisation_id=org, roles=frozenset({Role.integration}), source_system="acme"
    )
    person = Principal(sub="p", organisation_id=org, roles=frozenset({Role.quality_lead}))
    assert activity.source_system_label(client, "acme") == "acme"
    assert activity.source_system_label(person, "acme") == "other"
    assert activity.source_system_label(client, "someone-else") == "other"
    assert activity.source_system_label(person, None) == "none"
    assert activity.rule_label("greater_than_equal") == "greater_than_equal"
    assert activity.rule_label("Robert'); DROP TABLE") == "other"


async def test_touchpoints_are_counted_by_kind_and_source_once_committed_and_refusals_by_rule(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    org = await factories.organisation(session)
    service = await factories.care_service(session, org)
    staff = await factories.staff_member(session, org, [service])
    person = await factories.person(session, org)
    source = f"care-{uuid.uuid4().hex[:8]}"
    token = issue_hs256_token(
        settings,
        sub="client-1",
        roles=["integration"],
        organisation_id=org.id,
        extra={"source_system": source},
    )

    def note(external_id: str, quality: Any) -> dict[str, Any]:
        return {
            "kind": "daily_note",
            "service_id": str(service.id),
            "occurred_at": "2026-03-04T10:00:00+00:00",
            "recorded_by_id": str(staff.id),
            "person_ref_id": str(person.id),
            "source_system": source,
            "external_id": external_id,
            "facts": {"activity": "Garden", "engagement_quality": quality},
        }

    rule_before = sample(REJECTED, rule="less_than_equal")
    items = [note("n-1", 4), note("n-2", 9), note("n-3", 3)]
    answer = await client.post(
        "/v1/touchpoints/batch", json={"items": items}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    assert [r["status"] for r in answer.json()["results"]] == ["created", "rejected", "created"], answer.text
    assert sample(RECORDED, kind="daily_note", source_system=source) == 2
    assert sample(REJECTED, rule="less_than_equal") == rule_before + 1

    # A repeat stores nothing: nothing more is counted.
    again = await client.post(
        "/v1/touchpoints/batch", json={"items": items[:1]}, headers={"Authorization": f"Bearer {token}"}
    )
    assert again.json()["results"][0]["status"] == "duplicate"
    assert sample(RECORDED, kind="daily_note", source_system=source) == 2


async def test_statuses_computed_on_read_then_projected_then_served_from_the_projection(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    org = await factories.organisation(session)
    service = await factories.care_service(session, org)
    innovation = await factories.innovation(session, org, [service])
    headers = tokens.headers("quality_lead", org.id)
    url = f"/v1/innovations/{innovation.id}/status"

    def counts() -> dict[str, float]:
        return {
            "on_read": sample("ingrain_statuses_computed_total", mode="on_read"),
            "projection": sample("ingrain_statuses_computed_total", mode="projection"),
            "on_read_timed": sample("ingrain_status_compute_duration_seconds_count", mode="on_read"),
            "served_projection": sample("ingrain_statuses_served_total", source="projection"),
            "served_computed": sample("ingrain_statuses_served_total", source="computed"),
            "waits": sample("ingrain_job_wait_seconds_count", entrypoint=RECOMPUTE),
        }

    first = counts()
    assert (await client.get(url, headers=headers)).status_code == 200  # none stored yet: computed
    after_read = counts()
    assert (
        after_read["on_read"] == first["on_read"] + 1
        and after_read["on_read_timed"] == first["on_read_timed"] + 1
    )
    assert after_read["served_computed"] == first["served_computed"] + 1
    assert after_read["served_projection"] == first["served_projection"]

    # The read queued a recompute: the queue's depth says so, until a worker has run it.
    depth = await sample_queue_depth(app.state.engine, [RECOMPUTE])
    assert depth.get((RECOMPUTE, "queued"), 0) >= 1
    assert sample("ingrain_job_queue_depth", entrypoint=RECOMPUTE, status="queued") >= 1
    assert sample("ingrain_job_queue_depth", entrypoint=RECOMPUTE, status="picked") == 0

    await drain_app(app)
    after_job = counts()
    assert after_job["projection"] >= after_read["projection"] + 2  # the provider and its one service
    assert after_job["waits"] >= after_read["waits"] + 1
    await sample_queue_depth(app.state.engine, [RECOMPUTE])
    assert sample("ingrain_job_queue_depth", entrypoint=RECOMPUTE, status="queued") == 0

    assert (await client.get(url, headers=headers)).status_code == 200
    last = counts()
    assert last["served_projection"] == after_job["served_projection"] + 1
    assert last["on_read"] == after_job["on_read"]

    # Another moment is computed on read, never from the projection.
    as_of = await client.get(url, params={"as_of": "2026-01-31T00:00:00Z"}, headers=headers)
    assert as_of.status_code == 200, as_of.text
    assert counts()["on_read"] == last["on_read"] + 1
