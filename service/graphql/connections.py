"""Relay-style connections over the REST keyset pages.

`first`/`after` are REST's `limit`/`cursor`: the same service function answers both, so a page
through GraphQL is the page through REST. Cursors are opaque and forward-only.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Generic, TypeVar

import strawberry

from service.errors import InvalidInput
from service.pagination import DEFAULT_LIMIT, MAX_LIMIT, encode_cursor

NodeT = TypeVar("NodeT")

First = Annotated[
    int,
    strawberry.argument(description=f"Items per page (1–{MAX_LIMIT}); REST's `limit`."),
]
After = Annotated[
    str | None,
    strawberry.argument(description="`pageInfo.endCursor` of the previous page; REST's `cursor`."),
]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    node: NodeT
    cursor: str


@strawberry.type(description="A page of a list, with its cursors and, where cheap, the total.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]] | None] = None

    @strawberry.field(description="Items matching the filters, over all pages; null where costly.")
    async def total_count(self) -> int | None:
        return await self._count() if self._count is not None else None


def page_limit(first: int, *, maximum: int = MAX_LIMIT) -> int:
    """REST's limit bounds, with REST's rule names."""
    if not 1 <= first <= maximum:
        raise InvalidInput(
            f"first: must be between 1 and {maximum}",
            errors=[
                {
                    "field": "first",
                    "rule": "less_than_equal" if first > maximum else "greater_than_equal",
                    "message": f"Input should be between 1 and {maximum}",
                }
            ],
        )
    return first


def connection(
    nodes: Sequence[NodeT],
    *,
    cursors: Sequence[str],
    next_cursor: str | None,
    after: str | None,
    count: Callable[[], Awaitable[int]] | None = None,
) -> Connection[NodeT]:
    edges = [Edge(node=node, cursor=cursor) for node, cursor in zip(nodes, cursors, strict=True)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=next_cursor is not None,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=next_cursor if next_cursor is not None else (edges[-1].cursor if edges else None),
        ),
        _count=count,
    )


DEFAULT_FIRST = DEFAULT_LIMIT


def time_id_cursor(at: datetime, row_id: uuid.UUID) -> str:
    """The cursor of a row in a list ordered by (a timestamp, id), as the REST lists write it."""
    return encode_cursor([at.isoformat(), str(row_id)])
