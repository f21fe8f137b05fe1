"""INGRAIN_DATABASE_READ_URL: status and list reads go to a real hot standby streaming from the
primary; writes, and what a read must write (access-log entries, a projection not stored yet), go to
the primary. Pausing the standby's replay shows which server answered."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest

from service.database import asyncpg_connect_kwargs, create_engine, create_session_factory
from service.migrate import upgrade_async
from service.settings import Settings
from tests.private_postgres import PrivatePostgres, private_postgres, standby_of
from tests.tokens import TokenFactory
from tests.touchpoints.world import World, build_world, keyed

DATABASE = "ingrain"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[PrivatePostgres, PrivatePostgres]]:
    with private_postgres() as primary, standby_of(primary) as standby:
        yield primary, standby


async def connect(server: PrivatePostgres, database: str = DATABASE) -> asyncpg.Connection:
    return await asyncpg.connect(**asyncpg_connect_kwargs(server.database_url(database)))


async def caught_up(primary: asyncpg.Connection, standby: asyncpg.Connection) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    target = await primary.fetchval("SELECT pg_current_wal_lsn()")
    for _ in range(500):
        if await standby.fetchval("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", target):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the standby did not catch up within 10 s")


@pytest.fixture
async def replicated(
    servers: tuple[PrivatePostgres, PrivatePostgres],
) -> AsyncIterator[tuple[asyncpg.Connection, asyncpg.Connection]]:
    primary_server, standby_server = servers
    admin = await connect(primary_server, "postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    await upgrade_async(primary_server.database_url(DATABASE))
    primary = await connect(primary_server)
    standby_admin = await connect(standby_server, "postgres")
    await caught_up(primary, standby_admin)
    await standby_admin.close()
    standby = await connect(standby_server)
    try:
        yield primary, standby
    finally:
        await primary.close()
        await standby.close()


async def test_reads_go_to_the_replica_and_writes_to_the_primary(
    servers: tuple[PrivatePostgres, PrivatePostgres],
    replicated: tuple[asyncpg.Connection, asyncpg.Connection],
    tokens: TokenFactory,
) -> None:
    from service.main import create_app

    primary_server, standby_server = servers
    primary, standby = replicated
    assert await standby.fetchval("SELECT pg_is_in_recovery()")
    engine = create_engine(primary_server.database_url(DATABASE), pool_size=1)
    try:
        async with create_session_factory(engine)() as session:
            world: World = await build_world(session)
    finally:
        await engine.dispose()
    manager = tokens.headers("quality_lead", world.org.id, sub="lead-sub")
    settings = Settings(
        environment="test", demo_data=False, database_read_url=standby_server.database_url(DATABASE)
    )
    app = create_app(settings, database_url=primary_server.database_url(DATABASE))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingrain.test") as client:
            first = await client.post(
                "/v1/touchpoints", json=keyed(world, "r-1", text="Calm"), headers=manager
            )
            assert first.status_code == 201, first.text
            await caught_up(primary, standby)

            listed = await client.get("/v1/touchpoints", headers=manager)
            assert [t["id"] for t in listed.json()["items"]] == [first.json()["id"]]
            # No projection on either server yet: computed and stored through the primary.
            status = await client.get(f"/v1/innovations/{world.innovation.id}/status", headers=manager)
            assert status.status_code == 200, status.text
            assert await primary.fetchval("SELECT count(*) FROM status_projection") > 0

            await standby.execute("SELECT pg_wal_replay_pause()")
            try:
                second = await client.post("/v1/touchpoints", json=keyed(world, "r-2"), headers=manager)
                assert second.status_code == 201
                # The standby has not replayed the second: the list comes from it, not the primary …
                stale = await client.get("/v1/touchpoints", headers=manager)
                assert [t["id"] for t in stale.json()["items"]] == [first.json()["id"]]
                # … while the access-log entries of those reads of free text went to the primary.
                logged = await primary.fetchval(
                    "SELECT count(*) FROM access_log WHERE action = 'touchpoint.read_text'"
                )
                assert logged == 2
                statuses = await client.get("/v1/status", headers=manager)
                assert statuses.status_code == 200
                graphql = await client.post(
                    "/graphql",
                    json={"query": "{ statuses { edges { node { innovationId } } } }"},
                    headers=manager,
                )
                assert "errors" not in graphql.json(), graphql.json()
            finally:
                await standby.execute("SELECT pg_wal_replay_resume()")
            await caught_up(primary, standby)
            fresh = await client.get("/v1/touchpoints", headers=manager)
            assert [t["id"] for t in fresh.json()["items"]] == [first.json()["id"], second.json()["id"]]


async def test_a_write_through_the_read_engine_is_refused(
    servers: tuple[PrivatePostgres, PrivatePostgres],
    replicated: tuple[asyncpg.Connection, asyncpg.Connection],
) -> None:
    """The read engine's transactions are read-only even when its URL names a primary."""
    primary_server, _ = servers
    engine = create_engine(primary_server.database_url(DATABASE), pool_size=1, read_only=True)
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver: asyncpg.Connection = raw.driver_connection
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                await driver.execute("CREATE TABLE written (id int)")
    finally:
        await engine.dispose()
