"""The structured facts of each touchpoint kind, typed, as read and as posted.

Posted facts are turned back into the REST JSON shape and validated by the REST models
(`service.touchpoints.validation.facts`), so ranges and messages are the REST ones; the GraphQL types only
fix the field names and scalar types.
"""

import uuid
from enum import Enum
from typing import Any

import strawberry

from service.graphql.permissions import policy
from service.policy import Permission

# ---- NoMAD --------------------------------------------------------------------------------------


@strawberry.enum(description="NoMAD's agreement scale, or one of its three opt-outs.")
class NomadAnswer(Enum):
    strongly_disagree = 1
    disagree = 2
    neither = 3
    agree = 4
    strongly_agree = 5
    na_role = "na_role"
    na_stage = "na_stage"
    na_intervention = "na_intervention"


NOMAD_ITEMS = (
    *(f"c{i}" for i in range(1, 5)),
    *(f"cp{i}" for i in range(1, 5)),
    *(f"ca{i}" for i in range(1, 8)),
    *(f"rm{i}" for i in range(1, 6)),
)


@strawberry.type(description="NoMAD's three general items, 0–10.")
class NomadGeneral:
    familiar: int
    normal_now: int
    normal_future: int


@strawberry.type(description="The 20 construct items; `ca2` is scored reversed.")
class NomadItems:
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


@strawberry.enum
class IncidentSeverity(Enum):
    low = "low"
    moderate = "moderate"
    high = "high"


# ---- Facts as read --------------------------------------------------------------------------------


# Free-text facts (marked in `service.touchpoints.validation.facts`): closed like a touchpoint's `text`, and
# null when withheld.
FREE_TEXT_FACT = "Free text about people; null when the caller may not read free text."


@strawberry.type
class DailyNoteFacts:
    activity: str | None = strawberry.field(
        extensions=[policy(Permission.touchpoint_read_text)], description=FREE_TEXT_FACT
    )
    engagement_quality: int = strawberry.field(description="1–5: the quality of engagement.")


@strawberry.type
class CarePlanReviewFacts:
    changes_made: bool


@strawberry.type(description="Shift handovers and team meetings.")
class AttendanceFacts:
    attendees: int


@strawberry.type
class SupervisionFacts:
    explains_why: bool | None = strawberry.field(
        description="Could the supervisee explain why? Null: not assessed."
    )


@strawberry.type
class CompetencyCheckFacts:
    passed: bool
    explains_why: bool | None


@strawberry.type
class PracticeObservationFacts:
    score: int = strawberry.field(description="1–5.")
    explains_why: bool | None


@strawberry.type
class AuditFacts:
    tool: str | None = strawberry.field(
        extensions=[policy(Permission.touchpoint_read_text)], description=FREE_TEXT_FACT
    )
    # Always set for an audit; typed nullable like a quality review's, so a query may ask both kinds
    # for `scorePercent` in one selection (GraphQL refuses to merge `Float!` with `Float`).
    score_percent: float | None = strawberry.field(description="0–100; always set for an audit.")


@strawberry.type
class QualityReviewFacts:
    score_percent: float | None
    actions: int


@strawberry.type
class IncidentFacts:
    severity: IncidentSeverity
    restrictive_intervention: bool


@strawberry.type
class PostIncidentReviewFacts:
    incident_id: uuid.UUID = strawberry.field(description="The `incident` touchpoint this review follows.")
    learning_captured: bool
    follow_up_observation_planned: bool


@strawberry.type
class StaffSurveyFacts:
    general: NomadGeneral
    items: NomadItems


def nomad_answer(value: Any) -> NomadAnswer:
    return NomadAnswer(value)


def staff_survey_facts(facts: dict[str, Any]) -> StaffSurveyFacts:
    items = facts["items"]
    return StaffSurveyFacts(
        general=NomadGeneral(**facts["general"]),
        items=NomadItems(**{name: nomad_answer(items[name]) for name in NOMAD_ITEMS}),
    )


# ---- Facts as posted ------------------------------------------------------------------------------


@strawberry.input
class DailyNoteFactsInput:
    activity: str
    engagement_quality: int


@strawberry.input
class CarePlanReviewFactsInput:
    changes_made: bool


@strawberry.input
class AttendanceFactsInput:
    attendees: int


@strawberry.input
class SupervisionFactsInput:
    explains_why: bool | None = strawberry.UNSET


@strawberry.input
class CompetencyCheckFactsInput:
    passed: bool
    explains_why: bool | None = strawberry.UNSET


@strawberry.input
class PracticeObservationFactsInput:
    score: int
    explains_why: bool | None = strawberry.UNSET


@strawberry.input
class AuditFactsInput:
    tool: str
    score_percent: float


@strawberry.input
class QualityReviewFactsInput:
    actions: int
    score_percent: float | None = strawberry.UNSET


@strawberry.input(description="Induction and shadowing of a new starter.")
class WorkforceFactsInput:
    buddy_id: uuid.UUID | None = strawberry.UNSET


@strawberry.input
class IncidentFactsInput:
    severity: IncidentSeverity
    restrictive_intervention: bool


@strawberry.input
class PostIncidentReviewFactsInput:
    incident_id: uuid.UUID
    learning_captured: bool
    follow_up_observation_planned: bool


@strawberry.input
class NomadGeneralInput:
    familiar: int
    normal_now: int
    normal_future: int


@strawberry.input
class NomadItemsInput:
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


@strawberry.input
class StaffSurveyFactsInput:
    general: NomadGeneralInput
    items: NomadItemsInput
