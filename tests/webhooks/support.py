"""A provider with an innovation, events written as a recompute writes them, and job workers run
until the queue is empty."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.database import asyncpg_connect_kwargs
from service.jobs.worker import run
from service.organisations.models import Organisation
from service.projections.repository import NewEvent
from service.projections.service import publish
from service.services.models import Service
from service.webhooks.delivery import DeliveryOptions
from tests import factories
from tests.tokens import TokenFactory

# Retries within a test's patience: the schedule's shape, in tenths of a second.
FAST = DeliveryOptions(
    allow_loopback=True,
    retry_delays=(timedelta(milliseconds=100), timedelta(milliseconds=200), timedelta(milliseconds=300)),
    connect_timeout_seconds=2.0,
    read_timeout_seconds=2.0,
)


@dataclass
class Provider:
    org: Organisation
    services: list[Service]
    innovation_id: uuid.UUID
    admin: dict[str, str]


async def provider(session: AsyncSession, tokens: TokenFactory, services: int = 2) -> Provider:
    org = await factories.organisation(session)
    rows = [await factories.care_service(session, org) for _ in range(services)]
    innovation = await factories.innovation(session, org, rows)
    return Provider(org, rows, innovation.id, tokens.headers("provider_admin", org.id))


def stage_change(p: Provider, n: int, service: Service | None = None) -> NewEvent:
    return NewEvent(
        "status.stage_changed",
        p.org.id,
        p.innovation_id,
        None if service is None else service.id,
        None,
        {"before": f"stage-{n}", "after": f"stage-{n + 1}"},
    )


def rag_change(p: Provider, service: Service | None, key: str = "supervision_coverage") -> NewEvent:
    return NewEvent(
        "indicator.rag_changed",
        p.org.id,
        p.innovation_id,
        None if service is None else service.id,
        key,
        {"before": "red", "after": "amber", "key": key},
    )


async def emit(database_url: str, provider_id: uuid.UUID, events: list[NewEvent]) -> None:
    """Write events to the outbox in one transaction, as a recompute does."""
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
    try:
        async with conn.transaction():
            await publish(conn, provider_id, events)
    finally:
        await conn.close()


async def work(database_url: str, options: DeliveryOptions = FAST, seconds: float = 30.0) -> None:
    """Job workers of one process until nothing is queued (retries included)."""
    await asyncio.wait_for(
        run(database_url, drain=True, pool_size=2, webhooks=options, dequeue_timeout=timedelta(seconds=1)),
        timeout=seconds,
    )


async def register(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, **fields: Any
) -> dict[str, Any]:
    body = {"url": url, "event_types": ["status.stage_changed", "indicator.rag_changed"], **fields}
    answer = await client.post("/v1/webhook-endpoints", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def deliveries(client: httpx.AsyncClient, headers: dict[str, str], endpoint_id: str) -> list[Any]:
    answer = await client.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries", headers=headers)
    assert answer.status_code == 200, answer.text
    items: list[Any] = answer.json()["items"]
    return items
