"""Bodies and roles the hostile rows are built from: each valid until a row spoils one field."""

from typing import Any


def touchpoint(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "daily_note",
        "service_id": "{service}",
        "occurred_at": "2026-01-05T10:00:00+00:00",
        "recorded_by_id": "{manager}",
        "person_ref_id": "{person}",
        "innovation_ids": ["{innovation}"],
        "facts": {"activity": "Garden walk", "engagement_quality": 4},
    }
    body.update(overrides)
    return body


def survey(items: dict[str, Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {f"c{i}": 4 for i in range(1, 5)}
    answers |= {f"cp{i}": 4 for i in range(1, 5)} | {f"ca{i}": 4 for i in range(1, 8)}
    answers |= {f"rm{i}": 4 for i in range(1, 6)}
    answers.update(items)
    return touchpoint(
        kind="staff_survey",
        person_ref_id=None,
        facts={"general": {"familiar": 5, "normal_now": 5, "normal_future": 5}, "items": answers},
    )


def innovation(**overrides: Any) -> dict[str, Any]:
    body = {"name": "Buddying", "why": "Turnover", "started_on": "2025-01-01", "service_ids": ["{service}"]}
    return {**body, **overrides}


def staff(**overrides: Any) -> dict[str, Any]:
    return {"role": "care_worker", "service_ids": ["{service}"], "started_on": "2025-01-01", **overrides}


TP = "/v1/touchpoints"
ADMIN = "provider_admin"
LEAD = "quality_lead"
PLATFORM = "platform_admin"
