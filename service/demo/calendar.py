"""Time for the demo: the anchor day, shift times in the services' local time, and the rota."""

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.demo.plan import StaffPlan
from service.vocabulary import Shift, StaffRole

LOCAL = ZoneInfo("Europe/London")

# Local start and length (minutes) of each shift; matches the services' default shift pattern.
SHIFT_START = {Shift.early: time(7, 0), Shift.late: time(14, 0), Shift.night: time(21, 30)}
SHIFT_MINUTES = {Shift.early: 7 * 60, Shift.late: 7 * 60 + 30, Shift.night: 9 * 60 + 30}
SHIFTS = (Shift.early, Shift.late, Shift.night)

OFFICE_ROLES = frozenset({StaffRole.registered_manager, StaffRole.deputy_manager})


def default_anchor() -> date:
    """Today in the services' time zone: the demo's year ends at the start of this day."""
    return datetime.now(LOCAL).date()


def anchor_instant(anchor: date) -> datetime:
    return datetime.combine(anchor, time(0), tzinfo=LOCAL).astimezone(UTC)


def days(first: date, last_exclusive: date) -> Iterator[date]:
    day = first
    while day < last_exclusive:
        yield day
        day += timedelta(days=1)


def during_shift(
    day: date, shift: Shift, rng: random.Random, *, from_minute: int = 0, to_minute: int | None = None
) -> datetime:
    """A moment inside `day`'s `shift` (a night shift runs past midnight), as a UTC timestamp."""
    end = SHIFT_MINUTES[shift] if to_minute is None else min(to_minute, SHIFT_MINUTES[shift])
    minute = rng.randrange(from_minute, max(from_minute + 1, end))
    local = datetime.combine(day, SHIFT_START[shift], tzinfo=LOCAL) + timedelta(minutes=minute)
    # Wall-clock arithmetic keeps a shift's times right across the clock changes.
    return local.astimezone(UTC)


def near_shift_end(day: date, shift: Shift, rng: random.Random) -> datetime:
    return during_shift(
        day, shift, rng, from_minute=SHIFT_MINUTES[shift] - 35, to_minute=SHIFT_MINUTES[shift]
    )


def works_on(member: StaffPlan, day: date, index: int) -> bool:
    """Managers work weekdays; everyone else five days in seven, staggered so shifts stay covered."""
    if not member.active_on(day):
        return False
    if member.role in OFFICE_ROLES:
        return day.weekday() < 5
    return (day.toordinal() + index * 3) % 7 < 5
