"""The dates and moments the API accepts, defined once for REST and GraphQL.

Both ranges lie far inside what Python and Postgres can hold, so no arithmetic on an accepted value
(a window reaching back two years, a month boundary in a service's time zone, a cursor) can overflow:

- care records and reference data (`occurred_at`, `started_on`, `left_on`, `starts_on`, `ends_on`, …):
  from 1900-01-01 to 2999-12-31 (UTC). Nothing in adult social care is recorded before 1900.
- query moments and dates (`as_of`, `known_at`, `occurred_from`, `occurred_to`, `at_from`, `at_to`,
  `active_on`, `since`): the same calendar range, so any record can be asked about.

A query moment is an ISO 8601 date-time with an offset (`2026-03-01T00:00:00Z`): a number (read
elsewhere as a Unix time) or a time without an offset is refused rather than guessed at. A query date
is an ISO 8601 date.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator
from pydantic_core import PydanticCustomError


class DateRange:
    """An inclusive calendar range; a date-time is judged by its instant (UTC)."""

    def __init__(self, earliest: date, latest: date, what: str) -> None:
        self.earliest = earliest
        self.latest = latest
        self.what = what
        self._first = datetime.combine(earliest, time.min, UTC)
        self._last = datetime.combine(latest, time.max, UTC)

    @property
    def text(self) -> str:
        return f"from {self.earliest.isoformat()} to {self.latest.isoformat()}"

    def holds(self, value: date | datetime) -> bool:
        if isinstance(value, datetime):
            # Comparing aware date-times subtracts offsets without building a new date-time, so it
            # cannot overflow at year 1 or 9999 the way `astimezone` would.
            aware = value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
            return self._first <= aware <= self._last
        return self.earliest <= value <= self.latest

    def check(self, value: Any) -> Any:
        """A pydantic validator: the value, or a `date_out_of_range` error naming the range."""
        if isinstance(value, date) and not self.holds(value):
            raise PydanticCustomError(
                "date_out_of_range",
                "{what} must be {range} (UTC)",
                {"what": self.what, "range": self.text},
            )
        return value


RECORD_DATES = DateRange(date(1900, 1, 1), date(2999, 12, 31), "a care record date")
QUERY_MOMENTS = DateRange(date(1900, 1, 1), date(2999, 12, 31), "a query moment")
# A moment this far ahead of the server's clock is still taken as "now": the clocks of sending
# systems drift. A touchpoint may occur, and a status be asked, at most this far in the future.
CLOCK_SKEW = timedelta(minutes=5)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d+)?)?)?)$")


def iso_date_time_text(value: Any) -> Any:
    """Only ISO 8601 text with an offset becomes a query moment (not `0.5`, not a naive time)."""
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise _timezone_required()
        return value
    if not isinstance(value, str) or not _ISO_DATE_TIME.match(value):
        raise PydanticCustomError(
            "iso8601_required", "give an ISO 8601 date-time with an offset, e.g. 2026-03-01T00:00:00Z"
        )
    if not _OFFSET.search(value):
        raise _timezone_required()
    return value


def _timezone_required() -> PydanticCustomError:
    return PydanticCustomError("timezone_required", "give a time zone offset, e.g. 2026-03-01T00:00:00Z")


def iso_date_text(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise PydanticCustomError("iso8601_required", "give an ISO 8601 date, e.g. 2026-03-01")
    return value


# Query parameters (REST) and arguments (GraphQL): `as_of: QueryMoment | None = None`.
QueryMoment = Annotated[
    AwareDatetime, BeforeValidator(iso_date_time_text), AfterValidator(QUERY_MOMENTS.check)
]
QueryDate = Annotated[date, BeforeValidator(iso_date_text), AfterValidator(QUERY_MOMENTS.check)]
