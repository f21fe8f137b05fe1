"""REST for commissioners: the portfolio's statuses and its stage changes, cheap to poll.

Both answer with an `ETag`; send it back as `If-None-Match` and an unchanged portfolio is answered
`304 Not Modified` after a fingerprint query, without computing a single status.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response

from service.auth.principal import Principal
from service.dependencies import SessionDep, require
from service.moments import QueryDate, QueryMoment
from service.pagination import CursorParam
from service.policy import Permission
from service.portfolio import service as rules
from service.portfolio.schemas import PortfolioPage, StageChangePage
from service.reference.routing import problems
from service.status.service import DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS, MIN_WINDOW_DAYS
from service.touchpoints.limits import BodyLimitedRoute

router = APIRouter(prefix="/portfolio", tags=["portfolio"], route_class=BodyLimitedRoute)

PortfolioReader = Annotated[Principal, Depends(require(Permission.portfolio_read))]
WindowDays = Annotated[
    int, Query(ge=MIN_WINDOW_DAYS, le=MAX_WINDOW_DAYS, description="Length of the status window.")
]
AsOf = Annotated[QueryMoment | None, Query(description="Default: the start of the current hour (UTC).")]
IfNoneMatch = Annotated[str | None, Header(description="An `ETag` from an earlier answer.")]
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "Not modified since the `ETag` sent"}}


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag in tags or "*" in tags


def _cache_headers(response: Response, etag: str) -> None:
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "private, no-cache"


@router.get(
    "/status",
    operation_id="get_portfolio_status",
    response_model=PortfolioPage,
    responses={**problems(), **NOT_MODIFIED},
    summary="Every commissioned provider's embedding status",
)
async def get_portfolio_status(
    response: Response,
    session: SessionDep,
    principal: PortfolioReader,
    window_days: WindowDays = DEFAULT_WINDOW_DAYS,
    as_of: AsOf = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Providers per page.")] = 20,
    cursor: CursorParam = None,
    if_none_match: IfNoneMatch = None,
) -> PortfolioPage | Response:
    """Providers commissioned on `as_of`'s date, each innovation's status over the commissioned
    services only: no free text, no staff or person identifiers, counts from 1 to 4 withheld."""
    portfolio = await rules.open_portfolio(
        session=session,
        principal=principal,
        as_of=as_of,
        window_days=window_days,
        limit=limit,
        cursor=cursor,
    )
    if _matches(if_none_match, portfolio.etag):
        return Response(
            status_code=304, headers={"ETag": portfolio.etag, "Cache-Control": "private, no-cache"}
        )
    _cache_headers(response, portfolio.etag)
    return await rules.portfolio_status(session=session, portfolio=portfolio, limit=limit, cursor=cursor)


@router.get(
    "/changes",
    operation_id="get_portfolio_changes",
    response_model=StageChangePage,
    responses={**problems(), **NOT_MODIFIED},
    summary="Stage changes across the portfolio since a date",
)
async def get_portfolio_changes(
    response: Response,
    session: SessionDep,
    principal: PortfolioReader,
    since: Annotated[QueryDate | None, Query(description="Default: the start of the previous month.")] = None,
    window_days: WindowDays = DEFAULT_WINDOW_DAYS,
    as_of: AsOf = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Changes per page.")] = 100,
    cursor: CursorParam = None,
    if_none_match: IfNoneMatch = None,
) -> StageChangePage | Response:
    """For each provider row and commissioned service row: when its stage changed, from what to what,
    and the reasons, month by month and up to `as_of`."""
    portfolio, since = await rules.open_changes(
        session=session,
        principal=principal,
        since=since,
        as_of=as_of,
        window_days=window_days,
        limit=limit,
        cursor=cursor,
    )
    if _matches(if_none_match, portfolio.etag):
        return Response(
            status_code=304, headers={"ETag": portfolio.etag, "Cache-Control": "private, no-cache"}
        )
    _cache_headers(response, portfolio.etag)
    return await rules.portfolio_changes(
        session=session, portfolio=portfolio, since=since, limit=limit, cursor=cursor
    )
