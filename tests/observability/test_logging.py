"""Logs: one JSON object a line with INGRAIN_LOG_FORMAT=json, text otherwise; a line for every
request with its id, method, route template, status, duration and caller's organisation and roles;
never its token, its body or the path asked for."""

import logging
import uuid

import httpx
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from service.dependencies import public
from service.settings import Settings
from tests import factories
from tests.observability.support import app_without_database, captured_logs, client_of
from tests.tokens import TokenFactory

PRIVATE_NOTE = "Mrs Example was upset after her daughter's visit"


async def test_a_request_is_one_json_line_without_token_body_or_path(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    org = await factories.organisation(session)
    service = await factories.care_service(session, org)
    staff = await factories.staff_member(session, org, [service])
    person_ref = f"NHS-{uuid.uuid4().hex[:10]}"
    person = await factories.person(session, org, external_ref=person_ref)
    headers = tokens.headers("quality_lead", org.id, sub="lead-1")
    token = headers["Authorization"].removeprefix("Bearer ")
    with captured_logs("json") as logs:
        posted = await client.post(
            "/v1/touchpoints",
            json={
                "kind": "daily_note",
                "service_id": str(service.id),
                "occurred_at": "2026-03-04T10:00:00+00:00",
                "recorded_by_id": str(staff.id),
                "person_ref_id": str(person.id),
                "text": PRIVATE_NOTE,
                "facts": {"activity": "Garden", "engagement_quality": 4},
            },
            headers=headers,
        )
        found = await client.put(f"/v1/people/by-ref/acme/{person_ref}", json={}, headers=headers)
    assert posted.status_code == 201, posted.text
    assert found.status_code < 500, found.text

    post_line, read_line = logs.requests()
    assert post_line["event"] == "request" and post_line["level"] == "info"
    assert post_line["logger"] == "ingrain.http" and post_line["timestamp"].endswith("Z")
    assert post_line["request_id"] == posted.headers["x-request-id"]
    assert (post_line["method"], post_line["route"], post_line["status"]) == ("POST", "/v1/touchpoints", 201)
    assert isinstance(post_line["duration_ms"], float) and post_line["duration_ms"] > 0
    assert post_line["organisation_id"] == str(org.id)
    assert post_line["roles"] == "quality_lead"
    assert read_line["route"] == "/v1/people/by-ref/{source_system}/{external_ref}"
    assert read_line["status"] == found.status_code
    everything = logs.text
    assert token not in everything and "Bearer" not in everything
    assert PRIVATE_NOTE not in everything and "Garden" not in everything
    assert person_ref not in everything
    assert "lead-1" not in everything  # no `sub`


async def test_a_line_logged_while_answering_names_the_request_and_its_error() -> None:
    app = app_without_database()

    async def broken() -> None:
        raise RuntimeError("a fault of ours")

    app.add_api_route("/broken/{thing}", broken, dependencies=[Depends(public())])
    with captured_logs("json") as logs:
        async with client_of(app) as client:
            answer = await client.get("/broken/some-record-name", headers={"X-Request-ID": "req-42"})
    assert answer.status_code == 500
    error, request = logs.json_lines()
    assert error["level"] == "error" and error["request_id"] == "req-42"
    assert error["event"] == "unhandled error on GET /broken/{thing}"
    assert "RuntimeError: a fault of ours" in error["exception"]
    assert request["event"] == "request" and request["status"] == 500 and request["request_id"] == "req-42"
    assert "some-record-name" not in logs.text


async def test_text_lines_for_a_terminal_carry_the_same_fields() -> None:
    with captured_logs("text") as logs:
        async with client_of(app_without_database()) as client:
            await client.get("/healthz", headers={"X-Request-ID": "req-text-1"})
    (line,) = logs.text.splitlines()
    assert "request" in line and "[info" in line
    for field in ("request_id=req-text-1", "method=GET", "route=/healthz", "status=200", "duration_ms="):
        assert field in line


def test_extra_fields_other_than_the_requests_do_not_reach_a_line() -> None:
    with captured_logs("json") as logs:
        logging.getLogger("ingrain.test").warning(
            "something happened", extra={"token": "secret-token", "body": PRIVATE_NOTE, "route": "/x"}
        )
    (line,) = logs.json_lines()
    assert line["route"] == "/x" and "token" not in line and "body" not in line


def test_urls_called_are_not_logged() -> None:
    with captured_logs("json") as logs:
        logging.getLogger("httpx").info("HTTP Request: GET https://idp.example/keys?token=secret")
    assert logs.text == ""


def test_the_log_format_is_text_unless_set_to_json() -> None:
    assert Settings().log_format == "text"
    assert Settings(log_format="json").log_format == "json"
