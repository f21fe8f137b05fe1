"""The database unavailable → 503 problem+json with Retry-After, quickly, and recovery without a restart."""

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from bench.common import Provider, free_port, seed_provider
from bench.ingest import daily_note
from service.availability import describe, is_database_unavailable
from service.database import asyncpg_connect_kwargs, create_engine, create_session_factory
from service.main import create_app
from service.settings import Settings
from tests.private_postgres import PrivatePostgres
from tests.tokens import TokenFactory

# How long a client may wait for its 503 while the database is down: about a second, with slack.
ANSWER_WITHIN_SECONDS = 1.5


def _wrapped(orig: BaseException, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    """As SQLAlchemy raises a driver error: a DBAPIError whose `orig` (and cause) is the driver's."""
    error = sa_exc.DBAPIError("SELECT 1", {}, orig, connection_invalidated=invalidated)
    error.__cause__ = orig
    return error


def _group(*errors: Exception) -> ExceptionGroup[Exception]:
    return ExceptionGroup("task group", list(errors))


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (asyncpg.CannotConnectNowError("the database system is starting up"), True),
        (asyncpg.AdminShutdownError("terminating connection due to administrator command"), True),
        (asyncpg.CrashShutdownError("terminating connection because of crash of another process"), True),
        (asyncpg.TooManyConnectionsError("sorry, too many clients already"), True),
        (asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"), True),
        (asyncpg.InterfaceError("cannot perform operation: connection is closed"), True),
        (_wrapped(asyncpg.CannotConnectNowError("the database system is shutting down")), True),
        (_wrapped(RuntimeError("connection reset"), invalidated=True), True),
        (sa_exc.TimeoutError("QueuePool limit of size 1 overflow 1 reached"), True),
        (_group(_wrapped(asyncpg.AdminShutdownError("terminating connection"))), True),
        (asyncpg.InterfaceError("cannot perform operation: another operation is in progress"), False),
        (_wrapped(asyncpg.DeadlockDetectedError("deadlock detected")), False),
        (_wrapped(asyncpg.SerializationError("could not serialize access")), False),
        (_wrapped(asyncpg.UniqueViolationError("duplicate key value")), False),
        (_wrapped(asyncpg.UndefinedTableError('relation "service" does not exist')), False),
        (RuntimeError("a bug"), False),
        # A socket error of our own (not raised in the driver) is a fault of ours, not the database's.
        (ConnectionRefusedError(111, "Connection refused"), False),
        (FileNotFoundError(2, "No such file or directory"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_what_counts_as_the_database_being_unavailable(error: BaseException, unavailable: bool) -> None:
    assert is_database_unavailable(error) is unavailable


def test_the_log_names_the_failure_without_the_statement_or_its_parameters() -> None:
    error = sa_exc.DBAPIError(
        "SELECT * FROM person_ref WHERE external_ref = $1",
        ("P-Jane-Doe",),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        connection_invalidated=True,
    )
    assert describe(error) == "AdminShutdownError: terminating connection due to administrator command"


async def test_a_refused_connection_from_the_driver_counts() -> None:
    with pytest.raises(OSError) as refused:
        await asyncpg.connect(host="127.0.0.1", port=free_port(), user="postgres", timeout=1)
    assert is_database_unavailable(refused.value)


@asynccontextmanager
async def serving(url: str, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database_url=url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingrain.test") as client:
            yield client


def sample_requests(
    provider: Provider, tokens: TokenFactory
) -> dict[str, Callable[[httpx.AsyncClient], Any]]:
    """A sample of routes: probes, REST reads and writes, GraphQL (its caller check and its resolvers)."""
    manager = tokens.headers("registered_manager", provider.organisation_id)
    admin = tokens.headers("platform_admin")
    innovation = provider.innovation_ids[0]
    batch = {"items": [daily_note(provider, 1, random.Random(1), datetime.now(UTC))]}
    return {
        "readyz": lambda c: c.get("/readyz"),
        "list services": lambda c: c.get("/v1/services", headers=manager),
        "innovation status": lambda c: c.get(f"/v1/innovations/{innovation}/status", headers=manager),
        "post batch": lambda c: c.post(
            "/v1/touchpoints/batch",
            json=batch,
            headers={**manager, "Idempotency-Key": "down-1"},
        ),
        "list organisations": lambda c: c.get("/v1/organisations", headers=admin),
        "graphql": lambda c: c.post(
            "/graphql", json={"query": "{ services(first: 2) { edges { node { id } } } }"}, headers=manager
        ),
        # A platform admin's token needs no database to check: the resolver meets the outage.
        "graphql resolver": lambda c: c.post(
            "/graphql",
            json={"query": f'{{ organisation(id: "{provider.organisation_id}") {{ name }} }}'},
            headers=admin,
        ),
    }


def _assert_unavailable(name: str, response: httpx.Response, elapsed: float) -> None:
    assert response.status_code == 503, (name, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), name
    assert response.headers["retry-after"] == "1", name
    body = response.json()
    assert body["type"] == "https://ingrain.dev/problems/unavailable", name
    assert body["status"] == 503, name
    assert elapsed < ANSWER_WITHIN_SECONDS, (name, elapsed)


async def test_every_route_answers_503_while_the_database_is_stopped_and_recovers(
    private_server: PrivatePostgres, private_database_url: str, settings: Settings, tokens: TokenFactory
) -> None:
    provider = await seed_provider(private_database_url, services=1, staff=3, people=3, innovations=4)
    requests = sample_requests(provider, tokens)
    async with serving(private_database_url, settings) as client:
        for name, send in requests.items():  # warm: the pool holds connections that will die
            assert (await send(client)).status_code < 300, name

        await asyncio.to_thread(private_server.stop)
        assert (await client.get("/healthz")).status_code == 200
        slowest = 0.0
        for name, send in requests.items():
            started = time.monotonic()
            response = await send(client)
            elapsed = time.monotonic() - started
            _assert_unavailable(name, response, elapsed)
            slowest = max(slowest, elapsed)
        print(f"\ndatabase stopped: {len(requests)} routes answered 503, slowest {slowest * 1000:.0f} ms")
        assert (await client.get("/readyz")).json()["readiness"] == "unavailable"

        await asyncio.to_thread(private_server.start)
        for name, send in requests.items():
            response = await send(client)
            assert response.status_code < 300, (name, response.status_code, response.text)
            assert "errors" not in response.json(), (name, response.text)


async def test_a_database_that_does_not_answer_in_time_is_503_not_a_hang(
    settings: Settings, tokens: TokenFactory
) -> None:
    # A listener that accepts the connection and never speaks: Postgres hung, or a black hole. A
    # half-second connect timeout leaves the answer a second of margin on a loaded machine.
    silent = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    impatient = settings.model_copy(update={"db_connect_timeout_seconds": 0.5})
    try:
        async with serving(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/ingrain", impatient) as client:
            started = time.monotonic()
            response = await client.get("/v1/services", headers=tokens.headers("care_worker", uuid.uuid4()))
            elapsed = time.monotonic() - started
            _assert_unavailable("silent server", response, elapsed)
            print(f"\nsilent database: 503 in {elapsed * 1000:.0f} ms")
            started = time.monotonic()
            response = await client.get("/readyz")
            _assert_unavailable("readyz", response, time.monotonic() - started)
    finally:
        silent.close()


async def test_a_pool_with_no_free_connection_answers_503_after_its_timeout(
    database_url: str, tokens: TokenFactory
) -> None:
    settings = Settings(environment="test", demo_data=False, db_pool_size=1, db_pool_timeout_seconds=0.3)
    app = create_app(settings, database_url=database_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingrain.test") as client:
            engine = app.state.engine
            # The pool's one connection and its one overflow, both held elsewhere.
            async with engine.connect() as first, engine.connect() as second:
                await first.execute(text("SELECT 1"))
                await second.execute(text("SELECT 1"))
                started = time.monotonic()
                response = await client.get("/readyz")
                _assert_unavailable("exhausted pool", response, time.monotonic() - started)
            assert (await client.get("/readyz")).status_code == 200


async def test_pg_terminate_backend_fails_at_most_one_request_per_connection(
    database_url: str, settings: Settings, tokens: TokenFactory
) -> None:
    provider = await seed_provider(database_url, services=1, staff=3, people=3, innovations=4)
    manager = tokens.headers("registered_manager", provider.organisation_id)
    async with serving(database_url, settings) as client:

        async def burst(n: int) -> list[httpx.Response]:
            return await asyncio.gather(*(client.get("/v1/services", headers=manager) for _ in range(n)))

        assert all(r.status_code == 200 for r in await burst(12))
        admin = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
        try:
            terminated = await admin.fetchval(
                """
                SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
                  FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()
                   AND application_name = 'ingrain'
                """
            )
        finally:
            await admin.close()
        assert terminated >= 2
        await asyncio.sleep(0.05)  # the event loop reads the closed sockets

        responses = [*await burst(12), *[await client.get("/v1/services", headers=manager) for _ in range(6)]]
        failed = [r for r in responses if r.status_code != 200]
        print(
            f"\npg_terminate_backend: {terminated} pooled connections terminated; "
            f"{len(responses)} requests after, {len(failed)} failed"
        )
        assert len(failed) <= terminated
        for response in failed:
            _assert_unavailable("after pg_terminate_backend", response, 0)


async def test_a_resolver_meeting_the_outage_says_unavailable_when_run_by_hand() -> None:
    from service.auth.principal import Principal
    from service.graphql.context import GraphQLContext
    from service.graphql.schema import schema
    from service.vocabulary import Role

    engine = create_engine(
        f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/ingrain", connect_timeout=1
    )
    context = GraphQLContext(
        principal=Principal(sub="admin", organisation_id=None, roles=frozenset({Role.platform_admin})),
        session_factory=create_session_factory(engine),
        settings=Settings(environment="test"),
    )
    try:
        result = await schema.execute(
            f'{{ organisation(id: "{uuid.uuid4()}") {{ name }} }}', context_value=context
        )
    finally:
        await engine.dispose()

    assert result.errors is not None
    assert result.errors[0].message == "the database is unavailable; retry the request later"
    assert result.errors[0].extensions == {
        "code": "UNAVAILABLE",
        "status": 503,
        "type": "https://ingrain.dev/problems/unavailable",
    }
