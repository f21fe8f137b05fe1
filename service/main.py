"""The ASGI application: REST under /v1, GraphQL at /graphql, probes at the root."""

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from service.audit.middleware import RequestOriginMiddleware
from service.auth.verifier import TokenVerifier
from service.conflicts import TransactionRetryMiddleware
from service.database import create_engine, create_session_factory, resolve_database_url
from service.docs.openapi import DEFAULT_SERVERS, declare_public_operations, describe_tags
from service.docs.router import include_docs
from service.errors import PROBLEM_JSON, install_problem_handlers
from service.graphql.router import graphql_router
from service.health.router import router as health_router
from service.observability.metrics import mark_this_process_dead
from service.observability.middleware import RouteOfRequest, wrap_http_edge
from service.observability.router import router as metrics_router
from service.routers import include_routers
from service.settings import Settings, get_settings
from service.startup import PREPARED_DATABASE_URL, prepare_database

log = logging.getLogger(__name__)

API_DESCRIPTION = """
Ingrain records the delivery touchpoints where an innovation shows up in daily adult social care
work and answers, with evidence, whether each innovation is embedded.

Every error is RFC 9457 `application/problem+json`. Authenticate with `Authorization: Bearer <JWT>`.
"""


def create_app(
    settings: Settings | None = None, *, database_url: str | None = None, in_process_jobs: bool = False
) -> FastAPI:
    """Build the app. `database_url` overrides settings (tests pass the URL of their own server);
    `in_process_jobs` runs job workers (service.jobs) beside the API, as `ingrain serve` does on the
    embedded database by default."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url or resolve_database_url(settings)
        jobs: asyncio.Task[None] | None = None
        jobs_stop = asyncio.Event()
        if database_url is None:
            await prepare_database(settings, url)
        # The primary's and the read replica's engines pool alike.
        connect = partial(
            create_engine,
            pool_size=settings.db_pool_size,
            connect_timeout=settings.db_connect_timeout_seconds,
            pool_timeout=settings.db_pool_timeout_seconds,
        )
        engine = connect(url)
        # Status and list reads go to the read replica when there is one (service.dependencies).
        read_engine = (
            connect(settings.database_read_url, read_only=True) if settings.database_read_url else None
        )
        app.state.database_url = url
        app.state.engine = engine
        app.state.session_factory = create_session_factory(engine)
        app.state.read_session_factory = create_session_factory(read_engine) if read_engine else None
        app.state.token_verifier = TokenVerifier(settings)
        try:
            if in_process_jobs:
                from service.jobs.worker import run as run_workers
                from service.webhooks.delivery import DeliveryOptions

                webhooks = DeliveryOptions(allow_loopback=settings.webhooks_allow_loopback)
                jobs = asyncio.create_task(run_workers(url, stop=jobs_stop, pool_size=2, webhooks=webhooks))
                jobs.add_done_callback(_report_stopped_workers)
            yield
        finally:
            if jobs is not None:
                jobs_stop.set()
                await asyncio.wait({jobs}, timeout=30)
            await app.state.token_verifier.aclose()
            await engine.dispose()
            if read_engine is not None:
                await read_engine.dispose()
            mark_this_process_dead()

    app = FastAPI(
        title="Ingrain",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        separate_input_output_schemas=False,
        # Served by include_docs from packaged assets: FastAPI's own pages load theirs from CDNs.
        docs_url=None,
        redoc_url=None,
        # Not FastAPI's own request spans, which record the path asked for (it may name a person's
        # record): the request span is Ingrain's (service.observability.tracing).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    install_problem_handlers(app)
    # Outermost last: the retry runs inside the request's origin, so its attempts share one request id;
    # innermost, the route the router matched is noted for the request's metrics and log line.
    app.add_middleware(RouteOfRequest)
    app.add_middleware(TransactionRetryMiddleware)
    app.add_middleware(RequestOriginMiddleware)
    wrap_http_edge(app, settings)
    app.include_router(health_router)
    app.include_router(metrics_router)
    include_routers(app, settings)
    app.include_router(graphql_router(settings))
    include_docs(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def app_factory() -> FastAPI:
    """The app of one `ingrain serve` process (uvicorn's `factory=True`, once per worker)."""
    from service.observability.logging import configure_logging
    from service.observability.tracing import configure_tracing
    from service.runtime import tune_garbage_collector

    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    configure_tracing()  # OTEL_EXPORTER_OTLP_ENDPOINT: this process's own exporter, after the fork
    app = create_app(
        settings,
        database_url=os.environ.get(PREPARED_DATABASE_URL) or None,
        in_process_jobs=settings.run_jobs_in_process,
    )
    tune_garbage_collector()
    return app


def _report_stopped_workers(task: "asyncio.Task[None]") -> None:
    if not task.cancelled() and task.exception() is not None:
        logging.getLogger("ingrain.jobs").error(
            "the in-process job workers stopped", exc_info=task.exception()
        )


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        servers=app.servers or DEFAULT_SERVERS,
    )
    schema["tags"] = describe_tags(schema)
    declare_public_operations(schema, app.routes)
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = {
        "title": "Problem",
        "type": "object",
        "description": "RFC 9457 problem details.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "field": {"type": "string"},
                        "rule": {"type": "string"},
                        "message": {"type": "string"},
                    },
                },
            },
        },
    }
    _document_unavailability(schema)
    app.openapi_schema = schema
    return schema


# Operations answered without the database (liveness, the public signing key, metrics).
_WITHOUT_DATABASE = frozenset({"healthz", "get_jwks", "metrics"})


def _document_unavailability(schema: dict[str, Any]) -> None:
    """Every operation that uses the database may answer 503 while it is unavailable."""
    schema["components"].setdefault("responses", {})["Unavailable"] = {
        "description": "The database is unavailable (down, starting up, out of connections), or the "
        "signing keys of the token's identity provider cannot be fetched: send the same request again "
        "after `Retry-After` seconds.",
        "headers": {
            "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
        },
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if operation.get("operationId") not in _WITHOUT_DATABASE:
                operation.setdefault("responses", {})["503"] = {"$ref": "#/components/responses/Unavailable"}
