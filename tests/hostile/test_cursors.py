"""Every list refuses a cursor it did not issue, naming `cursor`, whatever the cursor decodes to."""

import base64
import json
from typing import Any

import httpx

from tests.hostile.table import Hostile, Row, failures

LISTS = [
    ("/v1/status", "quality_lead"),
    ("/v1/touchpoints", "registered_manager"),
    ("/v1/services", "provider_admin"),
    ("/v1/staff", "provider_admin"),
    ("/v1/people", "provider_admin"),
    ("/v1/innovations", "quality_lead"),
    ("/v1/users", "provider_admin"),
    ("/v1/integration-clients", "provider_admin"),
    ("/v1/access-grants", "provider_admin"),
    ("/v1/access-log", "provider_admin"),
    ("/v1/organisations", "platform_admin"),
    ("/v1/organisations/{org}/users", "platform_admin"),
    ("/v1/commissioning-relationships", "platform_admin"),
    ("/v1/portfolio/status", "commissioner"),
    ("/v1/portfolio/changes", "commissioner"),
    ("/v1/innovations/{innovation}/indicators/audit_stability/evidence", "quality_lead"),
]


def cursor_of(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


UUID = "6f1c8a52-7d0b-4b8e-9a5e-2f1d3c4b5a69"
BAD_CURSORS = {
    "numbers": cursor_of([1, 2]),
    "nulls": cursor_of([None, None]),
    "object": cursor_of({"a": 1}),
    "one too many": cursor_of([UUID, UUID, UUID, UUID, UUID]),
    "strings": cursor_of(["x", "y"]),
    "year one": cursor_of(["0001-01-01T00:00:00+00:00", UUID]),
    "year end": cursor_of(["9999-12-31T23:59:59-14:00", UUID]),
    "naive": cursor_of(["2026-01-01T00:00:00", UUID]),
    "huge number": cursor_of([10**30]),
    "boolean": cursor_of([True]),
    "nested": cursor_of([[[[[UUID]]]]]),
    "NUL": cursor_of(["\x00", "\x00"]),
    "not base64": "!!not-a-cursor!!",
    "not JSON": base64.urlsafe_b64encode(b"\xff\xfe{").decode(),
    "very long": "A" * 5000,
}

ROWS = [
    Row(f"{path} {name}", "GET", path, 422, "cursor", ("cursor_invalid",), role, query={"cursor": cursor})
    for path, role in LISTS
    for name, cursor in BAD_CURSORS.items()
]


async def test_every_list_refuses_a_cursor_it_did_not_issue(
    client: httpx.AsyncClient, hostile: Hostile
) -> None:
    assert await failures(client, hostile, ROWS) == []


async def test_an_issued_cursor_still_pages(client: httpx.AsyncClient, hostile: Hostile) -> None:
    for ref in ("P-a", "P-b"):
        created = await hostile.send(
            client, Row(ref, "POST", "/v1/people", 201, role="provider_admin", json={"external_ref": ref})
        )
        assert created.status_code == 201, created.text
    page = Row("page", "GET", "/v1/people", 200, role="provider_admin", query={"limit": 1})
    first = (await hostile.send(client, page)).json()
    assert first["next_cursor"]
    following = Row(
        "next",
        "GET",
        "/v1/people",
        200,
        role="provider_admin",
        query={"limit": 1, "cursor": first["next_cursor"]},
    )
    second = await hostile.send(client, following)
    assert second.status_code == 200, second.text
    assert second.json()["items"][0]["id"] != first["items"][0]["id"]
