"""The levers file: every indicator has something to do next, and a broken file is refused."""

import copy
import re
from typing import Any

import pytest
import yaml

from service.evidence_pack.levers import LEVERS, LEVERS_PATH, parse_levers
from service.status.vocabulary import IndicatorKey

ARTICLE_LEVERS = {
    "supervision_templates",
    "observation_cadence",
    "induction_and_buddying",
    "audit_tools",
    "post_incident_reflection",
}


def raw_levers() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(LEVERS_PATH.read_text(encoding="utf-8"))
    return loaded


def test_the_levers_file_covers_every_indicator() -> None:
    assert set(LEVERS.by_indicator) == set(IndicatorKey)
    for key in IndicatorKey:
        levers = LEVERS.for_indicator(key)
        assert levers, key
        assert all(lever.title and lever.action for lever in levers)
    # The article's five levers are all used somewhere.
    used = {lever.key for levers in LEVERS.by_indicator.values() for lever in levers}
    assert used >= ARTICLE_LEVERS


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda raw: raw["indicators"].update({"staff_morale": raw["indicators"]["system_visibility"]}),
         "unknown indicator keys ['staff_morale']"),
        (lambda raw: raw["indicators"].pop("turnover_resilience"),
         "indicators without levers ['turnover_resilience']"),
        (lambda raw: raw["indicators"].update({"audit_stability": []}), "needs at least one lever"),
        (lambda raw: raw["indicators"]["incident_learning"][0].update({"lever": "wishful_thinking"}),
         "unknown lever 'wishful_thinking'"),
        (lambda raw: raw["indicators"]["incident_learning"][0].update({"action": "  "}), "non-empty string"),
        (lambda raw: raw["indicators"]["incident_learning"][0].pop("action"), "exactly `lever` and `action`"),
        (lambda raw: raw.update({"extras": {}}), "unknown sections ['extras']"),
        (lambda raw: raw.pop("source"), "levers.source"),
    ],
)  # fmt: skip
def test_a_broken_levers_file_is_refused(change: Any, message: str) -> None:
    raw = copy.deepcopy(raw_levers())
    change(raw)
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_levers(raw)
