"""The counting rules of a status, each stated once: its constant, and its SQL where the database counts.

What one touchpoint adds to the monthly counts is written as SQL over a touchpoint `t` and its
service `s`. The status reads the month containing `as_of` with these expressions, straight from the
raw rows. Migration 0002 keeps a frozen copy of the same expressions in the triggers that maintain
the rollups of every other month; the property test in tests/status checks the two agree with an
independent computation in Python (service.status.evaluation.recount), which reads the constants
here but none of the SQL.
"""

from datetime import timedelta

from service.status.evaluation.inputs import INCIDENT_REVIEW_FIELDS, INNOVATION_FIELDS, SERVICE_FIELDS
from service.vocabulary import CORE_SYSTEMS, DeliverySystem, Shift

CORE_SYSTEM_VALUES: tuple[str, ...] = tuple(s.value for s in CORE_SYSTEMS)
SHIFTS: tuple[str, ...] = tuple(s.value for s in Shift)

LOCAL = "(t.occurred_at AT TIME ZONE s.timezone)"
MONTH = f"date_trunc('month', {LOCAL})::date"
MONTH_END = f"((date_trunc('month', {LOCAL}) + interval '1 month') AT TIME ZONE s.timezone)"

# -- incidents and their reviews ---------------------------------------------------------------------

# How long a review may follow its incident. DOMAIN.md fixes it; the quality lead tunes ratings, not
# the clock.
REVIEW_WITHIN_DAYS = 14
REVIEW_WINDOW = timedelta(days=REVIEW_WITHIN_DAYS)
# Intervals in hours, not days: `+ interval '14 days'` would follow the session's clock changes.
REVIEW_INTERVAL = f"interval '{REVIEW_WITHIN_DAYS * 24} hours'"
# A review `v` of incident `t` that counts as the incident's learning: it captured learning, within the
# review window from the incident (which innovation it is tied to is each reader's own condition).
LEARNING_REVIEW = (
    "v.kind = 'post_incident_review' AND v.learning_captured IS TRUE "
    f"AND v.occurred_at >= t.occurred_at AND v.occurred_at <= t.occurred_at + {REVIEW_INTERVAL}"
)

# -- understanding why and practice quality ----------------------------------------------------------

# The touchpoints that assess whether staff can explain why (understanding_why).
ASSESSMENT_KINDS = frozenset({"supervision", "practice_observation", "competency_check"})
ASSESSMENT = "t.kind IN (" + ", ".join(f"'{kind}'" for kind in sorted(ASSESSMENT_KINDS)) + ")"
# Practice quality on the 1-5 scale: an observation's score, a daily note's engagement quality.
QUALITY = (
    "(CASE t.kind WHEN 'practice_observation' THEN t.score WHEN 'daily_note' THEN t.engagement_quality END)"
)

# -- staff voice (NoMAD) -----------------------------------------------------------------------------

NOMAD_CONSTRUCTS: dict[str, tuple[str, ...]] = {
    "coherence": ("c1", "c2", "c3", "c4"),
    "cognitive_participation": ("cp1", "cp2", "cp3", "cp4"),
    "collective_action": ("ca1", "ca2", "ca3", "ca4", "ca5", "ca6", "ca7"),
    "reflexive_monitoring": ("rm1", "rm2", "rm3", "rm4", "rm5"),
}
NOMAD_REVERSED_ITEMS = frozenset({"ca2"})
NOMAD_GENERAL_ITEMS = ("familiar", "normal_now", "normal_future")
# NoMAD's general item at or above which a respondent says the innovation is already normal work.
NORMAL_NOW_HIGH = 7
SURVEY = "t.kind = 'staff_survey'"

_NOMAD_PATTERNS = {name: "^(" + "|".join(items) + ")$" for name, items in NOMAD_CONSTRUCTS.items()}


def _nomad_answers(construct: str, measure: str) -> str:
    reversed_items = ", ".join(f"'{i}'" for i in sorted(NOMAD_REVERSED_ITEMS))
    value = f"CASE WHEN e.key IN ({reversed_items}) THEN 6 - (e.value)::int ELSE (e.value)::int END"
    aggregate = "count(*)" if measure == "n" else f"coalesce(sum({value}), 0)"
    answers = (
        f"SELECT {aggregate} FROM jsonb_each(t.facts -> 'items') AS e "  # noqa: S608 - constant SQL
        f"WHERE e.key ~ '{_NOMAD_PATTERNS[construct]}' AND jsonb_typeof(e.value) = 'number'"
    )
    return f"(CASE WHEN {SURVEY} THEN ({answers}) ELSE 0 END)"


def _general(item: str, measure: str) -> str:
    path = f"(t.facts -> 'general' -> '{item}')"
    answered = f"{SURVEY} AND jsonb_typeof({path}) = 'number'"
    if measure == "n":
        return f"({answered})::int"
    if measure == "high":
        return f"({answered} AND ({path})::int >= {NORMAL_NOW_HIGH})::int"
    return f"(CASE WHEN {answered} THEN ({path})::int ELSE 0 END)"


def _innovation_expressions() -> dict[str, str]:
    out = {"refs_total": "1"}
    for system in DeliverySystem:
        out[f"refs_{system.value}"] = f"(t.system = '{system.value}')::int"
    out["referencing_supervisions"] = "(t.kind = 'supervision')::int"
    out["why_assessed"] = f"({ASSESSMENT} AND t.explains_why IS NOT NULL)::int"
    out["why_explained"] = f"({ASSESSMENT} AND t.explains_why IS TRUE)::int"
    for shift in SHIFTS:
        out[f"quality_{shift}_n"] = f"(t.shift = '{shift}' AND {QUALITY} IS NOT NULL)::int"
        out[f"quality_{shift}_sum"] = (
            f"(CASE WHEN t.shift = '{shift}' THEN coalesce({QUALITY}, 0) ELSE 0 END)"
        )
    out["surveys"] = f"({SURVEY})::int"
    for construct in NOMAD_CONSTRUCTS:
        out[f"nomad_{construct}_n"] = _nomad_answers(construct, "n")
        out[f"nomad_{construct}_sum"] = _nomad_answers(construct, "sum")
    for item in ("familiar", "normal_now", "normal_future"):
        out[f"{item}_n"] = _general(item, "n")
        out[f"{item}_sum"] = _general(item, "sum")
    out["normal_now_high"] = _general("normal_now", "high")
    return out


INNOVATION_EXPRESSIONS: dict[str, str] = _innovation_expressions()
# The fields a touchpoint contributes by itself (the review fields depend on other touchpoints).
CONTRIBUTED_FIELDS: tuple[str, ...] = tuple(f for f in INNOVATION_FIELDS if f not in INCIDENT_REVIEW_FIELDS)
assert set(INNOVATION_EXPRESSIONS) == set(CONTRIBUTED_FIELDS), "every counted field needs an expression"

SERVICE_EXPRESSIONS: dict[str, str] = {
    "supervisions": "(t.kind = 'supervision')::int",
    "incidents": "(t.kind = 'incident')::int",
    "late_incidents": f"(t.kind = 'incident' AND t.occurred_at + {REVIEW_INTERVAL} > {MONTH_END})::int",
    "restrictive_interventions": "(t.kind = 'incident' AND t.restrictive_intervention IS TRUE)::int",
}
assert set(SERVICE_EXPRESSIONS) == set(SERVICE_FIELDS)


# -- new starters' steps and silence -----------------------------------------------------------------

# How long a new starter has for each step.
INDUCTION_WITHIN_DAYS = 30
COMPETENCY_WITHIN_DAYS = 60
# An induction may come before the first shift, but not by more than this.
EARLY_STEP_DAYS = 30
# A core system silent this long counts towards `fading`.
SILENCE_DAYS = 60
