"""Correcting a stored touchpoint: finding and holding it, keeping what it replaces as a revision,
and rewriting its row and innovation links.

The record is found and held with Core through the session; the rewrite is hand-written SQL on the
session's asyncpg connection, the same statements whatever the kind, built from ROW_COLUMNS.
"""

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.database import driver_connection
from service.jobs.queue import enqueue_recompute
from service.projections.repository import innovations_at
from service.status.locks import lock_service_rollups
from service.touchpoints.models import TouchpointIdentity
from service.touchpoints.repository.reads import TOUCHPOINT, T, visible_touchpoints
from service.touchpoints.repository.writes import ROW_COLUMNS

D = TouchpointIdentity.__table__.c  # type: ignore[attr-defined]

_CONTENT_FIELDS = (
    "kind",
    "system",
    "service_id",
    "occurred_at",
    "shift",
    "weekend",
    "recorded_by_id",
    "subject_staff_id",
    "person_ref_id",
    "source_system",
    "external_id",
    "text",
    "facts",
)

_UPDATE_COLUMNS = ROW_COLUMNS[1:]  # every column but the id
_ASSIGNMENTS = ",\n  ".join(
    f"{name} = ${i + 5}::{sql_type}" + ("::jsonb" if name == "facts" else "")
    for i, (name, sql_type) in enumerate(_UPDATE_COLUMNS)
)
# Built from the constant column list only; values are bound parameters.
_UPDATE_SQL = f"""
UPDATE touchpoint SET
  {_ASSIGNMENTS},
  recorded_at = $3, recorded_by_sub = $4, revision = revision + 1
WHERE organisation_id = $1 AND id = $2
"""  # noqa: S608

_INSERT_REVISION_SQL = """
INSERT INTO touchpoint_revision (organisation_id, touchpoint_id, revision, content,
                                 recorded_at, recorded_by_sub, replaced_at, replaced_by_sub)
VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8)
"""

_RELINK_SQL = """
WITH dropped AS (
  DELETE FROM touchpoint_innovation
   WHERE organisation_id = $1 AND touchpoint_id = $2 AND NOT (innovation_id = ANY($3::uuid[]))
)
INSERT INTO touchpoint_innovation (organisation_id, touchpoint_id, innovation_id)
SELECT $1, $2, i FROM unnest($3::uuid[]) AS i
ON CONFLICT DO NOTHING
"""


async def hold_visible_touchpoint(
    session: AsyncSession, principal: Principal, touchpoint_id: uuid.UUID
) -> RowMapping | None:
    """The stored row, every column, if `principal` may read it; held until the transaction ends."""
    row = (
        await session.execute(
            select(TOUCHPOINT)
            .where(visible_touchpoints(principal), T.id == touchpoint_id)
            # NO KEY: it blocks no reader or foreign-key check (reviews of an incident reference its
            # identity row, touchpoint_identity, and lock that one).
            .with_for_update(key_share=True)
        )
    ).one_or_none()
    return row._mapping if row is not None else None


async def stored_id(
    session: AsyncSession, organisation_id: uuid.UUID, source_system: str, external_id: str
) -> uuid.UUID | None:
    """The id of the touchpoint stored under (source_system, external_id), if there is one (its
    month's partition may have been detached since)."""
    found: uuid.UUID | None = (
        await session.execute(
            select(D.id).where(
                D.organisation_id == organisation_id,
                D.source_system == source_system,
                D.external_id == external_id,
            )
        )
    ).scalar_one_or_none()
    return found


async def lock_source_key(
    session: AsyncSession, organisation_id: uuid.UUID, source_system: str, external_id: str
) -> None:
    """Hold the organisation's (source_system, external_id) until the transaction ends.

    A transaction-level advisory lock on a 64-bit hash of the key: writers that take it run one
    after another for that key, and each sees what the one before committed. `/` cannot occur in
    either part, so the joined key is unambiguous; two keys sharing a hash only wait for each other.
    """
    conn = await driver_connection(session)
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"touchpoint-source/{organisation_id}/{source_system}/{external_id}",
    )


def content_of(row: RowMapping, innovation_ids: Iterable[uuid.UUID]) -> dict[str, Any]:
    """The record as it stands, as JSON: what a revision keeps."""
    content: dict[str, Any] = {}
    for name in _CONTENT_FIELDS:
        value = row[name]
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif name == "occurred_at":
            value = value.isoformat()
        content[name] = value
    content["innovation_ids"] = [str(i) for i in sorted(innovation_ids)]
    return content


async def replace_touchpoint(
    session: AsyncSession,
    stored: RowMapping,
    *,
    values: Sequence[Any],
    innovation_ids: Sequence[uuid.UUID],
    rollup_services: Iterable[uuid.UUID],
    replaced_at: datetime,
    replaced_by_sub: str,
) -> None:
    """Replace the stored row with `values` (in ROW_COLUMNS order, its id first) and its links with
    `innovation_ids`, keeping the row as it stood as its revision.

    The rollup locks of `rollup_services` (status.locks) are taken first: the old record's months
    are taken away and the new one's added.
    """
    organisation_id, touchpoint_id = stored["organisation_id"], stored["id"]
    conn = await driver_connection(session)
    services = set(rollup_services)
    await lock_service_rollups(conn, organisation_id, services)
    linked = await conn.fetch(
        "SELECT innovation_id FROM touchpoint_innovation WHERE organisation_id = $1 AND touchpoint_id = $2",
        organisation_id,
        touchpoint_id,
    )
    await conn.execute(
        _INSERT_REVISION_SQL,
        organisation_id,
        touchpoint_id,
        stored["revision"],
        json.dumps(content_of(stored, [r[0] for r in linked])),
        stored["recorded_at"],
        stored["recorded_by_sub"],
        replaced_at,
        replaced_by_sub,
    )
    await conn.execute(_UPDATE_SQL, organisation_id, touchpoint_id, replaced_at, replaced_by_sub, *values[1:])
    await conn.execute(_RELINK_SQL, organisation_id, touchpoint_id, list(innovation_ids))
    # Innovations it no longer references change as much as those it now does, and so does every
    # innovation in scope of the services it leaves and joins (their denominators count it).
    in_scope = await innovations_at(conn, organisation_id, services)
    await enqueue_recompute(conn, organisation_id, {r[0] for r in linked} | set(innovation_ids) | in_scope)
