"""Touchpoints as posted (one model per kind, a union discriminated on `kind`) and as read."""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    field_validator,
)

from service.input_model import ApiInput
from service.touchpoints.facts import (
    FREE_TEXT,
    AttendanceFacts,
    AuditFacts,
    CarePlanReviewFacts,
    CompetencyCheckFacts,
    DailyNoteFacts,
    IncidentFacts,
    PostIncidentReviewFacts,
    PracticeObservationFacts,
    QualityReviewFacts,
    StaffSurveyFacts,
    SupervisionFacts,
    WorkforceFacts,
)
from service.touchpoints.limits import (
    MAX_BATCH_ITEMS,
    MAX_EXTERNAL_ID_CHARS,
    MAX_INNOVATIONS_PER_TOUCHPOINT,
    MAX_SOURCE_SYSTEM_CHARS,
    MAX_TEXT_CHARS,
    check_facts_shape,
)
from service.vocabulary import DeliverySystem, Shift, TouchpointKind

SourceSystem = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_SOURCE_SYSTEM_CHARS,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        description="The sending system, e.g. `acme-care`: letters, digits, `.`, `_`, `:` and `-`.",
    ),
]
ExternalId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_EXTERNAL_ID_CHARS,
        pattern=r"^[^\s/][^/]*$",
        description="The record's id in the sending system; unique per source system.",
    ),
]


class TouchpointFields(ApiInput):
    """What every kind carries: provenance (who, where, when, which system) and what it references."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service_id: uuid.UUID
    occurred_at: AwareDatetime = Field(description="When it happened; must carry a time zone offset.")
    shift: Shift | None = Field(
        default=None, description="Derived from the service's shift pattern when absent."
    )
    recorded_by_id: uuid.UUID = Field(description="The staff member who recorded it.")
    subject_staff_id: uuid.UUID | None = Field(
        default=None, description="The staff member it is about (supervisee, new starter, observed)."
    )
    person_ref_id: uuid.UUID | None = None
    innovation_ids: Annotated[list[uuid.UUID], Field(max_length=MAX_INNOVATIONS_PER_TOUCHPOINT)] = Field(
        default_factory=list, description="Innovations it references; order and repeats do not matter."
    )
    source_system: SourceSystem | None = None
    external_id: ExternalId | None = None
    text: Annotated[str, Field(max_length=MAX_TEXT_CHARS)] | None = Field(
        default=None,
        description="Free text; personal data, shown only to roles that may read it.",
        json_schema_extra={FREE_TEXT: True},
    )

    @field_validator("occurred_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @field_validator("innovation_ids")
    @classmethod
    def _as_set(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        # Keyed by the integer value: hashing and ordering ints stays in C, UUID's own do not.
        by_value = {innovation_id.int: innovation_id for innovation_id in value}
        return [by_value[key] for key in sorted(by_value)]


# Facts are bounded in depth and size before the kind's model reads them.
ShapeChecked = BeforeValidator(check_facts_shape)


class DailyNoteCreate(TouchpointFields):
    kind: Literal["daily_note"]
    person_ref_id: uuid.UUID
    facts: Annotated[DailyNoteFacts, ShapeChecked]


class CarePlanReviewCreate(TouchpointFields):
    kind: Literal["care_plan_review"]
    person_ref_id: uuid.UUID
    facts: Annotated[CarePlanReviewFacts, ShapeChecked]


class TeamCommunicationCreate(TouchpointFields):
    kind: Literal["shift_handover", "team_meeting"]
    facts: Annotated[AttendanceFacts, ShapeChecked]


class SupervisionCreate(TouchpointFields):
    kind: Literal["supervision"]
    subject_staff_id: uuid.UUID = Field(description="The supervisee.")
    facts: Annotated[SupervisionFacts, ShapeChecked]


class CompetencyCheckCreate(TouchpointFields):
    kind: Literal["competency_check"]
    subject_staff_id: uuid.UUID = Field(description="The staff member assessed.")
    facts: Annotated[CompetencyCheckFacts, ShapeChecked]


class PracticeObservationCreate(TouchpointFields):
    kind: Literal["practice_observation"]
    facts: Annotated[PracticeObservationFacts, ShapeChecked]


class AuditCreate(TouchpointFields):
    kind: Literal["audit"]
    facts: Annotated[AuditFacts, ShapeChecked]


class QualityReviewCreate(TouchpointFields):
    kind: Literal["quality_review"]
    facts: Annotated[QualityReviewFacts, ShapeChecked]


class WorkforceCreate(TouchpointFields):
    kind: Literal["induction", "shadowing"]
    subject_staff_id: uuid.UUID = Field(description="The new starter.")
    facts: Annotated[WorkforceFacts, ShapeChecked]


class IncidentCreate(TouchpointFields):
    kind: Literal["incident"]
    facts: Annotated[IncidentFacts, ShapeChecked]


class PostIncidentReviewCreate(TouchpointFields):
    kind: Literal["post_incident_review"]
    facts: Annotated[PostIncidentReviewFacts, ShapeChecked]


class StaffSurveyCreate(TouchpointFields):
    kind: Literal["staff_survey"]
    innovation_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=1)] = Field(
        description="The one innovation the questionnaire is about."
    )
    facts: Annotated[StaffSurveyFacts, ShapeChecked]


TouchpointCreateItem = (
    DailyNoteCreate
    | CarePlanReviewCreate
    | TeamCommunicationCreate
    | SupervisionCreate
    | CompetencyCheckCreate
    | PracticeObservationCreate
    | AuditCreate
    | QualityReviewCreate
    | WorkforceCreate
    | IncidentCreate
    | PostIncidentReviewCreate
    | StaffSurveyCreate
)
TouchpointCreateUnion = Annotated[TouchpointCreateItem, Field(discriminator="kind")]


class TouchpointCreate(RootModel[TouchpointCreateUnion]):
    """A touchpoint as posted: the shape of `facts` follows `kind`."""


class TouchpointBatchCreate(ApiInput):
    items: Annotated[list[TouchpointCreate], Field(max_length=MAX_BATCH_ITEMS)]


class FieldProblem(BaseModel):
    field: str
    rule: str
    message: str


class ItemProblem(BaseModel):
    """Why one item was refused (RFC 9457 problem details)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None


class ItemResult(BaseModel):
    index: int
    status: Literal["created", "duplicate", "rejected"]
    id: uuid.UUID | None = None
    problem: ItemProblem | None = None


class TouchpointBatchResults(BaseModel):
    results: list[ItemResult]


class TouchpointRevisionPublic(BaseModel):
    revision: int
    content: dict[str, Any] = Field(
        description="The record as it stood: every posted and derived field; its free text (`text`, "
        "free-text facts) null when the caller may not read free text."
    )
    recorded_at: datetime
    recorded_by_sub: str
    replaced_at: datetime
    replaced_by_sub: str


class TouchpointPublic(BaseModel):
    id: uuid.UUID
    kind: TouchpointKind
    system: DeliverySystem
    service_id: uuid.UUID
    occurred_at: datetime
    recorded_at: datetime = Field(description="When the current revision was recorded.")
    shift: Shift
    weekend: bool = Field(description="The shift began on a Saturday or Sunday, local time.")
    recorded_by_id: uuid.UUID | None
    subject_staff_id: uuid.UUID | None
    person_ref_id: uuid.UUID | None
    innovation_ids: list[uuid.UUID]
    source_system: str | None
    external_id: str | None
    text: str | None = Field(description="Null when there is none or the caller may not read free text.")
    facts: dict[str, Any] = Field(
        description="The facts of its kind; those marked free text (`x-free-text` in the posted "
        "schema) are null when the caller may not read free text."
    )
    revision: int
    recorded_by_sub: str = Field(description="The token subject that recorded the current revision.")


class TouchpointDetail(TouchpointPublic):
    revisions: list[TouchpointRevisionPublic] = Field(
        description="Earlier revisions, oldest first; empty when the record was never corrected."
    )
