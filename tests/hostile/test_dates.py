"""Dates at the edges of the calendar, and query moments that are not ISO 8601 with an offset."""

import httpx

from tests.hostile.payloads import ADMIN, LEAD, PLATFORM, TP, innovation, staff, touchpoint
from tests.hostile.table import YEAR_END, YEAR_ONE, Hostile, Row, failures

DATE_RULE = ("date_out_of_range",)

DATE_ROWS = [
    Row(
        "touchpoint in year 1",
        "POST",
        TP,
        422,
        "occurred_at",
        DATE_RULE,
        json=touchpoint(occurred_at=YEAR_ONE),
    ),
    Row(
        "touchpoint at the end",
        "POST",
        TP,
        422,
        "occurred_at",
        DATE_RULE,
        json=touchpoint(occurred_at=YEAR_END),
    ),
    Row(
        "touchpoint in 1899",
        "POST",
        TP,
        422,
        "occurred_at",
        DATE_RULE,
        json=touchpoint(occurred_at="1899-12-31T23:59:59+00:00"),
    ),
    Row(
        "naive occurred_at",
        "POST",
        TP,
        422,
        "occurred_at",
        ("timezone_aware",),
        json=touchpoint(occurred_at="2026-01-05T10:00:00"),
    ),
    Row(
        "staff started",
        "POST",
        "/v1/staff",
        422,
        "started_on",
        DATE_RULE,
        ADMIN,
        json=staff(started_on="0001-01-01"),
    ),
    Row(
        "staff left", "POST", "/v1/staff", 422, "left_on", DATE_RULE, ADMIN, json=staff(left_on="9999-12-31")
    ),
    Row(
        "innovation started",
        "POST",
        "/v1/innovations",
        422,
        "started_on",
        DATE_RULE,
        LEAD,
        json=innovation(started_on="0001-01-01"),
    ),
    Row(
        "grant ends",
        "POST",
        "/v1/access-grants",
        422,
        "ends_on",
        DATE_RULE,
        ADMIN,
        json={"regulator_id": "{regulator}", "starts_on": "2026-01-01", "ends_on": "9999-12-31"},
    ),
    Row(
        "relationship starts",
        "POST",
        "/v1/commissioning-relationships",
        422,
        "starts_on",
        DATE_RULE,
        PLATFORM,
        json={"commissioner_id": "{commissioner}", "provider_id": "{org}", "starts_on": "0001-01-01"},
    ),
    Row(
        "status as_of",
        "GET",
        "/v1/innovations/{innovation}/status",
        422,
        "as_of",
        DATE_RULE,
        LEAD,
        query={"as_of": YEAR_ONE},
    ),
    Row(
        "status known_at",
        "GET",
        "/v1/innovations/{innovation}/status",
        422,
        "known_at",
        DATE_RULE,
        LEAD,
        query={"known_at": YEAR_END},
    ),
    Row("statuses as_of", "GET", "/v1/status", 422, "as_of", DATE_RULE, LEAD, query={"as_of": YEAR_END}),
    Row(
        "history as_of",
        "GET",
        "/v1/innovations/{innovation}/status/history",
        422,
        "as_of",
        DATE_RULE,
        LEAD,
        query={"as_of": YEAR_ONE},
    ),
    Row(
        "evidence as_of",
        "GET",
        "/v1/innovations/{innovation}/indicators/audit_stability/evidence",
        422,
        "as_of",
        DATE_RULE,
        LEAD,
        query={"as_of": YEAR_ONE},
    ),
    Row(
        "portfolio as_of",
        "GET",
        "/v1/portfolio/status",
        422,
        "as_of",
        DATE_RULE,
        "commissioner",
        query={"as_of": YEAR_ONE},
    ),
    Row(
        "portfolio since",
        "GET",
        "/v1/portfolio/changes",
        422,
        "since",
        DATE_RULE,
        "commissioner",
        query={"since": "0001-01-01"},
    ),
    Row("occurred_from", "GET", TP, 422, "occurred_from", DATE_RULE, query={"occurred_from": YEAR_ONE}),
    Row("occurred_to", "GET", TP, 422, "occurred_to", DATE_RULE, query={"occurred_to": YEAR_END}),
    Row(
        "access log at_from",
        "GET",
        "/v1/access-log",
        422,
        "at_from",
        DATE_RULE,
        ADMIN,
        query={"at_from": YEAR_ONE},
    ),
    Row(
        "staff active_on",
        "GET",
        "/v1/staff",
        422,
        "active_on",
        DATE_RULE,
        ADMIN,
        query={"active_on": "0001-01-01"},
    ),
    Row(
        "relationships active_on",
        "GET",
        "/v1/commissioning-relationships",
        422,
        "active_on",
        DATE_RULE,
        PLATFORM,
        query={"active_on": "9999-12-31"},
    ),
    Row(
        "a moment in range",
        "GET",
        "/v1/innovations/{innovation}/status",
        200,
        role=LEAD,
        query={"as_of": "2026-01-01T00:00:00Z"},
    ),
]

ISO = ("iso8601_required",)
TZ = ("timezone_required",)
MOMENT_ROWS = [
    Row(
        "known_at a number",
        "GET",
        "/v1/innovations/{innovation}/status",
        422,
        "known_at",
        ISO,
        LEAD,
        query={"known_at": "0.5"},
    ),
    Row("as_of a Unix time", "GET", "/v1/status", 422, "as_of", ISO, LEAD, query={"as_of": "1700000000"}),
    Row("as_of naive", "GET", "/v1/status", 422, "as_of", TZ, LEAD, query={"as_of": "2026-01-01T00:00:00"}),
    Row(
        "history naive",
        "GET",
        "/v1/innovations/{innovation}/status/history",
        422,
        "as_of",
        TZ,
        LEAD,
        query={"as_of": "2026-01-01T00:00"},
    ),
    Row(
        "as_of a date",
        "GET",
        "/v1/portfolio/status",
        422,
        "as_of",
        ISO,
        "commissioner",
        query={"as_of": "2026-01-01"},
    ),
    Row("occurred_from a number", "GET", TP, 422, "occurred_from", ISO, query={"occurred_from": "0"}),
    Row("occurred_to naive", "GET", TP, 422, "occurred_to", TZ, query={"occurred_to": "2026-01-01 10:00"}),
    Row("at_to a number", "GET", "/v1/access-log", 422, "at_to", ISO, ADMIN, query={"at_to": "1e10"}),
    Row("active_on a number", "GET", "/v1/staff", 422, "active_on", ISO, ADMIN, query={"active_on": "0"}),
    Row(
        "since a moment",
        "GET",
        "/v1/portfolio/changes",
        422,
        "since",
        ISO,
        "commissioner",
        query={"since": "1.5"},
    ),
]


async def test_dates_outside_the_accepted_ranges_are_refused(
    client: httpx.AsyncClient, hostile: Hostile
) -> None:
    assert await failures(client, hostile, DATE_ROWS) == []


async def test_query_moments_are_iso_8601_with_an_offset(client: httpx.AsyncClient, hostile: Hostile) -> None:
    assert await failures(client, hostile, MOMENT_ROWS) == []


async def test_the_edges_of_the_ranges_are_accepted_and_computed(
    client: httpx.AsyncClient, hostile: Hostile
) -> None:
    """Reference data and records at the first and last accepted days, asked about at the earliest
    moment: windows, months and turnover arithmetic on them stay inside what Python and Postgres hold."""
    created = [
        await hostile.send(client, Row(name, "POST", path, 201, role=role, json=body))
        for name, path, role, body in (
            ("late", "/v1/innovations", LEAD, innovation(name="Late", started_on="2999-12-31")),
            ("early", "/v1/innovations", LEAD, innovation(name="Early", started_on="1900-01-01")),
            ("long", "/v1/staff", ADMIN, staff(started_on="1900-01-01", left_on="2999-12-31")),
            ("future", "/v1/staff", ADMIN, staff(started_on="2999-12-31")),
        )
    ]
    assert [r.status_code for r in created] == [201] * 4, [r.text for r in created]
    late, early = created[0].json()["id"], created[1].json()["id"]
    first_day = touchpoint(occurred_at="1900-01-01T00:00:00+00:00", innovation_ids=[early])
    assert (await hostile.send(client, Row("first day", "POST", TP, 201, json=first_day))).status_code == 201
    earliest = "1900-01-01T00:00:00Z"
    rows = [
        Row(f"{name} {path} {query}", "GET", path.replace("{id}", innovation_id), 200, role=LEAD, query=query)
        for name, innovation_id in (("late", late), ("early", early))
        for path, query in (
            ("/v1/innovations/{id}/status", {}),
            ("/v1/innovations/{id}/status", {"as_of": earliest, "window_days": "730"}),
            ("/v1/innovations/{id}/status", {"known_at": "1900-02-01T00:00:00+14:00"}),
            ("/v1/innovations/{id}/status/history", {"as_of": "1900-03-01T00:00:00Z", "months": "24"}),
            ("/v1/innovations/{id}/indicators/turnover_resilience/evidence", {"as_of": earliest}),
        )
    ] + [
        Row("statuses", "GET", "/v1/status", 200, role=LEAD, query={"as_of": earliest}),
        Row("portfolio", "GET", "/v1/portfolio/status", 200, role="commissioner", query={"as_of": earliest}),
        Row("changes", "GET", "/v1/portfolio/changes", 200, role="commissioner", query={"as_of": earliest}),
        Row(
            "touchpoints",
            "GET",
            TP,
            200,
            query={"occurred_from": earliest, "occurred_to": "2999-12-31T23:59:59Z"},
        ),
    ]
    assert await failures(client, hostile, rows) == []
