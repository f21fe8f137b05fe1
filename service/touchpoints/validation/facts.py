"""The structured facts of each touchpoint kind (DOMAIN.md, "facts by kind").

Unknown keys are refused so a misspelt fact (`engagment_quality`) is reported, not silently lost.
Numbers and flags are strict: `"4"` or `"yes"` is refused rather than guessed at.

A fact that holds free text (words a person typed, which may name a resident) is declared with
`FactText`, which carries the `FREE_TEXT` marker. `service.touchpoints.free_text` reads the marker:
a marked fact is withheld, like a touchpoint's `text`, from every caller that may not read free
text. A new free-text fact is withheld by being declared `FactText`; nothing else lists them.
"""

import uuid
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, PlainValidator, StrictBool, StrictInt
from pydantic_core import PydanticCustomError

from service.input_model import ApiInput
from service.touchpoints.validation.limits import MAX_FACT_TEXT_CHARS


class Facts(ApiInput):
    model_config = ConfigDict(extra="forbid", frozen=True)


Rating = Annotated[StrictInt, Field(ge=1, le=5)]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False, strict=True)]
# The JSON Schema key marking a field as free text (it shows in the published schema too).
FREE_TEXT = "x-free-text"
FactText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_FACT_TEXT_CHARS,
        description="Free text: personal data, read as null by roles without touchpoint:read_text.",
        json_schema_extra={FREE_TEXT: True},
    ),
]


class DailyNoteFacts(Facts):
    activity: FactText
    # The quality of engagement, not mere completion of the activity.
    engagement_quality: Rating


class CarePlanReviewFacts(Facts):
    changes_made: StrictBool


class AttendanceFacts(Facts):
    """Shift handovers and team meetings."""

    attendees: Annotated[StrictInt, Field(ge=1, le=1000)]


class SupervisionFacts(Facts):
    # Could the supervisee explain why, not only what? Null when it was not assessed.
    explains_why: StrictBool | None = None


class CompetencyCheckFacts(Facts):
    passed: StrictBool
    explains_why: StrictBool | None = None


class PracticeObservationFacts(Facts):
    score: Rating
    explains_why: StrictBool | None = None


class AuditFacts(Facts):
    tool: FactText
    score_percent: Percent


class QualityReviewFacts(Facts):
    score_percent: Percent | None = None
    actions: Annotated[StrictInt, Field(ge=0, le=1000)]


class WorkforceFacts(Facts):
    """Induction and shadowing of a new starter; the buddy is a staff member."""

    buddy_id: uuid.UUID | None = None


class IncidentFacts(Facts):
    severity: Literal["low", "moderate", "high"]
    restrictive_intervention: StrictBool


class PostIncidentReviewFacts(Facts):
    # The `incident` touchpoint this review follows.
    incident_id: uuid.UUID
    learning_captured: StrictBool
    follow_up_observation_planned: StrictBool


GeneralScore = Annotated[StrictInt, Field(ge=0, le=10)]
NOMAD_OPT_OUTS = ("na_role", "na_stage", "na_intervention")


def _nomad_answer(value: Any) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
        return value
    if isinstance(value, str) and value in NOMAD_OPT_OUTS:
        return value
    raise PydanticCustomError(
        "nomad_answer",
        "must be 1 (strongly disagree) to 5 (strongly agree), na_role, na_stage or na_intervention",
    )


# NoMAD's agreement scale, 1 (strongly disagree) … 5 (strongly agree), or one of its three opt-outs.
NomadAnswer = Annotated[
    int | str,
    PlainValidator(
        _nomad_answer,
        json_schema_input_type=Annotated[int, Field(ge=1, le=5)]
        | Literal["na_role", "na_stage", "na_intervention"],
    ),
]


class NomadGeneral(Facts):
    familiar: GeneralScore
    normal_now: GeneralScore
    normal_future: GeneralScore


class NomadItems(Facts):
    """The 20 construct items; `ca2` ("it disrupts working relationships") is scored reversed."""

    c1: NomadAnswer
    c2: NomadAnswer
    c3: NomadAnswer
    c4: NomadAnswer
    cp1: NomadAnswer
    cp2: NomadAnswer
    cp3: NomadAnswer
    cp4: NomadAnswer
    ca1: NomadAnswer
    ca2: NomadAnswer
    ca3: NomadAnswer
    ca4: NomadAnswer
    ca5: NomadAnswer
    ca6: NomadAnswer
    ca7: NomadAnswer
    rm1: NomadAnswer
    rm2: NomadAnswer
    rm3: NomadAnswer
    rm4: NomadAnswer
    rm5: NomadAnswer


class StaffSurveyFacts(Facts):
    general: NomadGeneral
    items: NomadItems
