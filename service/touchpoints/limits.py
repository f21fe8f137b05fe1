"""Bounds on what one request may ask of the service, checked for every route before its body is read.

Every refusal names the limit and its value, so a client can trim a request without guessing. The
bounds on a touchpoint and a batch (items, text, facts) are part of its validation, in
`service.touchpoints.validation.limits`.
"""

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic_core import from_json

from service.errors import InvalidInput, LimitExceeded, UnsupportedMediaType

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_IDEMPOTENCY_KEY_CHARS = 200
# Well above any body the API takes (a staff survey's facts are three levels inside an item), and
# far below where a recursive reader of the parsed body could exhaust the stack.
MAX_JSON_DEPTH = 64
_CONTAINERS = frozenset({dict, list})


def limit_extension(name: str, value: int) -> dict[str, Any]:
    return {"limit": {"name": name, "value": value}}


def body_too_large(received: int | None) -> LimitExceeded:
    size = f" ({received} bytes)" if received is not None else ""
    message = f"the request body{size} exceeds the limit of {MAX_BODY_BYTES} bytes"
    return LimitExceeded(
        message,
        errors=[{"field": "body", "rule": "max_body_bytes", "message": message}],
        **limit_extension("max_body_bytes", MAX_BODY_BYTES),
    )


async def read_body_within_limit(request: Request) -> None:
    """Read the body once, refusing it as soon as it passes the limit (before any parsing).

    A JSON body (or one without a content type, which FastAPI reads as JSON) is parsed here, once, by
    pydantic-core, whose parser refuses nesting deeper than about 200 levels instead of recursing;
    anything nested deeper than MAX_JSON_DEPTH is then refused before a validator walks it.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            declared_size = int(declared)
        except ValueError:
            raise InvalidInput(
                "the Content-Length header is not a number",
                errors=[{"field": "content-length", "rule": "invalid", "message": "not a number"}],
            ) from None
        if declared_size > MAX_BODY_BYTES:
            raise body_too_large(declared_size)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > MAX_BODY_BYTES:
            raise body_too_large(None)
        chunks.append(chunk)
    # Starlette keeps the body here; FastAPI's own parsing then reads it from memory.
    request._body = body = b"".join(chunks)
    content_type = request.headers.get("content-type")
    if body and (not content_type or "json" in content_type):
        # pydantic-core's parser is about twice as fast as the standard library's on a batch, and it
        # never recurses without bound; the standard library's would, on a body nested 100,000 deep.
        try:
            parsed = from_json(body)
        except ValueError as exc:
            raise json_invalid(str(exc)) from None
        check_json_depth(body, parsed)
        request._json = parsed


def json_invalid(reason: str) -> InvalidInput:
    if "recursion limit" in reason:
        return too_deep()
    message = f"the body is not valid JSON: {reason}"
    return InvalidInput(message, errors=[{"field": "body", "rule": "json_invalid", "message": message}])


def too_deep() -> InvalidInput:
    message = f"the body nests objects and arrays deeper than the limit of {MAX_JSON_DEPTH} levels"
    return InvalidInput(
        message,
        errors=[{"field": "body", "rule": "max_json_depth", "message": message}],
        **limit_extension("max_json_depth", MAX_JSON_DEPTH),
    )


def check_json_depth(body: bytes, parsed: Any) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH; a walk only when the body could be that deep."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return
    # Level by level: one pass over each level's containers, no bookkeeping per node.
    level = [parsed] if type(parsed) in _CONTAINERS else []
    depth = 1
    while level:
        below = []
        for node in level:
            below += [c for c in (node.values() if type(node) is dict else node) if type(c) in _CONTAINERS]
        if below and depth >= MAX_JSON_DEPTH:
            raise too_deep()
        level = below
        depth += 1


def check_url(request: Request) -> None:
    """Path segments and query parameters: valid UTF-8 once percent-decoded, and no NUL character.

    Postgres stores no NUL, and a path or filter value with one could only fail later, less clearly.
    """
    raw_path = request.scope.get("raw_path")
    if isinstance(raw_path, bytes) and b"%" in raw_path:
        try:
            unquote_to_bytes(raw_path).decode()
        except UnicodeDecodeError:
            raise _bad_url("path", "invalid_utf8", "is not valid UTF-8 once percent-decoded") from None
    for name, value in request.path_params.items():
        if isinstance(value, str) and "\x00" in value:
            raise _bad_url(name, "nul_character", "may not contain the NUL character (U+0000)")
    query = request.scope.get("query_string", b"")
    if not query:
        return
    for pair in query.split(b"&"):
        name_bytes, _, value_bytes = pair.partition(b"=")
        try:
            name = unquote_to_bytes(name_bytes.replace(b"+", b" ")).decode()
            value = unquote_to_bytes(value_bytes.replace(b"+", b" ")).decode()
        except UnicodeDecodeError:
            field = name_bytes.decode("ascii", "replace") or "query"
            raise _bad_url(field, "invalid_utf8", "is not valid UTF-8 once percent-decoded") from None
        if "\x00" in name or "\x00" in value:
            raise _bad_url(
                name.replace("\x00", "") or "query",
                "nul_character",
                "may not contain the NUL character (U+0000)",
            )


def check_json_content_type(request: Request) -> None:
    """A route that takes a JSON body refuses another media type by name (none given reads as JSON)."""
    content_type = request.headers.get("content-type")
    if content_type and "json" not in content_type:
        message = f"send the body as application/json, not {content_type.split(';')[0].strip()}"
        raise UnsupportedMediaType(
            message, errors=[{"field": "content-type", "rule": "json_required", "message": message}]
        )


def _bad_url(field: str, rule: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors=[{"field": field, "rule": rule, "message": message}])


class BodyLimitedRoute(APIRoute):
    """A route whose request is screened before FastAPI reads it: its path and query decode to text
    Postgres can store, and its body is bounded in size and depth. Every router uses it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_json = self.body_field is not None

        async def limited(request: Request) -> Response:
            check_url(request)
            if request.method in ("POST", "PUT", "PATCH"):
                if takes_json:
                    check_json_content_type(request)
                await read_body_within_limit(request)
            return await handler(request)

        return limited
