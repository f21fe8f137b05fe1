"""The demo plan without a database: deterministic, inside its year, consistent, and telling three stories."""

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from statistics import mean

import pytest

from service.demo import cast
from service.demo.calendar import LOCAL, anchor_instant
from service.demo.generate import build_plan
from service.demo.plan import DemoPlan, TouchpointPlan
from service.vocabulary import CORE_SYSTEMS, SYSTEM_OF_KIND, Shift, TouchpointKind

ANCHOR = date(2026, 11, 27)
PE, DE, SB = cast.PROACTIVE_ENGAGEMENT, cast.DEESCALATION_REFLECTION, cast.STRUCTURED_BUDDYING


@pytest.fixture(scope="module")
def plan() -> DemoPlan:
    return build_plan(anchor=ANCHOR)


def referencing(plan: DemoPlan, key: str, *, since: date | None = None) -> list[TouchpointPlan]:
    start = anchor_instant(since) if since else None
    return [t for t in plan.touchpoints if key in t.innovations and (start is None or t.occurred_at >= start)]


def top_share(touchpoints: Iterable[TouchpointPlan]) -> tuple[str, float]:
    counts = Counter(t.recorded_by for t in touchpoints)
    ref, n = counts.most_common(1)[0]
    return ref, n / sum(counts.values())


def night_share(touchpoints: list[TouchpointPlan]) -> float:
    return sum(t.shift is Shift.night for t in touchpoints) / len(touchpoints)


def shift_day(t: TouchpointPlan) -> date:
    """The day a shift started on: a night shift's small hours belong to the evening before."""
    local = t.occurred_at.astimezone(LOCAL)
    return local.date() - timedelta(days=1) if t.shift is Shift.night and local.hour < 12 else local.date()


def test_the_same_seed_and_anchor_give_the_same_plan(plan: DemoPlan) -> None:
    again = build_plan(anchor=ANCHOR)
    assert again.fingerprint() == plan.fingerprint()
    assert again.touchpoints == plan.touchpoints


def test_another_seed_or_anchor_gives_another_plan(plan: DemoPlan) -> None:
    assert build_plan(seed=plan.seed + 1, anchor=ANCHOR).fingerprint() != plan.fingerprint()
    later = build_plan(anchor=ANCHOR + timedelta(days=7))
    assert later.fingerprint() != plan.fingerprint()
    assert max(t.occurred_at for t in later.touchpoints) >= anchor_instant(ANCHOR)


def test_the_year_ends_at_the_anchor(plan: DemoPlan) -> None:
    first, last = plan.touchpoints[0].occurred_at, plan.touchpoints[-1].occurred_at
    assert (
        anchor_instant(ANCHOR - timedelta(days=365)) <= first < anchor_instant(ANCHOR - timedelta(days=364))
    )
    assert anchor_instant(ANCHOR - timedelta(days=1)) <= last < anchor_instant(ANCHOR)
    assert all(t.occurred_at.tzinfo is not None for t in plan.touchpoints)
    # A year for three services, small enough to load in seconds.
    assert 10_000 <= len(plan.touchpoints) <= 30_000


def test_external_ids_are_unique_per_source_system(plan: DemoPlan) -> None:
    keys = Counter((t.source_system, t.external_id) for t in plan.touchpoints)
    assert keys.most_common(1)[0][1] == 1


def test_a_year_of_turnover_on_every_shift(plan: DemoPlan) -> None:
    year_start = ANCHOR - timedelta(days=365)
    starters = [s for s in plan.staff if s.started_on > year_start]
    leavers = [s for s in plan.staff if s.left_on is not None and s.left_on > year_start]
    assert 35 <= len(plan.staff) <= 45
    assert len(starters) >= 6 and len(leavers) >= 6
    for service in plan.services:
        shifts = {t.shift for t in plan.touchpoints if t.service_key == service.key}
        assert shifts == set(Shift), service.key
        assert {s.shift for s in plan.staff if s.service_key == service.key} == set(Shift)


def test_every_reference_is_consistent(plan: DemoPlan) -> None:
    staff = plan.staff_by_ref()
    people = {ref: s.key for s in plan.services for ref in s.person_refs}
    innovations = {i.key: i for i in plan.innovations}
    incidents = {t.external_id: t for t in plan.touchpoints if t.kind is TouchpointKind.incident}
    for t in plan.touchpoints:
        day = shift_day(t)
        for ref in (t.recorded_by, t.subject, t.buddy):
            if ref is not None:
                assert staff[ref].active_on(day), (t.external_id, ref, day)
        assert staff[t.recorded_by].service_key == t.service_key or t.recorded_by == cast.BUDDYING_CHAMPION
        if t.person_ref is not None:
            assert people[t.person_ref] == t.service_key
        for key in t.innovations:
            assert t.service_key in innovations[key].service_keys
            assert day >= innovations[key].started_on, (t.external_id, key)
        if t.kind is TouchpointKind.post_incident_review:
            assert t.incident is not None
            incident = incidents[t.incident]
            assert incident.service_key == t.service_key
            assert incident.occurred_at < t.occurred_at <= incident.occurred_at + timedelta(days=21)


def test_proactive_engagement_is_close_to_embedded(plan: DemoPlan) -> None:
    for months_back in range(3):
        month_start = ANCHOR - timedelta(days=30 * (months_back + 1))
        month = [
            t
            for t in referencing(plan, PE, since=month_start)
            if t.occurred_at < anchor_instant(ANCHOR - timedelta(days=30 * months_back))
        ]
        assert {SYSTEM_OF_KIND[t.kind] for t in month} >= set(CORE_SYSTEMS)
    recent = referencing(plan, PE, since=ANCHOR - timedelta(days=90))
    assert top_share(recent)[1] <= 0.25
    # As present at night as in the day.
    assert night_share(recent) >= 0.8 * night_share(list(plan.touchpoints))
    supervisions = [
        t
        for t in plan.touchpoints
        if t.kind is TouchpointKind.supervision
        and t.occurred_at >= anchor_instant(ANCHOR - timedelta(days=90))
    ]
    assert sum(PE in t.innovations for t in supervisions) / len(supervisions) >= 0.8
    observed = [t for t in recent if t.kind is TouchpointKind.practice_observation]
    by_shift = {s: mean(t.facts["score"] for t in observed if t.shift is s) for s in Shift}
    assert max(by_shift.values()) - min(by_shift.values()) <= 0.5
    audits = [t.facts["score_percent"] for t in recent if t.kind is TouchpointKind.audit]
    assert len(audits) >= 3 and mean(audits) >= 80


def test_deescalation_reflection_has_a_night_shift_gap(plan: DemoPlan) -> None:
    recent = referencing(plan, DE, since=ANCHOR - timedelta(days=90))
    in_scope = [t for t in plan.touchpoints if t.service_key in (cast.HOUSE, cast.MILLBROOK)]
    assert night_share(recent) < night_share(in_scope) / 3
    observed = [t for t in referencing(plan, DE) if t.kind is TouchpointKind.practice_observation]
    nights = [t.facts["score"] for t in observed if t.shift is Shift.night]
    days_ = [t.facts["score"] for t in observed if t.shift is not Shift.night]
    assert nights and mean(days_) - mean(nights) > 1.0
    night_supervisions = [
        t for t in plan.touchpoints if t.kind is TouchpointKind.supervision and t.shift is Shift.night
    ]
    day_supervisions = [
        t for t in plan.touchpoints if t.kind is TouchpointKind.supervision and t.shift is not Shift.night
    ]
    since = anchor_instant(ANCHOR - timedelta(days=90))

    def discussed(rows: list[TouchpointPlan]) -> float:
        rows = [t for t in rows if t.occurred_at >= since and t.service_key in (cast.HOUSE, cast.MILLBROOK)]
        return sum(DE in t.innovations for t in rows) / len(rows)

    assert discussed(day_supervisions) >= 0.8 > 0.3 >= discussed(night_supervisions)


def test_structured_buddying_leans_on_one_champion(plan: DemoPlan) -> None:
    touchpoints = referencing(plan, SB)
    champion, share = top_share(touchpoints)
    assert champion == cast.BUDDYING_CHAMPION
    assert share > 0.6
    assert top_share(referencing(plan, SB, since=ANCHOR - timedelta(days=90)))[1] > 0.6
    # Still so when the staff survey, where everyone speaks for themselves, is left out.
    practice = [t for t in touchpoints if t.kind is not TouchpointKind.staff_survey]
    assert top_share(practice) == (cast.BUDDYING_CHAMPION, pytest.approx(top_share(practice)[1]))
    assert top_share(practice)[1] > 0.6


def test_incidents_fall_after_proactive_engagement_starts(plan: DemoPlan) -> None:
    pe = next(i for i in plan.innovations if i.key == PE)
    start = datetime.combine(pe.started_on, datetime.min.time(), tzinfo=LOCAL)
    incidents = [t for t in plan.touchpoints if t.kind is TouchpointKind.incident]
    before = [t for t in incidents if t.occurred_at < start]
    after = [t for t in incidents if t.occurred_at >= start + timedelta(days=120)]
    days_before = (start - plan.touchpoints[0].occurred_at).days
    days_after = (anchor_instant(ANCHOR) - start).days - 120
    assert len(after) / days_after < 0.8 * len(before) / days_before
