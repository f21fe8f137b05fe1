"""The job queue: pgqueuer's tables in their own schema, and enqueueing inside the caller's transaction.

pgqueuer keeps jobs in Postgres and takes them with `FOR UPDATE SKIP LOCKED`, so any number of worker
processes share one queue. A job is enqueued with a plain INSERT on the caller's own asyncpg
connection: a writer that marks what it changed does so in its own transaction, and a rollback
takes the mark with it.

Coalescing is pgqueuer's `dedupe_key`: a unique index over the keys of jobs that are `queued` or
`picked`. Enqueued with `on_conflict="skip"`, a second job for a key already waiting (or running) is
simply not inserted (no error, so the writer's transaction goes on). The job being run therefore
has to cover every writer it absorbed: see `service.projections.worker`.
"""

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import asyncpg
from pgqueuer import AsyncpgDriver, Queries
from pgqueuer.adapters.persistence import schema_ddl
from pgqueuer.adapters.persistence.qb import (
    QueryBuilderEnvironment,
    QueryQueueBuilder,
    QuerySchedulerBuilder,
)
from pgqueuer.domain.schema.queue import dedupe_predicate
from pgqueuer.domain.settings import DBSettings
from pgqueuer.ports.driver import Driver

# Apart from the application's tables: the schema comparison of the migrations test (and of anyone
# reading `\dt`) sees only Ingrain's own tables in `public`.
JOB_SCHEMA = "jobs"
JOB_SETTINGS = DBSettings(db_schema=JOB_SCHEMA)

RECOMPUTE = "projections.recompute"
REQUEUE_STALE = "projections.requeue_stale"
DELIVER = "webhooks.deliver"
SWEEP_WEBHOOKS = "webhooks.sweep"
PRUNE_WEBHOOKS = "webhooks.prune"
ENSURE_PARTITIONS = "touchpoints.partitions"


def queries(driver: Driver) -> Queries:
    """pgqueuer's statements, every one naming the tables in `jobs`."""
    return Queries(
        driver,
        qbe=QueryBuilderEnvironment(JOB_SETTINGS),
        qbq=QueryQueueBuilder(JOB_SETTINGS),
        qbs=QuerySchedulerBuilder(JOB_SETTINGS),
    )


def install_sql() -> str:
    return QueryBuilderEnvironment(JOB_SETTINGS).build_install_query(create_schema=True)


def uninstall_sql() -> str:
    return QueryBuilderEnvironment(JOB_SETTINGS).build_uninstall_query()


def recompute_key(innovation_id: uuid.UUID) -> str:
    return f"projection:{innovation_id}"


def delivery_key(endpoint_id: uuid.UUID) -> str:
    return f"webhook:{endpoint_id}"


def _payload(organisation_id: uuid.UUID, name: str, value: uuid.UUID) -> bytes:
    return json.dumps({"organisation_id": str(organisation_id), name: str(value)}).encode()


def _read(payload: bytes | None, name: str) -> tuple[uuid.UUID, uuid.UUID]:
    body: dict[str, Any] = json.loads(payload or b"{}")
    return uuid.UUID(body["organisation_id"]), uuid.UUID(body[name])


def read_payload(payload: bytes | None) -> tuple[uuid.UUID, uuid.UUID]:
    """A recompute's (organisation, innovation)."""
    return _read(payload, "innovation_id")


def read_delivery_payload(payload: bytes | None) -> tuple[uuid.UUID, uuid.UUID]:
    """A delivery run's (organisation, endpoint)."""
    return _read(payload, "endpoint_id")


async def _enqueue_unless_waiting(
    conn: asyncpg.Connection, entrypoint: str, jobs: Sequence[tuple[bytes, str]], after: timedelta | None
) -> None:
    """One job per dedupe key, skipped where one is already queued or picked (pgqueuer's dedupe)."""
    await queries(AsyncpgDriver(conn)).enqueue(
        [entrypoint] * len(jobs),
        [payload for payload, _ in jobs],
        [0] * len(jobs),
        [after] * len(jobs),
        [key for _, key in jobs],
        [None] * len(jobs),
        on_conflict="skip",
    )


async def enqueue_delivery(
    conn: asyncpg.Connection,
    endpoints: Sequence[tuple[uuid.UUID, uuid.UUID]],
    *,
    after: timedelta = timedelta(0),
    expedite: bool = False,
) -> None:
    """A delivery run for each endpoint (organisation, endpoint) `after` from now, in the caller's
    transaction: one waiting per endpoint. With `expedite` (a redelivery, an endpoint resumed: the
    head of its queue moved), one already waiting for later (a retry's) is brought forward; new
    events need not, since an endpoint sends in order and its retry's head is not due before then."""
    keys = sorted(set(endpoints), key=lambda e: e[1])
    if not keys:
        return
    if expedite:
        table = JOB_SETTINGS.qualified.queue_table
        await conn.execute(
            f"UPDATE {table} SET execute_after = least(execute_after, now() + $2::interval)"  # noqa: S608
            " WHERE dedupe_key = ANY($1::text[]) AND status = 'queued'",
            [delivery_key(e) for _, e in keys],
            after,
        )
    jobs = [(_payload(o, "endpoint_id", e), delivery_key(e)) for o, e in keys]
    await _enqueue_unless_waiting(conn, DELIVER, jobs, after)


async def enqueue_recompute(
    conn: asyncpg.Connection, organisation_id: uuid.UUID, innovation_ids: Iterable[uuid.UUID]
) -> None:
    """One recompute per innovation, unless one is already waiting: in the caller's transaction.

    Keys go in sorted order so that two writers marking the same innovations wait for each other's
    uncommitted key in one order (a unique index makes the second writer wait for the first).
    """
    ids = sorted(set(innovation_ids))
    if ids:
        jobs = [(_payload(organisation_id, "innovation_id", i), recompute_key(i)) for i in ids]
        await _enqueue_unless_waiting(conn, RECOMPUTE, jobs, None)


def enqueue_links_cte(organisation_arg: str, innovations_sql: str) -> str:
    """CTEs that enqueue one recompute per innovation of `innovations_sql` (one `innovation_id`
    column), with the same table, log row and dedupe semantics as `enqueue_recompute`: for writers
    whose whole transaction is one statement."""
    table = JOB_SETTINGS.qualified.queue_table
    log = JOB_SETTINGS.qualified.queue_table_log
    status = JOB_SETTINGS.qualified.queue_status_type
    predicate = schema_ddl.spelled(dedupe_predicate(JOB_SETTINGS), JOB_SETTINGS)
    return f"""
marked AS (
  INSERT INTO {table} AS job (priority, entrypoint, payload, execute_after, dedupe_key, status)
  SELECT 0, '{RECOMPUTE}',
         convert_to(json_build_object('organisation_id', {organisation_arg}::uuid,
                                      'innovation_id', m.innovation_id)::text, 'UTF8'),
         now(), 'projection:' || m.innovation_id, 'queued'::{status}
    FROM (SELECT DISTINCT innovation_id FROM ({innovations_sql}) AS x ORDER BY innovation_id) AS m
  ON CONFLICT (dedupe_key) WHERE {predicate} DO NOTHING
  RETURNING id
), marked_log AS (
  INSERT INTO {log} (job_id, status, entrypoint, priority)
  SELECT id, 'queued'::{status}, '{RECOMPUTE}', 0 FROM marked
)"""  # noqa: S608 (constant names and statements only; values are bound parameters)
