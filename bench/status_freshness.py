"""Freshness: from a committed batch to the projections reflecting it, while clients ingest continuously.

CLIENTS clients post batches of daily notes to `POST /v1/touchpoints/batch` for SECONDS, each as soon
as the last one was answered; a job worker process (`ingrain worker`) keeps the projections. A
batch is committed once it is answered. It is reflected once, for every innovation it references,
the provider roll-up's projection has been checked in a snapshot that began after that answer
(`checked_at`, the recompute's transaction start, is later): an observer polls `status_projection`
every POLL_SECONDS and notes when it first sees that. The lag is that moment minus the answer, so
it is what a reader polling the projection would see, within one poll.

Beside it: the recompute jobs' queue sampled over time (queued and picked), and from pgqueuer's
log the jobs queued (after coalescing) and recomputes completed per second, against the keys the
writes marked per second (each batch marks each innovation it references once).
"""

import asyncio
import json
import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.common import percentile
from bench.status_cast import Cast
from service.database import asyncpg_connect_kwargs
from service.jobs.queue import JOB_SETTINGS, RECOMPUTE

SECONDS = float(os.environ.get("INGRAIN_BENCH_FRESHNESS_SECONDS", "30"))
CLIENTS = int(os.environ.get("INGRAIN_BENCH_FRESHNESS_CLIENTS", "4"))
BATCH = int(os.environ.get("INGRAIN_BENCH_FRESHNESS_BATCH", "100"))
POLL_SECONDS = 0.05
SAMPLE_SECONDS = 0.5
DRAIN_SECONDS = 60.0
P99_GOAL_SECONDS = 5.0

ACTIVITIES = ("Garden walk", "Baking scones", "Music and movement", "Hand massage", "Board games")


@dataclass(frozen=True)
class Scope:
    """Where notes may be written: per service, its staff in post, people and innovations begun."""

    organisation_id: uuid.UUID
    services: list[tuple[uuid.UUID, list[uuid.UUID], list[uuid.UUID], list[uuid.UUID]]]


def note(
    scope: Scope, rng: random.Random, external_id: str, now: datetime
) -> tuple[dict[str, Any], set[str]]:
    service_id, staff, people, innovations = rng.choice(scope.services)
    chosen = rng.sample(innovations, min(len(innovations), rng.randint(1, 2)))
    item = {
        "kind": "daily_note",
        "service_id": str(service_id),
        "occurred_at": (now - timedelta(minutes=rng.randint(5, 3 * 24 * 60))).isoformat(timespec="seconds"),
        "recorded_by_id": str(rng.choice(staff)),
        "person_ref_id": str(rng.choice(people)),
        "innovation_ids": [str(i) for i in chosen],
        "source_system": "bench-fresh",
        "external_id": external_id,
        "facts": {"activity": rng.choice(ACTIVITIES), "engagement_quality": rng.randint(1, 5)},
    }
    return item, {str(i) for i in chosen}


@dataclass
class Freshness:
    seconds: float = 0.0
    batches: int = 0
    rows: int = 0
    errors: int = 0
    lags: list[float] = field(default_factory=list)
    unresolved: int = 0
    marks: int = 0
    queued: int = 0
    recomputes: int = 0
    observed_recomputes: int = 0
    drain_seconds: float = float("nan")
    keys: int = 0
    # (seconds since the start, queued, picked)
    depth: list[tuple[float, int, int]] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return percentile(sorted(self.lags), 0.5)

    @property
    def p99(self) -> float:
        return percentile(sorted(self.lags), 0.99)

    @property
    def max_depth(self) -> int:
        return max((q + p for _, q, p in self.depth), default=0)

    def depth_line(self, points: int = 12) -> str:
        if not self.depth:
            return "no samples"
        step = max(1, len(self.depth) // points)
        return " ".join(f"{t:.0f}s:{q}+{p}" for t, q, p in self.depth[::step])


async def _queue_depth(conn: asyncpg.Connection) -> tuple[int, int]:
    rows = await conn.fetch(
        f"SELECT status::text, count(*) FROM {JOB_SETTINGS.qualified.queue_table}"
        " WHERE entrypoint = $1 GROUP BY status",
        RECOMPUTE,
    )
    counts = {r[0]: int(r[1]) for r in rows}
    return counts.get("queued", 0), counts.get("picked", 0)


async def _logged(conn: asyncpg.Connection, since: datetime, until: datetime) -> dict[str, int]:
    rows = await conn.fetch(
        f"SELECT status::text, count(*) FROM {JOB_SETTINGS.qualified.queue_table_log}"
        " WHERE entrypoint = $1 AND created >= $2 AND created < $3 GROUP BY status",
        RECOMPUTE,
        since,
        until,
    )
    return {r[0]: int(r[1]) for r in rows}


async def _checked(conn: asyncpg.Connection, organisation_id: uuid.UUID) -> dict[str, float]:
    rows = await conn.fetch(
        "SELECT innovation_id::text, max(extract(epoch FROM checked_at))::float8 FROM status_projection"
        " WHERE organisation_id = $1 AND service_id IS NULL GROUP BY innovation_id",
        organisation_id,
    )
    return {r[0]: r[1] for r in rows}


async def measure_freshness(
    base_url: str,
    database_url: str,
    scope: Scope,
    headers: dict[str, str],
    *,
    seconds: float = SECONDS,
    clients: int = CLIENTS,
    batch: int = BATCH,
    progress: Callable[[str], None] = print,
) -> Freshness:
    result = Freshness()
    stop = asyncio.Event()
    # (answered at, innovations still waiting) per batch
    pending: list[tuple[float, set[str]]] = []
    run = uuid.uuid4().hex[:8]
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
    sampler_conn = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
    started_at = datetime.now(UTC)
    started = time.perf_counter()

    async def client(number: int) -> None:
        rng = random.Random(number)
        sent = 0
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120) as http:
            while not stop.is_set():
                now = datetime.now(UTC)
                items, innovations = [], set()
                for _ in range(batch):
                    item, referenced = note(scope, rng, f"fresh-{run}-{number}-{sent}", now)
                    sent += 1
                    items.append(item)
                    innovations |= referenced
                response = await http.post("/v1/touchpoints/batch", content=json.dumps({"items": items}))
                answered = time.time()
                if response.status_code != 200 or any(
                    r["status"] != "created" for r in response.json()["results"]
                ):
                    result.errors += 1
                    continue
                result.batches += 1
                result.rows += batch
                result.marks += len(innovations)
                pending.append((answered, innovations))

    async def observe() -> None:
        last: dict[str, float] = {}
        while True:
            checked = await _checked(conn, scope.organisation_id)
            seen = time.time()
            for key, value in checked.items():
                if key in last and value != last[key]:
                    result.observed_recomputes += 1
            last = checked
            still = []
            for answered, waiting in pending:
                waiting = {i for i in waiting if checked.get(i, 0.0) < answered}
                if waiting:
                    still.append((answered, waiting))
                else:
                    result.lags.append(seen - answered)
            pending[:] = still
            if stop.is_set() and not pending:
                return
            await asyncio.sleep(POLL_SECONDS)

    async def sample() -> None:
        while True:
            queued, picked = await _queue_depth(sampler_conn)
            result.depth.append((time.perf_counter() - started, queued, picked))
            if stop.is_set() and queued + picked == 0:
                return
            await asyncio.sleep(SAMPLE_SECONDS)

    try:
        observer = asyncio.create_task(observe())
        sampler = asyncio.create_task(sample())
        ingest = [asyncio.create_task(client(n)) for n in range(clients)]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*ingest)
        result.seconds = time.perf_counter() - started
        progress(f"freshness: {result.batches} batches posted in {result.seconds:.1f} s; draining …")
        drain_started = time.perf_counter()
        try:
            await asyncio.wait_for(asyncio.gather(observer, sampler), DRAIN_SECONDS)
        except TimeoutError:
            result.unresolved = len(pending)
        result.drain_seconds = time.perf_counter() - drain_started
        result.keys = len({i for s in scope.services for i in s[3]})
        logged = await _logged(conn, started_at, datetime.now(UTC))
        result.queued = logged.get("queued", 0)
        result.recomputes = logged.get("successful", 0)
        return result
    finally:
        await conn.close()
        await sampler_conn.close()


def writable_scope(cast: Cast) -> Scope:
    """The services of the benchmark's provider with staff in post today and innovations begun."""
    today = cast.now.date()
    services = []
    for s, service_id in enumerate(cast.service_ids):
        staff = [
            m.id
            for m in cast.staff
            if s in m.service_indexes and m.started_on <= today and (m.left_on is None or m.left_on >= today)
        ]
        innovations = [i.id for i in cast.innovations if s in i.service_indexes and i.started_on <= today]
        if staff and innovations:
            services.append((service_id, staff, list(cast.people[s]), innovations))
    return Scope(cast.organisation_id, services)
