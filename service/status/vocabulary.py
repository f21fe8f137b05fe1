"""The status vocabulary: indicator keys, RAG ratings and stages (DOMAIN.md's names)."""

from enum import StrEnum


class IndicatorKey(StrEnum):
    system_visibility = "system_visibility"
    supervision_reinforcement = "supervision_reinforcement"
    understanding_why = "understanding_why"
    shift_consistency = "shift_consistency"
    audit_stability = "audit_stability"
    incident_learning = "incident_learning"
    person_independence = "person_independence"
    turnover_resilience = "turnover_resilience"


class Rag(StrEnum):
    green = "green"
    amber = "amber"
    red = "red"
    insufficient_evidence = "insufficient_evidence"
    not_applicable = "not_applicable"


class Stage(StrEnum):
    not_started = "not_started"
    pilot = "pilot"
    embedding = "embedding"
    embedded = "embedded"
    at_risk = "at_risk"
    fading = "fading"


# Every indicator gates `embedded`; outcomes, staff voice and drift are context.
GATING: tuple[IndicatorKey, ...] = tuple(IndicatorKey)
RATED = frozenset({Rag.green, Rag.amber, Rag.red})
RAG_RANK = {Rag.red: 0, Rag.amber: 1, Rag.green: 2}

# Periods, named the way indicator platforms (DHIS2) name them.
PERIOD_WINDOW = "LAST_{days}_DAYS"
PERIOD_MONTHLY = "MONTHLY"
