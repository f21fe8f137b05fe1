"""Alembic environment: async engine on asyncpg, metadata from every table model."""

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import service.models  # noqa: F401  (registers every table on the metadata)
from service.database import metadata, resolve_database_url, to_asyncpg_url
from service.migrate import in_models
from service.settings import get_settings
from service.startup import MIGRATION_LOCK, START_LOCK_CLASS

config = context.config
target_metadata = metadata


def _url() -> str:
    url = config.attributes.get("database_url")
    return to_asyncpg_url(url) if url else resolve_database_url(get_settings())


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        include_name=in_models,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata, compare_type=True, include_name=in_models
    )
    with context.begin_transaction():
        # Processes migrating together take turns: the lock is held until this transaction commits,
        # and the next reads the version table only then, finding nothing left to do.
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :key)"), {"cls": START_LOCK_CLASS, "key": MIGRATION_LOCK}
        )
        context.run_migrations()


async def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_async_engine(_url())
    async with engine.connect() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
