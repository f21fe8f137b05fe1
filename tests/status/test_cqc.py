"""The CQC mapping is data: every indicator and context measure is tagged, and typos are refused."""

import pytest

from service.status.cqc import cqc_mapping, parse_mapping
from service.status.vocabulary import IndicatorKey


def test_every_indicator_and_context_measure_is_tagged() -> None:
    mapping = cqc_mapping()
    assert set(mapping.indicators) == {k.value for k in IndicatorKey}
    assert set(mapping.context) == {"outcomes", "staff_voice", "drift"}
    for tags in [*mapping.indicators.values(), *mapping.context.values()]:
        assert tags.quality_statements and tags.evidence_categories
    learning = mapping.indicators["incident_learning"]
    assert [(q.key_question, q.statement) for q in learning.quality_statements] == [
        ("safe", "Learning culture")
    ]


def test_a_mapping_with_an_unknown_key_question_or_category_is_refused() -> None:
    with pytest.raises(ValueError, match="key question"):
        parse_mapping(
            {
                "framework": "x",
                "indicators": {"a": {"quality_statements": [{"key_question": "kind", "statement": "s"}]}},
            }
        )
    with pytest.raises(ValueError, match="evidence categories"):
        parse_mapping({"framework": "x", "indicators": {"a": {"evidence_categories": ["gossip"]}}})
