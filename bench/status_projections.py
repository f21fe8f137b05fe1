"""Projected reads against reads computed on read, in one run (issue 12).

Before anything is timed every innovation's projections are computed by the same function the job
workers run (`service.projections.service.recompute`), timed per innovation: that is the cost of one
recompute, the figure the README's scaling section is sized with. Then, from CONCURRENCY clients:
one innovation's status projected (no `as_of`) and the same read computed on read (`as_of` = the
moment the run began), `GET /v1/status`, and polls that send the `ETag` back (`If-None-Match` → 304).
"""

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from bench.status_freshness import P99_GOAL_SECONDS, Freshness
from bench.status_http import CONCURRENCY, Request, Timing
from bench.status_portfolio import PortfolioWorld
from service.database import create_engine
from service.projections.service import recompute

if TYPE_CHECKING:
    from bench.status import SizeRun

RECOMPUTE_RUNS = int(os.environ.get("INGRAIN_BENCH_RECOMPUTE_RUNS", "3"))
# Projected reads are quick: more of them, so that p99 is a measured figure, not the slowest few.
PROJECTED_REQUESTS = int(os.environ.get("INGRAIN_BENCH_PROJECTED_REQUESTS", "1000"))

PROJECTED = "GET /v1/innovations/{id}/status (projected)"
ON_READ = "GET /v1/innovations/{id}/status?as_of=now (computed on read)"
STATUS_POLL = "GET /v1/innovations/{id}/status If-None-Match (304)"
STATUSES = "GET /v1/status"
STATUSES_POLL = "GET /v1/status If-None-Match (304)"

P99_GOAL_MS = 25.0
THROUGHPUT_GOAL = 20.0
STATUSES_P95_GOAL_MS = 100.0
PORTFOLIO = "GET /v1/portfolio/status"
PORTFOLIO_FULL = "GET /v1/portfolio/status?limit=100"
PORTFOLIO_POLL = "GET /v1/portfolio/status If-None-Match"
PORTFOLIO_P95_GOAL_MS = 300.0
POLL_GOAL_MS = 10.0


@dataclass(frozen=True)
class Recompute:
    """Seconds of each recompute of one innovation: the first stores its projections, the others
    find the same content (what a worker does after a write that changed nothing it shows)."""

    label: str
    scopes: int
    seconds: list[float]

    @property
    def first(self) -> float:
        return self.seconds[0]

    @property
    def again(self) -> float:
        return statistics.median(self.seconds[1:]) if len(self.seconds) > 1 else self.seconds[0]


async def project_all(
    database_url: str, organisation_id: uuid.UUID, innovations: list[tuple[str, uuid.UUID, int]]
) -> list[Recompute]:
    """Every innovation's projections computed (label, id, services in scope), each timed."""
    engine = create_engine(database_url, pool_size=1)
    try:
        out = []
        for label, innovation_id, services in innovations:
            seconds = []
            for _ in range(max(1, RECOMPUTE_RUNS)):
                started = time.perf_counter()
                await recompute(engine, organisation_id, innovation_id)
                seconds.append(time.perf_counter() - started)
            # The provider roll-up and each service alone.
            out.append(Recompute(label, services + 1, seconds))
        return out
    finally:
        await engine.dispose()


def compare_requests(
    path: str, check: Callable[[Any], None], moment: datetime | None = None
) -> list[Request]:
    """The projected read and the same read computed on read (`as_of` = `moment`, default now)."""
    as_of = (moment or datetime.now(UTC)).isoformat(timespec="seconds")
    return [
        Request(PROJECTED, "GET", path, check=check, count=PROJECTED_REQUESTS),
        Request(ON_READ, "GET", path, params={"as_of": as_of}, check=check),
    ]


def poll_request(label: str, path: str, etag: str) -> Request:
    return Request(label, "GET", path, headers={"If-None-Match": etag}, expect=304, count=PROJECTED_REQUESTS)


@dataclass
class PortfolioRun:
    world: PortfolioWorld
    # Seconds of each innovation's recompute, every innovation of the portfolio once.
    recompute_seconds: list[float]
    timings: dict[str, Timing] = field(default_factory=dict)
    # What an unchanged poll with `If-None-Match` was answered (304 once the portfolio has ETags).
    poll_status: int | None = None

    @property
    def project_seconds(self) -> float:
        return sum(self.recompute_seconds)


async def project_portfolio(database_url: str, world: PortfolioWorld, workers: int = 2) -> list[float]:
    """Every projection of the portfolio computed, `workers` at a time (as two job workers would)."""
    engine = create_engine(database_url, pool_size=workers)
    pending = list(world.innovations)
    seconds: list[float] = []

    async def worker() -> None:
        while pending:
            provider_id, innovation_id = pending.pop()
            started = time.perf_counter()
            await recompute(engine, provider_id, innovation_id)
            seconds.append(time.perf_counter() - started)

    try:
        await asyncio.gather(*(worker() for _ in range(workers)))
        return seconds
    finally:
        await engine.dispose()


def _check_page(size: int) -> Callable[[Any], None]:
    def check(body: Any) -> None:
        assert len(body["items"]) == size, f"{len(body['items'])} providers on the page, not {size}"
        for provider in body["items"]:
            assert len(provider["innovations"]) == 3, "every provider has its three innovations"

    return check


async def portfolio_requests(client: httpx.AsyncClient, run: PortfolioRun) -> list[Request]:
    """The first page (20 providers), the largest page (100), and an unchanged poll of the first."""
    providers = len(run.world.casts)
    requests = [
        Request(
            PORTFOLIO,
            "GET",
            "/v1/portfolio/status",
            check=_check_page(min(20, providers)),
            warm_up=1,
            count=40,
        ),
        Request(
            PORTFOLIO_FULL,
            "GET",
            "/v1/portfolio/status",
            params={"limit": "100"},
            check=_check_page(min(100, providers)),
            warm_up=1,
            count=12,
        ),
    ]
    first = await client.get("/v1/portfolio/status")
    first.raise_for_status()
    tag = first.headers.get("etag")
    if tag is not None:
        again = await client.get("/v1/portfolio/status", headers={"If-None-Match": tag})
        run.poll_status = again.status_code
        requests.append(
            Request(
                f"{PORTFOLIO_POLL} ({again.status_code})",
                "GET",
                "/v1/portfolio/status",
                headers={"If-None-Match": tag},
                expect=again.status_code,
                check=_check_page(min(20, providers)),
                count=PROJECTED_REQUESTS,
            )
        )
    return requests


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _check(ok: bool, text: str) -> bool:
    print(f"  [{'PASS' if ok else 'MISS'}] {text}")
    return ok


def _row(label: str, t: Timing) -> None:
    print(f"  {label:<62}{_ms(t.p50):>9}{_ms(t.p95):>9}{_ms(t.p99):>9}{t.per_second:>9.1f}{t.count:>7}")


def _print_freshness(fresh: Freshness) -> bool:
    print(
        f"\nFreshness while {fresh.batches} batches were posted in {fresh.seconds:.1f} s "
        f"({fresh.rows / fresh.seconds:,.0f} rows/s, {fresh.errors} errors; one `ingrain worker` process)"
    )
    print(
        f"  committed batch → projection reflecting it: p50 {fresh.p50:.2f} s, p99 {fresh.p99:.2f} s, "
        f"max {max(fresh.lags, default=float('nan')):.2f} s over {len(fresh.lags)} batches "
        f"({fresh.unresolved} not reflected within the drain limit; polled every 50 ms)"
    )
    whole = fresh.seconds + fresh.drain_seconds
    print(
        f"  keys marked {fresh.marks / fresh.seconds:.1f}/s by the writes (ingest {fresh.seconds:.1f} s); "
        f"from ingest start to drained ({whole:.1f} s): jobs queued {fresh.queued / whole:.1f}/s after "
        f"coalescing, recomputes completed {fresh.recomputes / whole:.1f}/s (pgqueuer's log), "
        f"roll-up projections seen to change {fresh.observed_recomputes / whole:.1f}/s"
    )
    print(
        f"  queue depth (queued+picked) over time: {fresh.depth_line()}; max {fresh.max_depth}; "
        f"drained {fresh.drain_seconds:.1f} s after the last batch"
    )
    ok = _check(fresh.p99 <= P99_GOAL_SECONDS, f"freshness p99 {fresh.p99:.2f} s ≤ {P99_GOAL_SECONDS:.0f} s")
    ok &= _check(
        fresh.unresolved == 0 and fresh.errors == 0,
        f"every batch reflected, none refused ({fresh.unresolved} unresolved, {fresh.errors} errors)",
    )
    # Coalescing keeps at most one queued job per key; a picked job gives its key up (so later
    # writes queue afresh) and waits for the innovation's lock, so picked jobs are bounded by the
    # worker's concurrency, not by the keys. Bounded: queued ≤ keys, and it drains once writes stop.
    keys = fresh.keys
    queued = max((q for _, q, _ in fresh.depth), default=0)
    picked = max((p for _, _, p in fresh.depth), default=0)
    return ok & _check(
        queued <= keys and fresh.unresolved == 0,
        f"queue bounded: at most {queued} queued (≤ {keys} keys) and {picked} picked; "
        f"drained {fresh.drain_seconds:.1f} s after the last batch",
    )


def print_projections(runs: list["SizeRun"], portfolio: PortfolioRun | None) -> bool:
    """Projected reads against compute on read, recompute cost, freshness and the portfolio."""
    from bench.status_report import size_label

    largest = runs[-1]
    name = size_label(largest.size)
    print(f"\nProjections (issue 12), from {CONCURRENCY} clients, one API process (ms; requests/s)")
    print(f"  {'read':<62}{'p50':>9}{'p95':>9}{'p99':>9}{'req/s':>9}{'n':>7}")
    for run in runs:
        for label in (PROJECTED, ON_READ, STATUS_POLL, STATUSES, STATUSES_POLL):
            if label in run.timings:
                _row(f"{size_label(run.size)} {label}", run.timings[label])
    print("\nOne recompute (every projection of one innovation, as a job worker runs it), ms")
    for run in runs:
        for r in run.recomputes:
            print(
                f"  {size_label(run.size)} {r.label:<44} {r.scopes:>3} projections  first "
                f"{r.first * 1000:7.0f}  again {r.again * 1000:7.0f}"
            )
    ok = True
    print(f"\nGoals at {name} (ratios within this run)")
    projected, on_read = largest.timings.get(PROJECTED), largest.timings.get(ON_READ)
    if projected is not None and on_read is not None:
        ok &= _check(
            projected.p99 * 1000 <= P99_GOAL_MS,
            f"projected status p99 {_ms(projected.p99)} ms ≤ {P99_GOAL_MS:.0f} ms "
            f"(p50 {_ms(projected.p50)}, p95 {_ms(projected.p95)})",
        )
        ratio = projected.per_second / on_read.per_second
        ok &= _check(
            ratio >= THROUGHPUT_GOAL,
            f"projected {projected.per_second:.0f}/s = {ratio:.1f} × computed on read "
            f"{on_read.per_second:.1f}/s per API process, goal ≥ {THROUGHPUT_GOAL:.0f} × "
            f"(p99 {_ms(projected.p99)} against {_ms(on_read.p99)} ms: "
            f"{on_read.p99 / projected.p99:.0f} × lower)",
        )
    statuses = largest.timings.get(STATUSES)
    if statuses is not None:
        ok &= _check(
            statuses.p95 * 1000 <= STATUSES_P95_GOAL_MS,
            f"{STATUSES} p95 {_ms(statuses.p95)} ms ≤ {STATUSES_P95_GOAL_MS:.0f} ms",
        )
    for label in (STATUS_POLL, STATUSES_POLL):
        if label in largest.timings:
            t = largest.timings[label]
            print(f"  [INFO] {label}: p50 {_ms(t.p50)} ms, p95 {_ms(t.p95)} ms")
        else:
            ok &= _check(False, f"{label}: no ETag answered")
    if largest.freshness is not None:
        ok &= _print_freshness(largest.freshness)
    if portfolio is not None:
        ok &= _print_portfolio(portfolio)
    return ok


def _print_portfolio(run: PortfolioRun) -> bool:
    world = run.world
    seconds = sorted(run.recompute_seconds)
    print(
        f"\nPortfolio: {len(world.casts)} providers × 3 innovations × 3 services, one commissioner "
        f"granted all; {world.touchpoints:,} touchpoints ({world.links:,} links), reference rows "
        f"{world.reference_seconds:.1f} s, COPY {world.touchpoint_seconds:.1f} s"
    )
    print(
        f"  {len(seconds)} innovations projected by 2 workers: recompute p50 "
        f"{statistics.median(seconds) * 1000:.0f} ms, max {seconds[-1] * 1000:.0f} ms"
    )
    print(f"  {'read':<62}{'p50':>9}{'p95':>9}{'p99':>9}{'req/s':>9}{'n':>7}")
    for label, t in run.timings.items():
        _row(label, t)
    ok = True
    for label in (PORTFOLIO, PORTFOLIO_FULL):
        if label in run.timings:
            p95 = run.timings[label].p95
            ok &= _check(
                p95 * 1000 <= PORTFOLIO_P95_GOAL_MS,
                f"{label} p95 {_ms(p95)} ms ≤ {PORTFOLIO_P95_GOAL_MS:.0f} ms",
            )
    poll = next((t for label, t in run.timings.items() if label.startswith(PORTFOLIO_POLL)), None)
    if poll is None:
        ok &= _check(False, "portfolio: no ETag answered, nothing to poll with")
    else:
        ok &= _check(
            run.poll_status == 304 and poll.p95 * 1000 <= POLL_GOAL_MS,
            f"unchanged portfolio poll answered {run.poll_status} in p95 {_ms(poll.p95)} ms, "
            f"goal 304 in ≤ {POLL_GOAL_MS:.0f} ms",
        )
    return ok
