"""Local months, windows and the monthly series, in Europe/London across clock changes."""

from datetime import UTC, date, datetime

from service.status.evaluation.periods import (
    add_months,
    local_month,
    month_end_at,
    month_point,
    month_start_at,
    point_ending,
    previous_point,
    series_points,
    window_start_month,
)

LONDON = "Europe/London"


def test_month_boundaries_follow_local_midnight_across_clock_changes() -> None:
    # British Summer Time starts on 29 March 2026: April begins at 23:00 UTC on 31 March.
    assert month_start_at(date(2026, 4, 1), LONDON) == datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
    assert month_start_at(date(2026, 3, 1), LONDON) == datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    # Summer time ends on 25 October 2026: November begins at midnight UTC again.
    assert month_start_at(date(2026, 11, 1), LONDON) == datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    assert month_end_at(date(2026, 10, 1), LONDON) == datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    assert local_month(datetime(2026, 3, 31, 23, 30, tzinfo=UTC), LONDON) == date(2026, 4, 1)
    assert local_month(datetime(2026, 3, 31, 22, 59, tzinfo=UTC), LONDON) == date(2026, 3, 1)
    assert local_month(datetime(2026, 3, 31, 23, 30, tzinfo=UTC), "UTC") == date(2026, 3, 1)


def test_add_months_wraps_years() -> None:
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert add_months(date(2025, 11, 1), 14) == date(2027, 1, 1)


def test_window_starts_at_the_nearest_month_boundary() -> None:
    # 90 days before 10 March is 10 December: nearer 1 December than 1 January.
    assert window_start_month(datetime(2026, 3, 10, 12, tzinfo=UTC), 90, LONDON) == date(2025, 12, 1)
    # 90 days before 25 March is 25 December: nearer 1 January.
    assert window_start_month(datetime(2026, 3, 25, 12, tzinfo=UTC), 90, LONDON) == date(2026, 1, 1)
    # A short window still covers the month it ends in.
    assert window_start_month(datetime(2026, 3, 25, 12, tzinfo=UTC), 5, LONDON) == date(2026, 3, 1)


def test_month_points_cover_three_months_for_ninety_days() -> None:
    for month in (date(2026, 1, 1), date(2026, 3, 1), date(2026, 4, 1), date(2026, 10, 1), date(2028, 3, 1)):
        point = month_point(month, 90, LONDON)
        assert point.months == (add_months(month, -2), add_months(month, -1), month)
        assert point.end == month_end_at(month, LONDON)
        assert point.start == month_start_at(add_months(month, -2), LONDON)


def test_current_point_and_series() -> None:
    as_of = datetime(2026, 4, 15, 9, tzinfo=UTC)
    current = point_ending(as_of, 90, LONDON, current=True)
    assert current.month == date(2026, 4, 1)
    assert current.months[0] == date(2026, 1, 1)
    points = series_points(as_of, 90, LONDON, 4)
    assert [p.month for p in points] == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
        date(2026, 4, 1),
    ]
    assert points[-1].current and not points[0].current
    assert previous_point(current, 90, LONDON).month == date(2025, 12, 1)


def test_as_of_exactly_at_a_month_boundary_belongs_to_the_month_before() -> None:
    as_of = month_start_at(date(2026, 4, 1), LONDON)
    points = series_points(as_of, 90, LONDON, 2)
    assert [p.month for p in points] == [date(2026, 2, 1), date(2026, 3, 1)]
    assert points[-1].end == as_of
