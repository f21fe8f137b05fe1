"""Services: a provider's locations and branches."""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from service.graphql.connections import After, Connection, First, connection, page_limit, time_id_cursor
from service.graphql.context import GraphQLInfo
from service.graphql.enums import Phase
from service.graphql.permissions import policy
from service.policy import Permission
from service.services import service as rules
from service.services.schemas import ServiceFilter, ServicePublic

if TYPE_CHECKING:
    from service.graphql.reference.innovations import Innovation

InnovationType = Annotated["Innovation", strawberry.lazy("service.graphql.reference.innovations")]


@strawberry.type(description="Local start times (HH:MM) of the three shifts; each runs until the next.")
class ShiftPattern:
    early: str
    late: str
    night: str


@strawberry.type(description="A location or branch of a provider: a care home, a scheme, a home care branch.")
class Service:
    id: uuid.UUID
    name: str
    timezone: str
    cqc_location_id: str | None
    shift_pattern: ShiftPattern
    source_system: str | None
    external_ref: str | None
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="Innovations in scope at this service, oldest first.")
    async def innovations(
        self, info: GraphQLInfo, first: First = 20, after: After = None, phase: Phase | None = None
    ) -> Connection[InnovationType]:
        from service.graphql.reference.innovations import innovation_page

        innovations = await info.context.loaders.innovations_of_service.load(self.id)
        if phase is not None:
            innovations = [i for i in innovations if i.phase == phase]
        return innovation_page(innovations, first=first, after=after, scope_service_id=self.id)

    @classmethod
    def from_public(cls, public: ServicePublic) -> "Service":
        return cls(
            id=public.id,
            name=public.name,
            timezone=public.timezone,
            cqc_location_id=public.cqc_location_id,
            shift_pattern=ShiftPattern(**public.shift_pattern.model_dump()),
            source_system=public.source_system,
            external_ref=public.external_ref,
            created_at=public.created_at,
            updated_at=public.updated_at,
        )


@strawberry.type
class ServiceQuery:
    @strawberry.field(
        extensions=[policy(Permission.reference_read)],
        description="The caller's services, oldest first (REST: GET /v1/services).",
    )
    async def services(
        self,
        info: GraphQLInfo,
        first: First = 50,
        after: After = None,
        source_system: str | None = None,
        cqc_location_id: str | None = None,
    ) -> Connection[Service]:
        filters = ServiceFilter(source_system=source_system, cqc_location_id=cqc_location_id)
        async with info.context.unit_of_work() as session:
            page = await rules.list_services(
                session=session,
                principal=info.context.principal,
                filters=filters,
                limit=page_limit(first),
                cursor=after,
            )
        return connection(
            [Service.from_public(s) for s in page.items],
            cursors=[time_id_cursor(s.created_at, s.id) for s in page.items],
            next_cursor=page.next_cursor,
            after=after,
        )

    @strawberry.field(
        extensions=[policy(Permission.reference_read)],
        description="One service (REST: GET /v1/services/{id}).",
    )
    async def service(self, info: GraphQLInfo, id: uuid.UUID) -> Service | None:
        async with info.context.unit_of_work() as session:
            public = await rules.get_service(session=session, principal=info.context.principal, service_id=id)
        return Service.from_public(public)
