"""The outermost layer of every HTTP answer: its request id, its metrics and its log line; then
gzip and CORS, for browsers.

`RequestObservation` wraps the whole application, Starlette's error middleware included, so the
500 and 503 answers that middleware makes carry an `X-Request-ID` and are counted too. The route
is only known once the router has matched it, further in: `RouteOfRequest`, the innermost
middleware, notes it on the request's context. Both are plain ASGI: the pair costs a few
microseconds a request.
"""

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from prometheus_client import Counter, Histogram
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.observability.context import RequestContext, current_request
from service.observability.metrics import http_request_duration, http_requests, http_requests_in_flight
from service.observability.request_id import accept_request_id
from service.observability.tracing import RequestTracing, request_tracing
from service.settings import Settings

log = logging.getLogger("ingrain.http")

# Methods are labelled as sent only when they are HTTP's own; anything else is `other`.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The route of a request no route matched, and of a CORS preflight answered before routing.
UNMATCHED = "unmatched"
PREFLIGHT = "preflight"

# Answers smaller than this are sent as they are: below about a kilobyte gzip saves too little.
GZIP_MINIMUM_BYTES = 1024
# nginx's default. On the API's JSON, level 1 makes a 14 KB status 18 % of its size in about 45 µs
# (level 6: 16 % in about 190 µs, level 9: 16 % in 220 µs); a large answer is about 14 % of its
# size (10 % at level 6) in a third of level 6's time. The API's CPU is the dearer resource.
GZIP_LEVEL = 1

# What a browser on an allowed origin may send and read: the headers the API reads and answers.
CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
)
CORS_EXPOSED_HEADERS = ("ETag", "Location", "Link", "Retry-After", "Idempotency-Replayed", "X-Request-ID")
CORS_PREFLIGHT_MAX_AGE_SECONDS = 600

_REQUEST_ID = b"x-request-id"
_PREFLIGHT_HEADER = b"access-control-request-method"


class RequestObservation:
    """Gives each request its id (echoed as `X-Request-ID`), counts and times it, and logs one line
    for it: method, route template, status, duration, and the caller's organisation and roles."""

    def __init__(self, app: ASGIApp, tracing: RequestTracing | None = None) -> None:
        self.app = app
        self.tracing = tracing
        # The labelled series of each (method, route, status): all from closed sets, so bounded.
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given: str | None = None
        preflight = False
        for name, value in scope["headers"]:
            if name == _REQUEST_ID and given is None:
                given = value.decode("latin-1")
            elif name == _PREFLIGHT_HEADER:
                preflight = True
        context = RequestContext(accept_request_id(given))
        request_id_header = (_REQUEST_ID, context.request_id.encode("ascii"))
        status = 500  # unless an answer starts: an exception that escapes is answered 500 by the server

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), request_id_header]}
            await send(message)

        token = current_request.set(context)
        method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
        span = self.tracing.start(scope, method) if self.tracing is not None else None
        started = time.perf_counter()
        http_requests_in_flight.inc()
        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            seconds = time.perf_counter() - started
            http_requests_in_flight.dec()
            route = context.route or (PREFLIGHT if preflight and method == "OPTIONS" else UNMATCHED)
            counter, histogram = self._labelled(method, route, status)
            counter.inc()
            histogram.observe(seconds)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    extra={
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                    },
                )
            if span is not None and self.tracing is not None:
                self.tracing.end(span, context, method, route, status)
            current_request.reset(token)

    def _labelled(self, method: str, route: str, status: int) -> tuple[Counter, Histogram]:
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            series = (
                http_requests.labels(method, route, str(status)),
                http_request_duration.labels(method, route, f"{status // 100}xx"),
            )
            self._series[key] = series
        return series


class RouteOfRequest:
    """Innermost: notes the template of the route the router matched on the request's context.

    The router leaves the matched route in the scope, with its path as declared in its own router;
    the full template (with the prefix of every router it is included in) is what the app's
    OpenAPI paths are keyed by, and is looked up here the same way, once per route.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._templates: dict[int, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            route = scope.get("route")
            context = current_request.get()
            if route is not None and context is not None:
                context.route = self._template(scope, route)

    def _template(self, scope: Scope, route: Any) -> str:
        template = self._templates.get(id(route))
        if template is None and "app" in scope:
            # Routes may be added until the first request; a route not seen yet reads them again,
            # once: a route full_templates leaves out is kept with the label it gets here.
            self._templates = full_templates(scope["app"].routes)
            template = self._templates.get(id(route)) or _own_path(route)
            self._templates[id(route)] = template
        return template or _own_path(route)


def _own_path(route: Any) -> str:
    return getattr(route, "path_format", None) or str(getattr(route, "path", UNMATCHED))


def full_templates(routes: Sequence[BaseRoute]) -> dict[int, str]:
    """Each route (by identity) and its full path template; a route included twice, under two
    prefixes, is left out (its own path stands in)."""
    found: dict[int, list[str]] = {}
    for context in iter_route_contexts(routes):
        if context.path_format:
            found.setdefault(id(context.original_route), []).append(context.path_format)
    return {route: paths[0] for route, paths in found.items() if len(set(paths)) == 1}


def wrap_http_edge(app: FastAPI, settings: Settings) -> None:
    """Put request observation, CORS (for INGRAIN_CORS_ORIGINS) and gzip around the whole app.

    Call after every `add_middleware` and after the problem handlers are installed: this wraps the
    stack they build.
    """
    build: Callable[[], ASGIApp] = app.build_middleware_stack

    def build_stack() -> ASGIApp:
        # A gzipped answer keeps its ETag: conditional requests (If-None-Match → 304) work the
        # same with and without compression, and the status routes serve no byte ranges.
        inner: ASGIApp = GZipMiddleware(build(), minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL)
        if settings.cors_origins:
            inner = CORSMiddleware(
                inner,
                allow_origins=settings.cors_origins,
                allow_methods=CORS_METHODS,
                allow_headers=CORS_REQUEST_HEADERS,
                expose_headers=CORS_EXPOSED_HEADERS,
                # Bearer tokens, not cookies: browsers need not send credentials.
                allow_credentials=False,
                max_age=CORS_PREFLIGHT_MAX_AGE_SECONDS,
            )
        # With tracing on (service.observability.tracing), each request has its server span here.
        return RequestObservation(inner, request_tracing())

    app.build_middleware_stack = build_stack  # type: ignore[method-assign]
