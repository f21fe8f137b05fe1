"""A touchpoint as posted through GraphQL: one input member per kind (`@oneOf`), facts typed.

`as_posted` turns it into the JSON object REST receives, and the REST ingestion validates it: the
same rules, the same messages, the same field names in them.
"""

import uuid
from dataclasses import fields
from datetime import datetime
from typing import Any

import strawberry

from service.graphql.enums import Shift
from service.graphql.inputs import given
from service.graphql.touchpoints.facts import (
    AttendanceFactsInput,
    AuditFactsInput,
    CarePlanReviewFactsInput,
    CompetencyCheckFactsInput,
    DailyNoteFactsInput,
    IncidentFactsInput,
    PostIncidentReviewFactsInput,
    PracticeObservationFactsInput,
    QualityReviewFactsInput,
    StaffSurveyFactsInput,
    SupervisionFactsInput,
    WorkforceFactsInput,
)


@strawberry.input(description="What every kind carries: provenance and what it references.")
class TouchpointFieldsInput:
    service_id: uuid.UUID
    occurred_at: datetime = strawberry.field(description="When it happened, with a time zone offset.")
    recorded_by_id: uuid.UUID = strawberry.field(description="The staff member who recorded it.")
    shift: Shift | None = strawberry.field(
        default=strawberry.UNSET, description="Derived from the service's shift pattern when absent."
    )
    subject_staff_id: uuid.UUID | None = strawberry.UNSET
    person_ref_id: uuid.UUID | None = strawberry.UNSET
    innovation_ids: list[uuid.UUID] | None = strawberry.UNSET
    source_system: str | None = strawberry.UNSET
    external_id: str | None = strawberry.UNSET
    text: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Free text; personal data, shown only to roles that may read it.",
    )


@strawberry.input
class DailyNoteInput(TouchpointFieldsInput):
    person_ref_id: uuid.UUID
    facts: DailyNoteFactsInput


@strawberry.input
class CarePlanReviewInput(TouchpointFieldsInput):
    person_ref_id: uuid.UUID
    facts: CarePlanReviewFactsInput


@strawberry.input(description="A shift handover or a team meeting.")
class AttendanceInput(TouchpointFieldsInput):
    facts: AttendanceFactsInput


@strawberry.input
class SupervisionInput(TouchpointFieldsInput):
    subject_staff_id: uuid.UUID = strawberry.field(description="The supervisee.")
    facts: SupervisionFactsInput


@strawberry.input
class CompetencyCheckInput(TouchpointFieldsInput):
    subject_staff_id: uuid.UUID = strawberry.field(description="The staff member assessed.")
    facts: CompetencyCheckFactsInput


@strawberry.input
class PracticeObservationInput(TouchpointFieldsInput):
    facts: PracticeObservationFactsInput


@strawberry.input
class AuditInput(TouchpointFieldsInput):
    facts: AuditFactsInput


@strawberry.input
class QualityReviewInput(TouchpointFieldsInput):
    facts: QualityReviewFactsInput


@strawberry.input(description="An induction or shadowing of a new starter.")
class WorkforceInput(TouchpointFieldsInput):
    subject_staff_id: uuid.UUID = strawberry.field(description="The new starter.")
    facts: WorkforceFactsInput


@strawberry.input
class IncidentInput(TouchpointFieldsInput):
    facts: IncidentFactsInput


@strawberry.input
class PostIncidentReviewInput(TouchpointFieldsInput):
    facts: PostIncidentReviewFactsInput


@strawberry.input(description="A NoMAD questionnaire about the one innovation in `innovationIds`.")
class StaffSurveyInput(TouchpointFieldsInput):
    facts: StaffSurveyFactsInput


@strawberry.input(
    one_of=True,
    description="One touchpoint: set exactly one member, named after its kind.",
)
class TouchpointInput:
    daily_note: DailyNoteInput | None = strawberry.UNSET
    care_plan_review: CarePlanReviewInput | None = strawberry.UNSET
    shift_handover: AttendanceInput | None = strawberry.UNSET
    team_meeting: AttendanceInput | None = strawberry.UNSET
    supervision: SupervisionInput | None = strawberry.UNSET
    competency_check: CompetencyCheckInput | None = strawberry.UNSET
    practice_observation: PracticeObservationInput | None = strawberry.UNSET
    audit: AuditInput | None = strawberry.UNSET
    quality_review: QualityReviewInput | None = strawberry.UNSET
    induction: WorkforceInput | None = strawberry.UNSET
    shadowing: WorkforceInput | None = strawberry.UNSET
    incident: IncidentInput | None = strawberry.UNSET
    post_incident_review: PostIncidentReviewInput | None = strawberry.UNSET
    staff_survey: StaffSurveyInput | None = strawberry.UNSET


def as_posted(touchpoint: TouchpointInput) -> dict[str, Any]:
    """The REST JSON object for this touchpoint: `kind` from the member set, fields as given.

    Fields left out stay out (not null), so a missing field is reported as REST reports it.
    """
    for member in fields(touchpoint):
        value = getattr(touchpoint, member.name)
        if value is not strawberry.UNSET and value is not None:
            return {"kind": member.name, **given(value)}
    # `@oneOf` validation guarantees one member; this is the REST answer to an empty body.
    return {}
