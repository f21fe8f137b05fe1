"""Engine, sessions and the metadata every table model shares."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
from sqlalchemy import MetaData, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel

from service import embedded_postgres
from service.observability.metrics import observe_pool
from service.settings import Settings

# Stable constraint names make migrations reviewable and reversible.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


def to_asyncpg_url(url: str) -> str:
    """Accept postgres://, postgresql:// or postgresql+asyncpg:// and speak asyncpg."""
    scheme, _, rest = url.partition("://")
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg"):
        return f"postgresql+asyncpg://{rest}"
    raise ValueError(f"unsupported database URL scheme {scheme!r}: use postgresql://")


def to_libpq_url(url: str) -> str:
    _, _, rest = url.partition("://")
    return f"postgresql://{rest}"


def resolve_database_url(settings: Settings) -> str:
    """The URL to use: the configured server, or the embedded one started on demand."""
    if settings.database_url:
        return to_asyncpg_url(settings.database_url)
    return to_asyncpg_url(embedded_postgres.start(settings.data_dir))


def asyncpg_connect_kwargs(url: str) -> dict[str, str | int | None]:
    """Connection arguments for a raw asyncpg connection to the same server (benchmarks, COPY)."""
    parts = urlsplit(to_libpq_url(url))
    query = parse_qs(parts.query)
    return {
        "user": parts.username,
        "password": parts.password or None,
        "host": query.get("host", [parts.hostname or "localhost"])[0],
        "port": parts.port or 5432,
        "database": parts.path.lstrip("/") or "postgres",
    }


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    connect_timeout: float | None = None,
    pool_timeout: float = 30.0,
    read_only: bool = False,
) -> AsyncEngine:
    """An engine whose pool never hands out a connection the server has already closed.

    `connect_timeout` bounds opening a connection (asyncpg's default is 60 s) and `pool_timeout`
    waiting for a free one, so a request meets an unavailable database within about a second.
    `read_only` (the read replica's engine) makes every transaction read-only, so a write sent
    through it fails on a primary too, as it would on a standby.
    """
    server_settings = {"application_name": "ingrain-read" if read_only else "ingrain", "timezone": "UTC"}
    if read_only:
        server_settings["default_transaction_read_only"] = "on"
    connect_args: dict[str, Any] = {"server_settings": server_settings}
    if connect_timeout is not None:
        connect_args["timeout"] = connect_timeout
    engine = create_async_engine(
        to_asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=pool_timeout,
        pool_pre_ping=False,
        connect_args=connect_args,
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    # After the listener above: a checkout it refuses is not counted as a connection in use.
    observe_pool(engine)
    return engine


def _refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Replace a pooled connection whose server side has gone (restart, pg_terminate_backend).

    asyncpg notices the socket closing as soon as the event loop reads it, so this costs no round
    trip (unlike `pool_pre_ping`). The pool invalidates the connection and opens a fresh one.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the pooled connection was closed by the server")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: commit if the block succeeds, roll back otherwise."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# How often a unit of work that lost to a serialisation failure is run again before it gives up.
SERIALIZATION_ATTEMPTS = 5


def uuid_lock_key(value: uuid.UUID) -> int:
    """An advisory lock's second key for a row: the first 32 bits of its id (two ids sharing them
    only wait for each other)."""
    return int.from_bytes(value.bytes[:4], "big", signed=True)


@asynccontextmanager
async def session_lock(conn: asyncpg.Connection, lock_class: int, key: int) -> AsyncIterator[None]:
    """Hold the session-level advisory lock (`lock_class`, `key`) on `conn` for the block."""
    await conn.execute("SELECT pg_advisory_lock($1::int4, $2::int4)", lock_class, key)
    try:
        yield
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1::int4, $2::int4)", lock_class, key)


@asynccontextmanager
async def read_session(
    factory: async_sessionmaker[AsyncSession] | None,
) -> AsyncIterator[AsyncSession | None]:
    """A session on the read replica (INGRAIN_DATABASE_READ_URL), or None without one: reads then
    go through the caller's own session. Its transactions are read-only (`create_engine(read_only=…)`);
    whatever a read must write goes through the caller's own session, on the primary."""
    if factory is None:
        yield None
        return
    async with factory() as session:
        yield session


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection behind the session, inside the session's transaction (or, for a
    session whose statements are each their own transaction, outside any)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    options = connection.sync_connection.get_execution_options() if connection.sync_connection else {}
    autocommit = options.get("isolation_level") == "AUTOCOMMIT"
    if not autocommit and not driver.is_in_transaction():
        # SQLAlchemy begins its transaction lazily; make it begin before we write around it.
        await session.execute(text("SELECT 1"))
    return driver
