"""REST for innovations: create, list, read, update (retire by phase), sync by reference.

Managing innovations is a quality lead's or provider admin's work (`innovation:manage`); an
integration client may also keep them in step with its own system through the sync route.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from service.auth.principal import Principal
from service.dependencies import SessionDep, require
from service.innovations.schemas import (
    InnovationCreate,
    InnovationFilter,
    InnovationPublic,
    InnovationSync,
    InnovationUpdate,
)
from service.innovations.service import innovations
from service.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from service.policy import Permission
from service.reference.routing import Reader, ReferenceRoutes, SourceSystemQuery
from service.touchpoints.limits import BodyLimitedRoute
from service.vocabulary import Phase

router = APIRouter(prefix="/innovations", tags=["innovations"], route_class=BodyLimitedRoute)

Manager = Annotated[Principal, Depends(require(Permission.innovation_manage))]
Syncer = Annotated[Principal, Depends(require(Permission.innovation_manage, Permission.reference_write))]

routes = ReferenceRoutes(
    router, innovations, row="innovation", public=InnovationPublic, writer=Manager, syncer=Syncer
)

routes.create("create_innovation", InnovationCreate, summary="Create an innovation")


@routes.list("list_innovations", summary="List innovations")
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
    return await innovations.list_page(
        session=session, principal=principal, filters=filters, limit=limit, cursor=cursor
    )


routes.read("get_innovation", summary="Read an innovation")
routes.update(
    "update_innovation",
    InnovationUpdate,
    summary="Change some fields of an innovation",
    description="Retire it with `phase: retired`; innovations are never deleted.",
)
routes.sync(
    "sync_innovation_by_ref",
    InnovationSync,
    summary="Create or update an innovation by its source system's reference",
)
