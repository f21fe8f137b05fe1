"""GET /metrics: Prometheus text, requests counted by route template (never the path asked for),
methods and statuses from closed sets, pool, retry and job metrics."""

import uuid
from typing import Any

import httpx
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from service.conflicts import retry_transient
from service.dependencies import public
from service.jobs.queue import RECOMPUTE
from tests.graphql.status_world import build_status_world
from tests.observability.support import app_without_database, client_of, sample
from tests.projections.support import drain_app
from tests.tokens import TokenFactory

STATUS_ROUTE = "/v1/innovations/{innovation_id}/status"


async def test_metrics_are_prometheus_text_and_count_requests_by_route_template(
    client: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    innovation = uuid.uuid4()
    labels = {"method": "GET", "route": STATUS_ROUTE, "status": "404"}
    before = sample("ingrain_http_requests_total", **labels)
    headers = tokens.headers("quality_lead", uuid.uuid4())
    for _ in range(3):
        answer = await client.get(f"/v1/innovations/{innovation}/status", headers=headers)
        assert answer.status_code == 404
    assert sample("ingrain_http_requests_total", **labels) == before + 3

    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert f'route="{STATUS_ROUTE}"' in text
    assert "ingrain_http_request_duration_seconds_bucket{" in text
    assert 'status_class="4xx"' in text
    assert "ingrain_http_requests_in_flight" in text
    assert "ingrain_db_pool_connections_in_use" in text
    # No id a client sent, no token, no organisation: labels are templates and closed sets.
    assert str(innovation) not in text
    assert "Bearer" not in text and headers["Authorization"].split()[1] not in text


async def test_unmatched_paths_and_unknown_methods_do_not_become_labels() -> None:
    async with client_of(app_without_database()) as client:
        secret_path = f"/v2/people/{uuid.uuid4().hex}"
        assert (await client.get(secret_path)).status_code == 404
        assert (await client.request("BREW", "/healthz")).status_code == 405
        text = (await client.get("/metrics")).text
    assert secret_path not in text and "BREW" not in text
    assert sample("ingrain_http_requests_total", method="GET", route="unmatched", status="404") >= 1
    assert sample("ingrain_http_requests_total", method="other", route="/healthz", status="405") >= 1


async def test_an_answer_made_by_the_error_middleware_is_counted_as_a_500() -> None:
    app = app_without_database()

    async def broken() -> None:
        raise RuntimeError("a fault of ours")

    app.add_api_route("/broken", broken, dependencies=[Depends(public())])
    labels = {"method": "GET", "route": "/broken", "status": "500"}
    before = sample("ingrain_http_requests_total", **labels)
    async with client_of(app) as client:
        answer = await client.get("/broken")
    assert answer.status_code == 500 and answer.headers["content-type"] == "application/problem+json"
    assert sample("ingrain_http_requests_total", **labels) == before + 1


async def test_metrics_on_their_own_port_are_not_on_the_api_port() -> None:
    async with client_of(app_without_database(metrics_port=9464)) as client:
        answer = await client.get("/metrics")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


async def test_pool_connections_in_use_go_back_down_after_requests(
    client: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    at_rest = sample("ingrain_db_pool_connections_in_use")
    headers = tokens.headers("quality_lead", uuid.uuid4())
    for _ in range(3):
        assert (await client.get("/v1/services", headers=headers)).status_code == 200
    assert sample("ingrain_db_pool_connections_in_use") == at_rest


async def test_transaction_retries_are_counted_by_sqlstate() -> None:
    class Deadlock(Exception):
        sqlstate = "40P01"

    attempts = 0

    async def loses_once() -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise Deadlock("deadlock detected")
        return "done"

    before = sample("ingrain_transaction_retries_total", sqlstate="40P01")
    assert await retry_transient(loses_once) == "done"
    assert sample("ingrain_transaction_retries_total", sqlstate="40P01") == before + 1


async def test_jobs_are_counted_by_entrypoint_and_outcome_and_timed(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    succeeded = {"entrypoint": RECOMPUTE, "outcome": "succeeded"}
    before = sample("ingrain_jobs_processed_total", **succeeded)
    timed = sample("ingrain_job_duration_seconds_count", entrypoint=RECOMPUTE)
    await build_status_world(session, client, tokens, services=1, days=8)
    await drain_app(app)
    ran = sample("ingrain_jobs_processed_total", **succeeded) - before
    assert ran >= 1
    assert sample("ingrain_job_duration_seconds_count", entrypoint=RECOMPUTE) - timed == ran
    assert sample("ingrain_jobs_processed_total", entrypoint=RECOMPUTE, outcome="failed") == 0
