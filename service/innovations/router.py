"""REST for innovations: create, list, read, update (retire by phase), sync by reference.

Managing innovations is a quality lead's or provider admin's work (`innovation:manage`); an
integration client may also keep them in step with its own system through the sync route.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from service.auth.principal import Principal
from service.dependencies import SessionDep, require
from service.innovations import service as rules
from service.innovations.schemas import (
    InnovationCreate,
    InnovationFilter,
    InnovationPublic,
    InnovationSync,
    InnovationUpdate,
)
from service.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from service.policy import Permission
from service.reference.routing import (
    ExternalRefPath,
    Reader,
    SourceSystemPath,
    SourceSystemQuery,
    created_response,
    problems,
    set_location,
)
from service.touchpoints.limits import BodyLimitedRoute
from service.vocabulary import Phase

router = APIRouter(prefix="/innovations", tags=["innovations"], route_class=BodyLimitedRoute)

Manager = Annotated[Principal, Depends(require(Permission.innovation_manage))]
Syncer = Annotated[Principal, Depends(require(Permission.innovation_manage, Permission.reference_write))]


@router.post(
    "",
    status_code=201,
    operation_id="create_innovation",
    response_model=InnovationPublic,
    responses=problems(409),
    summary="Create an innovation",
)
async def create_innovation(
    data: InnovationCreate, request: Request, response: Response, session: SessionDep, principal: Manager
) -> InnovationPublic:
    created = await rules.create_innovation(session=session, principal=principal, data=data)
    set_location(request, response, "get_innovation", innovation_id=str(created.id))
    return created


@router.get(
    "",
    operation_id="list_innovations",
    response_model=Page[InnovationPublic],
    responses=problems(),
    summary="List innovations",
)
async def list_innovations(
    session: SessionDep,
    principal: Reader,
    service_id: uuid.UUID | None = Query(
        default=None, description="Only innovations in scope at this service."
    ),
    phase: Phase | None = Query(default=None, description="Only innovations in this declared phase."),
    source_system: SourceSystemQuery = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[InnovationPublic]:
    filters = InnovationFilter(service_id=service_id, phase=phase, source_system=source_system)
    return await rules.list_innovations(
        session=session, principal=principal, filters=filters, limit=limit, cursor=cursor
    )


@router.get(
    "/{innovation_id}",
    name="get_innovation",
    operation_id="get_innovation",
    response_model=InnovationPublic,
    responses=problems(),
    summary="Read an innovation",
)
async def get_innovation(
    innovation_id: uuid.UUID, session: SessionDep, principal: Reader
) -> InnovationPublic:
    return await rules.get_innovation(session=session, principal=principal, innovation_id=innovation_id)


@router.patch(
    "/{innovation_id}",
    operation_id="update_innovation",
    response_model=InnovationPublic,
    responses=problems(),
    summary="Change some fields of an innovation",
    description="Retire it with `phase: retired`; innovations are never deleted.",
)
async def update_innovation(
    innovation_id: uuid.UUID, data: InnovationUpdate, session: SessionDep, principal: Manager
) -> InnovationPublic:
    return await rules.update_innovation(
        session=session, principal=principal, innovation_id=innovation_id, data=data
    )


@router.put(
    "/by-ref/{source_system}/{external_ref:path}",
    operation_id="sync_innovation_by_ref",
    response_model=InnovationPublic,
    responses={**created_response(InnovationPublic), **problems(409)},
    summary="Create or update an innovation by its source system's reference",
    description="Idempotent: 201 when created, 200 when it existed (unchanged if the body is the same).",
)
async def sync_innovation_by_ref(
    source_system: SourceSystemPath,
    external_ref: ExternalRefPath,
    data: InnovationSync,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Syncer,
) -> InnovationPublic:
    synced = await rules.sync_innovation_by_ref(
        session=session,
        principal=principal,
        source_system=source_system,
        external_ref=external_ref,
        data=data,
    )
    if synced.created:
        response.status_code = 201
        set_location(request, response, "get_innovation", innovation_id=str(synced.row.id))
    return synced.row
