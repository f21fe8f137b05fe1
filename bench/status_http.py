"""Timing status reads over HTTP: bounded requests from a few concurrent clients, p50, p95 and p99."""

import asyncio
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bench.common import percentile

REQUESTS = int(os.environ.get("INGRAIN_BENCH_STATUS_REQUESTS", "200"))
CONCURRENCY = int(os.environ.get("INGRAIN_BENCH_STATUS_CONCURRENCY", "4"))
WARM_UP = 8
# No endpoint may hold the run longer than this; fewer requests are then reported as such.
SECONDS_PER_ENDPOINT = float(os.environ.get("INGRAIN_BENCH_STATUS_SECONDS", "40"))


@dataclass(frozen=True)
class Request:
    label: str
    method: str
    path: str
    params: dict[str, str] | None = None
    json: dict[str, Any] | None = None
    # Raises if a response is not what the endpoint should answer (not only a 200).
    check: Callable[[Any], None] | None = None
    # One client instead of CONCURRENCY: the service time alone, without queueing behind others.
    sequential: bool = False
    headers: dict[str, str] | None = None
    # The status every answer must have: 304 for a poll with `If-None-Match` (no body to check).
    expect: int = 200
    # How many timed requests (default INGRAIN_BENCH_STATUS_REQUESTS), after how many untimed.
    count: int | None = None
    warm_up: int = WARM_UP


@dataclass(frozen=True)
class Timing:
    label: str
    seconds: list[float]
    wall_seconds: float
    response_bytes: int

    @property
    def p50(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p95(self) -> float:
        return percentile(sorted(self.seconds), 0.95)

    @property
    def p99(self) -> float:
        return percentile(sorted(self.seconds), 0.99)

    @property
    def count(self) -> int:
        return len(self.seconds)

    @property
    def per_second(self) -> float:
        return self.count / self.wall_seconds if self.wall_seconds else float("nan")


async def _send(client: httpx.AsyncClient, request: Request) -> httpx.Response:
    response = await client.request(
        request.method, request.path, params=request.params, json=request.json, headers=request.headers
    )
    if response.status_code != request.expect:
        raise RuntimeError(f"{request.label}: {response.status_code} {response.text[:500]}")
    return response


async def measure(
    client: httpx.AsyncClient,
    request: Request,
    *,
    requests: int | None = None,
    concurrency: int | None = None,
    deadline_seconds: float = SECONDS_PER_ENDPOINT,
) -> Timing:
    """Warm up, then `requests` requests from `concurrency` clients; each latency in seconds."""
    for _ in range(max(1, request.warm_up)):
        response = await _send(client, request)
    if request.check is not None and request.expect == 200:
        request.check(response.json())
    size = len(response.content)
    if concurrency is None:
        concurrency = 1 if request.sequential else CONCURRENCY
    latencies: list[float] = []
    remaining = requests if requests is not None else request.count or REQUESTS
    started = time.perf_counter()
    stop_at = started + deadline_seconds

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0 and time.perf_counter() < stop_at:
            remaining -= 1
            sent = time.perf_counter()
            await _send(client, request)
            latencies.append(time.perf_counter() - sent)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Timing(request.label, latencies, time.perf_counter() - started, size)
