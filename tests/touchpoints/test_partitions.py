"""touchpoint is partitioned by month: rows land in their month, keys hold across months, a month is
carved out of the default partition or detached without the rollups moving."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service import clock
from service.database import asyncpg_connect_kwargs, create_engine
from service.jobs.worker import create_partitions_ahead
from service.touchpoints import partitions
from service.touchpoints.partitions import DetachRefused, detach_before, ensure_partitions, month_start
from tests.status.compare import rollup_rows, rollups_equal_a_rebuild
from tests.touchpoints.world import World, count_touchpoints, keyed, payload


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
    yield connection
    await connection.close()


async def partition_of(conn: asyncpg.Connection, touchpoint_id: str) -> str:
    name: str = await conn.fetchval(
        "SELECT tableoid::regclass::text FROM touchpoint WHERE id = $1", uuid.UUID(touchpoint_id)
    )
    return name


def month_name(day: date) -> str:
    return partitions.partition_name(month_start(day))


async def test_the_migration_partitions_touchpoint_by_month(conn: asyncpg.Connection) -> None:
    assert await conn.fetchval("SELECT relkind = 'p' FROM pg_class WHERE oid = 'touchpoint'::regclass")
    today = datetime.now(UTC).date()
    names = [p.name for p in await partitions.list_partitions(conn)]
    expected = [
        partitions.partition_name(month_start(today, n)) for n in range(-1, partitions.AHEAD_MONTHS + 1)
    ]
    assert names == [*expected, "touchpoint_default"]
    # Unique keys that must hold across months live in the identity table, which the rest references.
    referenced = await conn.fetch(
        "SELECT conrelid::regclass::text AS t FROM pg_constraint"
        " WHERE contype = 'f' AND confrelid = 'touchpoint_identity'::regclass AND conparentid = 0"
    )
    assert {r["t"] for r in referenced} == {"touchpoint", "touchpoint_innovation", "touchpoint_revision"}
    assert not await conn.fetchval(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = 'touchpoint'::regclass"
    )


async def test_rows_land_in_their_month_and_source_keys_hold_across_months(
    client: httpx.AsyncClient,
    world: World,
    manager: dict[str, str],
    conn: asyncpg.Connection,
    session: AsyncSession,
) -> None:
    now = datetime.now(UTC)
    current = (await client.post("/v1/touchpoints", json=keyed(world, "n-1"), headers=manager)).json()
    assert await partition_of(conn, current["id"]) == month_name(now.date())
    old = keyed(world, "n-2", occurred_at="2019-03-04T10:00:00+00:00")
    stored_old = (await client.post("/v1/touchpoints", json=old, headers=manager)).json()
    assert await partition_of(conn, stored_old["id"]) == "touchpoint_default"

    # The same source key in another month is the same record: a conflict, never a second row …
    moved = {**old, "occurred_at": now.isoformat()}
    assert (await client.post("/v1/touchpoints", json=moved, headers=manager)).status_code == 409
    for item, status in ((moved, "rejected"), (old, "duplicate")):
        batch = await client.post("/v1/touchpoints/batch", json={"items": [item]}, headers=manager)
        assert [r["status"] for r in batch.json()["results"]] == [status]
    # … and a correction moves it to the other month's partition, rollups and all.
    put = await client.put("/v1/touchpoints/by-source/acme-care/n-2", json=moved, headers=manager)
    assert put.status_code == 200, put.text
    assert put.json()["revision"] == 2
    assert await partition_of(conn, stored_old["id"]) == month_name(now.date())
    assert await count_touchpoints(session, world.org) == 2
    assert await rollups_equal_a_rebuild(conn, world.org.id)


async def test_a_backfilled_month_gets_its_partition_and_the_rollups_stay(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], conn: asyncpg.Connection
) -> None:
    today = datetime.now(UTC).date()
    backfill = month_start(today, -14)
    items = [
        payload(
            world,
            occurred_at=f"{backfill:%Y-%m}-{day:02d}T09:00:00+00:00",
            source_system="acme-care",
            external_id=f"b-{day}",
        )
        for day in range(1, 11)
    ]
    items.append(payload(world, "incident", occurred_at=f"{backfill:%Y-%m}-05T09:00:00+00:00"))
    assert (
        await client.post("/v1/touchpoints/batch", json={"items": items}, headers=manager)
    ).status_code == 200
    in_default = await conn.fetchval("SELECT count(*) FROM touchpoint_default")
    assert in_default == 11
    before = await rollup_rows(conn, world.org.id)

    created = await ensure_partitions(conn, today)
    assert created == [partitions.partition_name(backfill)]
    assert await conn.fetchval("SELECT count(*) FROM touchpoint_default") == 0
    assert await conn.fetchval(f"SELECT count(*) FROM {created[0]}") == 11
    assert await rollup_rows(conn, world.org.id) == before
    assert await rollups_equal_a_rebuild(conn, world.org.id)
    # The default partition is back in place, with its keys: a later old note still lands there.
    late = await client.post(
        "/v1/touchpoints", json=payload(world, occurred_at="2018-01-01T09:00:00+00:00"), headers=manager
    )
    assert await partition_of(conn, late.json()["id"]) == "touchpoint_default"
    assert await ensure_partitions(conn, today) == []  # nothing more to do: 2018 is too old to carve


async def test_the_daily_job_creates_the_months_ahead(database_url: str, conn: asyncpg.Connection) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        with clock.fixed_at(datetime(2031, 6, 15, tzinfo=UTC)):
            created = await create_partitions_ahead(engine)
    finally:
        await engine.dispose()
    assert created == [f"touchpoint_y2031m{m:02d}" for m in range(5, 10)]
    names = {p.name for p in await partitions.list_partitions(conn)}
    assert set(created) <= names


async def test_old_months_detach_and_their_keys_stay_taken(
    client: httpx.AsyncClient,
    world: World,
    manager: dict[str, str],
    conn: asyncpg.Connection,
    session: AsyncSession,
) -> None:
    today = datetime.now(UTC).date()
    old_month = month_start(today, -partitions.READ_HORIZON_MONTHS - 2)
    note = keyed(world, "archived-1", occurred_at=f"{old_month:%Y-%m}-10T09:00:00+00:00")
    stored = (await client.post("/v1/touchpoints", json=note, headers=manager)).json()
    recent = (await client.post("/v1/touchpoints", json=keyed(world, "kept-1"), headers=manager)).json()
    # Older than the job carves out of the default partition: its partition made on purpose.
    assert await ensure_partitions(conn, today) == []
    await ensure_partitions(conn, today, also=[old_month])
    assert await partition_of(conn, stored["id"]) == partitions.partition_name(old_month)
    before = await rollup_rows(conn, world.org.id)

    with pytest.raises(DetachRefused, match="read by a status"):
        await detach_before(conn, month_start(today, -partitions.READ_HORIZON_MONTHS + 1), today)
    with pytest.raises(DetachRefused, match="YYYY-MM"):
        partitions.parse_month("2024-13")

    detached = await detach_before(conn, partitions.earliest_detachable(today), today)
    assert detached == [partitions.partition_name(old_month)]
    assert partitions.partition_name(old_month) not in {
        p.name for p in await partitions.list_partitions(conn)
    }
    # A table of its own now, rows intact, to archive and drop.
    assert await conn.fetchval(f"SELECT count(*) FROM {detached[0]}") == 1
    assert await rollup_rows(conn, world.org.id) == before

    listed = (await client.get("/v1/touchpoints", headers=manager)).json()["items"]
    assert [t["id"] for t in listed] == [recent["id"]]
    assert (await client.get(f"/v1/touchpoints/{stored['id']}", headers=manager)).status_code == 404
    # Its source key stays taken: a repeat is refused, never stored a second time.
    assert (await client.post("/v1/touchpoints", json=note, headers=manager)).status_code == 409
    assert await count_touchpoints(session, world.org) == 1
