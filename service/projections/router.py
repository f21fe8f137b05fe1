"""REST for the change feed of statuses."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from service.auth.principal import Principal
from service.dependencies import SessionDep, require
from service.pagination import LimitParam, Page
from service.policy import Permission
from service.projections import events
from service.projections.schemas import StatusEvent
from service.reference.routing import problems
from service.touchpoints.limits import BodyLimitedRoute

router = APIRouter(tags=["events"], route_class=BodyLimitedRoute)

EventReader = Annotated[Principal, Depends(require(Permission.status_read))]


@router.get(
    "/events",
    operation_id="list_events",
    response_model=Page[StatusEvent],
    responses=problems(),
    summary="Stage and RAG changes, in order",
)
async def list_events(
    session: SessionDep,
    principal: EventReader,
    after: Annotated[
        str | None,
        Query(description="`next_cursor` of the previous page (or an event's `id`); omit to start."),
    ] = None,
    limit: LimitParam = 50,
) -> Page[StatusEvent]:
    """Events of the statuses the caller may read, oldest first. `next_cursor` is always set: poll
    with it to read what follows."""
    return await events.list_events(session=session, principal=principal, after=after, limit=limit)
