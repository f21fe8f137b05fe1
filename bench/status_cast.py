"""The provider behind the status benchmark: its services, staff with turnover, people and innovations.

Planned from a seed (the same seed gives the same provider, ids included) and written through the
table models, so the reference rows carry every default the service would give them.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service.innovations.models import Innovation, InnovationService
from service.organisations.models import Organisation
from service.people.models import PersonRef, PersonRefService
from service.services.models import DEFAULT_SHIFT_PATTERN, Service
from service.staff.models import StaffMember, StaffMemberService
from service.vocabulary import Phase, StaffRole

DAYS = 730  # 24 months of history, ending today
SERVICES = 20
STAFF = 400
STARTERS = 150  # joined during the 24 months; the rest were there at the start
PEOPLE_PER_SERVICE = 30
TIMEZONE = "Europe/London"

# The roles of care staff other than the registered managers (one per service), by share.
STAFF_ROLES = (
    (StaffRole.care_worker, 0.62),
    (StaffRole.senior_carer, 0.18),
    (StaffRole.team_leader, 0.08),
    (StaffRole.nurse, 0.08),
    (StaffRole.activities_coordinator, 0.04),
)
SENIOR_ROLES = frozenset(
    {StaffRole.senior_carer, StaffRole.team_leader, StaffRole.nurse, StaffRole.registered_manager}
)


@dataclass(frozen=True, slots=True)
class InnovationSpec:
    name: str
    summary: str
    why: str
    # Days after the first day of history (negative: it began before).
    starts_after_days: int
    services: int
    phase: Phase
    # How often a touchpoint at a service in scope references it (scaled by kind).
    strength: float


INNOVATIONS = (
    InnovationSpec(
        "Proactive engagement",
        "Plan meaningful activity with each person every day and record how they engaged.",
        "People who are engaged in things that matter to them are less distressed and more independent.",
        -60,
        SERVICES,
        Phase.business_as_usual,
        0.45,
    ),
    InnovationSpec(
        "De-escalation reflection",
        "After any distressed behaviour, reflect as a team on what helped and what did not.",
        "Understanding triggers prevents incidents and restrictive interventions.",
        180,
        12,
        Phase.scaling,
        0.35,
    ),
    InnovationSpec(
        "Structured buddying for new starters",
        "Every new starter is paired with an experienced buddy for their first month.",
        "New staff who are supported stay longer and learn the service's ways of working.",
        365,
        10,
        Phase.scaling,
        0.25,
    ),
    InnovationSpec(
        "Oral health champions",
        "A named champion per shift checks mouth care and coaches colleagues.",
        "Poor oral health causes pain, infection and weight loss that people may not report.",
        DAYS - 180,
        6,
        Phase.pilot,
        0.3,
    ),
    InnovationSpec(
        "Hydration rounds",
        "Drinks offered and recorded at set times on every shift.",
        "Dehydration leads to falls, infections and hospital admissions.",
        DAYS - 90,
        4,
        Phase.pilot,
        0.2,
    ),
)


@dataclass(frozen=True, slots=True)
class StaffPlan:
    id: uuid.UUID
    role: StaffRole
    service_indexes: tuple[int, ...]
    started_on: date
    left_on: date | None

    @property
    def senior(self) -> bool:
        return self.role in SENIOR_ROLES


@dataclass(frozen=True, slots=True)
class InnovationPlan:
    id: uuid.UUID
    spec: InnovationSpec
    started_on: date
    service_indexes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Cast:
    organisation_id: uuid.UUID
    now: datetime
    first_day: date
    service_ids: tuple[uuid.UUID, ...]
    # Busier services record more: relative volume per service.
    service_weights: tuple[float, ...]
    staff: tuple[StaffPlan, ...]
    people: tuple[tuple[uuid.UUID, ...], ...]  # per service
    innovations: tuple[InnovationPlan, ...]

    @property
    def last_day(self) -> date:
        return self.now.date()

    @property
    def starters(self) -> list[StaffPlan]:
        return [s for s in self.staff if s.started_on >= self.first_day]

    @property
    def leavers(self) -> list[StaffPlan]:
        return [s for s in self.staff if s.left_on is not None]


def seeded_uuid(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID drawn from `rng`, so a seed reproduces every id."""
    bits = rng.getrandbits(128)
    bits = (bits & ~(0xF000 << 64)) | (0x4000 << 64)
    bits = (bits & ~(0xC000 << 48)) | (0x8000 << 48)
    return uuid.UUID(int=bits)


def _role(rng: random.Random) -> StaffRole:
    roles = [r for r, _ in STAFF_ROLES]
    return rng.choices(roles, weights=[w for _, w in STAFF_ROLES])[0]


def _services_of(rng: random.Random, index: int) -> tuple[int, ...]:
    primary = index % SERVICES
    if rng.random() < 0.05:
        # A few staff cover a second service (bank staff, floating seniors).
        other = (primary + rng.randint(1, SERVICES - 1)) % SERVICES
        return (primary, other)
    return (primary,)


def plan_cast(seed: int = 20261127, now: datetime | None = None) -> Cast:
    """400 staff over 20 services, with about a third leaving and 150 joining over the 24 months."""
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    first_day = now.date() - timedelta(days=DAYS)
    organisation_id = seeded_uuid(rng)
    service_ids = tuple(seeded_uuid(rng) for _ in range(SERVICES))
    service_weights = tuple(round(rng.uniform(0.6, 1.4), 2) for _ in range(SERVICES))

    staff: list[StaffPlan] = []
    left: date | None
    for index in range(SERVICES):  # one registered manager per service, there throughout
        started = first_day - timedelta(days=rng.randint(365, 3000))
        staff.append(StaffPlan(seeded_uuid(rng), StaffRole.registered_manager, (index,), started, None))
    for index in range(STAFF - SERVICES - STARTERS):  # in post when the history begins
        started = first_day - timedelta(days=rng.randint(30, 2500))
        left = first_day + timedelta(days=rng.randint(0, DAYS - 1)) if rng.random() < 0.45 else None
        staff.append(StaffPlan(seeded_uuid(rng), _role(rng), _services_of(rng, index), started, left))
    for index in range(STARTERS):  # joined during the history; some leave again
        started = first_day + timedelta(days=rng.randint(0, DAYS - 10))
        left = None
        if rng.random() < 0.25:
            candidate = started + timedelta(days=rng.randint(45, 400))
            left = candidate if candidate < now.date() else None
        staff.append(StaffPlan(seeded_uuid(rng), _role(rng), _services_of(rng, index), started, left))

    people = tuple(tuple(seeded_uuid(rng) for _ in range(PEOPLE_PER_SERVICE)) for _ in range(SERVICES))
    innovations = tuple(
        InnovationPlan(
            seeded_uuid(rng),
            spec,
            first_day + timedelta(days=spec.starts_after_days),
            tuple(sorted(rng.sample(range(SERVICES), spec.services))),
        )
        for spec in INNOVATIONS
    )
    return Cast(
        organisation_id, now, first_day, service_ids, service_weights, tuple(staff), people, innovations
    )


async def insert_cast(session: AsyncSession, cast: Cast) -> None:
    """The provider's reference rows, through the table models (flushed, not committed)."""
    org = cast.organisation_id
    session.add(Organisation(id=org, name="Bench Care Group", kind="provider"))
    await session.flush()
    session.add_all(
        [
            Service(
                organisation_id=org,
                id=service_id,
                name=f"Bench House {n + 1:02d}",
                timezone=TIMEZONE,
                cqc_location_id=f"1-{100000000 + n}",
                shift_pattern=dict(DEFAULT_SHIFT_PATTERN),
            )
            for n, service_id in enumerate(cast.service_ids)
        ]
    )
    session.add_all(
        [
            StaffMember(
                organisation_id=org,
                id=member.id,
                role=member.role.value,
                started_on=member.started_on,
                left_on=member.left_on,
                source_system="bench-hr",
                external_ref=f"EMP-{n:05d}",
            )
            for n, member in enumerate(cast.staff)
        ]
    )
    session.add_all(
        [
            PersonRef(
                organisation_id=org, id=person, source_system="acme-care", external_ref=f"P-{s:02d}-{n:03d}"
            )
            for s, people in enumerate(cast.people)
            for n, person in enumerate(people)
        ]
    )
    session.add_all(
        [
            Innovation(
                organisation_id=org,
                id=innovation.id,
                name=innovation.spec.name,
                summary=innovation.spec.summary,
                why=innovation.spec.why,
                started_on=innovation.started_on,
                phase=innovation.spec.phase.value,
                embedding_plan={},
            )
            for innovation in cast.innovations
        ]
    )
    await session.flush()
    session.add_all(
        [
            StaffMemberService(organisation_id=org, staff_member_id=member.id, service_id=cast.service_ids[s])
            for member in cast.staff
            for s in member.service_indexes
        ]
        + [
            PersonRefService(organisation_id=org, person_ref_id=person, service_id=cast.service_ids[s])
            for s, people in enumerate(cast.people)
            for person in people
        ]
        + [
            InnovationService(
                organisation_id=org, innovation_id=innovation.id, service_id=cast.service_ids[s]
            )
            for innovation in cast.innovations
            for s in innovation.service_indexes
        ]
    )
    await session.flush()
