"""Bounds on what one request may ask of the service, and the checks that enforce them early.

Every refusal names the limit and its value, so a client can split a batch or trim a note without
guessing.
"""

import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic_core import PydanticCustomError, from_json

from service.errors import InvalidInput, LimitExceeded

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_BATCH_ITEMS = 1000
MAX_TEXT_CHARS = 20_000
MAX_FACT_TEXT_CHARS = 1_000
MAX_FACTS_DEPTH = 3
MAX_FACTS_KEYS = 64
MAX_INNOVATIONS_PER_TOUCHPOINT = 50
MAX_SOURCE_SYSTEM_CHARS = 100
MAX_EXTERNAL_ID_CHARS = 200
MAX_IDEMPOTENCY_KEY_CHARS = 200


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


def too_many_items(received: int) -> LimitExceeded:
    message = f"a batch holds at most {MAX_BATCH_ITEMS} items; this one has {received}"
    return LimitExceeded(
        message,
        errors=[{"field": "items", "rule": "max_batch_items", "message": message}],
        **limit_extension("max_batch_items", MAX_BATCH_ITEMS),
    )


def check_facts_shape(value: Any) -> Any:
    """Refuse facts nested or sized beyond the limits before the kind's model looks at them.

    The kind models already fix the shape; this keeps a hostile payload from costing more than a
    bounded walk.
    """
    if not isinstance(value, dict):
        return value
    flat = len(value) <= MAX_FACTS_KEYS
    for child in value.values():
        if isinstance(child, dict | list):
            flat = False
            break
    if flat:
        return value
    keys = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_FACTS_DEPTH:
            raise PydanticCustomError(
                "facts_too_deep",
                "facts nest deeper than the limit of {limit} levels",
                {"limit": MAX_FACTS_DEPTH},
            )
        children = node.values() if isinstance(node, dict) else node
        if isinstance(node, dict):
            keys += len(node)
            if keys > MAX_FACTS_KEYS:
                raise PydanticCustomError(
                    "facts_too_large",
                    "facts hold more than the limit of {limit} keys",
                    {"limit": MAX_FACTS_KEYS},
                )
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return value


async def read_body_within_limit(request: Request) -> None:
    """Read the body once, refusing it as soon as it passes the limit (before any parsing)."""
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
    if body and "json" in request.headers.get("content-type", ""):
        # pydantic-core's parser is about twice as fast as the standard library's on a batch;
        # on malformed JSON FastAPI parses again and reports the error in its usual way.
        with contextlib.suppress(ValueError):
            request._json = from_json(body)


class BodyLimitedRoute(APIRoute):
    """A route whose request body is bounded before FastAPI reads or parses it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            if request.method in ("POST", "PUT", "PATCH"):
                await read_body_within_limit(request)
            return await handler(request)

        return limited
