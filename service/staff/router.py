"""REST for staff members: create, list, read, update (a leaver gets `left_on`), sync by reference."""

import uuid

from fastapi import APIRouter, Query

from service.dependencies import SessionDep
from service.moments import QueryDate
from service.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from service.reference.routing import Reader, ReferenceRoutes, SourceSystemQuery
from service.staff.schemas import (
    StaffFilter,
    StaffMemberCreate,
    StaffMemberPublic,
    StaffMemberSync,
    StaffMemberUpdate,
)
from service.staff.service import staff_members
from service.touchpoints.limits import BodyLimitedRoute
from service.vocabulary import StaffRole

router = APIRouter(prefix="/staff", tags=["staff"], route_class=BodyLimitedRoute)
routes = ReferenceRoutes(router, staff_members, row="staff_member", public=StaffMemberPublic)

IDENTITY_NOTE = "`display_name` and `external_ref` are null for callers that may not read staff identity."

routes.create("create_staff_member", StaffMemberCreate, summary="Create a staff member")


@routes.list(
    "list_staff_members",
    summary="List staff members",
    description="Current staff unless `include_leavers` or `active_on` says otherwise. " + IDENTITY_NOTE,
)
async def list_staff_members(
    session: SessionDep,
    principal: Reader,
    service_id: uuid.UUID | None = Query(default=None, description="Only staff working in this service."),
    role: StaffRole | None = Query(default=None, description="Only staff in this role."),
    active_on: QueryDate | None = Query(
        default=None, description="Only staff employed on this day (started on or before, not yet left)."
    ),
    include_leavers: bool = Query(default=False, description="Also staff whose `left_on` has passed."),
    source_system: SourceSystemQuery = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[StaffMemberPublic]:
    filters = StaffFilter(
        service_id=service_id,
        role=role,
        active_on=active_on,
        include_leavers=include_leavers,
        source_system=source_system,
    )
    return await staff_members.list_page(
        session=session, principal=principal, filters=filters, limit=limit, cursor=cursor
    )


routes.read("get_staff_member", summary="Read a staff member", description=IDENTITY_NOTE)
routes.update(
    "update_staff_member",
    StaffMemberUpdate,
    summary="Change some fields of a staff member",
    description="Record a leaver by setting `left_on`; staff members are never deleted.",
)
routes.sync(
    "sync_staff_member_by_ref",
    StaffMemberSync,
    summary="Create or update a staff member by its source system's reference",
)
