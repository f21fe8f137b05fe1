"""REST for touchpoints: record one or a batch, correct, list and read.

Bodies are taken as posted and validated by the service functions through
`service.touchpoints.validation` (the batch must answer per item, so a framework-level refusal of the
whole request would be wrong); the declared models document them.
Responses are serialised once to bytes, which is also what an `Idempotency-Key` replay returns.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from pydantic import SkipValidation, TypeAdapter

from service.auth.principal import Principal
from service.dependencies import ReadSessionDep, SessionDep, require, writes_in_one_statement
from service.errors import PROBLEM_JSON, PROBLEM_RESPONSES
from service.moments import QueryMoment
from service.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from service.policy import Permission
from service.touchpoints.corrections import (
    CorrectedTouchpoint,
    correct_touchpoint,
    correct_touchpoint_by_source,
)
from service.touchpoints.idempotency import (
    HEADER,
    StoredResponse,
    request_fingerprint,
    run_once,
)
from service.touchpoints.ingest import record_touchpoint, record_touchpoints
from service.touchpoints.limits import BodyLimitedRoute
from service.touchpoints.reading import get_touchpoint, list_touchpoints
from service.touchpoints.schemas import (
    TouchpointBatchResults,
    TouchpointDetail,
    TouchpointFilters,
    TouchpointPublic,
)
from service.touchpoints.validation import posted_items
from service.touchpoints.validation.shape import TouchpointBatchCreate, TouchpointCreate
from service.vocabulary import DeliverySystem, TouchpointKind

router = APIRouter(prefix="/touchpoints", tags=["touchpoints"], route_class=BodyLimitedRoute)

Writer = Annotated[Principal, Depends(require(Permission.touchpoint_write))]
Reader = Annotated[Principal, Depends(require(Permission.touchpoint_read, Permission.touchpoint_read_own))]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description="Makes a retry safe: a repeat within 24 hours gets the first response, unrun; "
        "the same key with a different body is refused (422).",
    ),
]
TouchpointBody = Annotated[SkipValidation[TouchpointCreate], Body()]

_PUBLIC = TypeAdapter(TouchpointPublic)
_RESULTS = TypeAdapter(TouchpointBatchResults)
_LIMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {
        "description": "A size limit was exceeded; the problem names the limit and its value.",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}
_CONFLICT_RESPONSE: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "The external id is recorded with different content; `correct_with` says how to "
        "correct it.",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}


def _as_posted(body: object) -> Any:
    """The body as parsed JSON: the declared model only documents it (see the module docstring)."""
    return body


def _location(touchpoint_id: uuid.UUID) -> str:
    return f"/v1/touchpoints/{touchpoint_id}"


def _respond(stored: StoredResponse, *, replayed: bool = False) -> Response:
    headers = {"Location": stored.location} if stored.location else {}
    if replayed:
        headers["Idempotency-Replayed"] = "true"
    return Response(stored.body, status_code=stored.status, headers=headers, media_type="application/json")


async def _idempotent(
    request: Request,
    session: SessionDep,
    principal: Principal,
    key: str | None,
    run: Any,
) -> Response:
    """Run `run()` once per key: a repeat answers with the stored first response."""
    fingerprint = (
        request_fingerprint(request.method, request.url.path, await request.body()) if key is not None else ""
    )
    stored, replayed = await run_once(
        session=session, principal=principal, key=key, fingerprint=fingerprint, run=run
    )
    return _respond(stored, replayed=replayed)


@router.post(
    "",
    operation_id="create_touchpoint",
    summary="Record one touchpoint",
    status_code=201,
    response_model=TouchpointPublic,
    responses={
        **PROBLEM_RESPONSES,
        **_CONFLICT_RESPONSE,
        **_LIMIT_RESPONSES,
        200: {
            "description": "Already recorded with identical content: the stored record.",
            "model": TouchpointPublic,
        },
    },
)
@writes_in_one_statement(unless_header=HEADER)
async def create_touchpoint(
    request: Request,
    body: TouchpointBody,
    session: SessionDep,
    principal: Writer,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def run() -> StoredResponse:
        recorded = await record_touchpoint(session=session, principal=principal, item=_as_posted(body))
        status = 201 if recorded.status == "created" else 200
        return StoredResponse(
            status, _PUBLIC.dump_json(recorded.touchpoint), _location(recorded.touchpoint.id)
        )

    return await _idempotent(request, session, principal, idempotency_key, run)


@router.post(
    "/batch",
    operation_id="create_touchpoint_batch",
    summary="Record up to 1,000 touchpoints, each with its own result",
    response_model=TouchpointBatchResults,
    responses={**PROBLEM_RESPONSES, **_LIMIT_RESPONSES},
)
async def create_touchpoint_batch(
    request: Request,
    body: Annotated[SkipValidation[TouchpointBatchCreate], Body()],
    session: SessionDep,
    principal: Writer,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    items = posted_items(body)

    async def run() -> StoredResponse:
        results = await record_touchpoints(session=session, principal=principal, items=items)
        return StoredResponse(200, _RESULTS.dump_json(TouchpointBatchResults(results=results)), None)

    return await _idempotent(request, session, principal, idempotency_key, run)


def _corrected(result: CorrectedTouchpoint) -> Response:
    status = 201 if result.status == "created" else 200
    headers = {"Location": _location(result.touchpoint.id)} if status == 201 else {}
    return Response(
        _PUBLIC.dump_json(result.touchpoint),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


@router.put(
    "/{touchpoint_id}",
    operation_id="correct_touchpoint",
    summary="Correct a touchpoint: replace it, keeping the earlier version as a revision",
    response_model=TouchpointPublic,
    responses={**PROBLEM_RESPONSES, **_LIMIT_RESPONSES},
)
async def correct(
    touchpoint_id: uuid.UUID,
    body: TouchpointBody,
    session: SessionDep,
    principal: Writer,
) -> Response:
    return _corrected(
        await correct_touchpoint(
            session=session, principal=principal, touchpoint_id=touchpoint_id, item=_as_posted(body)
        )
    )


@router.put(
    "/by-source/{source_system}/{external_id}",
    operation_id="correct_touchpoint_by_source",
    summary="Correct (or first record) a touchpoint by the sending system's id",
    response_model=TouchpointPublic,
    responses={
        **PROBLEM_RESPONSES,
        **_LIMIT_RESPONSES,
        201: {"description": "No record had this id yet: it was recorded.", "model": TouchpointPublic},
    },
)
async def correct_by_source(
    source_system: str,
    external_id: str,
    body: TouchpointBody,
    session: SessionDep,
    principal: Writer,
) -> Response:
    return _corrected(
        await correct_touchpoint_by_source(
            session=session,
            principal=principal,
            source_system=source_system,
            external_id=external_id,
            item=_as_posted(body),
        )
    )


@router.get(
    "",
    operation_id="list_touchpoints",
    summary="Touchpoints the caller may read, oldest first by (occurred_at, id)",
    response_model=Page[TouchpointPublic],
    responses=PROBLEM_RESPONSES,
)
async def list_(
    session: SessionDep,
    read: ReadSessionDep,
    principal: Reader,
    service_id: uuid.UUID | None = None,
    kind: TouchpointKind | None = None,
    system: DeliverySystem | None = None,
    innovation_id: uuid.UUID | None = None,
    staff_id: Annotated[uuid.UUID | None, Query(description="Recorder or subject.")] = None,
    person_ref_id: uuid.UUID | None = None,
    source_system: str | None = None,
    occurred_from: Annotated[QueryMoment | None, Query(description="Inclusive.")] = None,
    occurred_to: Annotated[QueryMoment | None, Query(description="Exclusive.")] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[TouchpointPublic]:
    filters = TouchpointFilters(
        service_id=service_id,
        kind=kind,
        system=system,
        innovation_id=innovation_id,
        staff_id=staff_id,
        person_ref_id=person_ref_id,
        source_system=source_system,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    return await list_touchpoints(
        session=session, read=read, principal=principal, filters=filters, limit=limit, cursor=cursor
    )


@router.get(
    "/{touchpoint_id}",
    operation_id="get_touchpoint",
    summary="One touchpoint with its earlier revisions",
    response_model=TouchpointDetail,
    responses=PROBLEM_RESPONSES,
)
async def get(touchpoint_id: uuid.UUID, session: SessionDep, principal: Reader) -> TouchpointDetail:
    return await get_touchpoint(session=session, principal=principal, touchpoint_id=touchpoint_id)
