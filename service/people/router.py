"""REST for person references: create, list, read, update services, sync by reference.

A person's sync takes an optional body (a reference alone names a person), so its route is its own.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from service.dependencies import SessionDep
from service.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from service.people.schemas import (
    PersonRefCreate,
    PersonRefFilter,
    PersonRefPublic,
    PersonRefSync,
    PersonRefUpdate,
)
from service.people.service import people
from service.reference.routing import (
    ExternalRefPath,
    Reader,
    ReferenceRoutes,
    SourceSystemPath,
    SourceSystemQuery,
    Writer,
)
from service.reference.types import EXTERNAL_REF_PATTERN, MAX_EXTERNAL_REF
from service.touchpoints.limits import BodyLimitedRoute

router = APIRouter(prefix="/people", tags=["people"], route_class=BodyLimitedRoute)
routes = ReferenceRoutes(router, people, row="person_ref", public=PersonRefPublic)

routes.create("create_person_ref", PersonRefCreate, summary="Create a person reference")


@routes.list("list_person_refs", summary="List person references")
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
    return await people.list_page(
        session=session, principal=principal, filters=filters, limit=limit, cursor=cursor
    )


routes.read("get_person_ref", summary="Read a person reference")
routes.update("update_person_ref", PersonRefUpdate, summary="Change the services supporting a person")


@routes.sync_route(
    "sync_person_ref_by_ref",
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
    synced = await people.sync(
        session=session,
        principal=principal,
        source_system=source_system,
        external_ref=external_ref,
        data=data or PersonRefSync(),
    )
    answer: PersonRefPublic = routes.synced(request, response, synced)
    return answer
