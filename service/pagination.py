"""Keyset pagination: `limit` and an opaque `cursor`; answers `{"items": [...], "next_cursor"}`."""

import base64
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from service.errors import InvalidInput
from service.moments import QUERY_MOMENTS

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# A cursor this server issues is a few dozen characters; anything far longer is not one of them.
MAX_CURSOR_CHARS = 1000
CursorPart = Callable[[Any], Any]


def not_a_cursor() -> InvalidInput:
    return InvalidInput(
        "cursor: not a cursor this list returned",
        errors=[{"field": "cursor", "rule": "cursor_invalid", "message": "not a cursor from this list"}],
    )


def decode_cursor(cursor: str | None, *parts: CursorPart) -> list[Any] | None:
    """The values `encode_cursor` put in, each read back by its part (`cursor_uuid`, …).

    A cursor that does not decode to exactly what this list issued (another list's, an edited one,
    values of the wrong type or out of range) is refused by name, before any value reaches a query.
    """
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_CHARS:
        raise not_a_cursor()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, json.JSONDecodeError, RecursionError):
        values = None
    if not isinstance(values, list) or len(values) != len(parts):
        raise not_a_cursor()
    try:
        return [part(value) for part, value in zip(parts, values, strict=True)]
    except (ValueError, TypeError, OverflowError):
        raise not_a_cursor() from None


def cursor_uuid(value: Any) -> uuid.UUID:
    if type(value) is not str:
        raise TypeError("not a string")
    return uuid.UUID(value)


def cursor_optional_uuid(value: Any) -> uuid.UUID | None:
    return None if value == "" else cursor_uuid(value)


def cursor_moment(value: Any) -> datetime:
    """An aware ISO 8601 moment inside the range of query moments (so SQL on it cannot overflow)."""
    if type(value) is not str:
        raise TypeError("not a string")
    moment = datetime.fromisoformat(value)
    if moment.utcoffset() is None or not QUERY_MOMENTS.holds(moment):
        raise ValueError("not an aware moment in range")
    return moment


def cursor_bigint(value: Any) -> int:
    if type(value) is not int or not -(2**63) <= value < 2**63:
        raise ValueError("not a bigint")
    return value


LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT}).")]
CursorParam = Annotated[
    str | None, Query(description="`next_cursor` of the previous page; omit for the first page.")
]


def decode_time_id_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """A cursor over lists ordered by (a timestamp, id), as `encode_cursor([at, id])` made it."""
    values = decode_cursor(cursor, cursor_moment, cursor_uuid)
    return (values[0], values[1]) if values is not None else None
