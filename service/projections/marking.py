"""Marking, in the writer's own transaction, the innovations whose statuses a change affects."""

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from service.database import driver_connection
from service.jobs.queue import enqueue_recompute


async def mark_innovations(
    session: AsyncSession, organisation_id: uuid.UUID, innovation_ids: Iterable[uuid.UUID]
) -> None:
    await enqueue_recompute(await driver_connection(session), organisation_id, innovation_ids)


async def mark_provider(session: AsyncSession, organisation_id: uuid.UUID) -> None:
    """Every innovation of the provider with a projection (the others are computed when read)."""
    conn = await driver_connection(session)
    rows = await conn.fetch(
        "SELECT DISTINCT innovation_id FROM status_projection WHERE organisation_id = $1", organisation_id
    )
    await enqueue_recompute(conn, organisation_id, (r[0] for r in rows))
