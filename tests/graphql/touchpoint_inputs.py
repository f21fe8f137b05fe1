"""REST touchpoint payloads (tests/touchpoints/world.py) as GraphQL `TouchpointInput` values."""

from typing import Any

NOMAD_NAMES = {1: "strongly_disagree", 2: "disagree", 3: "neither", 4: "agree", 5: "strongly_agree"}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _camel_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {camel(k): _camel_keys(v) for k, v in value.items()}
    return value


def as_input(payload: dict[str, Any]) -> dict[str, Any]:
    """`{"kind": "daily_note", ...}` → `{"dailyNote": {...}}`, NoMAD answers by enum name."""
    body = {k: v for k, v in payload.items() if k != "kind"}
    facts = dict(body.get("facts") or {})
    if payload["kind"] == "staff_survey":
        items = facts["items"]
        facts["items"] = {k: NOMAD_NAMES.get(v, v) if isinstance(v, int) else v for k, v in items.items()}
    body["facts"] = facts
    return {camel(payload["kind"]): _camel_keys(body)}
