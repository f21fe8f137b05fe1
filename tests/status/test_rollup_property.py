"""Property: the status read from the rollups equals the status recomputed from the raw rows.

Random streams of touchpoints arrive in any order (late notes for earlier months included), and
are corrected (moved between months and services, relinked, refacted) or deleted, one statement at
a time as ingestion writes them. After every stream, both ways of loading a status must give the
same inputs and the same status, at several `as_of` moments including ones in the past.
"""

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories
from tests.status.builders import Ledger, at
from tests.status.compare import assert_same, both_paths

START = date(2026, 1, 1)
SPAN_DAYS = 120  # January to April 2026, across the clocks going forward on 29 March
KINDS = (
    "daily_note",
    "daily_note",
    "shift_handover",
    "supervision",
    "competency_check",
    "practice_observation",
    "audit",
    "induction",
    "incident",
    "incident",
    "post_incident_review",
    "post_incident_review",
    "post_incident_review",
    "staff_survey",
)
EXAMPLES = int(os.environ.get("INGRAIN_STATUS_PROPERTY_EXAMPLES", "15"))


@dataclass(frozen=True)
class Add:
    kind: str
    service: int
    day: int
    minute: int
    innovations: tuple[int, ...]
    recorder: int | None
    subject: int
    variant: int
    follows: int  # for reviews: which earlier incident (index among incidents so far)
    lag_hours: int  # for reviews: how long after that incident (the window is 14 days)
    together: bool  # row and links in one statement (ingestion's INSERT) rather than two


@dataclass(frozen=True)
class Correct:
    after: int  # applied after this many additions
    target: int
    day: int | None
    minute: int | None
    service: int | None
    innovations: tuple[int, ...] | None
    variant: int | None


@dataclass(frozen=True)
class Delete:
    after: int
    target: int


adds = st.builds(
    Add,
    kind=st.sampled_from(KINDS),
    service=st.integers(0, 1),
    day=st.integers(0, SPAN_DAYS),
    minute=st.integers(0, 24 * 60 - 1),
    innovations=st.lists(st.integers(0, 1), max_size=2, unique=True).map(tuple),
    recorder=st.one_of(st.none(), st.integers(0, 3)),
    subject=st.integers(0, 3),
    variant=st.integers(0, 9),
    follows=st.integers(0, 50),
    lag_hours=st.integers(-6, 18 * 24),
    together=st.booleans(),
)
corrections = st.builds(
    Correct,
    after=st.integers(1, 60),
    target=st.integers(0, 200),
    day=st.one_of(st.none(), st.integers(0, SPAN_DAYS)),
    minute=st.one_of(st.none(), st.integers(0, 24 * 60 - 1)),
    service=st.one_of(st.none(), st.integers(0, 1)),
    innovations=st.one_of(st.none(), st.lists(st.integers(0, 1), max_size=2, unique=True).map(tuple)),
    variant=st.one_of(st.none(), st.integers(0, 9)),
)
deletions = st.builds(Delete, after=st.integers(1, 60), target=st.integers(0, 200))


@st.composite
def streams(draw: st.DrawFn) -> list[Add | Correct | Delete]:
    """Additions in arrival order (dates at random, so late arrivals are common), with corrections
    and deletions interleaved after some of them."""
    additions = draw(st.lists(adds, min_size=25, max_size=60))
    edits = draw(st.lists(st.one_of(corrections, corrections, deletions), min_size=3, max_size=20))
    out: list[Add | Correct | Delete] = []
    for index, addition in enumerate(additions, start=1):
        out.append(addition)
        out.extend(e for e in edits if min(e.after, len(additions)) == index)
    return out


def moment(day: int, minute: int) -> datetime:
    base = at(START + timedelta(days=day), 0)
    return base + timedelta(minutes=minute)


# as_of moments inside the stream's span (so the month containing as_of has rows to read raw).
moments = st.lists(st.integers(10 * 24, SPAN_DAYS * 24), min_size=1, max_size=2)
# And fixed ones: mid-February, the last half hour of March in London (after the clocks went
# forward), the first minute of April, and a month after the stream ends.
FIXED_AS_OF = (
    moment(45, 12 * 60),
    moment(89, 23 * 60 + 30),
    moment(90, 1),
    moment(SPAN_DAYS + 30, 0),
)


def facts_of(kind: str, variant: int, incident: uuid.UUID | None) -> dict[str, Any]:
    why = (None, True, False)[variant % 3]
    if kind == "daily_note":
        return {"engagement_quality": 1 + variant % 5}
    if kind == "supervision":
        return {"explains_why": why}
    if kind == "competency_check":
        return {"passed": variant % 4 != 0, "explains_why": why}
    if kind == "practice_observation":
        return {"score": 1 + variant % 5, "explains_why": why}
    if kind == "audit":
        return {"score_percent": 55 + variant * 4.5 + 0.005}
    if kind == "incident":
        return {"severity": "low", "restrictive_intervention": variant % 2 == 0}
    if kind == "post_incident_review":
        return {"incident_id": str(incident), "learning_captured": variant % 3 != 0}
    if kind == "staff_survey":
        answers: list[Any] = [1 + variant % 5, "na_role", 5 - variant % 5, "na_stage"]
        return {
            "general": {"familiar": variant, "normal_now": 10 - variant, "normal_future": variant // 2},
            "items": {
                **{f"c{i}": answers[(i + variant) % 4] for i in range(1, 5)},
                **{f"cp{i}": answers[i % 4] for i in range(1, 5)},
                **{f"ca{i}": answers[(i * variant) % 4] for i in range(1, 8)},
                **{f"rm{i}": "na_intervention" if i == variant % 5 else 3 for i in range(1, 6)},
            },
        }
    return {}


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stream=streams(), hours=moments)
async def test_rollups_equal_raw_rows(session: AsyncSession, stream: list[Any], hours: list[int]) -> None:
    await session.rollback()  # a failed example must not poison the next one (they share the session)
    session.expunge_all()
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org, "Oak House")
    # A second service in another time zone, so months differ by service.
    elm = await factories.care_service(session, org, "Elm Court", timezone="America/New_York")
    services = [oak.id, elm.id]
    staff = [await factories.staff_member(session, org, [oak, elm]) for _ in range(3)]
    staff.append(await factories.staff_member(session, org, [oak], started_on=date(2026, 1, 20)))
    first = await factories.innovation(session, org, [oak, elm], started_on=date(2025, 12, 1))
    second = await factories.innovation(session, org, [oak], name="Buddying", started_on=date(2026, 1, 10))
    innovations = [first.id, second.id]
    org_id = org.id
    ledger = Ledger(session, org_id)

    written: list[uuid.UUID] = []
    incidents: dict[uuid.UUID, datetime] = {}
    arrived: list[datetime] = []
    for step in stream:
        if isinstance(step, Add):
            incident = list(incidents)[step.follows % len(incidents)] if incidents else None
            when = moment(step.day, step.minute)
            if step.kind == "post_incident_review":
                if incident is None:
                    continue
                when = incidents[incident] + timedelta(hours=step.lag_hours)
            write = ledger.add_together if step.together else ledger.add
            touchpoint_id = await write(
                step.kind,
                services[step.service],
                when,
                innovations=[innovations[i] for i in step.innovations],
                recorded_by=staff[step.recorder].id if step.recorder is not None else None,
                subject=staff[step.subject].id,
                **facts_of(step.kind, step.variant, incident),
            )
            written.append(touchpoint_id)
            arrived.append(when)
            if step.kind == "incident":
                incidents[touchpoint_id] = when
        elif written and isinstance(step, Correct):
            target = written[step.target % len(written)]
            row, _ = await ledger.content(target)
            changes: dict[str, Any] = {}
            if step.day is not None or step.minute is not None:
                changes["occurred_at"] = moment(
                    step.day if step.day is not None else 0, step.minute if step.minute is not None else 600
                )
            if step.service is not None:
                changes["service_id"] = services[step.service]
            if step.variant is not None:
                incident = uuid.UUID(row.facts["incident_id"]) if row.kind == "post_incident_review" else None
                changes["facts"] = facts_of(row.kind, step.variant, incident)
            await ledger.correct(
                target,
                innovations=[innovations[i] for i in step.innovations]
                if step.innovations is not None
                else None,
                **changes,
            )
        elif written and isinstance(step, Delete):
            target = written[step.target % len(written)]
            if target in incidents:
                continue  # its reviews point at it
            written.remove(target)
            await ledger.remove(target)
    await session.commit()

    starts = datetime.combine(START, datetime.min.time(), tzinfo=UTC)
    # Just after touchpoints that arrived, so the month containing as_of has rows to read raw.
    after_rows = [
        t + timedelta(hours=1) for t in sorted(arrived)[len(arrived) // 2 :: max(1, len(arrived) // 3)]
    ]
    for as_of in [*(starts + timedelta(hours=h) for h in hours), *after_rows, *FIXED_AS_OF]:
        fast, slow = await both_paths(session, org_id, as_of=as_of, history=3)
        assert_same(fast, slow)
