"""Tracing: with OTEL_EXPORTER_OTLP_ENDPOINT set, a request's server span (route template, status,
request id, caller's organisation and roles) and its SQL as child spans, and a span per job, reach
an OTLP/HTTP receiver; log lines carry the trace's ids. Unset, nothing of the SDK is loaded."""

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.jobs.queue import RECOMPUTE
from service.main import create_app
from service.observability.tracing import Tracing, configure_tracing, shutdown_tracing
from service.settings import Settings
from tests import factories
from tests.observability.otlp_receiver import Receiver, otlp_receiver
from tests.observability.support import captured_logs
from tests.projections.support import drain
from tests.tokens import TokenFactory

SERVER, CLIENT, CONSUMER = 2, 3, 5  # OTLP's span kinds
STATUS_ROUTE = "/v1/innovations/{innovation_id}/status"


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Receiver, Tracing]]:
    with otlp_receiver() as (receiver, endpoint):
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
        for name in ("OTEL_SERVICE_NAME", "OTEL_TRACES_SAMPLER", "OTEL_SDK_DISABLED"):
            monkeypatch.delenv(name, raising=False)
        tracing = configure_tracing(set_global=False)
        assert tracing is not None
        try:
            yield receiver, tracing
        finally:
            shutdown_tracing()


@pytest.fixture
async def traced_client(
    traced: tuple[Receiver, Tracing], settings: Settings, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database_url=database_url)  # built with tracing on
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingrain.test") as client:
            yield client


async def test_a_request_and_its_sql_reach_the_collector_and_its_log_line_names_the_trace(
    traced: tuple[Receiver, Tracing],
    traced_client: httpx.AsyncClient,
    session: AsyncSession,
    tokens: TokenFactory,
    database_url: str,
) -> None:
    receiver, tracing = traced
    org = await factories.organisation(session)
    service = await factories.care_service(session, org)
    innovation = await factories.innovation(session, org, [service])
    headers = tokens.headers("quality_lead", org.id)
    with captured_logs("json") as logs:
        answer = await traced_client.get(f"/v1/innovations/{innovation.id}/status", headers=headers)
    assert answer.status_code == 200, answer.text
    assert tracing.force_flush()

    (server,) = [s for s in receiver.spans if s.kind == SERVER]
    assert receiver.paths and set(receiver.paths) == {"/v1/traces"}
    assert server.name == f"GET {STATUS_ROUTE}"
    assert server.resource["service.name"] == "ingrain"
    assert server.attributes["http.route"] == STATUS_ROUTE
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["http.request.method"] == "GET"
    assert server.attributes["ingrain.request_id"] == answer.headers["x-request-id"]
    assert server.attributes["ingrain.organisation_id"] == str(org.id)
    assert server.attributes["ingrain.roles"] == "quality_lead"
    sql = [s for s in receiver.spans if s.kind == CLIENT and s.trace_id == server.trace_id]
    assert len(sql) >= 2
    assert all(s.parent_span_id == server.span_id for s in sql)
    statements = [str(s.attributes.get("db.statement", "")) for s in sql]
    assert any("projection" in statement for statement in statements), statements
    # No path asked for, no header, no bound value: the innovation's id is in none of them.
    for span in receiver.spans:
        assert "db.statement.parameters" not in span.attributes
        assert str(innovation.id) not in json.dumps(span.attributes, default=str)
        assert headers["Authorization"].split()[1] not in json.dumps(span.attributes, default=str)

    (line,) = logs.requests()
    assert line["trace_id"] == server.trace_id and line["span_id"] == server.span_id

    # The read queued a recompute: the job has a span of its own, with its SQL beneath it.
    receiver.spans.clear()
    await drain(database_url)
    assert tracing.force_flush()
    jobs = [s for s in receiver.spans if s.kind == CONSUMER]
    assert jobs and {s.name for s in jobs} == {f"job {RECOMPUTE}"}
    job = jobs[0]
    assert job.attributes["ingrain.job.entrypoint"] == RECOMPUTE and not job.parent_span_id
    assert any(s.kind == CLIENT and s.parent_span_id == job.span_id for s in receiver.spans)
    # The workers' polling of the queue, outside any job, is not traced.
    assert all(s.parent_span_id for s in receiver.spans if s.kind == CLIENT)


async def test_probes_are_not_traced(
    traced: tuple[Receiver, Tracing], traced_client: httpx.AsyncClient
) -> None:
    receiver, tracing = traced
    assert (await traced_client.get("/healthz")).status_code == 200
    assert (await traced_client.get("/metrics")).status_code == 200
    assert tracing.force_flush()
    assert [s for s in receiver.spans if s.kind == SERVER] == []


def test_without_an_endpoint_nothing_of_the_sdk_is_loaded() -> None:
    """Checked in a process of its own: this one may have loaded the SDK for another test."""
    program = """
import sys
from service.main import create_app
from service.observability import tracing
from service.settings import Settings
assert tracing.configure_tracing() is None and tracing.active() is None
app = create_app(Settings(environment="test", demo_data=False), database_url="unused")
stack = app.build_middleware_stack()
assert stack.tracing is None, stack
loaded = sorted(m for m in sys.modules if m.startswith(("opentelemetry.sdk", "opentelemetry.exporter",
                                                        "opentelemetry.instrumentation")))
assert not loaded, loaded
print("untraced")
"""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", program], env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "untraced"
