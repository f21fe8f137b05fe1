"""What a provider can do next for an amber or red indicator, read from `levers.yaml`.

The file is checked when this module is imported, so a typo in an indicator key, an unknown lever
or an indicator left without a lever stops the service from starting rather than leaving a gap in
a printed pack.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from service.status.vocabulary import IndicatorKey

LEVERS_PATH = Path(__file__).with_name("levers.yaml")


@dataclass(frozen=True, slots=True)
class Lever:
    key: str
    title: str
    action: str


@dataclass(frozen=True, slots=True)
class LeverCatalogue:
    source: str
    by_indicator: Mapping[IndicatorKey, tuple[Lever, ...]]

    def for_indicator(self, key: IndicatorKey) -> tuple[Lever, ...]:
        return self.by_indicator[key]


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: must be a non-empty string")
    return " ".join(value.split())


def parse_levers(raw: Any) -> LeverCatalogue:
    """The catalogue in `raw` (the YAML document), or ValueError naming what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("levers: the document must be a mapping")
    unknown_sections = set(raw) - {"source", "levers", "indicators"}
    if unknown_sections:
        raise ValueError(f"levers: unknown sections {sorted(unknown_sections)}")
    titles = raw.get("levers")
    if not isinstance(titles, dict) or not titles:
        raise ValueError("levers: `levers` must name at least one lever")
    names = {str(k): _text(v, f"levers.{k}") for k, v in titles.items()}
    indicators = raw.get("indicators")
    if not isinstance(indicators, dict):
        raise ValueError("levers: `indicators` must be a mapping of indicator keys")
    known = {k.value for k in IndicatorKey}
    unknown = set(map(str, indicators)) - known
    if unknown:
        raise ValueError(f"levers: unknown indicator keys {sorted(unknown)}")
    missing = known - set(map(str, indicators))
    if missing:
        raise ValueError(f"levers: indicators without levers {sorted(missing)}")
    by_indicator: dict[IndicatorKey, tuple[Lever, ...]] = {}
    for key, items in indicators.items():
        where = f"indicators.{key}"
        if not isinstance(items, list) or not items:
            raise ValueError(f"{where}: needs at least one lever")
        levers = []
        for index, item in enumerate(items):
            if not isinstance(item, dict) or set(item) != {"lever", "action"}:
                raise ValueError(f"{where}[{index}]: needs exactly `lever` and `action`")
            if item["lever"] not in names:
                raise ValueError(f"{where}[{index}]: unknown lever {item['lever']!r}")
            action = _text(item["action"], f"{where}[{index}].action")
            levers.append(Lever(key=item["lever"], title=names[item["lever"]], action=action))
        by_indicator[IndicatorKey(key)] = tuple(levers)
    return LeverCatalogue(source=_text(raw.get("source"), "levers.source"), by_indicator=by_indicator)


def load_levers(path: Path = LEVERS_PATH) -> LeverCatalogue:
    return parse_levers(yaml.safe_load(path.read_text(encoding="utf-8")))


LEVERS = load_levers()
