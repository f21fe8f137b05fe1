"""Webhook queries: the API's on the request's session, the delivery worker's on its asyncpg connection.

Every statement of the API names the tenant. The worker's name the endpoint, whose organisation it
read first.
"""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.projections.repository import EventRow
from service.reference.listing import ordered_after
from service.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from service.webhooks.vocabulary import DeliveryStatus

_e = WebhookEndpoint.__table__.c  # type: ignore[attr-defined]
_d = WebhookDelivery.__table__.c  # type: ignore[attr-defined]
_a = WebhookAttempt.__table__.c  # type: ignore[attr-defined]

ATTEMPTS_SHOWN = 50


# The API's statements


async def count_endpoints(session: AsyncSession, *, organisation_id: uuid.UUID) -> int:
    statement = select(func.count()).select_from(WebhookEndpoint).where(_e.organisation_id == organisation_id)
    return int((await session.execute(statement)).scalar_one())


async def get_endpoint(
    session: AsyncSession, *, organisation_id: uuid.UUID, endpoint_id: uuid.UUID, for_update: bool = False
) -> WebhookEndpoint | None:
    statement = select(WebhookEndpoint).where(_e.organisation_id == organisation_id, _e.id == endpoint_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def list_endpoints(
    session: AsyncSession,
    *,
    organisation_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> list[WebhookEndpoint]:
    """A page of the organisation's endpoints, oldest first, and one more if there is a next page."""
    statement = ordered_after(
        select(WebhookEndpoint).where(_e.organisation_id == organisation_id), _e.created_at, _e.id, cursor
    )
    return list((await session.execute(statement.limit(limit + 1))).scalars())


async def delete_endpoint(
    session: AsyncSession, *, organisation_id: uuid.UUID, endpoint_id: uuid.UUID
) -> None:
    await session.execute(
        delete(WebhookEndpoint).where(_e.organisation_id == organisation_id, _e.id == endpoint_id)
    )


async def feed_top(conn: asyncpg.Connection) -> int:
    """The highest event id written so far (0 for none): a new endpoint starts after it."""
    return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM status_event"))


async def list_deliveries(
    session: AsyncSession,
    *,
    organisation_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    status: DeliveryStatus | None,
    before_event: int | None,
    limit: int,
) -> list[WebhookDelivery]:
    """Newest event first: what an admin looking into a failing endpoint wants to see."""
    statement = select(WebhookDelivery).where(
        _d.organisation_id == organisation_id, _d.endpoint_id == endpoint_id
    )
    if status is not None:
        statement = statement.where(_d.status == status.value)
    if before_event is not None:
        statement = statement.where(_d.event_id < before_event)
    statement = statement.order_by(_d.event_id.desc()).limit(limit + 1)
    return list((await session.execute(statement)).scalars())


async def get_delivery(
    session: AsyncSession, *, organisation_id: uuid.UUID, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery | None:
    statement = (
        select(WebhookDelivery)
        .where(_d.organisation_id == organisation_id, _d.endpoint_id == endpoint_id, _d.id == delivery_id)
        .with_for_update()
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def attempts_of(
    session: AsyncSession, *, organisation_id: uuid.UUID, delivery_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookAttempt]]:
    """The newest attempts of each delivery (at most ATTEMPTS_SHOWN each), newest first."""
    if not delivery_ids:
        return {}
    ranked = (
        select(
            WebhookAttempt,
            func.row_number()
            .over(partition_by=_a.delivery_id, order_by=(_a.attempted_at.desc(), _a.id.desc()))
            .label("rank"),
        )
        .where(_a.organisation_id == organisation_id, _a.delivery_id.in_(list(delivery_ids)))
        .subquery()
    )
    statement = (
        select(WebhookAttempt)
        .join(ranked, ranked.c.id == _a.id)
        .where(ranked.c.rank <= ATTEMPTS_SHOWN)
        .order_by(_a.attempted_at.desc(), _a.id.desc())
    )
    out: dict[uuid.UUID, list[WebhookAttempt]] = {}
    for attempt in (await session.execute(statement)).scalars():
        out.setdefault(attempt.delivery_id, []).append(attempt)
    return out


async def requeue_endpoint_deliveries(conn: asyncpg.Connection, endpoint_id: uuid.UUID) -> None:
    """A re-enabled endpoint: what waited is tried now, with a fresh retry schedule."""
    await conn.execute(
        "UPDATE webhook_delivery SET attempts = 0, next_attempt_at = now()"
        " WHERE endpoint_id = $1 AND status = 'pending'",
        endpoint_id,
    )


# The delivery worker's statements


@dataclass(frozen=True, slots=True)
class EndpointState:
    organisation_id: uuid.UUID
    organisation_kind: str
    id: uuid.UUID
    url: str
    event_types: frozenset[str]
    enabled: bool
    secrets: tuple[str, ...]  # in force now: the current one, and the previous during an overlap
    event_cursor: int


async def endpoint_state(conn: asyncpg.Connection, endpoint_id: uuid.UUID) -> EndpointState | None:
    row = await conn.fetchrow(
        """
        SELECT e.organisation_id, o.kind, e.id, e.url, e.event_types, e.enabled, e.event_cursor,
               e.secret,
               CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END AS previous
          FROM webhook_endpoint e JOIN organisation o ON o.id = e.organisation_id
         WHERE e.id = $1
        """,
        endpoint_id,
    )
    if row is None:
        return None
    secrets = (row["secret"],) if row["previous"] is None else (row["secret"], row["previous"])
    return EndpointState(
        row[0], row[1], row[2], row[3], frozenset(row[4]), row[5], secrets, int(row["event_cursor"])
    )


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    organisation_id: uuid.UUID
    id: uuid.UUID
    event: EventRow
    attempts: int
    next_attempt_at: datetime


async def pending_deliveries(
    conn: asyncpg.Connection, endpoint_id: uuid.UUID, limit: int
) -> list[PendingDelivery]:
    """The endpoint's oldest pending deliveries, in event order: they go out in that order, one at
    a time, and a failure holds the rest behind it."""
    rows = await conn.fetch(
        """
        SELECT d.organisation_id, d.id, d.attempts, d.next_attempt_at,
               e.id, e.type, e.occurred_at, e.organisation_id, e.innovation_id, e.service_id, e.data::text
          FROM webhook_delivery d JOIN status_event e ON e.id = d.event_id
         WHERE d.endpoint_id = $1 AND d.status = 'pending'
         ORDER BY d.event_id
         LIMIT $2
        """,
        endpoint_id,
        limit,
    )
    return [
        PendingDelivery(
            row[0],
            row[1],
            EventRow(row[4], row[5], row[6], row[7], row[8], row[9], json.loads(row[10])),
            int(row[2]),
            row[3],
        )
        for row in rows
    ]


async def add_deliveries(
    conn: asyncpg.Connection, endpoint: EndpointState, events: Sequence[EventRow], cursor: int
) -> None:
    """Queue a delivery of each event and move the endpoint's cursor past what was examined."""
    if events:
        await conn.executemany(
            """
            INSERT INTO webhook_delivery (organisation_id, id, endpoint_id, event_id, event_type)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (endpoint_id, event_id) DO NOTHING
            """,
            [(endpoint.organisation_id, uuid.uuid4(), endpoint.id, e.id, e.type) for e in events],
        )
    await conn.execute(
        "UPDATE webhook_endpoint SET event_cursor = greatest(event_cursor, $2) WHERE id = $1",
        endpoint.id,
        cursor,
    )


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    response_excerpt: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# One statement, so one round trip and its own transaction: the attempt is logged and the delivery
# moved on together, or neither (nor anything, when the endpoint was deleted meanwhile).
RECORD_ATTEMPT_SQL = """
WITH moved AS (
  UPDATE webhook_delivery
     SET attempts = attempts + 1, status = $3,
         next_attempt_at = coalesce($4, next_attempt_at),
         delivered_at = CASE WHEN $3 = 'delivered' THEN $5 ELSE delivered_at END
   WHERE organisation_id = $1 AND id = $2 AND status = 'pending'
  RETURNING organisation_id, id
)
INSERT INTO webhook_attempt
       (organisation_id, delivery_id, attempted_at, status_code, latency_ms, error, response_excerpt)
SELECT organisation_id, id, $5::timestamptz, $6::int, $7::int, $8::text, $9::text FROM moved
"""


def _attempt_values(
    delivery: PendingDelivery, attempt: AttemptRecord, next_attempt_at: datetime | None
) -> tuple[object, ...]:
    if attempt.succeeded:
        status: str = DeliveryStatus.delivered
    elif next_attempt_at is None:
        status = DeliveryStatus.failed
    else:
        status = DeliveryStatus.pending
    return (
        delivery.organisation_id,
        delivery.id,
        status,
        next_attempt_at,
        attempt.attempted_at,
        attempt.status_code,
        attempt.latency_ms,
        attempt.error,
        attempt.response_excerpt,
    )


async def record_attempt(
    conn: asyncpg.Connection,
    delivery: PendingDelivery,
    attempt: AttemptRecord,
    *,
    next_attempt_at: datetime | None,
) -> None:
    """The attempt logged, and the delivery delivered, scheduled again, or (None) failed."""
    await conn.execute(RECORD_ATTEMPT_SQL, *_attempt_values(delivery, attempt, next_attempt_at))


async def record_delivered(
    conn: asyncpg.Connection, delivered: Sequence[tuple[PendingDelivery, AttemptRecord]]
) -> None:
    """Successful attempts, logged and their deliveries marked delivered, in one transaction."""
    if delivered:
        async with conn.transaction():
            await conn.executemany(RECORD_ATTEMPT_SQL, [_attempt_values(d, a, None) for d, a in delivered])


async def disable(conn: asyncpg.Connection, endpoint_id: uuid.UUID, reason: str) -> None:
    await conn.execute(
        "UPDATE webhook_endpoint SET enabled = false, disabled_at = now(), disabled_reason = $2,"
        " updated_at = now() WHERE id = $1 AND enabled",
        endpoint_id,
        reason,
    )


async def endpoints_due(conn: asyncpg.Connection) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Enabled endpoints with a delivery due or events after their cursor: the periodic sweep's
    catch-all behind the jobs queued as events are written."""
    rows = await conn.fetch(
        """
        SELECT e.organisation_id, e.id FROM webhook_endpoint e
         WHERE e.enabled
           AND (e.event_cursor < (SELECT coalesce(max(id), 0) FROM status_event)
                OR EXISTS (SELECT 1 FROM webhook_delivery d
                            WHERE d.endpoint_id = e.id AND d.status = 'pending'
                              AND d.next_attempt_at <= now()))
         ORDER BY e.id
        """
    )
    return [(r[0], r[1]) for r in rows]


async def subscribers(conn: asyncpg.Connection, provider_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Enabled endpoints of the organisations that may read some of the provider's statuses: its
    own, its commissioners' and the regulators it has granted access (what each may see of an
    event is decided when it is delivered)."""
    rows = await conn.fetch(
        """
        SELECT e.organisation_id, e.id FROM webhook_endpoint e
         WHERE e.enabled
           AND (e.organisation_id = $1
                OR e.organisation_id IN (SELECT commissioner_id FROM commissioning_relationship
                                          WHERE provider_id = $1)
                OR e.organisation_id IN (SELECT regulator_id FROM access_grant
                                          WHERE organisation_id = $1 AND revoked_at IS NULL))
         ORDER BY e.id
        """,
        provider_id,
    )
    return [(r[0], r[1]) for r in rows]


async def prune(conn: asyncpg.Connection, *, older_than_days: int, batch: int) -> int:
    """Delete up to `batch` deliveries that are no longer pending and were created more than
    `older_than_days` ago (their attempts go with them); how many went."""
    deleted = await conn.fetchval(
        """
        WITH old AS (
          SELECT organisation_id, id FROM webhook_delivery
           WHERE status <> 'pending' AND created_at < now() - make_interval(days => $1)
           LIMIT $2
        ), gone AS (
          DELETE FROM webhook_delivery d USING old
           WHERE d.organisation_id = old.organisation_id AND d.id = old.id
          RETURNING 1
        )
        SELECT count(*) FROM gone
        """,
        older_than_days,
        batch,
    )
    return int(deleted)
