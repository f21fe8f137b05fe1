"""Touchpoint reads: REST's list (same filters, same keyset pages) and the single read."""

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from service.graphql.connections import After, Connection, First, connection, page_limit, time_id_cursor
from service.graphql.context import GraphQLInfo
from service.graphql.enums import DeliverySystem, TouchpointKind
from service.graphql.permissions import policy
from service.graphql.touchpoints.types import Touchpoint, touchpoint_of
from service.policy import Permission
from service.touchpoints.reading import get_touchpoint, list_touchpoints
from service.touchpoints.schemas import TouchpointFilters

READ = (Permission.touchpoint_read, Permission.touchpoint_read_own)


@strawberry.type
class TouchpointQuery:
    @strawberry.field(
        extensions=[policy(*READ)],
        description="Touchpoints the caller may read, oldest first by (occurredAt, id) "
        "(REST: GET /v1/touchpoints).",
    )
    async def touchpoints(
        self,
        info: GraphQLInfo,
        first: First = 50,
        after: After = None,
        service_id: uuid.UUID | None = None,
        kind: TouchpointKind | None = None,
        system: DeliverySystem | None = None,
        innovation_id: uuid.UUID | None = None,
        staff_id: Annotated[uuid.UUID | None, strawberry.argument(description="Recorder or subject.")] = None,
        person_ref_id: uuid.UUID | None = None,
        source_system: str | None = None,
        occurred_from: Annotated[datetime | None, strawberry.argument(description="Inclusive.")] = None,
        occurred_to: Annotated[datetime | None, strawberry.argument(description="Exclusive.")] = None,
    ) -> Connection[Touchpoint]:
        filters = TouchpointFilters(
            service_id=service_id,
            kind=kind,
            system=system,
            innovation_id=innovation_id,
            staff_id=staff_id,
            person_ref_id=person_ref_id,
            source_system=source_system,
            occurred_from=occurred_from,
            occurred_to=occurred_to,
        )
        async with info.context.unit_of_work() as session:
            page = await list_touchpoints(
                session=session,
                principal=info.context.principal,
                filters=filters,
                limit=page_limit(first),
                cursor=after,
            )
        return connection(
            [touchpoint_of(t) for t in page.items],
            cursors=[time_id_cursor(t.occurred_at, t.id) for t in page.items],
            next_cursor=page.next_cursor,
            after=after,
        )

    @strawberry.field(
        extensions=[policy(*READ)],
        description="One touchpoint with its earlier revisions (REST: GET /v1/touchpoints/{id}).",
    )
    async def touchpoint(self, info: GraphQLInfo, id: uuid.UUID) -> Touchpoint | None:
        async with info.context.unit_of_work() as session:
            detail = await get_touchpoint(session=session, principal=info.context.principal, touchpoint_id=id)
        return touchpoint_of(detail)
