"""Start-up work done once, however many processes start together: migrations and the demo.

`ingrain serve --workers N` does it in the parent before any worker starts; several servers (on
several machines, or `ingrain migrate` beside a starting server) take turns on Postgres advisory
locks instead. The first migrates and loads the demo; the others wait, then find the schema at head
and the demo provider present, and do nothing.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from service.database import asyncpg_connect_kwargs, create_engine, create_session_factory
from service.settings import Settings

# The first key of every start-up lock: ASCII "strt" (two-integer advisory locks, apart from the
# rollup and idempotency locks).
START_LOCK_CLASS = 0x73747274
# Held by Alembic's transaction while migrations run (migrations/env.py).
MIGRATION_LOCK = 1
# Held while the demo provider is looked for and loaded.
DEMO_LOCK = 2

# Set by `ingrain serve` for its server processes: the database it resolved (starting the embedded
# Postgres once, in the parent) and prepared before starting them (service.main.app_factory).
PREPARED_DATABASE_URL = "INGRAIN_SERVE_PREPARED_DATABASE_URL"


@asynccontextmanager
async def advisory_lock(database_url: str, key: int) -> AsyncIterator[None]:
    """Hold a session-level start-up lock for the block, on a connection of its own.

    A process that dies holding it loses its connection, and the server releases the lock.
    """
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
    try:
        await conn.execute("SELECT pg_advisory_lock($1::int4, $2::int4)", START_LOCK_CLASS, key)
        yield
    finally:
        await conn.close()


async def prepare_database(settings: Settings, database_url: str) -> None:
    """Migrate (when configured to at start-up) and load the demo on first start (when configured)."""
    if settings.migrate_at_start:
        from service.migrate import upgrade_async

        await upgrade_async(database_url)
    if settings.load_demo_data:
        from service.demo.loader import load_demo_if_empty

        engine = create_engine(database_url, pool_size=2)
        try:
            async with advisory_lock(database_url, DEMO_LOCK):
                await load_demo_if_empty(create_session_factory(engine), settings)
        finally:
            await engine.dispose()
