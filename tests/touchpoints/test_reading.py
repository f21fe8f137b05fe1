"""Lists with filters and a stable cursor; each role reads what it may, and reading text is logged."""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.audit.models import AccessLogEntry
from tests.tokens import TokenFactory
from tests.touchpoints.world import World, keyed, payload

# A fixed point safely in the past, so that every moment below is accepted as not in the future.
BASE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=30)


def at(days_ago: float) -> str:
    return (BASE - timedelta(days=days_ago)).isoformat()


async def test_pages_follow_occurred_at_then_id_without_gaps_or_repeats(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    # Several share one occurred_at, so the id must break the tie.
    items = [payload(world, occurred_at=at(i % 4)) for i in range(11)]
    await client.post("/v1/touchpoints/batch", json={"items": items}, headers=manager)
    seen: list[dict[str, str]] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/touchpoints", params=params, headers=manager)).json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    keys = [(datetime.fromisoformat(t["occurred_at"]), t["id"]) for t in seen]
    assert len(keys) == 11
    assert keys == sorted(keys)
    assert len({t["id"] for t in seen}) == 11


async def test_filters(client: httpx.AsyncClient, world: World, manager: dict[str, str]) -> None:
    items = [
        payload(world, occurred_at=at(10)),
        payload(world, "supervision", occurred_at=at(5), innovation_ids=[str(world.second_innovation.id)]),
        payload(world, "audit", occurred_at=at(1), service_id=str(world.other_service.id)),
        keyed(world, "n-1", occurred_at=at(2)),
    ]
    results = (await client.post("/v1/touchpoints/batch", json={"items": items}, headers=manager)).json()[
        "results"
    ]
    ids = [r["id"] for r in results]

    async def ids_for(**params: str) -> list[str]:
        page = (await client.get("/v1/touchpoints", params=params, headers=manager)).json()
        return [t["id"] for t in page["items"]]

    assert await ids_for(kind="supervision") == [ids[1]]
    assert await ids_for(system="quality_assurance") == [ids[2]]
    assert await ids_for(service_id=str(world.other_service.id)) == [ids[2]]
    assert await ids_for(innovation_id=str(world.second_innovation.id)) == [ids[1]]
    assert await ids_for(staff_id=str(world.worker.id)) == [ids[1]]
    assert await ids_for(person_ref_id=str(world.person.id)) == [ids[0], ids[3]]
    assert await ids_for(source_system="acme-care") == [ids[3]]
    assert await ids_for(occurred_from=at(5), occurred_to=at(1)) == [ids[1], ids[3]]


async def test_a_care_worker_reads_only_their_own(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], tokens: TokenFactory
) -> None:
    worker = tokens.headers("care_worker", world.org.id, sub="worker-sub")
    posted_by_worker = await client.post("/v1/touchpoints", json=payload(world), headers=worker)
    about_worker = await client.post("/v1/touchpoints", json=payload(world, "supervision"), headers=manager)
    unrelated = await client.post("/v1/touchpoints", json=payload(world, "audit"), headers=manager)
    listed = (await client.get("/v1/touchpoints", headers=worker)).json()["items"]
    assert {t["id"] for t in listed} == {posted_by_worker.json()["id"], about_worker.json()["id"]}
    hidden = await client.get(f"/v1/touchpoints/{unrelated.json()['id']}", headers=worker)
    assert hidden.status_code == 404


async def test_roles_without_touchpoint_access_are_refused(
    client: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    admin = tokens.headers("provider_admin", world.org.id)
    listed = await client.get("/v1/touchpoints", headers=admin)
    posted = await client.post("/v1/touchpoints", json=payload(world), headers=admin)
    assert listed.status_code == posted.status_code == 403


async def test_a_caller_limited_to_services_lists_only_those(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], tokens: TokenFactory
) -> None:
    items = [payload(world), payload(world, "audit", service_id=str(world.other_service.id))]
    await client.post("/v1/touchpoints/batch", json={"items": items}, headers=manager)
    limited = tokens.headers("registered_manager", world.org.id, services=[world.other_service.id])
    listed = (await client.get("/v1/touchpoints", headers=limited)).json()["items"]
    assert [t["kind"] for t in listed] == ["audit"]


async def test_reading_text_and_writing_are_logged(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    # Free text is `text` and free-text facts: a daily note's activity is logged as read too.
    items = [
        payload(world),
        payload(world, "practice_observation"),
        payload(world, "practice_observation", text="Quiet morning"),
    ]
    results = (await client.post("/v1/touchpoints/batch", json={"items": items}, headers=manager)).json()[
        "results"
    ]
    await client.get("/v1/touchpoints", headers=manager)
    entries = (
        (
            await session.execute(
                select(AccessLogEntry).where(col(AccessLogEntry.organisation_id) == world.org.id)
            )
        )
        .scalars()
        .all()
    )
    by_action = {e.action: e for e in entries}
    assert set(by_action) == {"touchpoint.create", "touchpoint.read_text"}
    assert sorted(map(str, by_action["touchpoint.create"].record_ids or [])) == sorted(
        r["id"] for r in results
    )
    assert sorted(map(str, by_action["touchpoint.read_text"].record_ids or [])) == sorted(
        [results[0]["id"], results[2]["id"]]
    )


async def test_an_unknown_cursor_is_refused(client: httpx.AsyncClient, manager: dict[str, str]) -> None:
    response = await client.get("/v1/touchpoints", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=manager)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"
