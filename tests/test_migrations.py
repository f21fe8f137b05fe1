"""The migrated schema equals the models, and the migrations run both ways."""

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

import service.models  # noqa: F401
from service.database import create_engine, metadata
from service.migrate import downgrade, head_revision, in_models, upgrade


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
