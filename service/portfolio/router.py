"""REST for commissioners: the portfolio's statuses and its stage changes, cheap to poll.

Both answer with an `ETag`; send it back as `If-None-Match` and an unchanged portfolio is answered
`304 Not Modified` after a fingerprint query, without computing a single status.

The statuses also answer `Accept: text/csv` (service.portfolio.spreadsheet), for analysts.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from service.auth.principal import Principal
from service.dependencies import SessionDep, require
from service.moments import QueryDate, QueryMoment
from service.pagination import CursorParam
from service.policy import Permission
from service.portfolio import service as rules
from service.portfolio import spreadsheet
from service.portfolio.schemas import PortfolioPage, StageChangePage
from service.portfolio.selection import MAX_NAME_FILTER, SORTS, Selection
from service.reference.routing import problems
from service.status.service import DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS, MIN_WINDOW_DAYS
from service.status.vocabulary import IndicatorKey, Rag, Stage
from service.touchpoints.limits import BodyLimitedRoute

router = APIRouter(prefix="/portfolio", tags=["portfolio"], route_class=BodyLimitedRoute)

PortfolioReader = Annotated[Principal, Depends(require(Permission.portfolio_read))]
WindowDays = Annotated[
    int, Query(ge=MIN_WINDOW_DAYS, le=MAX_WINDOW_DAYS, description="Length of the status window.")
]
AsOf = Annotated[QueryMoment | None, Query(description="Default: the start of the current hour (UTC).")]
IfNoneMatch = Annotated[str | None, Header(description="An `ETag` from an earlier answer.")]
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "Not modified since the `ETag` sent"}}


CSV_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The page; as CSV for `Accept: text/csv`: a header row, then one row per "
        "innovation's provider row and per commissioned service row, each indicator's RAG, value, "
        "numerator and denominator (`suppressed` where withheld), CRLF line ends. A next page is "
        'named by a `Link: <…>; rel="next"` header.',
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
SortParam = Literal["provider", "-provider", "innovation", "-innovation", "stage", "-stage"]
assert set(SortParam.__args__) == set(SORTS)  # type: ignore[attr-defined]


def portfolio_selection(
    stage: Annotated[
        str | None,
        Query(
            description="Keep innovations whose provider row is at one of these stages, given once as a "
            f"comma list, e.g. `pilot,fading` ({', '.join(Stage)})."
        ),
    ] = None,
    indicator: Annotated[
        IndicatorKey | None,
        Query(description="With `rag`: keep innovations whose provider row rates this indicator so."),
    ] = None,
    rag: Annotated[
        str | None,
        Query(
            description="With `indicator`: the ratings to keep, a comma list, e.g. `red,amber` "
            f"({', '.join(Rag)})."
        ),
    ] = None,
    innovation: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_NAME_FILTER,
            description="Keep innovations whose name contains this, ignoring case.",
        ),
    ] = None,
    sort: Annotated[
        SortParam | None,
        Query(
            description="`provider` orders the page's providers by name; `innovation` and `stage` (in "
            "the order not_started, pilot, embedding, embedded, at_risk, fading, then by name) order "
            "each provider's innovations. `-` first for descending. Pages follow provider ids, so the "
            "order is within a page. Default: providers by id, innovations by name."
        ),
    ] = None,
) -> Selection:
    """The analyst's filters and sort of a portfolio page, checked (422 naming the parameter)."""
    return rules.parse_selection(stage=stage, indicator=indicator, rag=rag, innovation=innovation, sort=sort)


def _wants_csv(accept: str | None) -> bool:
    """Whether the client prefers `text/csv` to JSON (by the `q` weights of its `Accept`)."""
    weights: dict[str, float] = {}
    for part in (accept or "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        weights[media.lower()] = max(quality, weights.get(media.lower(), 0.0))
    return weights.get("text/csv", 0.0) > 0 and weights["text/csv"] >= weights.get("application/json", 0.0)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag in tags or "*" in tags


def _csv_answer(request: Request, response: Response, page: PortfolioPage) -> Response:
    """The page as a spreadsheet file, with the headers set on `response` and a `Link` to the next."""
    headers = dict(response.headers)
    headers["Content-Disposition"] = f'attachment; filename="portfolio-{page.as_of.date().isoformat()}.csv"'
    if page.next_cursor:
        headers["Link"] = f'<{request.url.include_query_params(cursor=page.next_cursor)}>; rel="next"'
    return Response(spreadsheet.portfolio_csv(page.items), media_type=spreadsheet.MEDIA_TYPE, headers=headers)


def _cache_headers(response: Response, etag: str) -> None:
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Accept"


@router.get(
    "/status",
    operation_id="get_portfolio_status",
    response_model=PortfolioPage,
    responses={**problems(), **NOT_MODIFIED, **CSV_ANSWER},
    summary="Every commissioned provider's embedding status",
)
async def get_portfolio_status(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PortfolioReader,
    selection: Annotated[Selection, Depends(portfolio_selection)],
    window_days: WindowDays = DEFAULT_WINDOW_DAYS,
    as_of: AsOf = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Providers per page.")] = 20,
    cursor: CursorParam = None,
    if_none_match: IfNoneMatch = None,
) -> PortfolioPage | Response:
    """Providers commissioned on `as_of`'s date, each innovation's status over the commissioned
    services only: no free text, no staff or person identifiers, counts from 1 to 4 withheld.

    Filters judge an innovation by its provider row (rolled up over the commissioned services) and
    keep all its rows; a provider with no innovation kept is left off the page, so a filtered page
    may hold fewer than `limit` providers while `next_cursor` still leads on. `medians` gives each
    indicator's median over the rows shown, for comparison."""
    # Content negotiation, not a parameter: OpenAPI ignores an `Accept` parameter.
    as_csv = _wants_csv(request.headers.get("accept"))
    portfolio = await rules.open_portfolio(
        session=session,
        principal=principal,
        as_of=as_of,
        window_days=window_days,
        limit=limit,
        cursor=cursor,
        selection=selection,
        representation="csv" if as_csv else "json",
    )
    if _matches(if_none_match, portfolio.etag):
        return Response(
            status_code=304,
            headers={"ETag": portfolio.etag, "Cache-Control": "private, no-cache", "Vary": "Accept"},
        )
    _cache_headers(response, portfolio.etag)
    page = await rules.portfolio_status(session=session, portfolio=portfolio, limit=limit, cursor=cursor)
    return _csv_answer(request, response, page) if as_csv else page


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
