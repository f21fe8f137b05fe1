"""Domain errors and the one handler that turns every error into RFC 9457 problem+json."""

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.allow import allowed_methods
from service.availability import describe, is_database_unavailable
from service.observability.context import described_request

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://ingrain.dev/problems/"


class ProblemError(Exception):
    """A failure the client can act on. Subclasses fix the status and the problem `type`."""

    status: int = 400
    type_slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = headers
        self.extensions = extensions

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.type_slug

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


class InvalidInput(ProblemError):
    status = 422
    type_slug = "validation-error"
    title = "The request is not valid"


class Unauthenticated(ProblemError):
    status = 401
    type_slug = "unauthenticated"
    title = "Authentication required"

    def __init__(self, detail: str = "a valid bearer token is required", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        super().__init__(detail, **kw)


class Forbidden(ProblemError):
    status = 403
    type_slug = "forbidden"
    title = "Not allowed"


class NotFound(ProblemError):
    status = 404
    type_slug = "not-found"
    title = "Not found"


class Conflict(ProblemError):
    status = 409
    type_slug = "conflict"
    title = "Conflict"


class LimitExceeded(ProblemError):
    status = 413
    type_slug = "limit-exceeded"
    title = "A limit was exceeded"


class UnsupportedMediaType(ProblemError):
    status = 415
    type_slug = "unsupported-media-type"
    title = "Unsupported media type"


class TooManyRequests(ProblemError):
    status = 429
    type_slug = "rate-limited"
    title = "Too many requests"


class Unavailable(ProblemError):
    status = 503
    type_slug = "unavailable"
    title = "Service unavailable"

    @classmethod
    def database(
        cls,
        retry_after_seconds: int,
        detail: str = "the database is unavailable; retry the request later",
        **extensions: Any,
    ) -> "Unavailable":
        """The database cannot serve the request now; the same request may be sent again later."""
        return cls(detail, headers={"Retry-After": str(retry_after_seconds)}, **extensions)


def retry_after_seconds(request: Request) -> int:
    seconds: int = request.app.state.settings.unavailable_retry_after_seconds
    return seconds


def field_path(loc: Sequence[str | int]) -> str:
    """`("body", "items", 3, "facts", "score")` → `items[3].facts.score`."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or ".".join(str(p) for p in loc)


def validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic errors as `{field, rule, message}` entries; `rule` is pydantic's stable error type."""
    out = []
    for err in errors:
        loc = [p for p in err.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-"))]
        # Discriminated unions add the tag as a path element; it names no field.
        out.append(
            {
                "field": field_path(loc),
                "rule": err.get("type", "invalid"),
                "message": err.get("msg", "invalid value"),
            }
        )
    return out


def invalid_from_pydantic(exc: ValidationError, prefix: Sequence[str | int] = ()) -> InvalidInput:
    errors = []
    for err in exc.errors():
        e = dict(err)
        e["loc"] = (*prefix, *err["loc"])
        errors.append(e)
    items = validation_errors(errors)
    return InvalidInput(_summary(items), errors=items)


def _summary(items: list[dict[str, Any]]) -> str:
    first = items[0] if items else {"field": "body", "message": "invalid"}
    more = f" (and {len(items) - 1} more)" if len(items) > 1 else ""
    return f"{first['field']}: {first['message']}{more}"


def problem_response(request: Request, exc: ProblemError) -> JSONResponse:
    return JSONResponse(
        exc.to_problem(instance=str(request.url.path)),
        status_code=exc.status,
        media_type=PROBLEM_JSON,
        headers=exc.headers,
    )


async def _problem_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(request, exc)


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = validation_errors(exc.errors())
    return problem_response(request, InvalidInput(_summary(items), errors=items))


_HTTP_SLUGS = {404: "not-found", 405: "method-not-allowed", 401: "unauthenticated", 403: "forbidden"}


async def _http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI answers a JSON body that is not UTF-8 with a bare 400, and malformed JSON with 422
        # `json_invalid`: both are the one rule, answered the one way.
        item = {"field": "body", "rule": "json_invalid", "message": "the body is not UTF-8 encoded JSON"}
        return problem_response(request, InvalidInput(_summary([item]), errors=[item]))
    headers = getattr(exc, "headers", None)
    if status == 405:
        # Every method of the path, not only those of the route function that matched first.
        methods = allowed_methods(request.app, request.scope.get("path", request.url.path))
        if methods:
            if request.method == "OPTIONS":
                return Response(status_code=204, headers={"Allow": ", ".join(methods)})
            headers = {**(headers or {}), "Allow": ", ".join(methods)}
    problem = ProblemError(str(exc.detail), headers=headers)
    problem.status = status
    problem.type_slug = _HTTP_SLUGS.get(status, f"http-{status}")
    problem.title = HTTPStatus(status).phrase
    return problem_response(request, problem)


async def _unexpected_handler(request: Request, exc: Exception) -> JSONResponse:
    """Whatever no other handler took: the database being unavailable (503), or a fault of ours (500).

    Registered for `Exception`, so Starlette calls it from its outermost middleware: every
    middleware inside (a retry of the unit of work, say) has seen the exception first.
    """
    if is_database_unavailable(exc):
        log.warning("database unavailable on %s: %s", described_request(request.method), describe(exc))
        return problem_response(request, Unavailable.database(retry_after_seconds(request)))
    log.exception("unhandled error on %s", described_request(request.method), exc_info=exc)
    problem = ProblemError("an unexpected error occurred; it has been logged")
    problem.status = 500
    problem.type_slug = "internal-error"
    problem.title = "Internal server error"
    return problem_response(request, problem)


class KeepAnsweredErrors:
    """Around Starlette's error middleware: an exception it has answered goes no further.

    That middleware sends the handler's 500/503 and then re-raises the exception for the server
    to log; uvicorn logs it again and closes the client's keep-alive connection. The handler has
    logged it already, so once the answer is complete the exception stops here and the connection
    serves the client's next request. An answer cut off half way still closes the connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answered = False

        async def tracking_send(message: Message) -> None:
            nonlocal answered
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = True

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if not answered:
                raise


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _problem_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
    build_stack = app.build_middleware_stack
    app.build_middleware_stack = lambda: KeepAnsweredErrors(build_stack())  # type: ignore[method-assign]


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status in (401, 403, 404, 422)
}
