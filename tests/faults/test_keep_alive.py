"""Through a real uvicorn socket: a 503 or a 500 is answered and the same connection serves the next
request (Starlette's error middleware re-raises, and uvicorn closes the connection on what escapes)."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from bench.common import ServerProcess, ingrain_server, seed_provider
from service.database import asyncpg_connect_kwargs
from tests.private_postgres import PrivatePostgres
from tests.tokens import TokenFactory


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class OneConnection:
    """HTTP/1.1 over a single TCP connection, so that a test sees whether the server kept it open."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        lines = [
            f"GET {path} HTTP/1.1",
            "Host: 127.0.0.1",
            *(f"{k}: {v}" for k, v in (headers or {}).items()),
        ]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        async with asyncio.timeout(10):
            head = await self.reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            answer_headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in header_lines if line)
            }
            body = await self.reader.readexactly(int(answer_headers["content-length"]))
        return Answer(int(status_line.split()[1]), answer_headers, body)

    async def still_open(self) -> bool:
        """Nothing arrives unasked on a kept connection; a closed one reads EOF at once."""
        try:
            async with asyncio.timeout(0.2):
                return await self.reader.read(1) != b""
        except TimeoutError:
            return True


@pytest.fixture
async def server(private_database_url: str) -> AsyncIterator[ServerProcess]:
    process = ingrain_server(private_database_url, env={"INGRAIN_DB_POOL_SIZE": "4"})
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


@pytest.fixture
async def connection(server: ServerProcess) -> AsyncIterator[OneConnection]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        yield OneConnection(reader, writer)
    finally:
        writer.close()


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _problem_type(answer: Answer) -> Any:
    assert answer.headers["content-type"].startswith("application/problem+json"), answer
    return json.loads(answer.body)["type"].rsplit("/", 1)[-1]


async def test_a_503_keeps_the_connection_and_it_serves_once_the_database_is_back(
    private_server: PrivatePostgres,
    private_database_url: str,
    connection: OneConnection,
    tokens: TokenFactory,
) -> None:
    provider = await seed_provider(private_database_url, services=1, staff=1, people=1, innovations=1)
    manager = tokens.headers("registered_manager", provider.organisation_id)
    assert (await connection.get("/v1/services", manager)).status == 200

    await asyncio.to_thread(private_server.stop)
    started = time.monotonic()
    refused = await connection.get("/v1/services", manager)
    assert refused.status == 503
    assert time.monotonic() - started < 1.5
    assert refused.headers["retry-after"] == "1"
    assert _problem_type(refused) == "unavailable"
    assert await connection.still_open()
    assert (await connection.get("/readyz")).status == 503
    assert (await connection.get("/healthz")).status == 200

    await asyncio.to_thread(private_server.start)
    assert (await connection.get("/v1/services", manager)).status == 200
    assert (await connection.get("/readyz")).status == 200


async def test_a_500_keeps_the_connection(
    private_database_url: str, connection: OneConnection, tokens: TokenFactory
) -> None:
    provider = await seed_provider(private_database_url, services=1, staff=1, people=1, innovations=1)
    manager = tokens.headers("registered_manager", provider.organisation_id)
    assert (await connection.get("/v1/services", manager)).status == 200

    # A fault of ours, as a schema out of step with the code would cause: the table is not there.
    await _admin(private_database_url, "ALTER TABLE service RENAME TO service_elsewhere")
    failed = await connection.get("/v1/services", manager)
    assert failed.status == 500, failed
    assert _problem_type(failed) == "internal-error"
    assert b"service_elsewhere" not in failed.body
    assert await connection.still_open()
    assert (await connection.get("/healthz")).status == 200

    await _admin(private_database_url, "ALTER TABLE service_elsewhere RENAME TO service")
    assert (await connection.get("/v1/services", manager)).status == 200
