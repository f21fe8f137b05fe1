"""A unit of work that loses a real deadlock runs again: as a function, and as a whole HTTP request."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.conflicts import TransactionRetryMiddleware, retry_counts, retry_transient, transient_sqlstate
from service.database import asyncpg_connect_kwargs


def _crossing(database_url: str) -> Callable[[int, int], Awaitable[str]]:
    """A transaction that takes advisory lock `first`, waits for its twin to take the other, then
    takes `second`: two of them crossing make Postgres pick one as the deadlock's victim."""
    both_hold_one = asyncio.Barrier(2)

    async def run(first: int, second: int) -> str:
        conn = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(7, $1)", first)
                if both_hold_one.n_waiting < 2 and not both_hold_one.broken:
                    # Only the first attempts meet; a retry goes straight through.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(both_hold_one.wait(), timeout=0.5)
                await conn.execute("SELECT pg_advisory_xact_lock(7, $1)", second)
            return f"{first}->{second}"
        finally:
            await conn.close()

    return run


async def test_a_deadlock_victim_is_run_again(database_url: str) -> None:
    crossing = _crossing(database_url)
    before = retry_counts.retried["40P01"]
    results = await asyncio.wait_for(
        asyncio.gather(
            retry_transient(lambda: crossing(1, 2), what="test"),
            retry_transient(lambda: crossing(2, 1), what="test"),
        ),
        timeout=20,
    )
    assert sorted(results) == ["1->2", "2->1"]
    assert retry_counts.retried["40P01"] == before + 1


async def test_a_request_whose_unit_of_work_deadlocked_is_answered_from_its_retry(database_url: str) -> None:
    crossing = _crossing(database_url)

    async def endpoint(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse({"done": await crossing(body["first"], body["second"])})

    # Inside the server error middleware, as in the service's app.
    app = Starlette(
        routes=[Route("/cross", endpoint, methods=["POST"])],
        middleware=[Middleware(TransactionRetryMiddleware)],
    )
    before = retry_counts.retried["40P01"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        answers = await asyncio.wait_for(
            asyncio.gather(
                client.post("/cross", json={"first": 1, "second": 2}),
                client.post("/cross", json={"first": 2, "second": 1}),
            ),
            timeout=20,
        )
    # Each retried request read its body again, whole.
    assert sorted(a.json()["done"] for a in answers) == ["1->2", "2->1"]
    assert [a.status_code for a in answers] == [200, 200]
    assert retry_counts.retried["40P01"] == before + 1


def test_only_deadlocks_and_serialisation_failures_count_as_transient() -> None:
    assert transient_sqlstate(asyncpg.DeadlockDetectedError("x")) == "40P01"
    assert transient_sqlstate(asyncpg.SerializationError("x")) == "40001"
    wrapped = RuntimeError("outer")
    wrapped.__cause__ = asyncpg.DeadlockDetectedError("inner")
    assert transient_sqlstate(wrapped) == "40P01"
    assert transient_sqlstate(asyncpg.UniqueViolationError("x")) is None
    assert transient_sqlstate(ValueError("x")) is None
