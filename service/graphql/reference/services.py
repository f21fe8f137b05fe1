"""Services: a provider's locations and branches."""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from service.graphql.connections import After, Connection, First
from service.graphql.context import GraphQLInfo
from service.graphql.enums import Phase
from service.graphql.permissions import policy
from service.graphql.reference.resolvers import listed, public_fields, read_one
from service.policy import Permission
from service.services.schemas import ServiceFilter, ServicePublic
from service.services.service import services

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
        return cls(**public_fields(public, shift_pattern=ShiftPattern(**public.shift_pattern.model_dump())))


async def services_named(info: GraphQLInfo, service_ids: list[uuid.UUID]) -> list[Service]:
    """The services among `service_ids` the caller may read (a row's `services`, through the loader)."""
    found = await info.context.loaders.service.load_many(service_ids)
    return [Service.from_public(s) for s in found if s is not None]


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
        return await listed(info, services, filters, first=first, after=after, shape=Service.from_public)

    @strawberry.field(
        extensions=[policy(Permission.reference_read)],
        description="One service (REST: GET /v1/services/{id}).",
    )
    async def service(self, info: GraphQLInfo, id: uuid.UUID) -> Service | None:
        return await read_one(info, services, id, shape=Service.from_public)
