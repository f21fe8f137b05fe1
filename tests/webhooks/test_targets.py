"""Where deliveries may go: refused at registration and again at every send (SSRF)."""

import dataclasses
import ipaddress
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.settings import Settings
from service.webhooks import targets
from tests.tokens import TokenFactory
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import FAST, deliveries, emit, provider, register, stage_change, work

# Names a test gives an answer, in place of a DNS server.
Answers = dict[str, list[str]]


@pytest.fixture
def settings() -> Settings:
    """As in production: loopback refused."""
    return Settings(environment="test", demo_data=False)


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Answers:
    table: Answers = {}
    system = targets.system_resolver

    async def resolve(host: str, port: int) -> list[str]:
        if host in table:
            return table[host]
        return await system(host, port)

    monkeypatch.setattr(targets, "resolve", resolve)
    return table


REFUSED = [
    ("http://portal.example.org/hook", "https_only"),
    ("ftp://portal.example.org/hook", "https_only"),
    ("https://user:pw@portal.example.org/hook", "no_credentials"),
    ("https://127.0.0.1/hook", "ssrf_loopback"),
    ("https://127.1/hook", "ssrf_loopback"),
    ("https://2130706433/hook", "ssrf_loopback"),
    ("https://[::1]/hook", "ssrf_loopback"),
    ("https://localhost:8443/hook", "ssrf_loopback"),
    ("https://10.0.0.7/hook", "ssrf_private"),
    ("https://172.16.4.2/hook", "ssrf_private"),
    ("https://192.168.1.20/hook", "ssrf_private"),
    ("https://100.64.0.1/hook", "ssrf_private"),
    ("https://[fd00::5]/hook", "ssrf_private"),
    ("https://[::ffff:10.0.0.7]/hook", "ssrf_private"),
    ("https://169.254.10.1/hook", "ssrf_link_local"),
    ("https://[fe80::1]/hook", "ssrf_link_local"),
    ("https://169.254.169.254/latest/meta-data", "ssrf_metadata"),
    ("https://[fd00:ec2::254]/", "ssrf_metadata"),
    ("https://168.63.129.16/", "ssrf_metadata"),
    ("https://metadata.google.internal/computeMetadata/v1/", "ssrf_metadata"),
    ("https://0.0.0.0/hook", "ssrf_reserved"),
    ("https://private.portal.example/hook", "ssrf_private"),  # a name that resolves to 10.1.2.3
    ("https://split.portal.example/hook", "ssrf_private"),  # one public answer, one private
    ("https://meta.portal.example/hook", "ssrf_metadata"),  # a name for 169.254.169.254
    ("https://nowhere.invalid/hook", "unresolvable"),
]


@pytest.mark.parametrize(("url", "rule"), REFUSED)
async def test_registration_refuses_targets_that_are_not_public_https(
    client: httpx.AsyncClient,
    session: AsyncSession,
    tokens: TokenFactory,
    answers: Answers,
    url: str,
    rule: str,
) -> None:
    answers.update(
        {
            "private.portal.example": ["10.1.2.3"],
            "split.portal.example": ["93.184.215.14", "192.168.0.9"],
            "meta.portal.example": ["169.254.169.254"],
        }
    )
    p = await provider(session, tokens)
    answer = await client.post(
        "/v1/webhook-endpoints", json={"url": url, "event_types": ["status.stage_changed"]}, headers=p.admin
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    [error] = answer.json()["errors"]
    assert (error["field"], error["rule"]) == ("url", rule)
    # Nor may an endpoint be moved there.
    answers["public.portal.example"] = ["93.184.215.14"]
    created = await register(client, p.admin, "https://public.portal.example/hook")
    moved = await client.patch(f"/v1/webhook-endpoints/{created['id']}", json={"url": url}, headers=p.admin)
    assert moved.status_code == 422 and moved.json()["errors"][0]["rule"] == rule
    assert (await client.get("/v1/webhook-endpoints", headers=p.admin)).json()["items"][0]["url"] == (
        "https://public.portal.example/hook"
    )


async def test_a_name_that_resolves_elsewhere_at_delivery_is_refused_there_and_never_connected(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory, answers: Answers
) -> None:
    p = await provider(session, tokens)
    async with Receiver() as receiver:
        answers["rebind.portal.example"] = ["93.184.215.14"]
        endpoint = await register(client, p.admin, f"https://rebind.portal.example:{receiver.port}/hook")
        # DNS rebinding: the name now answers loopback, where the receiver listens.
        answers["rebind.portal.example"] = ["127.0.0.1"]
        await emit(app.state.database_url, p.org.id, [stage_change(p, 1)])
        await work(app.state.database_url, dataclasses.replace(FAST, allow_loopback=False))
        assert receiver.received == []
    [delivery] = await deliveries(client, p.admin, endpoint["id"])
    assert delivery["status"] == "failed" and delivery["attempt_count"] == 4
    assert all(a["status_code"] is None for a in delivery["attempts"])
    assert "ssrf_loopback" in delivery["attempts"][0]["error"]


async def test_a_redirect_is_not_followed(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    async with Receiver() as elsewhere, Receiver() as receiver:
        receiver.script = [(302, {"Location": f"{elsewhere.url}?from=redirect"})]
        endpoint = await register_on_loopback(app, client, p.admin, receiver.url)
        await emit(app.state.database_url, p.org.id, [stage_change(p, 1)])
        await work(app.state.database_url)
        assert elsewhere.received == []
        assert len(receiver.received) == 2  # the 302 counts as a failure; the retry answers 200
    [delivery] = await deliveries(client, p.admin, endpoint["id"])
    assert [(a["status_code"], a["error"]) for a in delivery["attempts"]] == [
        (200, None),
        (302, "a redirect: not followed"),
    ]


async def test_a_slow_receiver_times_out_and_the_delivery_is_retried(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    p = await provider(session, tokens)
    async with Receiver(delays=[3.0]) as receiver:
        endpoint = await register_on_loopback(app, client, p.admin, receiver.url)
        await emit(app.state.database_url, p.org.id, [stage_change(p, 1)])
        await work(app.state.database_url, dataclasses.replace(FAST, read_timeout_seconds=0.3))
    [delivery] = await deliveries(client, p.admin, endpoint["id"])
    assert delivery["status"] == "delivered"
    late, timed_out = delivery["attempts"]  # newest first
    assert timed_out["error"].startswith("timed out") and timed_out["latency_ms"] < 2000
    assert late["status_code"] == 200


async def register_on_loopback(
    app: Any, client: httpx.AsyncClient, headers: dict[str, str], url: str
) -> dict[str, Any]:
    """This module's app refuses loopback as production does; the receiver is registered as if the
    development setting were on, and the workers of these tests allow it too (FAST)."""
    app.state.settings = app.state.settings.model_copy(update={"webhooks_allow_loopback": True})
    try:
        return await register(client, headers, url)
    finally:
        app.state.settings = app.state.settings.model_copy(update={"webhooks_allow_loopback": False})


@pytest.mark.parametrize(
    ("address", "allow_loopback", "allowed"),
    [
        ("93.184.215.14", False, True),
        ("2606:4700::1111", False, True),
        ("10.0.0.1", False, False),
        ("::1", False, False),
        ("::1", True, True),
        ("127.0.0.1", True, True),
        ("10.0.0.1", True, False),  # the development setting opens loopback only
        ("2002:7f00:1::", False, False),  # 6to4 around 127.0.0.1
        ("169.254.169.254", True, False),
    ],
)
def test_the_address_rule(address: str, allow_loopback: bool, allowed: bool) -> None:
    refused = targets.refusal(ipaddress.ip_address(address), allow_loopback=allow_loopback)
    assert (refused is None) is allowed
