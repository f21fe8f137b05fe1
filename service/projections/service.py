"""Current statuses kept by job workers and served precomputed.

A write marks the innovations it changed (`service.jobs.queue.enqueue_recompute`, in its own
transaction). A worker recomputes every projection of one innovation from one load, in one
REPEATABLE READ snapshot, holding the innovation's lock so recomputes of one innovation run one
after another whatever the number of workers, and stores each result only over an older one. The
stage and RAG changes it finds go to the event outbox in the same transaction.

Reads of "now" with the default window answer the stored body; a projection not there yet is
computed on read, stored (unless a worker stored one meanwhile) and queued for a worker.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service import clock
from service.database import SERIALIZATION_ATTEMPTS, driver_connection, session_lock, uuid_lock_key
from service.errors import NotFound
from service.jobs.queue import enqueue_delivery, enqueue_recompute
from service.observability.activity import count_served, status_computation
from service.projections import repository
from service.projections.compute import all_services, canonical_scopes, changes, project, scope_key
from service.projections.repository import PROJECTION_LOCK_CLASS, NewEvent, ProjectionRow
from service.scoping import ProviderScope
from service.status.schemas import EmbeddingStatus, StatusHistory
from service.status.subjects import load_subjects
from service.webhooks.repository import subscribers as webhook_subscribers

DEFAULT_WINDOW_DAYS = 90


def serves(as_of: datetime | None, known_at: datetime | None, window_days: int) -> bool:
    """Projections hold "now" with the default window; anything else is computed on read."""
    return as_of is None and known_at is None and window_days == DEFAULT_WINDOW_DAYS


def _serialization_failure(error: BaseException) -> bool:
    if isinstance(error, asyncpg.SerializationError):
        return True
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) == "40001"


async def recompute(
    engine: AsyncEngine,
    organisation_id: uuid.UUID,
    innovation_id: uuid.UUID,
    *,
    covered_after: int | None = None,
) -> None:
    """Recompute every projection of the innovation (see the module's docstring).

    With `covered_after` (a snapshot horizon by which every write the job stands for had ended), a
    recompute is skipped when every stored projection of the innovation was computed in a snapshot
    whose horizon is above it: taken later, it already sees those writes. Under a steady stream of
    writes, jobs queued behind one recompute of a busy innovation are thus answered by it.
    """
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: asyncpg.Connection = raw.driver_connection
        # Taken before the snapshot: recomputes of one innovation see the data in commit order.
        async with session_lock(driver, PROJECTION_LOCK_CLASS, uuid_lock_key(innovation_id)):
            if covered_after is not None and await repository.computed_after(
                driver, innovation_id, covered_after
            ):
                return
            await connection.execution_options(isolation_level="REPEATABLE READ")
            for attempt in range(SERIALIZATION_ATTEMPTS):
                try:
                    async with AsyncSession(bind=connection, expire_on_commit=False) as session:
                        await _recompute_in(session, organisation_id, innovation_id)
                        await session.commit()
                    return
                except Exception as error:  # a read stored a projection after our snapshot began
                    if not _serialization_failure(error) or attempt == SERIALIZATION_ATTEMPTS - 1:
                        raise


async def _recompute_in(session: AsyncSession, organisation_id: uuid.UUID, innovation_id: uuid.UUID) -> None:
    conn = await driver_connection(session)  # begins the transaction: the snapshot is taken here
    data_xid, now = await repository.snapshot_horizon(conn)
    before = {p.scope_key: p for p in await repository.stored(conn, innovation_id)}
    with status_computation("projection") as computation:
        subjects = await load_subjects(
            session, organisation_id, [innovation_id], as_of=now, window_days=DEFAULT_WINDOW_DAYS
        )
        if not subjects:
            await repository.delete(conn, innovation_id, list(before))
            return
        subject = subjects[0]
        current = set(all_services(subject))
        rows: list[ProjectionRow] = []
        events: list[NewEvent] = []
        for service_id, service_ids in canonical_scopes(subject):
            row = project(subject, service_id, service_ids, computed_at=now, data_xid=data_xid)
            rows.append(row)
            # Events are per service and for the provider over all its services.
            previous = before.get(row.scope_key)
            if previous is not None:  # a roll-up over a changed set of services starts afresh
                events += changes(previous, row)
        kept = {r.scope_key for r in rows}
        gone = []
        for key, stored in before.items():
            if key in kept:
                continue
            if stored.service_ids and set(stored.service_ids) <= current:
                kept_set = (stored.service_id, stored.service_ids)
                rows.append(project(subject, *kept_set, computed_at=now, data_xid=data_xid))
            else:
                gone.append(key)  # a set that no longer exists: asked for again, it is computed on read
        computation.statuses = len(rows)
    await repository.upsert(conn, rows)
    await repository.delete(conn, innovation_id, gone)
    await publish(conn, organisation_id, events)


async def publish(conn: asyncpg.Connection, provider_id: uuid.UUID, events: Sequence[NewEvent]) -> None:
    """Write a provider's events to the outbox, with a delivery run queued for each webhook
    endpoint that may want them, committed with them. The transaction's last statement: it holds
    the event lock to the commit (`repository.insert_events`)."""
    if not events:
        return
    await enqueue_delivery(conn, await webhook_subscribers(conn, provider_id))
    await repository.insert_events(conn, events)


async def compute_on_read(
    session: AsyncSession,
    scope: ProviderScope,
    wanted: Mapping[uuid.UUID, Sequence[tuple[uuid.UUID | None, list[uuid.UUID]]]],
) -> list[ProjectionRow]:
    """The projections of `wanted` (innovation → its service sets) computed now from one load,
    stored unless a worker stored them meanwhile, and their innovations queued."""
    conn = await driver_connection(session)
    data_xid, _ = await repository.snapshot_horizon(conn)
    now = await clock.database_now(conn)
    with status_computation("on_read") as computation:
        subjects = await load_subjects(
            session, scope.provider_id, sorted(wanted), as_of=now, window_days=DEFAULT_WINDOW_DAYS
        )
        rows = [
            project(subject, service_id, service_ids, computed_at=now, data_xid=data_xid)
            for subject in subjects
            for service_id, service_ids in wanted[subject.innovation.id]
        ]
        computation.statuses = len(rows)
    await repository.insert_missing(conn, rows)
    await enqueue_recompute(conn, scope.provider_id, list(wanted))
    return rows


async def _compute_one(
    session: AsyncSession,
    scope: ProviderScope,
    innovation_id: uuid.UUID,
    service_id: uuid.UUID | None,
    service_ids: list[uuid.UUID],
) -> ProjectionRow:
    rows = await compute_on_read(session, scope, {innovation_id: [(service_id, service_ids)]})
    if not rows:
        raise NotFound(f"no innovation {innovation_id}")
    return rows[0]


async def projected_status(
    *,
    session: AsyncSession,
    read: AsyncSession | None = None,
    scope: ProviderScope,
    innovation_id: uuid.UUID,
    service_id: uuid.UUID | None,
    service_ids: list[uuid.UUID],
) -> EmbeddingStatus:
    """The stored status of one innovation for these services (already checked as the caller's),
    or, when none is stored yet, the one computed now, stored and queued. The stored one is read
    through `read` (the read replica) when given; computing and storing go through `session`."""
    conn = await driver_connection(read or session)
    key = scope_key(service_id, service_ids)
    found = await repository.read(conn, innovation_id, [key], external=scope.is_external)
    if key in found:
        count_served("projection")
        return EmbeddingStatus.model_validate({**found[key].body, "computed_at": found[key].computed_at})
    row = await _compute_one(session, scope, innovation_id, service_id, service_ids)
    count_served("computed")
    body = row.external_body if scope.is_external else row.body
    return EmbeddingStatus.model_validate({**body, "computed_at": row.computed_at})


async def projected_history(
    *,
    session: AsyncSession,
    read: AsyncSession | None = None,
    scope: ProviderScope,
    innovation_id: uuid.UUID,
    service_id: uuid.UUID | None,
    service_ids: list[uuid.UUID],
) -> StatusHistory:
    """The stored default history of one innovation for these services, as `projected_status`
    answers its status. A row stored without a history is recomputed by the worker queued."""
    conn = await driver_connection(read or session)
    key = scope_key(service_id, service_ids)
    found = await repository.read_history(conn, innovation_id, key, external=scope.is_external)
    if found is not None:
        count_served("projection")
        return StatusHistory.model_validate({**found.body, "computed_at": found.computed_at})
    row = await _compute_one(session, scope, innovation_id, service_id, service_ids)
    count_served("computed")
    history = row.external_history if scope.is_external else row.history
    return StatusHistory.model_validate({**(history or {}), "computed_at": row.computed_at})
