"""REST for services: create, list, read, update, and sync by the source system's reference."""

from fastapi import APIRouter, Query

from service.dependencies import SessionDep
from service.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from service.reference.routing import Reader, ReferenceRoutes, SourceSystemQuery
from service.services.schemas import ServiceCreate, ServiceFilter, ServicePublic, ServiceSync, ServiceUpdate
from service.services.service import services
from service.touchpoints.limits import BodyLimitedRoute

router = APIRouter(prefix="/services", tags=["services"], route_class=BodyLimitedRoute)
routes = ReferenceRoutes(router, services, row="service", public=ServicePublic)

routes.create("create_service", ServiceCreate, summary="Create a service")


@routes.list("list_services", summary="List services")
async def list_services(
    session: SessionDep,
    principal: Reader,
    source_system: SourceSystemQuery = None,
    cqc_location_id: str | None = Query(default=None, max_length=32, description="Only this CQC location."),
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[ServicePublic]:
    filters = ServiceFilter(source_system=source_system, cqc_location_id=cqc_location_id)
    return await services.list_page(
        session=session, principal=principal, filters=filters, limit=limit, cursor=cursor
    )


routes.read("get_service", summary="Read a service")
routes.update("update_service", ServiceUpdate, summary="Change some fields of a service")
routes.sync(
    "sync_service_by_ref", ServiceSync, summary="Create or update a service by its source system's reference"
)
