"""A provider with a few months of delivery, recorded through the ingestion API, to read statuses of."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.organisations.models import Organisation
from service.services.models import Service
from tests import factories
from tests.tokens import TokenFactory

NOW = datetime.now(UTC)
# Every read in these tests names the same moment, so REST and GraphQL describe the same window.
AS_OF = (NOW - timedelta(minutes=2)).replace(microsecond=0)


@dataclass
class StatusWorld:
    org: Organisation
    services: list[Service]
    innovation_ids: list[uuid.UUID]
    manager: dict[str, str]


def ago(days: int, hour: int) -> str:
    moment = (NOW - timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return min(moment, AS_OF - timedelta(minutes=1)).isoformat()


def delivery(
    services: list[Service], staff: list[Any], person: Any, innovation_ids: list[uuid.UUID], days: int
) -> list[dict[str, Any]]:
    """Daily notes in every service on rotating shifts, weekly supervisions, an incident unreviewed."""
    items: list[dict[str, Any]] = []
    innovations = [str(i) for i in innovation_ids]
    for day in range(1, days):
        for n, service in enumerate(services):
            base = {
                "service_id": str(service.id),
                "recorded_by_id": str(staff[(day + n) % len(staff)].id),
                "innovation_ids": innovations,
            }
            items.append(
                {
                    **base,
                    "kind": "daily_note",
                    "occurred_at": ago(day, 9 + (day % 3) * 6),
                    "person_ref_id": str(person.id),
                    "text": "Planted bulbs in the garden",
                    "facts": {"activity": "Garden", "engagement_quality": 3 + day % 3},
                }
            )
            if day % 7 == 0:
                items.append(
                    {
                        **base,
                        "kind": "supervision",
                        "occurred_at": ago(day, 11),
                        "subject_staff_id": str(staff[(day + 1) % len(staff)].id),
                        "facts": {"explains_why": day % 14 == 0},
                    }
                )
    items.append(
        {
            "service_id": str(services[0].id),
            "kind": "incident",
            "occurred_at": ago(12, 16),
            "recorded_by_id": str(staff[0].id),
            "facts": {"severity": "low", "restrictive_intervention": True},
        }
    )
    return items


async def build_status_world(
    session: AsyncSession,
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    *,
    services: int = 2,
    innovations: int = 1,
    days: int = 60,
) -> StatusWorld:
    org = await factories.organisation(session, name="Riverside Care")
    homes = [await factories.care_service(session, org, f"Home {i}") for i in range(services)]
    staff = [await factories.staff_member(session, org, homes) for _ in range(4)]
    person = await factories.person(session, org)
    started = (NOW - timedelta(days=200)).date()
    innovation_ids = [
        (await factories.innovation(session, org, homes, name=f"Innovation {i}", started_on=started)).id
        for i in range(innovations)
    ]
    manager = tokens.headers("quality_lead", org.id, sub="lead-1")
    items = delivery(homes, staff, person, innovation_ids, days)
    for start in range(0, len(items), 500):
        response = await client.post(
            "/v1/touchpoints/batch", json={"items": items[start : start + 500]}, headers=manager
        )
        assert response.status_code == 200, response.text
        assert {r["status"] for r in response.json()["results"]} == {"created"}
    return StatusWorld(org, homes, innovation_ids, manager)
