"""The domain's closed vocabularies (DOMAIN.md). Stored as text with CHECK constraints."""

from enum import StrEnum


class OrganisationKind(StrEnum):
    provider = "provider"
    commissioner = "commissioner"
    regulator = "regulator"
    platform = "platform"


class Role(StrEnum):
    care_worker = "care_worker"
    registered_manager = "registered_manager"
    quality_lead = "quality_lead"
    provider_admin = "provider_admin"
    integration = "integration"
    commissioner = "commissioner"
    inspector = "inspector"
    platform_admin = "platform_admin"


class StaffRole(StrEnum):
    care_worker = "care_worker"
    senior_carer = "senior_carer"
    team_leader = "team_leader"
    nurse = "nurse"
    deputy_manager = "deputy_manager"
    registered_manager = "registered_manager"
    activities_coordinator = "activities_coordinator"
    trainer = "trainer"
    other = "other"


class Phase(StrEnum):
    pilot = "pilot"
    scaling = "scaling"
    business_as_usual = "business_as_usual"
    retired = "retired"


class Shift(StrEnum):
    early = "early"
    late = "late"
    night = "night"


class DeliverySystem(StrEnum):
    care_records = "care_records"
    team_communication = "team_communication"
    supervision = "supervision"
    quality_assurance = "quality_assurance"
    workforce = "workforce"
    incident_learning = "incident_learning"
    staff_voice = "staff_voice"


class TouchpointKind(StrEnum):
    daily_note = "daily_note"
    care_plan_review = "care_plan_review"
    shift_handover = "shift_handover"
    team_meeting = "team_meeting"
    supervision = "supervision"
    competency_check = "competency_check"
    audit = "audit"
    quality_review = "quality_review"
    practice_observation = "practice_observation"
    induction = "induction"
    shadowing = "shadowing"
    incident = "incident"
    post_incident_review = "post_incident_review"
    staff_survey = "staff_survey"


SYSTEM_OF_KIND: dict[TouchpointKind, DeliverySystem] = {
    TouchpointKind.daily_note: DeliverySystem.care_records,
    TouchpointKind.care_plan_review: DeliverySystem.care_records,
    TouchpointKind.shift_handover: DeliverySystem.team_communication,
    TouchpointKind.team_meeting: DeliverySystem.team_communication,
    TouchpointKind.supervision: DeliverySystem.supervision,
    TouchpointKind.competency_check: DeliverySystem.supervision,
    TouchpointKind.audit: DeliverySystem.quality_assurance,
    TouchpointKind.quality_review: DeliverySystem.quality_assurance,
    TouchpointKind.practice_observation: DeliverySystem.quality_assurance,
    TouchpointKind.induction: DeliverySystem.workforce,
    TouchpointKind.shadowing: DeliverySystem.workforce,
    TouchpointKind.incident: DeliverySystem.incident_learning,
    TouchpointKind.post_incident_review: DeliverySystem.incident_learning,
    TouchpointKind.staff_survey: DeliverySystem.staff_voice,
}

# The four systems the article names as shaping daily delivery; `system_visibility` counts these.
CORE_SYSTEMS: tuple[DeliverySystem, ...] = (
    DeliverySystem.care_records,
    DeliverySystem.team_communication,
    DeliverySystem.supervision,
    DeliverySystem.quality_assurance,
)


def check_in(column: str, values: type[StrEnum]) -> str:
    """SQL for a CHECK constraint that keeps `column` inside an enum's values."""
    quoted = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({quoted})"
