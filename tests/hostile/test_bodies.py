"""Hostile bodies and headers: sizes, depths, encodings, content types, numbers out of range."""

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

JSON_REQUIRED = ("content-type", ("json_required",))
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
    Row(
        "text/plain body",
        "POST",
        TP,
        415,
        *JSON_REQUIRED,
        content=b"hello",
        headers={"content-type": "text/plain"},
    ),
    Row(
        "form body",
        "POST",
        "/v1/services",
        415,
        *JSON_REQUIRED,
        ADMIN,
        content=b"name=Oak",
        headers={"content-type": "application/x-www-form-urlencoded"},
    ),
    Row(
        "XML body",
        "PUT",
        "/v1/innovations/{innovation}/thresholds",
        415,
        *JSON_REQUIRED,
        LEAD,
        content=b"<thresholds/>",
        headers={"content-type": "application/xml"},
    ),
    Row(
        "GraphQL as text",
        "POST",
        "/graphql",
        415,
        *JSON_REQUIRED,
        content=b"{ viewer { roles } }",
        headers={"content-type": "text/plain"},
    ),
    Row(
        "JSON with a charset",
        "POST",
        "/v1/people",
        201,
        role=ADMIN,
        content=b'{"external_ref": "P-9"}',
        headers={"content-type": "application/json; charset=utf-8"},
    ),
]

GQL = "/graphql"
OPERATION_SHAPES = [
    Row("operation a string", "POST", GQL, 422, "body", ("model_type",), LEAD, content=b'"x"'),
    Row("operation null", "POST", GQL, 422, "body", ("model_type",), LEAD, content=b"null"),
    Row("operation a number", "POST", GQL, 422, "body", ("model_type",), LEAD, content=b"5"),
    Row("operations batched", "POST", GQL, 422, "body", ("model_type",), LEAD, content=b"[]"),
    Row("operation empty", "POST", GQL, 422, "body", ("model_type",), LEAD, content=b""),
    Row("no query", "POST", GQL, 422, "query", ("missing",), LEAD, json={"variables": {}}),
    Row("query a number", "POST", GQL, 422, "query", ("wrong_type",), LEAD, json={"query": 5}),
    Row("query null", "POST", GQL, 422, "query", ("wrong_type",), LEAD, json={"query": None}),
    Row(
        "variables a list",
        "POST",
        GQL,
        422,
        "variables",
        ("wrong_type",),
        LEAD,
        json={"query": "{ viewer { roles } }", "variables": []},
    ),
    Row(
        "operationName a number",
        "POST",
        GQL,
        422,
        "operationName",
        ("wrong_type",),
        LEAD,
        json={"query": "{ viewer { roles } }", "operationName": 1},
    ),
    Row(
        "extensions a string",
        "POST",
        GQL,
        422,
        "extensions",
        ("wrong_type",),
        LEAD,
        json={"query": "{ viewer { roles } }", "extensions": "x"},
    ),
    Row(
        "a good operation",
        "POST",
        GQL,
        200,
        role=LEAD,
        json={"query": "{ viewer { roles } }", "variables": None},
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


async def test_sizes_and_depths_are_refused_before_parsing(
    client: httpx.AsyncClient, hostile: Hostile
) -> None:
    assert await failures(client, hostile, SIZE_AND_DEPTH) == []


async def test_encodings_and_content_types(client: httpx.AsyncClient, hostile: Hostile) -> None:
    assert await failures(client, hostile, ENCODINGS) == []


async def test_graphql_bodies_that_are_not_operations(client: httpx.AsyncClient, hostile: Hostile) -> None:
    assert await failures(client, hostile, OPERATION_SHAPES) == []


async def test_huge_and_wrong_numbers(client: httpx.AsyncClient, hostile: Hostile) -> None:
    assert await failures(client, hostile, NUMBERS) == []
