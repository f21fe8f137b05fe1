"""The CQC Single Assessment Framework tags of each indicator, read from `cqc_mapping.yaml`."""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

MAPPING_PATH = Path(__file__).with_name("cqc_mapping.yaml")
KEY_QUESTIONS = frozenset({"safe", "effective", "caring", "responsive", "well_led"})
EVIDENCE_CATEGORIES = frozenset(
    {
        "peoples_experience",
        "feedback_from_staff_and_leaders",
        "feedback_from_partners",
        "observation",
        "processes",
        "outcomes",
    }
)


@dataclass(frozen=True, slots=True)
class QualityStatement:
    key_question: str
    statement: str


@dataclass(frozen=True, slots=True)
class CqcTags:
    quality_statements: tuple[QualityStatement, ...]
    evidence_categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CqcMapping:
    framework: str
    indicators: dict[str, CqcTags]
    context: dict[str, CqcTags]


def _tags(name: str, raw: dict[str, Any]) -> CqcTags:
    statements = []
    for item in raw.get("quality_statements") or []:
        if item["key_question"] not in KEY_QUESTIONS:
            raise ValueError(f"{name}: unknown key question {item['key_question']!r}")
        statements.append(QualityStatement(item["key_question"], item["statement"]))
    categories = tuple(raw.get("evidence_categories") or [])
    unknown = set(categories) - EVIDENCE_CATEGORIES
    if unknown:
        raise ValueError(f"{name}: unknown evidence categories {sorted(unknown)}")
    return CqcTags(tuple(statements), categories)


def parse_mapping(raw: dict[str, Any]) -> CqcMapping:
    return CqcMapping(
        framework=str(raw["framework"]),
        indicators={k: _tags(k, v) for k, v in (raw.get("indicators") or {}).items()},
        context={k: _tags(k, v) for k, v in (raw.get("context") or {}).items()},
    )


@lru_cache(maxsize=1)
def cqc_mapping() -> CqcMapping:
    return parse_mapping(yaml.safe_load(MAPPING_PATH.read_text()))
