"""Embedding status as the REST status functions present it: indicators, stage and reasons, context.

Every value is copied from the REST public model (`service.status.schemas`), so what a commissioner
or inspector sees here is exactly what REST shows them. A count withheld outside the provider (1–4
could point at a person) reads as null with its `…Suppressed` flag set.
"""

import uuid
from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from service.disclosure import Suppressed
from service.graphql.status.thresholds import Thresholds, thresholds_of
from service.status import schemas as public
from service.status.vocabulary import IndicatorKey as IndicatorKeyValues
from service.status.vocabulary import Rag as RagValues
from service.status.vocabulary import Stage as StageValues

IndicatorKey = strawberry.enum(IndicatorKeyValues, description="The eight indicators (DOMAIN.md).")
Rag = strawberry.enum(RagValues, description="A rating; too little data is its own rating, never green.")
Stage = strawberry.enum(StageValues, description="Where the innovation is between pilot and routine.")


def _count(value: Any) -> float | None:
    return None if value is None or isinstance(value, Suppressed) else value


def _suppressed(value: Any) -> bool:
    return isinstance(value, Suppressed)


@strawberry.type(description="A CQC Single Assessment Framework quality statement.")
class QualityStatement:
    key_question: str
    statement: str


@strawberry.type(description="The CQC quality statements and evidence categories a measure speaks to.")
class CqcTags:
    quality_statements: list[QualityStatement]
    evidence_categories: list[str]

    @classmethod
    def of(cls, tags: public.CqcTagsPublic) -> "CqcTags":
        return cls(
            quality_statements=[
                QualityStatement(key_question=q.key_question, statement=q.statement)
                for q in tags.quality_statements
            ],
            evidence_categories=list(tags.evidence_categories),
        )


@strawberry.type(description="One indicator: value, numerator and denominator, rating and why.")
class Indicator:
    key: IndicatorKey  # type: ignore[valid-type]
    value: float | None
    numerator: float | None = strawberry.field(description="Null when not applicable or withheld.")
    numerator_suppressed: bool = strawberry.field(description="Withheld: a count from 1 to 4.")
    denominator: float | None
    denominator_suppressed: bool
    rag: Rag  # type: ignore[valid-type]
    threshold: dict[str, Any] = strawberry.field(
        graphql_type=JSON, description="The thresholds this rating was judged against."
    )
    explanation: str = strawberry.field(description="Why it has this rating, in one sentence.")
    cqc: CqcTags
    measures: dict[str, Any] = strawberry.field(
        graphql_type=JSON, description="Secondary measures behind the rating."
    )
    evidence: str = strawberry.field(
        description="The REST address of the touchpoints behind it; GraphQL: `indicatorEvidence`."
    )

    @classmethod
    def of(cls, indicator: public.IndicatorPublic) -> "Indicator":
        return cls(
            key=indicator.key,
            value=indicator.value,
            numerator=_count(indicator.numerator),
            numerator_suppressed=_suppressed(indicator.numerator),
            denominator=_count(indicator.denominator),
            denominator_suppressed=_suppressed(indicator.denominator),
            rag=indicator.rag,
            threshold=indicator.threshold,
            explanation=indicator.explanation,
            cqc=CqcTags.of(indicator.cqc),
            measures=_plain(indicator.measures),
            evidence=indicator.evidence,
        )


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: {"suppressed": True} if isinstance(v, Suppressed) else v for k, v in values.items()}


@strawberry.type(description="A stage rule that applied, and the indicators that decided it.")
class StageReason:
    rule: str
    indicators: list[str]
    explanation: str

    @classmethod
    def of(cls, reason: public.StageReasonPublic) -> "StageReason":
        return cls(rule=reason.rule, indicators=list(reason.indicators), explanation=reason.explanation)


@strawberry.type
class MonthOutcome:
    month: date
    incidents: int | None
    incidents_suppressed: bool
    restrictive_interventions: int | None
    restrictive_interventions_suppressed: bool


@strawberry.type(description="Incidents and restrictive interventions a month, against the months before.")
class Outcomes:
    months: list[MonthOutcome]
    incidents_per_month: float | None
    restrictive_interventions_per_month: float | None
    baseline_months: list[date]
    baseline_incidents_per_month: float | None
    baseline_restrictive_interventions_per_month: float | None
    explanation: str
    cqc: CqcTags

    @classmethod
    def of(cls, outcomes: public.OutcomesPublic) -> "Outcomes":
        return cls(
            months=[
                MonthOutcome(
                    month=m.month,
                    incidents=_int(m.incidents),
                    incidents_suppressed=_suppressed(m.incidents),
                    restrictive_interventions=_int(m.restrictive_interventions),
                    restrictive_interventions_suppressed=_suppressed(m.restrictive_interventions),
                )
                for m in outcomes.months
            ],
            incidents_per_month=outcomes.incidents_per_month,
            restrictive_interventions_per_month=outcomes.restrictive_interventions_per_month,
            baseline_months=list(outcomes.baseline_months),
            baseline_incidents_per_month=outcomes.baseline_incidents_per_month,
            baseline_restrictive_interventions_per_month=outcomes.baseline_restrictive_interventions_per_month,
            explanation=outcomes.explanation,
            cqc=CqcTags.of(outcomes.cqc),
        )


def _int(value: Any) -> int | None:
    return None if value is None or isinstance(value, Suppressed) else int(value)


@strawberry.type(description="NoMAD construct means (1–5) and general items (0–10).")
class StaffVoice:
    responses: int | None
    responses_suppressed: bool
    constructs: dict[str, Any] = strawberry.field(graphql_type=JSON, description="Mean per construct, 1–5.")
    general: dict[str, Any] = strawberry.field(graphql_type=JSON, description="Mean per general item, 0–10.")
    normal_now_share: float | None
    normal_now_respondents: int | None
    normal_now_respondents_suppressed: bool
    explanation: str
    cqc: CqcTags

    @classmethod
    def of(cls, voice: public.StaffVoicePublic) -> "StaffVoice":
        return cls(
            responses=_int(voice.responses),
            responses_suppressed=_suppressed(voice.responses),
            constructs=dict(voice.constructs),
            general=dict(voice.general),
            normal_now_share=voice.normal_now_share,
            normal_now_respondents=_int(voice.normal_now_respondents),
            normal_now_respondents_suppressed=_suppressed(voice.normal_now_respondents),
            explanation=voice.explanation,
            cqc=CqcTags.of(voice.cqc),
        )


@strawberry.enum
class DriftSignalKind(Enum):
    indicator = "indicator"
    reference_frequency = "reference_frequency"


@strawberry.type
class DriftSignal:
    key: str
    kind: DriftSignalKind
    system: str | None
    previous: float | None
    current: float | None
    explanation: str


@strawberry.type(description="Indicators or reference frequencies falling against the previous window.")
class Drift:
    flagged: list[str]
    signals: list[DriftSignal]
    previous_window_start: datetime | None
    previous_window_end: datetime | None
    explanation: str
    cqc: CqcTags

    @classmethod
    def of(cls, drift: public.DriftPublic) -> "Drift":
        return cls(
            flagged=list(drift.flagged),
            signals=[
                DriftSignal(
                    key=s.key,
                    kind=DriftSignalKind(s.kind),
                    system=s.system,
                    previous=s.previous,
                    current=s.current,
                    explanation=s.explanation,
                )
                for s in drift.signals
            ],
            previous_window_start=drift.previous_window_start,
            previous_window_end=drift.previous_window_end,
            explanation=drift.explanation,
            cqc=CqcTags.of(drift.cqc),
        )


@strawberry.type(description="Context, not gates: outcomes, staff voice and drift.")
class StatusContext:
    outcomes: Outcomes
    staff_voice: StaffVoice
    drift: Drift


@strawberry.enum
class ScopeLevel(Enum):
    service = "service"
    provider = "provider"


@strawberry.type
class StatusScope:
    level: ScopeLevel
    service_ids: list[uuid.UUID]


@strawberry.type(description="Whether an innovation is embedded, with its evidence.")
class EmbeddingStatus:
    innovation_id: uuid.UUID
    innovation_name: str
    organisation_id: uuid.UUID = strawberry.field(description="The provider.")
    service_id: uuid.UUID | None = strawberry.field(description="Null for the provider (rolled up).")
    scope: StatusScope
    as_of: datetime
    known_at: datetime | None
    window_days: int
    period: str
    window_start: datetime
    window_end: datetime
    stage: Stage  # type: ignore[valid-type]
    stage_reasons: list[StageReason]
    months_in_stage: int
    indicators: list[Indicator]
    context: StatusContext
    thresholds: Thresholds
    threshold_sources: dict[str, str] = strawberry.field(
        graphql_type=JSON, description="Per indicator: default, provider or innovation."
    )
    cqc_framework: str
    suppressed_counts: bool = strawberry.field(description="Counts from 1 to 4 are withheld for this caller.")
    computed_at: datetime | None = strawberry.field(
        default=None, description="Served from a projection kept current by the job workers: when computed."
    )

    @classmethod
    def of(cls, status: public.EmbeddingStatus) -> "EmbeddingStatus":
        return cls(
            innovation_id=status.innovation_id,
            innovation_name=status.innovation_name,
            organisation_id=status.organisation_id,
            service_id=status.service_id,
            scope=StatusScope(
                level=ScopeLevel(status.scope.level), service_ids=list(status.scope.service_ids)
            ),
            as_of=status.as_of,
            known_at=status.known_at,
            window_days=status.window_days,
            period=status.period,
            window_start=status.window_start,
            window_end=status.window_end,
            stage=status.stage,
            stage_reasons=[StageReason.of(r) for r in status.stage_reasons],
            months_in_stage=status.months_in_stage,
            indicators=[Indicator.of(i) for i in status.indicators],
            context=StatusContext(
                outcomes=Outcomes.of(status.context.outcomes),
                staff_voice=StaffVoice.of(status.context.staff_voice),
                drift=Drift.of(status.context.drift),
            ),
            thresholds=thresholds_of(status.thresholds),
            threshold_sources=dict(status.threshold_sources),
            cqc_framework=status.cqc_framework,
            suppressed_counts=status.suppressed_counts,
            computed_at=status.computed_at,
        )


@strawberry.type(description="One month of the series: the window ending at that month's end.")
class StatusPoint:
    month: date
    period: str
    window_start: datetime
    window_end: datetime
    current: bool
    stage: Stage  # type: ignore[valid-type]
    stage_reasons: list[StageReason]
    indicators: list[Indicator]
    drift: Drift


@strawberry.type(description="An innovation's monthly series.")
class StatusHistory:
    innovation_id: uuid.UUID
    innovation_name: str
    organisation_id: uuid.UUID
    service_id: uuid.UUID | None
    scope: StatusScope
    as_of: datetime
    window_days: int
    months: list[StatusPoint]
    thresholds: Thresholds
    suppressed_counts: bool
    computed_at: datetime | None = strawberry.field(
        default=None, description="Served from a projection kept current by the job workers: when computed."
    )

    @classmethod
    def of(cls, history: public.StatusHistory) -> "StatusHistory":
        return cls(
            innovation_id=history.innovation_id,
            innovation_name=history.innovation_name,
            organisation_id=history.organisation_id,
            service_id=history.service_id,
            scope=StatusScope(
                level=ScopeLevel(history.scope.level), service_ids=list(history.scope.service_ids)
            ),
            as_of=history.as_of,
            window_days=history.window_days,
            months=[
                StatusPoint(
                    month=p.month,
                    period=p.period,
                    window_start=p.window_start,
                    window_end=p.window_end,
                    current=p.current,
                    stage=p.stage,
                    stage_reasons=[StageReason.of(r) for r in p.stage_reasons],
                    indicators=[Indicator.of(i) for i in p.indicators],
                    drift=Drift.of(p.drift),
                )
                for p in history.months
            ],
            thresholds=thresholds_of(history.thresholds),
            suppressed_counts=history.suppressed_counts,
            computed_at=history.computed_at,
        )


@strawberry.type(description="One innovation: its provider-level status and one per service in scope.")
class InnovationStatuses:
    innovation_id: uuid.UUID
    innovation_name: str
    organisation_id: uuid.UUID
    phase: str
    provider: EmbeddingStatus
    services: list[EmbeddingStatus]

    @classmethod
    def of(cls, statuses: public.InnovationStatuses) -> "InnovationStatuses":
        return cls(
            innovation_id=statuses.innovation_id,
            innovation_name=statuses.innovation_name,
            organisation_id=statuses.organisation_id,
            phase=statuses.phase,
            provider=EmbeddingStatus.of(statuses.provider),
            services=[EmbeddingStatus.of(s) for s in statuses.services],
        )
