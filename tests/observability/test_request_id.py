"""X-Request-ID: the caller's when sane, one of ours otherwise, on every answer (errors included),
and the same id in the access log and the request's log lines."""

import re
import uuid

import httpx
import pytest
from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.dependencies import public
from service.observability.request_id import MAX_LENGTH, accept_request_id
from tests.observability.support import app_without_database, captured_logs, client_of
from tests.tokens import TokenFactory

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    "given",
    [
        "3f2a9c1e-4b7d-4f0a-9e1c-2d3b4a5c6d7e",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "x" * MAX_LENGTH,
    ],
)
async def test_a_sane_request_id_is_echoed(given: str) -> None:
    async with client_of(app_without_database()) as client:
        answer = await client.get("/healthz", headers={"X-Request-ID": given})
    assert answer.headers["x-request-id"] == given


@pytest.mark.parametrize(
    "hostile",
    [
        "",
        "x" * (MAX_LENGTH + 1),
        "two words",
        '"><script>alert(1)</script>',
        "id\twith\ttabs",
        '{"json": true}',
        "naïve-é",
    ],
)
async def test_a_hostile_request_id_is_replaced(hostile: str) -> None:
    async with client_of(app_without_database()) as client:
        answer = await client.get("/healthz", headers={b"X-Request-ID": hostile.encode("latin-1")})
    assert GENERATED.fullmatch(answer.headers["x-request-id"])


def test_bytes_outside_ascii_are_not_sane() -> None:
    assert GENERATED.fullmatch(accept_request_id("\x00abc"))
    assert GENERATED.fullmatch(accept_request_id("abc\r\nSet-Cookie: x=1"))


async def test_every_answer_carries_a_request_id_errors_included() -> None:
    app = app_without_database()

    async def broken() -> None:
        raise RuntimeError("a fault of ours")

    app.add_api_route("/broken", broken, dependencies=[Depends(public())])
    async with client_of(app) as client:
        answers = [
            await client.get("/healthz"),  # 200
            await client.get("/nowhere"),  # 404 problem+json, no route
            await client.post("/healthz"),  # 405
            await client.get("/broken"),  # 500, answered by the outermost error middleware
        ]
    assert [a.status_code for a in answers] == [200, 404, 405, 500]
    ids = [a.headers.get("x-request-id") for a in answers]
    assert all(i and GENERATED.fullmatch(i) for i in ids), ids
    assert len(set(ids)) == len(ids)


async def test_the_access_log_and_the_log_lines_name_the_answers_request_id(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    request_id = f"trace-{uuid.uuid4().hex}"
    headers = {**tokens.headers("platform_admin"), "X-Request-ID": request_id}
    with captured_logs() as logs:
        answer = await client.post(
            "/v1/organisations", json={"name": "Hillside Care", "kind": "provider"}, headers=headers
        )
    assert answer.status_code == 201, answer.text
    assert answer.headers["x-request-id"] == request_id
    (line,) = logs.requests()
    assert line["request_id"] == request_id
    logged = await session.execute(
        text("SELECT count(*) FROM access_log WHERE request_id = :id"), {"id": request_id}
    )
    assert logged.scalar_one() >= 1
