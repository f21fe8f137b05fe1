"""The sliding window behind the token endpoint's failure limits, kept in Postgres and shared by every
application instance (and so by every server process) on one database."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from service.auth.models import ClientAuthFailure
from service.auth.rate_limit import ClientAuthLimiter
from service.database import unit_of_work
from service.main import create_app
from service.settings import Settings
from tests import factories
from tests.auth.test_client_credentials import register, token_with_form
from tests.tokens import TokenFactory

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


async def _record(
    factory: async_sessionmaker[AsyncSession],
    limiter: ClientAuthLimiter,
    client_id: str | None,
    address: str | None,
    at: datetime,
) -> None:
    async with unit_of_work(factory) as session:
        await limiter.record_failure(session, client_id, address, at=at)


async def _wait(
    factory: async_sessionmaker[AsyncSession],
    limiter: ClientAuthLimiter,
    client_id: str | None,
    address: str | None,
    at: datetime,
) -> int | None:
    async with factory() as session:
        return await limiter.retry_after(session, client_id, address, at=at)


async def test_blocks_at_the_limit_and_frees_as_the_window_slides(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    limiter = ClientAuthLimiter(per_client=3, per_address=100, window_seconds=60)
    await _record(session_factory, limiter, "ic_a", None, seconds(0))
    await _record(session_factory, limiter, "ic_a", None, seconds(10))
    assert await _wait(session_factory, limiter, "ic_a", None, seconds(15)) is None
    await _record(session_factory, limiter, "ic_a", None, seconds(20))
    # The first failure (t=0) leaves the window at t=60.
    assert await _wait(session_factory, limiter, "ic_a", None, seconds(20)) == 40
    assert await _wait(session_factory, limiter, "ic_a", None, seconds(59.5)) == 1
    assert await _wait(session_factory, limiter, "ic_a", None, seconds(60.5)) is None
    assert await _wait(session_factory, limiter, "ic_other", None, seconds(20)) is None
    # One more failure inside the window blocks again, until the second (t=10) leaves it.
    await _record(session_factory, limiter, "ic_a", None, seconds(61))
    assert await _wait(session_factory, limiter, "ic_a", None, seconds(61)) == 9


async def test_limiter_blocks_on_either_key(session_factory: async_sessionmaker[AsyncSession]) -> None:
    limiter = ClientAuthLimiter(per_client=2, per_address=3, window_seconds=60)
    await _record(session_factory, limiter, "ic_a", "10.0.0.1", seconds(0))
    await _record(session_factory, limiter, "ic_a", "10.0.0.2", seconds(1))
    # The client is blocked from every address.
    assert await _wait(session_factory, limiter, "ic_a", "10.0.0.9", seconds(2)) == 58
    assert await _wait(session_factory, limiter, "ic_b", "10.0.0.1", seconds(2)) is None
    await _record(session_factory, limiter, "ic_b", "10.0.0.1", seconds(2))
    await _record(session_factory, limiter, "ic_c", "10.0.0.1", seconds(3))
    # The address is blocked for any client; the longer of two blocks is the answer.
    assert await _wait(session_factory, limiter, "ic_d", "10.0.0.1", seconds(4)) == 56
    await _record(session_factory, limiter, "ic_e", "10.0.0.5", seconds(5))
    await _record(session_factory, limiter, "ic_e", "10.0.0.5", seconds(6))
    assert await _wait(session_factory, limiter, "ic_e", "10.0.0.1", seconds(7)) == 58


async def test_a_lower_limit_applies_to_failures_already_counted(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    generous = ClientAuthLimiter(per_client=5, per_address=100, window_seconds=60)
    for n in range(3):
        await _record(session_factory, generous, "ic_a", None, seconds(n))
    assert await _wait(session_factory, generous, "ic_a", None, seconds(3)) is None
    strict = ClientAuthLimiter(per_client=2, per_address=100, window_seconds=60)
    # The second newest failure (t=1) decides, as it would in a window that kept every failure.
    assert await _wait(session_factory, strict, "ic_a", None, seconds(3)) == 58


async def test_expired_rows_are_pruned_as_new_failures_arrive(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    limiter = ClientAuthLimiter(per_client=2, per_address=2, window_seconds=60)
    for n in range(30):
        await _record(session_factory, limiter, f"spray-{n}", f"10.1.0.{n}", seconds(n))
    async with session_factory() as session:
        assert await session.scalar(select(func.count(col(ClientAuthFailure.key)))) == 60
    # Past every spray failure's window, one more failure removes them all.
    await _record(session_factory, limiter, "late", None, seconds(200))
    async with session_factory() as session:
        keys = (await session.execute(select(col(ClientAuthFailure.key)))).scalars().all()
    assert keys == ["late"]
    # A row holds no more failures than the limit.
    for n in range(5):
        await _record(session_factory, limiter, "late", None, seconds(201 + n))
    async with session_factory() as session:
        row = await session.get(ClientAuthFailure, ("client", "late"))
    assert row is not None and row.failed_at == [seconds(204), seconds(205)]
    assert row.expires_at == seconds(265)


@pytest.fixture
async def two_apps(settings: Settings, database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, ...]]:
    """Two application instances on one database, as two server processes would be."""
    apps = [create_app(settings, database_url=database_url) for _ in range(2)]
    async with apps[0].router.lifespan_context(apps[0]), apps[1].router.lifespan_context(apps[1]):
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingrain.test")
            for app in apps
        ]
        async with clients[0], clients[1]:
            yield clients[0], clients[1]


async def test_two_application_instances_share_one_limit(
    two_apps: tuple[httpx.AsyncClient, httpx.AsyncClient],
    tokens: TokenFactory,
    session: AsyncSession,
    settings: Settings,
) -> None:
    first, second = two_apps
    org = await factories.organisation(session)
    created = await register(first, tokens, org.id)
    limit = settings.client_auth_failures_per_client
    # Failures alternate between the instances; each alone has seen only half of them.
    for attempt in range(limit):
        instance = first if attempt % 2 == 0 else second
        assert (await token_with_form(instance, created["client_id"], "guess")).status_code == 401
    for instance in (first, second):
        blocked = await token_with_form(instance, created["client_id"], created["client_secret"])
        assert blocked.status_code == 429
        assert blocked.json()["error"] == "temporarily_unavailable"
        assert 0 < int(blocked.headers["retry-after"]) <= settings.client_auth_failure_window_seconds
