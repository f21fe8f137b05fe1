"""`make bench-webhooks`: status events pushed to webhook endpoints, against plain POSTs as baseline.

On a throwaway embedded Postgres: a provider with three services, and a commissioner of two of
them. Three endpoints on loopback receivers are registered through the API: the provider's
(healthy), the provider's second, and the commissioner's. WORKERS `ingrain worker` processes
deliver. Events are written as recomputes write them (a transaction of EVENTS_PER_RECOMPUTE events).

1. Steady: EVENTS events at RATE recomputes a second. The second provider endpoint is down for
   OUTAGE_SECONDS, 2 s in (it answers 503): the delivery at the head of its queue is retried on the
   real schedule (the first retry 5 s ± 20 % later) while the rest wait behind it, in order.
2. Burst: EVENTS events written at once, then drained: deliveries a second.

It prints events, deliveries, attempts and retries; the time from a status change (the event's
`occurred_at`) to the receiver having it, p50/p95/p99/max, for deliveries answered at the first
attempt and for those retried; deliveries a second in the burst; and, as baseline in the same run,
the same signed bodies POSTed one after another by one httpx client to a receiver: latency, rate,
and the ratios.

Settings (environment): INGRAIN_BENCH_WEBHOOK_EVENTS (1,000 per phase), INGRAIN_BENCH_WEBHOOK_RATE
(recomputes a second in the steady phase, 10).
"""

import asyncio
import contextlib
import os
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx

from bench.common import bearer, embedded_database, percentile, seed_provider, worker_process
from service.database import asyncpg_connect_kwargs, create_engine, create_session_factory, unit_of_work
from service.main import create_app
from service.organisations.models import CommissioningRelationship, Organisation
from service.projections.repository import NewEvent
from service.projections.service import publish
from service.settings import Settings
from service.webhooks import signing
from tests.webhooks.receiver import Received, Receiver

EVENTS = int(os.environ.get("INGRAIN_BENCH_WEBHOOK_EVENTS", "1000"))
RATE = float(os.environ.get("INGRAIN_BENCH_WEBHOOK_RATE", "10"))
EVENTS_PER_RECOMPUTE = 5
OUTAGE_AFTER = 2.0
OUTAGE_SECONDS = 2.0
WORKERS = 2
DRAIN_SECONDS = 120.0


@dataclass
class World:
    database_url: str
    provider_id: uuid.UUID
    service_ids: list[uuid.UUID]
    innovation_ids: list[uuid.UUID]
    commissioner_id: uuid.UUID


async def prepare(database_url: str) -> World:
    provider = await seed_provider(database_url, services=3, staff=6, people=6, innovations=4)
    engine = create_engine(database_url, pool_size=1)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            commissioner = Organisation(name="Bench County Council", kind="commissioner")
            session.add(commissioner)
            await session.flush()
            session.add(
                CommissioningRelationship(
                    commissioner_id=commissioner.id,
                    provider_id=provider.organisation_id,
                    service_ids=provider.service_ids[:2],
                    starts_on=date(2024, 1, 1),
                )
            )
            commissioner_id = commissioner.id
    finally:
        await engine.dispose()
    return World(
        database_url, provider.organisation_id, provider.service_ids, provider.innovation_ids, commissioner_id
    )


@dataclass
class Outage:
    """The second provider endpoint's receiver answers 503 for OUTAGE_SECONDS, from OUTAGE_AFTER
    seconds into the run: a deploy or a restart on the portal's side."""

    starts: float = 0.0

    def answer(self, request: Received, n: int) -> int:
        since = request.at - self.starts
        return 503 if self.starts and OUTAGE_AFTER <= since < OUTAGE_AFTER + OUTAGE_SECONDS else 200


async def register(world: World, receivers: dict[str, Receiver]) -> dict[str, str]:
    settings = Settings(environment="development", demo_data=False, webhooks_allow_loopback=True)
    app = create_app(settings, database_url=world.database_url)
    ids: dict[str, str] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingrain.bench") as client:
            owners = {
                "provider": bearer(world.provider_id, role="provider_admin", sub="bench-admin"),
                "provider-outage": bearer(world.provider_id, role="provider_admin", sub="bench-admin"),
                "commissioner": bearer(world.commissioner_id, role="commissioner", sub="bench-portal"),
            }
            for name, receiver in receivers.items():
                answer = await client.post(
                    "/v1/webhook-endpoints",
                    json={
                        "url": receiver.url,
                        "event_types": ["status.stage_changed", "indicator.rag_changed"],
                    },
                    headers=owners[name],
                )
                answer.raise_for_status()
                ids[name] = answer.json()["id"]
    return ids


def events_of(world: World, n: int) -> list[NewEvent]:
    """One recompute's changes: a stage change and RAG changes, provider-wide and per service."""
    innovation = world.innovation_ids[n % len(world.innovation_ids)]
    out = [
        NewEvent(
            "status.stage_changed",
            world.provider_id,
            innovation,
            None,
            None,
            {"before": "adopted", "after": "embedding"},
        )
    ]
    for k in range(EVENTS_PER_RECOMPUTE - 1):
        service_id = world.service_ids[(n + k) % len(world.service_ids)]
        out.append(
            NewEvent(
                "indicator.rag_changed",
                world.provider_id,
                innovation,
                service_id,
                "supervision_reinforcement",
                {"before": "amber", "after": "green", "key": "supervision_reinforcement"},
            )
        )
    return out


async def write_events(world: World, rate: float | None) -> float:
    """EVENTS events in recompute-sized transactions, at `rate` a second (None: at once); the
    seconds it took."""
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(world.database_url))
    started = time.perf_counter()
    try:
        for n in range(EVENTS // EVENTS_PER_RECOMPUTE):
            async with conn.transaction():
                await publish(conn, world.provider_id, events_of(world, n))
            if rate is not None:
                await asyncio.sleep(max(0.0, started + (n + 1) / rate - time.perf_counter()))
    finally:
        await conn.close()
    return time.perf_counter() - started


async def delivery_counts(world: World) -> dict[str, int]:
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(world.database_url))
    try:
        row = await conn.fetchrow(
            """
            SELECT (SELECT count(*) FROM status_event) AS events,
                   (SELECT count(*) FROM webhook_delivery) AS deliveries,
                   (SELECT count(*) FROM webhook_delivery WHERE status = 'delivered') AS delivered,
                   (SELECT count(*) FROM webhook_attempt) AS attempts,
                   (SELECT count(*) FROM webhook_delivery WHERE attempts > 1) AS retried,
                   (SELECT count(*) FROM webhook_endpoint
                     WHERE event_cursor < (SELECT coalesce(max(id), 0) FROM status_event)) AS behind
            """
        )
        assert row is not None
        return dict(row)
    finally:
        await conn.close()


async def stuck(world: World) -> Any:
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(world.database_url))
    try:
        endpoints = [
            dict(r) for r in await conn.fetch("SELECT id, enabled, event_cursor FROM webhook_endpoint")
        ]
        jobs = [
            dict(r)
            for r in await conn.fetch(
                "SELECT id, entrypoint, status, execute_after, dedupe_key FROM jobs.pgqueuer"
            )
        ]
        pending = [
            dict(r)
            for r in await conn.fetch(
                "SELECT endpoint_id, count(*), min(next_attempt_at) FROM webhook_delivery"
                " WHERE status = 'pending' GROUP BY 1"
            )
        ]
        top = await conn.fetchval("SELECT max(id) FROM status_event")
        return {
            "endpoints": endpoints,
            "jobs": jobs,
            "pending": pending,
            "top": top,
            "now": datetime.now(UTC),
        }
    finally:
        await conn.close()


def lag_seconds(request: Received) -> float:
    occurred = datetime.fromisoformat(request.json()["occurred_at"])
    return request.wall - occurred.timestamp()


def describe(values: list[float]) -> str:
    ordered = sorted(values)
    if not ordered:
        return "none"
    return (
        f"p50 {percentile(ordered, 0.5) * 1000:.0f} ms, p95 {percentile(ordered, 0.95) * 1000:.0f} ms, "
        f"p99 {percentile(ordered, 0.99) * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms (n={len(ordered)})"
    )


async def baseline(bodies: list[bytes]) -> tuple[list[float], float]:
    """The same signed bodies POSTed one after another by one client: latencies and seconds."""
    secret = signing.new_secret()
    latencies: list[float] = []
    async with Receiver() as receiver, httpx.AsyncClient(trust_env=False) as client:
        started = time.perf_counter()
        for body in bodies:
            text = body.decode()
            headers = signing.headers(
                message=f"msg_{uuid.uuid4().hex}", body=text, at=datetime.now(UTC), secrets_in_force=[secret]
            )
            sent = time.perf_counter()
            answer = await client.post(receiver.url, content=body, headers=headers)
            answer.raise_for_status()
            latencies.append(time.perf_counter() - sent)
        return latencies, time.perf_counter() - started


async def drained(world: World, events: int) -> dict[str, int]:
    """Wait until every endpoint has taken every event and every delivery is answered."""
    deadline = time.perf_counter() + DRAIN_SECONDS
    while True:
        counts = await delivery_counts(world)
        done = counts["events"] == events and not counts["behind"]
        if done and counts["delivered"] == counts["deliveries"]:
            return counts
        if time.perf_counter() > deadline:
            raise TimeoutError(
                f"deliveries still pending after {DRAIN_SECONDS} s: {counts}; {await stuck(world)}"
            )
        await asyncio.sleep(0.1)


@dataclass
class Phase:
    counts: dict[str, int]
    writing: float
    elapsed: float
    lags: dict[str, list[float]]  # per endpoint, of deliveries answered at the first attempt; "retried"


def lags_since(receivers: dict[str, Receiver], start: dict[str, int]) -> dict[str, list[float]]:
    """Per message received from `start` on: the lag of the attempt answered 2xx (its last)."""
    out: dict[str, list[float]] = {name: [] for name in [*receivers, "retried"]}
    for name, receiver in receivers.items():
        by_message: dict[str, list[Received]] = {}
        for request in receiver.received[start[name] :]:
            by_message.setdefault(request.headers["webhook-id"], []).append(request)
        for attempts in by_message.values():
            out[name if len(attempts) == 1 else "retried"].append(lag_seconds(attempts[-1]))
    return out


async def phase(world: World, receivers: dict[str, Receiver], rate: float | None, events: int) -> Phase:
    start = {name: len(r.received) for name, r in receivers.items()}
    before = await delivery_counts(world)
    started = time.perf_counter()
    writing = await write_events(world, rate)
    after = await drained(world, events)
    elapsed = time.perf_counter() - started
    counts = {k: after[k] - before[k] for k in after}
    return Phase(counts, writing, elapsed, lags_since(receivers, start))


async def measure(world: World) -> tuple[dict[str, Receiver], Phase, Phase]:
    outage = Outage()
    receivers = {
        "provider": Receiver(),
        "provider-outage": Receiver(answer=outage.answer),
        "commissioner": Receiver(),
    }
    async with contextlib.AsyncExitStack() as stack:
        for receiver in receivers.values():
            await stack.enter_async_context(receiver)
        await register(world, receivers)
        for _ in range(WORKERS):
            await stack.enter_async_context(worker_process(world.database_url))
        await asyncio.sleep(2.0)  # the workers start, connect and listen
        outage.starts = time.monotonic()
        steady = await phase(world, receivers, RATE, EVENTS)
        outage.starts = 0.0
        burst = await phase(world, receivers, None, 2 * EVENTS)
    return receivers, steady, burst


def report(steady: Phase, burst: Phase, base: tuple[list[float], float]) -> None:
    latencies, base_seconds = base
    base_rate = len(latencies) / base_seconds
    base_p50 = statistics.median(latencies)
    for name, result in (("steady", steady), ("burst", burst)):
        c = result.counts
        print(
            f"{name}: {c['events']} events written in {result.writing:.1f} s; {c['deliveries']} deliveries, "
            f"{c['delivered']} delivered, {c['attempts']} attempts, "
            f"{c['attempts'] - c['deliveries']} retries "
            f"({c['retried']} deliveries retried); drained {result.elapsed:.1f} s after the first write"
        )
        print("  status change -> delivered, at the first attempt:")
        for endpoint, lags in result.lags.items():
            if endpoint != "retried":
                print(f"    {endpoint:<16} {describe(lags)}")
        print(f"  status change -> delivered, after a retry: {describe(result.lags['retried'])}")
    burst_rate = burst.counts["delivered"] / burst.elapsed
    print(f"burst: {burst_rate:.0f} deliveries/s over 3 endpoints with {WORKERS} worker processes")
    print(
        f"baseline: one client POSTs the same signed bodies: p50 {base_p50 * 1000:.2f} ms, {base_rate:.0f}/s"
    )
    first = statistics.median(steady.lags["provider"])
    print(
        f"ratios: burst deliveries/s / plain POSTs/s = {burst_rate / base_rate:.2f}; "
        f"steady lag p50 (healthy provider endpoint) / plain POST p50 = {first / base_p50:.0f}x"
    )


async def main() -> None:
    # The receivers listen on loopback; the worker processes read this from their environment.
    os.environ["INGRAIN_WEBHOOKS_ALLOW_LOOPBACK"] = "true"
    async with embedded_database("webhooks") as url:
        world = await prepare(url)
        receivers, steady, burst = await measure(world)
        bodies = [r.body for r in receivers["provider"].received]
        report(steady, burst, await baseline(bodies))


if __name__ == "__main__":
    asyncio.run(main())
