"""Each limit refuses with a problem that names the limit and its value."""

from collections.abc import AsyncIterator

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.touchpoints.limits import MAX_BODY_BYTES
from service.touchpoints.validation.limits import MAX_BATCH_ITEMS, MAX_TEXT_CHARS
from tests.touchpoints.world import World, count_touchpoints, payload


async def test_a_body_over_the_size_limit_is_refused_before_parsing(
    client: httpx.AsyncClient, manager: dict[str, str]
) -> None:
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    response = await client.post(
        "/v1/touchpoints/batch", content=body, headers={**manager, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    problem = response.json()
    assert problem["limit"] == {"name": "max_body_bytes", "value": MAX_BODY_BYTES}
    assert str(MAX_BODY_BYTES) in problem["detail"]


async def test_a_streamed_body_without_length_is_cut_off_at_the_limit(
    client: httpx.AsyncClient, manager: dict[str, str]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(6):
            yield b" " * (1024 * 1024)

    response = await client.post(
        "/v1/touchpoints", content=chunks(), headers={**manager, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["limit"]["name"] == "max_body_bytes"


async def test_a_batch_over_the_item_limit_is_refused_whole(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    item = payload(world)
    response = await client.post(
        "/v1/touchpoints/batch", json={"items": [item] * (MAX_BATCH_ITEMS + 1)}, headers=manager
    )
    assert response.status_code == 413
    assert response.json()["limit"] == {"name": "max_batch_items", "value": MAX_BATCH_ITEMS}
    assert response.json()["errors"][0]["field"] == "items"
    assert await count_touchpoints(session, world.org) == 0


async def test_text_over_its_limit_is_refused_naming_the_limit(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/touchpoints", json=payload(world, text="x" * (MAX_TEXT_CHARS + 1)), headers=manager
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["field"], error["rule"]) == ("text", "string_too_long")
    assert str(MAX_TEXT_CHARS) in error["message"]


async def test_facts_nested_too_deep_are_refused(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    deep: dict[str, object] = {"leaf": 1}
    for _ in range(50):
        deep = {"deeper": deep}
    body = payload(world)
    body["facts"] = {"activity": "Cards", "engagement_quality": 3, "extra": deep}
    response = await client.post("/v1/touchpoints/batch", json={"items": [body]}, headers=manager)
    problem = response.json()["results"][0]["problem"]
    assert problem["errors"][0]["field"] == "items[0].facts"
    assert problem["errors"][0]["rule"] == "facts_too_deep"
    assert "3" in problem["errors"][0]["message"]


async def test_facts_with_too_many_keys_are_refused(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    body = payload(world)
    body["facts"] = {f"k{i}": i for i in range(100)}
    response = await client.post("/v1/touchpoints", json=body, headers=manager)
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "facts_too_large"
