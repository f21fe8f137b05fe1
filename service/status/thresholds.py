"""Indicator thresholds: DOMAIN.md's defaults, a provider's own defaults, an innovation's overrides.

Effective thresholds = defaults, overlaid by the provider's, overlaid by the innovation's. Every
override is validated against the merged result, so a quality lead cannot make amber stricter
than green by changing only one of the two.
"""

from typing import Annotated, Any

from pydantic import ConfigDict, Field, ValidationError

from service.errors import InvalidInput, invalid_from_pydantic
from service.input_model import ApiInput

Share = Annotated[float, Field(ge=0, le=1)]
Percent = Annotated[float, Field(ge=0, le=100)]
ScaleGap = Annotated[float, Field(ge=0, le=4, description="Points on the 1–5 practice quality scale.")]
MinEvidence = Annotated[int, Field(ge=1, le=10_000)]


class _Strict(ApiInput):
    # Frozen: thresholds are values, safe to share and to use as cache keys.
    model_config = ConfigDict(extra="forbid", frozen=True)


class SystemVisibilityThresholds(_Strict):
    green: int = Field(default=4, ge=1, le=4, description="Core systems visible for green.")
    amber: int = Field(default=2, ge=1, le=4, description="Core systems visible for amber.")


class SupervisionReinforcementThresholds(_Strict):
    green: Share = 0.8
    amber: Share = 0.5
    min_evidence: MinEvidence = Field(default=3, description="Supervisions needed for a rating.")


class UnderstandingWhyThresholds(_Strict):
    green: Share = 0.8
    amber: Share = 0.6
    min_evidence: MinEvidence = Field(default=5, description="Assessments needed for a rating.")


class ShiftConsistencyThresholds(_Strict):
    green: ScaleGap = 0.5
    amber: ScaleGap = 1.0
    min_evidence: MinEvidence = Field(default=3, description="Quality ratings needed on each shift.")


class AuditStabilityThresholds(_Strict):
    green: Percent = Field(default=80, description="Mean audit score (%) for green.")
    amber: Percent = Field(default=70, description="Mean audit score (%) below which it is red.")
    max_drop: Percent = Field(default=10, description="Largest drop between consecutive audits for green.")
    amber_max_drop: Percent = Field(default=20, description="A larger drop than this is red.")
    min_evidence: int = Field(default=3, ge=2, le=100, description="Audits needed for a rating.")


class IncidentLearningThresholds(_Strict):
    green: Share = 0.8
    amber: Share = 0.5


class PersonIndependenceThresholds(_Strict):
    top_share_green: Share = Field(default=0.25, description="Largest contributor share for green.")
    top_share_amber: Share = Field(default=0.5, description="Largest contributor share for amber.")
    contributing_green: Share = Field(default=0.5, description="Share of active staff contributing.")
    contributing_amber: Share = Field(default=0.25, description="Share of active staff contributing.")
    min_evidence: MinEvidence = Field(default=10, description="Attributed touchpoints needed.")


class TurnoverResilienceThresholds(_Strict):
    green: Share = 0.9
    amber: Share = 0.7


class DriftThresholds(_Strict):
    reference_fall: Share = Field(
        default=0.5, description="Fall in a core system's reference rate against the previous window."
    )
    min_evidence: MinEvidence = Field(default=5, description="References needed in the previous window.")


class Thresholds(_Strict):
    """The thresholds a status was judged against."""

    system_visibility: SystemVisibilityThresholds = SystemVisibilityThresholds()
    supervision_reinforcement: SupervisionReinforcementThresholds = SupervisionReinforcementThresholds()
    understanding_why: UnderstandingWhyThresholds = UnderstandingWhyThresholds()
    shift_consistency: ShiftConsistencyThresholds = ShiftConsistencyThresholds()
    audit_stability: AuditStabilityThresholds = AuditStabilityThresholds()
    incident_learning: IncidentLearningThresholds = IncidentLearningThresholds()
    person_independence: PersonIndependenceThresholds = PersonIndependenceThresholds()
    turnover_resilience: TurnoverResilienceThresholds = TurnoverResilienceThresholds()
    drift: DriftThresholds = DriftThresholds()


OptionalShare = Annotated[float | None, Field(ge=0, le=1)]
OptionalPercent = Annotated[float | None, Field(ge=0, le=100)]
OptionalGap = Annotated[float | None, Field(ge=0, le=4)]
OptionalMin = Annotated[int | None, Field(ge=1, le=10_000)]


class SystemVisibilityOverride(_Strict):
    green: int | None = Field(default=None, ge=1, le=4)
    amber: int | None = Field(default=None, ge=1, le=4)


class ShareOverride(_Strict):
    green: OptionalShare = None
    amber: OptionalShare = None


class ShareWithEvidenceOverride(ShareOverride):
    min_evidence: OptionalMin = None


class ShiftConsistencyOverride(_Strict):
    green: OptionalGap = None
    amber: OptionalGap = None
    min_evidence: OptionalMin = None


class AuditStabilityOverride(_Strict):
    green: OptionalPercent = None
    amber: OptionalPercent = None
    max_drop: OptionalPercent = None
    amber_max_drop: OptionalPercent = None
    min_evidence: int | None = Field(default=None, ge=2, le=100)


class PersonIndependenceOverride(_Strict):
    top_share_green: OptionalShare = None
    top_share_amber: OptionalShare = None
    contributing_green: OptionalShare = None
    contributing_amber: OptionalShare = None
    min_evidence: OptionalMin = None


class DriftOverride(_Strict):
    reference_fall: OptionalShare = None
    min_evidence: OptionalMin = None


class ThresholdOverrides(_Strict):
    """Only the thresholds that differ from what is inherited; everything left out is inherited."""

    system_visibility: SystemVisibilityOverride | None = None
    supervision_reinforcement: ShareWithEvidenceOverride | None = None
    understanding_why: ShareWithEvidenceOverride | None = None
    shift_consistency: ShiftConsistencyOverride | None = None
    audit_stability: AuditStabilityOverride | None = None
    incident_learning: ShareOverride | None = None
    person_independence: PersonIndependenceOverride | None = None
    turnover_resilience: ShareOverride | None = None
    drift: DriftOverride | None = None


# (section, field that should be stricter, the other, True when higher is stricter)
_ORDERINGS: tuple[tuple[str, str, str, bool], ...] = (
    ("system_visibility", "green", "amber", True),
    ("supervision_reinforcement", "green", "amber", True),
    ("understanding_why", "green", "amber", True),
    ("shift_consistency", "green", "amber", False),
    ("audit_stability", "green", "amber", True),
    ("audit_stability", "max_drop", "amber_max_drop", False),
    ("incident_learning", "green", "amber", True),
    ("person_independence", "top_share_green", "top_share_amber", False),
    ("person_independence", "contributing_green", "contributing_amber", True),
    ("turnover_resilience", "green", "amber", True),
)


def _merge(base: dict[str, Any], overlay: dict[str, Any] | None) -> dict[str, Any]:
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for section, values in (overlay or {}).items():
        if isinstance(values, dict) and isinstance(out.get(section), dict):
            out[section].update({k: v for k, v in values.items() if v is not None})
        elif values is not None:
            out[section] = values
    return out


def validate_overrides(raw: dict[str, Any] | None, *, prefix: str = "") -> dict[str, Any]:
    """Check an override document's shape (unknown keys refused by name); drop unset fields."""
    try:
        parsed = ThresholdOverrides.model_validate(raw or {})
    except ValidationError as exc:
        raise invalid_from_pydantic(exc, (prefix,) if prefix else ()) from exc
    return parsed.model_dump(exclude_none=True)


def effective_thresholds(
    provider: dict[str, Any] | None, innovation: dict[str, Any] | None, *, prefix: str = ""
) -> Thresholds:
    """Defaults ← provider ← innovation, validated as a whole (green stricter than amber)."""
    merged = _merge(_merge(Thresholds().model_dump(), provider), innovation)
    try:
        thresholds = Thresholds.model_validate(merged)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc, (prefix,) if prefix else ()) from exc
    errors = []
    for section, strict_name, loose_name, higher_is_stricter in _ORDERINGS:
        values = getattr(thresholds, section)
        strict, loose = getattr(values, strict_name), getattr(values, loose_name)
        ok = strict > loose if higher_is_stricter else strict < loose
        if not ok:
            relation = "above" if higher_is_stricter else "below"
            path = f"{prefix}.{section}.{strict_name}" if prefix else f"{section}.{strict_name}"
            errors.append(
                {
                    "field": path,
                    "rule": "stricter_than_amber",
                    "message": f"{section}.{strict_name} ({strict}) must be {relation} "
                    f"{section}.{loose_name} ({loose})",
                }
            )
    if errors:
        raise InvalidInput(f"{errors[0]['field']}: {errors[0]['message']}", errors=errors)
    return thresholds


def sources(provider: dict[str, Any] | None, innovation: dict[str, Any] | None) -> dict[str, str]:
    """Where each section's values came from: the innovation, the provider, or the defaults."""
    out = {}
    for section in Thresholds.model_fields:
        if (innovation or {}).get(section):
            out[section] = "innovation"
        elif (provider or {}).get(section):
            out[section] = "provider"
        else:
            out[section] = "default"
    return out
