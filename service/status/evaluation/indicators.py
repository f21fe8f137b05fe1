"""The eight indicators as pure functions of counts.

Each takes plain numbers (already summed over the scope and window) and the thresholds of its
section, and returns its value, numerator, denominator, RAG rating and one sentence saying why.
Ratios are computed exactly (fractions) and rounded only for display, so the same counts always
give the same rating whichever way they were read.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from service.status.evaluation.counting import (
    COMPETENCY_WITHIN_DAYS,
    INDUCTION_WITHIN_DAYS,
    REVIEW_WITHIN_DAYS,
)
from service.status.evaluation.inputs import AuditRun
from service.status.thresholds import (
    AuditStabilityThresholds,
    IncidentLearningThresholds,
    PersonIndependenceThresholds,
    ShiftConsistencyThresholds,
    SupervisionReinforcementThresholds,
    SystemVisibilityThresholds,
    TurnoverResilienceThresholds,
    UnderstandingWhyThresholds,
)
from service.status.vocabulary import IndicatorKey, Rag

SYSTEM_NAMES = {
    "care_records": "care records",
    "team_communication": "handovers and meetings",
    "supervision": "supervision",
    "quality_assurance": "audit and quality review",
    "workforce": "induction and shadowing",
    "incident_learning": "incidents and reviews",
    "staff_voice": "staff surveys",
}


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    key: IndicatorKey
    value: float | None
    numerator: float | None
    denominator: float | None
    rag: Rag
    threshold: dict[str, Any]
    explanation: str
    measures: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=4096)
def exact(value: float) -> Fraction:
    """A threshold or displayed value as the fraction its decimal text means (0.8 is 4/5)."""
    return Fraction(str(value))


@lru_cache(maxsize=256)
def dumped(section: BaseModel) -> dict[str, Any]:
    """A thresholds section as the plain dict every result echoes (sections are frozen)."""
    return section.model_dump()


def display(value: Fraction | Decimal | int, places: int = 4) -> float:
    return round(float(value), places)


def percent(share: Fraction) -> str:
    return f"{round(float(share) * 100)}%"


def join_names(names: Iterable[str]) -> str:
    items = list(names)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def rate_at_least(value: Fraction, green: float, amber: float) -> Rag:
    if value >= exact(green):
        return Rag.green
    if value >= exact(amber):
        return Rag.amber
    return Rag.red


def rate_at_most(value: Fraction, green: float, amber: float) -> Rag:
    if value <= exact(green):
        return Rag.green
    if value <= exact(amber):
        return Rag.amber
    return Rag.red


def _result(
    key: IndicatorKey,
    rag: Rag,
    threshold: dict[str, Any],
    explanation: str,
    *,
    value: float | None = None,
    numerator: float | None = None,
    denominator: float | None = None,
    measures: dict[str, Any] | None = None,
) -> IndicatorResult:
    return IndicatorResult(key, value, numerator, denominator, rag, threshold, explanation, measures or {})


def system_visibility(
    months_referenced: Mapping[str, int], months_available: int, th: SystemVisibilityThresholds
) -> IndicatorResult:
    """Core systems referencing the innovation in at least 2 of the last 3 months."""
    key = IndicatorKey.system_visibility
    threshold = dumped(th) | {"months_required": 2, "of_months": 3}
    visible = [s for s, months in months_referenced.items() if months >= 2]
    hidden = [s for s in months_referenced if s not in visible]
    measures = {"months_referenced": dict(months_referenced)}
    counts: dict[str, Any] = {
        "numerator": len(visible),
        "denominator": len(months_referenced),
        "measures": measures,
    }
    if months_available < 2 and len(visible) < th.green:
        text = "The innovation began too recently for two of the last three months to show it."
        return _result(key, Rag.insufficient_evidence, threshold, text, **counts)
    rag = Rag.green if len(visible) >= th.green else Rag.amber if len(visible) >= th.amber else Rag.red
    if visible:
        text = (
            f"Referenced in at least 2 of the last 3 months in {len(visible)} of {len(months_referenced)} "
            f"core systems ({join_names(SYSTEM_NAMES[s] for s in visible)})"
        )
        text += f"; not in {join_names(SYSTEM_NAMES[s] for s in hidden)}." if hidden else "."
    else:
        text = (
            f"Not referenced in 2 of the last 3 months in any of the {len(months_referenced)} core systems."
        )
    return _result(key, rag, threshold, text, value=float(len(visible)), **counts)


def supervision_reinforcement(
    referencing: int, supervisions: int, th: SupervisionReinforcementThresholds
) -> IndicatorResult:
    key = IndicatorKey.supervision_reinforcement
    threshold = dumped(th)
    if supervisions < th.min_evidence:
        text = (
            f"Only {supervisions} supervisions were recorded in the window; "
            f"at least {th.min_evidence} are needed to judge."
        )
        return _result(
            key, Rag.insufficient_evidence, threshold, text, numerator=referencing, denominator=supervisions
        )
    share = Fraction(referencing, supervisions)
    text = f"{referencing} of {supervisions} supervisions in the window ({percent(share)}) discussed it."
    rag = rate_at_least(share, th.green, th.amber)
    return _result(
        key, rag, threshold, text, value=display(share), numerator=referencing, denominator=supervisions
    )


def understanding_why(explained: int, assessed: int, th: UnderstandingWhyThresholds) -> IndicatorResult:
    key = IndicatorKey.understanding_why
    threshold = dumped(th)
    if assessed < th.min_evidence:
        text = (
            f"Only {assessed} supervisions, observations or competency checks assessed whether staff "
            f"could explain why; at least {th.min_evidence} are needed."
        )
        return _result(
            key, Rag.insufficient_evidence, threshold, text, numerator=explained, denominator=assessed
        )
    share = Fraction(explained, assessed)
    text = f"Staff explained why, not only what, in {explained} of {assessed} assessments ({percent(share)})."
    rag = rate_at_least(share, th.green, th.amber)
    return _result(key, rag, threshold, text, value=display(share), numerator=explained, denominator=assessed)


def shift_consistency(
    quality: Mapping[str, tuple[int, int]], operated: Iterable[str], th: ShiftConsistencyThresholds
) -> IndicatorResult:
    """Gap between the best and worst operated shift in mean practice quality (1–5).

    A shift the services run that has fewer than `min_evidence` ratings while another shift has
    enough is red: the practice is absent there, not merely unmeasured.
    """
    key = IndicatorKey.shift_consistency
    threshold = dumped(th)
    operated_set = set(operated)
    shifts = [s for s in quality if s in operated_set]
    per_shift: dict[str, dict[str, Any]] = {}
    for s in shifts:
        n, total = quality[s]
        per_shift[s] = {"ratings": n, "mean": display(Fraction(total, n), 2) if n else None}
    measures = {"shifts": per_shift}
    if len(shifts) < 2:
        text = "The services in scope run a single shift, so there is nothing to compare."
        return _result(key, Rag.not_applicable, threshold, text, measures=measures)
    evidenced = [s for s in shifts if quality[s][0] >= th.min_evidence]
    counts: dict[str, Any] = {"numerator": len(evidenced), "denominator": len(shifts), "measures": measures}
    if not evidenced:
        text = f"No shift has the {th.min_evidence} practice quality ratings needed to compare shifts."
        return _result(key, Rag.insufficient_evidence, threshold, text, **counts)
    missing = [s for s in shifts if s not in evidenced]
    if missing:
        best = max(evidenced, key=lambda s: quality[s][0])
        gaps = join_names(f"{s} ({quality[s][0]} ratings)" for s in missing)
        text = (
            f"Practice is evidenced on {join_names(evidenced)} shifts ({quality[best][0]} ratings on {best}) "
            f"but not on {gaps}."
        )
        return _result(key, Rag.red, threshold, text, **counts)
    means = {s: Fraction(quality[s][1], quality[s][0]) for s in shifts}
    best = max(shifts, key=lambda s: (means[s], s))
    worst = min(shifts, key=lambda s: (means[s], s))
    gap = means[best] - means[worst]
    text = (
        f"Mean practice quality ranges from {display(means[worst], 1)} ({worst}) to "
        f"{display(means[best], 1)} ({best}), a gap of {display(gap, 2)} points."
    )
    rag = rate_at_most(gap, th.green, th.amber)
    return _result(key, rag, threshold, text, value=display(gap, 2), **counts)


def audit_stability(runs: Iterable[AuditRun], th: AuditStabilityThresholds) -> IndicatorResult:
    """Audits in the window, one run per service: their mean, the largest drop between consecutive
    audits of a service, and whether a service's last three audits each scored lower than the one
    before (two services' audits interleaved are not a sequence)."""
    key = IndicatorKey.audit_stability
    threshold = dumped(th)
    runs = list(runs)
    count = sum(r.count for r in runs)
    if count < th.min_evidence:
        text = f"{count} audits in the window; at least {th.min_evidence} are needed to judge stability."
        return _result(key, Rag.insufficient_evidence, threshold, text, denominator=count)
    total = Fraction(sum(r.total for r in runs), 100)
    mean = total / count
    drop = Fraction(max(r.max_drop for r in runs), 100)
    falling = any(len(r.last) == 3 and r.last[0] > r.last[1] > r.last[2] for r in runs)
    measures = {"max_drop": display(drop, 2), "falling_trend": falling, "audits": count}
    if mean < exact(th.amber) or drop > exact(th.amber_max_drop):
        rag = Rag.red
    elif mean >= exact(th.green) and drop <= exact(th.max_drop) and not falling:
        rag = Rag.green
    else:
        rag = Rag.amber
    text = (
        f"The last {count} audits averaged {display(mean, 1)}%, "
        f"with a largest drop of {display(drop, 1)} points between consecutive audits"
    )
    text += " and three falling results in a row." if falling else "."
    return _result(
        key, rag, threshold, text,
        value=display(mean, 2), numerator=display(total, 2), denominator=count, measures=measures,
    )  # fmt: skip


def incident_learning(
    reviewed: int, eligible: int, incidents: int, pending: int, th: IncidentLearningThresholds
) -> IndicatorResult:
    """Incidents followed within 14 days by a review tied to the innovation that captured learning.

    `pending` incidents are still inside their review period with no review yet: they count neither
    way until the period ends.
    """
    key = IndicatorKey.incident_learning
    threshold = dumped(th) | {"review_within_days": REVIEW_WITHIN_DAYS}
    measures = {"incidents": incidents, "pending": pending}
    if incidents == 0:
        text = "No incidents were recorded in the window."
        return _result(
            key, Rag.not_applicable, threshold, text, numerator=0, denominator=0, measures=measures
        )
    if eligible == 0:
        text = (
            f"All {incidents} incidents in the window are still within their {REVIEW_WITHIN_DAYS}-day "
            "review period."
        )
        return _result(
            key, Rag.insufficient_evidence, threshold, text, numerator=0, denominator=0, measures=measures
        )
    share = Fraction(reviewed, eligible)
    text = (
        f"{reviewed} of {eligible} incidents ({percent(share)}) were followed within {REVIEW_WITHIN_DAYS} "
        "days by a review that captured learning on it"
    )
    text += f"; {pending} more are within their review period." if pending else "."
    rag = rate_at_least(share, th.green, th.amber)
    return _result(
        key, rag, threshold, text,
        value=display(share), numerator=reviewed, denominator=eligible, measures=measures,
    )  # fmt: skip


def person_independence(
    top: int, attributed: int, contributors: int, active: int, th: PersonIndependenceThresholds
) -> IndicatorResult:
    """The largest single contributor's share, and the share of active staff contributing at all."""
    key = IndicatorKey.person_independence
    threshold = dumped(th)
    measures: dict[str, Any] = {"contributing_staff": contributors, "active_staff": active}
    if attributed < th.min_evidence or active == 0:
        text = (
            f"Only {attributed} referencing touchpoints name who recorded them; at least "
            f"{th.min_evidence} are needed."
            if attributed < th.min_evidence
            else "No staff were active in the services in scope during the window."
        )
        return _result(
            key, Rag.insufficient_evidence, threshold, text,
            numerator=top, denominator=attributed, measures=measures,
        )  # fmt: skip
    top_share = Fraction(top, attributed)
    contributing_staff = min(contributors, active)
    contributing = Fraction(contributing_staff, active)
    measures["contributing_share"] = display(contributing)
    too_concentrated = top_share > exact(th.top_share_amber)
    too_few = contributing < exact(th.contributing_amber)
    spread = top_share <= exact(th.top_share_green)
    enough = contributing >= exact(th.contributing_green)
    rag = Rag.red if too_concentrated or too_few else Rag.green if spread and enough else Rag.amber
    text = (
        f"The most active member of staff recorded {percent(top_share)} of {attributed} referencing "
        f"touchpoints; {contributing_staff} of {active} active staff ({percent(contributing)}) contributed."
    )
    return _result(
        key, rag, threshold, text,
        value=display(top_share), numerator=top, denominator=attributed, measures=measures,
    )  # fmt: skip


def turnover_resilience(
    met: int, eligible: int, pending: int, starters: int, th: TurnoverResilienceThresholds
) -> IndicatorResult:
    """New starters since the innovation began, inducted on it in 30 days and competent in 60."""
    key = IndicatorKey.turnover_resilience
    threshold = dumped(th) | {
        "induction_within_days": INDUCTION_WITHIN_DAYS,
        "competency_within_days": COMPETENCY_WITHIN_DAYS,
    }
    measures = {"new_starters": starters, "pending": pending}
    if starters == 0:
        text = "No staff have started in the services in scope since the innovation began."
        return _result(
            key, Rag.not_applicable, threshold, text, numerator=0, denominator=0, measures=measures
        )
    if eligible == 0:
        text = f"All {starters} new starters are still within their first {COMPETENCY_WITHIN_DAYS} days."
        return _result(
            key, Rag.insufficient_evidence, threshold, text, numerator=0, denominator=0, measures=measures
        )
    share = Fraction(met, eligible)
    text = (
        f"{met} of {eligible} new starters since the innovation began ({percent(share)}) were inducted or "
        f"shadowed on it within {INDUCTION_WITHIN_DAYS} days and passed a competency check within "
        f"{COMPETENCY_WITHIN_DAYS} days"
    )
    text += f"; {pending} more are still in their first {COMPETENCY_WITHIN_DAYS} days." if pending else "."
    rag = rate_at_least(share, th.green, th.amber)
    return _result(
        key,
        rag,
        threshold,
        text,
        value=display(share),
        numerator=met,
        denominator=eligible,
        measures=measures,
    )
