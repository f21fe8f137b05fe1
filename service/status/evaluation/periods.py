"""Calendar arithmetic for status windows: local months, window boundaries and monthly points.

A status window ends at a moment (`as_of`, or the end of a month for the monthly series) and starts
at the local month boundary nearest to `end − window_days`, so that every month inside it can be
read from the monthly rollups and only the month containing `as_of` is read from raw rows.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from service.status.evaluation.inputs import ServiceInfo


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (or before) `month`'s month."""
    index = month.year * 12 + (month.month - 1) + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """Month starts from `first`'s month to `last`'s month, inclusive."""
    out: list[date] = []
    current = first.replace(day=1)
    stop = last.replace(day=1)
    while current <= stop:
        out.append(current)
        current = add_months(current, 1)
    return out


def local_month(instant: datetime, tz: str) -> date:
    """The local calendar month (its first day) an instant falls in."""
    return instant.astimezone(zone(tz)).date().replace(day=1)


def local_date(instant: datetime, tz: str) -> date:
    return instant.astimezone(zone(tz)).date()


@lru_cache(maxsize=4096)
def month_start_at(month: date, tz: str) -> datetime:
    """Local midnight at the start of `month`, as an aware UTC instant (clock changes included)."""
    local = datetime(month.year, month.month, 1, tzinfo=zone(tz))
    return local.astimezone(UTC)


def month_end_at(month: date, tz: str) -> datetime:
    """The exclusive end of `month`: local midnight at the start of the next month."""
    return month_start_at(add_months(month, 1), tz)


def day_start_at(day: date, tz: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone(tz)).astimezone(UTC)


def window_start_month(end: datetime, window_days: int, tz: str) -> date:
    """The month a window ending at `end` starts with: the boundary nearest `end − window_days`.

    Ties go to the earlier boundary (the longer window). The window always includes the month of
    `end` itself, however short `window_days` is.
    """
    target = end - timedelta(days=window_days)
    month = local_month(target, tz)
    before = month_start_at(month, tz)
    after = month_start_at(add_months(month, 1), tz)
    chosen = month if (target - before) <= (after - target) else add_months(month, 1)
    last = local_month(end - timedelta(microseconds=1), tz)
    return min(chosen, last)


@dataclass(frozen=True, slots=True)
class Point:
    """One evaluation of the indicators: the window [start, end) labelled by its last month."""

    month: date
    start: datetime
    end: datetime
    months: tuple[date, ...]
    current: bool

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400


def point_ending(end: datetime, window_days: int, tz: str, *, current: bool) -> Point:
    first = window_start_month(end, window_days, tz)
    last = local_month(end - timedelta(microseconds=1), tz)
    return Point(
        month=last,
        start=month_start_at(first, tz),
        end=end,
        months=tuple(months_between(first, last)),
        current=current,
    )


def counted_span(point: Point, tz: str) -> timedelta:
    """How long a point's window counts as, for a rate (per month, now against before): to the end
    of the local day its end falls in. A complete month's point ends at midnight already; the current
    point's length then changes only at local midnight, with what it counts, not hour by hour."""
    last_day = local_date(point.end - timedelta(microseconds=1), tz)
    return day_start_at(last_day + timedelta(days=1), tz) - point.start


@lru_cache(maxsize=4096)
def month_point(month: date, window_days: int, tz: str) -> Point:
    """The monthly series' point for a complete month: the window ending at that month's end."""
    return point_ending(month_end_at(month, tz), window_days, tz, current=False)


@lru_cache(maxsize=256)
def series_points(as_of: datetime, window_days: int, tz: str, count: int) -> tuple[Point, ...]:
    """`count` points, oldest first: complete months before `as_of`'s month, then `as_of` itself."""
    current = point_ending(as_of, window_days, tz, current=True)
    points = [month_point(add_months(current.month, -k), window_days, tz) for k in range(count - 1, 0, -1)]
    points.append(current)
    return tuple(points)


def previous_point(point: Point, window_days: int, tz: str) -> Point:
    """The window just before `point`'s: the monthly point of the month before its first month."""
    return month_point(add_months(point.months[0], -1), window_days, tz)


def services_timezone(infos: Iterable[ServiceInfo]) -> str:
    """The time zone a status's months are labelled in: its services' most common one."""
    counted = Counter(i.timezone for i in infos)
    if not counted:
        return "Europe/London"
    return min(counted, key=lambda tz: (-counted[tz], tz))
