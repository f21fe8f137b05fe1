"""Each indicator's rule, at and around its thresholds."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from operator import attrgetter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.status.evaluation import indicators as ind
from service.status.evaluation.inputs import AuditRun, AuditScore, audit_runs
from service.status.evaluation.starters import StarterDeadlines, starter_outcome
from service.status.thresholds import Thresholds
from service.status.vocabulary import Rag

TH = Thresholds()
CORE = ("care_records", "team_communication", "supervision", "quality_assurance")


@pytest.mark.parametrize(
    ("months", "rag", "value"),
    [
        ({s: 3 for s in CORE}, Rag.green, 4),
        (
            {"care_records": 2, "team_communication": 2, "supervision": 3, "quality_assurance": 1},
            Rag.amber,
            3,
        ),
        (
            {"care_records": 2, "team_communication": 2, "supervision": 1, "quality_assurance": 0},
            Rag.amber,
            2,
        ),
        ({"care_records": 3, "team_communication": 1, "supervision": 1, "quality_assurance": 1}, Rag.red, 1),
        ({s: 0 for s in CORE}, Rag.red, 0),
    ],
)
def test_system_visibility_counts_systems_seen_in_two_of_three_months(
    months: dict[str, int], rag: Rag, value: int
) -> None:
    result = ind.system_visibility(months, 3, TH.system_visibility)
    assert (result.rag, result.value, result.numerator, result.denominator) == (rag, value, value, 4)
    assert result.explanation.endswith(".")


def test_system_visibility_waits_for_two_months_of_an_innovation() -> None:
    result = ind.system_visibility({s: 1 for s in CORE}, 1, TH.system_visibility)
    assert result.rag is Rag.insufficient_evidence


@pytest.mark.parametrize(
    ("referencing", "supervisions", "rag"),
    [(8, 10, Rag.green), (79, 100, Rag.amber), (5, 10, Rag.amber), (49, 100, Rag.red), (0, 2, None)],
)
def test_supervision_reinforcement_thresholds(referencing: int, supervisions: int, rag: Rag | None) -> None:
    result = ind.supervision_reinforcement(referencing, supervisions, TH.supervision_reinforcement)
    assert result.rag is (rag or Rag.insufficient_evidence)
    assert (result.numerator, result.denominator) == (referencing, supervisions)


@pytest.mark.parametrize(
    ("explained", "assessed", "rag"),
    [(8, 10, Rag.green), (6, 10, Rag.amber), (5, 10, Rag.red), (4, 4, Rag.insufficient_evidence)],
)
def test_understanding_why_thresholds(explained: int, assessed: int, rag: Rag) -> None:
    assert ind.understanding_why(explained, assessed, TH.understanding_why).rag is rag


def test_shift_consistency_gap_between_best_and_worst_shift() -> None:
    operated = ("early", "late", "night")
    green = ind.shift_consistency(
        {"early": (4, 16), "late": (4, 15), "night": (4, 14)}, operated, TH.shift_consistency
    )
    assert (green.rag, green.value) == (Rag.green, 0.5)
    amber = ind.shift_consistency(
        {"early": (2 * 3, 24), "late": (3, 12), "night": (3, 9)}, operated, TH.shift_consistency
    )
    assert (amber.rag, amber.value) == (Rag.amber, 1.0)
    red = ind.shift_consistency(
        {"early": (3, 15), "late": (3, 15), "night": (3, 11)}, operated, TH.shift_consistency
    )
    assert red.rag is Rag.red


def test_shift_consistency_is_red_when_an_operated_shift_has_no_evidence() -> None:
    result = ind.shift_consistency(
        {"early": (20, 90), "late": (18, 80), "night": (1, 2)},
        ("early", "late", "night"),
        TH.shift_consistency,
    )
    assert result.rag is Rag.red
    assert "night" in result.explanation
    assert (result.numerator, result.denominator) == (2, 3)


def test_shift_consistency_ignores_shifts_the_service_does_not_run() -> None:
    day_only = ind.shift_consistency(
        {"early": (20, 90), "late": (18, 81), "night": (0, 0)}, ("early", "late"), TH.shift_consistency
    )
    assert day_only.rag is Rag.green
    single = ind.shift_consistency(
        {"early": (20, 90), "late": (0, 0), "night": (0, 0)}, ("early",), TH.shift_consistency
    )
    assert single.rag is Rag.not_applicable
    nothing = ind.shift_consistency(
        {"early": (1, 4), "late": (0, 0), "night": (0, 0)}, ("early", "late", "night"), TH.shift_consistency
    )
    assert nothing.rag is Rag.insufficient_evidence


def _audits(*scores: float, service: uuid.UUID | None = None) -> list[AuditScore]:
    service = service or uuid.uuid4()
    start = datetime(2026, 1, 5, tzinfo=UTC)
    return [
        AuditScore(uuid.uuid4(), service, start + timedelta(days=14 * i), Decimal(str(score)))
        for i, score in enumerate(scores)
    ]


def runs_of(audits: list[AuditScore]) -> list[AuditRun]:
    """Each service's audits, in the order they happened, as one run per service."""
    return list(audit_runs(audits, attrgetter("service_id")).values())


def test_runs_of_adjacent_months_join_exactly() -> None:
    scores = _audits(90, 70, 85, 95, 80, 79)
    whole = runs_of(scores)[0]
    halves = runs_of(scores[:2])[0].then(runs_of(scores[2:])[0])
    assert whole == halves
    assert (whole.count, whole.max_drop, whole.last) == (6, 2000, (9500, 8000, 7900))


def test_audit_stability() -> None:
    assert ind.audit_stability(runs_of(_audits(85, 88, 84)), TH.audit_stability).rag is Rag.green
    swinging = ind.audit_stability(runs_of(_audits(92, 65, 90, 62)), TH.audit_stability)
    assert swinging.rag is Rag.red
    assert swinging.measures["max_drop"] == 28
    falling = ind.audit_stability(runs_of(_audits(95, 90, 86)), TH.audit_stability)
    assert (falling.rag, falling.measures["falling_trend"]) == (Rag.amber, True)
    assert ind.audit_stability(runs_of(_audits(78, 79, 77)), TH.audit_stability).rag is Rag.amber
    assert ind.audit_stability(runs_of(_audits(60, 70, 65)), TH.audit_stability).rag is Rag.red
    assert ind.audit_stability(runs_of(_audits(90, 90)), TH.audit_stability).rag is Rag.insufficient_evidence
    assert ind.audit_stability(runs_of([]), TH.audit_stability).rag is Rag.insufficient_evidence


def test_audit_drops_are_judged_within_a_service() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    audits = _audits(95, 95, service=a) + _audits(82, 83, service=b)
    result = ind.audit_stability(runs_of(audits), TH.audit_stability)
    assert result.measures["max_drop"] == 0
    assert result.rag is Rag.green
    assert result.value == 88.75


@pytest.mark.parametrize(
    ("reviewed", "eligible", "incidents", "rag"),
    [
        (8, 10, 10, Rag.green),
        (5, 10, 12, Rag.amber),
        (2, 10, 10, Rag.red),
        (0, 0, 0, Rag.not_applicable),
        (0, 0, 3, Rag.insufficient_evidence),
    ],
)
def test_incident_learning(reviewed: int, eligible: int, incidents: int, rag: Rag) -> None:
    assert (
        ind.incident_learning(reviewed, eligible, incidents, incidents - eligible, TH.incident_learning).rag
        is rag
    )


@pytest.mark.parametrize(
    ("top", "attributed", "contributors", "active", "rag"),
    [
        (20, 100, 10, 12, Rag.green),
        (25, 100, 6, 12, Rag.green),
        (40, 100, 6, 12, Rag.amber),
        (20, 100, 4, 12, Rag.amber),
        (51, 100, 10, 12, Rag.red),
        (10, 100, 2, 12, Rag.red),
        (5, 9, 5, 5, Rag.insufficient_evidence),
        (5, 20, 5, 0, Rag.insufficient_evidence),
    ],
)
def test_person_independence(top: int, attributed: int, contributors: int, active: int, rag: Rag) -> None:
    assert ind.person_independence(top, attributed, contributors, active, TH.person_independence).rag is rag


def test_turnover_resilience() -> None:
    th = TH.turnover_resilience
    assert ind.turnover_resilience(9, 10, 0, 10, th).rag is Rag.green
    assert ind.turnover_resilience(7, 10, 0, 10, th).rag is Rag.amber
    assert ind.turnover_resilience(6, 10, 0, 10, th).rag is Rag.red
    assert ind.turnover_resilience(0, 0, 0, 0, th).rag is Rag.not_applicable
    assert ind.turnover_resilience(0, 0, 2, 2, th).rag is Rag.insufficient_evidence


def test_starter_outcome_deadlines() -> None:
    start = date(2026, 1, 1)
    on_time = starter_outcome(start, None, date(2026, 1, 31), date(2026, 3, 2), date(2026, 6, 30))
    assert on_time == "met"
    assert starter_outcome(start, None, date(2026, 2, 1), date(2026, 2, 10), date(2026, 6, 30)) == "missed"
    assert starter_outcome(start, None, date(2026, 1, 10), None, date(2026, 2, 20)) == "pending"
    assert starter_outcome(start, None, None, None, date(2026, 1, 31)) == "pending"
    assert starter_outcome(start, None, None, None, date(2026, 2, 1)) == "missed"
    assert starter_outcome(start, date(2026, 2, 1), None, None, date(2026, 6, 30)) == "excluded"


days = st.one_of(st.none(), st.integers(-40, 130))


@given(start=st.dates(date(2025, 1, 1), date(2026, 12, 31)), left=days, inducted=days, competent=days,
       end=st.integers(-10, 150), hour=st.integers(0, 23))  # fmt: skip
def test_starter_deadlines_give_the_starter_outcome(
    start: date, left: int | None, inducted: int | None, competent: int | None, end: int, hour: int
) -> None:
    """Deadlines prepared once per starter rate every window's end as starter_outcome does."""

    def on(offset: int | None) -> date | None:
        return None if offset is None else start + timedelta(days=offset)

    def moment(day: date | None) -> datetime | None:
        return None if day is None else datetime(day.year, day.month, day.day, hour, tzinfo=UTC)

    left_on = on(left) if left is None or left >= 0 else None
    window_end = datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(days=end)
    last_day = (window_end - timedelta(microseconds=1)).date()
    inducted_at, competent_at = moment(on(inducted)), moment(on(competent))
    expected = starter_outcome(
        start,
        left_on,
        on(inducted) if inducted_at is not None and inducted_at < window_end else None,
        on(competent) if competent_at is not None and competent_at < window_end else None,
        last_day,
    )
    deadlines = StarterDeadlines.of(start, left_on, inducted_at, on(inducted), competent_at, on(competent))
    assert deadlines.outcome(window_end, last_day) == expected
