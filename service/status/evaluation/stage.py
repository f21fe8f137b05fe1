"""The stage rules, as DOMAIN.md states them, over facts already computed for one point.

Precedence: not_started, fading, at_risk, pilot, embedded, embedding — the first that fits wins.
"""

from dataclasses import dataclass

from service.status.evaluation.indicators import SYSTEM_NAMES, join_names
from service.status.vocabulary import IndicatorKey, Rag, Stage

EMBEDDED_MONTHS = 3


@dataclass(frozen=True, slots=True)
class StageReason:
    rule: str
    indicators: tuple[str, ...]
    explanation: str


@dataclass(frozen=True, slots=True)
class StageFacts:
    """What the stage rules look at, for one point of the monthly series."""

    ever_referenced: bool
    # Core systems with at least one referencing touchpoint in the window.
    core_systems_referenced: tuple[str, ...]
    services_in_scope: int
    services_referenced: int
    person_independence: Rag
    # Consecutive points, ending at this one, where every gating indicator is green or not applicable,
    # and whether a member of staff started or left in a month their windows cover.
    green_run: int
    green_run_has_turnover: bool
    # Whether an earlier point in the memory was embedding or embedded.
    was_embedding: bool
    # Core systems with no reference in any month overlapping the last 60 days.
    silent_core_systems: tuple[str, ...]
    drift_flagged: tuple[str, ...]
    # Gating indicators that are neither green nor not applicable here.
    not_green: tuple[str, ...]


def pilot_reasons(facts: StageFacts) -> list[StageReason]:
    """Why the innovation is still a pilot here, if it is (empty when it is not)."""
    reasons = []
    if len(facts.core_systems_referenced) <= 1:
        where = (
            f"only in {SYSTEM_NAMES[facts.core_systems_referenced[0]]}"
            if facts.core_systems_referenced
            else "in none of them"
        )
        reasons.append(
            StageReason(
                "at_most_one_core_system",
                (IndicatorKey.system_visibility.value,),
                f"Referenced in the window {where} of the four core systems.",
            )
        )
    if facts.services_in_scope >= 2 and facts.services_referenced <= 1:
        reasons.append(
            StageReason(
                "one_service_of_several",
                (),
                f"Referenced in {facts.services_referenced} of the {facts.services_in_scope} services "
                "in scope.",
            )
        )
    if facts.person_independence is Rag.red:
        reasons.append(
            StageReason(
                "dependent_on_individuals",
                (IndicatorKey.person_independence.value,),
                "Depends on specific individuals: person_independence is red.",
            )
        )
    return reasons


def is_past_pilot(facts: StageFacts) -> bool:
    """Referenced and not held at pilot: the stage would be embedding or embedded."""
    return facts.ever_referenced and not pilot_reasons(facts)


def decide_stage(facts: StageFacts) -> tuple[Stage, list[StageReason]]:
    if not facts.ever_referenced:
        return Stage.not_started, [
            StageReason("no_references", (), "No touchpoint has referenced the innovation yet.")
        ]
    if facts.was_embedding and len(facts.silent_core_systems) >= 2:
        return Stage.fading, [
            StageReason(
                "core_systems_silent",
                (IndicatorKey.system_visibility.value,),
                f"It was embedding, and {join_names(SYSTEM_NAMES[s] for s in facts.silent_core_systems)} "
                "have had no reference for at least 60 days.",
            )
        ]
    if facts.was_embedding and len(facts.drift_flagged) >= 2:
        return Stage.at_risk, [
            StageReason(
                "drift",
                facts.drift_flagged,
                f"It was embedding, and drift is flagged on {len(facts.drift_flagged)}: "
                f"{', '.join(facts.drift_flagged)}.",
            )
        ]
    reasons = pilot_reasons(facts)
    if reasons:
        return Stage.pilot, reasons
    if facts.green_run >= EMBEDDED_MONTHS and facts.green_run_has_turnover:
        return Stage.embedded, [
            StageReason(
                "green_through_turnover",
                (),
                f"Every gating indicator has been green or not applicable for {facts.green_run} consecutive "
                "months, including a month when staff started or left.",
            )
        ]
    systems = join_names(SYSTEM_NAMES[s] for s in facts.core_systems_referenced)
    if facts.not_green:
        why = f"not yet green: {', '.join(facts.not_green)}"
        indicators = facts.not_green
    elif facts.green_run < EMBEDDED_MONTHS:
        why = f"all green, but for {facts.green_run} of the {EMBEDDED_MONTHS} consecutive months needed"
        indicators = ()
    else:
        why = "all green, but no staff started or left during those months to show it survives turnover"
        indicators = ()
    return Stage.embedding, [
        StageReason("visible_not_yet_embedded", indicators, f"Visible in {systems}; {why}.")
    ]
