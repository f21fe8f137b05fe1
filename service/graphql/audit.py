"""The access log, for the provider admins who may read it: who touched the organisation's data."""

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from service.audit.repository import AccessLogFilter
from service.audit.schemas import AccessLogEntryPublic
from service.audit.service import list_access_log
from service.graphql.connections import After, Connection, First, connection, page_limit
from service.graphql.context import GraphQLInfo
from service.graphql.permissions import policy
from service.pagination import encode_cursor
from service.policy import Permission


@strawberry.type(description="One write, or one read of free text or staff identity.")
class AccessLogEntry:
    id: int
    at: datetime
    sub: str = strawberry.field(description="Token subject of the caller (a user, or a client's id).")
    roles: list[str]
    actor_organisation_id: uuid.UUID | None = strawberry.field(
        description="The caller's organisation; differs from yours when a commissioner or regulator read."
    )
    client_id: str | None
    action: str = strawberry.field(description="What was done, e.g. `touchpoint.create`.")
    resource_type: str
    record_ids: list[uuid.UUID] | None = strawberry.field(description="The records touched (at most 1000).")
    record_count: int
    method: str | None
    path: str | None
    ip: str | None
    request_id: str | None

    @classmethod
    def from_public(cls, public: AccessLogEntryPublic) -> "AccessLogEntry":
        return cls(**public.model_dump())


@strawberry.type
class AccessLogQuery:
    @strawberry.field(
        extensions=[policy(Permission.audit_read)],
        description="The caller's organisation's access log, newest first (REST: GET /v1/access-log). "
        "Reading it is not itself logged.",
    )
    async def access_log(
        self,
        info: GraphQLInfo,
        first: First = 50,
        after: After = None,
        action: str | None = None,
        sub: str | None = None,
        resource_type: str | None = None,
        at_from: Annotated[datetime | None, strawberry.argument(description="At or after.")] = None,
        at_to: Annotated[datetime | None, strawberry.argument(description="Before.")] = None,
    ) -> Connection[AccessLogEntry]:
        filters = AccessLogFilter(
            action=action, sub=sub, resource_type=resource_type, at_from=at_from, at_to=at_to
        )
        async with info.context.unit_of_work() as session:
            page = await list_access_log(
                session=session,
                principal=info.context.principal,
                filters=filters,
                cursor=after,
                limit=page_limit(first),
            )
        return connection(
            [AccessLogEntry.from_public(e) for e in page.items],
            # The REST list pages newest first by id; an entry's cursor is its id.
            cursors=[encode_cursor([e.id]) for e in page.items],
            next_cursor=page.next_cursor,
            after=after,
        )
