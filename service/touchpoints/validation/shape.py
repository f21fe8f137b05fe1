"""A touchpoint as posted: one model per kind, a union discriminated on `kind`, and the call that
turns a raw item into one of them or into a problem naming each offending field.

The type adapter is built once at import; validating an item is then a single call into
pydantic-core, which keeps a 1,000-item batch to a few milliseconds of Python.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from service.errors import InvalidInput
from service.input_model import ApiInput
from service.touchpoints.validation.facts import (
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
from service.touchpoints.validation.limits import (
    MAX_BATCH_ITEMS,
    MAX_EXTERNAL_ID_CHARS,
    MAX_INNOVATIONS_PER_TOUCHPOINT,
    MAX_SOURCE_SYSTEM_CHARS,
    MAX_TEXT_CHARS,
    check_facts_shape,
)
from service.touchpoints.validation.problems import Path, field_error, invalid
from service.vocabulary import Shift

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


TOUCHPOINT_ADAPTER: TypeAdapter[TouchpointCreateItem] = TypeAdapter(TouchpointCreateUnion)
_LIST_ADAPTER: TypeAdapter[list[TouchpointCreateItem]] = TypeAdapter(list[TouchpointCreateUnion])

_TAG_ERRORS = frozenset({"union_tag_invalid", "union_tag_not_found"})


def _errors_of(exc: ValidationError, prefix: Path) -> list[dict[str, str]]:
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        if err["type"] in _TAG_ERRORS:
            loc: tuple[str | int, ...] = ("kind",)
        else:
            # The first element is the kind's tag (the union member), which names no field.
            loc = tuple(
                part
                for part in err["loc"][1:]
                if not (isinstance(part, str) and part.startswith(("function-", "json-or-python")))
            )
        out.append(field_error(prefix, loc, err["type"], err["msg"]))
    return out


def validate_item(raw: Any, prefix: Path) -> TouchpointCreateItem | InvalidInput:
    """The validated item, or the problem (never raised: a batch collects them per item)."""
    if not isinstance(raw, Mapping):
        return invalid([field_error(prefix, (), "model_type", "a touchpoint must be a JSON object")])
    try:
        return TOUCHPOINT_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        return invalid(_errors_of(exc, prefix))


def validate_items(
    raws: Sequence[Any], prefixes: Sequence[Path]
) -> list[TouchpointCreateItem | InvalidInput]:
    """Validate many items: in one call when all are valid (the common case), else one by one."""
    if all(type(raw) is dict for raw in raws):
        try:
            return list(_LIST_ADAPTER.validate_python(raws))
        except ValidationError:
            pass
    return [validate_item(raw, prefix) for raw, prefix in zip(raws, prefixes, strict=True)]


def posted_items(body: Any) -> list[Any]:
    """The items of a posted batch, each still as posted: a batch answers per item, so only a body
    that is not `{"items": [...]}` at all is refused whole."""
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise InvalidInput(
            "items: the body must be an object with a list `items`",
            errors=[{"field": "items", "rule": "list_type", "message": "must be a list of touchpoints"}],
        )
    return items
