"""Indicator thresholds: the effective values, the overrides a level sets, and tuning them.

The GraphQL types are generated from the REST models (`service.status.thresholds`), so a threshold
added there appears here; tuning goes through the REST threshold functions and their validation.
"""

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.experimental.pydantic import input as pydantic_input
from strawberry.experimental.pydantic import type as pydantic_type
from strawberry.scalars import JSON

from service.errors import ProblemError
from service.graphql.context import GraphQLInfo
from service.graphql.inputs import json_value
from service.graphql.permissions import policy
from service.graphql.problems import NotAllowed, NotFound, ValidationProblem, problem_result
from service.policy import Permission
from service.status import threshold_service
from service.status import thresholds as model
from service.status.schemas import ThresholdsView as ThresholdsViewPublic

# ---- Effective thresholds -------------------------------------------------------------------------


@pydantic_type(model=model.SystemVisibilityThresholds, all_fields=True)
class SystemVisibilityThresholds:
    pass


@pydantic_type(model=model.SupervisionReinforcementThresholds, all_fields=True)
class SupervisionReinforcementThresholds:
    pass


@pydantic_type(model=model.UnderstandingWhyThresholds, all_fields=True)
class UnderstandingWhyThresholds:
    pass


@pydantic_type(model=model.ShiftConsistencyThresholds, all_fields=True)
class ShiftConsistencyThresholds:
    pass


@pydantic_type(model=model.AuditStabilityThresholds, all_fields=True)
class AuditStabilityThresholds:
    pass


@pydantic_type(model=model.IncidentLearningThresholds, all_fields=True)
class IncidentLearningThresholds:
    pass


@pydantic_type(model=model.PersonIndependenceThresholds, all_fields=True)
class PersonIndependenceThresholds:
    pass


@pydantic_type(model=model.TurnoverResilienceThresholds, all_fields=True)
class TurnoverResilienceThresholds:
    pass


@pydantic_type(model=model.DriftThresholds, all_fields=True)
class DriftThresholds:
    pass


@pydantic_type(
    model=model.Thresholds, all_fields=True, description="The thresholds a status is judged against."
)
class Thresholds:
    pass


def thresholds_of(thresholds: model.Thresholds) -> Thresholds:
    converted: Thresholds = Thresholds.from_pydantic(thresholds)  # type: ignore[attr-defined]
    return converted


# ---- Overrides ------------------------------------------------------------------------------------


@pydantic_input(model=model.SystemVisibilityOverride, all_fields=True)
class SystemVisibilityOverrideInput:
    pass


@pydantic_input(model=model.ShareOverride, all_fields=True)
class ShareOverrideInput:
    pass


@pydantic_input(model=model.ShareWithEvidenceOverride, all_fields=True)
class ShareWithEvidenceOverrideInput:
    pass


@pydantic_input(model=model.ShiftConsistencyOverride, all_fields=True)
class ShiftConsistencyOverrideInput:
    pass


@pydantic_input(model=model.AuditStabilityOverride, all_fields=True)
class AuditStabilityOverrideInput:
    pass


@pydantic_input(model=model.PersonIndependenceOverride, all_fields=True)
class PersonIndependenceOverrideInput:
    pass


@pydantic_input(model=model.DriftOverride, all_fields=True)
class DriftOverrideInput:
    pass


@pydantic_input(
    model=model.ThresholdOverrides,
    all_fields=True,
    description="Only what differs from what is inherited; whatever is left out (or null) is inherited.",
)
class ThresholdOverridesInput:
    pass


def overrides_body(overrides: Any) -> dict[str, Any]:
    """The REST body: nulls are what REST drops too (`exclude_none`), so they are left out here."""

    def drop_nulls(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: drop_nulls(v) for k, v in value.items() if v is not None}
        return value

    body = drop_nulls(json_value(overrides))
    return body if isinstance(body, dict) else {}


# ---- Reading and tuning ---------------------------------------------------------------------------


@strawberry.type(description="Thresholds at one level: what statuses use, and what this level sets.")
class ThresholdsView:
    innovation_id: uuid.UUID | None = strawberry.field(description="Null for the provider's own defaults.")
    effective: Thresholds = strawberry.field(description="Defaults ← provider ← innovation.")
    overrides: dict[str, Any] = strawberry.field(
        graphql_type=JSON, description="What this level sets; the rest is inherited."
    )
    provider_defaults: dict[str, Any] = strawberry.field(graphql_type=JSON)
    sources: dict[str, str] = strawberry.field(
        graphql_type=JSON, description="Per indicator: default, provider or innovation."
    )
    updated_at: datetime | None

    @classmethod
    def of(cls, view: ThresholdsViewPublic) -> "ThresholdsView":
        return cls(
            innovation_id=view.innovation_id,
            effective=thresholds_of(view.effective),
            overrides=view.overrides.model_dump(mode="json"),
            provider_defaults=view.provider_defaults.model_dump(mode="json"),
            sources=dict(view.sources),
            updated_at=view.updated_at,
        )


@strawberry.type(description="The thresholds as now set.")
class ThresholdsSaved:
    thresholds: ThresholdsView


UPDATE_PROBLEMS = (ValidationProblem, NotAllowed, NotFound)
UpdateThresholdsResult = Annotated[
    ThresholdsSaved | ValidationProblem | NotAllowed | NotFound,
    strawberry.union("UpdateThresholdsResult"),
]
READERS = (Permission.status_read, Permission.thresholds_manage)


@strawberry.type
class ThresholdsQuery:
    @strawberry.field(
        extensions=[policy(*READERS)],
        description="An innovation's thresholds, or with no `innovationId` the provider's own defaults "
        "(REST: GET /v1/innovations/{id}/thresholds, GET /v1/thresholds).",
    )
    async def thresholds(
        self, info: GraphQLInfo, innovation_id: uuid.UUID | None = None
    ) -> ThresholdsView | None:
        principal = info.context.principal
        async with info.context.unit_of_work() as session:
            if innovation_id is None:
                view = await threshold_service.get_provider_thresholds(session=session, principal=principal)
            else:
                view = await threshold_service.get_innovation_thresholds(
                    session=session, principal=principal, innovation_id=innovation_id
                )
        return ThresholdsView.of(view)


@strawberry.type
class ThresholdsMutation:
    @strawberry.mutation(
        extensions=[policy(Permission.thresholds_manage)],
        description="Replace an innovation's overrides, or with no `innovationId` the provider's defaults; "
        "green must stay stricter than amber once merged (REST: PUT …/thresholds).",
    )
    async def update_thresholds(
        self, info: GraphQLInfo, overrides: ThresholdOverridesInput, innovation_id: uuid.UUID | None = None
    ) -> UpdateThresholdsResult:
        principal = info.context.principal
        body = overrides_body(overrides)
        try:
            async with info.context.unit_of_work() as session:
                if innovation_id is None:
                    view = await threshold_service.put_provider_thresholds(
                        session=session, principal=principal, overrides=body
                    )
                else:
                    view = await threshold_service.put_innovation_thresholds(
                        session=session, principal=principal, innovation_id=innovation_id, overrides=body
                    )
        except ProblemError as problem:
            return problem_result(problem, *UPDATE_PROBLEMS)
        return ThresholdsSaved(thresholds=ThresholdsView.of(view))
