"""What the evidence pack reads beside the status: the innovation's own words and whose it is.

The caller's scope over the provider is settled before these run (by the status reads); every
statement still filters on that provider.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class InnovationDetails:
    name: str
    summary: str
    why: str
    started_on: date
    phase: str
    provider_name: str


_INNOVATION_SQL = """
SELECT i.name, i.summary, i.why, i.started_on, i.phase, o.name AS provider_name
  FROM innovation i
  JOIN organisation o ON o.id = i.organisation_id
 WHERE i.organisation_id = :organisation_id AND i.id = :innovation_id
"""


async def innovation_details(
    session: AsyncSession, provider_id: uuid.UUID, innovation_id: uuid.UUID
) -> InnovationDetails | None:
    row = (
        await session.execute(
            text(_INNOVATION_SQL), {"organisation_id": provider_id, "innovation_id": innovation_id}
        )
    ).one_or_none()
    if row is None:
        return None
    return InnovationDetails(row.name, row.summary, row.why, row.started_on, row.phase, row.provider_name)


async def service_names(
    session: AsyncSession, provider_id: uuid.UUID, service_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        text("SELECT id, name FROM service WHERE organisation_id = :organisation_id AND id = ANY(:ids)"),
        {"organisation_id": provider_id, "ids": list(service_ids)},
    )
    return {r.id: r.name for r in rows}
