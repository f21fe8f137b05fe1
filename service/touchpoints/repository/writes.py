"""Writing new touchpoints: their rows, innovation links and access-log entry, set-based.

Every statement takes the organisation as its first parameter, so nothing here can write another
tenant's rows. Batches are written with a handful of statements whatever their size; they run on the
session's own asyncpg connection, which COPY and the array-bound INSERT need, inside the session's
transaction when it has one.
"""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.models import AccessLogEntry
from service.audit.repository import entry_values, insert_entry_sql
from service.database import driver_connection
from service.jobs.queue import enqueue_links_cte, enqueue_recompute
from service.projections.repository import innovations_at
from service.status.locks import KINDS_COUNTED_ON_INSERT, ROLLUP_LOCK_CLASS, lock_rollups
from service.touchpoints.validation.shape import TouchpointCreateItem
from service.vocabulary import SYSTEM_OF_KIND

# The delivery system of each kind, by value: the `system` column.
SYSTEM_OF = {kind.value: system.value for kind, system in SYSTEM_OF_KIND.items()}

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
# Where each column stands in ROW_COLUMNS.
_AT = {name: n for n, (name, _) in enumerate(ROW_COLUMNS)}
_KIND, _SERVICE, _INCIDENT = _AT["kind"], _AT["service_id"], _AT["incident_id"]


# Facts copied into typed columns, in ROW_COLUMNS order.
TYPED_FACTS: tuple[str, ...] = tuple(name for name, _ in ROW_COLUMNS[15:])


def row_values(
    item: TouchpointCreateItem,
    touchpoint_id: uuid.UUID,
    *,
    shift: str,
    weekend: bool,
    content_hash: str,
) -> list[Any]:
    """One row in ROW_COLUMNS order."""
    facts = item.facts
    # Reading the facts' __dict__ avoids pydantic's slow path for attributes a kind does not have.
    present = facts.__dict__
    return [
        touchpoint_id,
        item.kind,
        SYSTEM_OF[item.kind],
        item.service_id,
        item.occurred_at,
        shift,
        weekend,
        item.recorded_by_id,
        item.subject_staff_id,
        item.person_ref_id,
        item.source_system,
        item.external_id,
        item.text,
        facts.__pydantic_serializer__.to_json(facts).decode(),
        content_hash,
        *[present.get(name) for name in TYPED_FACTS],
    ]


_ARG0 = 7  # $1 organisation, $2 recorded_at, $3 recorded_by_sub, $4/$5 link arrays, $6 incident services
_LOCKS_ARG = _ARG0 + len(ROW_COLUMNS)  # the rollup lock class, then its keys
_ENTRY_ARG = _LOCKS_ARG + 2  # the access-log entry's values

_ROW_ARRAYS = ", ".join(f"${i + _ARG0}::{sql_type}[]" for i, (_, sql_type) in enumerate(ROW_COLUMNS))

# The innovations whose statuses the rows actually inserted change: those they reference, and every
# innovation in scope of their services and of the incidents they review ($6, found by the caller's
# look-up: a row it does not reference still counts in its denominators: all the service's
# supervisions, incidents, …). Each gets its status recomputed (service.jobs), marked in this same
# statement so that the mark commits or rolls back with the rows.
_AFFECTED_INNOVATIONS = """
SELECT l.innovation_id FROM unnest($4::uuid[], $5::uuid[]) AS l(touchpoint_id, innovation_id)
  JOIN inserted ON inserted.id = l.touchpoint_id
UNION
SELECT x.innovation_id FROM innovation_service x
 WHERE x.organisation_id = $1
   AND x.service_id IN (SELECT service_id FROM inserted
                        UNION
                        SELECT s FROM unnest($6::uuid[]) AS s
                         WHERE EXISTS (SELECT 1 FROM inserted WHERE incident_id IS NOT NULL))
"""


def _array_of(column: str) -> str:
    """The bound array parameter of one of ROW_COLUMNS."""
    return f"${_AT[column] + _ARG0}::{ROW_COLUMNS[_AT[column]][1]}[]"


# Built from constant column lists only; values are bound parameters. One statement is one
# transaction when the caller has none open: the services' rollup locks are taken (all of them, in
# key order, before the first row: the aggregate reads every key), then rows, links and the
# access-log entry for the rows actually inserted are written together. A source key already taken
# is found by the identity row (unique across touchpoint's monthly partitions): its row is skipped.
INSERT_SQL = f"""
WITH locks AS (
  SELECT count(pg_advisory_xact_lock(${_LOCKS_ARG}::int4, k)) AS taken
    FROM unnest(${_LOCKS_ARG + 1}::int4[]) AS k
), identified AS (
  INSERT INTO touchpoint_identity (organisation_id, id, source_system, external_id, occurred_at)
  SELECT $1, r.id, r.source_system, r.external_id, r.occurred_at
  FROM locks, unnest({_array_of("id")}, {_array_of("source_system")}, {_array_of("external_id")},
                     {_array_of("occurred_at")})
    AS r(id, source_system, external_id, occurred_at)
  ON CONFLICT (organisation_id, source_system, external_id) DO NOTHING
  RETURNING id
), inserted AS (
  INSERT INTO touchpoint (
    organisation_id, recorded_at, recorded_by_sub, revision,
    {", ".join(name for name, _ in ROW_COLUMNS)}
  )
  SELECT $1, $2, $3, 1,
    {", ".join(f"r.{name}::jsonb" if name == "facts" else f"r.{name}" for name, _ in ROW_COLUMNS)}
  FROM unnest({_ROW_ARRAYS}) AS r({", ".join(name for name, _ in ROW_COLUMNS)})
  WHERE r.id IN (SELECT id FROM identified)
  RETURNING id, service_id, incident_id
), linked AS (
  INSERT INTO touchpoint_innovation (organisation_id, touchpoint_id, innovation_id)
  SELECT $1, l.touchpoint_id, l.innovation_id
    FROM unnest($4::uuid[], $5::uuid[]) AS l(touchpoint_id, innovation_id)
    JOIN inserted ON inserted.id = l.touchpoint_id
), logged AS ({insert_entry_sql(_ENTRY_ARG, "ARRAY(SELECT id FROM inserted)")}),
{enqueue_links_cte("$1", _AFFECTED_INNOVATIONS)}
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
IDENTITY_COLUMNS = ("organisation_id", "id", "source_system", "external_id", "occurred_at")
_IDENTITY_AT = tuple(COPY_COLUMNS.index(name) for name in IDENTITY_COLUMNS)


def identity_records(records: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """The touchpoint_identity rows (IDENTITY_COLUMNS) of touchpoint rows in COPY_COLUMNS order."""
    return [tuple(record[i] for i in _IDENTITY_AT) for record in records]


LINK_COLUMNS = ("organisation_id", "touchpoint_id", "innovation_id")
# Below this many rows one INSERT costs less than a savepoint and two COPYs.
COPY_FROM_ROWS = 50


async def write_touchpoints(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    *,
    recorded_at: datetime,
    recorded_by_sub: str,
    rows: Sequence[Sequence[Any]],
    links: Sequence[tuple[uuid.UUID, uuid.UUID]],
    lock_keys: Sequence[int],
    access: AccessLogEntry,
    incident_services: Collection[uuid.UUID] = (),
) -> set[uuid.UUID]:
    """Write rows (each in ROW_COLUMNS order), their (touchpoint, innovation) links and the access-log
    entry `access` for the rows written, after taking the rollup locks `lock_keys` (status.locks).

    Every innovation a row written references or has its service in scope is marked for its status
    to be recomputed, in the same transaction (service.jobs.queue); so is every innovation in scope
    of `incident_services`, the services of the incidents the rows review (touchpoints.rollups).
    Returns the ids written. The rows' source keys were not stored when the caller looked, so the
    common case for a batch is a plain binary COPY of identities, rows and links, as fast as the
    tables allow.
    If another transaction stored one of those keys meanwhile, the COPY fails as a whole and is
    undone to its savepoint, and the rows go again through INSERT … ON CONFLICT DO NOTHING, which
    skips the rows stored elsewhere: the caller compares those with what was stored.
    A few rows go straight to that INSERT: one statement, atomic on its own, so a caller without an
    open transaction writes a touchpoint in one round trip.
    Rows should come in source-key order so that concurrent writers take key locks in one order.
    """
    conn = await driver_connection(session)
    entry = entry_values(access)
    common = (organisation_id, recorded_at, recorded_by_sub)
    if len(rows) >= COPY_FROM_ROWS:
        try:
            return await _copy(conn, common, rows, links, lock_keys, entry, incident_services)
        except asyncpg.UniqueViolationError:
            pass
    inserted = await conn.fetch(
        INSERT_SQL,
        *common,
        [touchpoint_id for touchpoint_id, _ in links],
        [innovation_id for _, innovation_id in links],
        list(incident_services),
        *zip(*rows, strict=True),
        ROLLUP_LOCK_CLASS,
        list(lock_keys),
        *entry,
    )
    return {r[0] for r in inserted}


async def _copy(
    conn: asyncpg.Connection,
    common: tuple[uuid.UUID, datetime, str],
    rows: Sequence[Sequence[Any]],
    links: Sequence[tuple[uuid.UUID, uuid.UUID]],
    lock_keys: Sequence[int],
    entry: Sequence[Any],
    incident_services: Collection[uuid.UUID],
) -> set[uuid.UUID]:
    """COPY rows and links under a savepoint; a source key stored meanwhile undoes it whole
    (UniqueViolationError)."""
    organisation_id = common[0]
    # Rows of kinds the touchpoint's own trigger counts need the locks before they are copied; for
    # any other batch the rows are copied first, side by side with other writers, and the locks
    # taken before the links (whose triggers count everything).
    counted_on_insert = any(row[_KIND] in KINDS_COUNTED_ON_INSERT for row in rows)
    async with conn.transaction():
        records = [(*common, 1, *row) for row in rows]
        # The identities first: a source key stored meanwhile fails here, before any row is copied.
        await conn.copy_records_to_table(
            "touchpoint_identity", records=identity_records(records), columns=IDENTITY_COLUMNS
        )
        if counted_on_insert:
            await lock_rollups(conn, lock_keys)
        await conn.copy_records_to_table("touchpoint", records=records, columns=COPY_COLUMNS)
        if not counted_on_insert:
            await lock_rollups(conn, lock_keys)
        if links:
            await conn.copy_records_to_table(
                "touchpoint_innovation",
                records=[(organisation_id, touchpoint, innovation) for touchpoint, innovation in links],
                columns=LINK_COLUMNS,
            )
        written = [row[0] for row in rows]
        await conn.execute(_LOG_COPIED_SQL, written, *entry)
        services = {row[_SERVICE] for row in rows}
        if any(row[_INCIDENT] is not None for row in rows):
            services |= set(incident_services)
        in_scope = await innovations_at(conn, organisation_id, services)
        await enqueue_recompute(conn, organisation_id, {innovation for _, innovation in links} | in_scope)
    return set(written)
