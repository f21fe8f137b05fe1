"""What a job worker does for one endpoint: take its events from the outbox in order and send them.

One run holds the endpoint's lock (`pg_advisory_lock`), so however many workers run, one endpoint's
deliveries go out one at a time and in event order: the oldest pending delivery first; when none is
pending, the next events after the endpoint's cursor become deliveries (those of its event types
that its organisation may read today, as `GET /v1/events` would show them to it), and the cursor
moves past everything examined.

A delivery is sent until it is answered 2xx. A failed attempt holds the endpoint's queue: the same
delivery is retried on `RETRY_DELAYS` (with jitter), which begins within seconds and spans about
three days, as the Standard Webhooks reference schedule does. When the last retry fails, the
delivery is marked failed and the endpoint disabled; what waited behind it is sent once its owner
re-enables it. Every attempt is logged. A run that crashes between sending and recording sends the
same delivery again: receivers get each event at least once, and the same `webhook-id` each time.
"""

import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service import clock
from service.auth.principal import Principal
from service.database import SERIALIZATION_ATTEMPTS, session_lock, uuid_lock_key
from service.jobs.queue import enqueue_delivery
from service.observability.metrics import webhook_attempt_duration, webhook_deliveries
from service.projections.events import visible
from service.projections.repository import EventRow, events_after
from service.projections.schemas import StatusEvent
from service.scoping import ProviderScope
from service.status.access import readable_scopes
from service.vocabulary import OrganisationKind, Role
from service.webhooks import repository, signing, targets
from service.webhooks.repository import AttemptRecord, EndpointState, PendingDelivery

log = logging.getLogger("ingrain.webhooks")

# The first key of the per-endpoint lock: ASCII "whok".
WEBHOOK_LOCK_CLASS = 0x77686F6B

# After the first attempt: within seconds, then minutes, then hours; about 71.6 hours in all.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=12),
    timedelta(hours=12),
)
EXCERPT_BYTES = 1024
PENDING_PER_ROUND = 50
TARGET_TTL_SECONDS = 30.0

# What an organisation reads statuses as, when its endpoint receives them.
READER_ROLE = {
    OrganisationKind.provider: Role.provider_admin,
    OrganisationKind.commissioner: Role.commissioner,
    OrganisationKind.regulator: Role.inspector,
}


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    allow_loopback: bool = False
    retry_delays: tuple[timedelta, ...] = RETRY_DELAYS
    jitter: float = 0.2  # each delay is drawn from ±20 % of its value
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 10.0
    events_per_fill: int = 100
    sends_per_run: int = 200  # then the run queues its successor and ends, so other jobs get a turn
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, failed_attempts: int) -> timedelta | None:
        """The wait after the `failed_attempts`-th failure, or None when there are no retries left."""
        if failed_attempts > len(self.retry_delays):
            return None
        base = self.retry_delays[failed_attempts - 1]
        return base * self.rng.uniform(1 - self.jitter, 1 + self.jitter)


@dataclass(slots=True)
class RunOutcome:
    sent: int = 0
    delivered: int = 0
    retry_at: datetime | None = None
    disabled: bool = False


def reader(endpoint: EndpointState) -> Principal:
    role = READER_ROLE.get(OrganisationKind(endpoint.organisation_kind))
    return Principal(
        sub=f"webhook-endpoint:{endpoint.id}",
        organisation_id=endpoint.organisation_id,
        roles=frozenset({role} if role else ()),
    )


def payload(event: EventRow) -> str:
    """The body of a delivery: the event as `GET /v1/events` shows it (stages and RAGs, no counts)."""
    return StatusEvent.of(event).model_dump_json()


async def send(
    http: httpx.AsyncClient,
    endpoint: EndpointState,
    target: targets.Target | targets.TargetRefused,
    delivery: PendingDelivery,
) -> AttemptRecord:
    """One POST, to an address that passed the check (`target`); never raises."""
    attempted_at = clock.now()
    started = time.perf_counter()

    def record(status: int | None, error: str | None, excerpt: str | None = None) -> AttemptRecord:
        seconds = time.perf_counter() - started
        attempt = AttemptRecord(attempted_at, status, round(seconds * 1000), error, excerpt)
        webhook_attempt_duration.labels("succeeded" if attempt.succeeded else "failed").observe(seconds)
        return attempt

    if isinstance(target, targets.TargetRefused):
        return record(None, f"refused: {target.message} ({target.rule})")
    body = payload(delivery.event)
    headers = signing.headers(
        message=signing.message_id(delivery.id),
        body=body,
        at=attempted_at,
        secrets_in_force=endpoint.secrets,
    )
    headers["host"] = target.url.netloc.decode("ascii")
    request = http.build_request(
        "POST",
        target.pinned(target.addresses[0]),
        content=body.encode(),
        headers=headers,
        extensions={"sni_hostname": target.host},
    )
    try:
        response = await http.send(request, stream=True)
        try:
            excerpt = await _excerpt(response)
        finally:
            await response.aclose()
    except httpx.TimeoutException as error:
        return record(None, f"timed out ({type(error).__name__})")
    except (httpx.HTTPError, OSError) as error:
        return record(None, f"no answer: {type(error).__name__}: {error}"[:500])
    if response.is_redirect:
        return record(response.status_code, "a redirect: not followed", excerpt)
    return record(response.status_code, None if response.is_success else "not a 2xx answer", excerpt)


async def _excerpt(response: httpx.Response) -> str | None:
    taken = b""
    async for chunk in response.aiter_raw():
        taken += chunk
        if len(taken) >= EXCERPT_BYTES:
            break
    return taken[:EXCERPT_BYTES].decode("utf-8", errors="replace") or None


async def _fill(
    conn: asyncpg.Connection, endpoint: EndpointState, scopes: dict[uuid.UUID, ProviderScope], batch: int
) -> bool:
    """Turn the next events after the cursor into deliveries; False when the cursor is at the top.

    One REPEATABLE READ snapshot: the events read and the top the cursor may move to are of the same
    moment, and event ids are given out in commit order, so nothing below the new cursor can still
    appear.
    """
    async with conn.transaction(isolation="repeatable_read"):
        events = await events_after(
            conn, after=endpoint.event_cursor, limit=batch, organisation_ids=list(scopes)
        )
        if len(events) == batch:
            cursor = events[-1].id
        else:
            # The events read are the feed's in this snapshot: its top is past all of them.
            cursor = await repository.feed_top(conn)
        if cursor <= endpoint.event_cursor:
            return False
        wanted = [
            e for e in events if e.type in endpoint.event_types and visible(scopes[e.organisation_id], e)
        ]
        await repository.add_deliveries(conn, endpoint, wanted, cursor)
        return True


async def _readable(engine: AsyncEngine, endpoint: EndpointState) -> dict[uuid.UUID, ProviderScope]:
    async with AsyncSession(bind=engine) as session:
        scopes = await readable_scopes(session, reader(endpoint), as_of=clock.now())
    return {s.provider_id: s for s in scopes}


async def deliver_endpoint(
    engine: AsyncEngine, endpoint_id: uuid.UUID, options: DeliveryOptions
) -> RunOutcome:
    """Send what the endpoint has waiting, in order, until it is all sent, a send fails (the retry
    is queued for its time) or the run's share is used up (the rest is queued at once)."""
    outcome = RunOutcome()
    async with engine.connect() as connection:
        conn: asyncpg.Connection = (await connection.get_raw_connection()).driver_connection
        async with session_lock(conn, WEBHOOK_LOCK_CLASS, uuid_lock_key(endpoint_id)):
            timeout = httpx.Timeout(options.read_timeout_seconds, connect=options.connect_timeout_seconds)
            async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as http:
                await _run(engine, conn, http, endpoint_id, options, outcome)
    return outcome


@dataclass(slots=True)
class _Vetted:
    """The endpoint's URL checked once a run (and again after TARGET_TTL_SECONDS or a change of
    URL): a delivery connects to an address that passed, so a name's later answers cannot redirect
    it; checking again only follows a legitimate move."""

    url: str = ""
    at: float = 0.0
    target: targets.Target | targets.TargetRefused | None = None

    async def of(
        self, endpoint: EndpointState, options: DeliveryOptions
    ) -> targets.Target | targets.TargetRefused:
        now = time.monotonic()
        if self.target is None or self.url != endpoint.url or now - self.at > TARGET_TTL_SECONDS:
            try:
                self.target = await targets.vet(endpoint.url, allow_loopback=options.allow_loopback)
            except targets.TargetRefused as refused:
                self.target = refused
            self.url, self.at = endpoint.url, now
        return self.target


async def _run(
    engine: AsyncEngine,
    conn: asyncpg.Connection,
    http: httpx.AsyncClient,
    endpoint_id: uuid.UUID,
    options: DeliveryOptions,
    outcome: RunOutcome,
) -> None:
    scopes: dict[uuid.UUID, ProviderScope] | None = None
    vetted = _Vetted()
    delivered: list[tuple[PendingDelivery, AttemptRecord]] = []
    try:
        while True:
            # Read each round: a change of URL, a rotation, a pause or a deletion applies from here.
            endpoint = await repository.endpoint_state(conn, endpoint_id)
            if endpoint is None or not endpoint.enabled:
                return
            pending = await repository.pending_deliveries(conn, endpoint_id, PENDING_PER_ROUND)
            if not pending:
                if scopes is None:
                    scopes = await _readable(engine, endpoint)
                if not await _fill_retrying(conn, endpoint, scopes, options.events_per_fill):
                    return
                continue
            now = clock.now()
            for head in pending:
                if head.next_attempt_at > now:
                    outcome.retry_at = head.next_attempt_at
                    await _schedule(conn, endpoint, head.next_attempt_at - now)
                    return
                if outcome.sent >= options.sends_per_run:
                    await _schedule(conn, endpoint, timedelta(0))
                    return
                attempt = await send(http, endpoint, await vetted.of(endpoint, options), head)
                outcome.sent += 1
                if attempt.succeeded:
                    delivered.append((head, attempt))
                    outcome.delivered += 1
                    webhook_deliveries.labels("delivered").inc()
                    continue
                await _failed(conn, endpoint, head, attempt, options, outcome)
                return
            # A round's successes are recorded together: a run that stops before this sends them
            # again, with the same `webhook-id` (at least once, as promised).
            await repository.record_delivered(conn, delivered)
            delivered.clear()
    finally:
        await repository.record_delivered(conn, delivered)


async def _schedule(conn: asyncpg.Connection, endpoint: EndpointState, after: timedelta) -> None:
    await enqueue_delivery(conn, [(endpoint.organisation_id, endpoint.id)], after=after)


async def _failed(
    conn: asyncpg.Connection,
    endpoint: EndpointState,
    head: PendingDelivery,
    attempt: AttemptRecord,
    options: DeliveryOptions,
    outcome: RunOutcome,
) -> None:
    """The head stays at the head: retried after its delay, or, with none left, failed and the
    endpoint disabled."""
    delay = options.delay(head.attempts + 1)
    async with conn.transaction():
        if delay is None:
            await repository.record_attempt(conn, head, attempt, next_attempt_at=None)
            hours = sum(options.retry_delays, timedelta()).total_seconds() / 3600
            await repository.disable(
                conn,
                endpoint.id,
                f"event {head.event.id} failed {head.attempts + 1} attempts over {hours:.0f} hours; "
                f"the last: {attempt.error}",
            )
            outcome.disabled = True
            webhook_deliveries.labels("failed").inc()
            log.warning("webhook endpoint %s disabled after its retries ran out", endpoint.id)
            return
        retry_at = attempt.attempted_at + delay
        await repository.record_attempt(conn, head, attempt, next_attempt_at=retry_at)
        await _schedule(conn, endpoint, delay)
        outcome.retry_at = retry_at
        webhook_deliveries.labels("retrying").inc()


async def _fill_retrying(
    conn: asyncpg.Connection, endpoint: EndpointState, scopes: dict[uuid.UUID, ProviderScope], batch: int
) -> bool:
    for attempt in range(SERIALIZATION_ATTEMPTS):
        try:
            return await _fill(conn, endpoint, scopes, batch)
        except asyncpg.SerializationError:  # the endpoint was changed meanwhile: read it again
            if attempt == SERIALIZATION_ATTEMPTS - 1:
                raise
            refreshed = await repository.endpoint_state(conn, endpoint.id)
            if refreshed is None or not refreshed.enabled:
                return False
            endpoint = refreshed
    return False


async def sweep(engine: AsyncEngine) -> int:
    """Queue a run for every enabled endpoint with something due: the periodic catch-all."""
    async with engine.begin() as connection:
        conn: asyncpg.Connection = (await connection.get_raw_connection()).driver_connection
        due = await repository.endpoints_due(conn)
        await enqueue_delivery(conn, due)
    return len(due)


# What an admin reads back of past deliveries: a month, then the answered and the given-up go.
RETENTION_DAYS = 30
PRUNE_BATCH = 5_000


async def prune(engine: AsyncEngine) -> int:
    """Delete deliveries (and their attempts) answered or given up more than RETENTION_DAYS ago,
    in batches so no transaction holds many rows; pending ones stay whatever their age."""
    total = 0
    while True:
        async with engine.begin() as connection:
            conn: asyncpg.Connection = (await connection.get_raw_connection()).driver_connection
            deleted = await repository.prune(conn, older_than_days=RETENTION_DAYS, batch=PRUNE_BATCH)
        total += deleted
        if deleted < PRUNE_BATCH:
            return total
