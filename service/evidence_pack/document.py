"""The evidence pack as a printable HTML document (A4), from `templates/pack.html.j2`.

Everything the provider typed (the innovation's name, summary and why, service names) goes
through Jinja's autoescaping; the only markup passed through is the SVG the charts module drew.
The page carries its own CSS and no script, so it renders the same offline, printed or archived.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from service.disclosure import is_suppressed
from service.evidence_pack.charts import SCALES, indicator_chart, threshold_lines
from service.evidence_pack.levers import Lever
from service.evidence_pack.service import EvidencePack
from service.status.schemas import IndicatorPublic
from service.status.vocabulary import IndicatorKey, Rag, Stage

TEMPLATES = Path(__file__).with_name("templates")

INDICATOR_NAMES = {
    IndicatorKey.system_visibility: "Visible in the systems that shape daily delivery",
    IndicatorKey.supervision_reinforcement: "Reinforced in supervision",
    IndicatorKey.understanding_why: "Staff explain why, not only what",
    IndicatorKey.shift_consistency: "Consistent across shifts",
    IndicatorKey.audit_stability: "Audit results stable over time",
    IndicatorKey.incident_learning: "Learning captured through incidents and reviews",
    IndicatorKey.person_independence: "Not dependent on specific individuals",
    IndicatorKey.turnover_resilience: "Survives staff turnover",
}
# What each indicator's numerator and denominator count.
COUNT_NAMES = {
    IndicatorKey.system_visibility: ("Core systems referencing it in 2 of the last 3 months", "Core systems"),
    IndicatorKey.supervision_reinforcement: ("Supervisions that discussed it", "Supervisions in scope"),
    IndicatorKey.understanding_why: ("Assessments where staff explained why", "Assessments"),
    IndicatorKey.shift_consistency: ("Shifts with enough quality ratings", "Shifts operated"),
    IndicatorKey.audit_stability: ("Audit scores added up (%)", "Audits"),
    IndicatorKey.incident_learning: (
        "Incidents followed by a review that captured learning",
        "Incidents due a review",
    ),
    IndicatorKey.person_independence: (
        "Touchpoints recorded by the most active member of staff",
        "Referencing touchpoints naming who recorded them",
    ),
    IndicatorKey.turnover_resilience: ("New starters inducted and competent in time", "New starters due"),
}
RAG_NAMES = {
    Rag.green: "Green",
    Rag.amber: "Amber",
    Rag.red: "Red",
    Rag.insufficient_evidence: "Insufficient evidence",
    Rag.not_applicable: "Not applicable",
}
STAGE_NAMES = {
    Stage.not_started: "Not started",
    Stage.pilot: "Pilot",
    Stage.embedding: "Embedding",
    Stage.embedded: "Embedded",
    Stage.at_risk: "At risk",
    Stage.fading: "Fading",
}
KEY_QUESTIONS = {
    "safe": "Safe",
    "effective": "Effective",
    "caring": "Caring",
    "responsive": "Responsive",
    "well_led": "Well-led",
}
WITHHELD = "withheld"


@dataclass(frozen=True, slots=True)
class Count:
    name: str
    shown: str


@dataclass(frozen=True, slots=True)
class IndicatorView:
    key: str
    name: str
    rag: str
    rag_name: str
    value: str
    counts: tuple[Count, Count]
    thresholds: list[str]
    explanation: str
    chart: Markup
    quality_statements: list[str]
    evidence_categories: list[str]
    levers: tuple[Lever, ...]


@dataclass(frozen=True, slots=True)
class MonthView:
    month: str
    stage: str
    stage_name: str


def _number(value: Any) -> str:
    if is_suppressed(value):
        return WITHHELD
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def _value(indicator: IndicatorPublic) -> str:
    if indicator.value is not None:
        return SCALES[indicator.key].text(indicator.value)
    if is_suppressed(indicator.numerator) or is_suppressed(indicator.denominator):
        return "withheld (small counts)"
    return "—"


def _percent(share: Any) -> str:
    return f"{float(share) * 100:.0f}%"


def threshold_notes(key: IndicatorKey, threshold: dict[str, Any]) -> list[str]:
    """The thresholds a rating was judged against, in words: green and amber first."""
    scale = SCALES[key]
    green, amber = threshold_lines(key, threshold)
    notes = []
    if green is not None and amber is not None:
        notes.append(f"Green {scale.bound(green)}; amber {scale.bound(amber)}; red otherwise.")
    if "contributing_green" in threshold and "contributing_amber" in threshold:
        notes.append(
            f"Active staff contributing: green ≥ {_percent(threshold['contributing_green'])}, "
            f"amber ≥ {_percent(threshold['contributing_amber'])}."
        )
    if "max_drop" in threshold and "amber_max_drop" in threshold:
        notes.append(
            f"Largest drop between consecutive audits: green ≤ {threshold['max_drop']:g} points, "
            f"amber ≤ {threshold['amber_max_drop']:g} points; no falling trend for green."
        )
    if "months_required" in threshold and "of_months" in threshold:
        notes.append(
            f"A system counts when it referenced the innovation in {threshold['months_required']} "
            f"of the last {threshold['of_months']} months."
        )
    if "review_within_days" in threshold:
        notes.append(f"A review counts within {threshold['review_within_days']} days of the incident.")
    if "induction_within_days" in threshold and "competency_within_days" in threshold:
        notes.append(
            f"Inducted or shadowed within {threshold['induction_within_days']} days, competency "
            f"passed within {threshold['competency_within_days']} days."
        )
    if "min_evidence" in threshold:
        notes.append(f"At least {threshold['min_evidence']} pieces of evidence are needed for a rating.")
    return notes


def _indicator(pack: EvidencePack, indicator: IndicatorPublic) -> IndicatorView:
    key = indicator.key
    months, values, rags = [], [], []
    for point in pack.history.months:
        found = next((i for i in point.indicators if i.key == key), None)
        months.append(point.month)
        values.append(found.value if found else None)
        rags.append(found.rag if found else Rag.insufficient_evidence)
    name = INDICATOR_NAMES[key]
    chart = indicator_chart(
        key,
        label=f"{name}: monthly value against its green and amber thresholds",
        months=months,
        values=values,
        rags=rags,
        threshold=indicator.threshold,
    )
    numerator_name, denominator_name = COUNT_NAMES[key]
    return IndicatorView(
        key=key.value,
        name=name,
        rag=indicator.rag.value,
        rag_name=RAG_NAMES[indicator.rag],
        value=_value(indicator),
        counts=(
            Count(numerator_name, _number(indicator.numerator)),
            Count(denominator_name, _number(indicator.denominator)),
        ),
        thresholds=threshold_notes(key, indicator.threshold),
        explanation=indicator.explanation,
        chart=Markup(chart),  # noqa: S704 - pygal's own serialisation of a tree we built, scripts removed
        quality_statements=[
            f"{KEY_QUESTIONS.get(q.key_question, q.key_question)}: {q.statement}"
            for q in indicator.cqc.quality_statements
        ],
        evidence_categories=[c.replace("_", " ").capitalize() for c in indicator.cqc.evidence_categories],
        levers=pack.next_steps.get(key, ()),
    )


def _month(value: date) -> str:
    return value.strftime("%b %y")


def _moment(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC") if value else ""


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_pack(pack: EvidencePack) -> str:
    """The pack as one HTML document."""
    status = pack.status
    indicators = [_indicator(pack, i) for i in status.indicators]
    timeline = [MonthView(_month(p.month), p.stage.value, STAGE_NAMES[p.stage]) for p in pack.history.months]
    template = _environment().get_template("pack.html.j2")
    return template.render(
        details=pack.details,
        scope_level="Service" if pack.service_id else "Provider (all services in scope)",
        service_names=pack.service_names,
        status=status,
        stage_name=STAGE_NAMES[status.stage],
        as_of=_moment(status.as_of),
        window_start=_moment(status.window_start),
        window_end=_moment(status.window_end),
        computed_at=_moment(status.computed_at),
        started_on=pack.details.started_on.strftime("%d %b %Y"),
        timeline=timeline,
        indicators=indicators,
        needing_action=[i for i in indicators if i.levers],
        levers_source=pack.levers_source,
        suppressed_counts=status.suppressed_counts,
    )
