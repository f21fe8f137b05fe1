"""Projections kept current by the job workers: marks in the writers' transactions, recomputes that
agree with the status computed on read, ETags, and the change feed."""

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.database import asyncpg_connect_kwargs, driver_connection
from service.jobs.queue import enqueue_recompute
from service.jobs.worker import requeue_stale_projections
from service.projections import repository
from service.projections.compute import without_moments
from service.projections.service import recompute
from service.touchpoints.repository import writes
from tests import factories
from tests.graphql.status_world import NOW, StatusWorld, ago, build_status_world, delivery
from tests.projections.support import drain, queued
from tests.tokens import TokenFactory


async def _connect(app: Any) -> asyncpg.Connection:
    return await asyncpg.connect(**asyncpg_connect_kwargs(app.state.database_url))


def _comparable(body: dict[str, Any]) -> Any:
    return without_moments({k: v for k, v in body.items() if k != "known_at"})


async def _on_read(
    client: httpx.AsyncClient, world: StatusWorld, innovation_id: uuid.UUID, **params: Any
) -> Any:
    answer = await client.get(
        f"/v1/innovations/{innovation_id}/status",
        params={**params, "as_of": datetime.now(UTC).isoformat()},
        headers=world.manager,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _assert_projections_equal_on_read(app: Any, client: httpx.AsyncClient, world: StatusWorld) -> int:
    """Every stored projection (the provider's own view) equals the status computed on read now."""
    conn = await _connect(app)
    try:
        rows = await conn.fetch(
            "SELECT innovation_id, service_id, service_ids, body::text FROM status_projection"
            " WHERE organisation_id = $1",
            world.org.id,
        )
    finally:
        await conn.close()
    for innovation_id, service_id, service_ids, body in rows:
        assert service_id is not None or len(service_ids) == len(world.services)
        params = {"service_id": str(service_id)} if service_id else {}
        assert _comparable(json.loads(body)) == _comparable(
            await _on_read(client, world, innovation_id, **params)
        )
    return len(rows)


def _note(
    world: StatusWorld, innovation_id: uuid.UUID, service: int, day: int, external_id: str
) -> dict[str, Any]:
    return {
        "kind": "supervision",
        "service_id": str(world.services[service].id),
        "occurred_at": ago(day, 10),
        "recorded_by_id": None,
        "innovation_ids": [str(innovation_id)],
        "source_system": "acme-care",
        "external_id": external_id,
        "facts": {"explains_why": True},
    }


async def test_after_writes_of_every_kind_and_a_drain_every_projection_equals_the_status_on_read(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens, services=2, innovations=2, days=30)
    staff = await factories.staff_member(session, world.org, world.services)
    first = world.innovation_ids[0]
    # Reading "now" computes the missing projections, stores them and queues their recompute.
    listed = await client.get("/v1/status", headers=world.manager)
    assert listed.status_code == 200, listed.text
    assert all(item["provider"]["computed_at"] for item in listed.json()["items"])
    for service in world.services:
        await client.get(
            f"/v1/innovations/{first}/status", params={"service_id": str(service.id)}, headers=world.manager
        )

    def note(service: int, day: int, external_id: str) -> dict[str, Any]:
        return {
            **_note(world, first, service, day, external_id),
            "recorded_by_id": str(staff.id),
            "subject_staff_id": str(staff.id),
        }

    # A single post, a batch large enough to be copied, and a correction.
    single = await client.post("/v1/touchpoints", json=note(0, 3, "single-1"), headers=world.manager)
    assert single.status_code == 201, single.text
    batch = [note(i % 2, 2 + i % 20, f"batch-{i}") for i in range(60)]
    posted = await client.post("/v1/touchpoints/batch", json={"items": batch}, headers=world.manager)
    assert posted.status_code == 200, posted.text
    corrected = {**note(1, 4, "single-1"), "facts": {"explains_why": False}}
    put = await client.put(f"/v1/touchpoints/{single.json()['id']}", json=corrected, headers=world.manager)
    assert put.status_code == 200, put.text

    conn = await _connect(app)
    try:
        assert await queued(conn) == 2  # one per innovation, however many writes marked it
    finally:
        await conn.close()
    await drain(app.state.database_url)
    assert await _assert_projections_equal_on_read(app, client, world) == 2 * (1 + 2) + 0


async def test_a_projected_status_answers_computed_at_and_an_etag_and_304_when_unchanged(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens, services=1, days=20)
    url = f"/v1/innovations/{world.innovation_ids[0]}/status"
    first = await client.get(url, headers=world.manager)
    assert first.status_code == 200, first.text
    tag = first.headers["etag"]
    assert first.json()["computed_at"] is not None
    again = await client.get(url, headers={**world.manager, "If-None-Match": tag})
    assert again.status_code == 304
    assert again.headers["etag"] == tag
    # A recompute that finds the same content keeps the body, and so the ETag.
    await drain(app.state.database_url)
    assert (await client.get(url, headers={**world.manager, "If-None-Match": tag})).status_code == 304
    # A write that changes the status gives a new one once recomputed.
    staff = await factories.staff_member(session, world.org, world.services)
    note = {
        **_note(world, world.innovation_ids[0], 0, 2, "etag-1"),
        "recorded_by_id": str(staff.id),
        "subject_staff_id": str(staff.id),
    }
    assert (await client.post("/v1/touchpoints", json=note, headers=world.manager)).status_code == 201
    await drain(app.state.database_url)
    changed = await client.get(url, headers={**world.manager, "If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    # A moment asked for is computed on read: no projection, no ETag.
    on_read = await client.get(url, params={"as_of": NOW.isoformat()}, headers=world.manager)
    assert on_read.json()["computed_at"] is None
    assert "etag" not in on_read.headers


async def test_a_stage_change_is_an_event_with_before_and_after_scoped_per_caller(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens, services=2, days=0)
    other = await build_status_world(session, client, tokens, services=1, days=0)
    commissioner = await factories.organisation(session, kind="commissioner")
    await factories.commissioning(session, commissioner, world.org, service_ids=[world.services[0].id])
    for w in (world, other):
        assert (await client.get("/v1/status", headers=w.manager)).json()["items"][0]["provider"][
            "stage"
        ] == ("not_started")
    staff = [await factories.staff_member(session, w.org, w.services) for w in (world, other)]
    person = await factories.person(session, world.org)
    other_person = await factories.person(session, other.org)
    for w, people, team in ((world, person, staff[0]), (other, other_person, staff[1])):
        items = delivery(w.services, [team], people, w.innovation_ids, 40)
        response = await client.post("/v1/touchpoints/batch", json={"items": items}, headers=w.manager)
        assert response.status_code == 200, response.text
    # Two worker processes drain side by side: each recompute once, each change written once.
    await asyncio.gather(drain(app.state.database_url), drain(app.state.database_url))

    feed = (await client.get("/v1/events", headers=world.manager)).json()
    mine = [e for e in feed["items"] if e["type"] == "status.stage_changed"]
    assert {e["organisation_id"] for e in feed["items"]} == {str(world.org.id)}
    provider = [e for e in mine if e["service_id"] is None]
    assert len(provider) == 1
    assert provider[0]["data"]["before"] == "not_started"
    assert provider[0]["data"]["after"] != "not_started"
    assert provider[0]["innovation_id"] == str(world.innovation_ids[0])
    assert {e["service_id"] for e in mine} == {None, *(str(s.id) for s in world.services)}
    assert feed["next_cursor"] == feed["items"][-1]["id"]
    # Read from the cursor on: nothing new.
    assert (
        await client.get("/v1/events", params={"after": feed["next_cursor"]}, headers=world.manager)
    ).json()["items"] == []

    # The commissioner sees its provider's commissioned service only: no provider-wide event, no
    # other provider's.
    headers = tokens.headers("commissioner", commissioner.id)
    seen = (await client.get("/v1/events", headers=headers)).json()["items"]
    assert seen
    assert {e["service_id"] for e in seen} == {str(world.services[0].id)}
    # Pages follow each other in order.
    paged, after = [], None
    while True:
        page = (
            await client.get(
                "/v1/events",
                params={"limit": 2, **({"after": after} if after else {})},
                headers=world.manager,
            )
        ).json()
        paged += page["items"]
        if not page["items"]:
            break
        after = page["next_cursor"]
    assert [e["id"] for e in paged] == [e["id"] for e in feed["items"]]
    assert await _assert_projections_equal_on_read(app, client, world) == 3


async def test_an_older_result_is_never_written_over_a_newer_one(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens, services=1, days=10)
    url = f"/v1/innovations/{world.innovation_ids[0]}/status"
    assert (await client.get(url, headers=world.manager)).status_code == 200
    conn = await _connect(app)
    try:
        [row] = await conn.fetch("SELECT * FROM status_projection")
        newer = repository.ProjectionRow(
            **{k: row[k] for k in ("organisation_id", "innovation_id", "scope_key", "service_id", "stage")},
            service_ids=tuple(row["service_ids"]),
            body={**json.loads(row["body"]), "stage": "embedded"},
            external_body=json.loads(row["external_body"]),
            content_hash="newer",
            computed_at=row["computed_at"] + timedelta(seconds=5),
            checked_at=row["checked_at"] + timedelta(seconds=5),
            data_xid=row["data_xid"] + 10,
        )
        await repository.upsert(conn, [newer])
        older = repository.ProjectionRow(
            **{
                **{f: getattr(newer, f) for f in newer.__slots__},
                "content_hash": "older",
                "data_xid": row["data_xid"],
            }
        )
        await repository.upsert(conn, [older])
        stored = await conn.fetchrow("SELECT content_hash, data_xid, body->>'stage' FROM status_projection")
        assert tuple(stored) == ("newer", row["data_xid"] + 10, "embedded")
    finally:
        await conn.close()


async def test_a_job_whose_writes_a_later_snapshot_already_saw_is_answered_by_it(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens, services=1, days=10)
    innovation_id = world.innovation_ids[0]
    assert (
        await client.get(f"/v1/innovations/{innovation_id}/status", headers=world.manager)
    ).status_code == 200
    conn = await _connect(app)
    try:
        state = "SELECT data_xid, checked_at FROM status_projection WHERE innovation_id = $1"
        stored = await conn.fetchrow(state, innovation_id)
        # Its writes had all ended below the stored snapshot's horizon: that snapshot saw them.
        await recompute(app.state.engine, world.org.id, innovation_id, covered_after=stored["data_xid"] - 1)
        assert await conn.fetchrow(state, innovation_id) == stored
        # Not above it: the stored snapshot may have missed them, so the job recomputes.
        await recompute(app.state.engine, world.org.id, innovation_id, covered_after=stored["data_xid"])
        again = await conn.fetchrow(state, innovation_id)
        assert again["checked_at"] > stored["checked_at"]
        assert again["data_xid"] >= stored["data_xid"]
    finally:
        await conn.close()


async def test_a_mark_in_a_rolled_back_transaction_queues_nothing(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens, services=1, days=0)
    await drain(app.state.database_url)  # the world's own incident marked its service's innovations
    async with app.state.session_factory() as writer:
        await enqueue_recompute(await driver_connection(writer), world.org.id, world.innovation_ids)
        conn = await _connect(app)
        try:
            assert await queued(conn) == 0  # not visible before the writer commits
            await writer.rollback()
            assert await queued(conn) == 0
        finally:
            await conn.close()
    # A post whose single statement fails writes neither the touchpoint nor the mark.
    bad = {
        **_note(world, world.innovation_ids[0], 0, 2, "bad-1"),
        "recorded_by_id": str(uuid.uuid4()),
        "subject_staff_id": str(uuid.uuid4()),
    }
    assert (await client.post("/v1/touchpoints", json=bad, headers=world.manager)).status_code == 422
    conn = await _connect(app)
    try:
        assert await queued(conn) == 0
    finally:
        await conn.close()


async def test_the_periodic_job_requeues_projections_checked_before_the_local_day_began(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens, services=2, innovations=2, days=5)
    assert (await client.get("/v1/status", headers=world.manager)).status_code == 200
    await drain(app.state.database_url)
    conn = await _connect(app)
    try:
        assert await queued(conn) == 0
        assert await requeue_stale_projections(app.state.engine) == 0  # checked today: nothing to do
        await conn.execute(
            "UPDATE status_projection SET checked_at = checked_at - interval '2 days'"
            " WHERE innovation_id = $1",
            world.innovation_ids[0],
        )
        assert await requeue_stale_projections(app.state.engine) == 1
        assert await queued(conn) == 1
        await drain(app.state.database_url)
        assert await requeue_stale_projections(app.state.engine) == 0
    finally:
        await conn.close()


async def test_event_ids_are_given_out_in_commit_order_so_a_reader_never_skips_one(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    """Two writers: the first takes its transaction id early, the second writes its event first.
    The first's event must not get a higher id and commit before the second's becomes visible."""
    world = await build_status_world(session, client, tokens, services=1, days=0)
    event = repository.NewEvent(
        "status.stage_changed", world.org.id, world.innovation_ids[0], None, None, {"before": "a"}
    )
    early, late, reader = [await _connect(app) for _ in range(3)]
    try:
        early_tx, late_tx = early.transaction(), late.transaction()
        await early_tx.start()
        await early.fetchval("SELECT pg_current_xact_id()")  # the older transaction id
        await late_tx.start()
        await repository.insert_events(late, [event])  # takes the next id, holds the event lock
        writing = asyncio.create_task(repository.insert_events(early, [event]))
        await asyncio.sleep(0.2)
        assert not writing.done()  # waits for the lock: it cannot commit a higher id first
        await late_tx.commit()
        await asyncio.wait_for(writing, 5)
        await early_tx.commit()
        seen = await repository.events_after(reader, after=0, limit=10, organisation_ids=[world.org.id])
        assert [e.id for e in seen] == sorted(e.id for e in seen) and len(seen) == 2
    finally:
        for conn in (early, late, reader):
            await conn.close()


async def test_a_write_marks_every_innovation_in_scope_of_its_service_not_only_those_it_references(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    """A supervision referencing one innovation still counts in the other's denominators at that
    service: single posts, batches (COPY) and corrections mark both."""
    org = await factories.organisation(session)
    oak, elm = await factories.care_service(session, org), await factories.care_service(session, org)
    staff = await factories.staff_member(session, org, [oak, elm])
    referenced = await factories.innovation(session, org, [oak, elm])
    elsewhere = await factories.innovation(session, org, [oak], name="Buddying")
    apart = await factories.innovation(session, org, [elm], name="Elm only")
    lead = tokens.headers("quality_lead", org.id)

    def supervision(service: Any, n: int) -> dict[str, Any]:
        return {
            "kind": "supervision",
            "service_id": str(service.id),
            "occurred_at": ago(3, 10),
            "recorded_by_id": str(staff.id),
            "subject_staff_id": str(staff.id),
            "innovation_ids": [str(referenced.id)],
            "source_system": "acme-care",
            "external_id": f"sup-{n}",
            "facts": {"explains_why": True},
        }

    conn = await _connect(app)

    async def marked() -> set[uuid.UUID]:
        rows = await conn.fetch("SELECT dedupe_key FROM jobs.pgqueuer WHERE status = 'queued'")
        await conn.execute("DELETE FROM jobs.pgqueuer")
        return {uuid.UUID(r[0].removeprefix("projection:")) for r in rows if r[0]}

    try:
        await conn.execute("DELETE FROM jobs.pgqueuer")
        answer = await client.post("/v1/touchpoints", json=supervision(oak, 0), headers=lead)
        assert answer.status_code == 201, answer.text
        assert await marked() == {referenced.id, elsewhere.id}
        batch = {"items": [supervision(oak, n) for n in range(1, 61)]}  # a COPY
        assert (await client.post("/v1/touchpoints/batch", json=batch, headers=lead)).status_code == 200
        assert await marked() == {referenced.id, elsewhere.id}
        moved = {**supervision(elm, 0), "facts": {"explains_why": False}}
        answer = await client.put(f"/v1/touchpoints/{answer.json()['id']}", json=moved, headers=lead)
        assert answer.status_code == 200, answer.text
        assert await marked() == {referenced.id, elsewhere.id, apart.id}  # the service left and joined
        # A review at Elm of an incident at Oak counts in Oak's month of incidents too.
        incident = {
            **supervision(oak, 100),
            "kind": "incident",
            "subject_staff_id": None,
            "innovation_ids": [],
            "facts": {"severity": "low", "restrictive_intervention": False},
        }
        answer = await client.post("/v1/touchpoints", json=incident, headers=lead)
        assert answer.status_code == 201, answer.text
        await marked()
        review = {
            **supervision(elm, 101),
            "kind": "post_incident_review",
            "subject_staff_id": None,
            "innovation_ids": [],
            "facts": {
                "incident_id": answer.json()["id"],
                "learning_captured": True,
                "follow_up_observation_planned": False,
            },
        }
        answer = await client.post("/v1/touchpoints", json=review, headers=lead)
        assert answer.status_code == 201, answer.text
        assert await marked() == {referenced.id, elsewhere.id, apart.id}
        # The same for a batch written by COPY, given the incidents' services by the look-up.
        await conn.execute("DELETE FROM jobs.pgqueuer")
        reviews = [{**review, "external_id": f"r-{n}"} for n in range(writes.COPY_FROM_ROWS)]
        answer = await client.post("/v1/touchpoints/batch", json={"items": reviews}, headers=lead)
        assert [r["status"] for r in answer.json()["results"]] == ["created"] * writes.COPY_FROM_ROWS, (
            answer.text
        )
        assert await marked() == {referenced.id, elsewhere.id, apart.id}
    finally:
        await conn.close()
