"""Touchpoints as read: an interface, one type per kind with its facts typed, relations by loader.

Free text needs `touchpoint:read_text`; the people involved need staff identity (or the caller's
own touchpoints) or, for the person supported, reference read access. The values themselves come
from the REST reading functions, which already leave out what the caller may not see.
"""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from service.graphql.context import GraphQLInfo
from service.graphql.enums import DeliverySystem, Shift, TouchpointKind
from service.graphql.permissions import policy
from service.graphql.reference.innovations import Innovation
from service.graphql.reference.people import PersonRef
from service.graphql.reference.services import Service
from service.graphql.reference.staff import StaffMember
from service.graphql.touchpoints.facts import (
    AttendanceFacts,
    AuditFacts,
    CarePlanReviewFacts,
    CompetencyCheckFacts,
    DailyNoteFacts,
    IncidentFacts,
    IncidentSeverity,
    PostIncidentReviewFacts,
    PracticeObservationFacts,
    QualityReviewFacts,
    StaffSurveyFacts,
    SupervisionFacts,
    staff_survey_facts,
)
from service.policy import Permission
from service.touchpoints.schemas import TouchpointDetail, TouchpointPublic, TouchpointRevisionPublic

# Who may see the staff a touchpoint names: staff identity readers, and callers reading their own.
STAFF_OF_TOUCHPOINT = (Permission.staff_identity_read, Permission.touchpoint_read_own)


@strawberry.type(description="A touchpoint as it stood before a correction.")
class TouchpointRevision:
    revision: int
    content: dict[str, Any] = strawberry.field(
        graphql_type=JSON,
        extensions=[policy(*STAFF_OF_TOUCHPOINT)],
        description="The record as it stood, every field; its free text (`text`, free-text facts) "
        "is null unless the caller may read free text.",
    )
    recorded_at: datetime
    recorded_by_sub: str = strawberry.field(extensions=[policy(*STAFF_OF_TOUCHPOINT)])
    replaced_at: datetime
    replaced_by_sub: str = strawberry.field(extensions=[policy(*STAFF_OF_TOUCHPOINT)])

    @classmethod
    def from_public(cls, public: TouchpointRevisionPublic) -> "TouchpointRevision":
        return cls(
            revision=public.revision,
            content=public.content,
            recorded_at=public.recorded_at,
            recorded_by_sub=public.recorded_by_sub,
            replaced_at=public.replaced_at,
            replaced_by_sub=public.replaced_by_sub,
        )


async def _staff(info: GraphQLInfo, staff_id: uuid.UUID | None) -> StaffMember | None:
    if staff_id is None:
        return None
    found = await info.context.loaders.staff_member.load(staff_id)
    return StaffMember.from_public(found) if found is not None else None


@strawberry.interface(description="One record from a delivery system: who, where, when, which innovations.")
class Touchpoint:
    id: uuid.UUID
    kind: TouchpointKind
    system: DeliverySystem
    service_id: uuid.UUID
    occurred_at: datetime
    recorded_at: datetime = strawberry.field(description="When the current revision was recorded.")
    shift: Shift
    weekend: bool = strawberry.field(description="The shift began on a Saturday or Sunday, local time.")
    recorded_by_id: uuid.UUID | None = strawberry.field(
        extensions=[policy(*STAFF_OF_TOUCHPOINT)], description="The staff member who recorded it."
    )
    subject_staff_id: uuid.UUID | None = strawberry.field(
        extensions=[policy(*STAFF_OF_TOUCHPOINT)], description="The staff member it is about."
    )
    person_ref_id: uuid.UUID | None = strawberry.field(extensions=[policy(Permission.reference_read)])
    innovation_ids: list[uuid.UUID]
    source_system: str | None
    external_id: str | None
    text: str | None = strawberry.field(
        extensions=[policy(Permission.touchpoint_read_text)],
        description="Free text about people; null when there is none.",
    )
    revision: int
    recorded_by_sub: str = strawberry.field(
        extensions=[policy(*STAFF_OF_TOUCHPOINT)],
        description="The token subject that recorded the current revision.",
    )
    preloaded_revisions: strawberry.Private[list[TouchpointRevisionPublic] | None] = None

    @strawberry.field(description="The service where it happened.")
    async def service(self, info: GraphQLInfo) -> Service | None:
        found = await info.context.loaders.service.load(self.service_id)
        return Service.from_public(found) if found is not None else None

    @strawberry.field(extensions=[policy(*STAFF_OF_TOUCHPOINT)], description="Who recorded it.")
    async def recorded_by(self, info: GraphQLInfo) -> StaffMember | None:
        return await _staff(info, self.recorded_by_id)

    @strawberry.field(extensions=[policy(*STAFF_OF_TOUCHPOINT)], description="Who it is about.")
    async def subject_staff(self, info: GraphQLInfo) -> StaffMember | None:
        return await _staff(info, self.subject_staff_id)

    @strawberry.field(extensions=[policy(Permission.reference_read)], description="The person supported.")
    async def person_ref(self, info: GraphQLInfo) -> PersonRef | None:
        if self.person_ref_id is None:
            return None
        found = await info.context.loaders.person_ref.load(self.person_ref_id)
        return PersonRef.from_public(found) if found is not None else None

    @strawberry.field(description="The innovations it references (those the caller may read).")
    async def innovations(self, info: GraphQLInfo) -> list[Innovation]:
        found = await info.context.loaders.innovation.load_many(self.innovation_ids)
        return [Innovation.from_public(i) for i in found if i is not None]

    @strawberry.field(description="Earlier revisions, oldest first; empty when never corrected.")
    async def revisions(self, info: GraphQLInfo) -> list[TouchpointRevision]:
        revisions = self.preloaded_revisions
        if revisions is None:
            detail = await info.context.loaders.touchpoint_detail.load(self.id)
            revisions = detail.revisions
        return [TouchpointRevision.from_public(r) for r in revisions]


@strawberry.type
class DailyNote(Touchpoint):
    facts: DailyNoteFacts


@strawberry.type
class CarePlanReview(Touchpoint):
    facts: CarePlanReviewFacts


@strawberry.type
class ShiftHandover(Touchpoint):
    facts: AttendanceFacts


@strawberry.type
class TeamMeeting(Touchpoint):
    facts: AttendanceFacts


@strawberry.type
class Supervision(Touchpoint):
    facts: SupervisionFacts


@strawberry.type
class CompetencyCheck(Touchpoint):
    facts: CompetencyCheckFacts


@strawberry.type
class PracticeObservation(Touchpoint):
    facts: PracticeObservationFacts


@strawberry.type
class Audit(Touchpoint):
    facts: AuditFacts


@strawberry.type
class QualityReview(Touchpoint):
    facts: QualityReviewFacts


@strawberry.type(description="Induction and shadowing of a new starter; the buddy is a staff member.")
class WorkforceFacts:
    buddy_id: uuid.UUID | None = strawberry.field(extensions=[policy(*STAFF_OF_TOUCHPOINT)])

    @strawberry.field(extensions=[policy(*STAFF_OF_TOUCHPOINT)])
    async def buddy(self, info: GraphQLInfo) -> StaffMember | None:
        return await _staff(info, self.buddy_id)


@strawberry.type
class Induction(Touchpoint):
    facts: WorkforceFacts


@strawberry.type
class Shadowing(Touchpoint):
    facts: WorkforceFacts


@strawberry.type
class Incident(Touchpoint):
    facts: IncidentFacts


@strawberry.type
class PostIncidentReview(Touchpoint):
    facts: PostIncidentReviewFacts


@strawberry.type(description="A NoMAD questionnaire about one innovation.")
class StaffSurvey(Touchpoint):
    facts: StaffSurveyFacts


def _optional(facts: dict[str, Any], name: str) -> Any:
    return facts.get(name)


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value is not None else None


_BY_KIND: dict[str, tuple[type[Touchpoint], Callable[[dict[str, Any]], Any]]] = {
    "daily_note": (DailyNote, lambda f: DailyNoteFacts(**f)),
    "care_plan_review": (CarePlanReview, lambda f: CarePlanReviewFacts(**f)),
    "shift_handover": (ShiftHandover, lambda f: AttendanceFacts(**f)),
    "team_meeting": (TeamMeeting, lambda f: AttendanceFacts(**f)),
    "supervision": (Supervision, lambda f: SupervisionFacts(explains_why=_optional(f, "explains_why"))),
    "competency_check": (
        CompetencyCheck,
        lambda f: CompetencyCheckFacts(passed=f["passed"], explains_why=_optional(f, "explains_why")),
    ),
    "practice_observation": (
        PracticeObservation,
        lambda f: PracticeObservationFacts(score=f["score"], explains_why=_optional(f, "explains_why")),
    ),
    "audit": (Audit, lambda f: AuditFacts(tool=f["tool"], score_percent=float(f["score_percent"]))),
    "quality_review": (
        QualityReview,
        lambda f: QualityReviewFacts(
            score_percent=None if f.get("score_percent") is None else float(f["score_percent"]),
            actions=f["actions"],
        ),
    ),
    "induction": (Induction, lambda f: WorkforceFacts(buddy_id=_uuid(f.get("buddy_id")))),
    "shadowing": (Shadowing, lambda f: WorkforceFacts(buddy_id=_uuid(f.get("buddy_id")))),
    "incident": (
        Incident,
        lambda f: IncidentFacts(
            severity=IncidentSeverity(f["severity"]), restrictive_intervention=f["restrictive_intervention"]
        ),
    ),
    "post_incident_review": (
        PostIncidentReview,
        lambda f: PostIncidentReviewFacts(
            incident_id=uuid.UUID(str(f["incident_id"])),
            learning_captured=f["learning_captured"],
            follow_up_observation_planned=f["follow_up_observation_planned"],
        ),
    ),
    "staff_survey": (StaffSurvey, staff_survey_facts),
}

KIND_TYPES: tuple[type[Touchpoint], ...] = tuple(dict.fromkeys(t for t, _ in _BY_KIND.values()))


def touchpoint_of(public: TouchpointPublic) -> Touchpoint:
    """The GraphQL type of the touchpoint's kind, with its facts typed."""
    type_, facts = _BY_KIND[public.kind.value]
    revisions = public.revisions if isinstance(public, TouchpointDetail) else None
    return type_(  # type: ignore[call-arg]
        id=public.id,
        kind=public.kind,
        system=public.system,
        service_id=public.service_id,
        occurred_at=public.occurred_at,
        recorded_at=public.recorded_at,
        shift=public.shift,
        weekend=public.weekend,
        recorded_by_id=public.recorded_by_id,
        subject_staff_id=public.subject_staff_id,
        person_ref_id=public.person_ref_id,
        innovation_ids=public.innovation_ids,
        source_system=public.source_system,
        external_id=public.external_id,
        text=public.text,
        revision=public.revision,
        recorded_by_sub=public.recorded_by_sub,
        preloaded_revisions=revisions,
        facts=facts(public.facts),
    )
