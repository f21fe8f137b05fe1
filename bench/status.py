"""Embedding-status read benchmark: `make bench-status` (`python -m bench.status`).

On a throwaway embedded Postgres, for 100,000 and then 1,000,000 touchpoints (each in a fresh
database, migrated to head):
1. loads a provider (20 services, 400 staff with turnover, 5 innovations, 24 months ending now)
   straight into the database by COPY, with the status rollups counted (bench/status_load.py), and
   times the load separately;
2. times the plain SQL aggregate over the raw touchpoints that a naive status would run for one
   innovation, with raw asyncpg (bench/status_baseline.py);
3. computes every innovation's projections with the job workers' own function, timing each
   recompute (bench/status_projections.py);
4. serves the real API with uvicorn on a loopback port against that database and, as a quality lead,
   times one innovation's status projected and computed on read (`as_of` = now), `GET /v1/status`,
   `GET /v1/innovations/{id}/status` for the provider and for one service,
   `GET /v1/innovations/{id}/status/history?months=12`, the same status through `POST /graphql`,
   and polls with `If-None-Match`: p50, p95 and p99 from a few concurrent clients, and the
   innovation status again from one client at a time (see bench/status_report.py);
5. at the largest size, with an `ingrain worker` process, the freshness of projections while four
   clients ingest batches (bench/status_freshness.py);
then, in a separate database, a commissioner's portfolio of 500 small providers
(bench/status_portfolio.py), and prints the figures, the growth from 100k to 1M and the goal checks
of the status, GraphQL and projection issues, every figure against a baseline measured in the same run.

Settings (environment): INGRAIN_BENCH_STATUS_SIZES (default `100000,1000000`),
INGRAIN_BENCH_STATUS_ROLLUPS (`rebuild`, the default: bulk load with triggers off, then recount the
rollups, about half the load time; `triggers`: every COPY fires the rollup triggers, as recording
does; tests/bench checks that both leave the same rollups), INGRAIN_BENCH_STATUS_REQUESTS (200 per endpoint),
INGRAIN_BENCH_STATUS_CONCURRENCY (4), INGRAIN_BENCH_STATUS_SECONDS (cap per read, 40),
INGRAIN_BENCH_STATUS_RAW_RUNS (7), INGRAIN_BENCH_PROFILE (py-spy the server, see bench/common.py),
INGRAIN_BENCH_PROJECTED_REQUESTS (1000), INGRAIN_BENCH_RECOMPUTE_RUNS (3),
INGRAIN_BENCH_FRESHNESS_SECONDS (30), INGRAIN_BENCH_FRESHNESS_CLIENTS (4),
INGRAIN_BENCH_FRESHNESS_BATCH (100 notes), INGRAIN_BENCH_PORTFOLIO_PROVIDERS (500; 0 skips it),
INGRAIN_BENCH_PORTFOLIO_TOUCHPOINTS (60 per provider).
"""

import asyncio
import os
import shutil
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, cast

import asyncpg
import httpx

from bench.common import BENCH_DIR, bearer, running_server, worker_process
from bench.status_baseline import RawAggregate, time_raw_aggregate
from bench.status_freshness import Freshness, measure_freshness, writable_scope
from bench.status_graphql import graphql_status_request
from bench.status_http import CONCURRENCY, REQUESTS, Request, Timing, measure
from bench.status_load import Loaded, load_provider
from bench.status_portfolio import PortfolioWorld, load_portfolio
from bench.status_projections import (
    STATUS_POLL,
    STATUSES_POLL,
    PortfolioRun,
    Recompute,
    compare_requests,
    poll_request,
    portfolio_requests,
    print_projections,
    project_all,
    project_portfolio,
)
from bench.status_report import STATUS, STATUS_SERVICE, one_client, print_report
from service import embedded_postgres
from service.database import asyncpg_connect_kwargs, to_asyncpg_url
from service.migrate import upgrade_async

SIZES = tuple(int(n) for n in os.environ.get("INGRAIN_BENCH_STATUS_SIZES", "100000,1000000").split(","))
ROLLUPS = os.environ.get("INGRAIN_BENCH_STATUS_ROLLUPS", "rebuild")
RAW_RUNS = int(os.environ.get("INGRAIN_BENCH_STATUS_RAW_RUNS", "7"))
PORTFOLIO_PROVIDERS = int(os.environ.get("INGRAIN_BENCH_PORTFOLIO_PROVIDERS", "500"))
PORTFOLIO_TOUCHPOINTS = int(os.environ.get("INGRAIN_BENCH_PORTFOLIO_TOUCHPOINTS", "60"))
STAGES = {"not_started", "pilot", "embedding", "embedded", "at_risk", "fading"}


@dataclass
class SizeRun:
    size: int
    loaded: Loaded
    raw: RawAggregate
    timings: dict[str, Timing] = field(default_factory=dict)
    stage: str = ""
    migrate_seconds: float = 0.0
    recomputes: list[Recompute] = field(default_factory=list)
    freshness: Freshness | None = None


def with_database(url: str, name: str) -> str:
    head, _, query = url.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


@asynccontextmanager
async def embedded_server() -> AsyncIterator[str]:
    """One embedded Postgres for the run; yields its server URL. pgserver stops it and deletes its
    directory when this process exits."""
    data_dir = BENCH_DIR / f"status-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    yield to_asyncpg_url(embedded_postgres.start(data_dir, cleanup_mode="delete"))


@asynccontextmanager
async def fresh_database(server_url: str, name: str) -> AsyncIterator[str]:
    admin_url = with_database(server_url, "postgres")
    admin = await asyncpg.connect(**asyncpg_connect_kwargs(admin_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(server_url, name)
    finally:
        admin = await asyncpg.connect(**asyncpg_connect_kwargs(admin_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def check_status(body: Any) -> None:
    assert body["stage"] in STAGES, body.get("stage")
    assert len(body["indicators"]) == 8, "a status has eight indicators"


def check_statuses(body: Any) -> None:
    assert len(body["items"]) == 5, "every innovation has its row"
    for row in body["items"]:
        check_status(row["provider"])


def check_history(body: Any) -> None:
    assert len(body["months"]) == 12, "twelve monthly points"


def requests_for(loaded: Loaded) -> tuple[list[Request], uuid.UUID]:
    """The reads timed: the innovation at every service (the largest status) and its busiest service."""
    cast_ = loaded.cast
    innovation = cast_.innovations[0]
    busiest = max(innovation.service_indexes, key=lambda s: cast_.service_weights[s])
    service_id = cast_.service_ids[busiest]
    path = f"/v1/innovations/{innovation.id}/status"
    service = Request(STATUS_SERVICE, "GET", path, params={"service_id": str(service_id)}, check=check_status)
    requests = [
        Request("GET /v1/status", "GET", "/v1/status", check=check_statuses),
        Request(STATUS, "GET", path, check=check_status),
        service,
        Request(
            "GET /v1/innovations/{id}/status/history?months=12",
            "GET",
            f"{path}/history",
            params={"months": "12"},
            check=check_history,
        ),
    ]
    graphql = graphql_status_request(innovation.id)
    if graphql is not None:
        requests.append(graphql)
    # The same reads from one client: each request's own time, without queueing behind the others.
    requests += [replace(r, label=one_client(r.label), sequential=True) for r in requests[1:3]]
    if graphql is not None:
        requests.append(replace(graphql, label=one_client(graphql.label), sequential=True))
    return requests, innovation.id


async def run_size(server_url: str, size: int) -> SizeRun:
    label = f"{size:,}"
    async with fresh_database(server_url, f"bench_status_{size}") as url:
        started = time.perf_counter()
        await upgrade_async(url)
        migrate_seconds = time.perf_counter() - started
        print(f"[{label}] loading …", flush=True)
        mode = cast(Literal["triggers", "rebuild"], ROLLUPS)
        loaded = await load_provider(url, size, rollups=mode)
        print(
            f"[{label}] loaded {loaded.touchpoints:,} touchpoints and {loaded.links:,} links "
            f"in {loaded.touchpoint_seconds:.1f} s",
            flush=True,
        )
        innovation = loaded.cast.innovations[0]
        conn = await asyncpg.connect(**asyncpg_connect_kwargs(url))
        try:
            raw = await time_raw_aggregate(
                conn,
                loaded.organisation_id,
                innovation.id,
                [loaded.cast.service_ids[s] for s in innovation.service_indexes],
                innovation_started_on=innovation.started_on,
                as_of=datetime.now(UTC),
                runs=RAW_RUNS,
            )
        finally:
            await conn.close()
        print(f"[{label}] raw aggregate p50 {raw.p50 * 1000:.0f} ms", flush=True)
        run = SizeRun(size, loaded, raw, migrate_seconds=migrate_seconds)
        # Every projection computed before any read is timed, as the job workers would have.
        cast_ = loaded.cast
        run.recomputes = await project_all(
            url,
            loaded.organisation_id,
            [(i.spec.name, i.id, len(i.service_indexes)) for i in cast_.innovations],
        )
        for r in run.recomputes:
            print(
                f"[{label}] recompute {r.label} ({r.scopes} projections): first {r.first * 1000:.0f} ms, "
                f"again {r.again * 1000:.0f} ms",
                flush=True,
            )
        requests, innovation_id = requests_for(loaded)
        path = f"/v1/innovations/{innovation_id}/status"
        requests = compare_requests(path, check_status) + requests
        async with running_server(url) as base_url:
            headers = bearer(loaded.organisation_id, role="quality_lead", sub="bench-quality-lead")
            async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120) as client:
                for poll_label, poll_path in ((STATUS_POLL, path), (STATUSES_POLL, "/v1/status")):
                    tag = (await client.get(poll_path)).headers.get("etag")
                    if tag:
                        requests.append(poll_request(poll_label, poll_path, tag))
                for request in requests:
                    await time_request(client, request, run.timings, label)
                response = await client.get(path)
                run.stage = response.json()["stage"]
            if size == SIZES[-1]:
                writer = {
                    **bearer(loaded.organisation_id, role="integration", sub="bench-fresh"),
                    "Content-Type": "application/json",
                }
                async with worker_process(url, output=BENCH_DIR / "status-worker.log"):
                    run.freshness = await measure_freshness(
                        base_url, url, writable_scope(cast_), writer, progress=progress(label)
                    )
        return run


def progress(label: str) -> Callable[[str], None]:
    return lambda text: print(f"[{label}] {text}", flush=True)


async def time_request(
    client: httpx.AsyncClient, request: Request, timings: dict[str, Timing], label: str
) -> Timing:
    timing = await measure(client, request)
    timings[request.label] = timing
    print(
        f"[{label}] {request.label}: p50 {timing.p50 * 1000:.1f} ms, p95 {timing.p95 * 1000:.1f} ms, "
        f"p99 {timing.p99 * 1000:.1f} ms, {timing.per_second:.1f}/s ({timing.count} requests)",
        flush=True,
    )
    return timing


async def run_portfolio(server_url: str) -> PortfolioRun:
    async with fresh_database(server_url, "bench_status_portfolio") as url:
        await upgrade_async(url)
        print(f"[portfolio] loading {PORTFOLIO_PROVIDERS} providers …", flush=True)
        world: PortfolioWorld = await load_portfolio(url, PORTFOLIO_PROVIDERS, PORTFOLIO_TOUCHPOINTS)
        print(
            f"[portfolio] loaded {world.touchpoints:,} touchpoints ({world.links:,} links) in "
            f"{world.reference_seconds:.1f} s + {world.touchpoint_seconds:.1f} s",
            flush=True,
        )
        run = PortfolioRun(world, await project_portfolio(url, world))
        print(f"[portfolio] projections computed in {run.project_seconds:.1f} s", flush=True)
        async with running_server(url) as base_url:
            headers = bearer(world.commissioner_id, role="commissioner", sub="bench-commissioner")
            async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120) as client:
                for request in await portfolio_requests(client, run):
                    await time_request(client, request, run.timings, "portfolio")
        return run


async def main() -> int:
    started = time.perf_counter()
    print(
        f"bench-status: sizes {', '.join(f'{s:,}' for s in SIZES)}; rollups by {ROLLUPS}; "
        f"{REQUESTS} requests per endpoint from {CONCURRENCY} clients",
        flush=True,
    )
    runs = []
    portfolio: PortfolioRun | None = None
    async with embedded_server() as server_url:
        for size in SIZES:
            runs.append(await run_size(server_url, size))
        if PORTFOLIO_PROVIDERS:
            try:
                portfolio = await run_portfolio(server_url)
            except Exception as error:  # the figures of the sizes are still worth printing
                print(f"[portfolio] failed: {error!r}", flush=True)
    ok = print_report(runs, total_seconds=time.perf_counter() - started)
    ok &= print_projections(runs, portfolio)
    if PORTFOLIO_PROVIDERS and portfolio is None:
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
