"""The facts of each touchpoint kind for the status benchmark, as the kind's model serialises them.

Built as JSON text directly (compact, keys in the models' field order), with the typed fact columns
beside them; tests/bench/test_status_bench_loader.py checks them against the service's own models.
"""

import random
import uuid
from typing import Any

ACTIVITIES = (
    "Garden walk", "Baking scones", "Music and movement", "Reminiscence with photographs",
    "Trip to the shops", "Board games in the lounge", "Hand massage", "Helping to lay the table",
)  # fmt: skip
NOTE_TEXTS = (
    "Chose to join in after being offered a choice before lunch.",
    "Engaged well, smiling and talking about the old days.",
    "Needed encouragement at first; settled once the music began.",
    "Declined at first, then asked to join after seeing others enjoying it.",
    "Used the communication card to choose what came next.",
    "Spoke about family visits and looked forward to the weekend.",
)
INCIDENT_TEXTS = (
    "Became distressed in the lounge when it got noisy; supported to a quieter room.",
    "Unwitnessed fall in the bedroom; no injury found, observations started.",
    "Verbal aggression towards another resident at tea time; staff intervened.",
)
AUDIT_TOOLS = ("Mealtime experience audit", "Care plan audit", "Medication audit", "Engagement audit")
NOMAD_ITEMS = tuple(
    [f"c{n}" for n in range(1, 5)]
    + [f"cp{n}" for n in range(1, 5)]
    + [f"ca{n}" for n in range(1, 8)]
    + [f"rm{n}" for n in range(1, 6)]
)
NOMAD_OPT_OUTS = ("na_role", "na_stage", "na_intervention")


def json_bool(value: bool | None) -> str:
    return "null" if value is None else ("true" if value else "false")


def facts_of(
    kind: str,
    rng: random.Random,
    *,
    quality_mean: float,
    passed: bool,
    incident_id: uuid.UUID | None,
    buddy_id: uuid.UUID | None,
) -> tuple[str, list[Any]]:
    """The facts as JSON and the typed columns (TYPED_FACTS order) of one touchpoint of `kind`."""
    typed: list[Any] = [None] * 11
    if kind == "daily_note":
        quality = min(5, max(1, round(rng.gauss(quality_mean, 0.8))))
        typed[0] = quality
        return f'{{"activity":"{rng.choice(ACTIVITIES)}","engagement_quality":{quality}}}', typed
    if kind == "care_plan_review":
        return f'{{"changes_made":{json_bool(rng.random() < 0.4)}}}', typed
    if kind in ("shift_handover", "team_meeting"):
        attendees = rng.randint(2, 6) if kind == "shift_handover" else rng.randint(4, 14)
        return f'{{"attendees":{attendees}}}', typed
    if kind in ("supervision", "competency_check", "practice_observation"):
        roll = rng.random()
        explains: bool | None = None if roll < 0.1 else roll < 0.78
        typed[3] = explains
        if kind == "supervision":
            return f'{{"explains_why":{json_bool(explains)}}}', typed
        if kind == "competency_check":
            typed[4] = passed
            return f'{{"passed":{json_bool(passed)},"explains_why":{json_bool(explains)}}}', typed
        score = min(5, max(1, round(rng.gauss(quality_mean, 0.7))))
        typed[1] = score
        return f'{{"score":{score},"explains_why":{json_bool(explains)}}}', typed
    if kind == "audit":
        percent = round(min(100.0, max(40.0, rng.gauss(84.0, 7.0))), 1)
        typed[2] = percent
        return f'{{"tool":"{rng.choice(AUDIT_TOOLS)}","score_percent":{percent!r}}}', typed
    if kind == "quality_review":
        percent_or_none = round(rng.uniform(60.0, 98.0), 1) if rng.random() < 0.7 else None
        typed[2] = percent_or_none
        shown = "null" if percent_or_none is None else repr(percent_or_none)
        return f'{{"score_percent":{shown},"actions":{rng.randint(0, 6)}}}', typed
    if kind in ("induction", "shadowing"):
        typed[10] = buddy_id
        shown = "null" if buddy_id is None else f'"{buddy_id}"'
        return f'{{"buddy_id":{shown}}}', typed
    if kind == "incident":
        severity = rng.choices(("low", "moderate", "high"), weights=(0.7, 0.25, 0.05))[0]
        restrictive = rng.random() < 0.08
        typed[5], typed[6] = severity, restrictive
        return f'{{"severity":"{severity}","restrictive_intervention":{json_bool(restrictive)}}}', typed
    if kind == "post_incident_review":
        learning, follow_up = rng.random() < 0.85, rng.random() < 0.5
        typed[7], typed[8], typed[9] = incident_id, learning, follow_up
        return (
            f'{{"incident_id":"{incident_id}","learning_captured":{json_bool(learning)},'
            f'"follow_up_observation_planned":{json_bool(follow_up)}}}'
        ), typed
    if kind == "staff_survey":
        general = (
            f'{{"familiar":{rng.randint(4, 10)},"normal_now":{rng.randint(2, 10)},'
            f'"normal_future":{rng.randint(4, 10)}}}'
        )
        answers = ",".join(
            f'"{item}":'
            + (f'"{rng.choice(NOMAD_OPT_OUTS)}"' if rng.random() < 0.05 else str(rng.randint(2, 5)))
            for item in NOMAD_ITEMS
        )
        return f'{{"general":{general},"items":{{{answers}}}}}', typed
    raise ValueError(f"no facts for {kind}")
