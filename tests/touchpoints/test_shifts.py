"""Shift and weekend derivation from the service's pattern, in its local time, across DST."""

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.touchpoints.shifts import shift_pattern
from service.vocabulary import Shift
from tests import factories
from tests.touchpoints.world import World, payload

LONDON = shift_pattern("Europe/London", {"early": "07:00", "late": "14:00", "night": "21:30"})


@pytest.mark.parametrize(
    ("moment", "shift", "weekend"),
    [
        # Saturday 28 March 2026, GMT: 06:30 UTC is 06:30 local, still Friday's night shift.
        (datetime(2026, 3, 28, 6, 30, tzinfo=UTC), Shift.night, False),
        # Sunday 29 March 2026, clocks go forward at 01:00 UTC: 06:30 UTC is 07:30 BST, the early shift.
        (datetime(2026, 3, 29, 6, 30, tzinfo=UTC), Shift.early, True),
        # 13:30 UTC on the first BST day is 14:30 local: the late shift.
        (datetime(2026, 3, 29, 13, 30, tzinfo=UTC), Shift.late, True),
        # 21:00 UTC on a BST Sunday is 22:00 local: Sunday's night shift, a weekend shift.
        (datetime(2026, 3, 29, 21, 0, tzinfo=UTC), Shift.night, True),
        # 02:00 UTC Monday is 03:00 BST: still Sunday's night shift.
        (datetime(2026, 3, 30, 2, 0, tzinfo=UTC), Shift.night, True),
        # 25 October 2026, clocks go back at 01:00 UTC: 06:30 UTC is 06:30 GMT, before the early shift.
        (datetime(2026, 10, 25, 6, 30, tzinfo=UTC), Shift.night, True),
        (datetime(2026, 10, 24, 6, 30, tzinfo=UTC), Shift.early, True),
        # Friday 21:00 UTC in winter is 21:00 local: Friday's late shift, not a weekend one.
        (datetime(2026, 11, 27, 21, 0, tzinfo=UTC), Shift.late, False),
    ],
)
def test_shift_follows_local_time_across_daylight_saving(
    moment: datetime, shift: Shift, weekend: bool
) -> None:
    assert LONDON.locate(moment) == (shift, weekend)


def test_a_shift_sent_by_the_source_wins_and_dates_the_weekend_flag() -> None:
    # 06:30 local on a Monday, sent as a night shift: it began on Sunday.
    monday_early_hours = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)
    assert LONDON.locate(monday_early_hours, Shift.night) == (Shift.night, True)
    assert LONDON.locate(monday_early_hours, Shift.early) == (Shift.early, False)


def test_a_missing_or_unreadable_pattern_falls_back_to_the_defaults() -> None:
    pattern = shift_pattern(None, {"early": "6am", "late": "13:00"})
    assert pattern.locate(datetime(2026, 11, 27, 13, 30, tzinfo=UTC)) == (Shift.late, False)
    assert pattern.locate(datetime(2026, 11, 27, 6, 30, tzinfo=UTC)) == (Shift.night, False)


async def test_recorded_shift_uses_the_services_own_pattern_and_zone(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    nights_from_eight = await factories.care_service(
        session, world.org, shift_pattern={"early": "08:00", "late": "15:00", "night": "20:00"}
    )
    # Midsummer of last year: in British Summer Time, and never in the future.
    summer_evening = datetime(datetime.now(UTC).year - 1, 7, 1, 19, 30, tzinfo=UTC)
    body = payload(
        world, service_id=str(nights_from_eight.id), occurred_at=summer_evening.isoformat(), innovation_ids=[]
    )
    response = await client.post("/v1/touchpoints", json=body, headers=manager)
    # 19:30 UTC is 20:30 BST: after this service's 20:00 night start.
    assert response.json()["shift"] == "night"
    assert response.json()["weekend"] is (summer_evening.weekday() >= 5)
