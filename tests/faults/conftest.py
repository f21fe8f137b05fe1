"""Fault tests run against a Postgres of their own (tests/private_postgres.py), which they stop, kill
and start again; the shared test server is never touched. Each test gets a fresh database cloned
from a template migrated once."""

import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from service.database import asyncpg_connect_kwargs
from service.migrate import upgrade_async
from tests.private_postgres import PrivatePostgres, private_postgres

TEMPLATE = "ingrain_faults_template"


@pytest.fixture(scope="package")
def private_server() -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        yield server


async def admin_connection(server: PrivatePostgres) -> asyncpg.Connection:
    return await asyncpg.connect(**asyncpg_connect_kwargs(server.database_url("postgres")))


@pytest.fixture(scope="package")
async def private_template(private_server: PrivatePostgres) -> str:
    conn = await admin_connection(private_server)
    try:
        await conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    finally:
        await conn.close()
    await upgrade_async(private_server.database_url(TEMPLATE))
    return TEMPLATE


@pytest.fixture
async def private_database_url(private_server: PrivatePostgres, private_template: str) -> AsyncIterator[str]:
    """A migrated database of this test's own on the private server, which is running at the start
    and is running again at the end (a test that stops it starts it again)."""
    name = f"ingrain_f_{uuid.uuid4().hex[:12]}"
    conn = await admin_connection(private_server)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{private_template}"')
    finally:
        await conn.close()
    yield private_server.database_url(name)
    if not private_server.is_running():
        private_server.start()
    conn = await admin_connection(private_server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
