"""Staff members: role, tenure and services for any reference reader; identity only by permission."""

import uuid
from datetime import date, datetime
from typing import Annotated

import strawberry

from service.graphql.connections import After, Connection, First
from service.graphql.context import GraphQLInfo
from service.graphql.enums import StaffRole
from service.graphql.permissions import policy
from service.graphql.reference.resolvers import listed, public_fields, read_one
from service.graphql.reference.services import Service, services_named
from service.policy import Permission
from service.staff.schemas import StaffFilter, StaffMemberPublic
from service.staff.service import staff_members


@strawberry.type(description="A member of staff. Turnover is computed from `startedOn` and `leftOn`.")
class StaffMember:
    id: uuid.UUID
    role: StaffRole
    service_ids: list[uuid.UUID] = strawberry.field(
        description="The caller's view: services outside its scope are left out."
    )
    started_on: date
    left_on: date | None = strawberry.field(description="Last working day; null while employed.")
    display_name: str | None = strawberry.field(
        extensions=[policy(Permission.staff_identity_read)], description="Optional; personal data."
    )
    source_system: str | None
    external_ref: str | None = strawberry.field(
        extensions=[policy(Permission.staff_identity_read)],
        description="The staff member's id in the sending system; identifies the person.",
    )
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="The services the staff member works in (the caller's view).")
    async def services(self, info: GraphQLInfo) -> list[Service]:
        return await services_named(info, self.service_ids)

    @classmethod
    def from_public(cls, public: StaffMemberPublic) -> "StaffMember":
        return cls(**public_fields(public))


@strawberry.type
class StaffQuery:
    @strawberry.field(
        extensions=[policy(Permission.reference_read)],
        description="Staff, oldest record first; current staff unless asked otherwise (REST: GET /v1/staff).",
    )
    async def staff(
        self,
        info: GraphQLInfo,
        first: First = 50,
        after: After = None,
        service_id: uuid.UUID | None = None,
        role: StaffRole | None = None,
        active_on: Annotated[
            date | None,
            strawberry.argument(description="Employed on that day; overrides `includeLeavers`."),
        ] = None,
        include_leavers: bool = False,
        source_system: str | None = None,
    ) -> Connection[StaffMember]:
        filters = StaffFilter(
            service_id=service_id,
            role=role,
            active_on=active_on,
            include_leavers=include_leavers,
            source_system=source_system,
        )
        return await listed(
            info, staff_members, filters, first=first, after=after, shape=StaffMember.from_public
        )

    @strawberry.field(
        extensions=[policy(Permission.reference_read)],
        description="One staff member (REST: GET /v1/staff/{id}).",
    )
    async def staff_member(self, info: GraphQLInfo, id: uuid.UUID) -> StaffMember | None:
        return await read_one(info, staff_members, id, shape=StaffMember.from_public)
