"""What the reference queries share: a list as a connection, one row by id, and a GraphQL type
filled from the REST answer it mirrors. Each calls the area's service, so GraphQL answers with
REST's scoping, redaction and access logging."""

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from service.graphql.connections import Connection, connection, page_limit, time_id_cursor
from service.graphql.context import GraphQLInfo
from service.reference.service import ReferenceService

F = TypeVar("F")
T = TypeVar("T")


async def listed(
    info: GraphQLInfo,
    area: ReferenceService[Any, Any, F],
    filters: F,
    *,
    first: int,
    after: str | None,
    shape: Callable[[Any], T],
) -> Connection[T]:
    """A page of the area's list, oldest first, with the REST list's cursors."""
    async with info.context.unit_of_work() as session:
        page = await area.list_page(
            session=session,
            principal=info.context.principal,
            filters=filters,
            limit=page_limit(first),
            cursor=after,
        )
    return connection(
        [shape(public) for public in page.items],
        cursors=[time_id_cursor(public.created_at, public.id) for public in page.items],
        next_cursor=page.next_cursor,
        after=after,
    )


async def read_one(
    info: GraphQLInfo, area: ReferenceService[Any, Any, Any], row_id: uuid.UUID, *, shape: Callable[[Any], T]
) -> T:
    async with info.context.unit_of_work() as session:
        public = await area.get(session=session, principal=info.context.principal, row_id=row_id)
    return shape(public)


def public_fields(public: BaseModel, **replaced: Any) -> dict[str, Any]:
    """The REST answer's fields by name (a GraphQL type of the same fields takes them), with the
    nested ones the caller gives in their GraphQL types."""
    return {name: getattr(public, name) for name in type(public).model_fields} | replaced
