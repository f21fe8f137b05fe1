"""A portfolio page as CSV (RFC 4180: a header row, CRLF line ends, fields quoted where needed) that a
spreadsheet opens: one row per innovation's provider row and per commissioned service row.

Names are typed in by providers, so a cell a spreadsheet would read as a formula (starting with
`=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading apostrophe and stays text. Counts withheld
as small are written `suppressed`, never as numbers.
"""

import csv
import io
import uuid
from collections.abc import Iterator

from service.disclosure import Suppressed
from service.portfolio.schemas import PortfolioProvider
from service.status.schemas import EmbeddingStatus, IndicatorPublic
from service.status.vocabulary import IndicatorKey

MEDIA_TYPE = "text/csv; charset=utf-8"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SUPPRESSED = "suppressed"
LEVEL_PROVIDER = "provider"
LEVEL_SERVICE = "service"

COLUMNS = [
    "provider",
    "innovation",
    "service",
    "level",
    "stage",
    *(f"{key.value}_{part}" for key in IndicatorKey for part in ("rag", "value", "numerator", "denominator")),
    "provider_id",
    "innovation_id",
    "service_id",
]


def text_cell(value: str) -> str:
    """A user-entered name, kept from being read as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _count(value: int | float | Suppressed | None) -> str:
    if isinstance(value, Suppressed):
        return SUPPRESSED
    return "" if value is None else str(value)


def _indicator_cells(indicator: IndicatorPublic | None) -> list[str]:
    if indicator is None:
        return ["", "", "", ""]
    value = "" if indicator.value is None else str(round(indicator.value, 4))
    return [indicator.rag.value, value, _count(indicator.numerator), _count(indicator.denominator)]


def _row(provider: PortfolioProvider, innovation: str, service: str, status: EmbeddingStatus) -> list[str]:
    indicators = {i.key: i for i in status.indicators}
    return [
        text_cell(provider.provider_name),
        text_cell(innovation),
        text_cell(service),
        LEVEL_SERVICE if status.service_id else LEVEL_PROVIDER,
        status.stage.value,
        *(cell for key in IndicatorKey for cell in _indicator_cells(indicators.get(key))),
        str(provider.provider_id),
        str(status.innovation_id),
        str(status.service_id or ""),
    ]


def rows(providers: list[PortfolioProvider]) -> Iterator[list[str]]:
    """The page's rows in its order: each innovation's provider row, then its service rows."""
    for provider in providers:
        names: dict[uuid.UUID, str] = {s.service_id: s.name for s in provider.services}
        for statuses in provider.innovations:
            yield _row(provider, statuses.innovation_name, "", statuses.provider)
            for status in statuses.services:
                name = names.get(status.service_id, "") if status.service_id else ""
                yield _row(provider, statuses.innovation_name, name, status)


def portfolio_csv(providers: list[PortfolioProvider]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows(providers))
    return out.getvalue()
