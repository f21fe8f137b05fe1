"""One world for the Schemathesis runs: a database cloned once per module, real rows for generated
paths to point at, and callers of two kinds: the provider's quality lead (touchpoints, thresholds,
status, evidence) and admin (reference data, users, integration clients, access grants), and a
commissioner whose relationship covers that provider. The app is not started here: Schemathesis runs
its lifespan on its own event loop when it first calls it, and ends it after each test."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.database import create_engine, create_session_factory
from service.main import create_app
from service.settings import Settings
from service.vocabulary import Role
from tests import factories
from tests.conftest import cloned_database
from tests.contract.support import Tally
from tests.tokens import TokenFactory

# The callers every operation is run as.
CALLER_ROLES = (Role.quality_lead, Role.provider_admin, Role.commissioner)


@dataclass(frozen=True)
class ContractWorld:
    app: FastAPI
    # Values of real rows, by the parameter name that carries them (`innovation_id`, …).
    known: dict[str, str]
    callers: dict[Role, dict[str, str]]


@pytest.fixture(scope="module")
def contract_settings() -> Settings:
    return Settings(environment="test", demo_data=False)


@pytest.fixture(scope="module")
async def contract_database_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    async with cloned_database(server_url, prefix="ingrain_contract") as url:
        yield url


async def _seed(
    factory: async_sessionmaker[AsyncSession], app: FastAPI, tokens: TokenFactory
) -> tuple[dict[str, str], dict[Role, dict[str, str]]]:
    async with factory() as session:
        provider = await factories.organisation(session, "provider", "Contract Provider")
        commissioner = await factories.organisation(session, "commissioner", "Contract Commissioner")
        regulator = await factories.organisation(session, "regulator", "Contract Regulator")
        house = await factories.care_service(session, provider, name="Contract House")
        carer = await factories.staff_member(session, provider, [house], external_ref="STAFF-CONTRACT-1")
        person = await factories.person(session, provider, external_ref="PERSON-CONTRACT-1")
        innovation = await factories.innovation(session, provider, [house])
        relationship = await factories.commissioning(session, commissioner, provider)
        grant = await factories.access_grant(session, provider, regulator)

    lead = tokens.headers(Role.quality_lead, provider.id)
    admin = tokens.headers(Role.provider_admin, provider.id)
    # The rows only the API creates, seeded through it on this loop before Schemathesis starts the app.
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingrain.test") as client:
            note = await client.post(
                "/v1/touchpoints",
                json={
                    "kind": "daily_note",
                    "service_id": str(house.id),
                    "occurred_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
                    "recorded_by_id": str(carer.id),
                    "person_ref_id": str(person.id),
                    "innovation_ids": [str(innovation.id)],
                    "source_system": "contract-care",
                    "external_id": "note-contract-1",
                    "facts": {"activity": "Garden walk", "engagement_quality": 4},
                },
                headers=lead,
            )
            assert note.status_code == 201, note.text
            user = await client.post(
                "/v1/users", json={"sub": "idp|contract-user", "roles": ["care_worker"]}, headers=admin
            )
            assert user.status_code == 201, user.text
            integration = await client.post(
                "/v1/integration-clients",
                json={"name": "Contract", "source_system": "contract-care"},
                headers=admin,
            )
            assert integration.status_code == 201, integration.text

    known = {
        "organisation_id": str(provider.id),
        "service_id": str(house.id),
        "staff_member_id": str(carer.id),
        "person_ref_id": str(person.id),
        "innovation_id": str(innovation.id),
        "touchpoint_id": note.json()["id"],
        "relationship_id": str(relationship.id),
        "grant_id": str(grant.id),
        "user_id": user.json()["id"],
        "client_row_id": integration.json()["id"],
    }
    callers = {
        Role.quality_lead: lead,
        Role.provider_admin: admin,
        Role.commissioner: tokens.headers(Role.commissioner, commissioner.id),
    }
    return known, callers


@pytest.fixture(scope="module")
async def contract_world(
    contract_settings: Settings, contract_database_url: str
) -> AsyncIterator[ContractWorld]:
    engine = create_engine(contract_database_url, pool_size=2)
    try:
        seeding_app = create_app(contract_settings, database_url=contract_database_url)
        known, callers = await _seed(
            create_session_factory(engine), seeding_app, TokenFactory(contract_settings)
        )
    finally:
        await engine.dispose()
    app = create_app(contract_settings, database_url=contract_database_url)
    yield ContractWorld(app=app, known=known, callers=callers)


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    """The module's figures, printed at its end (shown with `pytest -s`)."""
    counts = Tally()
    yield counts
    print(f"\n{request.module.__name__}: {counts.summary()}")
