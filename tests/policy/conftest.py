"""One shared world per policy test module: a database cloned once, an app over it, and callers of
every role with real organisations. The policy tests make hundreds of requests that change nothing
(random ids, empty bodies), so they need not pay for a fresh database each."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.database import create_engine, create_session_factory
from service.main import create_app
from service.organisations.models import Organisation
from service.settings import Settings
from service.vocabulary import Role
from tests import factories
from tests.conftest import cloned_database
from tests.tokens import TokenFactory


@pytest.fixture(scope="module")
async def world_database_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    async with cloned_database(server_url, "ingrain_policy") as url:
        yield url


@pytest.fixture(scope="module")
def world_settings() -> Settings:
    return Settings(environment="test", demo_data=False)


@pytest.fixture(scope="module")
async def world_session_factory(world_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(world_database_url, pool_size=2)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def world_app(world_settings: Settings, world_database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(world_settings, database_url=world_database_url)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="module")
async def world_client(world_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=world_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingrain.test") as client:
        yield client


@dataclass(frozen=True)
class World:
    provider: Organisation
    commissioner: Organisation
    regulator: Organisation
    # Headers per role (None: no token), each bound to an organisation of the role's kind.
    callers: dict[Role | None, dict[str, str]]


def organisation_kind(role: Role) -> str | None:
    return {Role.commissioner: "commissioner", Role.inspector: "regulator", Role.platform_admin: None}.get(
        role, "provider"
    )


@pytest.fixture(scope="module")
async def world(world_session_factory: async_sessionmaker[AsyncSession], world_settings: Settings) -> World:
    async with world_session_factory() as session:
        provider = await factories.organisation(session, "provider", "Policy Provider")
        commissioner = await factories.organisation(session, "commissioner", "Policy Commissioner")
        regulator = await factories.organisation(session, "regulator", "Policy Regulator")
        await factories.care_service(session, provider)
        await factories.commissioning(session, commissioner, provider)
        await factories.access_grant(session, provider, regulator)
    org_of = {"provider": provider.id, "commissioner": commissioner.id, "regulator": regulator.id}
    tokens = TokenFactory(world_settings)
    callers: dict[Role | None, dict[str, str]] = {None: {}}
    for role in Role:
        kind = organisation_kind(role)
        callers[role] = tokens.headers(role, org_of[kind] if kind else None, sub=f"policy-{role.value}")
    return World(provider=provider, commissioner=commissioner, regulator=regulator, callers=callers)
