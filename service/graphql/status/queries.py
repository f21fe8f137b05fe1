"""Status reads: every status in scope, one innovation's status (batched), its history, its evidence."""

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from service.graphql.connections import After, Connection, connection, page_limit, time_id_cursor
from service.graphql.context import GraphQLInfo
from service.graphql.permissions import policy
from service.graphql.status.types import EmbeddingStatus, IndicatorKey, InnovationStatuses, StatusHistory
from service.graphql.touchpoints.types import STAFF_OF_TOUCHPOINT
from service.pagination import encode_cursor
from service.policy import Permission
from service.status import evidence as evidence_rules
from service.status import service as status_rules
from service.status.schemas import EmbeddingStatus as EmbeddingStatusPublic
from service.status.schemas import EvidenceItem as EvidenceItemPublic
from service.status.service import StatusRequest

# REST pages statuses by at most this many innovations: each is a whole evaluation.
MAX_STATUS_PAGE = 100

WindowDays = Annotated[
    int,
    strawberry.argument(
        description=f"Length of the window ending at `asOf` ({status_rules.MIN_WINDOW_DAYS}–"
        f"{status_rules.MAX_WINDOW_DAYS} days)."
    ),
]
AsOf = Annotated[
    datetime | None,
    strawberry.argument(description="The moment described: what occurred before it, as recorded now."),
]
KnownAt = Annotated[
    datetime | None,
    strawberry.argument(description="Use only what had been recorded (and corrected) by this moment."),
]
ServiceId = Annotated[
    uuid.UUID | None, strawberry.argument(description="One service; omit for the provider, rolled up.")
]


async def status_of(
    info: GraphQLInfo,
    innovation_id: uuid.UUID,
    *,
    service_id: uuid.UUID | None,
    window_days: int,
    as_of: datetime | None,
    known_at: datetime | None,
) -> EmbeddingStatus:
    """Through the per-request status loader: statuses asked side by side are computed together."""
    key = StatusRequest(innovation_id, service_id, window_days, as_of, known_at)
    # A refusal is raised by `load`; what comes back is a status.
    status = await info.context.loaders.status.load(key)
    assert isinstance(status, EmbeddingStatusPublic)
    return EmbeddingStatus.of(status)


@strawberry.type(description="A touchpoint behind an indicator; outside the provider, without text or ids.")
class EvidenceItem:
    touchpoint_id: uuid.UUID
    kind: str
    system: str
    service_id: uuid.UUID
    occurred_at: datetime
    shift: str
    in_numerator: bool
    in_denominator: bool
    facts: dict[str, Any] = strawberry.field(
        graphql_type=JSON,
        description="The structured facts the indicator reads; free-text facts (an audit's `tool`) "
        "null when the caller may not read free text.",
    )
    related_touchpoint_id: uuid.UUID | None = strawberry.field(
        description="For an incident, the review that counted for it."
    )
    recorded_by_id: uuid.UUID | None = strawberry.field(extensions=[policy(*STAFF_OF_TOUCHPOINT)])
    subject_staff_id: uuid.UUID | None = strawberry.field(extensions=[policy(*STAFF_OF_TOUCHPOINT)])
    person_ref_id: uuid.UUID | None = strawberry.field(extensions=[policy(Permission.reference_read)])
    text: str | None = strawberry.field(extensions=[policy(Permission.touchpoint_read_text)])

    @classmethod
    def of(cls, item: EvidenceItemPublic) -> "EvidenceItem":
        return cls(**item.model_dump())


@strawberry.type(description="The touchpoints behind an indicator, in the window of its status.")
class IndicatorEvidence:
    indicator: IndicatorKey  # type: ignore[valid-type]
    window_start: datetime
    window_end: datetime
    redacted: bool = strawberry.field(description="Text and staff and person ids are withheld.")
    touchpoints: Connection[EvidenceItem]


@strawberry.type
class StatusQuery:
    @strawberry.field(
        extensions=[policy(Permission.status_read)],
        description="Every innovation's status in the caller's scope: the provider row and one per "
        "service (REST: GET /v1/status). For commissioners, every provider they commission.",
    )
    async def statuses(
        self,
        info: GraphQLInfo,
        first: Annotated[
            int, strawberry.argument(description=f"Innovations per page (1–{MAX_STATUS_PAGE}).")
        ] = 20,
        after: After = None,
        window_days: WindowDays = status_rules.DEFAULT_WINDOW_DAYS,
        as_of: AsOf = None,
    ) -> Connection[InnovationStatuses]:
        async with info.context.unit_of_work() as session, info.context.reading() as read:
            page = await status_rules.list_statuses(
                session=session,
                read=read,
                principal=info.context.principal,
                window_days=window_days,
                as_of=as_of,
                limit=page_limit(first, maximum=MAX_STATUS_PAGE),
                cursor=after,
            )
        return connection(
            [InnovationStatuses.of(s) for s in page.items],
            cursors=[encode_cursor([str(s.organisation_id), str(s.innovation_id)]) for s in page.items],
            next_cursor=page.next_cursor,
            after=after,
        )

    @strawberry.field(
        extensions=[policy(Permission.status_read)],
        description="One innovation's status for a service or the provider "
        "(REST: GET /v1/innovations/{id}/status).",
    )
    async def innovation_status(
        self,
        info: GraphQLInfo,
        innovation_id: uuid.UUID,
        service_id: ServiceId = None,
        window_days: WindowDays = status_rules.DEFAULT_WINDOW_DAYS,
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> EmbeddingStatus | None:
        return await status_of(
            info,
            innovation_id,
            service_id=service_id,
            window_days=window_days,
            as_of=as_of,
            known_at=known_at,
        )

    @strawberry.field(
        extensions=[policy(Permission.status_read)],
        description="One innovation's monthly series (REST: GET /v1/innovations/{id}/status/history).",
    )
    async def innovation_status_history(
        self,
        info: GraphQLInfo,
        innovation_id: uuid.UUID,
        service_id: ServiceId = None,
        months: Annotated[int, strawberry.argument(description="Months, the current one included.")] = 12,
        window_days: WindowDays = status_rules.DEFAULT_WINDOW_DAYS,
        as_of: AsOf = None,
    ) -> StatusHistory | None:
        async with info.context.unit_of_work() as session, info.context.reading() as read:
            history = await status_rules.innovation_history(
                session=session,
                read=read,
                principal=info.context.principal,
                innovation_id=innovation_id,
                service_id=service_id,
                months=months,
                window_days=window_days,
                as_of=as_of,
            )
        return StatusHistory.of(history)

    @strawberry.field(
        extensions=[policy(Permission.evidence_read)],
        description="The touchpoints behind an indicator, each with whether it counts in the numerator "
        "and the denominator (REST: GET /v1/innovations/{id}/indicators/{key}/evidence).",
    )
    async def indicator_evidence(
        self,
        info: GraphQLInfo,
        innovation_id: uuid.UUID,
        key: IndicatorKey,  # type: ignore[valid-type]
        service_id: ServiceId = None,
        window_days: WindowDays = status_rules.DEFAULT_WINDOW_DAYS,
        as_of: AsOf = None,
        first: Annotated[int, strawberry.argument(description="Touchpoints per page (1–500).")] = 50,
        after: After = None,
    ) -> IndicatorEvidence | None:
        async with info.context.unit_of_work() as session:
            page = await evidence_rules.indicator_evidence(
                session=session,
                principal=info.context.principal,
                innovation_id=innovation_id,
                key=key,
                service_id=service_id,
                window_days=window_days,
                as_of=as_of,
                limit=page_limit(first),
                cursor=after,
            )
        items: list[Any] = page.items
        return IndicatorEvidence(
            indicator=page.indicator,
            window_start=page.window_start,
            window_end=page.window_end,
            redacted=page.redacted,
            touchpoints=connection(
                [EvidenceItem.of(i) for i in items],
                cursors=[time_id_cursor(i.occurred_at, i.touchpoint_id) for i in items],
                next_cursor=page.next_cursor,
                after=after,
            ),
        )
