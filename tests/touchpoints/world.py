"""A small provider to record touchpoints against, and payload builders for every kind."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.innovations.models import Innovation
from service.organisations.models import Organisation
from service.people.models import PersonRef
from service.services.models import Service
from service.staff.models import StaffMember
from service.touchpoints.models import Touchpoint, TouchpointInnovation
from tests import factories


@dataclass
class World:
    org: Organisation
    service: Service
    other_service: Service
    worker: StaffMember
    manager: StaffMember
    person: PersonRef
    innovation: Innovation
    second_innovation: Innovation
    # In scope of `other_service` only.
    elsewhere_innovation: Innovation


async def build_world(session: AsyncSession) -> World:
    org = await factories.organisation(session)
    service = await factories.care_service(session, org, name="Oak House")
    other = await factories.care_service(session, org, name="Elm Court")
    worker = await factories.staff_member(session, org, [service], external_ref="worker-sub")
    manager = await factories.staff_member(session, org, [service, other], role="registered_manager")
    person = await factories.person(session, org)
    innovation = await factories.innovation(session, org, [service, other])
    second = await factories.innovation(session, org, [service], name="De-escalation reflection")
    elsewhere = await factories.innovation(session, org, [other], name="Structured buddying")
    return World(org, service, other, worker, manager, person, innovation, second, elsewhere)


def recent(hours: float = 2) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


FACTS: dict[str, dict[str, Any]] = {
    "daily_note": {"activity": "Garden walk", "engagement_quality": 4},
    "care_plan_review": {"changes_made": True},
    "shift_handover": {"attendees": 5},
    "team_meeting": {"attendees": 9},
    "supervision": {"explains_why": True},
    "competency_check": {"passed": True, "explains_why": None},
    "practice_observation": {"score": 4, "explains_why": True},
    "audit": {"tool": "Engagement audit v2", "score_percent": 86.5},
    "quality_review": {"score_percent": None, "actions": 2},
    "induction": {"buddy_id": None},
    "shadowing": {"buddy_id": None},
    "incident": {"severity": "moderate", "restrictive_intervention": False},
    "post_incident_review": {
        "incident_id": None,
        "learning_captured": True,
        "follow_up_observation_planned": True,
    },
    "staff_survey": {
        "general": {"familiar": 8, "normal_now": 6, "normal_future": 9},
        "items": {
            **{f"c{i}": 4 for i in range(1, 5)},
            **{f"cp{i}": 5 for i in range(1, 5)},
            **{f"ca{i}": 3 for i in range(1, 8)},
            **{f"rm{i}": "na_stage" for i in range(1, 6)},
        },
    },
}


def payload(world: World, kind: str = "daily_note", **overrides: Any) -> dict[str, Any]:
    """A valid touchpoint of `kind`, as a care record system would post it."""
    body: dict[str, Any] = {
        "kind": kind,
        "service_id": str(world.service.id),
        "occurred_at": recent(),
        "recorded_by_id": str(world.manager.id),
        "innovation_ids": [str(world.innovation.id)],
        "facts": dict(FACTS[kind]),
    }
    if kind in ("daily_note", "care_plan_review"):
        body["person_ref_id"] = str(world.person.id)
    if kind in ("supervision", "competency_check", "induction", "shadowing"):
        body["subject_staff_id"] = str(world.worker.id)
    body.update(overrides)
    return body


def keyed(world: World, external_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    return payload(
        world,
        source_system="acme-care",
        external_id=external_id or f"note-{uuid.uuid4().hex[:10]}",
        **overrides,
    )


async def count_touchpoints(session: AsyncSession, org: Organisation) -> int:
    statement = select(func.count()).select_from(Touchpoint).where(col(Touchpoint.organisation_id) == org.id)
    return int((await session.execute(statement)).scalar_one())


async def count_links(session: AsyncSession, org: Organisation) -> int:
    statement = (
        select(func.count())
        .select_from(TouchpointInnovation)
        .where(col(TouchpointInnovation.organisation_id) == org.id)
    )
    return int((await session.execute(statement)).scalar_one())
