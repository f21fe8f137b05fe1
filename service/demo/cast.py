"""Riverside Care: three services, their staff through a year of turnover, and three innovations.

Dates are days before the anchor (the day the demo is loaded), so the data always ends "now".
"""

from datetime import date, timedelta

from service.demo.plan import InnovationPlan, ServicePlan, StaffPlan
from service.vocabulary import Phase, Shift, StaffRole

PROVIDER_NAME = "Riverside Care"
COMMISSIONER_NAME = "Northshire County Council (adult social care commissioning)"
REGULATOR_NAME = "Care Quality Commission (demo)"

CARE_RECORDS_SOURCE = "carebook"  # the provider's digital care record system
PROVIDER_HUB_SOURCE = "riverside-hub"  # the provider's own quality and workforce forms

HOUSE, MILLBROOK, HOMECARE = "house", "millbrook", "homecare"
PROACTIVE_ENGAGEMENT = "proactive_engagement"
DEESCALATION_REFLECTION = "deescalation_reflection"
STRUCTURED_BUDDYING = "structured_buddying"

# The team leader on whom structured buddying still depends.
BUDDYING_CHAMPION = "RC-003"

SERVICES: tuple[ServicePlan, ...] = (
    ServicePlan(
        key=HOUSE,
        name="Riverside House",
        description="care home with nursing, 34 beds",
        cqc_location_id="1-900000001",
        external_ref="SVC-HOUSE",
        person_refs=tuple(f"RH-{n:03d}" for n in range(1, 6)),
    ),
    ServicePlan(
        key=MILLBROOK,
        name="Millbrook Supported Living",
        description="supported living scheme, 6 flats",
        cqc_location_id="1-900000002",
        external_ref="SVC-MILLBROOK",
        person_refs=tuple(f"MB-{n:03d}" for n in range(1, 4)),
    ),
    ServicePlan(
        key=HOMECARE,
        name="Riverside Home Care, Northgate branch",
        description="home care branch with a night sitting service",
        cqc_location_id="1-900000003",
        external_ref="SVC-NORTHGATE",
        person_refs=tuple(f"NG-{n:03d}" for n in range(1, 5)),
    ),
)

E, L, N = Shift.early, Shift.late, Shift.night
R = StaffRole

# (ref, name, role, service, usual shift, started: days before anchor, left: days before anchor)
_ROSTER: tuple[tuple[str, str, StaffRole, str, Shift, int, int | None], ...] = (
    ("RC-001", "Amara Bello", R.registered_manager, HOUSE, E, 2400, None),
    ("RC-002", "Tom Hughes", R.deputy_manager, HOUSE, L, 1500, None),
    ("RC-003", "Grace Okafor", R.team_leader, HOUSE, E, 1900, None),
    ("RC-004", "Dylan Price", R.team_leader, HOUSE, N, 1100, None),
    ("RC-005", "Priya Nair", R.nurse, HOUSE, E, 1300, None),
    ("RC-006", "Joseph Mensah", R.nurse, HOUSE, N, 800, None),
    ("RC-007", "Sian Roberts", R.senior_carer, HOUSE, L, 900, None),
    ("RC-008", "Kasia Nowak", R.senior_carer, HOUSE, E, 700, 45),
    ("RC-009", "Liam Walsh", R.care_worker, HOUSE, E, 650, None),
    ("RC-010", "Fatima Rahman", R.care_worker, HOUSE, E, 540, None),
    ("RC-011", "Ben Carter", R.care_worker, HOUSE, E, 500, 325),
    ("RC-012", "Chloe Evans", R.care_worker, HOUSE, L, 480, None),
    ("RC-013", "Marek Zielinski", R.care_worker, HOUSE, L, 450, 155),
    ("RC-014", "Hannah Lewis", R.care_worker, HOUSE, L, 420, None),
    ("RC-015", "Samuel Adeyemi", R.care_worker, HOUSE, N, 400, 270),
    ("RC-016", "Ruth Morgan", R.care_worker, HOUSE, N, 380, None),
    ("RC-017", "Daniel Kerr", R.registered_manager, MILLBROOK, E, 2000, None),
    ("RC-018", "Aisha Khan", R.team_leader, MILLBROOK, L, 1200, None),
    ("RC-019", "Owen Jenkins", R.senior_carer, MILLBROOK, E, 1000, None),
    ("RC-020", "Nadia Popescu", R.care_worker, MILLBROOK, E, 600, None),
    ("RC-021", "Callum Reid", R.care_worker, MILLBROOK, E, 560, None),
    ("RC-022", "Emily Shaw", R.care_worker, MILLBROOK, L, 520, 235),
    ("RC-023", "Kwame Asante", R.care_worker, MILLBROOK, L, 470, None),
    ("RC-024", "Lucy Parry", R.care_worker, MILLBROOK, N, 440, 115),
    ("RC-025", "Ibrahim Yusuf", R.care_worker, MILLBROOK, N, 410, None),
    ("RC-026", "Helen Douglas", R.registered_manager, HOMECARE, E, 1700, None),
    ("RC-027", "Rhys Thomas", R.team_leader, HOMECARE, E, 1250, None),
    ("RC-028", "Maria Santos", R.senior_carer, HOMECARE, L, 950, None),
    ("RC-029", "Jade Wilson", R.care_worker, HOMECARE, E, 620, None),
    ("RC-030", "Patrick Doyle", R.care_worker, HOMECARE, E, 580, 195),
    ("RC-031", "Zainab Ali", R.care_worker, HOMECARE, E, 530, None),
    ("RC-032", "George Baker", R.care_worker, HOMECARE, L, 490, 75),
    ("RC-033", "Olivia Green", R.care_worker, HOMECARE, L, 460, None),
    ("RC-034", "Yusuf Demir", R.care_worker, HOMECARE, N, 430, None),
    # New starters through the year, most replacing a leaver on the same shift.
    ("RC-035", "Ella Murphy", R.care_worker, HOUSE, E, 300, None),
    ("RC-036", "Adam Sutherland", R.care_worker, HOUSE, N, 245, None),
    ("RC-037", "Comfort Boateng", R.care_worker, MILLBROOK, L, 215, None),
    ("RC-038", "Niamh Kelly", R.care_worker, HOMECARE, E, 175, None),
    ("RC-039", "Joel Harper", R.care_worker, HOUSE, L, 140, None),
    ("RC-040", "Sofia Rossi", R.care_worker, MILLBROOK, N, 100, None),
    ("RC-041", "Kieran Hall", R.care_worker, HOMECARE, L, 60, None),
    ("RC-042", "Mei Lin", R.senior_carer, HOUSE, E, 30, None),
)

# Innovation starts, in days before the anchor: proactive engagement began first and has had the
# longest to settle; structured buddying is the newest.
PE_STARTED, DE_STARTED, SB_STARTED = 270, 210, 150


def staff(anchor: date) -> tuple[StaffPlan, ...]:
    return tuple(
        StaffPlan(
            external_ref=ref,
            display_name=name,
            role=role,
            service_key=service_key,
            shift=shift,
            started_on=anchor - timedelta(days=started),
            left_on=anchor - timedelta(days=left) if left is not None else None,
        )
        for ref, name, role, service_key, shift, started, left in _ROSTER
    )


def innovations(anchor: date) -> tuple[InnovationPlan, ...]:
    every_service = tuple(s.key for s in SERVICES)
    return (
        InnovationPlan(
            key=PROACTIVE_ENGAGEMENT,
            external_ref="INN-PE",
            name="Proactive engagement",
            summary=(
                "Plan meaningful engagement into each person's day and record its quality, "
                "not just whether an activity happened."
            ),
            why=(
                "Boredom and frustration drive incidents; engagement that is planned and checked "
                "prevents them."
            ),
            started_on=anchor - timedelta(days=PE_STARTED),
            phase=Phase.business_as_usual,
            service_keys=every_service,
            embedding_plan={
                "care_records": 200,
                "team_communication": 60,
                "supervision": 8,
                "quality_assurance": 5,
            },
            story="in planners, notes, handovers, supervision and weekly observation on every shift",
        ),
        InnovationPlan(
            key=DEESCALATION_REFLECTION,
            external_ref="INN-DE",
            name="De-escalation reflection in supervision",
            summary=(
                "Supervisors use real incidents to reflect on de-escalation technique, identify "
                "learning needs and plan follow-up observations."
            ),
            why=(
                "Training alone did not change responses during incidents; reflecting on real "
                "examples does, and reduces restrictive interventions."
            ),
            started_on=anchor - timedelta(days=DE_STARTED),
            phase=Phase.scaling,
            service_keys=(HOUSE, MILLBROOK),
            embedding_plan={
                "care_records": 30,
                "team_communication": 30,
                "supervision": 8,
                "quality_assurance": 4,
                "incident_learning": 4,
            },
            story="strong on early and late shifts, little of it on nights",
        ),
        InnovationPlan(
            key=STRUCTURED_BUDDYING,
            external_ref="INN-SB",
            name="Structured buddying for new starters",
            summary=(
                "Every new starter shadows a named buddy on structured shifts, with early "
                "competency checks and feedback."
            ),
            why=(
                "Turnover dilutes new ways of working; structured buddying lets new staff reach "
                "the expected standard faster."
            ),
            started_on=anchor - timedelta(days=SB_STARTED),
            phase=Phase.pilot,
            service_keys=every_service,
            embedding_plan={"workforce": 4, "supervision": 2, "team_communication": 8},
            story="works where one team leader runs it, and leans on her almost entirely",
        ),
    )
