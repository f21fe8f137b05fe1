"""Staff members: role, tenure and services for any reference reader; identity only by permission."""

import uuid
from datetime import date, datetime
from typing import Annotated

import strawberry

from service.graphql.connections import After, Connection, First, connection, page_limit, time_id_cursor
from service.graphql.context import GraphQLInfo
from service.graphql.enums import StaffRole
from service.graphql.permissions import policy
from service.graphql.reference.services import Service
from service.policy import Permission
from service.staff import service as rules
from service.staff.schemas import StaffFilter, StaffMemberPublic


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
        found = await info.context.loaders.service.load_many(self.service_ids)
        return [Service.from_public(s) for s in found if s is not None]

    @classmethod
    def from_public(cls, public: StaffMemberPublic) -> "StaffMember":
        return cls(
            id=public.id,
            role=public.role,
            service_ids=public.service_ids,
            started_on=public.started_on,
            left_on=public.left_on,
            display_name=public.display_name,
            source_system=public.source_system,
            external_ref=public.external_ref,
            created_at=public.created_at,
            updated_at=public.updated_at,
        )


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
        async with info.context.unit_of_work() as session:
            page = await rules.list_staff_members(
                session=session,
                principal=info.context.principal,
                filters=filters,
                limit=page_limit(first),
                cursor=after,
            )
        return connection(
            [StaffMember.from_public(s) for s in page.items],
            cursors=[time_id_cursor(s.created_at, s.id) for s in page.items],
            next_cursor=page.next_cursor,
            after=after,
        )

    @strawberry.field(
        extensions=[policy(Permission.reference_read)],
        description="One staff member (REST: GET /v1/staff/{id}).",
    )
    async def staff_member(self, info: GraphQLInfo, id: uuid.UUID) -> StaffMember | None:
        async with info.context.unit_of_work() as session:
            public = await rules.get_staff_member(
                session=session, principal=info.context.principal, staff_member_id=id
            )
        return StaffMember.from_public(public)
