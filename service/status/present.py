"""Evaluated statuses as API shapes, with small counts withheld from commissioners and inspectors.

Withholding follows service.disclosure: a count from 1 to 4 about people or events is shown as
`{"suppressed": true}`, and so is anything it could be worked back from (the value of a ratio, a
rate per month, a sentence quoting it). Counts of systems, shifts and audits identify nobody.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from service.disclosure import is_small, suppress, suppress_ratio
from service.status.cqc import CqcTags, cqc_mapping
from service.status.evaluation.context import Drift, Outcomes, StaffVoice
from service.status.evaluation.indicators import IndicatorResult
from service.status.evaluation.periods import Point
from service.status.evaluation.series import PointResult, StatusResult
from service.status.evaluation.stage import StageReason
from service.status.schemas import (
    CqcTagsPublic,
    DriftPublic,
    DriftSignalPublic,
    EmbeddingStatus,
    IndicatorPublic,
    MonthOutcomePublic,
    OutcomesPublic,
    QualityStatementPublic,
    StaffVoicePublic,
    StageReasonPublic,
    StatusContext,
    StatusHistory,
    StatusPoint,
    StatusScope,
)
from service.status.subjects import StatusSubject
from service.status.vocabulary import PERIOD_MONTHLY, PERIOD_WINDOW, IndicatorKey

# Indicators whose counts are of people or events (supervisions, incidents, staff, starters).
COUNTS_PEOPLE = frozenset(
    {
        IndicatorKey.supervision_reinforcement,
        IndicatorKey.understanding_why,
        IndicatorKey.incident_learning,
        IndicatorKey.person_independence,
        IndicatorKey.turnover_resilience,
    }
)
# Measures that are such counts.
COUNT_MEASURES = frozenset({"contributing_staff", "active_staff", "incidents", "pending", "new_starters"})
WITHHELD = "Counts from 1 to 4 are withheld outside the provider; the rating stands on the full counts."


def cqc_public(tags: CqcTags | None) -> CqcTagsPublic:
    if tags is None:
        return CqcTagsPublic(quality_statements=[], evidence_categories=[])
    return CqcTagsPublic(
        quality_statements=[
            QualityStatementPublic(key_question=q.key_question, statement=q.statement)
            for q in tags.quality_statements
        ],
        evidence_categories=list(tags.evidence_categories),
    )


def evidence_href(innovation_id: uuid.UUID, key: str, query: dict[str, Any]) -> str:
    params = {k: v for k, v in query.items() if v is not None}
    suffix = f"?{urlencode(params)}" if params else ""
    return f"/v1/innovations/{innovation_id}/indicators/{key}/evidence{suffix}"


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def indicator_public(
    result: IndicatorResult, *, external: bool, innovation_id: uuid.UUID, query: dict[str, Any]
) -> IndicatorPublic:
    numerator: Any = result.numerator
    denominator: Any = result.denominator
    value = result.value
    explanation = result.explanation
    measures = dict(result.measures)
    if external and result.key in COUNTS_PEOPLE:
        small = any(is_small(v) for v in (numerator, denominator) if _count(v)) or any(
            is_small(v) for k, v in measures.items() if k in COUNT_MEASURES and _count(v)
        )
        if _count(numerator) and _count(denominator):
            numerator, denominator, value = suppress_ratio(numerator, denominator, value)
        measures = {k: suppress(v) if k in COUNT_MEASURES and _count(v) else v for k, v in measures.items()}
        if small:
            explanation = WITHHELD
            measures.pop("contributing_share", None)
    return IndicatorPublic(
        key=result.key,
        value=value,
        numerator=numerator,
        denominator=denominator,
        rag=result.rag,
        threshold=result.threshold,
        explanation=explanation,
        cqc=cqc_public(cqc_mapping().indicators.get(result.key.value)),
        measures=measures,
        evidence=evidence_href(innovation_id, result.key.value, query),
    )


def reasons_public(reasons: list[StageReason]) -> list[StageReasonPublic]:
    return [
        StageReasonPublic(rule=r.rule, indicators=list(r.indicators), explanation=r.explanation)
        for r in reasons
    ]


def outcomes_public(outcomes: Outcomes, *, external: bool) -> OutcomesPublic:
    incidents = sum(m.incidents for m in outcomes.months)
    restrictive = sum(m.restrictive_interventions for m in outcomes.months)
    hide = external and (is_small(incidents) or is_small(restrictive))
    return OutcomesPublic(
        months=[
            MonthOutcomePublic(
                month=m.month,
                incidents=suppress(m.incidents) if external else m.incidents,
                restrictive_interventions=suppress(m.restrictive_interventions)
                if external
                else m.restrictive_interventions,
            )
            for m in outcomes.months
        ],
        incidents_per_month=None if external and is_small(incidents) else outcomes.incidents_per_month,
        restrictive_interventions_per_month=None
        if external and is_small(restrictive)
        else outcomes.restrictive_interventions_per_month,
        baseline_months=list(outcomes.baseline_months),
        baseline_incidents_per_month=outcomes.baseline_incidents_per_month,
        baseline_restrictive_interventions_per_month=outcomes.baseline_restrictive_interventions_per_month,
        explanation=WITHHELD if hide else outcomes.explanation,
        cqc=cqc_public(cqc_mapping().context.get("outcomes")),
    )


def staff_voice_public(voice: StaffVoice, *, external: bool) -> StaffVoicePublic:
    if external and is_small(voice.responses):
        # A handful of answers could be one person's: show nothing but that there were some.
        return StaffVoicePublic(
            responses=suppress(voice.responses),
            constructs={k: None for k in voice.constructs},
            general={k: None for k in voice.general},
            normal_now_share=None,
            normal_now_respondents=suppress(voice.normal_now_respondents),
            explanation=WITHHELD,
            cqc=cqc_public(cqc_mapping().context.get("staff_voice")),
        )
    return StaffVoicePublic(
        responses=voice.responses,
        constructs=voice.constructs,
        general=voice.general,
        normal_now_share=voice.normal_now_share,
        normal_now_respondents=suppress(voice.normal_now_respondents)
        if external
        else voice.normal_now_respondents,
        explanation=voice.explanation,
        cqc=cqc_public(cqc_mapping().context.get("staff_voice")),
    )


def drift_public(drift: Drift, *, external: bool) -> DriftPublic:
    signals = []
    for s in drift.signals:
        counts = s.kind == "reference_frequency"
        signals.append(
            DriftSignalPublic(
                key=s.key,
                kind=s.kind,
                system=s.system,
                previous=None if external and counts else s.previous,
                current=None if external and counts else s.current,
                explanation=f"References in {s.system} fell against the previous window."
                if external and counts
                else s.explanation,
            )
        )
    start, end = drift.previous_window or (None, None)
    return DriftPublic(
        flagged=list(drift.flagged),
        signals=signals,
        previous_window_start=start,
        previous_window_end=end,
        explanation=drift.explanation,
        cqc=cqc_public(cqc_mapping().context.get("drift")),
    )


def period_name(point: Point, window_days: int) -> str:
    return PERIOD_WINDOW.format(days=window_days) if point.current else PERIOD_MONTHLY


def indicators_public(
    result: PointResult, *, external: bool, innovation_id: uuid.UUID, query: dict[str, Any]
) -> list[IndicatorPublic]:
    return [
        indicator_public(r, external=external, innovation_id=innovation_id, query=query)
        for r in result.indicators.values()
    ]


def context_public(result: PointResult, *, external: bool) -> StatusContext:
    return StatusContext(
        outcomes=outcomes_public(result.outcomes, external=external),
        staff_voice=staff_voice_public(result.staff_voice, external=external),
        drift=drift_public(result.drift, external=external),
    )


def point_public(
    result: PointResult,
    *,
    external: bool,
    innovation_id: uuid.UUID,
    window_days: int,
    service_id: uuid.UUID | None,
) -> StatusPoint:
    as_of: datetime = result.point.end
    query = {"service_id": service_id, "window_days": window_days, "as_of": as_of.isoformat()}
    return StatusPoint(
        month=result.point.month,
        period=period_name(result.point, window_days),
        window_start=result.point.start,
        window_end=result.point.end,
        current=result.point.current,
        stage=result.stage,
        stage_reasons=reasons_public(result.stage_reasons),
        indicators=indicators_public(result, external=external, innovation_id=innovation_id, query=query),
        drift=drift_public(result.drift, external=external),
    )


def status_public(
    subject: StatusSubject,
    result: StatusResult,
    *,
    service_ids: Sequence[uuid.UUID],
    service_id: uuid.UUID | None,
    external: bool,
    known_at: datetime | None,
) -> EmbeddingStatus:
    current = result.current
    point = current.point
    innovation = subject.innovation
    query = {
        "service_id": service_id,
        "window_days": subject.window_days,
        "as_of": point.end.isoformat(),
    }
    return EmbeddingStatus(
        innovation_id=innovation.id,
        innovation_name=innovation.name,
        organisation_id=innovation.organisation_id,
        service_id=service_id,
        scope=StatusScope(level="service" if service_id else "provider", service_ids=list(service_ids)),
        as_of=point.end,
        known_at=known_at,
        window_days=subject.window_days,
        period=period_name(point, subject.window_days),
        window_start=point.start,
        window_end=point.end,
        stage=current.stage,
        stage_reasons=reasons_public(current.stage_reasons),
        months_in_stage=result.months_in_stage,
        indicators=indicators_public(current, external=external, innovation_id=innovation.id, query=query),
        context=context_public(current, external=external),
        thresholds=subject.thresholds,
        threshold_sources=subject.threshold_sources,
        cqc_framework=cqc_mapping().framework,
        suppressed_counts=external,
    )


def history_public(
    subject: StatusSubject,
    result: StatusResult,
    *,
    service_ids: Sequence[uuid.UUID],
    service_id: uuid.UUID | None,
    external: bool,
    as_of: datetime,
) -> StatusHistory:
    """The monthly series of `result` (evaluated with its history), one point per month."""
    innovation = subject.innovation
    return StatusHistory(
        innovation_id=innovation.id,
        innovation_name=innovation.name,
        organisation_id=innovation.organisation_id,
        service_id=service_id,
        scope=StatusScope(level="service" if service_id else "provider", service_ids=list(service_ids)),
        as_of=as_of,
        window_days=subject.window_days,
        months=[
            point_public(
                p,
                external=external,
                innovation_id=innovation.id,
                window_days=subject.window_days,
                service_id=service_id,
            )
            for p in result.history or [result.current]
        ],
        thresholds=subject.thresholds,
        suppressed_counts=external,
    )
