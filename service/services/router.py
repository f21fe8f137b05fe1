"""REST for services: create, list, read, update, and sync by the source system's reference."""

import uuid

from fastapi import APIRouter, Query, Request, Response

from service.dependencies import SessionDep
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
from service.services import service as rules
from service.services.schemas import ServiceCreate, ServiceFilter, ServicePublic, ServiceSync, ServiceUpdate
from service.touchpoints.limits import BodyLimitedRoute

router = APIRouter(prefix="/services", tags=["services"], route_class=BodyLimitedRoute)


@router.post(
    "",
    status_code=201,
    operation_id="create_service",
    response_model=ServicePublic,
    responses=problems(409),
    summary="Create a service",
)
async def create_service(
    data: ServiceCreate, request: Request, response: Response, session: SessionDep, principal: Writer
) -> ServicePublic:
    created = await rules.create_service(session=session, principal=principal, data=data)
    set_location(request, response, "get_service", service_id=str(created.id))
    return created


@router.get(
    "",
    operation_id="list_services",
    response_model=Page[ServicePublic],
    responses=problems(),
    summary="List services",
)
async def list_services(
    session: SessionDep,
    principal: Reader,
    source_system: SourceSystemQuery = None,
    cqc_location_id: str | None = Query(default=None, max_length=32, description="Only this CQC location."),
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[ServicePublic]:
    filters = ServiceFilter(source_system=source_system, cqc_location_id=cqc_location_id)
    return await rules.list_services(
        session=session, principal=principal, filters=filters, limit=limit, cursor=cursor
    )


@router.get(
    "/{service_id}",
    name="get_service",
    operation_id="get_service",
    response_model=ServicePublic,
    responses=problems(),
    summary="Read a service",
)
async def get_service(service_id: uuid.UUID, session: SessionDep, principal: Reader) -> ServicePublic:
    return await rules.get_service(session=session, principal=principal, service_id=service_id)


@router.patch(
    "/{service_id}",
    operation_id="update_service",
    response_model=ServicePublic,
    responses=problems(),
    summary="Change some fields of a service",
)
async def update_service(
    service_id: uuid.UUID, data: ServiceUpdate, session: SessionDep, principal: Writer
) -> ServicePublic:
    return await rules.update_service(session=session, principal=principal, service_id=service_id, data=data)


@router.put(
    "/by-ref/{source_system}/{external_ref:path}",
    operation_id="sync_service_by_ref",
    response_model=ServicePublic,
    responses={**created_response(ServicePublic), **problems(409)},
    summary="Create or update a service by its source system's reference",
    description="Idempotent: 201 when created, 200 when it existed (unchanged if the body is the same).",
)
async def sync_service_by_ref(
    source_system: SourceSystemPath,
    external_ref: ExternalRefPath,
    data: ServiceSync,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
) -> ServicePublic:
    synced = await rules.sync_service_by_ref(
        session=session,
        principal=principal,
        source_system=source_system,
        external_ref=external_ref,
        data=data,
    )
    if synced.created:
        response.status_code = 201
        set_location(request, response, "get_service", service_id=str(synced.row.id))
    return synced.row
