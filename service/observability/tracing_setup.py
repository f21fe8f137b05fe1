"""The OpenTelemetry SDK set up for this process: imported only when tracing is on (see tracing.py).

Everything else comes from the standard variables, read by the SDK itself: the endpoint
(`/v1/traces` is added to `OTEL_EXPORTER_OTLP_ENDPOINT`), `OTEL_EXPORTER_OTLP_HEADERS`,
`OTEL_SERVICE_NAME` (default here: `ingrain`), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`,
`OTEL_BSP_SCHEDULE_DELAY` and the batch processor's other limits.
"""

import logging
import os
from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    Decision,
    Sampler,
    SamplingResult,
    _get_from_env_or_default,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from service.observability.tracing import Tracing

log = logging.getLogger("ingrain.tracing")

DEFAULT_SERVICE_NAME = "ingrain"
PROTOCOL = "http/protobuf"


class WithinWork(Sampler):
    """The configured sampler (`OTEL_TRACES_SAMPLER`, parent-based always-on by default), except
    that a client span (a SQL statement) with no parent is dropped: statements run outside any
    request or job, such as the workers' polling of the queue, would each be a trace of their own."""

    def __init__(self, configured: Sampler) -> None:
        self.configured = configured

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if kind == SpanKind.CLIENT and not trace.get_current_span(parent_context).get_span_context().is_valid:
            return SamplingResult(Decision.DROP)
        return self.configured.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"WithinWork{{{self.configured.get_description()}}}"


def start(*, set_global: bool) -> Tracing:
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", PROTOCOL
    )
    if protocol != PROTOCOL:
        log.warning("OTLP protocol %r is not supported; traces are sent as %s", protocol, PROTOCOL)
    given: dict[str, Any] = (
        {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: DEFAULT_SERVICE_NAME}
    )
    provider = TracerProvider(resource=Resource.create(given), sampler=WithinWork(_get_from_env_or_default()))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    # Statements' text only: `capture_parameters` stays off, so no bound value reaches a span.
    instrumentor = AsyncPGInstrumentor(capture_parameters=False)
    instrumentor.instrument(tracer_provider=provider)
    if set_global:
        trace.set_tracer_provider(provider)

    def shutdown() -> None:
        instrumentor.uninstrument()
        provider.shutdown()

    return Tracing(provider, provider.get_tracer("ingrain"), shutdown)
