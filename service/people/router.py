"""REST for person references: create, list, read, update services, sync by reference."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from service.dependencies import SessionDep
from service.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from service.people import service as rules
from service.people.schemas import (
    PersonRefCreate,
    PersonRefFilter,
    PersonRefPublic,
    PersonRefSync,
    PersonRefUpdate,
)
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
from service.reference.types import EXTERNAL_REF_PATTERN, MAX_EXTERNAL_REF
from service.touchpoints.limits import BodyLimitedRoute

router = APIRouter(prefix="/people", tags=["people"], route_class=BodyLimitedRoute)


@router.post(
    "",
    status_code=201,
    operation_id="create_person_ref",
    response_model=PersonRefPublic,
    responses=problems(409),
    summary="Create a person reference",
)
async def create_person_ref(
    data: PersonRefCreate, request: Request, response: Response, session: SessionDep, principal: Writer
) -> PersonRefPublic:
    created = await rules.create_person_ref(session=session, principal=principal, data=data)
    set_location(request, response, "get_person_ref", person_ref_id=str(created.id))
    return created


@router.get(
    "",
    operation_id="list_person_refs",
    response_model=Page[PersonRefPublic],
    responses=problems(),
    summary="List person references",
)
async def list_person_refs(
    session: SessionDep,
    principal: Reader,
    service_id: uuid.UUID | None = Query(default=None, description="Only people supported by this service."),
    source_system: SourceSystemQuery = None,
    external_ref: str | None = Query(
        default=None,
        min_length=1,
        max_length=MAX_EXTERNAL_REF,
        pattern=EXTERNAL_REF_PATTERN,
        description="Only the person with this reference.",
    ),
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[PersonRefPublic]:
    filters = PersonRefFilter(service_id=service_id, source_system=source_system, external_ref=external_ref)
    return await rules.list_person_refs(
        session=session, principal=principal, filters=filters, limit=limit, cursor=cursor
    )


@router.get(
    "/{person_ref_id}",
    name="get_person_ref",
    operation_id="get_person_ref",
    response_model=PersonRefPublic,
    responses=problems(),
    summary="Read a person reference",
)
async def get_person_ref(person_ref_id: uuid.UUID, session: SessionDep, principal: Reader) -> PersonRefPublic:
    return await rules.get_person_ref(session=session, principal=principal, person_ref_id=person_ref_id)


@router.patch(
    "/{person_ref_id}",
    operation_id="update_person_ref",
    response_model=PersonRefPublic,
    responses=problems(),
    summary="Change the services supporting a person",
)
async def update_person_ref(
    person_ref_id: uuid.UUID, data: PersonRefUpdate, session: SessionDep, principal: Writer
) -> PersonRefPublic:
    return await rules.update_person_ref(
        session=session, principal=principal, person_ref_id=person_ref_id, data=data
    )


@router.put(
    "/by-ref/{source_system}/{external_ref:path}",
    operation_id="sync_person_ref_by_ref",
    response_model=PersonRefPublic,
    responses={**created_response(PersonRefPublic), **problems(409)},
    summary="Create or update a person reference by its source system's reference",
    description="Idempotent: 201 when created, 200 when it existed. The body is optional.",
)
async def sync_person_ref_by_ref(
    source_system: SourceSystemPath,
    external_ref: ExternalRefPath,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
    data: Annotated[PersonRefSync | None, Body()] = None,
) -> PersonRefPublic:
    synced = await rules.sync_person_ref_by_ref(
        session=session,
        principal=principal,
        source_system=source_system,
        external_ref=external_ref,
        data=data or PersonRefSync(),
    )
    if synced.created:
        response.status_code = 201
        set_location(request, response, "get_person_ref", person_ref_id=str(synced.row.id))
    return synced.row
