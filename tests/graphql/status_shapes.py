"""The full GraphQL selection of a status, and its answer in REST's names and shapes."""

from datetime import datetime
from typing import Any

CQC = "cqc { qualityStatements { keyQuestion statement } evidenceCategories }"
INDICATOR = f"""key value numerator numeratorSuppressed denominator denominatorSuppressed rag threshold
  explanation measures evidence {CQC}"""
DRIFT = f"""flagged signals {{ key kind system previous current explanation }}
  previousWindowStart previousWindowEnd explanation {CQC}"""
THRESHOLDS = """thresholds {
  systemVisibility { green amber }
  supervisionReinforcement { green amber minEvidence }
  understandingWhy { green amber minEvidence }
  shiftConsistency { green amber minEvidence }
  auditStability { green amber maxDrop amberMaxDrop minEvidence }
  incidentLearning { green amber }
  personIndependence { topShareGreen topShareAmber contributingGreen contributingAmber minEvidence }
  turnoverResilience { green amber }
  drift { referenceFall minEvidence }
}"""
STATUS = f"""innovationId innovationName organisationId serviceId scope {{ level serviceIds }}
  asOf knownAt windowDays period windowStart windowEnd stage
  stageReasons {{ rule indicators explanation }} monthsInStage
  indicators {{ {INDICATOR} }}
  context {{
    outcomes {{ months {{ month incidents incidentsSuppressed restrictiveInterventions
                          restrictiveInterventionsSuppressed }}
               incidentsPerMonth restrictiveInterventionsPerMonth baselineMonths baselineIncidentsPerMonth
               baselineRestrictiveInterventionsPerMonth explanation {CQC} }}
    staffVoice {{ responses responsesSuppressed constructs general normalNowShare normalNowRespondents
                 normalNowRespondentsSuppressed explanation {CQC} }}
    drift {{ {DRIFT} }}
  }}
  {THRESHOLDS} thresholdSources cqcFramework suppressedCounts computedAt"""

TIMES = {
    "as_of",
    "computed_at",
    "known_at",
    "window_start",
    "window_end",
    "previous_window_start",
    "previous_window_end",
    "changed_at",
}
# JSON values are kept as they are: their keys are REST's already.
OPAQUE = {"threshold", "measures", "constructs", "general", "threshold_sources"}


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _instant(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def as_rest(value: Any, key: str = "") -> Any:
    """A GraphQL answer in REST's shape: snake_case names, withheld counts as `{"suppressed": true}`."""
    if isinstance(value, list):
        return [as_rest(v, key) for v in value]
    if not isinstance(value, dict) or key in OPAQUE:
        return _instant(value) if key in TIMES else value
    out: dict[str, Any] = {}
    for name, item in value.items():
        field = snake(name)
        if field.endswith("_suppressed"):
            continue
        if value.get(f"{name}Suppressed"):
            out[field] = {"suppressed": True}
            continue
        out[field] = as_rest(item, field)
    return out


def rest_comparable(value: Any, key: str = "") -> Any:
    """A REST answer with its moments parsed, so equal instants compare equal."""
    if isinstance(value, list):
        return [rest_comparable(v, key) for v in value]
    if isinstance(value, dict) and key not in OPAQUE:
        return {k: rest_comparable(v, k) for k, v in value.items()}
    return _instant(value) if key in TIMES else value
