"""Managing webhook endpoints over REST: an organisation's admin only, its own endpoints only, every
rule of the input named when broken."""

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.webhooks.service import MAX_ENDPOINTS_PER_ORGANISATION
from tests import factories
from tests.tokens import TokenFactory
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import deliveries, emit, provider, register, stage_change, work


async def test_an_admin_registers_reads_changes_and_deletes_an_endpoint(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    created = await client.post(
        "/v1/webhook-endpoints",
        json={
            "url": "http://127.0.0.1:9/hook",
            "event_types": ["indicator.rag_changed", "status.stage_changed", "indicator.rag_changed"],
            "description": "  Portal  ",
        },
        headers=p.admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/v1/webhook-endpoints/{body['id']}"
    assert body["event_types"] == ["indicator.rag_changed", "status.stage_changed"]
    assert body["description"] == "Portal" and body["enabled"] is True and body["secret"].startswith("whsec_")
    read = (await client.get(created.headers["location"], headers=p.admin)).json()
    assert read == {k: v for k, v in body.items() if k != "secret"}

    url = created.headers["location"]
    changed = await client.patch(url, json={"event_types": ["status.stage_changed"]}, headers=p.admin)
    assert changed.status_code == 200 and changed.json()["event_types"] == ["status.stage_changed"]
    assert changed.json()["description"] == "Portal"  # untouched
    paused = await client.patch(url, json={"enabled": False}, headers=p.admin)
    assert (
        paused.json()["enabled"] is False
        and paused.json()["disabled_reason"] == "disabled by test-provider_admin"
    )

    listed = (await client.get("/v1/webhook-endpoints", headers=p.admin)).json()
    assert [e["id"] for e in listed["items"]] == [body["id"]] and listed["next_cursor"] is None
    assert (await client.delete(url, headers=p.admin)).status_code == 204
    assert (await client.get(url, headers=p.admin)).status_code == 404
    actions = (
        await session.execute(
            text("SELECT action FROM access_log WHERE organisation_id = :o ORDER BY id"),
            {"o": p.org.id},
        )
    ).scalars()
    assert [a for a in actions if a.startswith("webhook_endpoint.")] == [
        "webhook_endpoint.create",
        "webhook_endpoint.update",
        "webhook_endpoint.update",
        "webhook_endpoint.delete",
    ]


async def test_another_organisation_and_roles_without_the_permission_get_nothing(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    other = await provider(session, tokens)
    endpoint = await register(client, p.admin, "http://127.0.0.1:9/hook")
    base = f"/v1/webhook-endpoints/{endpoint['id']}"
    for method, path, body in [
        ("GET", base, None),
        ("PATCH", base, {"description": "mine now"}),
        ("DELETE", base, None),
        ("POST", f"{base}/rotate-secret", None),
        ("GET", f"{base}/deliveries", None),
    ]:
        answer = await client.request(method, path, json=body, headers=other.admin)
        assert answer.status_code == 404, (method, path, answer.text)
    assert (await client.get("/v1/webhook-endpoints", headers=other.admin)).json()["items"] == []
    for role in ("registered_manager", "quality_lead", "care_worker", "integration"):
        answer = await client.get("/v1/webhook-endpoints", headers=tokens.headers(role, p.org.id))
        assert answer.status_code == 403, role
    assert (await client.get(base, headers=p.admin)).json()["description"] == ""


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"event_types": ["status.stage_changed"]}, "url", "missing"),
        ({"url": "https://x.example", "event_types": []}, "event_types", "too_short"),
        ({"url": "https://x.example", "event_types": ["status.changed"]}, "event_types[0]", "enum"),
        ({"url": "https://x.example", "event_types": "status.stage_changed"}, "event_types", "list_type"),
        (
            {"url": "https://x.example", "event_types": ["status.stage_changed"], "secret": "x"},
            "secret",
            "extra_forbidden",
        ),
        (
            {"url": "https://x.example/" + "a" * 2000, "event_types": ["status.stage_changed"]},
            "url",
            "string_too_long",
        ),
        ({"url": "https://x\u0000.example", "event_types": ["status.stage_changed"]}, "url", "nul_character"),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_rule(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory, body: Any, field: str, rule: str
) -> None:
    p = await provider(session, tokens)
    answer = await client.post("/v1/webhook-endpoints", json=body, headers=p.admin)
    assert answer.status_code == 422, answer.text
    assert {(e["field"], e["rule"]) for e in answer.json()["errors"]} >= {(field, rule)}
    assert (await client.get("/v1/webhook-endpoints", headers=p.admin)).json()["items"] == []


async def test_an_organisation_may_hold_a_bounded_number_of_endpoints(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    for n in range(MAX_ENDPOINTS_PER_ORGANISATION):
        await register(client, p.admin, f"http://127.0.0.1:9/hook/{n}")
    answer = await client.post(
        "/v1/webhook-endpoints",
        json={"url": "http://127.0.0.1:9/one-more", "event_types": ["status.stage_changed"]},
        headers=p.admin,
    )
    assert answer.status_code == 409 and "at most 20" in answer.json()["detail"]
    page = (await client.get("/v1/webhook-endpoints", params={"limit": 15}, headers=p.admin)).json()
    rest = (
        await client.get("/v1/webhook-endpoints", params={"cursor": page["next_cursor"]}, headers=p.admin)
    ).json()
    assert len(page["items"]) == 15 and len(rest["items"]) == 5 and rest["next_cursor"] is None
    bad = await client.get("/v1/webhook-endpoints", params={"cursor": "nonsense"}, headers=p.admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


async def test_commissioners_and_inspectors_manage_endpoints_of_their_own_organisation(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    regulator = await factories.organisation(session, kind="regulator")
    await factories.access_grant(session, p.org, regulator)
    inspector = tokens.headers("inspector", regulator.id)
    async with Receiver() as receiver:
        endpoint = await register(client, inspector, receiver.url)
        await emit(app.state.database_url, p.org.id, [stage_change(p, 1), stage_change(p, 2, p.services[1])])
        await work(app.state.database_url)
        # A grant opens the whole provider to the regulator: provider-wide and per service.
        assert len(receiver.received) == 2
    listed = await deliveries(client, inspector, endpoint["id"])
    assert [d["status"] for d in listed] == ["delivered", "delivered"]
    assert (await client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=p.admin)).status_code == 404


async def test_deliveries_page_newest_first_and_an_unknown_one_is_not_found(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    async with Receiver() as receiver:
        endpoint = await register(client, p.admin, receiver.url)
        await emit(app.state.database_url, p.org.id, [stage_change(p, n) for n in range(5)])
        await work(app.state.database_url)
    url = f"/v1/webhook-endpoints/{endpoint['id']}/deliveries"
    first = (await client.get(url, params={"limit": 3}, headers=p.admin)).json()
    rest = (await client.get(url, params={"cursor": first["next_cursor"]}, headers=p.admin)).json()
    events = [int(d["event_id"]) for d in first["items"] + rest["items"]]
    assert len(events) == 5 and events == sorted(events, reverse=True)
    assert (await client.get(url, params={"status": "failed"}, headers=p.admin)).json()["items"] == []
    assert (await client.get(url, params={"status": "lost"}, headers=p.admin)).status_code == 422
    missing = f"{url}/00000000-0000-4000-8000-000000000000/redeliver"
    assert (await client.post(missing, headers=p.admin)).status_code == 404
