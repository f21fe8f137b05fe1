"""`make bench-load`: a mixed load against one served instance, with ingest alone as its baseline.

On a throwaway embedded Postgres it loads a provider with TOUCHPOINTS touchpoints of history
(bench/status_load.py), a commissioner granted it, computes every projection, and serves
`ingrain serve` with one `ingrain worker` process beside it (or its workers in-process). Then:
1. ingest alone: BATCH_CLIENTS clients post batches of BATCH daily notes back to back for
   ALONE_SECONDS: rows/s;
2. the mix, for SECONDS: the same batch clients, and beside them, each at a steady pace, single
   posts (`POST /v1/touchpoints`), one innovation's status over REST (every innovation in turn, the
   provider roll-up and one service) and over GraphQL, and a commissioner's portal polling
   `GET /v1/portfolio/status` with the `ETag` it last got.
It prints errors per kind (any answer other than the expected one, or a failed connection), the
status latencies during ingest (p50/p95/p99), the peak resident memory of every served process
(VmHWM from /proc, sampled every second) and ingest rows/s in the mix against ingest alone.

Settings (environment): INGRAIN_BENCH_LOAD_SECONDS (60), INGRAIN_BENCH_LOAD_ALONE_SECONDS (20),
INGRAIN_BENCH_LOAD_TOUCHPOINTS (100,000), INGRAIN_BENCH_LOAD_WORKER (`process`: an `ingrain worker`
beside the server; `in-process`: inside it), INGRAIN_BENCH_LOAD_RATES (per second, single posts,
REST status, GraphQL status, portfolio polls: `10,20,5,1`).
"""

import asyncio
import contextlib
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import asyncpg
import httpx

from bench.common import (
    BENCH_DIR,
    bearer,
    embedded_database,
    ingrain_server,
    memory_kib,
    percentile,
    process_tree,
    worker_process,
)
from bench.status_freshness import Scope, note, writable_scope
from bench.status_graphql import graphql_status_request
from bench.status_load import load_provider
from bench.status_projections import project_all
from service.database import asyncpg_connect_kwargs

SECONDS = float(os.environ.get("INGRAIN_BENCH_LOAD_SECONDS", "60"))
ALONE_SECONDS = float(os.environ.get("INGRAIN_BENCH_LOAD_ALONE_SECONDS", "20"))
TOUCHPOINTS = int(os.environ.get("INGRAIN_BENCH_LOAD_TOUCHPOINTS", "100000"))
RATES = tuple(float(r) for r in os.environ.get("INGRAIN_BENCH_LOAD_RATES", "10,20,5,1").split(","))
BATCH_CLIENTS = 2
BATCH = 100

STATUS_P99_GOAL_MS = 50.0
RSS_GOAL_MIB = 300.0
INGEST_RATIO_GOAL = 0.9
# Where the job workers run: `process`, one `ingrain worker` beside `ingrain serve` (a deployment's
# shape), or `in-process`, inside `ingrain serve` (INGRAIN_JOBS_IN_PROCESS, as `make run` does).
WORKER = os.environ.get("INGRAIN_BENCH_LOAD_WORKER", "process")

ClientFactory = Callable[[dict[str, str]], httpx.AsyncClient]


@dataclass(frozen=True)
class World:
    scope: Scope
    innovations: list[uuid.UUID]
    # The services in scope of each innovation.
    services: dict[uuid.UUID, list[uuid.UUID]]
    commissioner_id: uuid.UUID


@dataclass
class Mix:
    seconds: float = 0.0
    rows: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    first_error: dict[str, str] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def note(self, kind: str, seconds: float, error: str | None = None) -> None:
        self.requests[kind] += 1
        self.latencies.setdefault(kind, []).append(seconds)
        if error is not None:
            self.errors[kind] += 1
            self.first_error.setdefault(kind, error[:300])


async def prepare_world(database_url: str, touchpoints: int, *, rows_per_chunk: int = 20_000) -> World:
    """The provider and its history, a commissioner granted it, and every projection computed."""
    loaded = await load_provider(
        database_url,
        touchpoints,
        rows_per_chunk=rows_per_chunk,
        rollups="rebuild",
        analyze=touchpoints > 10_000,
    )
    cast = loaded.cast
    commissioner_id = uuid.uuid4()
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
    try:
        await conn.execute(
            "INSERT INTO organisation (id, name, kind, created_at)"
            " VALUES ($1, 'Bench County', 'commissioner', now())",
            commissioner_id,
        )
        await conn.execute(
            "INSERT INTO commissioning_relationship (id, commissioner_id, provider_id, starts_on, created_at)"
            " VALUES ($1, $2, $3, $4, now())",
            uuid.uuid4(),
            commissioner_id,
            cast.organisation_id,
            date(2000, 1, 1),
        )
    finally:
        await conn.close()
    await project_all(
        database_url,
        cast.organisation_id,
        [(i.spec.name, i.id, len(i.service_indexes)) for i in cast.innovations],
    )
    return World(
        writable_scope(cast),
        [i.id for i in cast.innovations],
        {i.id: [cast.service_ids[s] for s in i.service_indexes] for i in cast.innovations},
        commissioner_id,
    )


async def run_mix(
    client_for: ClientFactory, world: World, seconds: float, *, mixed: bool, rates: tuple[float, ...] = RATES
) -> Mix:
    """Batch ingest for `seconds` (with the other traffic when `mixed`); what every request got."""
    org = world.scope.organisation_id
    writer = {**bearer(org, role="integration", sub="bench-load"), "Content-Type": "application/json"}
    reader = bearer(org, role="quality_lead", sub="bench-load-reader")
    commissioner = bearer(world.commissioner_id, role="commissioner", sub="bench-load-portal")
    run = uuid.uuid4().hex[:8]
    mix = Mix()
    stop_at = float("inf")  # set once everything is prepared

    async def send(
        client: httpx.AsyncClient, kind: str, expect: tuple[int, ...], **request: object
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await client.request(**request)  # type: ignore[arg-type]
        except httpx.HTTPError as error:
            mix.note(kind, time.perf_counter() - started, f"{type(error).__name__}: {error}")
            return None
        elapsed = time.perf_counter() - started
        if response.status_code not in expect:
            mix.note(kind, elapsed, f"{response.status_code} {response.text[:200]}")
            return None
        mix.note(kind, elapsed)
        return response

    async def batches(number: int) -> None:
        rng = random.Random(number)
        sent = 0
        async with client_for(writer) as client:
            while time.perf_counter() < stop_at:
                items = []
                now = datetime.now(UTC)
                for _ in range(BATCH):
                    items.append(note(world.scope, rng, f"load-{run}-b{number}-{sent}", now)[0])
                    sent += 1
                response = await send(
                    client,
                    "batch",
                    (200,),
                    method="POST",
                    url="/v1/touchpoints/batch",
                    content=json.dumps({"items": items}),
                )
                if response is not None:
                    created = sum(1 for r in response.json()["results"] if r["status"] == "created")
                    if created != BATCH:
                        mix.note("batch", 0.0, f"{BATCH - created} items not created")
                    mix.rows += created

    async def paced(
        per_second: float, headers: dict[str, str], step: Callable[[httpx.AsyncClient, int], object]
    ) -> None:
        if per_second <= 0:
            return
        interval = 1.0 / per_second
        async with client_for(headers) as client:
            n = 0
            next_at = time.perf_counter()
            while next_at < stop_at and time.perf_counter() < stop_at:
                await step(client, n)  # type: ignore[misc]
                n += 1
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    single_rng = random.Random(99)

    async def single(client: httpx.AsyncClient, n: int) -> None:
        item, _ = note(world.scope, single_rng, f"load-{run}-s{n}", datetime.now(UTC))
        await send(
            client, "single", (201, 200), method="POST", url="/v1/touchpoints", content=json.dumps(item)
        )

    async def rest_status(client: httpx.AsyncClient, n: int) -> None:
        innovation = world.innovations[n % len(world.innovations)]
        services = world.services[innovation]
        params = {"service_id": str(services[n % len(services)])} if n % 2 else None
        await send(
            client,
            "status REST",
            (200,),
            method="GET",
            url=f"/v1/innovations/{innovation}/status",
            params=params,
        )

    graphql = graphql_status_request(world.innovations[0])

    async def graphql_status(client: httpx.AsyncClient, n: int) -> None:
        if graphql is None or graphql.json is None:
            return
        variables = {"innovationId": str(world.innovations[n % len(world.innovations)])}
        body = {**graphql.json, "variables": variables}
        response = await send(client, "status GraphQL", (200,), method="POST", url="/graphql", json=body)
        if response is not None and response.json().get("errors"):
            mix.note("status GraphQL", 0.0, json.dumps(response.json()["errors"])[:300])

    etag: list[str] = []

    async def portfolio(client: httpx.AsyncClient, n: int) -> None:
        headers = {"If-None-Match": etag[-1]} if etag else None
        response = await send(
            client, "portfolio poll", (200, 304), method="GET", url="/v1/portfolio/status", headers=headers
        )
        if response is not None:
            mix.requests[f"portfolio poll {response.status_code}"] += 1
            if "etag" in response.headers:
                etag.append(response.headers["etag"])

    started = time.perf_counter()
    stop_at = started + seconds

    async def ingest() -> None:
        await asyncio.gather(*(batches(n) for n in range(BATCH_CLIENTS)))
        # Rows per second over the batch clients' own time (the last batch ends after `seconds`).
        mix.seconds = time.perf_counter() - started

    tasks = [ingest()]
    if mixed:
        singles, rest, graph, polls = rates
        tasks += [
            paced(singles, writer, single),
            paced(rest, reader, rest_status),
            paced(graph, reader, graphql_status),
            paced(polls, commissioner, portfolio),
        ]
    await asyncio.gather(*tasks)
    return mix


def _check(ok: bool, text: str) -> bool:
    print(f"  [{'PASS' if ok else 'MISS'}] {text}")
    return ok


def report(alone: Mix, mixed: Mix, memory: dict[str, int]) -> bool:
    print(
        f"\nIngest alone: {alone.rows:,} rows in {alone.seconds:.1f} s = {alone.rows_per_second:,.0f} rows/s"
    )
    print(f"Mixed load: {mixed.seconds:.1f} s")
    print(f"  {'kind':<20}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for kind, latencies in mixed.latencies.items():
        ordered = sorted(latencies)
        p50, p95, p99 = (percentile(ordered, f) * 1000 for f in (0.5, 0.95, 0.99))
        counts = f"{mixed.requests[kind]:>9}{mixed.errors[kind]:>8}"
        print(f"  {kind:<20}{counts}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}")
    polls = {k: v for k, v in mixed.requests.items() if k.startswith("portfolio poll ")}
    if polls:
        print(f"  portfolio polls answered: {', '.join(f'{k[15:]} × {v}' for k, v in sorted(polls.items()))}")
    for kind, error in mixed.first_error.items():
        print(f"  first {kind} error: {error}")
    print(
        "Peak resident memory (VmHWM) per served process: "
        + ", ".join(f"{k} {v / 1024:.0f} MiB" for k, v in memory.items())
    )
    errors = sum(mixed.errors.values()) + sum(alone.errors.values())
    ok = _check(errors == 0, f"errors {errors} (goal 0)")
    for kind in ("status REST", "status GraphQL"):
        if kind in mixed.latencies:
            p99 = percentile(sorted(mixed.latencies[kind]), 0.99) * 1000
            ok &= _check(
                p99 < STATUS_P99_GOAL_MS,
                f"{kind} p99 during ingest {p99:.1f} ms < {STATUS_P99_GOAL_MS:.0f} ms",
            )
    peak = max(memory.values(), default=0) / 1024
    ok &= _check(peak < RSS_GOAL_MIB, f"peak RSS per process {peak:.0f} MiB < {RSS_GOAL_MIB:.0f} MiB")
    ratio = mixed.rows_per_second / alone.rows_per_second if alone.rows_per_second else 0.0
    ok &= _check(
        ratio >= INGEST_RATIO_GOAL,
        f"ingest in the mix {mixed.rows_per_second:,.0f} rows/s = {ratio:.2f} × ingest alone "
        f"{alone.rows_per_second:,.0f} rows/s, goal ≥ {INGEST_RATIO_GOAL}",
    )
    return ok


async def sample_memory(pids: dict[str, int], peaks: dict[str, int], stop: asyncio.Event) -> None:
    while True:
        for label, pid in pids.items():
            for n, member in enumerate(process_tree(pid)):
                name = label if n == 0 else f"{label} child {member}"
                peaks[name] = max(peaks.get(name, 0), memory_kib(member)[1])
        if stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def main() -> int:
    started = time.perf_counter()
    print(
        f"bench-load: {TOUCHPOINTS:,} touchpoints of history; ingest alone {ALONE_SECONDS:.0f} s, "
        f"mix {SECONDS:.0f} s; {BATCH_CLIENTS} batch clients × {BATCH} notes; per second: "
        f"{RATES[0]:g} single posts, {RATES[1]:g} REST statuses, {RATES[2]:g} GraphQL statuses, "
        f"{RATES[3]:g} portfolio polls",
        flush=True,
    )
    async with embedded_database("load") as url:
        loading = time.perf_counter()
        world = await prepare_world(url, TOUCHPOINTS)
        print(f"loaded and projected in {time.perf_counter() - loading:.1f} s", flush=True)
        in_process = WORKER == "in-process"
        server = ingrain_server(url, env={"INGRAIN_JOBS_IN_PROCESS": "true" if in_process else "false"})
        server.output = BENCH_DIR / "load-server.log"
        workers = contextlib.AsyncExitStack()
        await server.start()
        try:
            assert server.process is not None
            peaks: dict[str, int] = {}
            stop = asyncio.Event()
            pids = {"ingrain serve": server.process.pid}
            if not in_process:
                output = BENCH_DIR / "load-worker.log"
                pids["ingrain worker"] = await workers.enter_async_context(worker_process(url, output=output))
            sampler = asyncio.create_task(sample_memory(pids, peaks, stop))

            def client_for(headers: dict[str, str]) -> httpx.AsyncClient:
                return httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=60)

            await run_mix(client_for, world, 3, mixed=True)  # warm-up, not counted
            alone = await run_mix(client_for, world, ALONE_SECONDS, mixed=False)
            print(f"ingest alone: {alone.rows_per_second:,.0f} rows/s", flush=True)
            mixed = await run_mix(client_for, world, SECONDS, mixed=True)
            stop.set()
            await sampler
        finally:
            await workers.aclose()
            await server.stop()
    print(f"job workers: {WORKER}")
    ok = report(alone, mixed, peaks)
    print(f"bench ran {time.perf_counter() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
