"""Injection strings, malformed ids and Authorization headers: plain values or named refusals."""

import httpx

from tests.hostile.payloads import ADMIN, LEAD, TP, touchpoint
from tests.hostile.table import Hostile, Row, failures

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
    Row(
        "long by-ref",
        "PUT",
        "/v1/people/by-ref/acme/" + "x" * 5000,
        422,
        "external_ref",
        ("string_too_long",),
        ADMIN,
        json={},
    ),
    Row(
        "long source",
        "PUT",
        "/v1/staff/by-ref/" + "a" * 300 + "/x",
        422,
        "source_system",
        ("string_pattern_mismatch",),
        ADMIN,
        json={},
    ),
    Row("long filter", "GET", TP, 200, query={"source_system": "x" * 60_000}),
    Row("LIKE wildcards", "GET", "/v1/organisations", 200, role="platform_admin", query={"name": "%_\\"}),
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


async def test_injection_strings_are_plain_values(client: httpx.AsyncClient, hostile: Hostile) -> None:
    assert await failures(client, hostile, INJECTIONS) == []


async def test_malformed_ids(client: httpx.AsyncClient, hostile: Hostile) -> None:
    assert await failures(client, hostile, UUIDS) == []


async def test_malformed_authorization(client: httpx.AsyncClient, hostile: Hostile) -> None:
    assert await failures(client, hostile, AUTHORIZATION) == []


async def test_the_token_endpoint_refuses_nul_credentials_as_oauth_errors(client: httpx.AsyncClient) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    for body in (
        b"grant_type=client_credentials&client_id=%00&client_secret=x",
        b"client_id=ic_1&client_secret=%00",
    ):
        response = await client.post("/v1/auth/token", content=body, headers=form)
        # The token endpoint answers in RFC 6749's error format, not problem+json.
        assert response.status_code in (400, 401), response.text
        assert response.json()["error"] in ("invalid_client", "invalid_request")
