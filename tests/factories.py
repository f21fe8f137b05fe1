"""Small factory functions: each inserts one row (with its links) and commits, so API calls see it."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.innovations.models import Innovation, InnovationService
from service.organisations.models import AccessGrant, CommissioningRelationship, Organisation
from service.people.models import PersonRef
from service.services.models import DEFAULT_SHIFT_PATTERN, Service
from service.staff.models import StaffMember, StaffMemberService


async def organisation(
    session: AsyncSession, kind: str = "provider", name: str | None = None
) -> Organisation:
    row = Organisation(name=name or f"{kind} {uuid.uuid4().hex[:6]}", kind=kind)
    session.add(row)
    await session.commit()
    return row


async def care_service(
    session: AsyncSession, org: Organisation, name: str | None = None, **fields: Any
) -> Service:
    fields.setdefault("shift_pattern", dict(DEFAULT_SHIFT_PATTERN))
    row = Service(organisation_id=org.id, name=name or f"Service {uuid.uuid4().hex[:6]}", **fields)
    session.add(row)
    await session.commit()
    return row


async def staff_member(
    session: AsyncSession,
    org: Organisation,
    services: list[Service],
    *,
    role: str = "care_worker",
    started_on: date = date(2025, 1, 6),
    left_on: date | None = None,
    **fields: Any,
) -> StaffMember:
    row = StaffMember(organisation_id=org.id, role=role, started_on=started_on, left_on=left_on, **fields)
    session.add(row)
    await session.flush()
    for s in services:
        session.add(StaffMemberService(organisation_id=org.id, staff_member_id=row.id, service_id=s.id))
    await session.commit()
    return row


async def person(session: AsyncSession, org: Organisation, external_ref: str | None = None) -> PersonRef:
    row = PersonRef(organisation_id=org.id, external_ref=external_ref or f"P-{uuid.uuid4().hex[:8]}")
    session.add(row)
    await session.commit()
    return row


async def innovation(
    session: AsyncSession,
    org: Organisation,
    services: list[Service],
    *,
    name: str = "Proactive engagement",
    started_on: date = date(2025, 1, 1),
    phase: str = "pilot",
    **fields: Any,
) -> Innovation:
    fields.setdefault("embedding_plan", {})
    row = Innovation(
        organisation_id=org.id,
        name=name,
        summary=fields.pop("summary", "Plan engagement, record its quality."),
        why=fields.pop("why", "Boredom and frustration drive incidents."),
        started_on=started_on,
        phase=phase,
        **fields,
    )
    session.add(row)
    await session.flush()
    for s in services:
        session.add(InnovationService(organisation_id=org.id, innovation_id=row.id, service_id=s.id))
    await session.commit()
    return row


async def commissioning(
    session: AsyncSession,
    commissioner: Organisation,
    provider: Organisation,
    *,
    starts_on: date = date(2024, 1, 1),
    ends_on: date | None = None,
    service_ids: list[uuid.UUID] | None = None,
) -> CommissioningRelationship:
    row = CommissioningRelationship(
        commissioner_id=commissioner.id,
        provider_id=provider.id,
        starts_on=starts_on,
        ends_on=ends_on,
        service_ids=service_ids,
    )
    session.add(row)
    await session.commit()
    return row


async def access_grant(
    session: AsyncSession,
    provider: Organisation,
    regulator: Organisation,
    *,
    starts_on: date = date(2024, 1, 1),
    ends_on: date = date(2099, 1, 1),
) -> AccessGrant:
    row = AccessGrant(
        organisation_id=provider.id,
        regulator_id=regulator.id,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by="test",
    )
    session.add(row)
    await session.commit()
    return row
