"""REST for staff members: create, list, read, update (a leaver gets `left_on`), sync by reference."""

import uuid

from fastapi import APIRouter, Query, Request, Response

from service.dependencies import SessionDep
from service.moments import QueryDate
from service.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from service.reference.routing import (
    ExternalRefPath,
    Reader,
    SourceSystemPath,
    SourceSystemQuery,
    Writer,
    created_response,
    problems,
    set_location,
)
from service.staff import service as rules
from service.staff.schemas import (
    StaffFilter,
    StaffMemberCreate,
    StaffMemberPublic,
    StaffMemberSync,
    StaffMemberUpdate,
)
from service.touchpoints.limits import BodyLimitedRoute
from service.vocabulary import StaffRole

router = APIRouter(prefix="/staff", tags=["staff"], route_class=BodyLimitedRoute)

IDENTITY_NOTE = "`display_name` and `external_ref` are null for callers that may not read staff identity."


@router.post(
    "",
    status_code=201,
    operation_id="create_staff_member",
    response_model=StaffMemberPublic,
    responses=problems(409),
    summary="Create a staff member",
)
async def create_staff_member(
    data: StaffMemberCreate, request: Request, response: Response, session: SessionDep, principal: Writer
) -> StaffMemberPublic:
    created = await rules.create_staff_member(session=session, principal=principal, data=data)
    set_location(request, response, "get_staff_member", staff_member_id=str(created.id))
    return created


@router.get(
    "",
    operation_id="list_staff_members",
    response_model=Page[StaffMemberPublic],
    responses=problems(),
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
    return await rules.list_staff_members(
        session=session, principal=principal, filters=filters, limit=limit, cursor=cursor
    )


@router.get(
    "/{staff_member_id}",
    name="get_staff_member",
    operation_id="get_staff_member",
    response_model=StaffMemberPublic,
    responses=problems(),
    summary="Read a staff member",
    description=IDENTITY_NOTE,
)
async def get_staff_member(
    staff_member_id: uuid.UUID, session: SessionDep, principal: Reader
) -> StaffMemberPublic:
    return await rules.get_staff_member(session=session, principal=principal, staff_member_id=staff_member_id)


@router.patch(
    "/{staff_member_id}",
    operation_id="update_staff_member",
    response_model=StaffMemberPublic,
    responses=problems(),
    summary="Change some fields of a staff member",
    description="Record a leaver by setting `left_on`; staff members are never deleted.",
)
async def update_staff_member(
    staff_member_id: uuid.UUID, data: StaffMemberUpdate, session: SessionDep, principal: Writer
) -> StaffMemberPublic:
    return await rules.update_staff_member(
        session=session, principal=principal, staff_member_id=staff_member_id, data=data
    )


@router.put(
    "/by-ref/{source_system}/{external_ref:path}",
    operation_id="sync_staff_member_by_ref",
    response_model=StaffMemberPublic,
    responses={**created_response(StaffMemberPublic), **problems(409)},
    summary="Create or update a staff member by its source system's reference",
    description="Idempotent: 201 when created, 200 when it existed (unchanged if the body is the same).",
)
async def sync_staff_member_by_ref(
    source_system: SourceSystemPath,
    external_ref: ExternalRefPath,
    data: StaffMemberSync,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
) -> StaffMemberPublic:
    synced = await rules.sync_staff_member_by_ref(
        session=session,
        principal=principal,
        source_system=source_system,
        external_ref=external_ref,
        data=data,
    )
    if synced.created:
        response.status_code = 201
        set_location(request, response, "get_staff_member", staff_member_id=str(synced.row.id))
    return synced.row
