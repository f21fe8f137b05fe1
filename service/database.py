"""Engine, sessions and the metadata every table model shares."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, urlsplit

import asyncpg
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel

from service import embedded_postgres
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


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        to_asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        connect_args={"server_settings": {"application_name": "ingrain", "timezone": "UTC"}},
    )


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
