"""Every projected read (status, history, the list, the portfolio and its changes) answers an ETag
and 304 while unchanged, agrees with the same read computed on read at the same moment, through
REST and GraphQL alike, and shows commissioners aggregates only."""

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.projections.compute import without_moments
from tests import factories
from tests.graphql.helpers import graphql_data
from tests.graphql.status_shapes import STATUS, as_rest, rest_comparable
from tests.graphql.status_world import StatusWorld, build_status_world, delivery
from tests.projections.support import drain_app
from tests.tokens import TokenFactory

POINT = "month period windowStart windowEnd current stage stageReasons { rule indicators explanation }"
HISTORY = f"""query ($id: UUID!, $months: Int!, $asOf: DateTime) {{
  innovationStatusHistory(innovationId: $id, months: $months, asOf: $asOf) {{
    innovationId serviceId scope {{ serviceIds }} windowDays suppressedCounts computedAt
    months {{ {POINT} }}
  }}
}}"""
STATUS_QUERY = f"""query ($id: UUID!, $asOf: DateTime) {{
  innovationStatus(innovationId: $id, asOf: $asOf) {{ {STATUS} }}
}}"""
PORTFOLIO = f"""query ($asOf: DateTime) {{
  portfolioStatus(asOf: $asOf) {{
    fingerprint providers {{ edges {{ node {{ providerId
      innovations {{ innovationId innovationName organisationId phase
        provider {{ {STATUS} }} services {{ {STATUS} }} }} }} }} }}
  }}
}}"""
CHANGES = """{ portfolioChanges { fingerprint changes { edges { node {
  providerId innovationId serviceId changedAt fromStage toStage stageReasons { rule } } } } } }"""


def comparable(value: Any) -> Any:
    """An answer without the moments it was computed at (which a projection and a read on read at
    the same moment differ in)."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in without_moments(value).items() if k != "known_at"}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def now() -> str:
    return datetime.now(UTC).isoformat()


async def assert_etag_and_304(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any
) -> str:
    first = await client.get(url, params=params, headers=headers)
    assert first.status_code == 200, first.text
    tag = first.headers["etag"]
    again = await client.get(url, params=params, headers={**headers, "If-None-Match": tag})
    assert again.status_code == 304 and again.headers["etag"] == tag
    assert again.content == b""
    return tag


async def _world(session: AsyncSession, client: httpx.AsyncClient, tokens: TokenFactory) -> StatusWorld:
    return await build_status_world(session, client, tokens, services=2, days=40)


async def test_history_of_now_is_projected_with_an_etag_and_agrees_with_the_read_on_read(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await _world(session, client, tokens)
    innovation = world.innovation_ids[0]
    url = f"/v1/innovations/{innovation}/status/history"
    tag = await assert_etag_and_304(client, url, world.manager)
    await drain_app(app)  # the recompute the read queued finds the same content: the same ETag
    assert (await client.get(url, headers={**world.manager, "If-None-Match": tag})).status_code == 304
    # Fewer months are the projection's last points; another number of months is another ETag.
    assert (
        await client.get(url, params={"months": 3}, headers={**world.manager, "If-None-Match": tag})
    ).status_code == 200
    for params in ({}, {"months": 3}, {"service_id": str(world.services[1].id)}):
        projected = (await client.get(url, params=params, headers=world.manager)).json()
        on_read = (await client.get(url, params={**params, "as_of": now()}, headers=world.manager)).json()
        assert projected["computed_at"] is not None and on_read["computed_at"] is None
        assert len(projected["months"]) == params.get("months", 12)
        assert comparable(projected) == comparable(on_read)
    # More months than a projection keeps are computed on read.
    longer = await client.get(url, params={"months": 18}, headers=world.manager)
    assert longer.json()["computed_at"] is None and "etag" not in longer.headers

    # GraphQL reads the same projection.
    graph = await graphql_data(client, HISTORY, world.manager, {"id": str(innovation), "months": 12})
    history = graph["innovationStatusHistory"]
    rest = (await client.get(url, headers=world.manager)).json()
    assert datetime.fromisoformat(history["computedAt"]) == datetime.fromisoformat(rest["computed_at"])
    assert [as_rest(p) for p in history["months"]] == [
        {k: v for k, v in rest_comparable(p).items() if k not in {"indicators", "drift"}}
        for p in rest["months"]
    ]


async def test_status_and_the_list_answer_etags_and_graphql_agrees_with_the_read_on_read(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await _world(session, client, tokens)
    innovation = world.innovation_ids[0]
    await assert_etag_and_304(client, "/v1/status", world.manager)
    await assert_etag_and_304(client, f"/v1/innovations/{innovation}/status", world.manager)
    projected = await graphql_data(client, STATUS_QUERY, world.manager, {"id": str(innovation)})
    on_read = await graphql_data(client, STATUS_QUERY, world.manager, {"id": str(innovation), "asOf": now()})
    assert projected["innovationStatus"]["computedAt"] is not None
    assert on_read["innovationStatus"]["computedAt"] is None
    rest = (await client.get(f"/v1/innovations/{innovation}/status", headers=world.manager)).json()
    assert comparable(as_rest(projected["innovationStatus"])) == comparable(
        as_rest(on_read["innovationStatus"])
    )
    assert comparable(as_rest(projected["innovationStatus"])) == comparable(rest_comparable(rest))


async def _commissioned(
    session: AsyncSession, world: StatusWorld, tokens: TokenFactory
) -> tuple[dict[str, str], uuid.UUID]:
    commissioner = await factories.organisation(session, kind="commissioner")
    await factories.commissioning(session, commissioner, world.org, service_ids=[world.services[0].id])
    return tokens.headers("commissioner", commissioner.id), commissioner.id


async def test_the_portfolio_of_now_is_projected_304s_agrees_on_read_and_discloses_aggregates_only(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await _world(session, client, tokens)
    headers, _ = await _commissioned(session, world, tokens)
    tag = await assert_etag_and_304(client, "/v1/portfolio/status", headers)
    await drain_app(app)
    assert (
        await client.get("/v1/portfolio/status", headers={**headers, "If-None-Match": tag})
    ).status_code == 304

    projected = (await client.get("/v1/portfolio/status", headers=headers)).json()
    on_read = (await client.get("/v1/portfolio/status", params={"as_of": now()}, headers=headers)).json()
    [provider] = projected["items"]
    statuses = [s for i in provider["innovations"] for s in (i["provider"], *i["services"])]
    assert statuses and all(s["computed_at"] for s in statuses)
    assert not any(
        s["computed_at"] for i in on_read["items"][0]["innovations"] for s in (i["provider"], *i["services"])
    )
    assert comparable(projected["items"]) == comparable(on_read["items"])

    graph = await graphql_data(client, PORTFOLIO, headers)
    assert graph["portfolioStatus"]["fingerprint"] == tag
    [node] = graph["portfolioStatus"]["providers"]["edges"]
    assert comparable(as_rest(node["node"]["innovations"])) == comparable(
        rest_comparable(provider["innovations"])
    )

    # Aggregates only: counts from 1 to 4 withheld (the one incident), no staff, person or text.
    own = (
        await client.get(
            f"/v1/innovations/{world.innovation_ids[0]}/status",
            params={"service_id": str(world.services[0].id)},
            headers=world.manager,
        )
    ).json()
    served = next(s for s in statuses if s["service_id"] == str(world.services[0].id))
    assert served["suppressed_counts"] is True and own["suppressed_counts"] is False
    assert {"suppressed": True} in [m["incidents"] for m in served["context"]["outcomes"]["months"]]
    assert {"suppressed": True} not in [m["incidents"] for m in own["context"]["outcomes"]["months"]]
    answer = str(projected)
    staff_and_people = await session.execute(
        text("SELECT id FROM staff_member UNION ALL SELECT id FROM person_ref")
    )
    assert all(str(row[0]) not in answer for row in staff_and_people)
    assert "Planted bulbs" not in answer


async def test_portfolio_changes_of_now_are_the_feeds_stage_events(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens, services=2, days=0)
    headers, _ = await _commissioned(session, world, tokens)
    assert (await client.get("/v1/portfolio/status", headers=headers)).status_code == 200
    empty = await client.get("/v1/portfolio/changes", headers=headers)
    assert empty.status_code == 200 and empty.json()["items"] == []
    tag = empty.headers["etag"]
    assert (
        await client.get("/v1/portfolio/changes", headers={**headers, "If-None-Match": tag})
    ).status_code == 304

    staff = await factories.staff_member(session, world.org, world.services)
    person = await factories.person(session, world.org)
    items = delivery(world.services, [staff], person, world.innovation_ids, 40)
    assert (
        await client.post("/v1/touchpoints/batch", json={"items": items}, headers=world.manager)
    ).status_code == 200
    await drain_app(app)

    changed = await client.get("/v1/portfolio/changes", headers={**headers, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    changes = changed.json()["items"]
    feed = (await client.get("/v1/events", headers=headers)).json()["items"]
    stage_events = [e for e in feed if e["type"] == "status.stage_changed"]
    assert stage_events
    assert [
        (c["innovation_id"], c["service_id"], c["from_stage"], c["to_stage"], c["changed_at"])
        for c in changes
    ] == [
        (e["innovation_id"], e["service_id"], e["data"]["before"], e["data"]["after"], e["occurred_at"])
        for e in stage_events
    ]
    # Only the commissioned service's rows; each change says why.
    assert {c["service_id"] for c in changes} == {str(world.services[0].id)}
    assert all(c["stage_reasons"] for c in changes)
    assert (
        await client.get(
            "/v1/portfolio/changes", headers={**headers, "If-None-Match": changed.headers["etag"]}
        )
    ).status_code == 304
    graph = await graphql_data(client, CHANGES, headers)
    assert graph["portfolioChanges"]["fingerprint"] == changed.headers["etag"]
    assert [e["node"]["toStage"] for e in graph["portfolioChanges"]["changes"]["edges"]] == [
        c["to_stage"] for c in changes
    ]
