"""Which shift a moment falls in, from a service's shift pattern and its local time zone.

A shift pattern gives the local start times of the early, late and night shifts; each shift runs until
the next one starts, so a note at 03:00 belongs to the night shift that began the evening before.
The `weekend` flag follows the local date on which that shift began: the night from Sunday into Monday
is a weekend shift, the night from Friday into Saturday is not.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service.touchpoints.repository.lookups import ServiceRef
from service.vocabulary import Shift

DEFAULT_TIMEZONE = "Europe/London"
_DEFAULT_STARTS = {Shift.early: time(7, 0), Shift.late: time(14, 0), Shift.night: time(21, 30)}


@dataclass(frozen=True, slots=True)
class ShiftPattern:
    timezone: ZoneInfo
    # (start, shift) in order of the local day, earliest first.
    starts: tuple[tuple[time, Shift], ...]

    def locate(self, moment: datetime, shift: Shift | None = None) -> tuple[Shift, bool]:
        """The shift `moment` falls in (or the one given) and whether that shift began at a weekend."""
        local = moment.astimezone(self.timezone)
        clock = local.time()
        derived = self.starts[-1][1]
        began_yesterday = True
        for start, name in self.starts:
            if clock >= start:
                derived = name
                began_yesterday = False
        chosen = shift or derived
        if shift is not None and shift != derived:
            # A shift sent by the source wins; a night shift noted in the small hours began the day before.
            began_yesterday = shift is Shift.night and clock < self.starts[0][0]
        started_on: date = local.date() - timedelta(days=1) if began_yesterday else local.date()
        return chosen, started_on.weekday() >= 5


def _parse_start(value: Any) -> time | None:
    if not isinstance(value, str):
        return None
    try:
        return time.fromisoformat(value)
    except ValueError:
        return None


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def shift_pattern(timezone: str | None, pattern: dict[str, Any] | None) -> ShiftPattern:
    """The pattern a service declares; missing or unreadable start times fall back to the defaults."""
    starts: dict[Shift, time] = dict(_DEFAULT_STARTS)
    for shift in Shift:
        parsed = _parse_start((pattern or {}).get(shift.value))
        if parsed is not None:
            starts[shift] = parsed
    ordered = tuple(sorted(((start, shift) for shift, start in starts.items()), key=lambda pair: pair[0]))
    return ShiftPattern(timezone=_zone(timezone or DEFAULT_TIMEZONE), starts=ordered)


class ShiftPatterns:
    """Each referenced service's shift pattern, parsed once per request."""

    def __init__(self, services: Mapping[uuid.UUID, ServiceRef]) -> None:
        self._services = services
        self._patterns: dict[uuid.UUID, ShiftPattern] = {}

    def of(self, service_id: uuid.UUID) -> ShiftPattern:
        pattern = self._patterns.get(service_id)
        if pattern is None:
            service = self._services[service_id]
            pattern = shift_pattern(service.timezone, service.shift_pattern)
            self._patterns[service_id] = pattern
        return pattern
