"""Keyset pagination: `limit` and an opaque `cursor`; answers `{"items": [...], "next_cursor"}`."""

import base64
import json
import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from service.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, arity: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, json.JSONDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != arity:
        raise InvalidInput(
            "cursor: not a cursor this list returned",
            errors=[{"field": "cursor", "rule": "cursor_invalid", "message": "not a cursor from this list"}],
        )
    return values


LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT}).")]
CursorParam = Annotated[
    str | None, Query(description="`next_cursor` of the previous page; omit for the first page.")
]


def decode_time_id_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """A cursor over lists ordered by (a timestamp, id), as `encode_cursor([at, id])` made it."""
    values = decode_cursor(cursor, arity=2)
    if values is None:
        return None
    try:
        return datetime.fromisoformat(str(values[0])), uuid.UUID(str(values[1]))
    except ValueError:
        raise InvalidInput(
            "cursor: not a cursor this list returned",
            errors=[{"field": "cursor", "rule": "cursor_invalid", "message": "not a cursor from this list"}],
        ) from None
