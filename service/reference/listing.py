"""Keyset pages over reference rows in creation order: stable while rows are added or updated."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, tuple_

from service.pagination import decode_time_id_cursor, encode_cursor


class Keyed(Protocol):
    id: uuid.UUID
    created_at: datetime


R = TypeVar("R", bound=Keyed)
S = TypeVar("S", bound=Select[Any])


def ordered_after(stmt: S, created_at: Any, row_id: Any, cursor: str | None) -> S:
    """Order by (created_at, id) and start after the cursor's row."""
    after = decode_time_id_cursor(cursor)
    if after is not None:
        after_at, after_id = after
        stmt = stmt.where(tuple_(created_at, row_id) > tuple_(after_at, after_id))
    return stmt.order_by(created_at, row_id)


def split_page(rows: Sequence[R], limit: int) -> tuple[list[R], str | None]:
    """Rows were fetched with `limit + 1`; the extra one only says there is a next page."""
    page = list(rows[:limit])
    if len(rows) > limit and page:
        last = page[-1]
        return page, encode_cursor([last.created_at.isoformat(), str(last.id)])
    return page, None
