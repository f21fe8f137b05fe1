"""Finding what touchpoints being recorded refer to, and earlier copies of them, in one statement.

Every statement takes the organisation as its first parameter and filters on it, so nothing here can
see another tenant's rows.
"""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from service.database import driver_connection


@dataclass(slots=True)
class ServiceRef:
    timezone: str
    shift_pattern: dict[str, Any] | None


@dataclass(slots=True)
class References:
    """The referenced rows that exist in the organisation."""

    services: dict[uuid.UUID, ServiceRef] = field(default_factory=dict)
    staff: set[uuid.UUID] = field(default_factory=set)
    people: set[uuid.UUID] = field(default_factory=set)
    # innovation id → the services it is in scope of
    innovations: dict[uuid.UUID, frozenset[uuid.UUID]] = field(default_factory=dict)
    # touchpoint id → its kind (for the incident a review follows)
    touchpoints: dict[uuid.UUID, str] = field(default_factory=dict)
    # touchpoint id → its service (whose rollups a review of it recounts)
    touchpoint_services: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)


# Each part answers one kind of reference. The touchpoints a batch refers to (the incidents its reviews
# follow) are read only when there are some: a query on `touchpoint` by id is planned for every
# monthly partition. Source keys are found in touchpoint_identity, unique across the months.
_LOOKUP_PARTS = (
    """
SELECT 's' AS ref, s.id, s.timezone AS a, s.shift_pattern::text AS b, NULL::text AS c,
       NULL::uuid[] AS scope, NULL::timestamptz AS at
  FROM service s WHERE s.organisation_id = $1 AND s.id = ANY($2::uuid[])
UNION ALL
SELECT 'm', m.id, NULL, NULL, NULL, NULL, NULL
  FROM staff_member m WHERE m.organisation_id = $1 AND m.id = ANY($3::uuid[])
UNION ALL
SELECT 'p', p.id, NULL, NULL, NULL, NULL, NULL
  FROM person_ref p WHERE p.organisation_id = $1 AND p.id = ANY($4::uuid[])
UNION ALL
SELECT 'i', i.id, NULL, NULL, NULL,
       ARRAY(SELECT x.service_id FROM innovation_service x
              WHERE x.organisation_id = i.organisation_id AND x.innovation_id = i.id), NULL
  FROM innovation i WHERE i.organisation_id = $1 AND i.id = ANY($5::uuid[])
UNION ALL
SELECT 'k', d.id, NULL, d.source_system, d.external_id, NULL, d.occurred_at
  FROM unnest($6::text[], $7::text[]) AS k(source_system, external_id)
  JOIN touchpoint_identity d
    ON d.organisation_id = $1 AND d.source_system = k.source_system AND d.external_id = k.external_id
""",
    """
UNION ALL
SELECT 't', t.id, t.kind, NULL, NULL, ARRAY[t.service_id], NULL
  FROM touchpoint t WHERE t.organisation_id = $1 AND t.id = ANY($8::uuid[])
""",
)

# The content hashes of stored touchpoints, each looked for in its own month's partition. A key
# whose touchpoint is in a detached month has no row here: its content is unknown (''), so a repeat
# of it is a conflict, never a second record.
# Pairs joined, not two arrays (a B-tree probe with an array per column tries every combination),
# and the earliest and latest moment, so that only the months between them are planned for.
_HASHES_SQL = """
SELECT t.id, t.content_hash
  FROM unnest($2::uuid[], $3::timestamptz[]) AS k(id, occurred_at)
  JOIN touchpoint t ON t.organisation_id = $1 AND t.id = k.id AND t.occurred_at = k.occurred_at
 WHERE t.occurred_at BETWEEN $4 AND $5
"""


@dataclass(frozen=True, slots=True)
class StoredKey:
    id: uuid.UUID
    content_hash: str


async def look_up(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    *,
    service_ids: set[uuid.UUID],
    staff_ids: set[uuid.UUID],
    person_ids: set[uuid.UUID],
    innovation_ids: set[uuid.UUID],
    touchpoint_ids: set[uuid.UUID],
    source_keys: Sequence[tuple[str, str]],
) -> tuple[References, dict[tuple[str, str], StoredKey]]:
    """Referenced rows that exist, and touchpoints already stored under these source keys.

    One statement, run through the session so that it also begins the session's transaction (the
    raw connection is then used inside that transaction); a second only when keys are found stored.
    """
    connection = await session.connection()
    parameters: tuple[Any, ...] = (
        organisation_id,
        list(service_ids),
        list(staff_ids),
        list(person_ids),
        list(innovation_ids),
        [key[0] for key in source_keys],
        [key[1] for key in source_keys],
    )
    if touchpoint_ids:
        result = await connection.exec_driver_sql(
            _LOOKUP_PARTS[0] + _LOOKUP_PARTS[1], (*parameters, list(touchpoint_ids))
        )
    else:
        result = await connection.exec_driver_sql(_LOOKUP_PARTS[0], parameters)
    refs, found = _sorted_out(result.all())
    return refs, await _with_hashes(await driver_connection(session), organisation_id, found)


async def _with_hashes(
    conn: asyncpg.Connection,
    organisation_id: uuid.UUID,
    found: dict[tuple[str, str], tuple[uuid.UUID, datetime]],
) -> dict[tuple[str, str], StoredKey]:
    """The stored keys with their touchpoints' content hashes ('' for a detached month's)."""
    if not found:
        return {}
    rows = await conn.fetch(
        _HASHES_SQL,
        organisation_id,
        [touchpoint_id for touchpoint_id, _ in found.values()],
        [occurred_at for _, occurred_at in found.values()],
        min(occurred_at for _, occurred_at in found.values()),
        max(occurred_at for _, occurred_at in found.values()),
    )
    hashes = {r[0]: r[1] for r in rows}
    return {
        key: StoredKey(touchpoint_id, hashes.get(touchpoint_id, ""))
        for key, (touchpoint_id, _) in found.items()
    }


def _sorted_out(rows: Sequence[Any]) -> tuple[References, dict[tuple[str, str], tuple[uuid.UUID, datetime]]]:
    """The look-up's rows, by the kind of row each names in its first column."""
    refs = References()
    stored: dict[tuple[str, str], tuple[uuid.UUID, datetime]] = {}
    for row in rows:
        ref, ref_id, a, b, c, scope, at = tuple(row)
        if ref == "s":
            refs.services[ref_id] = ServiceRef(a, json.loads(b) if b else None)
        elif ref == "m":
            refs.staff.add(ref_id)
        elif ref == "p":
            refs.people.add(ref_id)
        elif ref == "i":
            refs.innovations[ref_id] = frozenset(scope or ())
        elif ref == "t":
            refs.touchpoints[ref_id] = a
            refs.touchpoint_services[ref_id] = scope[0]
        else:
            stored[(b, c)] = (ref_id, at)
    return refs, stored


async def find_by_source_keys(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    source_systems: Sequence[str],
    external_ids: Sequence[str],
) -> dict[tuple[str, str], StoredKey]:
    """Stored touchpoints with these (source_system, external_id) pairs."""
    if not source_systems:
        return {}
    conn = await driver_connection(session)
    rows = await conn.fetch(
        """
        SELECT d.source_system, d.external_id, d.id, d.occurred_at
          FROM unnest($2::text[], $3::text[]) AS k(source_system, external_id)
          JOIN touchpoint_identity d
            ON d.organisation_id = $1
           AND d.source_system = k.source_system AND d.external_id = k.external_id
        """,
        organisation_id,
        source_systems,
        external_ids,
    )
    return await _with_hashes(conn, organisation_id, {(r[0], r[1]): (r[2], r[3]) for r in rows})
