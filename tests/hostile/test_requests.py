"""Whole requests that are hostile: sizes, depths, encodings, numbers, injections, ids, headers."""

from typing import Any

import httpx

from service.touchpoints.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH
from tests.hostile.payloads import ADMIN, LEAD, TP, touchpoint
from tests.hostile.table import Hostile, Row, failures


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


DEEP = b"[" * 100_000 + b"]" * 100_000
SIZE_AND_DEPTH = [
    Row(
        "oversized batch",
        "POST",
        f"{TP}/batch",
        413,
        "body",
        ("max_body_bytes",),
        content=b" " * (MAX_BODY_BYTES + 1),
    ),
    Row(
        "oversized reference body",
        "POST",
        "/v1/services",
        413,
        "body",
        ("max_body_bytes",),
        ADMIN,
        content=b'{"name": "' + b"x" * MAX_BODY_BYTES + b'"}',
    ),
    Row("100,000 deep", "POST", f"{TP}/batch", 422, "body", ("max_json_depth",), content=DEEP),
    Row(
        "100,000 deep, reference",
        "PUT",
        "/v1/services/by-ref/acme/s-1",
        422,
        "body",
        ("max_json_depth",),
        ADMIN,
        content=DEEP,
    ),
    Row(
        "100,000 deep, unclosed",
        "POST",
        "/v1/innovations",
        422,
        "body",
        ("max_json_depth",),
        LEAD,
        content=b'{"a":' * 100_000,
    ),
    Row(
        "deep inside an item",
        "POST",
        f"{TP}/batch",
        422,
        "body",
        ("max_json_depth",),
        json={"items": [touchpoint(facts=nested(MAX_JSON_DEPTH + 1))]},
    ),
    Row(
        "deep without a content type",
        "POST",
        "/v1/people",
        422,
        "body",
        ("max_json_depth",),
        ADMIN,
        content=DEEP,
        headers={"content-type": ""},
    ),
]

ENCODINGS = [
    Row("invalid UTF-8 body", "POST", TP, 422, "body", ("json_invalid",), content=b'{"text": "\xff\xfe"}'),
    Row(
        "invalid UTF-8 query",
        "GET",
        TP,
        422,
        "source_system",
        ("invalid_utf8",),
        query="source_system=%FF%FE",
    ),
    Row(
        "invalid UTF-8 path",
        "PUT",
        "/v1/people/by-ref/acme/%FF",
        422,
        "path",
        ("invalid_utf8",),
        ADMIN,
        json={},
    ),
    Row("not JSON", "POST", TP, 422, "body", ("json_invalid",), content=b"{'kind': 'daily_note'"),
    Row("latin-1 request id", "GET", TP, 200, headers={"x-request-id": b"caf\xe9\x00"}),
    Row(
        "latin-1 idempotency key",
        "POST",
        TP,
        422,
        "Idempotency-Key",
        ("idempotency_key_format",),
        json=touchpoint(),
        headers={"idempotency-key": b"\xff\x00"},
    ),
    Row("text/plain body", "POST", TP, 422, content=b"hello", headers={"content-type": "text/plain"}),
    Row(
        "form body",
        "POST",
        "/v1/services",
        422,
        role=ADMIN,
        content=b"name=Oak",
        headers={"content-type": "application/x-www-form-urlencoded"},
    ),
    Row(
        "XML body",
        "POST",
        "/v1/innovations",
        422,
        role=LEAD,
        content=b"<innovation/>",
        headers={"content-type": "application/xml"},
    ),
    Row(
        "GraphQL as text",
        "POST",
        "/graphql",
        415,
        content=b"{ viewer { roles } }",
        headers={"content-type": "text/plain"},
    ),
]

HUGE = 10**30
NUMBERS = [
    Row("limit", "GET", TP, 422, "limit", ("less_than_equal",), query={"limit": str(HUGE)}),
    Row(
        "negative limit",
        "GET",
        "/v1/services",
        422,
        "limit",
        ("greater_than_equal",),
        ADMIN,
        query={"limit": "-1"},
    ),
    Row(
        "window_days",
        "GET",
        "/v1/status",
        422,
        "window_days",
        ("less_than_equal",),
        LEAD,
        query={"window_days": str(HUGE)},
    ),
    Row(
        "months",
        "GET",
        "/v1/innovations/{innovation}/status/history",
        422,
        "months",
        ("less_than_equal",),
        LEAD,
        query={"months": str(HUGE)},
    ),
    Row(
        "fractional months",
        "GET",
        "/v1/innovations/{innovation}/status/history",
        422,
        "months",
        ("int_parsing",),
        LEAD,
        query={"months": "1.5"},
    ),
    Row(
        "facts score",
        "POST",
        TP,
        422,
        "facts.engagement_quality",
        ("less_than_equal",),
        json=touchpoint(facts={"activity": "a", "engagement_quality": HUGE}),
    ),
    Row(
        "score percent overflow",
        "POST",
        TP,
        422,
        None,
        (),
        content=b'{"kind": "audit", "service_id": "x", "facts": {"tool": "t", "score_percent": 1e400}}',
    ),
    Row(
        "attendees",
        "POST",
        TP,
        422,
        "facts.attendees",
        ("less_than_equal",),
        json=touchpoint(kind="team_meeting", person_ref_id=None, facts={"attendees": HUGE}),
    ),
    Row(
        "thresholds",
        "PUT",
        "/v1/innovations/{innovation}/thresholds",
        422,
        "system_visibility.green",
        (),
        LEAD,
        json={"system_visibility": {"green": HUGE}},
    ),
    Row(
        "NoMAD general",
        "POST",
        TP,
        422,
        "facts.general.familiar",
        (),
        json=touchpoint(
            kind="staff_survey",
            person_ref_id=None,
            facts={"general": {"familiar": HUGE, "normal_now": 1, "normal_future": 1}, "items": {}},
        ),
    ),
]

SQL = "' OR 1=1; DROP TABLE touchpoint; --"
JSON_TEXT = '{"$ne": null}'
TRAVERSAL = "../../../../etc/passwd"
# Filters of reference lists hold a source system's name to its pattern; the others take any text.
PATTERNED = {
    ("/v1/services", "source_system"),
    ("/v1/staff", "source_system"),
    ("/v1/innovations", "source_system"),
}
INJECTION_FILTERS = (
    (TP, "source_system", "registered_manager"),
    ("/v1/services", "cqc_location_id", ADMIN),
    ("/v1/services", "source_system", ADMIN),
    ("/v1/people", "external_ref", ADMIN),
    ("/v1/staff", "source_system", ADMIN),
    ("/v1/innovations", "source_system", LEAD),
    ("/v1/organisations", "name", "platform_admin"),
    ("/v1/users", "sub", ADMIN),
    ("/v1/access-log", "action", ADMIN),
    ("/v1/access-log", "resource_type", ADMIN),
    ("/v1/integration-clients", "source_system", ADMIN),
)


def injection_row(name: str, value: str, path: str, param: str, role: str) -> Row:
    row_id = f"{name} in {path}?{param}"
    if (path, param) in PATTERNED:
        return Row(row_id, "GET", path, 422, param, ("string_pattern_mismatch",), role, query={param: value})
    if param == "cqc_location_id" and len(value) > 30:
        return Row(row_id, "GET", path, 422, param, ("string_too_long",), role, query={param: value})
    return Row(row_id, "GET", path, 200, role=role, query={param: value})


INJECTIONS = [
    injection_row(name, value, path, param, role)
    for name, value in (("SQL", SQL), ("JSON", JSON_TEXT), ("traversal", TRAVERSAL))
    for path, param, role in INJECTION_FILTERS
] + [
    Row("SQL as a kind", "GET", TP, 422, "kind", ("enum",), query={"kind": SQL}),
    Row("SQL as an id filter", "GET", TP, 422, "service_id", ("uuid_parsing",), query={"service_id": SQL}),
    Row("SQL as a role", "GET", "/v1/staff", 422, "role", ("enum",), ADMIN, query={"role": SQL}),
    Row("SQL in a path id", "GET", f"{TP}/{SQL}", 422, "touchpoint_id", ("uuid_parsing",)),
    Row(
        "traversal in a path id",
        "GET",
        f"{TP}/..%2F..%2Fetc%2Fpasswd",
        404,
    ),
    Row(
        "traversal in a by-ref",
        "PUT",
        "/v1/people/by-ref/acme/..%2F..%2Fetc%2Fpasswd",
        201,
        role=ADMIN,
        json={},
    ),
    Row(
        "traversal in an indicator",
        "GET",
        "/v1/innovations/{innovation}/indicators/..%2F..%2Fsecret/evidence",
        404,
        role=LEAD,
    ),
    Row(
        "SQL as an indicator",
        "GET",
        "/v1/innovations/{innovation}/indicators/' OR 1=1/evidence",
        422,
        "key",
        ("enum",),
        LEAD,
    ),
    Row("SQL in a by-source", "PUT", f"{TP}/by-source/acme/{SQL}", 201, json=touchpoint()),
]

UUIDS = [
    Row("short", "GET", f"{TP}/1234", 422, "touchpoint_id", ("uuid_parsing",)),
    Row(
        "too long",
        "GET",
        "/v1/services/6f1c8a52-7d0b-4b8e-9a5e-2f1d3c4b5a69ff",
        422,
        "service_id",
        ("uuid_parsing",),
        ADMIN,
    ),
    Row(
        "braces",
        "GET",
        "/v1/innovations/{{6f1c8a52-7d0b-4b8e-9a5e-2f1d3c4b5a69}}",
        422,
        "innovation_id",
        ("uuid_parsing",),
        LEAD,
    ),
    Row("unknown", "GET", "/v1/staff/6f1c8a52-7d0b-4b8e-9a5e-2f1d3c4b5a69", 404, role=ADMIN),
    Row("filter", "GET", TP, 422, "innovation_id", ("uuid_parsing",), query={"innovation_id": "not-a-uuid"}),
    Row("in a body", "POST", TP, 422, "service_id", ("uuid_parsing",), json=touchpoint(service_id="zzz")),
    Row(
        "in a list",
        "POST",
        TP,
        422,
        "innovation_ids[0]",
        ("uuid_parsing", "uuid_type"),
        json=touchpoint(innovation_ids=[7]),
    ),
]


def bearer(value: str | bytes) -> dict[str, str | bytes]:
    return {"authorization": value}


AUTHORIZATION = [
    Row("no scheme", "GET", TP, 401, role=None, headers=bearer("eyJhbGciOiJIUzI1NiJ9.e30.x")),
    Row("bare Bearer", "GET", TP, 401, role=None, headers=bearer("Bearer")),
    Row("empty token", "GET", TP, 401, role=None, headers=bearer("Bearer ")),
    Row("Basic", "GET", TP, 401, role=None, headers=bearer("Basic dXNlcjpwYXNz")),
    Row("three dots", "GET", TP, 401, role=None, headers=bearer("Bearer a.b.c")),
    Row("not base64", "GET", TP, 401, role=None, headers=bearer("Bearer !!!.???.***")),
    Row("latin-1 bytes", "GET", TP, 401, role=None, headers=bearer(b"Bearer \xff\xfe.\xe9.\x80")),
    Row("huge", "GET", TP, 401, role=None, headers=bearer("Bearer " + "a" * 20_000)),
    Row("alg none", "GET", TP, 401, role=None, headers=bearer("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")),
    Row(
        "GraphQL",
        "POST",
        "/graphql",
        401,
        role=None,
        headers=bearer("Bearer a.b"),
        json={"query": "{ viewer { roles } }"},
    ),
]


async def test_sizes_and_depths_are_refused_before_parsing(
    client: httpx.AsyncClient, hostile: Hostile
) -> None:
    assert await failures(client, hostile, SIZE_AND_DEPTH) == []


async def test_encodings_and_content_types(client: httpx.AsyncClient, hostile: Hostile) -> None:
    assert await failures(client, hostile, ENCODINGS) == []


async def test_huge_and_wrong_numbers(client: httpx.AsyncClient, hostile: Hostile) -> None:
    assert await failures(client, hostile, NUMBERS) == []


async def test_injection_strings_are_plain_values(client: httpx.AsyncClient, hostile: Hostile) -> None:
    assert await failures(client, hostile, INJECTIONS) == []


async def test_malformed_ids(client: httpx.AsyncClient, hostile: Hostile) -> None:
    assert await failures(client, hostile, UUIDS) == []


async def test_malformed_authorization(client: httpx.AsyncClient, hostile: Hostile) -> None:
    assert await failures(client, hostile, AUTHORIZATION) == []
