"""Batches: one result per item in order; good items stored even beside bad ones; repeats recognised."""

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.audit.service import access_entry
from service.auth.principal import Principal
from service.status.locks import rollup_lock_keys
from service.touchpoints.models import Touchpoint
from service.touchpoints.repository.writes import COPY_FROM_ROWS, row_values, write_touchpoints
from service.touchpoints.validation import content_hash
from service.touchpoints.validation.shape import TOUCHPOINT_ADAPTER
from service.vocabulary import Role
from tests.touchpoints.world import World, count_links, count_touchpoints, keyed, payload


async def test_a_batch_with_bad_items_stores_exactly_the_good_ones(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    bad_facts = payload(world)
    bad_facts["facts"] = {"activity": "Cards", "engagement_quality": 9}
    two_innovations = payload(
        world, innovation_ids=[str(world.innovation.id), str(world.second_innovation.id)]
    )
    items = [
        payload(world),
        bad_facts,
        two_innovations,
        "not a touchpoint",
        payload(world, "supervision"),
        payload(world, innovation_ids=[str(world.elsewhere_innovation.id)]),
    ]
    response = await client.post("/v1/touchpoints/batch", json={"items": items}, headers=manager)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["status"] for r in results] == [
        "created",
        "rejected",
        "created",
        "rejected",
        "created",
        "rejected",
    ]
    assert results[1]["problem"]["errors"][0]["field"] == "items[1].facts.engagement_quality"
    assert results[3]["problem"]["errors"][0]["field"] == "items[3]"
    assert results[5]["problem"]["errors"][0] == {
        "field": "items[5].innovation_ids[0]",
        "rule": "innovation_not_in_service",
        "message": results[5]["problem"]["errors"][0]["message"],
    }
    assert all(r["id"] is None for r in results if r["status"] == "rejected")
    assert await count_touchpoints(session, world.org) == 3
    # Every stored item has all of its links: never half an item.
    assert await count_links(session, world.org) == 4
    stored = await client.get(f"/v1/touchpoints/{results[2]['id']}", headers=manager)
    assert sorted(stored.json()["innovation_ids"]) == sorted(two_innovations["innovation_ids"])


async def test_duplicates_within_one_batch(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    note = keyed(world, "note-1")
    changed = {**note, "text": "a different account"}
    response = await client.post(
        "/v1/touchpoints/batch", json={"items": [note, note, changed, note]}, headers=manager
    )
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "duplicate", "rejected", "duplicate"]
    assert results[1]["id"] == results[3]["id"] == results[0]["id"]
    assert results[2]["problem"]["status"] == 409
    assert results[2]["problem"]["errors"][0]["rule"] == "repeated_in_batch"
    assert await count_touchpoints(session, world.org) == 1


async def test_duplicates_across_batches_and_a_changed_repeat_points_at_the_correction(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    first_items = [keyed(world, f"note-{i}") for i in range(5)]
    first = await client.post("/v1/touchpoints/batch", json={"items": first_items}, headers=manager)
    ids = [r["id"] for r in first.json()["results"]]
    # The same items again, one changed, one new, and the order shuffled.
    changed = {**first_items[2], "facts": {"activity": "Baking", "engagement_quality": 2}}
    again = [first_items[4], first_items[0], changed, keyed(world, "note-new")]
    second = await client.post("/v1/touchpoints/batch", json={"items": again}, headers=manager)
    results = second.json()["results"]
    assert [r["status"] for r in results] == ["duplicate", "duplicate", "rejected", "created"]
    assert results[0]["id"] == ids[4]
    assert results[1]["id"] == ids[0]
    problem = results[2]["problem"]
    assert problem["status"] == 409
    assert problem["existing_id"] == ids[2]
    assert problem["correct_with"] == {"method": "PUT", "href": f"/v1/touchpoints/{ids[2]}"}
    assert problem["errors"][0]["field"] == "items[2].external_id"
    assert await count_touchpoints(session, world.org) == 6


async def test_a_single_repost_is_a_duplicate_and_a_changed_one_a_conflict(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    note = keyed(world, "note-7", text="Walked to the shop")
    created = await client.post("/v1/touchpoints", json=note, headers=manager)
    repeated = await client.post("/v1/touchpoints", json=note, headers=manager)
    changed = await client.post("/v1/touchpoints", json={**note, "text": "Stayed in"}, headers=manager)
    assert created.status_code == 201
    assert repeated.status_code == 200
    assert repeated.json() == created.json()
    assert changed.status_code == 409
    assert changed.headers["content-type"] == "application/problem+json"
    assert changed.json()["correct_with"]["href"] == f"/v1/touchpoints/{created.json()['id']}"


async def test_two_clients_racing_the_same_external_ids_store_one_row_each(
    client: httpx.AsyncClient, world: World, tokens: object, session: AsyncSession, manager: dict[str, str]
) -> None:
    items = [keyed(world, f"race-{i}") for i in range(200)]
    reversed_items = list(reversed(items))

    async def post(batch: list[dict[str, object]]) -> list[dict[str, object]]:
        response = await client.post("/v1/touchpoints/batch", json={"items": batch}, headers=manager)
        assert response.status_code == 200, response.text
        results: list[dict[str, object]] = response.json()["results"]
        return results

    rounds = await asyncio.gather(*(post(items if n % 2 == 0 else reversed_items) for n in range(4)))
    assert await count_touchpoints(session, world.org) == 200
    assert await count_links(session, world.org) == 200
    statuses = [r["status"] for results in rounds for r in results]
    assert statuses.count("created") == 200
    assert statuses.count("duplicate") == 600
    ids_by_round = [sorted(str(r["id"]) for r in results) for results in rounds]
    assert all(ids == ids_by_round[0] for ids in ids_by_round)


async def test_an_empty_batch_answers_no_results(client: httpx.AsyncClient, manager: dict[str, str]) -> None:
    response = await client.post("/v1/touchpoints/batch", json={"items": []}, headers=manager)
    assert response.status_code == 200
    assert response.json() == {"results": []}


async def test_a_batch_body_without_items_is_refused(
    client: httpx.AsyncClient, manager: dict[str, str]
) -> None:
    response = await client.post("/v1/touchpoints/batch", json={"touchpoints": []}, headers=manager)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "items"


async def test_a_large_batch_is_written_whole_with_typed_facts(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    # Large enough to go through COPY rather than INSERT.
    items = [
        payload(world, "audit", facts={"tool": "Engagement audit", "score_percent": 70 + i % 30 + 0.25})
        for i in range(COPY_FROM_ROWS + 10)
    ]
    response = await client.post("/v1/touchpoints/batch", json={"items": items}, headers=manager)
    assert {r["status"] for r in response.json()["results"]} == {"created"}
    rows = (
        await session.execute(
            select(col(Touchpoint.score_percent), col(Touchpoint.system)).where(
                col(Touchpoint.organisation_id) == world.org.id
            )
        )
    ).all()
    assert sorted(float(r.score_percent or 0) for r in rows) == sorted(
        70 + i % 30 + 0.25 for i in range(len(items))
    )
    assert {r.system for r in rows} == {"quality_assurance"}
    assert await count_links(session, world.org) == len(items)


async def test_a_key_stored_meanwhile_turns_the_copy_into_an_insert_that_skips_it(
    world: World, manager: dict[str, str], client: httpx.AsyncClient, session: AsyncSession
) -> None:
    taken = await client.post("/v1/touchpoints", json=keyed(world, "taken"), headers=manager)
    principal = Principal(
        sub="writer", organisation_id=world.org.id, roles=frozenset({Role.registered_manager})
    )
    items = [keyed(world, f"n-{i}") for i in range(COPY_FROM_ROWS)] + [keyed(world, "taken", text="other")]
    validated = [TOUCHPOINT_ADAPTER.validate_python(item) for item in items]
    rows = [
        row_values(item, uuid.uuid4(), shift="early", weekend=False, content_hash=content_hash(item))
        for item in validated
    ]
    links = [
        (row[0], innovation_id)
        for row, item in zip(rows, validated, strict=True)
        for innovation_id in item.innovation_ids
    ]
    async with session.begin():
        written = await write_touchpoints(
            session,
            world.org.id,
            recorded_at=datetime.now(UTC),
            recorded_by_sub=principal.sub,
            rows=rows,
            links=links,
            lock_keys=rollup_lock_keys(world.org.id, [world.service.id]),
            access=access_entry(principal=principal, action="touchpoint.create", resource_type="touchpoint"),
        )
    assert written == {row[0] for row in rows[:-1]}
    assert await count_touchpoints(session, world.org) == COPY_FROM_ROWS + 1
    assert await count_links(session, world.org) == COPY_FROM_ROWS + 1
    assert taken.status_code == 201
