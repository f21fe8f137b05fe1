"""Test setup: a real Postgres started here (or INGRAIN_TEST_DATABASE_URL), migrated once by Alembic
into a template database; every test that needs the database gets a fresh copy of that template.

Under pytest-xdist every worker is a session of its own: it starts its own throwaway Postgres, or on
INGRAIN_TEST_DATABASE_URL migrates a template named after the worker, so workers never share one."""

import contextlib
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pgserver
import pytest
from playwright.async_api import Browser, async_playwright
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service import clock, embedded_postgres
from service.database import (
    asyncpg_connect_kwargs,
    create_engine,
    create_session_factory,
    to_asyncpg_url,
)
from service.migrate import upgrade_async
from service.settings import Settings
from tests.evidence_pack.browser import CHROMIUM_ARGS, Chromium, ChromiumUnavailable, ensure_chromium
from tests.tokens import TokenFactory

# "gw0", "gw1", … under pytest-xdist (set before this module is imported); unset in a plain run.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
TEMPLATE = f"ingrain_template_{WORKER}" if WORKER else "ingrain_template"

# The throwaway server's data is deleted at the end of the run, so it need not survive a crash: with
# no flushes to disk, cloning, dropping and committing cost CPU only. A configured server is left alone.
THROWAWAY_SERVER_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def _with_database(url: str, name: str) -> str:
    """Swap the database name in a libpq/SQLAlchemy URL, keeping the query (socket dir)."""
    head, _, query = url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(autouse=True)
def _wall_clock() -> Iterator[None]:
    """Every test starts and ends on the wall clock, whatever time a test set."""
    clock.set_now(None)
    yield
    clock.set_now(None)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    configured = os.environ.get("INGRAIN_TEST_DATABASE_URL")
    if configured:
        yield to_asyncpg_url(configured)
        return
    data_dir = Path(tempfile.mkdtemp(prefix="ingrain-test-pg-"))
    try:
        yield to_asyncpg_url(embedded_postgres.start(data_dir, cleanup_mode="delete"))
    finally:
        # Stopped here, not left to pgserver's exit handler: pytest-xdist workers end without
        # running exit handlers, which would leave their servers running after the suite.
        pgserver.get_server(data_dir).cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


async def _admin(server_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(**asyncpg_connect_kwargs(_with_database(server_url, "postgres")))


@pytest.fixture(scope="session")
async def template_url(server_url: str) -> str:
    conn = await _admin(server_url)
    try:
        if not os.environ.get("INGRAIN_TEST_DATABASE_URL"):
            for name, value in THROWAWAY_SERVER_SETTINGS.items():
                await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            await conn.execute("SELECT pg_reload_conf()")
        await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    finally:
        await conn.close()
    url = _with_database(server_url, TEMPLATE)
    await upgrade_async(url)
    return url


@asynccontextmanager
async def cloned_database(
    server_url: str, prefix: str = "ingrain_t", *, template: str | None = TEMPLATE
) -> AsyncIterator[str]:
    """A database cloned from the migrated template (or, with `template=None`, an empty one without
    even the schema), dropped on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await _admin(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        await conn.close()
    try:
        yield _with_database(server_url, name)
    finally:
        conn = await _admin(server_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
async def database_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    """A database of this test's own, cloned from the migrated template."""
    async with cloned_database(server_url) as url:
        yield url


@pytest.fixture
def settings() -> Settings:
    return Settings(environment="test", demo_data=False)


@pytest.fixture
async def session_factory(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url, pool_size=3)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def session(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with session_factory() as s:
        yield s


@pytest.fixture
async def app(settings: Settings, database_url: str) -> AsyncIterator[object]:
    from service.main import create_app

    application = create_app(settings, database_url=database_url)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://ingrain.test") as c:
        yield c


@pytest.fixture
def tokens(settings: Settings) -> TokenFactory:
    return TokenFactory(settings)


BROWSER_LAUNCH_MS = 15_000


@pytest.fixture(scope="session")
def chromium() -> Chromium:
    """Debian's Chromium, installed when missing; the browser tests fail (never skip) without it."""
    try:
        return ensure_chromium()
    except ChromiumUnavailable as error:
        pytest.fail(f"Chromium is needed for the browser tests and could not be installed: {error}")


@pytest.fixture
async def browser(chromium: Chromium) -> AsyncIterator[Browser]:
    """Headless Chromium driven by Playwright, for the tests in the files named test_browser.py."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium.path), args=CHROMIUM_ARGS, headless=True, timeout=BROWSER_LAUNCH_MS
        )
        try:
            yield launched
        finally:
            await launched.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """When a browser test (a test_browser.py) is to run and Chromium is missing, begin installing it
    now, while the other tests run, so the test finds it there rather than waiting for apt. Each
    xdist worker may start this; the install's file lock lets one install and the other find it
    done. A failure here is the browser test's to report."""
    from tests.evidence_pack.browser import CHROMIUM

    if CHROMIUM.exists() or not any(item.path.name == "test_browser.py" for item in items):
        return

    def install() -> None:
        with contextlib.suppress(ChromiumUnavailable):
            ensure_chromium()

    threading.Thread(target=install, name="chromium-install", daemon=True).start()
