"""The provider's setup, as statuses read it: innovations with their services, services with their
time zones and shift patterns, staff with their tenure, the provider's thresholds. Every statement
filters on the organisation. The counts themselves are read in service.status.sources.rollups (or
recounted from service.status.sources.records).
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.database import driver_connection
from service.status.evaluation.counting import SHIFTS
from service.status.evaluation.inputs import ServiceInfo, StaffTenure
from service.status.sources.span import InnovationServices


@dataclass(frozen=True, slots=True)
class InnovationRow:
    id: uuid.UUID
    organisation_id: uuid.UUID
    name: str
    phase: str
    started_on: Any
    service_ids: tuple[uuid.UUID, ...]
    thresholds: dict[str, Any] | None

    @property
    def with_services(self) -> InnovationServices:
        return InnovationServices(self.id, self.started_on, self.service_ids)


@dataclass(frozen=True, slots=True)
class ServiceRow:
    id: uuid.UUID
    name: str
    info: ServiceInfo


def operated_shifts(shift_pattern: Mapping[str, Any] | None) -> frozenset[str]:
    """The shifts a service runs: those its pattern gives a start time (all three without one)."""
    if not shift_pattern:
        return frozenset(SHIFTS)
    return frozenset(s for s in SHIFTS if shift_pattern.get(s))


_INNOVATIONS_SQL = """
SELECT i.id, i.organisation_id, i.name, i.phase, i.started_on, i.thresholds,
       coalesce(array_agg(x.service_id ORDER BY x.service_id) FILTER (WHERE x.service_id IS NOT NULL), '{}')
         AS service_ids
  FROM innovation i
  LEFT JOIN innovation_service x ON x.organisation_id = i.organisation_id AND x.innovation_id = i.id
 WHERE i.organisation_id = :organisation_id AND (CAST(:ids AS uuid[]) IS NULL OR i.id = ANY(:ids))
 GROUP BY i.organisation_id, i.id
 ORDER BY i.name, i.id
"""


async def innovations(
    session: AsyncSession, organisation_id: uuid.UUID, ids: Sequence[uuid.UUID] | None = None
) -> list[InnovationRow]:
    rows = await session.execute(
        text(_INNOVATIONS_SQL),
        {"organisation_id": organisation_id, "ids": list(ids) if ids is not None else None},
    )
    return [
        InnovationRow(
            r.id, r.organisation_id, r.name, r.phase, r.started_on, tuple(r.service_ids), r.thresholds
        )
        for r in rows
    ]


async def services(session: AsyncSession, organisation_id: uuid.UUID) -> dict[uuid.UUID, ServiceRow]:
    rows = await session.execute(
        text("SELECT id, name, timezone, shift_pattern FROM service WHERE organisation_id = :o"),
        {"o": organisation_id},
    )
    return {
        r.id: ServiceRow(r.id, r.name, ServiceInfo(r.id, r.timezone, operated_shifts(r.shift_pattern)))
        for r in rows
    }


_STAFF_SQL = """
SELECT m.id, m.started_on, m.left_on,
       coalesce(array_agg(x.service_id) FILTER (WHERE x.service_id IS NOT NULL), '{}') AS service_ids
  FROM staff_member m
  LEFT JOIN staff_member_service x ON x.organisation_id = m.organisation_id AND x.staff_member_id = m.id
 WHERE m.organisation_id = $1
 GROUP BY m.organisation_id, m.id
 ORDER BY m.id
"""


async def staff(session: AsyncSession, organisation_id: uuid.UUID) -> list[StaffTenure]:
    """The provider's staff, in a stable order (statuses refer to recorders by position in it)."""
    conn = await driver_connection(session)
    rows = await conn.fetch(_STAFF_SQL, organisation_id)
    return [StaffTenure(r[0], frozenset(r[3]), r[1], r[2]) for r in rows]


async def provider_thresholds(session: AsyncSession, organisation_id: uuid.UUID) -> dict[str, Any] | None:
    row = await session.execute(
        text("SELECT thresholds FROM provider_thresholds WHERE organisation_id = :o"), {"o": organisation_id}
    )
    value: dict[str, Any] | None = row.scalar_one_or_none()
    return value
