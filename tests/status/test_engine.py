"""The engine over plain inputs: the monthly series, memory, drift and months in stage."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from service.status.evaluation.inputs import (
    AuditScore,
    MonthCounts,
    ServiceInfo,
    StaffTenure,
    Starter,
    StatusInputs,
    audit_runs,
)
from service.status.evaluation.periods import add_months, months_between
from service.status.evaluation.series import evaluate
from service.status.thresholds import Thresholds
from service.status.vocabulary import IndicatorKey, Rag, Stage

LONDON = "Europe/London"
AS_OF = datetime(2026, 4, 15, 12, tzinfo=UTC)
STARTED = date(2025, 6, 1)


def healthy_month() -> MonthCounts:
    return MonthCounts(
        refs_total=60,
        refs_care_records=30,
        refs_team_communication=10,
        refs_supervision=10,
        refs_quality_assurance=10,
        referencing_supervisions=9,
        supervisions=10,
        why_assessed=10,
        why_explained=9,
        quality_early_n=10,
        quality_early_sum=40,
        quality_late_n=10,
        quality_late_sum=41,
        quality_night_n=10,
        quality_night_sum=39,
        incidents=2,
        incidents_reviewed=2,
    )


def build(months: dict[date, MonthCounts], *, starter: bool = True) -> StatusInputs:
    service = uuid.uuid4()
    staff = [StaffTenure(uuid.uuid4(), frozenset({service}), date(2024, 1, 1), None) for _ in range(10)]
    newcomer = uuid.uuid4()
    staff_counts = {
        (service, m): dict.fromkeys(range(len(staff)), 6) for m, c in months.items() if c.refs_total
    }
    starters = []
    if starter:
        staff.append(StaffTenure(newcomer, frozenset({service}), date(2026, 1, 5), None))
        starters.append(
            Starter(
                newcomer,
                frozenset({service}),
                date(2026, 1, 5),
                None,
                datetime(2026, 1, 12, tzinfo=UTC),
                date(2026, 1, 12),
                datetime(2026, 2, 20, tzinfo=UTC),
                date(2026, 2, 20),
            )
        )
    audits = [
        AuditScore(uuid.uuid4(), service, datetime(m.year, m.month, 10, tzinfo=UTC), Decimal(85))
        for m, c in months.items()
        if c.refs_quality_assurance
    ]
    audit_months = audit_runs(audits, lambda a: (a.service_id, a.occurred_at.date().replace(day=1)))
    return StatusInputs(
        innovation_id=uuid.uuid4(),
        innovation_started_on=STARTED,
        as_of=AS_OF,
        services={service: ServiceInfo(service, LONDON, frozenset({"early", "late", "night"}))},
        months={(service, m): c for m, c in months.items()},
        staff_counts=staff_counts,
        audit_months=audit_months,
        staff=staff,
        starters=starters,
    )


def scope(inputs: StatusInputs) -> list[uuid.UUID]:
    return list(inputs.services)


def test_steady_practice_through_turnover_is_embedded() -> None:
    months = {m: healthy_month() for m in months_between(STARTED, AS_OF.date())}
    inputs = build(months)
    result = evaluate(inputs, Thresholds(), scope(inputs), tz=LONDON, window_days=90)
    current = result.current
    assert {k: r.rag for k, r in current.indicators.items()} == {
        IndicatorKey.system_visibility: Rag.green,
        IndicatorKey.supervision_reinforcement: Rag.green,
        IndicatorKey.understanding_why: Rag.green,
        IndicatorKey.shift_consistency: Rag.green,
        IndicatorKey.audit_stability: Rag.green,
        IndicatorKey.incident_learning: Rag.green,
        IndicatorKey.person_independence: Rag.green,
        IndicatorKey.turnover_resilience: Rag.green,
    }
    assert current.stage is Stage.embedded
    # January's starter is still within their 60 days in January (turnover_resilience
    # insufficient), so the green run starts in February and reaches three months in April.
    assert result.months_in_stage == 1


def test_without_turnover_green_practice_stays_embedding() -> None:
    months = {m: healthy_month() for m in months_between(STARTED, AS_OF.date())}
    inputs = build(months, starter=False)
    result = evaluate(inputs, Thresholds(), scope(inputs), tz=LONDON, window_days=90)
    assert result.current.stage is Stage.embedding
    assert result.current.stage_reasons[0].rule == "visible_not_yet_embedded"


def test_no_data_is_not_started_and_never_green() -> None:
    inputs = build({}, starter=False)
    result = evaluate(inputs, Thresholds(), scope(inputs), tz=LONDON, window_days=90, history=3)
    assert result.current.stage is Stage.not_started
    rags = {r.rag for r in result.current.indicators.values()}
    assert Rag.green not in rags
    assert len(result.history) == 3
    assert result.months_in_stage == 13


def test_silence_after_embedding_is_fading() -> None:
    months = {m: healthy_month() for m in months_between(STARTED, date(2026, 1, 1))}
    inputs = build(months)
    result = evaluate(inputs, Thresholds(), scope(inputs), tz=LONDON, window_days=90, history=4)
    assert result.current.stage is Stage.fading
    assert [p.stage for p in result.history][-1] is Stage.fading
    assert result.current.stage_reasons[0].rule == "core_systems_silent"


def test_drift_on_two_indicators_after_embedding_is_at_risk() -> None:
    months = {m: healthy_month() for m in months_between(STARTED, AS_OF.date())}
    for m in months_between(date(2026, 2, 1), AS_OF.date()):
        worse = healthy_month()
        worse.referencing_supervisions = 6
        worse.why_explained = 6
        months[m] = worse
    inputs = build(months)
    result = evaluate(inputs, Thresholds(), scope(inputs), tz=LONDON, window_days=90)
    assert set(result.current.drift.flagged) == {"supervision_reinforcement", "understanding_why"}
    assert result.current.stage is Stage.at_risk


def test_history_points_are_monthly_and_end_with_the_current_status() -> None:
    months = {m: healthy_month() for m in months_between(STARTED, AS_OF.date())}
    inputs = build(months)
    result = evaluate(inputs, Thresholds(), scope(inputs), tz=LONDON, window_days=90, history=6)
    labels = [p.point.month for p in result.history]
    assert labels == [add_months(date(2026, 4, 1), -k) for k in range(5, -1, -1)]
    assert result.history[-1] == result.current
    assert all(p.point.end - p.point.start > timedelta(days=80) for p in result.history[:-1])
