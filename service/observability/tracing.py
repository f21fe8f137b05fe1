"""OpenTelemetry tracing of requests, jobs and SQL, on when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set and off otherwise.

Off, it costs nothing: the SDK, the exporter and the SQL instrumentation are not even imported
(`tracing_setup` is, only when on), and each hook here is one test of a module global.

On (`configure_tracing`, once per process: each `ingrain serve` process, `ingrain worker`):
- a request has a server span made here, not by the ASGI instrumentation, which records the path and
  query asked for (they may name a person's record, `/v1/people/by-ref/…`): this span is named
  after the route template and carries it, the method, the status, the request id and the caller's
  organisation and roles, never a header, a token, a body or the path;
- a job run has a span of its own (`job projections.recompute`), the root of its trace;
- each SQL statement run within either is a child span with the statement's text (its parameters
  are bound, and not recorded); statements outside any request or job (the workers' polling of the
  queue) are not traced;
- log lines written within a span carry its `trace_id` and `span_id`.
"""

import logging
import os
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from starlette.types import Scope

from service.observability.context import RequestContext

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

log = logging.getLogger("ingrain.tracing")

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
# Probes and scrapes come every few seconds and say nothing about the service's work.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# The headers a caller's trace context travels in (W3C Trace Context and Baggage).
_PROPAGATION_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})


class Tracing:
    """This process's tracer provider and what was instrumented with it."""

    def __init__(self, provider: Any, tracer: "Tracer", shutdown: Any) -> None:
        self.provider = provider
        self.tracer = tracer
        self._shutdown = shutdown

    def force_flush(self, timeout_millis: int = 5000) -> bool:
        return bool(self.provider.force_flush(timeout_millis))

    def shutdown(self) -> None:
        self._shutdown()


_active: Tracing | None = None


def wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the standard variables ask for traces: an OTLP endpoint, and the SDK not disabled."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def configure_tracing(*, set_global: bool = True) -> Tracing | None:
    """Turn tracing on for this process when the variables ask for it; None when they do not.

    `set_global` makes the provider the process's global one as well (what a served process
    wants); a test leaves it off and calls `shutdown_tracing` when done.
    """
    global _active
    if _active is None and wanted():
        from service.observability.tracing_setup import start

        _active = start(set_global=set_global)
    return _active


def shutdown_tracing() -> None:
    """Export what is buffered and undo the instrumentation (tests; a served process exits instead)."""
    global _active
    if _active is not None:
        _active.shutdown()
        _active = None


def active() -> Tracing | None:
    return _active


def current_ids() -> tuple[str, str] | None:
    """The trace and span ids (hex) of the span in flight, for a log line; None without one."""
    if _active is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)


def job_span(entrypoint: str, job_id: int, attempts: int) -> AbstractContextManager[Any]:
    """A span for one run of a job (a no-op when tracing is off)."""
    if _active is None:
        return nullcontext()
    from opentelemetry.trace import SpanKind

    return _active.tracer.start_as_current_span(
        f"job {entrypoint}",
        kind=SpanKind.CONSUMER,
        attributes={
            "ingrain.job.entrypoint": entrypoint,
            "ingrain.job.id": job_id,
            "ingrain.job.attempt": attempts,
        },
    )


class RequestTracing:
    """The server span of each HTTP request, for `RequestObservation` (which exists without it)."""

    def __init__(self, tracer: "Tracer") -> None:
        from opentelemetry import context, propagate, trace

        self._tracer = tracer
        self._context = context
        self._propagate = propagate
        self._trace = trace

    def start(self, scope: Scope, method: str) -> tuple["Span", object] | None:
        if scope["path"] in UNTRACED_PATHS:
            return None
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _PROPAGATION_HEADERS
        }
        parent = self._propagate.extract(carrier) if carrier else None
        span = self._tracer.start_span(
            method,
            context=parent,
            kind=self._trace.SpanKind.SERVER,
            attributes={"http.request.method": method, "url.scheme": scope.get("scheme", "http")},
        )
        token = self._context.attach(self._trace.set_span_in_context(span, parent))
        return span, token

    def end(
        self, started: tuple["Span", object], request: RequestContext, method: str, route: str, status: int
    ) -> None:
        span, token = started
        try:
            span.update_name(f"{method} {route}")
            span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", status)
            span.set_attribute("ingrain.request_id", request.request_id)
            if request.organisation_id is not None:
                span.set_attribute("ingrain.organisation_id", str(request.organisation_id))
            if request.roles:
                span.set_attribute("ingrain.roles", request.roles)
            if status >= 500:
                span.set_status(self._trace.StatusCode.ERROR)
            span.end()
        finally:
            self._context.detach(token)  # type: ignore[arg-type]


def request_tracing() -> RequestTracing | None:
    return RequestTracing(_active.tracer) if _active is not None else None
