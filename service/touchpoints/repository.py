"""Set-based statements for recording touchpoints, on the session's own asyncpg connection.

Every statement takes the organisation as its first parameter and filters on it, so nothing here can
see or write another tenant's rows. Batches are written with a handful of statements whatever their
size: one to find references, one to find earlier copies, one to insert rows and links together.
"""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.models import AccessLogEntry
from service.audit.repository import entry_values, insert_entry_sql
from service.jobs.queue import enqueue_links_cte, enqueue_recompute
from service.status.locks import KINDS_COUNTED_ON_INSERT, ROLLUP_LOCK_CLASS, lock_rollups


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


_LOOKUP_SQL = """
SELECT 's' AS ref, s.id, s.timezone AS a, s.shift_pattern::text AS b, NULL::text AS c, NULL::uuid[] AS scope
  FROM service s WHERE s.organisation_id = $1 AND s.id = ANY($2::uuid[])
UNION ALL
SELECT 'm', m.id, NULL, NULL, NULL, NULL
  FROM staff_member m WHERE m.organisation_id = $1 AND m.id = ANY($3::uuid[])
UNION ALL
SELECT 'p', p.id, NULL, NULL, NULL, NULL
  FROM person_ref p WHERE p.organisation_id = $1 AND p.id = ANY($4::uuid[])
UNION ALL
SELECT 'i', i.id, NULL, NULL, NULL,
       ARRAY(SELECT x.service_id FROM innovation_service x
              WHERE x.organisation_id = i.organisation_id AND x.innovation_id = i.id)
  FROM innovation i WHERE i.organisation_id = $1 AND i.id = ANY($5::uuid[])
UNION ALL
SELECT 't', t.id, t.kind, NULL, NULL, ARRAY[t.service_id]
  FROM touchpoint t WHERE t.organisation_id = $1 AND t.id = ANY($6::uuid[])
UNION ALL
SELECT 'k', t.id, t.content_hash, t.source_system, t.external_id, NULL
  FROM unnest($7::text[], $8::text[]) AS k(source_system, external_id)
  JOIN touchpoint t
    ON t.organisation_id = $1 AND t.source_system = k.source_system AND t.external_id = k.external_id
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
    raw connection is then used inside that transaction).
    """
    connection = await session.connection()
    result = await connection.exec_driver_sql(
        _LOOKUP_SQL,
        (
            organisation_id,
            list(service_ids),
            list(staff_ids),
            list(person_ids),
            list(innovation_ids),
            list(touchpoint_ids),
            [key[0] for key in source_keys],
            [key[1] for key in source_keys],
        ),
    )
    refs = References()
    stored: dict[tuple[str, str], StoredKey] = {}
    for row in result.all():
        ref, ref_id, a, b, c, scope = tuple(row)
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
            stored[(b, c)] = StoredKey(ref_id, a)
    return refs, stored


async def find_by_source_keys(
    conn: asyncpg.Connection,
    organisation_id: uuid.UUID,
    source_systems: Sequence[str],
    external_ids: Sequence[str],
) -> dict[tuple[str, str], StoredKey]:
    """Stored touchpoints with these (source_system, external_id) pairs."""
    if not source_systems:
        return {}
    rows = await conn.fetch(
        """
        SELECT t.source_system, t.external_id, t.id, t.content_hash
          FROM unnest($2::text[], $3::text[]) AS k(source_system, external_id)
          JOIN touchpoint t
            ON t.organisation_id = $1
           AND t.source_system = k.source_system AND t.external_id = k.external_id
        """,
        organisation_id,
        source_systems,
        external_ids,
    )
    return {(r[0], r[1]): StoredKey(r[2], r[3]) for r in rows}


# Column order of the unnest() in INSERT_SQL; the writer passes one array per name, in this order.
ROW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "uuid"),
    ("kind", "text"),
    ("system", "text"),
    ("service_id", "uuid"),
    ("occurred_at", "timestamptz"),
    ("shift", "text"),
    ("weekend", "bool"),
    ("recorded_by_id", "uuid"),
    ("subject_staff_id", "uuid"),
    ("person_ref_id", "uuid"),
    ("source_system", "text"),
    ("external_id", "text"),
    ("text", "text"),
    ("facts", "text"),
    ("content_hash", "text"),
    ("engagement_quality", "int2"),
    ("score", "int2"),
    ("score_percent", "float8"),
    ("explains_why", "bool"),
    ("passed", "bool"),
    ("severity", "text"),
    ("restrictive_intervention", "bool"),
    ("incident_id", "uuid"),
    ("learning_captured", "bool"),
    ("follow_up_observation_planned", "bool"),
    ("buddy_id", "uuid"),
)
_KIND = 1  # the position of `kind` in ROW_COLUMNS
# Facts copied into typed columns, in ROW_COLUMNS order.
TYPED_FACTS: tuple[str, ...] = tuple(name for name, _ in ROW_COLUMNS[15:])

_ARG0 = 6  # $1 organisation, $2 recorded_at, $3 recorded_by_sub, $4/$5 link arrays
_LOCKS_ARG = _ARG0 + len(ROW_COLUMNS)  # the rollup lock class, then its keys
_ENTRY_ARG = _LOCKS_ARG + 2  # the access-log entry's values

_ROW_ARRAYS = ", ".join(f"${i + _ARG0}::{sql_type}[]" for i, (_, sql_type) in enumerate(ROW_COLUMNS))

# The innovations of the rows actually inserted: each gets its status recomputed (service.jobs),
# marked in this same statement so that the mark commits or rolls back with the rows.
_LINKED_INNOVATIONS = """
SELECT l.innovation_id FROM unnest($4::uuid[], $5::uuid[]) AS l(touchpoint_id, innovation_id)
  JOIN inserted ON inserted.id = l.touchpoint_id
"""

# Built from constant column lists only; values are bound parameters. One statement is one
# transaction when the caller has none open: the services' rollup locks are taken (all of them, in
# key order, before the first row: the aggregate reads every key), then rows, links and the
# access-log entry for the rows actually inserted are written together.
INSERT_SQL = f"""
WITH locks AS (
  SELECT count(pg_advisory_xact_lock(${_LOCKS_ARG}::int4, k)) AS taken
    FROM unnest(${_LOCKS_ARG + 1}::int4[]) AS k
), inserted AS (
  INSERT INTO touchpoint (
    organisation_id, recorded_at, recorded_by_sub, revision,
    {", ".join(name for name, _ in ROW_COLUMNS)}
  )
  SELECT $1, $2, $3, 1,
    {", ".join(f"r.{name}::jsonb" if name == "facts" else f"r.{name}" for name, _ in ROW_COLUMNS)}
  FROM locks, unnest({_ROW_ARRAYS}) AS r({", ".join(name for name, _ in ROW_COLUMNS)})
  ON CONFLICT (organisation_id, source_system, external_id) DO NOTHING
  RETURNING id
), linked AS (
  INSERT INTO touchpoint_innovation (organisation_id, touchpoint_id, innovation_id)
  SELECT $1, l.touchpoint_id, l.innovation_id
    FROM unnest($4::uuid[], $5::uuid[]) AS l(touchpoint_id, innovation_id)
    JOIN inserted ON inserted.id = l.touchpoint_id
), logged AS ({insert_entry_sql(_ENTRY_ARG, "ARRAY(SELECT id FROM inserted)")}),
{enqueue_links_cte("$1", _LINKED_INNOVATIONS)}
SELECT id FROM inserted
"""  # noqa: S608

# After a COPY: the entry for the copied rows ($1), its values from $2 on.
_LOG_COPIED_SQL = insert_entry_sql(2, "$1::uuid[]")


COPY_COLUMNS: tuple[str, ...] = (
    "organisation_id",
    "recorded_at",
    "recorded_by_sub",
    "revision",
    *(name for name, _ in ROW_COLUMNS),
)
LINK_COLUMNS = ("organisation_id", "touchpoint_id", "innovation_id")
# Below this many rows one INSERT costs less than a savepoint and two COPYs.
COPY_FROM_ROWS = 50


async def write_touchpoints(
    conn: asyncpg.Connection,
    organisation_id: uuid.UUID,
    *,
    recorded_at: datetime,
    recorded_by_sub: str,
    rows: Sequence[Sequence[Any]],
    links: Sequence[tuple[uuid.UUID, uuid.UUID]],
    lock_keys: Sequence[int],
    access: AccessLogEntry,
) -> set[uuid.UUID]:
    """Write rows (each in ROW_COLUMNS order), their (touchpoint, innovation) links and the access-log
    entry `access` for the rows written, after taking the rollup locks `lock_keys` (status.locks).

    Every innovation of a row written is marked for its status to be recomputed, in the same
    transaction (service.jobs.queue).
    Returns the ids written. The rows' source keys were not stored when the caller looked, so the
    common case for a batch is a plain binary COPY of rows and links, as fast as the table allows.
    If another transaction stored one of those keys meanwhile, the COPY fails as a whole and is
    undone to its savepoint, and the rows go again through INSERT … ON CONFLICT DO NOTHING, which
    skips the rows stored elsewhere: the caller compares those with what was stored.
    A few rows go straight to that INSERT: one statement, atomic on its own, so a caller without an
    open transaction writes a touchpoint in one round trip.
    Rows should come in source-key order so that concurrent writers take key locks in one order.
    """
    entry = entry_values(access)
    if len(rows) >= COPY_FROM_ROWS:
        try:
            # Rows of kinds the touchpoint's own trigger counts need the locks before they are
            # copied; for any other batch the rows are copied first, side by side with other
            # writers, and the locks taken before the links (whose triggers count everything).
            counted_on_insert = any(row[_KIND] in KINDS_COUNTED_ON_INSERT for row in rows)
            async with conn.transaction():
                if counted_on_insert:
                    await lock_rollups(conn, lock_keys)
                await conn.copy_records_to_table(
                    "touchpoint",
                    records=[(organisation_id, recorded_at, recorded_by_sub, 1, *row) for row in rows],
                    columns=COPY_COLUMNS,
                )
                if not counted_on_insert:
                    await lock_rollups(conn, lock_keys)
                if links:
                    await conn.copy_records_to_table(
                        "touchpoint_innovation",
                        records=[
                            (organisation_id, touchpoint, innovation) for touchpoint, innovation in links
                        ],
                        columns=LINK_COLUMNS,
                    )
                written = [row[0] for row in rows]
                await conn.execute(_LOG_COPIED_SQL, written, *entry)
                await enqueue_recompute(conn, organisation_id, {innovation for _, innovation in links})
            return set(written)
        except asyncpg.UniqueViolationError:
            pass
    inserted = await conn.fetch(
        INSERT_SQL,
        organisation_id,
        recorded_at,
        recorded_by_sub,
        [touchpoint_id for touchpoint_id, _ in links],
        [innovation_id for _, innovation_id in links],
        *zip(*rows, strict=True),
        ROLLUP_LOCK_CLASS,
        list(lock_keys),
        *entry,
    )
    return {r[0] for r in inserted}


async def lock_source_key(
    conn: asyncpg.Connection, organisation_id: uuid.UUID, source_system: str, external_id: str
) -> None:
    """Hold the organisation's (source_system, external_id) until the transaction ends.

    A transaction-level advisory lock on a 64-bit hash of the key: writers that take it run one
    after another for that key, and each sees what the one before committed. `/` cannot occur in
    either part, so the joined key is unambiguous; two keys sharing a hash only wait for each other.
    """
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"touchpoint-source/{organisation_id}/{source_system}/{external_id}",
    )
