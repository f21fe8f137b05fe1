"""What an analyst asks of a portfolio page: which innovations (by stage, by one indicator's RAG, by
name), in what order, and the median of each indicator for comparison.

Every filter judges an innovation by its provider row: its status rolled up over the services the
commissioner commissions, the row a commissioner compares providers by. An innovation that passes
keeps all its rows (provider and services); a provider left with none is left off the page.
"""

import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from service.portfolio.schemas import IndicatorMedian, PortfolioProvider
from service.status.schemas import InnovationStatuses
from service.status.service import invalid_field
from service.status.vocabulary import RATED, IndicatorKey, Rag, Stage

SORT_KEYS = ("provider", "innovation", "stage")
SORTS = tuple(k for key in SORT_KEYS for k in (key, f"-{key}"))
MAX_NAME_FILTER = 200
E = TypeVar("E", Stage, Rag, IndicatorKey)
# Stages in the order an innovation moves through them, for `sort=stage`.
STAGE_ORDER = {stage: rank for rank, stage in enumerate(Stage)}


@dataclass(frozen=True, slots=True)
class Selection:
    stages: frozenset[Stage] = frozenset()
    indicator: IndicatorKey | None = None
    rags: frozenset[Rag] = frozenset()
    innovation: str | None = None
    sort: str | None = None

    def material(self) -> list[Any]:
        """What the ETag of an answer shaped by this selection is derived from."""
        return [
            sorted(self.stages),
            self.indicator,
            sorted(self.rags),
            self.innovation.casefold() if self.innovation else None,
            self.sort,
        ]

    @property
    def filters(self) -> bool:
        return bool(self.stages or self.indicator or self.innovation)

    def keeps(self, statuses: InnovationStatuses) -> bool:
        row = statuses.provider
        if self.stages and row.stage not in self.stages:
            return False
        if self.indicator is not None:
            rag = next((i.rag for i in row.indicators if i.key == self.indicator), None)
            if rag not in self.rags:
                return False
        return not (self.innovation and self.innovation.casefold() not in statuses.innovation_name.casefold())


def _items(value: str | Sequence[str] | None) -> list[str]:
    """A comma list, or several values each possibly a comma list."""
    if value is None:
        return []
    values = [value] if isinstance(value, str) else list(value)
    return [part.strip() for v in values for part in v.split(",")]


def _members(kind: type[E], field: str, value: str | Sequence[str] | None) -> list[E]:
    found = []
    for item in _items(value):
        try:
            found.append(kind(item))
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise invalid_field(field, "one_of", f"{item!r} is not one of: {allowed}") from None
    return found


def selection(
    *,
    stage: str | Sequence[str] | None = None,
    indicator: str | None = None,
    rag: str | Sequence[str] | None = None,
    innovation: str | None = None,
    sort: str | None = None,
) -> Selection:
    """The selection asked for, or a 422 naming the parameter and the rule it breaks."""
    stages = _members(Stage, "stage", stage)
    [key] = _members(IndicatorKey, "indicator", indicator) if indicator is not None else [None]
    rags = _members(Rag, "rag", rag)
    if key is not None and not rags:
        raise invalid_field("rag", "required_with_indicator", "give the ratings to keep, e.g. rag=red,amber")
    if rags and key is None:
        raise invalid_field(
            "indicator", "required_with_rag", "name the indicator whose rating `rag` filters on"
        )
    if innovation is not None:
        innovation = innovation.strip()
        if not innovation:
            raise invalid_field("innovation", "min_length", "must not be empty")
        if len(innovation) > MAX_NAME_FILTER:
            raise invalid_field("innovation", "max_length", f"must be at most {MAX_NAME_FILTER} characters")
    if sort is not None and sort not in SORTS:
        raise invalid_field("sort", "one_of", f"{sort!r} is not one of: {', '.join(SORTS)}")
    return Selection(frozenset(stages), key, frozenset(rags), innovation, sort)


def select(providers: list[PortfolioProvider], chosen: Selection) -> list[PortfolioProvider]:
    """The page's providers with only the innovations chosen, in the order asked for."""
    kept = [
        p.model_copy(update={"innovations": [i for i in p.innovations if chosen.keeps(i)]}) for p in providers
    ]
    if chosen.filters:  # a sort alone leaves off nobody
        kept = [p for p in kept if p.innovations]
    if chosen.sort is None:
        return kept
    key, descending = chosen.sort.removeprefix("-"), chosen.sort.startswith("-")
    if key == "provider":
        return sorted(
            kept, key=lambda p: (p.provider_name.casefold(), str(p.provider_id)), reverse=descending
        )

    def order(i: InnovationStatuses) -> tuple[Any, ...]:
        name = (i.innovation_name.casefold(), str(i.innovation_id))
        return (STAGE_ORDER[i.provider.stage], *name) if key == "stage" else name

    return [
        p.model_copy(update={"innovations": sorted(p.innovations, key=order, reverse=descending)})
        for p in kept
    ]


def medians(providers: list[PortfolioProvider]) -> list[IndicatorMedian]:
    """Per indicator, the median value over the provider rows of the innovations shown, each
    rated green, amber or red with a value shown (suppressed and unrated values left out)."""
    values: dict[IndicatorKey, list[float]] = {key: [] for key in IndicatorKey}
    seen: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for provider in providers:
        for statuses in provider.innovations:
            if (provider.provider_id, statuses.innovation_id) in seen:
                continue
            seen.add((provider.provider_id, statuses.innovation_id))
            for indicator in statuses.provider.indicators:
                if indicator.rag in RATED and indicator.value is not None:
                    values[indicator.key].append(indicator.value)
    return [
        IndicatorMedian(
            key=key,
            median=statistics.median(found) if found else None,
            rows=len(found),
        )
        for key, found in values.items()
    ]
