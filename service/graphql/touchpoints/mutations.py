"""Recording and correcting touchpoints through the REST ingestion functions.

`recordTouchpoint` and `recordTouchpointBatch` answer as REST does: one result per item, in order,
`created`, `duplicate` or `rejected` with the REST problem. An `idempotencyKey` works as REST's
`Idempotency-Key` header, through the same store: a repeat within 24 hours gets the first answer
without running again, and the same key with a different request is refused.
"""

import json
import uuid
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated, Any

import strawberry
from pydantic import TypeAdapter

from service.conflicts import retry_transient
from service.errors import ProblemError
from service.graphql.context import GraphQLInfo
from service.graphql.permissions import policy
from service.graphql.problems import (
    Conflict,
    LimitExceeded,
    NotAllowed,
    NotFound,
    Problem,
    ValidationProblem,
    item_problem,
    problem_result,
)
from service.graphql.touchpoints.inputs import TouchpointInput, as_posted
from service.graphql.touchpoints.types import Touchpoint, touchpoint_of
from service.policy import Permission
from service.touchpoints.corrections import CorrectedTouchpoint, correct_touchpoint
from service.touchpoints.idempotency import StoredResponse, request_fingerprint, run_once
from service.touchpoints.ingest import record_touchpoint, record_touchpoints
from service.touchpoints.schemas import ItemResult, TouchpointBatchResults, TouchpointPublic

_PUBLIC = TypeAdapter(TouchpointPublic)
_RESULTS = TypeAdapter(TouchpointBatchResults)
# The fingerprint's "method" and "path": a key used over REST is a different request here.
_OPERATION = "GRAPHQL"

IdempotencyKey = Annotated[
    str | None,
    strawberry.argument(
        description="Makes a retry safe, as REST's `Idempotency-Key`: a repeat within 24 hours gets the "
        "first answer, unrun; the same key with a different request is refused."
    ),
]


@strawberry.type(description="The touchpoint was recorded.")
class TouchpointRecorded:
    touchpoint: Touchpoint
    replayed: bool = strawberry.field(description="This is the stored answer to an earlier request.")


@strawberry.type(description="Already recorded with identical content: the stored record (REST 200).")
class DuplicateTouchpoint:
    touchpoint: Touchpoint
    replayed: bool


RECORD_PROBLEMS = (ValidationProblem, NotAllowed, Conflict, LimitExceeded)
RecordTouchpointResult = Annotated[
    TouchpointRecorded | DuplicateTouchpoint | ValidationProblem | NotAllowed | Conflict | LimitExceeded,
    strawberry.union("RecordTouchpointResult"),
]


@strawberry.enum
class ItemStatus(Enum):
    created = "created"
    duplicate = "duplicate"
    rejected = "rejected"


@strawberry.type(description="The outcome of one item of a batch, at its position in the request.")
class TouchpointItemResult:
    index: int
    status: ItemStatus
    id: uuid.UUID | None
    problem: Problem | None = strawberry.field(description="Why the item was rejected, as REST says it.")


@strawberry.type(description="Every item's outcome, in request order.")
class TouchpointBatchRecorded:
    results: list[TouchpointItemResult]
    replayed: bool


BATCH_PROBLEMS = (ValidationProblem, NotAllowed, LimitExceeded)
RecordTouchpointBatchResult = Annotated[
    TouchpointBatchRecorded | ValidationProblem | NotAllowed | LimitExceeded,
    strawberry.union("RecordTouchpointBatchResult"),
]


@strawberry.type(description="The touchpoint after the correction; the replaced version is a revision.")
class TouchpointCorrected:
    touchpoint: Touchpoint
    changed: bool = strawberry.field(description="False when the content was already as sent.")


CORRECT_PROBLEMS = (ValidationProblem, NotAllowed, NotFound, Conflict, LimitExceeded)
CorrectTouchpointResult = Annotated[
    TouchpointCorrected | ValidationProblem | NotAllowed | NotFound | Conflict | LimitExceeded,
    strawberry.union("CorrectTouchpointResult"),
]


def _fingerprint(operation: str, arguments: Any) -> str:
    body = json.dumps(arguments, sort_keys=True, separators=(",", ":")).encode()
    return request_fingerprint(_OPERATION, operation, body)


async def _once(
    info: GraphQLInfo,
    key: str | None,
    fingerprint: str,
    run: Callable[[Any], Awaitable[StoredResponse]],
) -> tuple[StoredResponse, bool]:
    """Run in one unit of work, once per key: REST's idempotency store decides."""
    principal = info.context.principal

    async def attempt() -> tuple[StoredResponse, bool]:
        async with info.context.unit_of_work() as session:
            return await run_once(
                session=session,
                principal=principal,
                key=key,
                fingerprint=fingerprint,
                run=lambda: run(session),
            )

    return await retry_transient(attempt, what="a GraphQL touchpoint mutation")


def _item_result(result: ItemResult) -> TouchpointItemResult:
    problem = item_problem(result.problem.model_dump(exclude_none=True)) if result.problem else None
    return TouchpointItemResult(
        index=result.index, status=ItemStatus(result.status), id=result.id, problem=problem
    )


@strawberry.type
class TouchpointMutation:
    @strawberry.mutation(
        extensions=[policy(Permission.touchpoint_write)],
        description="Record one touchpoint (REST: POST /v1/touchpoints).",
    )
    async def record_touchpoint(
        self, info: GraphQLInfo, touchpoint: TouchpointInput, idempotency_key: IdempotencyKey = None
    ) -> RecordTouchpointResult:
        item = as_posted(touchpoint)
        principal = info.context.principal

        async def run(session: Any) -> StoredResponse:
            recorded = await record_touchpoint(session=session, principal=principal, item=item)
            status = 201 if recorded.status == "created" else 200
            return StoredResponse(status, _PUBLIC.dump_json(recorded.touchpoint), None)

        try:
            stored, replayed = await _once(info, idempotency_key, _fingerprint("recordTouchpoint", item), run)
        except ProblemError as problem:
            return problem_result(problem, *RECORD_PROBLEMS)
        recorded = touchpoint_of(_PUBLIC.validate_json(stored.body))
        if stored.status == 201:
            return TouchpointRecorded(touchpoint=recorded, replayed=replayed)
        return DuplicateTouchpoint(touchpoint=recorded, replayed=replayed)

    @strawberry.mutation(
        extensions=[policy(Permission.touchpoint_write)],
        description="Record up to 1,000 touchpoints, each with its own result "
        "(REST: POST /v1/touchpoints/batch). Send the items as a variable.",
    )
    async def record_touchpoint_batch(
        self, info: GraphQLInfo, touchpoints: list[TouchpointInput], idempotency_key: IdempotencyKey = None
    ) -> RecordTouchpointBatchResult:
        items = [as_posted(t) for t in touchpoints]
        principal = info.context.principal

        async def run(session: Any) -> StoredResponse:
            results = await record_touchpoints(session=session, principal=principal, items=items)
            return StoredResponse(200, _RESULTS.dump_json(TouchpointBatchResults(results=results)), None)

        try:
            stored, replayed = await _once(
                info, idempotency_key, _fingerprint("recordTouchpointBatch", items), run
            )
        except ProblemError as problem:
            return problem_result(problem, *BATCH_PROBLEMS)
        results = _RESULTS.validate_json(stored.body).results
        return TouchpointBatchRecorded(results=[_item_result(r) for r in results], replayed=replayed)

    @strawberry.mutation(
        extensions=[policy(Permission.touchpoint_write)],
        description="Correct a touchpoint: replace it whole, keeping the earlier version as a revision "
        "(REST: PUT /v1/touchpoints/{id}).",
    )
    async def correct_touchpoint(
        self, info: GraphQLInfo, id: uuid.UUID, touchpoint: TouchpointInput
    ) -> CorrectTouchpointResult:
        async def attempt() -> CorrectedTouchpoint:
            async with info.context.unit_of_work() as session:
                return await correct_touchpoint(
                    session=session,
                    principal=info.context.principal,
                    touchpoint_id=id,
                    item=as_posted(touchpoint),
                )

        try:
            corrected = await retry_transient(attempt, what="correctTouchpoint")
        except ProblemError as problem:
            return problem_result(problem, *CORRECT_PROBLEMS)
        return TouchpointCorrected(
            touchpoint=touchpoint_of(corrected.touchpoint), changed=corrected.status != "unchanged"
        )
