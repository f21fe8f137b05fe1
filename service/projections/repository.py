"""Statements for projections and the status event outbox, on the session's asyncpg connection."""

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from service import clock
from service.status.evaluation.counting import SILENCE_DAYS

# The first key of the per-innovation lock that serialises recomputes: ASCII "proj".
PROJECTION_LOCK_CLASS = 0x70726F6A
# The lock every transaction writing events takes just before it writes them, held to its end:
# event ids are then given out in commit order (ASCII "evnt").
EVENT_LOCK_CLASS = 0x65766E74

_COLUMNS = (
    "organisation_id, innovation_id, scope_key, service_id, service_ids, stage, body, external_body,"
    " content_hash, computed_at, checked_at, data_xid, history, external_history"
)
_VALUES = (
    "$1, $2, $3, $4, $5, $6, $7::text::jsonb, $8::text::jsonb, $9, $10, $11, $12,"
    " $13::text::jsonb, $14::text::jsonb"
)

# A recompute: never over a result from a newer snapshot. Content the same as stored keeps the
# stored body, and so its `computed_at` and ETag; only the horizon it was checked at moves.
UPSERT_SQL = f"""
INSERT INTO status_projection AS p ({_COLUMNS}) VALUES ({_VALUES})
ON CONFLICT (innovation_id, scope_key) DO UPDATE SET
  service_id = EXCLUDED.service_id,
  service_ids = EXCLUDED.service_ids,
  stage = EXCLUDED.stage,
  body = CASE WHEN p.content_hash = EXCLUDED.content_hash THEN p.body ELSE EXCLUDED.body END,
  external_body = CASE WHEN p.content_hash = EXCLUDED.content_hash
                       THEN p.external_body ELSE EXCLUDED.external_body END,
  history = CASE WHEN p.content_hash = EXCLUDED.content_hash THEN p.history ELSE EXCLUDED.history END,
  external_history = CASE WHEN p.content_hash = EXCLUDED.content_hash
                          THEN p.external_history ELSE EXCLUDED.external_history END,
  computed_at = CASE WHEN p.content_hash = EXCLUDED.content_hash
                     THEN p.computed_at ELSE EXCLUDED.computed_at END,
  content_hash = EXCLUDED.content_hash,
  checked_at = EXCLUDED.checked_at,
  data_xid = EXCLUDED.data_xid
WHERE p.data_xid <= EXCLUDED.data_xid
"""  # noqa: S608

# Computed on read: stored only where no worker has stored one meanwhile.
INSERT_MISSING_SQL = f"""
INSERT INTO status_projection ({_COLUMNS}) VALUES ({_VALUES})
ON CONFLICT (innovation_id, scope_key) DO NOTHING
"""  # noqa: S608


@dataclass(frozen=True, slots=True)
class ProjectionRow:
    organisation_id: uuid.UUID
    innovation_id: uuid.UUID
    scope_key: str
    service_id: uuid.UUID | None
    service_ids: tuple[uuid.UUID, ...]
    stage: str
    body: dict[str, Any]
    external_body: dict[str, Any]
    content_hash: str
    computed_at: datetime
    checked_at: datetime
    data_xid: int
    # None: not computed with it (a row stored without a history is served it on read).
    history: dict[str, Any] | None = None
    external_history: dict[str, Any] | None = None

    def values(self) -> tuple[Any, ...]:
        return (
            self.organisation_id,
            self.innovation_id,
            self.scope_key,
            self.service_id,
            list(self.service_ids),
            self.stage,
            json.dumps(self.body),
            json.dumps(self.external_body),
            self.content_hash,
            self.computed_at,
            self.checked_at,
            self.data_xid,
            None if self.history is None else json.dumps(self.history),
            None if self.external_history is None else json.dumps(self.external_history),
        )


@dataclass(frozen=True, slots=True)
class StoredProjection:
    scope_key: str
    service_id: uuid.UUID | None
    service_ids: tuple[uuid.UUID, ...]
    stage: str
    rags: dict[str, str]
    data_xid: int


async def snapshot_horizon(conn: asyncpg.Connection) -> tuple[int, datetime]:
    """`pg_snapshot_xmax` of the current snapshot (every transaction below it has ended or is
    invisible to it, every one from it on is invisible), and the transaction's `now()` (or the
    clock's fixed moment)."""
    row = await conn.fetchrow(
        "SELECT (pg_snapshot_xmax(pg_current_snapshot())::text)::bigint, coalesce($1::timestamptz, now())",
        clock.fixed(),
    )
    assert row is not None
    return int(row[0]), row[1]


async def computed_after(conn: asyncpg.Connection, innovation_id: uuid.UUID, horizon: int) -> bool:
    """Whether the innovation has projections and every one was computed in a snapshot whose
    horizon (`data_xid`) is above `horizon`."""
    lowest = await conn.fetchval(
        "SELECT min(data_xid) FROM status_projection WHERE innovation_id = $1", innovation_id
    )
    return lowest is not None and int(lowest) > horizon


async def stored(conn: asyncpg.Connection, innovation_id: uuid.UUID) -> list[StoredProjection]:
    rows = await conn.fetch(
        """
        SELECT scope_key, service_id, service_ids, stage, data_xid,
               (SELECT coalesce(jsonb_object_agg(i->>'key', i->>'rag'), '{}'::jsonb)::text
                  FROM jsonb_array_elements(body->'indicators') AS i) AS rags
          FROM status_projection WHERE innovation_id = $1
        """,
        innovation_id,
    )
    return [StoredProjection(r[0], r[1], tuple(r[2]), r[3], json.loads(r[5]), int(r[4])) for r in rows]


async def upsert(conn: asyncpg.Connection, rows: Sequence[ProjectionRow]) -> None:
    if rows:
        await conn.executemany(UPSERT_SQL, [r.values() for r in rows])


async def insert_missing(conn: asyncpg.Connection, rows: Sequence[ProjectionRow]) -> None:
    if rows:
        await conn.executemany(INSERT_MISSING_SQL, [r.values() for r in rows])


async def delete(conn: asyncpg.Connection, innovation_id: uuid.UUID, scope_keys: Sequence[str]) -> None:
    if scope_keys:
        await conn.execute(
            "DELETE FROM status_projection WHERE innovation_id = $1 AND scope_key = ANY($2::text[])",
            innovation_id,
            list(scope_keys),
        )


@dataclass(frozen=True, slots=True)
class ProjectedBody:
    body: dict[str, Any]
    computed_at: datetime


async def read(
    conn: asyncpg.Connection, innovation_id: uuid.UUID, scope_keys: Sequence[str], *, external: bool
) -> dict[str, ProjectedBody]:
    column = "external_body" if external else "body"
    rows = await conn.fetch(
        f"SELECT scope_key, {column}::text, computed_at FROM status_projection"  # noqa: S608
        " WHERE innovation_id = $1 AND scope_key = ANY($2::text[])",
        innovation_id,
        list(scope_keys),
    )
    return {r[0]: ProjectedBody(json.loads(r[1]), r[2]) for r in rows}


async def read_history(
    conn: asyncpg.Connection, innovation_id: uuid.UUID, scope_key: str, *, external: bool
) -> ProjectedBody | None:
    """The stored monthly series of one projection; None when there is no projection or it was
    stored without one."""
    column = "external_history" if external else "history"
    row = await conn.fetchrow(
        f"SELECT {column}::text, computed_at FROM status_projection"  # noqa: S608
        f" WHERE innovation_id = $1 AND scope_key = $2 AND {column} IS NOT NULL",
        innovation_id,
        scope_key,
    )
    return None if row is None else ProjectedBody(json.loads(row[0]), row[1])


async def versions(
    conn: asyncpg.Connection, keys: Sequence[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], datetime]:
    """When each stored projection of these keys was computed, without reading a body: what the
    ETag of an answer made of them is derived from."""
    rows = await conn.fetch(
        "SELECT p.innovation_id, p.scope_key, p.computed_at"
        " FROM unnest($1::uuid[], $2::text[]) AS k(innovation_id, scope_key)"
        " JOIN status_projection p ON p.innovation_id = k.innovation_id AND p.scope_key = k.scope_key",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return {(r[0], r[1]): r[2] for r in rows}


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: str
    organisation_id: uuid.UUID
    innovation_id: uuid.UUID
    service_id: uuid.UUID | None
    indicator_key: str | None
    data: dict[str, Any]


async def insert_events(conn: asyncpg.Connection, events: Sequence[NewEvent]) -> None:
    """Write events as the transaction's last statement: it holds the event lock until it ends.

    A reader that sees an event therefore sees every event with a lower id. Without the lock, a
    transaction could take id 105, another take 106 and commit first, and a reader that had read up
    to 106 would never see 105 (identity values are given out at insert, not at commit).
    """
    if events:
        await conn.execute("SELECT pg_advisory_xact_lock($1::int4, 0)", EVENT_LOCK_CLASS)
        await conn.executemany(
            """
            INSERT INTO status_event (type, organisation_id, innovation_id, service_id, indicator_key, data)
            VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)
            """,
            [
                (
                    e.type,
                    e.organisation_id,
                    e.innovation_id,
                    e.service_id,
                    e.indicator_key,
                    json.dumps(e.data),
                )
                for e in events
            ],
        )


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    type: str
    occurred_at: datetime
    organisation_id: uuid.UUID
    innovation_id: uuid.UUID
    service_id: uuid.UUID | None
    data: dict[str, Any]


async def events_after(
    conn: asyncpg.Connection,
    *,
    after: int,
    limit: int,
    organisation_ids: Sequence[uuid.UUID],
) -> list[EventRow]:
    """Events after `after`, in id order, of these organisations. Ids are given out in commit order
    (`insert_events`), so no event can appear behind a reader's cursor afterwards."""
    rows = await conn.fetch(
        """
        SELECT id, type, occurred_at, organisation_id, innovation_id, service_id, data::text
          FROM status_event
         WHERE id > $1 AND organisation_id = ANY($3::uuid[])
         ORDER BY id
         LIMIT $2
        """,
        after,
        limit,
        list(organisation_ids),
    )
    return [EventRow(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]


@dataclass(frozen=True, slots=True)
class StageEventRow:
    id: int
    occurred_at: datetime
    organisation_id: uuid.UUID
    innovation_id: uuid.UUID
    innovation_name: str
    service_id: uuid.UUID | None
    data: dict[str, Any]


async def stage_events_since(
    conn: asyncpg.Connection, *, organisation_ids: Sequence[uuid.UUID], since: datetime
) -> list[StageEventRow]:
    """`status.stage_changed` events of these organisations from `since` on, in feed order and as
    the feed serves them (`events_after`), with their innovation's name."""
    rows = await conn.fetch(
        """
        SELECT e.id, e.occurred_at, e.organisation_id, e.innovation_id, i.name, e.service_id, e.data::text
          FROM status_event e
          JOIN innovation i ON i.organisation_id = e.organisation_id AND i.id = e.innovation_id
         WHERE e.organisation_id = ANY($1::uuid[]) AND e.type = 'status.stage_changed'
           AND e.occurred_at >= $2
         ORDER BY e.id
        """,
        list(organisation_ids),
        since,
    )
    return [StageEventRow(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]


async def innovations_at(
    conn: asyncpg.Connection, organisation_id: uuid.UUID, service_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """The innovations with any of these services in scope: a touchpoint at one of them counts in
    their statuses (in a denominator at least) whether it references them or not."""
    rows = await conn.fetch(
        "SELECT DISTINCT innovation_id FROM innovation_service"
        " WHERE organisation_id = $1 AND service_id = ANY($2::uuid[])",
        organisation_id,
        list(set(service_ids)),
    )
    return {r[0] for r in rows}


async def innovation_services(
    conn: asyncpg.Connection, innovation_id: uuid.UUID
) -> tuple[uuid.UUID, list[uuid.UUID]] | None:
    """The innovation's provider and the services in its scope that exist."""
    rows = await conn.fetch(
        """
        SELECT i.organisation_id, s.id
          FROM innovation i
          LEFT JOIN innovation_service x ON x.organisation_id = i.organisation_id AND x.innovation_id = i.id
          LEFT JOIN service s ON s.organisation_id = x.organisation_id AND s.id = x.service_id
         WHERE i.id = $1
        """,
        innovation_id,
    )
    if not rows:
        return None
    return rows[0][0], sorted(r[1] for r in rows if r[1] is not None)


async def stale_innovations(
    conn: asyncpg.Connection, *, window_days: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Innovations with a projection the clock alone may have moved since it was last checked.

    Most of what time moves turns at local midnight in a service's zone (a month boundary, a
    starter's deadline). Two things do not: the window begins at the month boundary nearest
    `window_days` back, which turns when that moment passes the middle of a month (midday, in a
    31-day month); and the 60 silent days are exact hours, so across a change of the clocks their
    month turns an hour off midnight. Each is checked as the evaluation computes it
    (`service.status.evaluation.periods`), in hours as it counts them.
    """
    rows = await conn.fetch(
        """
        WITH k AS (
          SELECT $1::timestamptz AS now, make_interval(hours => $2::int) AS window_length,
                 make_interval(hours => $3::int) AS silence
        )
        SELECT DISTINCT p.organisation_id, p.innovation_id
          FROM status_projection p
          JOIN service s ON s.organisation_id = p.organisation_id AND s.id = ANY(p.service_ids)
         CROSS JOIN k
         -- The month the window's first day falls in now, and when its start turns past it.
         CROSS JOIN LATERAL (
               SELECT date_trunc('month', (k.now - k.window_length) AT TIME ZONE s.timezone) AS m
         ) AS target
         CROSS JOIN LATERAL (
               SELECT target.m AT TIME ZONE s.timezone AS starts,
                      (target.m + interval '1 month') AT TIME ZONE s.timezone AS ends
         ) AS month
         CROSS JOIN LATERAL (
               SELECT month.starts + (month.ends - month.starts) / 2 + k.window_length AS at
         ) AS turn
         WHERE p.checked_at < date_trunc('day', k.now AT TIME ZONE s.timezone) AT TIME ZONE s.timezone
            OR (p.checked_at <= turn.at AND turn.at < k.now)
            OR date_trunc('month', (p.checked_at - k.silence) AT TIME ZONE s.timezone)
               <> date_trunc('month', (k.now - k.silence) AT TIME ZONE s.timezone)
        """,
        await clock.database_now(conn, transaction_start=True),
        window_days * 24,  # in hours, as the evaluation subtracts them: days would follow clock changes
        SILENCE_DAYS * 24,
    )
    return [(r[0], r[1]) for r in rows]


async def read_many(
    conn: asyncpg.Connection, keys: Sequence[tuple[uuid.UUID, str]], *, external: bool
) -> dict[tuple[uuid.UUID, str], ProjectedBody]:
    column = "external_body" if external else "body"
    rows = await conn.fetch(
        f"SELECT p.innovation_id, p.scope_key, p.{column}::text, p.computed_at"  # noqa: S608
        " FROM unnest($1::uuid[], $2::text[]) AS k(innovation_id, scope_key)"
        " JOIN status_projection p ON p.innovation_id = k.innovation_id AND p.scope_key = k.scope_key",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return {(r[0], r[1]): ProjectedBody(json.loads(r[2]), r[3]) for r in rows}
