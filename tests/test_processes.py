"""Several server processes on one database: `ingrain serve --workers N`, and servers that start
together. Each test runs real `ingrain serve` subprocesses on loopback ports against the test Postgres."""

import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession

from bench.common import ServerProcess
from service.database import asyncpg_connect_kwargs, uuid_lock_key
from service.demo import cast
from service.migrate import head_revision
from service.projections.repository import PROJECTION_LOCK_CLASS
from service.settings import Settings
from service.startup import DEMO_LOCK, MIGRATION_LOCK, START_LOCK_CLASS
from service.vocabulary import Role
from tests import factories
from tests.conftest import cloned_database
from tests.graphql.status_world import build_status_world, delivery
from tests.projections.support import assert_projections_equal_on_read, drain, queued
from tests.tokens import TokenFactory

# Long enough for a loaded two-core machine; a hung server fails the test instead of the suite.
START_SECONDS = 120
STOP_SECONDS = 15


def serve(database_url: str, data_dir: Path, *arguments: str, **env: str) -> ServerProcess:
    return ServerProcess(
        ["-m", "service", "serve", "--host", "127.0.0.1", "--port", "{port}", *arguments],
        env={
            "INGRAIN_DATABASE_URL": database_url,
            "INGRAIN_DATA_DIR": str(data_dir),
            "INGRAIN_DEMO_DATA": "false",
            "INGRAIN_LOG_LEVEL": "warning",
            "INGRAIN_DB_POOL_SIZE": "4",
            **env,
        },
        output=data_dir / f"serve-{uuid.uuid4().hex[:8]}.log",
    )


def worker_processes(server: ServerProcess) -> list[psutil.Process]:
    assert server.process is not None
    children = psutil.Process(server.process.pid).children()
    return [c for c in children if "spawn_main" in " ".join(c.cmdline())]


def workers_serving(server: ServerProcess) -> set[int]:
    """The workers that hold an accepted connection on the server's port."""
    serving = set()
    for worker in worker_processes(server):
        for conn in worker.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_ESTABLISHED and conn.laddr and conn.laddr.port == server.port:
                serving.add(worker.pid)
    return serving


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f} s: {what}")
        await asyncio.sleep(0.1)


async def stopped_within(server: ServerProcess, seconds: float) -> int:
    assert server.process is not None
    return await asyncio.wait_for(server.process.wait(), timeout=seconds)


async def test_two_workers_answer_requests_and_drain_on_sigterm(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    server = serve(database_url, tmp_path, "--workers", "2")
    try:
        await server.start(within_seconds=START_SECONDS)
        assert server.process is not None

        async def both_started() -> bool:
            return len(worker_processes(server)) == 2

        await eventually(both_started, within=START_SECONDS, what="two worker processes")
        workers = worker_processes(server)
        # Connections are spread over the workers by the kernel; open more until both hold some.
        clients: list[httpx.AsyncClient] = []
        try:
            for _ in range(20):
                batch = [httpx.AsyncClient(base_url=server.base_url) for _ in range(8)]
                clients += batch
                answers = await asyncio.gather(*(c.get("/readyz") for c in batch))
                assert all(a.status_code == 200 for a in answers)
                if len(workers_serving(server)) == 2:
                    break
            assert workers_serving(server) == {w.pid for w in workers}

            # /metrics adds up both workers (serve gives them a multi-process directory of their own).
            # A request is counted once its answer has gone out, so the last may land just after.
            async def counted_all() -> bool:
                exposition = (await clients[0].get("/metrics")).text
                readiness_checks = [
                    sample.value
                    for family in text_string_to_metric_families(exposition)
                    for sample in family.samples
                    if sample.name == "ingrain_http_requests_total" and sample.labels["route"] == "/readyz"
                ]
                assert readiness_checks and readiness_checks[0] <= len(clients), readiness_checks
                return readiness_checks == [len(clients)]

            await eventually(counted_all, within=5, what="every /readyz counted in /metrics")
        finally:
            for client in clients:
                await client.aclose()

        # A request held in flight (it waits on a table lock) is answered after SIGTERM.
        headers = TokenFactory(settings).headers(Role.platform_admin)
        locker = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
        try:
            locked = locker.transaction()
            await locked.start()
            await locker.execute("LOCK TABLE organisation IN ACCESS EXCLUSIVE MODE")
            async with httpx.AsyncClient(base_url=server.base_url, timeout=STOP_SECONDS * 2) as client:
                in_flight = asyncio.create_task(client.get("/v1/organisations", headers=headers))

                async def request_waits() -> bool:
                    waiting = await locker.fetchval(
                        "SELECT count(*) FROM pg_locks"
                        " WHERE NOT granted AND relation = 'organisation'::regclass"
                    )
                    return bool(waiting)

                await eventually(request_waits, within=30, what="the request waits on the lock")
                server.process.terminate()
                await asyncio.sleep(1)
                assert server.process.returncode is None and not in_flight.done()  # draining
                await locked.rollback()
                answer = await in_flight
            assert answer.status_code == 200, answer.text
        finally:
            await locker.close()
        assert await stopped_within(server, STOP_SECONDS) == 0
        assert not any(w.is_running() for w in workers)
    finally:
        await server.stop()


@pytest.fixture
async def empty_database_url(server_url: str) -> AsyncIterator[str]:
    """A database of this test's own with nothing in it, not even the schema."""
    async with cloned_database(server_url, "ingrain_e", template=None) as url:
        yield url


async def test_servers_starting_together_migrate_once_and_load_the_demo_once(
    empty_database_url: str, tmp_path: Path
) -> None:
    """The test holds both start-up locks while two servers start, so both are seen waiting on each
    (both try to migrate, both look for the demo), then lets them go."""
    url = empty_database_url
    servers = [
        serve(url, tmp_path, INGRAIN_MIGRATE_ON_START="true", INGRAIN_DEMO_DATA="true") for _ in range(2)
    ]
    holder = await asyncpg.connect(**asyncpg_connect_kwargs(url))
    starts: list[asyncio.Task[None]] = []
    try:
        for key in (MIGRATION_LOCK, DEMO_LOCK):
            await holder.execute("SELECT pg_advisory_lock($1::int4, $2::int4)", START_LOCK_CLASS, key)
        starts = [asyncio.create_task(s.start(within_seconds=START_SECONDS * 2)) for s in servers]

        for key in (MIGRATION_LOCK, DEMO_LOCK):

            async def both_wait(key: int = key) -> bool:
                for start in starts:
                    if start.done():
                        start.result()  # a server that exited early says why
                waiting = await holder.fetchval(
                    """SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                        AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 2""",
                    START_LOCK_CLASS,
                    key,
                )
                return bool(waiting == 2)

            await eventually(
                both_wait, within=START_SECONDS, what=f"both servers wait on start-up lock {key}"
            )
            await holder.execute("SELECT pg_advisory_unlock($1::int4, $2::int4)", START_LOCK_CLASS, key)
        await asyncio.gather(*starts)

        assert await holder.fetchval("SELECT version_num FROM alembic_version") == head_revision()
        providers = await holder.fetchval(
            "SELECT count(*) FROM organisation WHERE name = $1", cast.PROVIDER_NAME
        )
        assert providers == 1
        # The demo's summary is printed by the one server that loaded it.
        outputs = [s.output.read_text() if s.output else "" for s in servers]
        assert sorted(cast.PROVIDER_NAME in out for out in outputs) == [False, True], outputs
    finally:
        for start in starts:
            start.cancel()
        await asyncio.gather(*starts, return_exceptions=True)
        for server in servers:
            await server.stop()
        await holder.close()


async def test_a_worker_told_to_stop_finishes_the_job_it_holds_and_then_exits(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    """`ingrain worker` on SIGTERM takes no new job and completes the one it holds: the job is not
    left picked for another worker to take over only once its heartbeat has gone stale."""
    url = app.state.database_url
    world = await build_status_world(session, client, tokens, services=1, innovations=1, days=0)
    [innovation] = world.innovation_ids
    staff = [await factories.staff_member(session, world.org, world.services) for _ in range(2)]
    person = await factories.person(session, world.org)
    assert (await client.get("/v1/status", headers=world.manager)).status_code == 200
    await drain(url)

    conn = await asyncpg.connect(**asyncpg_connect_kwargs(url))
    lock = (PROJECTION_LOCK_CLASS, uuid_lock_key(innovation))
    worker: asyncio.subprocess.Process | None = None
    try:
        # The innovation's recompute lock is held, so its recompute is picked and then waits.
        await conn.execute("SELECT pg_advisory_lock($1::int4, $2::int4)", *lock)
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "service",
            "worker",
            env={**os.environ, "INGRAIN_DATABASE_URL": url, "INGRAIN_LOG_LEVEL": "warning"},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        items = delivery(world.services, staff, person, [innovation], 10)
        posted = await client.post("/v1/touchpoints/batch", json={"items": items}, headers=world.manager)
        assert posted.status_code == 200, posted.text

        async def job_waits() -> bool:
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND classid = $1::bigint::oid AND objid = $2::bigint::oid",
                lock[0] & 0xFFFFFFFF,
                lock[1] & 0xFFFFFFFF,
            )
            return bool(waiting)

        await eventually(job_waits, within=START_SECONDS, what="the worker picks the recompute")
        [picked] = await conn.fetch("SELECT id FROM jobs.pgqueuer WHERE status = 'picked'")

        worker.send_signal(signal.SIGTERM)
        await asyncio.sleep(1)
        assert worker.returncode is None, "the worker left while it held a job"
        assert await conn.fetchval("SELECT status::text FROM jobs.pgqueuer WHERE id = $1", picked["id"]) == (
            "picked"
        )
        await conn.execute("SELECT pg_advisory_unlock($1::int4, $2::int4)", *lock)
        assert await asyncio.wait_for(worker.wait(), timeout=STOP_SECONDS) == 0
        statuses = await conn.fetch(
            "SELECT status::text FROM jobs.pgqueuer_log WHERE job_id = $1", picked["id"]
        )
        assert "successful" in {s[0] for s in statuses}
        assert await queued(conn) == 0
    finally:
        if worker is not None and worker.returncode is None:
            worker.kill()
            await worker.wait()
        await conn.close()
    assert await assert_projections_equal_on_read(url, client, world.org.id, world.manager) == 2
