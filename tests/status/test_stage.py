"""The stage rules and their precedence."""

from dataclasses import replace

from service.status.evaluation.stage import StageFacts, decide_stage
from service.status.vocabulary import Rag, Stage

CORE = ("care_records", "team_communication", "supervision", "quality_assurance")

EMBEDDING = StageFacts(
    ever_referenced=True,
    core_systems_referenced=CORE,
    services_in_scope=2,
    services_referenced=2,
    person_independence=Rag.green,
    green_run=0,
    green_run_has_turnover=False,
    was_embedding=False,
    silent_core_systems=(),
    drift_flagged=(),
    not_green=("audit_stability",),
)


def stage(facts: StageFacts) -> Stage:
    return decide_stage(facts)[0]


def test_not_started_wins_over_everything() -> None:
    assert stage(replace(EMBEDDING, ever_referenced=False, was_embedding=True)) is Stage.not_started


def test_pilot_conditions() -> None:
    assert stage(replace(EMBEDDING, core_systems_referenced=("care_records",))) is Stage.pilot
    assert stage(replace(EMBEDDING, core_systems_referenced=())) is Stage.pilot
    assert stage(replace(EMBEDDING, services_referenced=1)) is Stage.pilot
    assert stage(replace(EMBEDDING, services_in_scope=1, services_referenced=1)) is Stage.embedding
    stage_, reasons = decide_stage(replace(EMBEDDING, person_independence=Rag.red))
    assert stage_ is Stage.pilot
    assert reasons[0].indicators == ("person_independence",)


def test_embedded_needs_three_green_months_including_turnover() -> None:
    green = replace(EMBEDDING, not_green=(), green_run=3, green_run_has_turnover=True)
    assert stage(green) is Stage.embedded
    assert stage(replace(green, green_run=2)) is Stage.embedding
    assert stage(replace(green, green_run_has_turnover=False)) is Stage.embedding
    # Pilot conditions come first: a green run held by one person is still a pilot.
    assert stage(replace(green, person_independence=Rag.red)) is Stage.pilot


def test_fading_and_at_risk_need_an_embedding_past() -> None:
    silent = replace(EMBEDDING, silent_core_systems=("supervision", "quality_assurance"))
    assert stage(silent) is Stage.embedding
    assert stage(replace(silent, was_embedding=True)) is Stage.fading
    drifting = replace(EMBEDDING, drift_flagged=("understanding_why", "reference_frequency"))
    assert stage(drifting) is Stage.embedding
    assert stage(replace(drifting, was_embedding=True)) is Stage.at_risk
    assert (
        stage(replace(drifting, was_embedding=True, drift_flagged=("understanding_why",))) is Stage.embedding
    )


def test_precedence_fading_then_at_risk_then_pilot() -> None:
    everything = replace(
        EMBEDDING,
        was_embedding=True,
        silent_core_systems=("supervision", "quality_assurance"),
        drift_flagged=("a", "b"),
        person_independence=Rag.red,
    )
    assert stage(everything) is Stage.fading
    assert stage(replace(everything, silent_core_systems=("supervision",))) is Stage.at_risk
    assert stage(replace(everything, silent_core_systems=(), drift_flagged=())) is Stage.pilot


def test_every_stage_has_reasons() -> None:
    for facts in (
        EMBEDDING,
        replace(EMBEDDING, ever_referenced=False),
        replace(EMBEDDING, services_referenced=1),
    ):
        stage_, reasons = decide_stage(facts)
        assert reasons and all(r.explanation for r in reasons), stage_
