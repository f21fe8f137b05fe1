"""Shared bench plumbing: a throwaway embedded Postgres, the real server in a subprocess, a provider."""

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

from service import embedded_postgres
from service.auth.tokens import issue_hs256_token
from service.database import create_engine, create_session_factory, to_asyncpg_url, unit_of_work
from service.innovations.models import Innovation, InnovationService
from service.migrate import upgrade_async
from service.organisations.models import Organisation
from service.people.models import PersonRef
from service.services.models import DEFAULT_SHIFT_PATTERN, Service
from service.settings import PROJECT_ROOT, Settings
from service.staff.models import StaffMember, StaffMemberService

BENCH_DIR = PROJECT_ROOT / ".bench"


@asynccontextmanager
async def embedded_database(name: str) -> AsyncIterator[str]:
    """A migrated database on a fresh embedded Postgres under .bench/.

    The server stops and its directory is deleted when this process exits (pgserver's cleanup).
    """
    data_dir = BENCH_DIR / f"{name}-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    url = to_asyncpg_url(embedded_postgres.start(data_dir, cleanup_mode="delete"))
    # INGRAIN_BENCH_REVISION stops at an earlier schema, e.g. to weigh what later triggers cost.
    await upgrade_async(url, os.environ.get("INGRAIN_BENCH_REVISION", "head"))
    yield url


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess:
    """A server in a subprocess on a loopback port, ready once `probe` answers below 500; it may be
    killed and started again on the same port, as a supervisor would restart it."""

    def __init__(
        self,
        arguments: list[str],
        *,
        env: dict[str, str],
        probe: str = "/healthz",
        output: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # `{port}` in an argument or a value of `env` is this server's port.
        self.arguments = [a.format(port=self.port) for a in arguments]
        self.env = {**os.environ, **{k: v.format(port=self.port) for k, v in env.items()}}
        self.probe = probe
        # Where its stdout and stderr go (inherited when None).
        self.output = output
        self.profile = os.environ.get("INGRAIN_BENCH_PROFILE")
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, *, within_seconds: float = 60) -> None:
        """Start it and wait until its probe answers."""
        command = [sys.executable, *self.arguments]
        if self.profile:
            # Collapsed stacks of the server for the whole run (py-spy must be installed).
            profiler = ["py-spy", "record", "--format", "raw", "--rate", "200", "-o", self.profile, "--"]
            command = [*profiler, *command]
        with contextlib.ExitStack() as files:
            stdout = files.enter_context(self.output.open("ab")) if self.output else None
            process = await asyncio.create_subprocess_exec(
                *command,
                env=self.env,
                cwd=PROJECT_ROOT,
                stdout=stdout,
                stderr=asyncio.subprocess.STDOUT if stdout else None,
            )
        self.process = process
        deadline = time.monotonic() + within_seconds
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            while True:
                if process.returncode is not None:
                    raise RuntimeError(f"the server exited with {process.returncode}")
                try:
                    if (await client.get(self.probe)).status_code < 500:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not become ready within {within_seconds:.0f} s")
                await asyncio.sleep(0.1)

    async def kill(self) -> None:
        """SIGKILL: no shutdown, requests in flight are cut off."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGINT if self.profile else signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), timeout=15)
        except TimeoutError:
            await self.kill()


def ingrain_server(database_url: str, *, env: dict[str, str] | None = None) -> ServerProcess:
    """`ingrain serve` (uvicorn) against `database_url`."""
    return ServerProcess(
        ["-m", "service", "serve", "--host", "127.0.0.1", "--port", "{port}"],
        env={
            "INGRAIN_DATABASE_URL": database_url,
            "INGRAIN_DEMO_DATA": "false",
            "INGRAIN_LOG_LEVEL": "warning",
            "INGRAIN_DB_POOL_SIZE": "40",  # enough for every concurrent request: no connection churn
            **(env or {}),
        },
    )


@asynccontextmanager
async def serving(server: ServerProcess) -> AsyncIterator[str]:
    """The server started, for the block; yields its base URL."""
    try:
        await server.start()
        yield server.base_url
    finally:
        await server.stop()


def running_server(
    database_url: str, *, env: dict[str, str] | None = None
) -> AbstractAsyncContextManager[str]:
    """`ingrain serve` on a loopback port against `database_url`, for the block; yields its base URL."""
    return serving(ingrain_server(database_url, env=env))


@asynccontextmanager
async def running_bare_app(database_url: str) -> AsyncIterator[str]:
    """The bare Starlette + asyncpg app of bench/bare_ingest.py, served like the service."""
    from bench.bare_ingest import create_table

    await create_table(database_url)
    bare = ServerProcess(
        ["-m", "bench.bare_ingest"],
        env={"BARE_DATABASE_URL": database_url, "BARE_PORT": "{port}"},
        probe="/notes",
    )
    async with serving(bare) as base_url:
        yield base_url


@dataclass(frozen=True)
class Provider:
    organisation_id: uuid.UUID
    service_ids: list[uuid.UUID]
    staff_ids: list[uuid.UUID]
    person_ids: list[uuid.UUID]
    innovation_ids: list[uuid.UUID]


async def seed_provider(
    database_url: str, *, services: int = 3, staff: int = 60, people: int = 200, innovations: int = 6
) -> Provider:
    """A provider whose innovations run at every service, written through the table models."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            org = Organisation(name="Bench Care Ltd", kind="provider")
            session.add(org)
            await session.flush()
            service_rows = [
                Service(organisation_id=org.id, name=f"Home {n}", shift_pattern=dict(DEFAULT_SHIFT_PATTERN))
                for n in range(services)
            ]
            staff_rows = [
                StaffMember(organisation_id=org.id, role="care_worker", started_on=date(2024, 1, 1))
                for _ in range(staff)
            ]
            person_rows = [
                PersonRef(organisation_id=org.id, external_ref=f"P-{n:05d}") for n in range(people)
            ]
            innovation_rows = [
                Innovation(
                    organisation_id=org.id,
                    name=f"Innovation {n}",
                    started_on=date(2025, 1, 1),
                    embedding_plan={},
                )
                for n in range(innovations)
            ]
            session.add_all([*service_rows, *staff_rows, *person_rows, *innovation_rows])
            await session.flush()
            session.add_all(
                [
                    StaffMemberService(
                        organisation_id=org.id,
                        staff_member_id=member.id,
                        service_id=service_rows[n % services].id,
                    )
                    for n, member in enumerate(staff_rows)
                ]
                + [
                    InnovationService(organisation_id=org.id, innovation_id=i.id, service_id=s.id)
                    for i in innovation_rows
                    for s in service_rows
                ]
            )
            return Provider(
                organisation_id=org.id,
                service_ids=[s.id for s in service_rows],
                staff_ids=[m.id for m in staff_rows],
                person_ids=[p.id for p in person_rows],
                innovation_ids=[i.id for i in innovation_rows],
            )
    finally:
        await engine.dispose()


def bearer(
    organisation_id: uuid.UUID, *, role: str = "integration", sub: str = "bench-client"
) -> dict[str, str]:
    token = issue_hs256_token(Settings(), sub=sub, roles=[role], organisation_id=organisation_id)
    return {"Authorization": f"Bearer {token}"}


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    position = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[position]


@asynccontextmanager
async def worker_process(database_url: str, *, output: Path | None = None) -> AsyncIterator[int]:
    """`ingrain worker` against `database_url`, for the block; yields its process id."""
    with contextlib.ExitStack() as files:
        stdout = files.enter_context(output.open("ab")) if output else None
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "service",
            "worker",
            env={**os.environ, "INGRAIN_DATABASE_URL": database_url, "INGRAIN_LOG_LEVEL": "warning"},
            cwd=PROJECT_ROOT,
            stdout=stdout,
            stderr=asyncio.subprocess.STDOUT if stdout else None,
        )
    try:
        yield process.pid
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=30)
            except TimeoutError:
                process.kill()
                await process.wait()


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (from /proc), e.g. uvicorn's worker processes."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                queue += [int(c) for c in task.read_text().split()]
    return found


def memory_kib(pid: int) -> tuple[int, int]:
    """(resident now, peak resident) of a process in KiB: /proc's VmRSS and VmHWM; (0, 0) once gone."""
    values = {"VmRSS": 0, "VmHWM": 0}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in values:
                values[name] = int(value.split()[0])
    return values["VmRSS"], values["VmHWM"]
