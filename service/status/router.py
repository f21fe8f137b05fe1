"""REST for embedding status: every status in scope, one innovation's status, its monthly history,
the evidence behind an indicator, and the thresholds statuses are judged against."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from service.auth.principal import Principal
from service.dependencies import ReadSessionDep, SessionDep, require
from service.moments import QueryMoment
from service.pagination import CursorParam, LimitParam, Page
from service.policy import Permission
from service.projections import etags
from service.reference.routing import problems
from service.status import evidence as evidence_rules
from service.status import service as rules
from service.status import threshold_service
from service.status.schemas import (
    EmbeddingStatus,
    EvidencePage,
    InnovationStatuses,
    StatusHistory,
    ThresholdsView,
)
from service.status.thresholds import ThresholdOverrides
from service.status.vocabulary import IndicatorKey
from service.touchpoints.limits import BodyLimitedRoute

router = APIRouter(tags=["status"], route_class=BodyLimitedRoute)

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the projection is still the one named by `If-None-Match`."}
}

StatusReader = Annotated[Principal, Depends(require(Permission.status_read))]
EvidenceReader = Annotated[Principal, Depends(require(Permission.evidence_read))]
ThresholdReader = Annotated[Principal, Depends(require(Permission.status_read, Permission.thresholds_manage))]
ThresholdManager = Annotated[Principal, Depends(require(Permission.thresholds_manage))]

InnovationId = Annotated[uuid.UUID, Path(description="The innovation.")]
ServiceIdQuery = Annotated[
    uuid.UUID | None, Query(description="One service; omit for the provider, rolled up from the same counts.")
]
WindowDays = Annotated[
    int,
    Query(
        ge=rules.MIN_WINDOW_DAYS,
        le=rules.MAX_WINDOW_DAYS,
        description="Length of the window ending at `as_of`; it starts at the nearest local month boundary.",
    ),
]
AsOf = Annotated[
    QueryMoment | None,
    Query(
        description="The moment described: touchpoints that occurred before it, as recorded now. Default now."
    ),
]
KnownAt = Annotated[
    QueryMoment | None,
    Query(
        description="Use only what had been recorded (and corrected) by this moment. `as_of` defaults to it."
    ),
]


@router.get(
    "/status",
    operation_id="list_statuses",
    response_model=Page[InnovationStatuses],
    responses={**problems(), **NOT_MODIFIED},
    summary="Every innovation's status in the caller's scope",
)
async def list_statuses(
    request: Request,
    response: Response,
    session: SessionDep,
    read: ReadSessionDep,
    principal: StatusReader,
    window_days: WindowDays = rules.DEFAULT_WINDOW_DAYS,
    as_of: AsOf = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Innovations per page.")] = 20,
    cursor: CursorParam = None,
) -> Page[InnovationStatuses] | Response:
    """For each innovation the caller may read: the provider row (rolled up over the services the
    caller may see) and one row per service. "Now" with the default window is served from
    projections, with an `ETag` (`If-None-Match` → 304)."""
    page = await rules.list_statuses(
        session=session,
        read=read,
        principal=principal,
        window_days=window_days,
        as_of=as_of,
        limit=limit,
        cursor=cursor,
    )
    tag = etags.etag(s for item in page.items for s in (item.provider, *item.services))
    return etags.not_modified(request, response, tag) or page


@router.get(
    "/innovations/{innovation_id}/status",
    operation_id="get_innovation_status",
    response_model=EmbeddingStatus,
    responses={**problems(), **NOT_MODIFIED},
    summary="One innovation's embedding status",
)
async def get_innovation_status(
    request: Request,
    response: Response,
    innovation_id: InnovationId,
    session: SessionDep,
    read: ReadSessionDep,
    principal: StatusReader,
    service_id: ServiceIdQuery = None,
    window_days: WindowDays = rules.DEFAULT_WINDOW_DAYS,
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> EmbeddingStatus | Response:
    """Indicators, stage with its reasons, context measures and the thresholds used. "Now" with
    the default window is served from a projection, with `computed_at` and an `ETag`
    (`If-None-Match` → 304)."""
    status = await rules.innovation_status(
        session=session,
        read=read,
        principal=principal,
        innovation_id=innovation_id,
        service_id=service_id,
        window_days=window_days,
        as_of=as_of,
        known_at=known_at,
    )
    return etags.not_modified(request, response, etags.etag([status])) or status


@router.get(
    "/innovations/{innovation_id}/status/history",
    operation_id="get_innovation_status_history",
    response_model=StatusHistory,
    responses={**problems(), **NOT_MODIFIED},
    summary="One innovation's monthly series",
)
async def get_innovation_status_history(
    request: Request,
    response: Response,
    innovation_id: InnovationId,
    session: SessionDep,
    read: ReadSessionDep,
    principal: StatusReader,
    service_id: ServiceIdQuery = None,
    months: Annotated[
        int, Query(ge=1, le=rules.MAX_HISTORY_MONTHS, description="Months, the current one included.")
    ] = 12,
    window_days: WindowDays = rules.DEFAULT_WINDOW_DAYS,
    as_of: AsOf = None,
) -> StatusHistory | Response:
    """Every indicator and the stage, month by month; each month is the window ending at its end.
    "Now" with the default window and up to 12 months is served from a projection, with
    `computed_at` and an `ETag` (`If-None-Match` → 304)."""
    history = await rules.innovation_history(
        session=session,
        read=read,
        principal=principal,
        innovation_id=innovation_id,
        service_id=service_id,
        months=months,
        window_days=window_days,
        as_of=as_of,
    )
    tag = etags.etag([history], variant=f"months={months}")
    return etags.not_modified(request, response, tag) or history


@router.get(
    "/innovations/{innovation_id}/indicators/{key}/evidence",
    operation_id="list_indicator_evidence",
    response_model=EvidencePage,
    responses=problems(),
    summary="The touchpoints behind an indicator",
)
async def list_indicator_evidence(
    innovation_id: InnovationId,
    key: Annotated[IndicatorKey, Path(description="The indicator.")],
    session: SessionDep,
    principal: EvidenceReader,
    service_id: ServiceIdQuery = None,
    window_days: WindowDays = rules.DEFAULT_WINDOW_DAYS,
    as_of: AsOf = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> EvidencePage:
    """Each touchpoint with whether it counts in the numerator and the denominator. Outside the
    provider, without free text or staff and person identifiers."""
    return await evidence_rules.indicator_evidence(
        session=session,
        principal=principal,
        innovation_id=innovation_id,
        key=key,
        service_id=service_id,
        window_days=window_days,
        as_of=as_of,
        limit=limit,
        cursor=cursor,
    )


@router.get(
    "/innovations/{innovation_id}/thresholds",
    operation_id="get_innovation_thresholds",
    response_model=ThresholdsView,
    responses=problems(),
    summary="The thresholds an innovation is judged against",
)
async def get_innovation_thresholds(
    innovation_id: InnovationId, session: SessionDep, principal: ThresholdReader
) -> ThresholdsView:
    return await threshold_service.get_innovation_thresholds(
        session=session, principal=principal, innovation_id=innovation_id
    )


@router.put(
    "/innovations/{innovation_id}/thresholds",
    operation_id="put_innovation_thresholds",
    response_model=ThresholdsView,
    responses=problems(),
    summary="Set an innovation's own thresholds",
)
async def put_innovation_thresholds(
    innovation_id: InnovationId,
    overrides: Annotated[ThresholdOverrides, Body(description="Only what differs; `{}` inherits all.")],
    session: SessionDep,
    principal: ThresholdManager,
) -> ThresholdsView:
    """Green must stay stricter than amber once merged with the provider's defaults."""
    body: dict[str, Any] = overrides.model_dump(exclude_none=True)
    return await threshold_service.put_innovation_thresholds(
        session=session, principal=principal, innovation_id=innovation_id, overrides=body
    )


@router.get(
    "/thresholds",
    operation_id="get_provider_thresholds",
    response_model=ThresholdsView,
    responses=problems(),
    summary="The provider's own default thresholds",
)
async def get_provider_thresholds(session: SessionDep, principal: ThresholdReader) -> ThresholdsView:
    return await threshold_service.get_provider_thresholds(session=session, principal=principal)


@router.put(
    "/thresholds",
    operation_id="put_provider_thresholds",
    response_model=ThresholdsView,
    responses=problems(),
    summary="Set the provider's own default thresholds",
)
async def put_provider_thresholds(
    overrides: Annotated[ThresholdOverrides, Body(description="Only what differs from the defaults.")],
    session: SessionDep,
    principal: ThresholdManager,
) -> ThresholdsView:
    body: dict[str, Any] = overrides.model_dump(exclude_none=True)
    return await threshold_service.put_provider_thresholds(
        session=session, principal=principal, overrides=body
    )
