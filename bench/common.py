"""Shared bench plumbing: a throwaway embedded Postgres, the real server in a subprocess, a provider."""

import asyncio
import os
import shutil
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date

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


@asynccontextmanager
async def running_server(database_url: str) -> AsyncIterator[str]:
    """`ingrain serve` (uvicorn) on a loopback port against `database_url`; yields its base URL."""
    env = {
        "INGRAIN_DATABASE_URL": database_url,
        "INGRAIN_DEMO_DATA": "false",
        "INGRAIN_LOG_LEVEL": "warning",
        "INGRAIN_DB_POOL_SIZE": "40",  # enough for every concurrent request: no connection churn
    }
    port = free_port()
    command = [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port)]
    async with running_process(command, env, f"http://127.0.0.1:{port}", "/healthz") as base_url:
        yield base_url


@asynccontextmanager
async def running_bare_app(database_url: str) -> AsyncIterator[str]:
    """The bare Starlette + asyncpg app of bench/bare_ingest.py, served like the service."""
    from bench.bare_ingest import create_table

    await create_table(database_url)
    port = free_port()
    env = {"BARE_DATABASE_URL": database_url, "BARE_PORT": str(port)}
    command = [sys.executable, "-m", "bench.bare_ingest"]
    async with running_process(command, env, f"http://127.0.0.1:{port}", "/notes") as base_url:
        yield base_url


@asynccontextmanager
async def running_process(
    command: list[str], env: dict[str, str], base_url: str, probe: str
) -> AsyncIterator[str]:
    """A server process, ready once `probe` answers at all; stopped (SIGTERM, then SIGKILL) after."""
    profile = os.environ.get("INGRAIN_BENCH_PROFILE")
    if profile:
        # Collapsed stacks of the server for the whole run (py-spy must be installed).
        command = ["py-spy", "record", "--format", "raw", "--rate", "200", "-o", profile, "--", *command]
    process = await asyncio.create_subprocess_exec(*command, env={**os.environ, **env}, cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=base_url) as client:
            while True:
                if process.returncode is not None:
                    raise RuntimeError(f"the server exited with {process.returncode}")
                try:
                    if (await client.get(probe)).status_code < 500:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not become ready within 60 s")
                await asyncio.sleep(0.2)
        yield base_url
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT if profile else signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                process.kill()
                await process.wait()


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
