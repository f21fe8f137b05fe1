"""A care home and a way of describing its daily delivery, to build the article's situations.

Everything is deterministic: a `Practice` says, per shift and per delivery system, what happens
and how well; `delivery` turns it into a day-by-day stream of touchpoints.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.innovations.models import Innovation
from service.organisations.models import Organisation
from service.services.models import Service
from service.staff.models import StaffMember
from service.status.subjects import StatusSubject, load_subjects
from tests import factories
from tests.status.builders import Ledger, at

SHIFT_HOURS = {"early": 10, "late": 17, "night": 23}
LONDON = "Europe/London"


@dataclass
class Home:
    org: Organisation
    services: list[Service]
    staff: list[StaffMember]
    innovation: Innovation
    ledger: Ledger

    @property
    def service(self) -> Service:
        return self.services[0]


async def build_home(
    session: AsyncSession,
    *,
    services: int = 1,
    staff: int = 8,
    started_on: date = date(2026, 1, 1),
    staff_started_on: date = date(2024, 1, 1),
) -> Home:
    org = await factories.organisation(session)
    homes = [await factories.care_service(session, org, f"Home {i + 1}") for i in range(services)]
    team = [
        await factories.staff_member(session, org, homes, started_on=staff_started_on) for _ in range(staff)
    ]
    innovation = await factories.innovation(session, org, homes, started_on=started_on)
    return Home(org, homes, team, innovation, Ledger(session, org.id))


@dataclass
class Practice:
    """How the innovation shows in one service's daily delivery."""

    # Shifts on which daily notes reference it, and the engagement quality recorded there.
    notes: dict[str, int] = field(default_factory=lambda: {"early": 4, "late": 4, "night": 4})
    handovers: bool = True
    # Supervisions every `supervision_every` days; whether they discuss it and staff explain why.
    supervision_every: int = 4
    supervision_discusses: bool = True
    explains_why: bool = True
    # Weekly practice observations, rotating through these shifts, with these scores.
    observations: dict[str, int] = field(default_factory=lambda: {"early": 4, "late": 4, "night": 4})
    # Audit scores, one a month on the 10th, taken in turn.
    audits: list[float] = field(default_factory=lambda: [85.0, 86.0, 84.0, 87.0])
    # An incident every `incident_every` days (0: none); reviewed with learning 3 days later?
    incident_every: int = 10
    incidents_reviewed: bool = True
    # Who records: every member of staff in turn, or (a share of the time) one person.
    recorders: list[int] | None = None


def _recorder(home: Home, practice: Practice, n: int) -> uuid.UUID:
    pool = practice.recorders if practice.recorders is not None else list(range(len(home.staff)))
    return home.staff[pool[n % len(pool)]].id


def delivery(
    home: Home, practice: Practice, first: date, last: date, service: Service | None = None
) -> Iterator[dict[str, Any]]:
    """Touchpoints from `first` to `last` (inclusive) for one service."""
    service = service or home.service
    innovation = [home.innovation.id]
    n = 0
    day = first
    while day <= last:
        index = (day - first).days
        for shift, quality in practice.notes.items():
            n += 1
            yield {
                "kind": "daily_note",
                "service_id": service.id,
                "occurred_at": at(day, SHIFT_HOURS[shift]),
                "innovations": innovation,
                "recorded_by": _recorder(home, practice, n),
                "engagement_quality": quality,
            }
        if practice.handovers:
            n += 1
            yield {
                "kind": "shift_handover",
                "service_id": service.id,
                "occurred_at": at(day, 14),
                "innovations": innovation,
                "recorded_by": _recorder(home, practice, n),
            }
        if practice.supervision_every and index % practice.supervision_every == 0:
            n += 1
            yield {
                "kind": "supervision",
                "service_id": service.id,
                "occurred_at": at(day, 12),
                "innovations": innovation if practice.supervision_discusses else [],
                "recorded_by": _recorder(home, practice, n),
                "subject": home.staff[n % len(home.staff)].id,
                "explains_why": practice.explains_why,
            }
        if practice.observations and index % 7 == 3:
            shifts = list(practice.observations)
            shift = shifts[(index // 7) % len(shifts)]
            n += 1
            yield {
                "kind": "practice_observation",
                "service_id": service.id,
                "occurred_at": at(day, SHIFT_HOURS[shift]),
                "shift": shift,
                "innovations": innovation,
                "recorded_by": _recorder(home, practice, n),
                "subject": home.staff[n % len(home.staff)].id,
                "score": practice.observations[shift],
                "explains_why": practice.explains_why,
            }
        if practice.audits and day.day == 10:
            month_index = (day.year - first.year) * 12 + day.month - first.month
            yield {
                "kind": "audit",
                "service_id": service.id,
                "occurred_at": at(day, 11),
                "innovations": innovation,
                "recorded_by": home.staff[0].id,
                "score_percent": practice.audits[month_index % len(practice.audits)],
            }
        day += timedelta(days=1)


async def record_incidents(
    home: Home, practice: Practice, first: date, last: date, service: Service | None = None
) -> None:
    """Incidents (and, if the practice reviews them, their reviews three days later)."""
    if not practice.incident_every:
        return
    service = service or home.service
    day = first
    while day <= last:
        if (day - first).days % practice.incident_every == 5:
            [incident] = await home.ledger.add_many(
                [
                    {
                        "kind": "incident",
                        "service_id": service.id,
                        "occurred_at": at(day, 16),
                        "recorded_by": home.staff[1].id,
                    }
                ]
            )
            if practice.incidents_reviewed:
                await home.ledger.add_many(
                    [
                        {
                            "kind": "post_incident_review",
                            "service_id": service.id,
                            "occurred_at": at(day + timedelta(days=3), 11),
                            "innovations": [home.innovation.id],
                            "recorded_by": home.staff[2].id,
                            "incident_id": str(incident),
                        }
                    ]
                )
        day += timedelta(days=1)


async def live(
    home: Home, practice: Practice, first: date, last: date, service: Service | None = None
) -> None:
    await home.ledger.add_many(list(delivery(home, practice, first, last, service)))
    await record_incidents(home, practice, first, last, service)


async def new_starter(
    session: AsyncSession,
    home: Home,
    started_on: date,
    *,
    inducted_after: int | None = 7,
    competent_after: int | None = 40,
) -> StaffMember:
    """A new member of staff, inducted and signed off as competent on the innovation (or not)."""
    member = await factories.staff_member(session, home.org, home.services, started_on=started_on)
    steps: list[dict[str, Any]] = []
    if inducted_after is not None:
        steps.append(
            {
                "kind": "induction",
                "service_id": home.service.id,
                "occurred_at": at(started_on + timedelta(days=inducted_after), 10),
                "innovations": [home.innovation.id],
                "recorded_by": home.staff[0].id,
                "subject": member.id,
            }
        )
    if competent_after is not None:
        steps.append(
            {
                "kind": "competency_check",
                "service_id": home.service.id,
                "occurred_at": at(started_on + timedelta(days=competent_after), 10),
                "innovations": [home.innovation.id],
                "recorded_by": home.staff[0].id,
                "subject": member.id,
                "passed": True,
            }
        )
    await home.ledger.add_many(steps)
    return member


async def status_of(
    session: AsyncSession,
    home: Home,
    as_of: datetime,
    *,
    history: int = 1,
    services: list[Service] | None = None,
) -> tuple[StatusSubject, Any]:
    """The status by the fast path, checked against the recount path on the way."""
    await session.commit()
    [fast] = await load_subjects(session, home.org.id, as_of=as_of, window_days=90, history=history)
    [slow] = await load_subjects(
        session, home.org.id, as_of=as_of, window_days=90, history=history, recount=True
    )
    scope = [s.id for s in (services or home.services)]
    result = fast.evaluate(scope, history=history)
    assert result == slow.evaluate(scope, history=history)
    return fast, result


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
