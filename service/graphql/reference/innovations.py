"""Innovations: what they are, why, where in scope, their phase and plan; created and changed by the
REST service functions."""

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from service.errors import ProblemError
from service.graphql.connections import After, Connection, First, connection, page_limit, time_id_cursor
from service.graphql.context import GraphQLInfo
from service.graphql.enums import Phase
from service.graphql.inputs import given
from service.graphql.permissions import policy
from service.graphql.problems import (
    Conflict,
    NotAllowed,
    NotFound,
    ValidationProblem,
    problem_result,
    validated,
)
from service.graphql.reference.resolvers import listed, public_fields, read_one
from service.graphql.reference.services import Service, services_named
from service.innovations.schemas import (
    InnovationCreate,
    InnovationFilter,
    InnovationPublic,
    InnovationUpdate,
)
from service.innovations.service import innovations
from service.policy import Permission

if TYPE_CHECKING:
    from service.graphql.status.types import EmbeddingStatus


@strawberry.type(description="Expected referencing touchpoints per month in each delivery system.")
class EmbeddingPlan:
    care_records: int
    team_communication: int
    supervision: int
    quality_assurance: int
    workforce: int
    incident_learning: int
    staff_voice: int


@strawberry.type(description="A new way of working whose embedding Ingrain follows.")
class Innovation:
    id: uuid.UUID
    name: str
    summary: str
    why: str = strawberry.field(description="The rationale staff should be able to explain.")
    started_on: date
    service_ids: list[uuid.UUID] = strawberry.field(
        description="Services in scope; the caller's view leaves out services outside its own."
    )
    phase: Phase
    embedding_plan: EmbeddingPlan
    source_system: str | None
    external_ref: str | None
    created_at: datetime
    updated_at: datetime
    # The service this innovation was reached through, if any: its status is then that service's.
    scope_service_id: strawberry.Private[uuid.UUID | None] = None

    @strawberry.field(description="The services in scope (the caller's view).")
    async def services(self, info: GraphQLInfo) -> list[Service]:
        return await services_named(info, self.service_ids)

    @strawberry.field(
        extensions=[policy(Permission.status_read)],
        description="Its embedding status: for the service it was reached through (a service's "
        "innovations, or `innovations(serviceId:)`), else for the provider. Statuses asked side by side "
        "are computed together.",
    )
    async def status(
        self,
        info: GraphQLInfo,
        service_id: Annotated[
            uuid.UUID | None, strawberry.argument(description="A service; default: as described above.")
        ] = None,
        window_days: int = 90,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
    ) -> Annotated["EmbeddingStatus", strawberry.lazy("service.graphql.status.types")] | None:
        from service.graphql.status.queries import status_of

        return await status_of(
            info,
            self.id,
            service_id=service_id or self.scope_service_id,
            window_days=window_days,
            as_of=as_of,
            known_at=known_at,
        )

    @classmethod
    def from_public(
        cls, public: InnovationPublic, *, scope_service_id: uuid.UUID | None = None
    ) -> "Innovation":
        plan = EmbeddingPlan(**public.embedding_plan.model_dump())
        return cls(**public_fields(public, embedding_plan=plan), scope_service_id=scope_service_id)


def innovation_page(
    innovations: list[InnovationPublic],
    *,
    first: int,
    after: str | None,
    scope_service_id: uuid.UUID | None = None,
) -> Connection[Innovation]:
    """A page of an already loaded, (created_at, id)-ordered list, with the REST list's cursors."""
    cursors = [time_id_cursor(i.created_at, i.id) for i in innovations]
    start = cursors.index(after) + 1 if after in cursors else 0
    limit = page_limit(first)
    page = innovations[start : start + limit]
    more = len(innovations) > start + limit
    total = len(innovations)

    async def count() -> int:
        return total

    return connection(
        [Innovation.from_public(i, scope_service_id=scope_service_id) for i in page],
        cursors=cursors[start : start + limit],
        next_cursor=cursors[start + limit - 1] if more else None,
        after=after,
        count=count,
    )


@strawberry.type
class InnovationQuery:
    @strawberry.field(
        extensions=[policy(Permission.reference_read)],
        description="Innovations, oldest first (REST: GET /v1/innovations).",
    )
    async def innovations(
        self,
        info: GraphQLInfo,
        first: First = 50,
        after: After = None,
        service_id: uuid.UUID | None = None,
        phase: Phase | None = None,
        source_system: str | None = None,
    ) -> Connection[Innovation]:
        filters = InnovationFilter(service_id=service_id, phase=phase, source_system=source_system)

        def shape(public: InnovationPublic) -> Innovation:
            return Innovation.from_public(public, scope_service_id=service_id)

        return await listed(info, innovations, filters, first=first, after=after, shape=shape)

    @strawberry.field(
        extensions=[policy(Permission.reference_read)],
        description="One innovation (REST: GET /v1/innovations/{id}).",
    )
    async def innovation(self, info: GraphQLInfo, id: uuid.UUID) -> Innovation | None:
        return await read_one(info, innovations, id, shape=Innovation.from_public)


# ---- Mutations ------------------------------------------------------------------------------------


@strawberry.input(description="Some delivery systems' monthly expectations; the others keep theirs.")
class EmbeddingPlanInput:
    care_records: int | None = strawberry.UNSET
    team_communication: int | None = strawberry.UNSET
    supervision: int | None = strawberry.UNSET
    quality_assurance: int | None = strawberry.UNSET
    workforce: int | None = strawberry.UNSET
    incident_learning: int | None = strawberry.UNSET
    staff_voice: int | None = strawberry.UNSET


@strawberry.input(description="A new innovation (REST: POST /v1/innovations).")
class InnovationCreateInput:
    name: str
    why: str
    started_on: date
    service_ids: list[uuid.UUID]
    summary: str | None = strawberry.UNSET
    phase: Phase | None = strawberry.UNSET
    embedding_plan: EmbeddingPlanInput | None = strawberry.UNSET
    source_system: str | None = strawberry.UNSET
    external_ref: str | None = strawberry.UNSET


@strawberry.input(description="The fields to change; omitted fields keep their value (REST: PATCH).")
class InnovationUpdateInput:
    name: str | None = strawberry.UNSET
    summary: str | None = strawberry.UNSET
    why: str | None = strawberry.UNSET
    started_on: date | None = strawberry.UNSET
    service_ids: list[uuid.UUID] | None = strawberry.UNSET
    phase: Phase | None = strawberry.UNSET
    embedding_plan: EmbeddingPlanInput | None = strawberry.UNSET


@strawberry.type(description="The innovation as stored.")
class InnovationSaved:
    innovation: Innovation


SAVE_PROBLEMS = (ValidationProblem, NotAllowed, NotFound, Conflict)
SaveInnovationResult = Annotated[
    InnovationSaved | ValidationProblem | NotAllowed | NotFound | Conflict,
    strawberry.union("SaveInnovationResult"),
]


@strawberry.type
class InnovationMutation:
    @strawberry.mutation(
        extensions=[policy(Permission.innovation_manage)],
        description="Create an innovation; invalid input or a taken reference comes back typed.",
    )
    async def create_innovation(
        self, info: GraphQLInfo, input: InnovationCreateInput
    ) -> SaveInnovationResult:
        try:
            data = validated(InnovationCreate, given(input))
            async with info.context.unit_of_work() as session:
                public = await innovations.create(
                    session=session, principal=info.context.principal, data=data
                )
        except ProblemError as problem:
            return problem_result(problem, *SAVE_PROBLEMS)
        return InnovationSaved(innovation=Innovation.from_public(public))

    @strawberry.mutation(
        extensions=[policy(Permission.innovation_manage)],
        description="Change some fields of an innovation; retire it with `phase: retired`.",
    )
    async def update_innovation(
        self, info: GraphQLInfo, id: uuid.UUID, input: InnovationUpdateInput
    ) -> SaveInnovationResult:
        try:
            data = validated(InnovationUpdate, given(input))
            async with info.context.unit_of_work() as session:
                public = await innovations.update(
                    session=session, principal=info.context.principal, row_id=id, data=data
                )
        except ProblemError as problem:
            return problem_result(problem, *SAVE_PROBLEMS)
        return InnovationSaved(innovation=Innovation.from_public(public))
