"""`make bench-ingest`: HTTP batch ingest of daily notes against raw COPY of the same rows.

On a throwaway embedded Postgres it seeds a provider, then:
1. copies the notes straight into `touchpoint` and `touchpoint_innovation` with asyncpg's binary COPY
   (rows prepared beforehand, the same rows the service would write), from as many connections as
   there are HTTP clients, and empties the tables again;
2. starts `ingrain serve` (uvicorn) on a loopback port and posts the same notes as batches of 1,000
   from concurrent clients;
3. posts every batch again (all duplicates: no row may be added) and compares its rate;
4. posts single notes at concurrency 1 and 32, to a bare Starlette + asyncpg app that stores each with
   one INSERT (bench/bare_ingest.py) and to `POST /v1/touchpoints`, and prints the service's figures
   as ratios of the bare app's.
"""

import asyncio
import json
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.common import (
    Provider,
    bearer,
    embedded_database,
    percentile,
    running_bare_app,
    running_server,
    seed_provider,
)
from bench.load import post_all
from service.database import asyncpg_connect_kwargs
from service.model_helpers import utcnow
from service.runtime import tune_garbage_collector
from service.services.models import DEFAULT_SHIFT_PATTERN
from service.touchpoints.repository.writes import IDENTITY_COLUMNS, ROW_COLUMNS, identity_records, row_values
from service.touchpoints.shifts import shift_pattern
from service.touchpoints.validation import content_hash
from service.touchpoints.validation.shape import validate_item

BATCH_SIZE = 1000
BATCHES = int(os.environ.get("INGRAIN_BENCH_BATCHES", "60"))
CLIENTS = 4
SINGLE_REQUESTS = int(os.environ.get("INGRAIN_BENCH_SINGLE_REQUESTS", "3200"))
SINGLE_CONCURRENCY = 32
SOURCE_SYSTEM = "bench-care"
GOAL_RATIO = 0.5
# A single post at concurrency 32 against the bare app: at least this share of its throughput,
# at most this multiple of its p99.
SINGLE_THROUGHPUT_GOAL = 0.25
SINGLE_P99_GOAL = 5.0

ACTIVITIES = [
    "Garden walk",
    "Baking scones",
    "Music and movement",
    "Reminiscence with photographs",
    "Trip to the shops",
    "Board games in the lounge",
    "Hand massage",
    "Helping to lay the table",
]
PHRASES = [
    "Offered a choice of activity before lunch and chose to join in.",
    "Engaged well for most of the session, smiling and talking about the old days.",
    "Needed encouragement at the start; settled once the music began.",
    "Staff sat alongside and followed the plan agreed at the last review.",
    "Declined at first, then asked to join after seeing others enjoying it.",
    "Spoke about family visits and looked forward to the weekend.",
    "No signs of distress; appetite good at tea time.",
    "Reflected afterwards that being asked first made a difference.",
    "Family were updated by phone and were pleased with the progress.",
    "Used the communication card to choose what came next.",
]


def daily_note(provider: Provider, number: int, rng: random.Random, now: datetime) -> dict[str, Any]:
    """A realistic daily note of about 1 KB: free text, facts, two to four innovations."""
    text = " ".join(rng.choice(PHRASES) for _ in range(11))[:760]
    occurred = now - timedelta(minutes=rng.randint(10, 90 * 24 * 60))
    return {
        "kind": "daily_note",
        "service_id": str(rng.choice(provider.service_ids)),
        "occurred_at": occurred.isoformat(timespec="seconds"),
        "recorded_by_id": str(rng.choice(provider.staff_ids)),
        "person_ref_id": str(rng.choice(provider.person_ids)),
        "innovation_ids": [str(i) for i in rng.sample(provider.innovation_ids, rng.randint(2, 4))],
        "source_system": SOURCE_SYSTEM,
        "external_id": f"dn-{number:08d}",
        "text": text,
        "facts": {"activity": rng.choice(ACTIVITIES), "engagement_quality": rng.randint(1, 5)},
    }


def copy_rows(
    provider: Provider, batch: list[dict[str, Any]]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows the service would write for `batch`, prepared for COPY (outside the timing)."""
    pattern = shift_pattern("Europe/London", DEFAULT_SHIFT_PATTERN)
    recorded_at = utcnow()
    touchpoints: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    for raw in batch:
        item = validate_item(raw, ())
        assert not isinstance(item, Exception)
        touchpoint_id = uuid.uuid4()
        shift, weekend = pattern.locate(item.occurred_at, item.shift)
        values = row_values(
            item, touchpoint_id, shift=shift.value, weekend=weekend, content_hash=content_hash(item)
        )
        touchpoints.append((provider.organisation_id, recorded_at, "bench-client", 1, *values))
        links.extend((provider.organisation_id, touchpoint_id, i) for i in item.innovation_ids)
    return touchpoints, links


COPY_COLUMNS = ["organisation_id", "recorded_at", "recorded_by_sub", "revision", *(n for n, _ in ROW_COLUMNS)]


async def run_concurrently(jobs: list[Any], workers: int, work: Callable[[Any], Awaitable[None]]) -> float:
    """Run `work` over `jobs` from `workers` concurrent tasks; the elapsed seconds."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

    async def worker() -> None:
        while not queue.empty():
            await work(queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - started


async def count_rows(conn: asyncpg.Connection, organisation_id: uuid.UUID) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM touchpoint WHERE organisation_id = $1", organisation_id
    )
    return count


async def bench_copy(url: str, provider: Provider, prepared: list[Any]) -> float:
    connections = [await asyncpg.connect(**asyncpg_connect_kwargs(url)) for _ in range(CLIENTS)]
    free: asyncio.Queue[asyncpg.Connection] = asyncio.Queue()
    for conn in connections:
        free.put_nowait(conn)

    async def copy(job: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]) -> None:
        conn = await free.get()
        try:
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "touchpoint_identity", records=identity_records(job[0]), columns=list(IDENTITY_COLUMNS)
                )
                await conn.copy_records_to_table("touchpoint", records=job[0], columns=COPY_COLUMNS)
                await conn.copy_records_to_table(
                    "touchpoint_innovation",
                    records=job[1],
                    columns=["organisation_id", "touchpoint_id", "innovation_id"],
                )
        finally:
            free.put_nowait(conn)

    try:
        await copy(prepared[0])  # warm-up, not timed
        await connections[0].execute("CHECKPOINT")
        elapsed = await run_concurrently(prepared[1:], CLIENTS, copy)
        stored = await count_rows(connections[0], provider.organisation_id)
        assert stored == BATCH_SIZE * len(prepared), f"COPY stored {stored} rows"
        await connections[0].execute(
            "TRUNCATE touchpoint, touchpoint_identity, touchpoint_innovation, touchpoint_revision"
        )
        await connections[0].execute("CHECKPOINT")
        return elapsed
    finally:
        for conn in connections:
            await conn.close()


async def post_batches(
    client: httpx.AsyncClient, headers: dict[str, str], bodies: list[bytes], expect: str
) -> float:
    async def post(body: bytes) -> None:
        response = await client.post("/v1/touchpoints/batch", content=body, headers=headers)
        response.raise_for_status()
        statuses = {r["status"] for r in response.json()["results"]}
        assert statuses == {expect}, f"expected every item {expect}, got {statuses}"

    return await run_concurrently(bodies, CLIENTS, post)


@dataclass
class SingleRun:
    latencies: list[float]
    seconds: float

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 0.5) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 0.99) * 1000

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds


def single_bodies(provider: Provider, now: datetime, first: int, count: int) -> list[bytes]:
    rng = random.Random(first)
    return [json.dumps(daily_note(provider, first + n, rng, now)).encode() for n in range(count)]


async def bench_single(
    base_url: str, path: str, headers: dict[str, str], bodies: list[bytes], concurrency: int
) -> SingleRun:
    """Post each body alone from `concurrency` keep-alive connections (bench/load.py); the first
    `concurrency` posts warm up."""
    for timed in (bodies[:concurrency], bodies[concurrency:]):
        answers, seconds = await post_all(base_url, path, timed, headers, concurrency)
        refused = [a for a in answers if a.status not in (200, 201)]
        if refused:
            raise RuntimeError(f"single post answered {refused[0].status}: {refused[0].body[:300]!r}")
    return SingleRun(sorted(a.seconds for a in answers), seconds)


async def compare_single_posts(
    url: str, provider: Provider, headers: dict[str, str], now: datetime
) -> list[str]:
    """Single posts to the bare app and to the service, at concurrency 1 and 32, one after the other."""
    runs: dict[tuple[str, int], SingleRun] = {}
    first = 50_000_000
    for name, serving, path in (
        ("bare app", running_bare_app(url), "/notes"),
        ("service", running_server(url), "/v1/touchpoints"),
    ):
        async with serving as base_url:
            for concurrency, count in ((1, SINGLE_REQUESTS // 4), (SINGLE_CONCURRENCY, SINGLE_REQUESTS)):
                bodies = single_bodies(provider, now, first, count + concurrency)
                first += len(bodies)
                runs[name, concurrency] = await bench_single(base_url, path, headers, bodies, concurrency)
    print("single posts of one ~1.2 KB daily note (same notes, same server settings, same run):")
    print(f"  {'':<30} {'concurrency':>11} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for (name, concurrency), run in runs.items():
        label = "bare Starlette + asyncpg" if name == "bare app" else "POST /v1/touchpoints"
        print(
            f"  {label:<30} {concurrency:>11} {len(run.latencies):>9} {run.p50_ms:>8.1f} {run.p99_ms:>8.1f} "
            f"{run.per_second:>8,.0f}"
        )
    verdicts = []
    for concurrency in (1, SINGLE_CONCURRENCY):
        bare, ours = runs["bare app", concurrency], runs["service", concurrency]
        throughput, p99 = ours.per_second / bare.per_second, ours.p99_ms / bare.p99_ms
        print(
            f"  service / bare at concurrency {concurrency}: throughput {throughput:.2f} x, p99 {p99:.1f} x"
        )
        if concurrency == SINGLE_CONCURRENCY:
            verdicts.append(
                f"single throughput {'met' if throughput >= SINGLE_THROUGHPUT_GOAL else 'MISSED'}"
            )
            verdicts.append(f"single p99 {'met' if p99 <= SINGLE_P99_GOAL else 'MISSED'}")
    print(
        f"  goals at concurrency {SINGLE_CONCURRENCY}: throughput >= {SINGLE_THROUGHPUT_GOAL} x bare, "
        f"p99 <= {SINGLE_P99_GOAL} x bare"
    )
    return verdicts


async def main() -> None:
    # The harness allocates as much as the server (COPY rows, request bodies): same collector tuning.
    tune_garbage_collector()
    started = time.perf_counter()
    async with embedded_database("ingest") as url:
        provider = await seed_provider(url)
        rng = random.Random(42)
        now = datetime.now(UTC)
        batches = [
            [daily_note(provider, b * BATCH_SIZE + n, rng, now) for n in range(BATCH_SIZE)]
            for b in range(BATCHES + 1)
        ]
        bodies = [json.dumps({"items": batch}).encode() for batch in batches]
        note_bytes = len(bodies[1]) / BATCH_SIZE
        print(
            f"{BATCHES} batches of {BATCH_SIZE} daily notes, {note_bytes:.0f} bytes per note as posted; "
            f"{CLIENTS} concurrent clients",
            flush=True,
        )
        prepared = [copy_rows(provider, batch) for batch in batches]
        copy_seconds = await bench_copy(url, provider, prepared)
        rows = BATCHES * BATCH_SIZE
        copy_rate = rows / copy_seconds
        label = "raw COPY (asyncpg, binary)"
        print(f"{label:<31} {rows:>7,} rows in {copy_seconds:6.2f} s  {copy_rate:>9,.0f} rows/s")

        headers = {**bearer(provider.organisation_id), "Content-Type": "application/json"}
        async with running_server(url) as base_url:
            limits = httpx.Limits(
                max_connections=SINGLE_CONCURRENCY, max_keepalive_connections=SINGLE_CONCURRENCY
            )
            async with httpx.AsyncClient(base_url=base_url, timeout=300, limits=limits) as client:
                await post_batches(client, headers, bodies[:1], "created")  # warm-up
                http_seconds = await post_batches(client, headers, bodies[1:], "created")
                http_rate = rows / http_seconds
                ratio = http_rate / copy_rate
                print(
                    f"HTTP POST /v1/touchpoints/batch {rows:>7,} rows in {http_seconds:6.2f} s  "
                    f"{http_rate:>9,.0f} rows/s  = {ratio:.2f} x COPY (goal >= {GOAL_RATIO})"
                )
                conn = await asyncpg.connect(**asyncpg_connect_kwargs(url))
                try:
                    before = await count_rows(conn, provider.organisation_id)
                    replay_seconds = await post_batches(client, headers, bodies[1:], "duplicate")
                    added = await count_rows(conn, provider.organisation_id) - before
                finally:
                    await conn.close()
                replay_rate = rows / replay_seconds
                print(
                    f"HTTP replay of stored batches {rows:>7,} rows in {replay_seconds:6.2f} s  "
                    f"{replay_rate:>9,.0f} rows/s  = {replay_rate / http_rate:.2f} x first post; "
                    f"rows added: {added}"
                )
        single_verdicts = await compare_single_posts(url, provider, headers, now)
        verdicts = [
            f"ratio {'met' if ratio >= GOAL_RATIO else 'MISSED'}",
            f"replay {'met' if replay_rate >= http_rate and added == 0 else 'MISSED'}",
            *single_verdicts,
        ]
        print(f"goals: {', '.join(verdicts)}; bench ran {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    import uvloop

    # The same event loop as the servers: the bench's own cost per request stays small.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())
