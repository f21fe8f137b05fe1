"""API shapes of an embedding status, its history, its evidence and its thresholds.

Counts that a commissioner or inspector sees may be `{"suppressed": true}` (service.disclosure):
from 1 to 4 they could point at a person.
"""

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.disclosure import Suppressed
from service.status.thresholds import ThresholdOverrides, Thresholds
from service.status.vocabulary import IndicatorKey, Rag, Stage

Number = int | float | Suppressed | None


class QualityStatementPublic(BaseModel):
    key_question: Literal["safe", "effective", "caring", "responsive", "well_led"]
    statement: str


class CqcTagsPublic(BaseModel):
    """The CQC Single Assessment Framework quality statements and evidence categories it speaks to."""

    quality_statements: list[QualityStatementPublic]
    evidence_categories: list[str]


class IndicatorPublic(BaseModel):
    key: IndicatorKey
    value: float | None = Field(description="numerator / denominator, or the measure named in `explanation`.")
    numerator: Number
    denominator: Number
    rag: Rag
    threshold: dict[str, Any] = Field(description="The thresholds this rating was judged against.")
    explanation: str = Field(description="Why it has this rating, in one sentence.")
    cqc: CqcTagsPublic
    measures: dict[str, Any] = Field(
        default_factory=dict, description="Secondary measures behind the rating."
    )
    evidence: str = Field(description="Where to list the touchpoints behind the numerator and denominator.")


class StageReasonPublic(BaseModel):
    rule: str = Field(description="Which stage rule applied, e.g. `dependent_on_individuals`.")
    indicators: list[str] = Field(description="The indicators that decided it.")
    explanation: str


class MonthOutcomePublic(BaseModel):
    month: date
    incidents: int | Suppressed
    restrictive_interventions: int | Suppressed


class OutcomesPublic(BaseModel):
    """Incidents and restrictive interventions a month, against the months before the innovation."""

    months: list[MonthOutcomePublic]
    incidents_per_month: float | None
    restrictive_interventions_per_month: float | None
    baseline_months: list[date]
    baseline_incidents_per_month: float | None
    baseline_restrictive_interventions_per_month: float | None
    explanation: str
    cqc: CqcTagsPublic


class StaffVoicePublic(BaseModel):
    """NoMAD construct means (1–5, opt-outs left out, ca2 reversed) and general items (0–10)."""

    responses: int | Suppressed
    constructs: dict[str, float | None]
    general: dict[str, float | None]
    normal_now_share: float | None = Field(
        description="Share answering 7 or more out of 10 that it is a normal part of their work now."
    )
    normal_now_respondents: int | Suppressed
    explanation: str
    cqc: CqcTagsPublic


class DriftSignalPublic(BaseModel):
    key: str
    kind: Literal["indicator", "reference_frequency"]
    system: str | None = None
    previous: float | None
    current: float | None
    explanation: str


class DriftPublic(BaseModel):
    flagged: list[str] = Field(description="Indicators (and `reference_frequency`) that fell.")
    signals: list[DriftSignalPublic]
    previous_window_start: datetime | None
    previous_window_end: datetime | None
    explanation: str
    cqc: CqcTagsPublic


class StatusContext(BaseModel):
    outcomes: OutcomesPublic
    staff_voice: StaffVoicePublic
    drift: DriftPublic


class StatusScope(BaseModel):
    level: Literal["service", "provider"] = Field(
        description="`service`: one service; `provider`: rolled up over `service_ids` from the same counts."
    )
    service_ids: list[uuid.UUID]


class EmbeddingStatus(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"description": "Whether an innovation is embedded, with its evidence."}
    )

    innovation_id: uuid.UUID
    innovation_name: str
    organisation_id: uuid.UUID = Field(description="The provider.")
    service_id: uuid.UUID | None = Field(description="Null for the provider (rolled up over `scope`).")
    scope: StatusScope
    as_of: datetime
    known_at: datetime | None = Field(
        description="When set: only what had been recorded (and corrected) by then was used."
    )
    window_days: int
    period: str = Field(description="The window, named as indicator platforms name periods.")
    window_start: datetime = Field(description="The local month boundary nearest `as_of − window_days`.")
    window_end: datetime
    stage: Stage
    stage_reasons: list[StageReasonPublic]
    months_in_stage: int = Field(description="Consecutive months, this one included, at this stage (≤ 13).")
    indicators: list[IndicatorPublic]
    context: StatusContext
    thresholds: Thresholds
    threshold_sources: dict[str, Literal["default", "provider", "innovation"]]
    cqc_framework: str
    suppressed_counts: bool = Field(description="True when counts from 1 to 4 are withheld for this caller.")
    computed_at: datetime | None = Field(
        default=None,
        description="When served from a projection kept current by the job workers: when it was computed.",
    )


class StatusPoint(BaseModel):
    """One month of the series: the window ending at that month's end (or at `as_of`)."""

    month: date
    period: str
    window_start: datetime
    window_end: datetime
    current: bool
    stage: Stage
    stage_reasons: list[StageReasonPublic]
    indicators: list[IndicatorPublic]
    drift: DriftPublic


class StatusHistory(BaseModel):
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
    computed_at: datetime | None = Field(
        default=None,
        description="When served from a projection kept current by the job workers: when it was computed.",
    )


class InnovationStatuses(BaseModel):
    """One innovation: its provider-level status and one status per service in scope."""

    innovation_id: uuid.UUID
    innovation_name: str
    organisation_id: uuid.UUID
    phase: str
    provider: EmbeddingStatus
    services: list[EmbeddingStatus]


class EvidenceItem(BaseModel):
    """A touchpoint behind an indicator. Outside the provider: no text, no staff or person ids."""

    touchpoint_id: uuid.UUID
    kind: str
    system: str
    service_id: uuid.UUID
    occurred_at: datetime
    shift: str
    in_numerator: bool
    in_denominator: bool
    facts: dict[str, Any] = Field(
        description="The structured facts the indicator reads; free-text facts (an audit's `tool`) "
        "null when the caller may not read free text."
    )
    related_touchpoint_id: uuid.UUID | None = Field(
        default=None, description="For an incident, the review that counted for it."
    )
    recorded_by_id: uuid.UUID | None = None
    subject_staff_id: uuid.UUID | None = None
    person_ref_id: uuid.UUID | None = None
    text: str | None = Field(default=None, description="Null when the caller may not read free text.")


class EvidencePage(BaseModel):
    items: list[EvidenceItem]
    next_cursor: str | None = None
    indicator: IndicatorKey
    window_start: datetime
    window_end: datetime
    redacted: bool = Field(description="True when text and staff and person ids are withheld.")


class ThresholdsView(BaseModel):
    innovation_id: uuid.UUID | None = Field(description="Null for the provider's own defaults.")
    effective: Thresholds = Field(description="Defaults ← provider ← innovation: what statuses use.")
    overrides: ThresholdOverrides = Field(description="What this level sets; the rest is inherited.")
    provider_defaults: ThresholdOverrides
    sources: dict[str, Literal["default", "provider", "innovation"]]
    updated_at: datetime | None
