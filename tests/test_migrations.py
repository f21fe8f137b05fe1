"""The migrated schema equals the models, and the migrations run both ways."""

import asyncio

import asyncpg
import httpx
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

import service.models  # noqa: F401
from service.database import asyncpg_connect_kwargs, create_engine, metadata
from service.migrate import downgrade, head_revision, in_models, upgrade
from tests.status.compare import rollup_rows, rollups_equal_a_rebuild
from tests.tokens import TokenFactory
from tests.touchpoints.world import build_world, keyed


async def _diff(url: str) -> list[object]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn: Connection) -> list[object]:
                ctx = MigrationContext.configure(
                    sync_conn, opts={"compare_type": True, "include_name": in_models}
                )
                return compare_metadata(ctx, metadata)

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            return {r[0] for r in rows}
    finally:
        await engine.dispose()


async def test_migrated_schema_equals_the_models(database_url: str) -> None:
    assert await _diff(database_url) == []


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    await asyncio.to_thread(downgrade, database_url, "base")
    assert await _tables(database_url) <= {"alembic_version"}
    await asyncio.to_thread(upgrade, database_url)
    tables = await _tables(database_url)
    assert set(metadata.tables) <= tables
    assert await _diff(database_url) == []
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    finally:
        await engine.dispose()
    assert version == head_revision()


async def test_partitioning_keeps_every_touchpoint_its_links_and_its_counts_both_ways(
    database_url: str, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    """Migration 0010 rebuilds touchpoint with its rows: down to the unpartitioned table and up again,
    nothing is lost and the rollups still equal a recount."""
    world = await build_world(session)
    manager = tokens.headers("registered_manager", world.org.id, sub="manager-sub")
    items = [
        keyed(world, "m-1"),
        keyed(world, "m-2", occurred_at="2019-05-06T10:00:00+00:00"),
        keyed(world, "m-3", kind="incident", facts={"severity": "low", "restrictive_intervention": False}),
    ]
    stored = await client.post("/v1/touchpoints/batch", json={"items": items}, headers=manager)
    assert [r["status"] for r in stored.json()["results"]] == ["created"] * 3, stored.text
    corrected = {**items[0], "innovation_ids": [str(world.second_innovation.id)]}
    assert (
        await client.put("/v1/touchpoints/by-source/acme-care/m-1", json=corrected, headers=manager)
    ).is_success
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
    try:
        counts = (
            "SELECT (SELECT count(*) FROM touchpoint), (SELECT count(*) FROM touchpoint_innovation),"
            " (SELECT count(*) FROM touchpoint_revision)"
        )
        before = tuple(await conn.fetchrow(counts))
        rollups = await rollup_rows(conn, world.org.id)
        assert before == (3, 3, 1)

        await asyncio.to_thread(downgrade, database_url, "0009")
        assert tuple(await conn.fetchrow(counts)) == before
        assert not await conn.fetchval("SELECT count(*) FROM pg_inherits")
        assert await rollup_rows(conn, world.org.id) == rollups
        assert await rollups_equal_a_rebuild(conn, world.org.id)

        await asyncio.to_thread(upgrade, database_url)
        assert tuple(await conn.fetchrow(counts)) == before
        assert await conn.fetchval("SELECT count(*) FROM touchpoint_identity") == 3
        placed = await conn.fetch(
            "SELECT external_id, tableoid::regclass::text AS p FROM touchpoint ORDER BY 1"
        )
        assert placed[1]["p"] == "touchpoint_default"  # 2019 is older than the months given their own
        assert placed[0]["p"].startswith("touchpoint_y")
        assert await rollup_rows(conn, world.org.id) == rollups
        assert await rollups_equal_a_rebuild(conn, world.org.id)
    finally:
        await conn.close()
