"""GET /v1/access-log: a provider admin pages through who touched its organisation's data."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from service.audit.repository import AccessLogFilter
from service.audit.schemas import AccessLogEntryPublic
from service.audit.service import list_access_log as list_access_log_page
from service.auth.principal import Principal
from service.dependencies import SessionDep, require
from service.errors import PROBLEM_RESPONSES
from service.moments import QueryMoment
from service.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from service.policy import Permission
from service.touchpoints.limits import BodyLimitedRoute

router = APIRouter(
    prefix="/access-log", tags=["access log"], responses=PROBLEM_RESPONSES, route_class=BodyLimitedRoute
)


@router.get("", operation_id="list_access_log", response_model=Page[AccessLogEntryPublic])
async def list_access_log(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Permission.audit_read))],
    action: Annotated[str | None, Query(description="Only this action, e.g. `user.update`.")] = None,
    sub: Annotated[str | None, Query(description="Only this caller (token subject).")] = None,
    resource_type: Annotated[str | None, Query(description="Only this kind of record.")] = None,
    at_from: Annotated[QueryMoment | None, Query(description="Entries at or after this moment.")] = None,
    at_to: Annotated[QueryMoment | None, Query(description="Entries before this moment.")] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[AccessLogEntryPublic]:
    """The caller's organisation's access log (writes, and reads of free text or staff identity),
    newest first. Reading the log is not itself logged: each page view would add to what is paged."""
    filters = AccessLogFilter(
        action=action, sub=sub, resource_type=resource_type, at_from=at_from, at_to=at_to
    )
    return await list_access_log_page(
        session=session, principal=principal, filters=filters, cursor=cursor, limit=limit
    )
