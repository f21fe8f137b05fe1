"""Idempotency-Key: a repeat gets the first response and runs nothing; a reused key is refused."""

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.main import create_app
from service.settings import Settings
from tests.tokens import TokenFactory
from tests.touchpoints.world import World, count_touchpoints, payload


async def test_a_repeated_batch_returns_the_first_response(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    # Unkeyed items: without the header each post would store them again.
    body = json.dumps({"items": [payload(world), payload(world, "supervision")]})
    headers = {**manager, "Idempotency-Key": "batch-0001", "Content-Type": "application/json"}
    first = await client.post("/v1/touchpoints/batch", content=body, headers=headers)
    second = await client.post("/v1/touchpoints/batch", content=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second.headers["idempotency-replayed"] == "true"
    assert "idempotency-replayed" not in first.headers
    assert await count_touchpoints(session, world.org) == 2


async def test_a_repeated_single_post_returns_201_and_location_again(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    body = json.dumps(payload(world, text="Tea in the garden"))
    headers = {**manager, "Idempotency-Key": "note-0001", "Content-Type": "application/json"}
    first = await client.post("/v1/touchpoints", content=body, headers=headers)
    second = await client.post("/v1/touchpoints", content=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers["location"] == first.headers["location"]
    assert second.json() == first.json()
    assert await count_touchpoints(session, world.org) == 1


async def test_the_same_key_with_another_body_is_refused(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    headers = {**manager, "Idempotency-Key": "note-0002"}
    first = await client.post("/v1/touchpoints", json=payload(world, text="one"), headers=headers)
    second = await client.post("/v1/touchpoints", json=payload(world, text="two"), headers=headers)
    assert first.status_code == 201
    assert second.status_code == 422
    assert second.json()["errors"][0] == {
        "field": "Idempotency-Key",
        "rule": "idempotency_key_reused",
        "message": second.json()["errors"][0]["message"],
    }
    assert await count_touchpoints(session, world.org) == 1


async def test_keys_belong_to_their_caller(
    client: httpx.AsyncClient, world: World, tokens: TokenFactory, session: AsyncSession
) -> None:
    body = json.dumps(payload(world))
    for sub in ("manager-a", "manager-b"):
        headers = {
            **tokens.headers("registered_manager", world.org.id, sub=sub),
            "Idempotency-Key": "shared-key",
            "Content-Type": "application/json",
        }
        response = await client.post("/v1/touchpoints", content=body, headers=headers)
        assert response.status_code == 201
    assert await count_touchpoints(session, world.org) == 2


async def test_concurrent_repeats_run_once(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    body = json.dumps({"items": [payload(world) for _ in range(50)]})
    headers = {**manager, "Idempotency-Key": "batch-race", "Content-Type": "application/json"}
    responses = await asyncio.gather(
        *(client.post("/v1/touchpoints/batch", content=body, headers=headers) for _ in range(4))
    )
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert sum(1 for r in responses if "idempotency-replayed" in r.headers) == 3
    assert await count_touchpoints(session, world.org) == 50


@pytest.fixture
async def other_instance(settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A second application instance on the same database, as another server process would be."""
    app = create_app(settings, database_url=database_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingrain.test") as client:
            yield client


async def test_concurrent_repeats_to_two_server_processes_run_once(
    client: httpx.AsyncClient,
    other_instance: httpx.AsyncClient,
    world: World,
    manager: dict[str, str],
    session: AsyncSession,
) -> None:
    body = json.dumps({"items": [payload(world) for _ in range(50)]})
    headers = {**manager, "Idempotency-Key": "batch-two-processes", "Content-Type": "application/json"}
    responses = await asyncio.gather(
        *(
            instance.post("/v1/touchpoints/batch", content=body, headers=headers)
            for instance in [client, other_instance] * 2
        )
    )
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert sum(1 for r in responses if "idempotency-replayed" in r.headers) == 3
    assert await count_touchpoints(session, world.org) == 50


async def test_a_refused_request_keeps_no_response(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    headers = {**manager, "Idempotency-Key": "note-0003", "Content-Type": "application/json"}
    body = json.dumps(payload(world, occurred_at="2026-03-04T22:15:00"))
    first = await client.post("/v1/touchpoints", content=body, headers=headers)
    second = await client.post("/v1/touchpoints", content=body, headers=headers)
    assert first.status_code == second.status_code == 422
    assert "idempotency-replayed" not in second.headers


async def test_a_malformed_key_is_refused(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    headers = {**manager, "Idempotency-Key": "x" * 201}
    response = await client.post("/v1/touchpoints", json=payload(world), headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "idempotency_key_format"
