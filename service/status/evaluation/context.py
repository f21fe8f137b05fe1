"""Context measures: outcomes, staff voice and drift. They inform; they never gate a stage.

Drift's count of flagged indicators does decide `at_risk`, which is why it is computed here from
the indicator results of two windows rather than read from anywhere else.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from service.status.evaluation.counting import CORE_SYSTEM_VALUES, NOMAD_CONSTRUCTS, NORMAL_NOW_HIGH
from service.status.evaluation.indicators import SYSTEM_NAMES, IndicatorResult, display, exact, percent
from service.status.evaluation.inputs import MonthCounts
from service.status.thresholds import Thresholds
from service.status.vocabulary import RAG_RANK, RATED, IndicatorKey

AVERAGE_MONTH_DAYS = Fraction(3652425, 120000)  # 30.436875 days: a Gregorian month on average


@dataclass(frozen=True, slots=True)
class MonthOutcome:
    month: date
    incidents: int
    restrictive_interventions: int


@dataclass(frozen=True, slots=True)
class Outcomes:
    months: tuple[MonthOutcome, ...]
    incidents_per_month: float | None
    restrictive_interventions_per_month: float | None
    baseline_months: tuple[date, ...]
    baseline_incidents_per_month: float | None
    baseline_restrictive_interventions_per_month: float | None
    explanation: str


def outcomes(
    window: Sequence[tuple[date, MonthCounts]],
    window_days: Fraction,
    baseline: Sequence[tuple[date, MonthCounts]],
) -> Outcomes:
    """Incidents and restrictive interventions per month, against the months before the innovation.

    The baseline is only given when something was recorded in those months; an empty baseline
    more likely means the service was not yet recording than that nothing happened.
    """
    incidents = sum(c.incidents for _, c in window)
    restrictive = sum(c.restrictive_interventions for _, c in window)
    months_equivalent = window_days / AVERAGE_MONTH_DAYS if window_days else Fraction(0)
    per_month = display(incidents / months_equivalent, 2) if months_equivalent else None
    restrictive_per_month = display(restrictive / months_equivalent, 2) if months_equivalent else None
    recorded_before = any(not c.is_empty() for _, c in baseline)
    base_incidents = base_restrictive = None
    if baseline and recorded_before:
        base_incidents = display(Fraction(sum(c.incidents for _, c in baseline), len(baseline)), 2)
        base_restrictive = display(
            Fraction(sum(c.restrictive_interventions for _, c in baseline), len(baseline)), 2
        )
    if base_incidents is None:
        text = (
            f"{per_month} incidents and {restrictive_per_month} restrictive interventions a month in the "
            "window; nothing was recorded before the innovation began to compare with."
        )
    else:
        text = (
            f"{per_month} incidents a month in the window against {base_incidents} before the innovation "
            f"began; restrictive interventions {restrictive_per_month} against {base_restrictive}."
        )
    return Outcomes(
        months=tuple(MonthOutcome(m, c.incidents, c.restrictive_interventions) for m, c in window),
        incidents_per_month=per_month,
        restrictive_interventions_per_month=restrictive_per_month,
        baseline_months=tuple(m for m, _ in baseline),
        baseline_incidents_per_month=base_incidents,
        baseline_restrictive_interventions_per_month=base_restrictive,
        explanation=text,
    )


@dataclass(frozen=True, slots=True)
class StaffVoice:
    responses: int
    constructs: dict[str, float | None]
    general: dict[str, float | None]
    normal_now_share: float | None
    normal_now_respondents: int
    explanation: str


def _mean(total: int, n: int) -> float | None:
    return display(Fraction(total) / n, 2) if n else None


def staff_voice(counts: MonthCounts) -> StaffVoice:
    """NoMAD construct means (opt-outs left out, the negatively worded item reversed), pooled."""
    constructs = {
        name: _mean(getattr(counts, f"nomad_{name}_sum"), getattr(counts, f"nomad_{name}_n"))
        for name in NOMAD_CONSTRUCTS
    }
    general = {
        "familiar": _mean(counts.familiar_sum, counts.familiar_n),
        "normal_now": _mean(counts.normal_now_sum, counts.normal_now_n),
        "normal_future": _mean(counts.normal_future_sum, counts.normal_future_n),
    }
    share = Fraction(counts.normal_now_high, counts.normal_now_n) if counts.normal_now_n else None
    if not counts.surveys:
        text = "No NoMAD staff surveys about it were returned in the window."
    elif share is None:
        text = f"{counts.surveys} NoMAD surveys were returned; none answered whether it is normal work now."
    else:
        text = (
            f"{counts.surveys} NoMAD surveys were returned; {percent(share)} of those answering scored it "
            f"{NORMAL_NOW_HIGH} or more out of 10 as a normal part of their work now."
        )
    return StaffVoice(
        responses=counts.surveys,
        constructs=constructs,
        general=general,
        normal_now_share=display(share) if share is not None else None,
        normal_now_respondents=counts.normal_now_n,
        explanation=text,
    )


@dataclass(frozen=True, slots=True)
class DriftSignal:
    key: str
    kind: str  # "indicator" or "reference_frequency"
    previous: float | None
    current: float | None
    explanation: str
    system: str | None = None


@dataclass(frozen=True, slots=True)
class Drift:
    flagged: tuple[str, ...]
    signals: tuple[DriftSignal, ...]
    explanation: str
    previous_window: tuple[Any, Any] | None = None


# (value direction: True when higher is better, the two thresholds whose half-gap is the margin)
_VALUE_DIRECTION: dict[IndicatorKey, tuple[bool, str, str]] = {
    IndicatorKey.system_visibility: (True, "green", "amber"),
    IndicatorKey.supervision_reinforcement: (True, "green", "amber"),
    IndicatorKey.understanding_why: (True, "green", "amber"),
    IndicatorKey.shift_consistency: (False, "green", "amber"),
    IndicatorKey.audit_stability: (True, "green", "amber"),
    IndicatorKey.incident_learning: (True, "green", "amber"),
    IndicatorKey.person_independence: (False, "top_share_green", "top_share_amber"),
    IndicatorKey.turnover_resilience: (True, "green", "amber"),
}

REFERENCE_FREQUENCY = "reference_frequency"


def drift_margin(key: IndicatorKey, thresholds: Thresholds) -> Fraction:
    """How far a value may move the wrong way, within its rating, before it counts as drift:
    half the distance between its green and amber thresholds."""
    _, green_name, amber_name = _VALUE_DIRECTION[key]
    section = getattr(thresholds, key.value)
    return abs(exact(getattr(section, green_name)) - exact(getattr(section, amber_name))) / 2


def indicator_drift(
    key: IndicatorKey, now: IndicatorResult, before: IndicatorResult, thresholds: Thresholds
) -> DriftSignal | None:
    if now.rag not in RATED or before.rag not in RATED:
        return None
    if RAG_RANK[now.rag] < RAG_RANK[before.rag]:
        return DriftSignal(
            key.value, "indicator", before.value, now.value,
            f"{key.value} fell from {before.rag.value} to {now.rag.value} against the previous window.",
        )  # fmt: skip
    if now.value is None or before.value is None:
        return None
    higher_is_better, _, _ = _VALUE_DIRECTION[key]
    moved = exact(before.value) - exact(now.value)
    worse = moved if higher_is_better else -moved
    if worse > 0 and worse >= drift_margin(key, thresholds):
        return DriftSignal(
            key.value, "indicator", before.value, now.value,
            f"{key.value} moved from {before.value} to {now.value}, still {now.rag.value} but worse by "
            "at least half the distance between its green and amber thresholds.",
        )  # fmt: skip
    return None


def reference_drift(
    now: MonthCounts, now_span: int, before: MonthCounts, before_span: int, thresholds: Thresholds
) -> list[DriftSignal]:
    """Core systems whose rate of references fell by `reference_fall` or more.

    Spans are window lengths in any common unit; rates compare as counts per unit.
    """
    fall = exact(thresholds.drift.reference_fall)
    out = []
    for system in CORE_SYSTEM_VALUES:
        current, previous = now.refs_in(system), before.refs_in(system)
        if previous < thresholds.drift.min_evidence or not now_span or not before_span:
            continue
        if current * before_span <= previous * now_span * (1 - fall):
            rate_now = Fraction(current * before_span, now_span)
            out.append(
                DriftSignal(
                    REFERENCE_FREQUENCY, "reference_frequency", float(previous), display(rate_now, 1),
                    f"References in {SYSTEM_NAMES[system]} fell from {previous} to the equivalent of "
                    f"{display(rate_now, 1)} over a window of the same length.",
                    system=system,
                )
            )  # fmt: skip
    return out


def drift(
    now: Mapping[IndicatorKey, IndicatorResult],
    before: Mapping[IndicatorKey, IndicatorResult],
    now_counts: MonthCounts,
    now_span: int,
    before_counts: MonthCounts,
    before_span: int,
    thresholds: Thresholds,
    previous_window: tuple[Any, Any] | None = None,
) -> Drift:
    """Indicators that worsened, and core systems whose references fell, against the previous window.

    A fall in reference frequency counts once however many systems it shows in.
    """
    signals: list[DriftSignal] = []
    for key in IndicatorKey:
        signal = indicator_drift(key, now[key], before[key], thresholds)
        if signal is not None:
            signals.append(signal)
    signals.extend(reference_drift(now_counts, now_span, before_counts, before_span, thresholds))
    flagged = tuple(dict.fromkeys(s.key for s in signals))
    if flagged:
        text = f"Drift against the previous window on {len(flagged)}: {', '.join(flagged)}."
    else:
        text = "No indicator or reference frequency fell against the previous window."
    return Drift(flagged=flagged, signals=tuple(signals), explanation=text, previous_window=previous_window)


def no_drift() -> Drift:
    return Drift(flagged=(), signals=(), explanation="No previous window to compare with.")
